//! `geobayes bench`: speed and accuracy against peer codes measured in the same invocation.
//!
//! `bench eikonal`: point-source travel-time fields on a 301² and a 61³ grid (homogeneous and
//! v = 2 + 0.15 × last coordinate), geobayes against scikit-fmm (order 2) and pykonal run by
//! `scripts/bench_peers.py` with the given Python (peers from `scripts/install_bench_peers.sh`):
//! time per solve (min and median over repeats) and max error against the analytic times, with
//! the ratios. The source is on a grid node (the peers cannot place an off-grid source); geobayes
//! with an off-grid source is listed too.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::core::error::{Error, Result};
use crate::physics::eikonal::{Cartesian, FmmWorkspace, Geometry, Mesh, PointSource};

struct Case {
    label: String,
    n: usize,
    h: f64,
    dims: usize,
    source_index: Vec<usize>,
    v0: f64,
    k: f64,
}

impl Case {
    fn json(&self, reps: usize) -> String {
        let idx: Vec<String> = self.source_index.iter().map(|i| i.to_string()).collect();
        format!(
            r#"{{"n": {}, "h": {:?}, "source_index": [{}], "v0": {:?}, "k": {:?}, "reps": {reps}}}"#,
            self.n,
            self.h,
            idx.join(", "),
            self.v0,
            self.k
        )
    }
}

/// One solver's measurement.
struct Measured {
    min_ms: f64,
    median_ms: f64,
    max_error: f64,
}

fn analytic(v0: f64, k: f64, source: &[f64], p: &[f64]) -> f64 {
    let r = source
        .iter()
        .zip(p)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    if k == 0.0 {
        return r / v0;
    }
    let (vs, vp) = (v0 + k * source[source.len() - 1], v0 + k * p[p.len() - 1]);
    (1.0 + k * k * r * r / (2.0 * vs * vp)).acosh() / k
}

fn time_geobayes<const D: usize>(case: &Case, source: [f64; D], reps: usize) -> Measured {
    let mesh = Mesh::new([0.0; D], [case.h; D], [case.n; D]);
    let geo = Cartesian::new(mesh);
    let velocity = |p: &[f64; D]| case.v0 + case.k * p[D - 1];
    let slowness: Vec<f64> = (0..mesh.n_nodes())
        .map(|i| 1.0 / velocity(&mesh.position(i)))
        .collect();
    let point = PointSource {
        position: source,
        slowness: 1.0 / velocity(&source),
    };
    let mut ws = FmmWorkspace::new(geo.mesh());
    ws.solve(&geo, &slowness, &point)
        .expect("bench media are positive");
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        ws.solve(&geo, &slowness, &point)
            .expect("bench media are positive");
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let max_error = (0..mesh.n_nodes())
        .map(|i| (ws.time(i) - analytic(case.v0, case.k, &source, &mesh.position(i))).abs())
        .fold(0.0, f64::max);
    Measured {
        min_ms: times[0],
        median_ms: times[times.len() / 2],
        max_error,
    }
}

fn geobayes(case: &Case, off_grid: bool, reps: usize) -> Measured {
    let shift = if off_grid { 0.37 * case.h } else { 0.0 };
    let pos = |a: usize| {
        case.source_index[a] as f64 * case.h + shift * (a as f64 + 1.0) / case.dims as f64
    };
    match case.dims {
        2 => time_geobayes::<2>(case, [pos(0), pos(1)], reps),
        3 => time_geobayes::<3>(case, [pos(0), pos(1), pos(2)], reps),
        d => unreachable!("{d}-D bench case"),
    }
}

/// Per peer: its name and its measurement, or why it is missing.
type PeerRow = Vec<(String, std::result::Result<Measured, String>)>;

