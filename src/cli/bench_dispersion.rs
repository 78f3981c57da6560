//! `geobayes bench dispersion`: dispersion curves against disba in one invocation — 3-layer and
//! 20-layer models, Rayleigh and Love, phase and group, modes 0 and 2, 40 periods per curve:
//! time per curve (min and median of repeats), the speed ratio, and the largest difference in
//! velocity where both find the mode. disba runs through `scripts/bench_disba.py` with the given
//! Python (`scripts/install_bench_peers.sh`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::core::error::Result;
use crate::physics::dispersion::{LayeredModel, Wave, group_velocity, phase_velocity};

struct Case {
    model_name: &'static str,
    model: LayeredModel,
    wave: Wave,
    group: bool,
    mode: usize,
    periods: Vec<f64>,
}

fn models() -> Vec<(&'static str, LayeredModel, (f64, f64))> {
    let three = LayeredModel::new(
        vec![10.0, 15.0, 0.0],
        vec![5.8, 6.5, 8.0],
        vec![3.36, 3.7, 4.5],
        vec![2.72, 2.9, 3.3],
    )
    .expect("valid");
    let n = 20;
    let lin = |a: f64, b: f64| {
        (0..n)
            .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
            .collect::<Vec<f64>>()
    };
    let mut thickness = vec![1.5; n];
    thickness[n - 1] = 0.0;
    let twenty =
        LayeredModel::new(thickness, lin(3.6, 7.8), lin(2.0, 4.5), lin(2.2, 3.3)).expect("valid");
    vec![
        ("3 layers", three, (1.0, 40.0)),
        ("20 layers", twenty, (0.5, 50.0)),
    ]
}

fn log_periods(range: (f64, f64), n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| range.0 * (range.1 / range.0).powf(i as f64 / (n - 1) as f64))
        .collect()
}

fn geobayes_curve(case: &Case) -> Vec<Option<f64>> {
    case.periods
        .iter()
        .map(|&t| {
            if case.group {
                group_velocity(&case.model, case.wave, t, case.mode)
            } else {
                phase_velocity(&case.model, case.wave, t, case.mode)
            }
        })
        .collect()
}

fn case_json(case: &Case, reps: usize) -> String {
    let m = &case.model;
    let rows: Vec<String> = (0..m.n_layers())
        .map(|i| {
            format!(
                "[{:?}, {:?}, {:?}, {:?}]",
                m.thickness[i], m.vp[i], m.vs[i], m.rho[i]
            )
        })
        .collect();
    let periods: Vec<String> = case.periods.iter().map(|p| format!("{p:?}")).collect();
    format!(
        r#"{{"model": [{}], "periods": [{}], "wave": "{}", "velocity": "{}", "mode": {}, "reps": {reps}}}"#,
        rows.join(", "),
        periods.join(", "),
        if case.wave == Wave::Love {
            "love"
        } else {
            "rayleigh"
        },
        if case.group { "group" } else { "phase" },
        case.mode
    )
}

fn run_disba(
    python: &Path,
    cases: &[Case],
    reps: usize,
) -> std::result::Result<Vec<serde_json::Value>, String> {
    let input = format!(
        "[{}]",
        cases
            .iter()
            .map(|c| case_json(c, reps))
            .collect::<Vec<_>>()
            .join(", ")
    );
    super::peers::run_script(python, "bench_disba.py", &input)
}

pub fn dispersion(python: &Path, reps: usize) -> Result<String> {
    let mut cases = Vec::new();
    for (name, model, range) in models() {
        for wave in [Wave::Rayleigh, Wave::Love] {
            for group in [false, true] {
                for mode in [0, 2] {
                    cases.push(Case {
                        model_name: name,
                        model: model.clone(),
                        wave,
                        group,
                        mode,
                        periods: log_periods(range, 40),
                    });
                }
            }
        }
    }
    let peer = run_disba(python, &cases, reps);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Dispersion curves of 40 periods: time per curve (min / median of {reps}), disba time / geobayes time, max |Δv| where both find the mode.\n"
    );
    let _ = writeln!(
        report,
        "{:<10} {:<9} {:<6} {:>4} {:>13} {:>13} {:>8} {:>10}",
        "model", "wave", "type", "mode", "geobayes ms", "disba ms", "speed ×", "max |Δv|"
    );
    for (k, case) in cases.iter().enumerate() {
        let mut times = Vec::with_capacity(reps);
        let mut ours = Vec::new();
        for _ in 0..reps.max(1) {
            let t = Instant::now();
            ours = geobayes_curve(case);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let (gmin, gmed) = (times[0], times[times.len() / 2]);
        let label = format!(
            "{:<10} {:<9} {:<6} {:>4} {:>6.3} / {:<6.3}",
            case.model_name,
            format!("{:?}", case.wave),
            if case.group { "group" } else { "phase" },
            case.mode,
            gmin,
            gmed
        );
        match &peer {
            Ok(rows) => {
                let row = &rows[k];
                if let Some(why) = row.get("missing").and_then(|v| v.as_str()) {
                    let _ = writeln!(report, "{label}  disba skipped: {why}");
                    continue;
                }
                let dmin = row["min_s"].as_f64().unwrap_or(f64::NAN) * 1e3;
                let dmed = row["median_s"].as_f64().unwrap_or(f64::NAN) * 1e3;
                let diff = row["velocity"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .zip(&ours)
                            .filter_map(|(d, o)| Some((d.as_f64()? - (*o)?).abs()))
                            .fold(0.0, f64::max)
                    })
                    .unwrap_or(f64::NAN);
                let _ = writeln!(
                    report,
                    "{label} {dmin:>6.3} / {dmed:<6.3} {:>8.2} {diff:>10.1e}",
                    dmin / gmin
                );
            }
            Err(why) => {
                let _ = writeln!(report, "{label}  disba skipped: {why}");
            }
        }
    }
    Ok(report)
}
