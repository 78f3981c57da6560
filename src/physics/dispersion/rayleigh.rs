//! Rayleigh waves: the fast delta-matrix recursion of Buchen & Ben-Hador (1996) — the P–SV
//! secular function propagated as the five independent 2 × 2 minors of the solution matrix,
//! which keeps the growing exponentials of evanescent layers from swamping the result — over any
//! scalar type, with real arithmetic throughout: every layer term is a combination of the entire
//! functions C(x) = cosh √x and S(x) = sinh √x / √x of x = (k h)² (1 − c²/v²), so nothing is
//! complex on either side of c = v.
//!
//! Roots are bracketed by scanning c upward from just below the slowest layer's own Rayleigh
//! velocity, with steps small enough
//! that no layer's vertical P or S phase ω h √(1/v² − 1/c²) advances by more than π/8 between
//! samples, and refined where |F| dips without a sign change; mode n is the (n + 1)-th sign
//! change, counted from below (never followed from the previous period).

use super::model::{LayeredModel, RHO, THICKNESS, VP, VS};
use super::scalar::{Scalar, cosh_sinhc_scaled};

/// F(c, ω) of the fast delta-matrix algorithm; rows are (thickness, vp, vs, rho) per layer.
/// The five-vector is rescaled by positive constants on the way down; F's sign and roots do not
/// change.
pub fn rayleigh_secular<S: Scalar>(rows: &[[S; 4]], c: S, omega: S) -> S {
    let n = rows.len();
    let k = omega / c;
    let c2 = c * c;
    let one = S::constant(1.0);
    let two = S::constant(2.0);
    let (beta0, rho0) = (rows[0][VS], rows[0][RHO]);
    let t = two - c2 / (beta0 * beta0);
    let mu0 = rho0 * beta0 * beta0;
    let m2 = mu0 * mu0;
    let mut x = [
        m2 * two * t,
        -(m2 * t * t),
        S::constant(0.0),
        S::constant(0.0),
        m2 * S::constant(-4.0),
    ];
    for i in 0..n - 1 {
        let (h, alpha, beta1, rho1) = (rows[i][THICKNESS], rows[i][VP], rows[i][VS], rows[i][RHO]);
        let (beta2, rho2) = (rows[i + 1][VS], rows[i + 1][RHO]);
        let gamma1 = beta1 * beta1 / c2;
        let gamma2 = beta2 * beta2 / c2;
        let eps = rho2 / rho1;
        let eta = two * (gamma1 - eps * gamma2);
        let a = eps + eta;
        let a1 = a - one;
        let b = one - eta;
        let b1 = b - one;
        let kh = k * h;
        // P terms: r² = 1 − c²/α²; C, r·sinh(k r h) = kh r² S, sinh(k r h)/r = kh S.
        let r2 = one - c2 / (alpha * alpha);
        let (ca, sa, la) = cosh_sinhc_scaled(kh * kh * r2);
        let (r_sa, sa_r) = (kh * r2 * sa, kh * sa);
        // S terms, s² = 1 − c²/β².
        let s2 = one - c2 / (beta1 * beta1);
        let (cb, sb, lb) = cosh_sinhc_scaled(kh * kh * s2);
        let (s_sb, sb_s) = (kh * s2 * sb, kh * sb);
        let p1 = cb * x[1] + s_sb * x[2];
        let p2 = cb * x[3] + s_sb * x[4];
        let p3 = sb_s * x[1] + cb * x[2];
        let p4 = sb_s * x[3] + cb * x[4];
        let q1 = ca * p1 - r_sa * p2;
        let q2 = -(sa_r * p3) + ca * p4;
        let q3 = ca * p3 - r_sa * p4;
        let q4 = -(sa_r * p1) + ca * p2;
        // The first component does not pass through the layer terms: give it their scaling.
        let x0 = if la + lb > 0.0 {
            x[0].scale((-(la + lb)).exp())
        } else {
            x[0]
        };
        let y1 = a1 * x0 + a * q1;
        let y2 = a * x0 + a1 * q2;
        let z1 = b * x0 + b1 * q1;
        let z2 = b1 * x0 + b * q2;
        x = [
            b1 * y1 + b * y2,
            a * y1 + a1 * y2,
            eps * q3,
            eps * q4,
            b1 * z1 + b * z2,
        ];
        let size = x.iter().map(|v| v.value().abs()).fold(0.0, f64::max);
        if size > 0.0 && size.is_finite() {
            x = x.map(|v| v.scale(1.0 / size));
        }
    }
    let (alpha, beta) = (rows[n - 1][VP], rows[n - 1][VS]);
    let r = (one - c2 / (alpha * alpha)).sqrt();
    let s = (one - c2 / (beta * beta)).sqrt();
    x[1] + s * x[2] - r * (x[3] + s * x[4])
}

