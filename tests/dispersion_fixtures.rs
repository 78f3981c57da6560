//! Phase velocities against disba's (tests/data/dispersion/make_disba_fixtures.py: its default
//! `dunkin` algorithm, root step 5e-4 km/s) for Love and Rayleigh modes 0–2 on five models, one
//! with a low-velocity layer, cross-checked by a dense scan of geobayes' own secular functions;
//! mode existence (cutoffs) must match except at most one period next to a cutoff.

use geobayes::physics::dispersion::love::love_secular;
use geobayes::physics::dispersion::rayleigh::rayleigh_secular;
use geobayes::physics::dispersion::{LayeredModel, Wave, phase_velocity};
use serde_json::Value;

const TOLERANCE_KM_S: f64 = 1e-5;

/// Roots of F(c) at `period` by a uniform scan of 20,000 intervals from half the smallest Vs to
/// the half-space's Vs, each sign change bisected to 1e-13 km/s.
fn dense_scan_roots(model: &LayeredModel, wave: Wave, period: f64) -> Vec<f64> {
    let omega = 2.0 * std::f64::consts::PI / period;
    let rows: Vec<[f64; 4]> = (0..model.n_layers())
        .map(|i| [model.thickness[i], model.vp[i], model.vs[i], model.rho[i]])
        .collect();
    let f = |c: f64| match wave {
        Wave::Love => love_secular(&rows, c, omega),
        Wave::Rayleigh => rayleigh_secular(&rows, c, omega),
    };
    let lo = 0.5 * model.vs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = model.vs[model.n_layers() - 1] * (1.0 - 1e-12);
    let n = 20_000;
    let mut roots = Vec::new();
    let (mut a, mut fa) = (lo, f(lo));
    for j in 1..=n {
        let b = lo + (hi - lo) * j as f64 / n as f64;
        let fb = f(b);
        if fa * fb < 0.0 {
            let (mut x0, mut x1, mut f0) = (a, b, fa);
            while x1 - x0 > 1e-13 {
                let mid = 0.5 * (x0 + x1);
                let fm = f(mid);
                if fm * f0 > 0.0 {
                    x0 = mid;
                    f0 = fm;
                } else {
                    x1 = mid;
                }
            }
            roots.push(0.5 * (x0 + x1));
        }
        (a, fa) = (b, fb);
    }
    roots
}

#[test]
fn phase_velocities_match_disba_and_a_dense_scan() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dispersion/disba_phase.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let mut compared = 0;
    for m in fixture["models"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let model = LayeredModel::new(
            floats(&m["thickness"]),
            floats(&m["vp"]),
            floats(&m["vs"]),
            floats(&m["rho"]),
        )
        .unwrap();
        let periods = floats(&m["periods"]);
        let scans: Vec<(Vec<f64>, Vec<f64>)> = periods
            .iter()
            .map(|&t| {
                (
                    dense_scan_roots(&model, Wave::Rayleigh, t),
                    dense_scan_roots(&model, Wave::Love, t),
                )
            })
            .collect();
        for curve in m["curves"].as_array().unwrap() {
            let wave = if curve["wave"] == "love" {
                Wave::Love
            } else {
                Wave::Rayleigh
            };
            let mode = curve["mode"].as_u64().unwrap() as usize;
            let (mut worst_disba, mut worst_scan, mut existence_mismatches) = (0.0f64, 0.0f64, 0);
            for (k, (&period, expected)) in periods
                .iter()
                .zip(curve["velocity"].as_array().unwrap())
                .enumerate()
            {
                let ours = phase_velocity(&model, wave, period, mode);
                let scanned = match wave {
                    Wave::Rayleigh => scans[k].0.get(mode).copied(),
                    Wave::Love => scans[k].1.get(mode).copied(),
                };
                match (ours, scanned) {
                    (Some(a), Some(b)) => worst_scan = worst_scan.max((a - b).abs()),
                    (None, None) => {}
                    _ => panic!(
                        "{name} {wave:?} mode {mode} T = {period}: geobayes {ours:?}, dense scan {scanned:?}"
                    ),
                }
                match (ours, expected.as_f64()) {
                    (Some(a), Some(b)) => {
                        worst_disba = worst_disba.max((a - b).abs());
                        compared += 1;
                    }
                    (None, None) => {}
                    _ => existence_mismatches += 1,
                }
            }
            println!(
                "{name:<14} {wave:?} mode {mode}: max |geobayes − disba| = {worst_disba:.1e}, max |geobayes − dense scan| = {worst_scan:.1e}, existence mismatches {existence_mismatches}"
            );
            assert!(
                worst_disba < TOLERANCE_KM_S,
                "{name} {wave:?} mode {mode}: {worst_disba:e} km/s from disba"
            );
            assert!(
                worst_scan < TOLERANCE_KM_S,
                "{name} {wave:?} mode {mode}: {worst_scan:e} km/s from the dense scan"
            );
            assert!(
                existence_mismatches <= 1,
                "{name} {wave:?} mode {mode}: {existence_mismatches} periods disagree on existence"
            );
        }
    }
    assert!(compared > 500, "{compared} velocities compared");
}
