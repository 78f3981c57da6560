//! Love waves against the closed form of one layer over a half-space, Rayleigh waves against the
//! Rayleigh equation of a uniform half-space, mode counting, group velocities against
//! differences of the phase velocity in frequency, and gradients against central differences.

use super::curves::{
    Wave, group_velocity, group_velocity_gradient, phase_velocity, phase_velocity_gradient,
};
use super::love::love_mode_count;
use super::model::LayeredModel;

fn model(thickness: &[f64], vp: &[f64], vs: &[f64], rho: &[f64]) -> LayeredModel {
    LayeredModel::new(thickness.to_vec(), vp.to_vec(), vs.to_vec(), rho.to_vec()).unwrap()
}

/// Four layers with a low-velocity layer between faster ones.
fn lvl() -> LayeredModel {
    model(
        &[2.0, 5.0, 8.0, 0.0],
        &[5.8, 4.5, 6.4, 8.0],
        &[3.4, 2.6, 3.7, 4.6],
        &[2.6, 2.5, 2.9, 3.3],
    )
}

/// Mode n of one layer over a half-space from the closed-form Love secular equation
/// tan(ω h q₁) = μ₂ q₂ / (μ₁ q₁), q₁ = √(1/β₁² − 1/c²), q₂ = √(1/c² − 1/β₂²), whose phase
/// ω h q₁ − atan(μ₂ q₂ / (μ₁ q₁)) − nπ increases with c: bisection to the last bit.
fn closed_form_love(
    h: f64,
    b1: f64,
    r1: f64,
    b2: f64,
    r2: f64,
    period: f64,
    n: usize,
) -> Option<f64> {
    let omega = 2.0 * std::f64::consts::PI / period;
    let (mu1, mu2) = (r1 * b1 * b1, r2 * b2 * b2);
    let phase = |c: f64| {
        let q1 = if c > b1 {
            (1.0 / (b1 * b1) - 1.0 / (c * c)).abs().sqrt()
        } else {
            0.0
        };
        let q2 = (1.0 / (c * c) - 1.0 / (b2 * b2)).sqrt();
        omega * h * q1 - (mu2 * q2 / (mu1 * q1)).atan() - n as f64 * std::f64::consts::PI
    };
    let (mut lo, mut hi) = (b1 * (1.0 + 1e-15), b2 * (1.0 - 1e-15));
    if phase(hi) < 0.0 {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if phase(mid) < 0.0 { lo = mid } else { hi = mid }
    }
    Some(0.5 * (lo + hi))
}

#[test]
fn love_one_layer_matches_the_closed_form() {
    let (h, b1, r1, b2, r2) = (12.0, 3.2, 2.7, 4.5, 3.3);
    let m = model(&[h, 0.0], &[5.5, 7.8], &[b1, b2], &[r1, r2]);
    let mut checked = 0;
    for period in [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0] {
        for mode in 0..4 {
            let ours = phase_velocity(&m, Wave::Love, period, mode);
            let exact = closed_form_love(h, b1, r1, b2, r2, period, mode);
            match (ours, exact) {
                (Some(a), Some(b)) => {
                    assert!(
                        ((a - b) / b).abs() < 1e-8,
                        "T = {period}, mode {mode}: {a} vs {b}"
                    );
                    checked += 1;
                }
                (None, None) => {}
                _ => panic!("T = {period}, mode {mode}: existence differs ({ours:?} vs {exact:?})"),
            }
        }
    }
    assert!(
        checked >= 15,
        "only {checked} (period, mode) pairs exist to compare"
    );
}

#[test]
fn love_mode_count_is_monotone_and_jumps_at_each_phase_velocity() {
    let m = lvl();
    let omega = 2.0 * std::f64::consts::PI / 3.0;
    let mut previous = 0;
    for k in 0..4000 {
        let c = 2.0 + (4.6 - 2.0) * (k as f64 + 0.5) / 4000.0;
        let n = love_mode_count(&m, c, omega);
        assert!(n >= previous, "the mode count decreased at c = {c}");
        previous = n;
    }
    for mode in 0..previous {
        let c = phase_velocity(&m, Wave::Love, 3.0, mode).expect("counted modes exist");
        assert_eq!(love_mode_count(&m, c * (1.0 - 1e-9), omega), mode);
        assert_eq!(love_mode_count(&m, c * (1.0 + 1e-9), omega), mode + 1);
    }
    assert!(phase_velocity(&m, Wave::Love, 3.0, previous).is_none());
}

/// The Rayleigh velocity of a uniform half-space from (2 − c²/β²)² = 4 √(1 − c²/α²) √(1 − c²/β²),
/// by bisection; the layered secular function of the same medium cut into layers has it as its
/// only root at every period.
#[test]
fn rayleigh_in_a_uniform_medium_is_the_rayleigh_velocity() {
    let (a, b) = (6.0f64, 3.5f64);
    let g = |c: f64| {
        (2.0 - c * c / (b * b)).powi(2)
            - 4.0 * (1.0 - c * c / (a * a)).sqrt() * (1.0 - c * c / (b * b)).sqrt()
    };
    let (mut lo, mut hi) = (0.5 * b, b * (1.0 - 1e-12));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) * g(lo) > 0.0 {
            lo = mid
        } else {
            hi = mid
        }
    }
    let c_r = 0.5 * (lo + hi);
    let m = model(&[3.0, 7.0, 0.0], &[a, a, a], &[b, b, b], &[2.7, 2.7, 2.7]);
    for period in [0.3, 1.0, 4.0, 20.0] {
        let c = phase_velocity(&m, Wave::Rayleigh, period, 0).unwrap();
        assert!(
            ((c - c_r) / c_r).abs() < 1e-10,
            "T = {period}: {c} vs {c_r}"
        );
        assert!(phase_velocity(&m, Wave::Rayleigh, period, 1).is_none());
        let u = group_velocity(&m, Wave::Rayleigh, period, 0).unwrap();
        assert!(((u - c_r) / c_r).abs() < 1e-8, "non-dispersive: U = {u}");
    }
}

