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
        let x0 = x[0].scale((-(la + lb)).exp());
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

/// The Rayleigh velocity of a uniform half-space with these velocities: the root of
/// (2 − c²/β²)² − 4 √(1 − c²/α²) √(1 − c²/β²) in (0, β), by bisection.
pub fn halfspace_rayleigh_velocity(alpha: f64, beta: f64) -> f64 {
    let g = |c: f64| {
        (2.0 - c * c / (beta * beta)).powi(2)
            - 4.0 * (1.0 - c * c / (alpha * alpha)).sqrt() * (1.0 - c * c / (beta * beta)).sqrt()
    };
    let (mut lo, mut hi) = (0.5 * beta, beta * (1.0 - 1e-12));
    let g_lo = g(lo);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if g(mid) * g_lo > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Sum over the layers above the half-space of the vertical P and S phases ω h √(1/v² − 1/c²)
/// (zero where evanescent): roots of F are roughly π apart in it.
fn vertical_phase(model: &LayeredModel, c: f64, omega: f64) -> f64 {
    let q = |v: f64| (1.0 / (v * v) - 1.0 / (c * c)).max(0.0).sqrt();
    (0..model.n_layers() - 1)
        .map(|i| omega * model.thickness[i] * (q(model.vp[i]) + q(model.vs[i])))
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
    // faster than it too); start a little below it.
    let lo = 0.95
        * (0..n)
            .map(|i| halfspace_rayleigh_velocity(model.vp[i], model.vs[i]))
            .fold(f64::INFINITY, f64::min);
    let hi = model.vs[n - 1] * (1.0 - 1e-12);
    let max_step = (hi - lo) / 200.0;
    let budget = std::f64::consts::PI / 8.0;
    let mut found = 0usize;
    let (mut c0, mut f0) = (lo, f(lo));
    let (mut c_prev, mut f_prev) = (f64::NAN, f64::NAN);
    while c0 < hi {
        let mut dc = max_step;
        let phase0 = vertical_phase(model, c0, omega);
        while dc > 1e-9 * hi && vertical_phase(model, (c0 + dc).min(hi), omega) - phase0 > budget {
            dc *= 0.5;
        }
        let c1 = (c0 + dc).min(hi);
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