/// Runs the peer script; returns one row per case.
fn peers(python: &Path, cases: &[Case], reps: &[usize]) -> Result<Vec<PeerRow>> {
    let input = format!(
        "[{}]",
        cases
            .iter()
            .zip(reps)
            .map(|(c, &r)| c.json(r))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = super::peers::run_script(python, "bench_peers.py", &input).map_err(Error::Run)?;
    Ok(rows
        .iter()
        .map(|row| {
            row.as_object()
                .map(|o| {
                    o.iter()
                        .map(|(name, m)| {
                            let value = match m.get("missing").and_then(|v| v.as_str()) {
                                Some(why) => Err(why.to_string()),
                                None => Ok(Measured {
                                    min_ms: m["min_s"].as_f64().unwrap_or(f64::NAN) * 1e3,
                                    median_ms: m["median_s"].as_f64().unwrap_or(f64::NAN) * 1e3,
                                    max_error: m["max_error"].as_f64().unwrap_or(f64::NAN),
                                }),
                            };
                            (name.clone(), value)
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect())
}

/// The eikonal bench; returns the report.
pub fn eikonal(python: &Path, reps_2d: usize, reps_3d: usize) -> Result<String> {
    let mut cases = Vec::new();
    for (v0, k, medium) in [(2.0, 0.0, "v = 2"), (2.0, 0.15, "v = 2 + 0.15 z")] {
        cases.push(Case {
            label: format!("2D 301², {medium}"),
            n: 301,
            h: 10.0 / 300.0,
            dims: 2,
            source_index: vec![90, 120],
            v0,
            k,
        });
        cases.push(Case {
            label: format!("3D 61³, {medium}"),
            n: 61,
            h: 0.1,
            dims: 3,
            source_index: vec![20, 25, 19],
            v0,
            k,
        });
    }
    let reps: Vec<usize> = cases
        .iter()
        .map(|c| if c.dims == 2 { reps_2d } else { reps_3d })
        .collect();
    // Without the peers' Python the geobayes rows still come, each peer row saying why.
    let peer_rows = peers(python, &cases, &reps).unwrap_or_else(|e| {
        cases
            .iter()
            .map(|_| vec![("peers".to_string(), Err(e.to_string()))])
            .collect()
    });
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Point-source travel times, source on a node; errors against analytic times (homogeneous: r/v; gradient: arccosh)."
    );
    let _ = writeln!(
        report,
        "Ratios: peer time / geobayes time (> 1: geobayes faster), peer max error / geobayes max error.\n"
    );
    let _ = writeln!(
        report,
        "{:<26} {:<28} {:>9} {:>10} {:>11} {:>10} {:>10}",
        "case", "solver", "min ms", "median ms", "max err s", "speed ×", "error ×"
    );
    for ((case, &r), peer) in cases.iter().zip(&reps).zip(peer_rows) {
        let ours = geobayes(case, false, r);
        let _ = writeln!(
            report,
            "{:<26} {:<28} {:>9.2} {:>10.2} {:>11.2e} {:>10} {:>10}",
            case.label, "geobayes", ours.min_ms, ours.median_ms, ours.max_error, "", ""
        );
        for (name, m) in peer {
            match m {
                Ok(m) => {
                    let _ = writeln!(
                        report,
                        "{:<26} {:<28} {:>9.2} {:>10.2} {:>11.2e} {:>10.2} {:>10.1e}",
                        "",
                        name,
                        m.min_ms,
                        m.median_ms,
                        m.max_error,
                        m.min_ms / ours.min_ms,
                        m.max_error / ours.max_error
                    );
                }
                Err(why) => {
                    let _ = writeln!(report, "{:<26} {:<28} skipped: {why}", "", name);
                }
            }
        }
        let off = geobayes(case, true, r);
        let _ = writeln!(
            report,
            "{:<26} {:<28} {:>9.2} {:>10.2} {:>11.2e}",
            "", "geobayes, off-grid source", off.min_ms, off.median_ms, off.max_error
        );
    }
    Ok(report)
}
