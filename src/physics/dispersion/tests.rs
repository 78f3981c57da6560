//! Love waves against the closed form of one layer over a half-space, mode counting, and the
//! analytic group velocity against differences of the phase velocity in frequency.

use super::love::ShLayers;

fn one_layer() -> (ShLayers, f64, f64, f64, f64, f64) {
    let (h, b1, r1, b2, r2) = (12.0, 3.2, 2.7, 4.5, 3.3);
    (
        ShLayers {
            thickness: vec![h, 0.0],
            vs: vec![b1, b2],
            rho: vec![r1, r2],
        },
        h,
        b1,
        r1,
        b2,
        r2,
    )
}

/// Mode n of one layer over a half-space from the closed-form secular equation
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
        let q1 = (1.0 / (b1 * b1) - 1.0 / (c * c)).abs().sqrt();
        let q1 = if c > b1 { q1 } else { 0.0 };
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
    let (model, h, b1, r1, b2, r2) = one_layer();
    let mut checked = 0;
    for period in [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0] {
        for mode in 0..4 {
            let ours = model.phase_velocity(period, mode);
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
fn mode_count_is_monotone_and_jumps_at_each_phase_velocity() {
    // A low-velocity layer between faster ones.
    let model = ShLayers {
        thickness: vec![2.0, 5.0, 8.0, 0.0],
        vs: vec![3.4, 2.6, 3.7, 4.6],
        rho: vec![2.6, 2.5, 2.9, 3.3],
    };
    let omega = 2.0 * std::f64::consts::PI / 3.0;
    let mut previous = 0;
    for k in 0..4000 {
        let c = 2.0 + (4.6 - 2.0) * (k as f64 + 0.5) / 4000.0;
        let n = model.mode_count(c, omega);
        assert!(n >= previous, "the mode count decreased at c = {c}");
        previous = n;
    }
    for mode in 0..previous {
        let c = model
            .phase_velocity(3.0, mode)
            .expect("counted modes exist");
        assert_eq!(model.mode_count(c * (1.0 - 1e-9), omega), mode);
        assert_eq!(model.mode_count(c * (1.0 + 1e-9), omega), mode + 1);
    }
    assert!(model.phase_velocity(3.0, previous).is_none());
}

/// U = dω/dk against a Richardson-extrapolated central difference of k(ω) = ω / c(ω).
#[test]
fn love_group_velocity_matches_richardson_differences() {
    let model = ShLayers {
        thickness: vec![2.0, 5.0, 8.0, 0.0],
        vs: vec![3.4, 2.6, 3.7, 4.6],
        rho: vec![2.6, 2.5, 2.9, 3.3],
    };
    for (period, mode) in [(1.0, 0), (3.0, 0), (3.0, 1), (10.0, 0), (30.0, 0)] {
        let u = model.group_velocity(period, mode).unwrap();
        let omega = 2.0 * std::f64::consts::PI / period;
        let k = |w: f64| {
            w / model
                .phase_velocity(2.0 * std::f64::consts::PI / w, mode)
                .unwrap()
        };
        let d = |e: f64| (k(omega + e) - k(omega - e)) / (2.0 * e);
        let e = 1e-3 * omega;
        let dk = (4.0 * d(e / 2.0) - d(e)) / 3.0;
        let u_fd = 1.0 / dk;
        println!("T = {period} s, mode {mode}: U = {u:.12} km/s, Richardson {u_fd:.12}");
        assert!(
            ((u - u_fd) / u).abs() < 1e-7,
            "T = {period}, mode {mode}: {u} vs {u_fd}"
        );
    }
}

/// Thick evanescent layers at short periods (e^{ν h} far beyond f64) still give the answer of
/// the same model with the deep layer cut to a thickness where it does not matter.
#[test]
fn thick_layers_at_short_periods_do_not_overflow() {
    let deep = ShLayers {
        thickness: vec![1.0, 400.0, 0.0],
        vs: vec![2.0, 3.5, 4.0],
        rho: vec![2.4, 2.8, 3.0],
    };
    let cut = ShLayers {
        thickness: vec![1.0, 60.0, 0.0],
        vs: vec![2.0, 3.5, 4.0],
        rho: vec![2.4, 2.8, 3.0],
    };
    for period in [0.05, 0.2, 1.0] {
        let (a, b) = (
            deep.phase_velocity(period, 0).unwrap(),
            cut.phase_velocity(period, 0).unwrap(),
        );
        assert!(
            a.is_finite() && ((a - b) / b).abs() < 1e-12,
            "T = {period}: {a} vs {b}"
        );
        assert!(deep.group_velocity(period, 0).unwrap().is_finite());
    }
}

/// ∂c/∂(h, β, ρ) and ∂U/∂(h, β, ρ) of every layer against central differences.
#[test]
fn love_velocity_gradients_match_central_differences() {
    let model = ShLayers {
        thickness: vec![2.0, 5.0, 8.0, 0.0],
        vs: vec![3.4, 2.6, 3.7, 4.6],
        rho: vec![2.6, 2.5, 2.9, 3.3],
    };
    type Velocity = fn(&ShLayers, f64, usize) -> Option<f64>;
    type Gradient = fn(&ShLayers, f64, usize) -> Option<(f64, Vec<super::love::LayerSensitivity>)>;
    let kinds: [(&str, Velocity, Gradient, f64); 2] = [
        (
            "phase",
            ShLayers::phase_velocity,
            ShLayers::phase_velocity_gradient,
            1e-6,
        ),
        (
            "group",
            ShLayers::group_velocity,
            ShLayers::group_velocity_gradient,
            1e-4,
        ),
    ];
    for (kind, velocity, gradient, step) in kinds {
        for (period, mode) in [(2.0, 0), (3.0, 1), (12.0, 0)] {
            let (value, grad) = gradient(&model, period, mode).unwrap();
            assert!((value - velocity(&model, period, mode).unwrap()).abs() < 1e-12);
            let (mut analytic, mut numeric) = (Vec::new(), Vec::new());
            for i in 0..4 {
                for q in 0..3 {
                    if i == 3 && q == 0 {
                        continue; // the half-space has no thickness
                    }
                    let shifted = |delta: f64| {
                        let mut m = model.clone();
                        let p = match q {
                            0 => &mut m.thickness[i],
                            1 => &mut m.vs[i],
                            _ => &mut m.rho[i],
                        };
                        *p += delta;
                        velocity(&m, period, mode).unwrap()
                    };
                    let eps = step * [model.thickness[i], model.vs[i], model.rho[i]][q];
                    analytic.push([grad[i].thickness, grad[i].vs, grad[i].rho][q]);
                    numeric.push((shifted(eps) - shifted(-eps)) / (2.0 * eps));
                }
            }
            let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
            let diff: Vec<f64> = analytic.iter().zip(&numeric).map(|(a, b)| a - b).collect();
            let rel = norm(&diff) / norm(&numeric);
            println!(
                "{kind} T = {period} s, mode {mode}: {value:.6} km/s, ‖∂ − ∂_fd‖/‖∂_fd‖ = {rel:.2e}"
            );
            assert!(rel < 1e-6, "{kind} T = {period}, mode {mode}: {rel:e}");
        }
    }
}