/// U = dω/dk against a Richardson-extrapolated central difference of k(ω) = ω / c(ω).
#[test]
fn group_velocities_match_richardson_differences() {
    let m = lvl();
    for wave in [Wave::Love, Wave::Rayleigh] {
        for (period, mode) in [(1.0, 0), (3.0, 0), (3.0, 1), (10.0, 0), (30.0, 0)] {
            let u = group_velocity(&m, wave, period, mode).unwrap();
            let omega = 2.0 * std::f64::consts::PI / period;
            let k = |w: f64| {
                w / phase_velocity(&m, wave, 2.0 * std::f64::consts::PI / w, mode).unwrap()
            };
            let d = |e: f64| (k(omega + e) - k(omega - e)) / (2.0 * e);
            let e = 1e-3 * omega;
            let u_fd = 1.0 / ((4.0 * d(e / 2.0) - d(e)) / 3.0);
            println!(
                "{wave:?} T = {period} s, mode {mode}: U = {u:.12} km/s, Richardson {u_fd:.12}"
            );
            assert!(
                ((u - u_fd) / u).abs() < 1e-7,
                "{wave:?} T = {period}, mode {mode}: {u} vs {u_fd}"
            );
        }
    }
}

/// Thick evanescent layers at short periods (e^{ν h} far beyond f64) still give the answer of
/// the same model with the deep layer cut to a thickness where it does not matter.
#[test]
fn thick_layers_at_short_periods_do_not_overflow() {
    let deep = model(
        &[1.0, 400.0, 0.0],
        &[3.6, 6.0, 7.0],
        &[2.0, 3.5, 4.0],
        &[2.4, 2.8, 3.0],
    );
    let cut = model(
        &[1.0, 60.0, 0.0],
        &[3.6, 6.0, 7.0],
        &[2.0, 3.5, 4.0],
        &[2.4, 2.8, 3.0],
    );
    for wave in [Wave::Love, Wave::Rayleigh] {
        for period in [0.05, 0.2, 1.0] {
            let (a, b) = (
                phase_velocity(&deep, wave, period, 0).unwrap(),
                phase_velocity(&cut, wave, period, 0).unwrap(),
            );
            assert!(
                a.is_finite() && ((a - b) / b).abs() < 1e-10,
                "{wave:?} T = {period}: {a} vs {b}"
            );
            assert!(group_velocity(&deep, wave, period, 0).unwrap().is_finite());
        }
    }
}

/// ∂c/∂p and ∂U/∂p for every layer property against central differences.
#[test]
fn velocity_gradients_match_central_differences() {
    let m = lvl();
    type Velocity = fn(&LayeredModel, Wave, f64, usize) -> Option<f64>;
    type Gradient =
        fn(&LayeredModel, Wave, f64, usize) -> Option<(f64, Vec<super::model::LayerSensitivity>)>;
    let kinds: [(&str, Velocity, Gradient, f64); 2] = [
        ("phase", phase_velocity, phase_velocity_gradient, 1e-6),
        ("group", group_velocity, group_velocity_gradient, 1e-4),
    ];
    for wave in [Wave::Love, Wave::Rayleigh] {
        for (kind, velocity, gradient, step) in kinds {
            for (period, mode) in [(2.0, 0), (3.0, 1), (12.0, 0)] {
                let (value, grad) = gradient(&m, wave, period, mode).unwrap();
                assert!((value - velocity(&m, wave, period, mode).unwrap()).abs() < 1e-12);
                let (mut analytic, mut numeric) = (Vec::new(), Vec::new());
                for i in 0..4 {
                    for q in 0..4 {
                        if (i == 3 && q == 0) || (wave == Wave::Love && q == 1) {
                            continue; // the half-space has no thickness; Love waves ignore Vp
                        }
                        let shifted = |delta: f64| {
                            let mut p = m.clone();
                            [&mut p.thickness, &mut p.vp, &mut p.vs, &mut p.rho][q][i] += delta;
                            velocity(&p, wave, period, mode).unwrap()
                        };
                        let eps = step * [m.thickness[i], m.vp[i], m.vs[i], m.rho[i]][q];
                        analytic.push(grad[i].get(q));
                        numeric.push((shifted(eps) - shifted(-eps)) / (2.0 * eps));
                    }
                }
                let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
                let diff: Vec<f64> = analytic.iter().zip(&numeric).map(|(a, b)| a - b).collect();
                let rel = norm(&diff) / norm(&numeric);
                println!(
                    "{wave:?} {kind} T = {period} s, mode {mode}: {value:.6} km/s, ‖∂ − ∂_fd‖/‖∂_fd‖ = {rel:.2e}"
                );
                assert!(
                    rel < 1e-6,
                    "{wave:?} {kind} T = {period}, mode {mode}: {rel:e}"
                );
            }
        }
    }
}

#[test]
fn fluid_layers_are_refused() {
    let err = LayeredModel::new(
        vec![1.0, 0.0],
        vec![1.5, 6.0],
        vec![0.0, 3.5],
        vec![1.0, 2.7],
    )
    .unwrap_err();
    assert!(err.to_string().contains("fluid"), "{err}");
}