/// A velocity safely below the Rayleigh velocity of a uniform half-space of this material:
/// 0.93 times Viktorov's approximation c_R/β ≈ (0.87 + 1.12 ν)/(1 + ν) (within 1 % for
/// Poisson's ratio 0 ≤ ν < 0.5), or β/2 for ν < 0.
fn rayleigh_floor(alpha: f64, beta: f64) -> f64 {
    let (a2, b2) = (alpha * alpha, beta * beta);
    let nu = (a2 - 2.0 * b2) / (2.0 * (a2 - b2));
    if nu >= 0.0 {
        0.93 * beta * (0.87 + 1.12 * nu) / (1.0 + nu)
    } else {
        0.5 * beta
    }
}

/// Sum over the layers above the half-space of the vertical P and S phases ω h √(1/v² − 1/c²)
/// (zero where evanescent), from the layers' (h, 1/α², 1/β²): roots of F are roughly π apart in
/// it.
fn vertical_phase(layers: &[(f64, f64, f64)], c: f64, omega: f64) -> f64 {
    let inv_c2 = 1.0 / (c * c);
    let q = |inv_v2: f64| (inv_v2 - inv_c2).max(0.0).sqrt();
    layers
        .iter()
        .map(|&(h, inv_a2, inv_b2)| omega * h * (q(inv_a2) + q(inv_b2)))
        .sum()
}

/// A bracket [lo, hi] of Rayleigh mode `mode` at `omega` in which F changes sign, by scanning
/// from below and counting sign changes; `None` where the mode does not exist below the
/// half-space's Vs.
pub fn rayleigh_bracket(model: &LayeredModel, omega: f64, mode: usize) -> Option<(f64, f64)> {
    let rows = model.rows::<f64>();
    let f = |c: f64| rayleigh_secular(&rows, c, omega);
    let n = model.n_layers();
    // No mode is slower than the slowest layer's own Rayleigh velocity (interface waves are
    // faster than it too); start safely below it.
    let lo = (0..n)
        .map(|i| rayleigh_floor(model.vp[i], model.vs[i]))
        .fold(f64::INFINITY, f64::min);
    let hi = model.vs[n - 1] * (1.0 - 1e-12);
    let max_step = (hi - lo) / 20.0;
    let layers: Vec<(f64, f64, f64)> = (0..n - 1)
        .map(|i| {
            (
                model.thickness[i],
                1.0 / (model.vp[i] * model.vp[i]),
                1.0 / (model.vs[i] * model.vs[i]),
            )
        })
        .collect();
    let budget = std::f64::consts::PI / 8.0;
    let mut found = 0usize;
    let (mut c0, mut f0) = (lo, f(lo));
    let (mut c_prev, mut f_prev) = (f64::NAN, f64::NAN);
    let mut phase0 = vertical_phase(&layers, lo, omega);
    while c0 < hi {
        let mut dc = max_step;
        let mut c1 = (c0 + dc).min(hi);
        let mut phase1 = vertical_phase(&layers, c1, omega);
        while dc > 1e-9 * hi && phase1 - phase0 > budget {
            dc *= 0.5;
            c1 = (c0 + dc).min(hi);
            phase1 = vertical_phase(&layers, c1, omega);
        }
        phase0 = phase1;
        let f1 = f(c1);
        if f0 * f1 <= 0.0 && f1 != 0.0 {
            if found == mode {
                return Some((c0, c1));
            }
            found += 1;
        } else if f_prev * f0 > 0.0 && f0.abs() < f_prev.abs() && f0.abs() < f1.abs() {
            // |F| dips at c0 without a sign change on either side: look for a hidden pair of
            // roots in [c_prev, c1], whose ends have the sign of F at c0.
            let mut previous = (c_prev, f_prev);
            for j in 1..=64 {
                let c = c_prev + (c1 - c_prev) * j as f64 / 64.0;
                let fc = if j == 64 { f1 } else { f(c) };
                if previous.1 * fc <= 0.0 && fc != 0.0 {
                    if found == mode {
                        return Some((previous.0, c));
                    }
                    found += 1;
                }
                if j < 64 {
                    previous = (c, fc);
                }
            }
            (c_prev, f_prev) = previous;
            c0 = c1;
            f0 = f1;
            continue;
        }
        (c_prev, f_prev) = (c0, f0);
        c0 = c1;
        f0 = f1;
    }
    None
}
