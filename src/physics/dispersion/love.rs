//! Love waves: Thomson–Haskell propagation of the SH displacement–traction vector and the mode
//! count of a Sturm–Liouville problem.
//!
//! With k = ω/c and ν_i² = k² − ω²/β_i², the vector (v, τ = μ v') crosses layer i downward as
//!
//! ```text
//!   v' = C v + (h/μ) S τ,   τ' = μ ν² h S v + C τ,   C = cosh √x, S = sinh √x / √x, x = ν² h²
//! ```
//!
//! For fixed ω the SH problem is a Sturm–Liouville problem in k², so, by the Prüfer angle of the
//! vector started at (1, 0) at the free surface, the number of modes slower than c is
//!
//! ```text
//!   N(c) = (zeros of v above the half-space) + [G(c) · v(half-space top) < 0],
//! ```
//!
//! with G = τ + μ_n ν_n v at the half-space top (zero where the solution decays there),
//! non-decreasing in c and jumping by one at each root: mode n is bracketed by bisecting on N,
//! never by following a curve, so no mode is skipped or swapped, low-velocity layers included.
//! The root itself is refined on the secular function of [`love_secular`], which carries the
//! decaying solution up instead (the stable direction).

use super::model::{LayeredModel, RHO, THICKNESS, VS};
use super::scalar::{Scalar, cosh_sinhc};

/// The secular function F for phase velocity `c` and angular frequency `omega`; rows are
/// (thickness, vp, vs, rho) per layer. The solution that decays in the half-space,
/// (v, τ) = (1, −μ_n ν_n) at its top, is carried up to the free surface, where F is its traction
/// τ divided by μ_1 k |(v, τ/(μ_1 k))|: a function of the vector's direction only, bounded and
/// smooth in c. Upward is the stable direction (in an evanescent layer that solution grows
/// upward); carried downward from the surface, the growing solution swamps the decaying one
/// and F jumps from +1 to −1 at a root that no interpolation can find. Rescaling by positive
/// constants on the way keeps F's sign and roots.
pub fn love_secular<S: Scalar>(rows: &[[S; 4]], c: S, omega: S) -> S {
    let k = omega / c;
    let k2 = k * k;
    let n = rows.len();
    let (beta, rho) = (rows[n - 1][VS], rows[n - 1][RHO]);
    let w = omega / beta;
    let mut v = S::constant(1.0);
    let mut tau = -(rho * beta * beta * (k2 - w * w).sqrt());
    let mut mu = rho * beta * beta;
    for row in rows[..n - 1].iter().rev() {
        let (h, beta, rho) = (row[THICKNESS], row[VS], row[RHO]);
        mu = rho * beta * beta;
        let w = omega / beta;
        let nu2 = k2 - w * w;
        let (cc, sc) = cosh_sinhc(nu2 * h * h);
        // The inverse of the downward propagator (its determinant is cosh² − sinh² = 1).
        let v_next = cc * v - h / mu * sc * tau;
        let tau_next = cc * tau - mu * nu2 * h * sc * v;
        let size = v_next
            .value()
            .abs()
            .max(tau_next.value().abs() / (mu.value() * k.value()));
        let s = if size > 0.0 && size.is_finite() {
            1.0 / size
        } else {
            1.0
        };
        v = v_next.scale(s);
        tau = tau_next.scale(s);
    }
    let tau_scaled = (tau / (mu * k)).value();
    let length = (v.value() * v.value() + tau_scaled * tau_scaled).sqrt();
    (tau / (mu * k)).scale(1.0 / length)
}

/// The number of Love modes with phase velocity below `c` (below the half-space's Vs) at
/// angular frequency `omega`.
pub fn love_mode_count(model: &LayeredModel, c: f64, omega: f64) -> usize {
    let n = model.n_layers();
    let k = omega / c;
    let (mut v, mut tau) = (1.0f64, 0.0f64);
    let mut zeros = 0usize;
    for i in 0..n - 1 {
        let (h, beta, rho) = (model.thickness[i], model.vs[i], model.rho[i]);
        let mu = rho * beta * beta;
        let nu2 = k * k - (omega / beta).powi(2);
        let (cc, sc) = cosh_sinhc(nu2 * h * h);
        let v_next = cc * v + h / mu * sc * tau;
        let tau_next = mu * nu2 * h * sc * v + cc * tau;
        zeros += if nu2 < 0.0 {
            // v = R cos(ν' z − φ): zeros where ν' z − φ = π/2 + jπ, 0 < z ≤ h.
            let nu = (-nu2).sqrt();
            let phi = (tau / (mu * nu)).atan2(v);
            let count =
                |t: f64| ((t - phi - std::f64::consts::FRAC_PI_2) / std::f64::consts::PI).floor();
            (count(nu * h) - count(0.0)) as usize
        } else {
            // At most one zero of A e^{νz} + B e^{−νz} (or of a line).
            usize::from(v * v_next < 0.0)
        };
        let size = v_next.abs().max(tau_next.abs() / (mu * k));
        let s = if size > 0.0 && size.is_finite() {
            1.0 / size
        } else {
            1.0
        };
        v = v_next * s;
        tau = tau_next * s;
    }
    let (beta, rho) = (model.vs[n - 1], model.rho[n - 1]);
    let nu = (k * k - (omega / beta).powi(2)).sqrt();
    let f = tau + rho * beta * beta * nu * v;
    zeros + usize::from(f * v < 0.0)
}

/// A bracket [lo, hi] of Love mode `mode` at `omega` in which F changes sign, found by bisecting
/// on the mode count; `None` where the mode does not exist.
pub fn love_bracket(model: &LayeredModel, omega: f64, mode: usize) -> Option<(f64, f64)> {
    let n = model.n_layers();
    let beta_min = model.vs.iter().copied().fold(f64::INFINITY, f64::min);
    // Up to the slowest shear velocity all layers are evanescent and no mode is slower.
    let (mut lo, mut count_lo) = (beta_min, 0);
    let mut hi = model.vs[n - 1] * (1.0 - 1e-12);
    let mut count_hi = love_mode_count(model, hi, omega);
    if count_hi <= mode {
        return None;
    }
    let rows = model.rows::<f64>();
    let f = |c: f64| love_secular(&rows, c, omega);
    loop {
        // Exactly one root between the ends: F changes sign across them.
        if count_lo == mode && count_hi == mode + 1 && f(lo) * f(hi) < 0.0 {
            return Some((lo, hi));
        }
        if hi - lo < 1e-14 * hi {
            return Some((lo, hi));
        }
        let mid = 0.5 * (lo + hi);
        let count = love_mode_count(model, mid, omega);
        if count <= mode {
            (lo, count_lo) = (mid, count);
        } else {
            (hi, count_hi) = (mid, count);
        }
    }
}
