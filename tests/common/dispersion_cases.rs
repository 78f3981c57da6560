//! Test cases shared by the dispersion kernel's emulated and GPU tests: random layered models,
//! the (wave, period, mode) queries, and how their results are compared.

use geobayes::physics::dispersion::{LayerSensitivity, LayeredModel, Wave};
use rand::{RngExt, SeedableRng};

/// `members` random crustal models of `layers` layers over a half-space: Vs increasing with
/// depth except a low-velocity layer (the second), Vp/Vs 1.65–1.9, Nafe–Drake-like density.
/// The first member's third layer is 35 km thick, so that short periods reach the scaled
/// (√x > 20) branch of cosh_sinhc.
pub fn random_models(members: usize, layers: usize, seed: u64) -> Vec<LayeredModel> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..members)
        .map(|member| {
            let mut vs = Vec::with_capacity(layers);
            let mut v = rng.random_range(2.0..3.2);
            for i in 0..layers {
                vs.push(if i == 1 {
                    v * rng.random_range(0.7..0.9)
                } else {
                    v
                });
                v += rng.random_range(0.2..0.7);
            }
            let vp: Vec<f64> = vs.iter().map(|s| s * rng.random_range(1.65..1.9)).collect();
            let rho: Vec<f64> = vp
                .iter()
                .map(|p| 1.6 + 0.2 * p + rng.random_range(-0.05..0.05))
                .collect();
            let mut thickness: Vec<f64> =
                (0..layers).map(|_| rng.random_range(1.0..15.0)).collect();
            thickness[layers - 1] = 0.0;
            if member == 0 {
                thickness[2] = 35.0;
            }
            LayeredModel::new(thickness, vp, vs, rho).unwrap()
        })
        .collect()
}

/// Periods 2–60 s × modes 0–2 × both waves.
pub fn queries() -> Vec<(Wave, f64, usize)> {
    let mut q = Vec::new();
    for wave in [Wave::Love, Wave::Rayleigh] {
        for period in [2.0, 7.5, 20.0, 60.0] {
            for mode in 0..3 {
                q.push((wave, period, mode));
            }
        }
    }
    q
}

pub fn flat(grad: &[LayerSensitivity]) -> Vec<f64> {
    grad.iter()
        .flat_map(|s| (0..4).map(move |p| s.get(p)))
        .collect()
}

/// max |a − b| / max |b| over one curve's gradient.
pub fn relative_error(gpu: &[f64], cpu: &[f64]) -> f64 {
    let scale = cpu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = gpu
        .iter()
        .zip(cpu)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(scale > 0.0, "a zero gradient");
    err / scale
}
