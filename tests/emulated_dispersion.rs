//! The dispersion kernel without a GPU: kernels/dispersion_curves.cu compiled as C++ and run on
//! the CPU (tests/emulation/dispersion_driver.cpp launches its four entry points as
//! src/gpu/dispersion.rs does) against `physics::dispersion`'s phase_velocity, group_velocity,
//! phase_velocity_gradient and group_velocity_gradient, on random physical layered models (one
//! low-velocity layer each), Love and Rayleigh, periods 2–60 s, modes 0–2.
//!
//! Both sides run the same algorithm operation by operation in f64 (same brackets, same Brent
//! iterations, same dual-number arithmetic, no fused multiply-adds), so they differ only where
//! the C and Rust math libraries round sin, cos, sinh, cosh, exp or atan2 differently (an ulp or
//! so, if at all): a root moves by about that relative amount, hence |Δc|, |ΔU| ≤ 1e-9 km/s; a
//! gradient entry is a ratio of dual parts, each with a few ulps of such noise amplified by the
//! secular function's cancellation, hence ≤ 1e-7 relative to the largest entry of its curve's
//! gradient. Mode existence (NaN ⇔ None) must match exactly, and a member's results must not
//! depend on the other members of the batch (bit-identical alone and batched).

mod common;

use std::fmt::Write as _;

use common::dispersion_cases::*;
use common::*;
use geobayes::physics::dispersion::{
    LayeredModel, Wave, group_velocity, group_velocity_gradient, phase_velocity,
    phase_velocity_gradient,
};

const KERNEL: &str = "dispersion_curves.cu";
const DRIVER: &str = "dispersion_driver.cpp";

/// The kernel's results, member-major as src/gpu/dispersion.rs returns them.
struct Emulated {
    phase: Vec<f64>,
    group: Vec<f64>,
    group_from_gradient: Vec<f64>,
    phase_gradient: Vec<f64>,
    group_gradient: Vec<f64>,
}

fn parse(line: &str) -> f64 {
    let t = line.trim();
    if t.trim_start_matches('-').eq_ignore_ascii_case("nan") {
        f64::NAN
    } else {
        t.parse().unwrap_or_else(|_| panic!("not a number: {t:?}"))
    }
}

fn run(models: &[LayeredModel], queries: &[(Wave, f64, usize)]) -> Emulated {
    let layers = models[0].n_layers();
    let mut input = format!("{} {layers} {}\n", models.len(), queries.len());
    for m in models {
        for i in 0..layers {
            let _ = writeln!(
                input,
                "{:e} {:e} {:e} {:e}",
                m.thickness[i], m.vp[i], m.vs[i], m.rho[i]
            );
        }
    }
    for &(wave, period, mode) in queries {
        let w = match wave {
            Wave::Love => 0,
            Wave::Rayleigh => 1,
        };
        let _ = writeln!(input, "{w} {period:e} {mode}");
    }
    let out = run_kernel_on_host(KERNEL, DRIVER, &input);
    let values: Vec<f64> = out.lines().map(parse).collect();
    let n = models.len() * queries.len();
    let g = n * 4 * layers;
    assert_eq!(values.len(), 3 * n + 2 * g, "driver output length");
    let mut rest = values.as_slice();
    let mut take = |k: usize| {
        let (a, b) = rest.split_at(k);
        rest = b;
        a.to_vec()
    };
    Emulated {
        phase: take(n),
        group: take(n),
        group_from_gradient: take(n),
        phase_gradient: take(g),
        group_gradient: take(g),
    }
}

#[test]
fn dispersion_kernel_matches_the_cpu_curves_and_gradients() {
    let models = random_models(4, 5, 29);
    let queries = queries();
    let e = run(&models, &queries);
    let layers = models[0].n_layers();
    let (mut max_c, mut max_u, mut max_dc, mut max_du) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut existing, mut missing) = (0, 0);
    for (m, model) in models.iter().enumerate() {
        for (q, &(wave, period, mode)) in queries.iter().enumerate() {
            let at = m * queries.len() + q;
            let gradient = |g: &[f64]| g[at * 4 * layers..(at + 1) * 4 * layers].to_vec();
            let what = format!("member {m}, {wave:?} T = {period} s, mode {mode}");
            let Some(c) = phase_velocity(model, wave, period, mode) else {
                assert!(
                    e.phase[at].is_nan(),
                    "{what}: kernel found c = {}",
                    e.phase[at]
                );
                assert!(
                    e.group[at].is_nan() && e.group_from_gradient[at].is_nan(),
                    "{what}"
                );
                assert!(
                    gradient(&e.phase_gradient).iter().all(|v| v.is_nan()),
                    "{what}"
                );
                assert!(
                    gradient(&e.group_gradient).iter().all(|v| v.is_nan()),
                    "{what}"
                );
                missing += 1;
                continue;
            };
            existing += 1;
            max_c = max_c.max((e.phase[at] - c).abs());
            let u = group_velocity(model, wave, period, mode).unwrap();
            max_u = max_u.max((e.group[at] - u).abs());
            let (c2, dc) = phase_velocity_gradient(model, wave, period, mode).unwrap();
            assert_eq!(c, c2);
            max_dc = max_dc.max(relative_error(&gradient(&e.phase_gradient), &flat(&dc)));
            let (u2, du) = group_velocity_gradient(model, wave, period, mode).unwrap();
            max_u = max_u.max((e.group_from_gradient[at] - u2).abs());
            max_du = max_du.max(relative_error(&gradient(&e.group_gradient), &flat(&du)));
            assert!(
                max_c <= 1e-9 && max_u <= 1e-9 && max_dc <= 1e-7 && max_du <= 1e-7,
                "{what}: c {} vs {c}, U {} vs {u}; max errors so far c {max_c:e}, U {max_u:e}, ∂c {max_dc:e}, ∂U {max_du:e}",
                e.phase[at],
                e.group[at]
            );
        }
    }
    println!(
        "{existing} curves ({missing} missing modes): max |Δc| {max_c:e} km/s, max |ΔU| {max_u:e} km/s, max relative Δ∂c {max_dc:e}, Δ∂U {max_du:e}"
    );
    assert!(existing >= 60, "only {existing} modes exist");
    assert!(missing >= 1, "no missing mode was checked");
}

#[test]
fn a_members_curves_do_not_depend_on_the_batch() {
    let models = random_models(3, 4, 41);
    let queries: Vec<(Wave, f64, usize)> = queries()
        .into_iter()
        .filter(|&(_, period, _)| period != 60.0)
        .collect();
    let batched = run(&models, &queries);
    let layers = models[0].n_layers();
    let nq = queries.len();
    let g = 4 * layers * nq;
    for m in [2, 0] {
        let alone = run(&models[m..m + 1], &queries);
        let same = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
        };
        assert!(
            same(&alone.phase, &batched.phase[m * nq..(m + 1) * nq]),
            "member {m}: c"
        );
        assert!(
            same(&alone.group, &batched.group[m * nq..(m + 1) * nq]),
            "member {m}: U"
        );
        assert!(
            same(
                &alone.group_from_gradient,
                &batched.group_from_gradient[m * nq..(m + 1) * nq]
            ),
            "member {m}: U"
        );
        assert!(
            same(
                &alone.phase_gradient,
                &batched.phase_gradient[m * g..(m + 1) * g]
            ),
            "member {m}: ∂c"
        );
        assert!(
            same(
                &alone.group_gradient,
                &batched.group_gradient[m * g..(m + 1) * g]
            ),
            "member {m}: ∂U"
        );
    }
}
