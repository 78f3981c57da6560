//! Dispersion curves: phase and group velocities of Love and Rayleigh modes and their gradients
//! with respect to every layer's thickness, Vp, Vs and density.
//!
//! A phase velocity is a root of the secular function F(c, ω) (bracketed by the wave's own mode
//! counting, refined by Brent's method); everything else is implicit differentiation of
//! F(c, ω; p) = 0 with dual numbers: ∂c/∂p = −F_p/F_c, c_ω = −F_ω/F_c and U = c/(1 − ω c_ω/c),
//! and the group velocity's gradient from F's second derivatives (nested duals).

use super::dual::{Dual, hyper_variable};
use super::love::{love_bracket, love_secular};
use super::model::{LayerSensitivity, LayeredModel, THICKNESS};
use super::rayleigh::{rayleigh_bracket, rayleigh_secular};
use super::scalar::Scalar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wave {
    Love,
    Rayleigh,
}

fn secular<S: Scalar>(wave: Wave, rows: &[[S; 4]], c: S, omega: S) -> S {
    match wave {
        Wave::Love => love_secular(rows, c, omega),
        Wave::Rayleigh => rayleigh_secular(rows, c, omega),
    }
}

fn angular(period: f64) -> f64 {
    2.0 * std::f64::consts::PI / period
}

/// Phase velocity (km/s) of `mode` (0 = fundamental) at `period` (s); `None` where the mode
/// does not exist (its phase velocity would reach the half-space's Vs).
pub fn phase_velocity(model: &LayeredModel, wave: Wave, period: f64, mode: usize) -> Option<f64> {
    let omega = angular(period);
    let (lo, hi) = match wave {
        Wave::Love => love_bracket(model, omega, mode)?,
        Wave::Rayleigh => rayleigh_bracket(model, omega, mode)?,
    };
    let rows = model.rows::<f64>();
    Some(refine_root(|c| secular(wave, &rows, c, omega), lo, hi))
}

/// Group velocity U = dω/dk (km/s), from the implicit derivative of F(c, ω) = 0.
pub fn group_velocity(model: &LayeredModel, wave: Wave, period: f64, mode: usize) -> Option<f64> {
    let c = phase_velocity(model, wave, period, mode)?;
    let omega = angular(period);
    let f = secular(
        wave,
        &model.rows::<Dual<f64, 2>>(),
        Dual::variable(c, 0),
        Dual::variable(omega, 1),
    );
    let c_omega = -f.d[1] / f.d[0];
    Some(c / (1.0 - omega / c * c_omega))
}

/// Rows with the single property (`layer`, `property`) made the dual variable `k`.
fn rows_with_variable<S: Scalar>(
    model: &LayeredModel,
    layer: usize,
    property: usize,
    variable: impl Fn(f64) -> S,
) -> Vec<[S; 4]> {
    let mut rows = model.rows::<S>();
    let value = [
        model.thickness[layer],
        model.vp[layer],
        model.vs[layer],
        model.rho[layer],
    ][property];
    rows[layer][property] = variable(value);
    rows
}

/// The parameters (layer, property) a curve depends on: every property of every layer but the
/// half-space's thickness.
fn parameters(model: &LayeredModel) -> impl Iterator<Item = (usize, usize)> + '_ {
    let n = model.n_layers();
    (0..n)
        .flat_map(move |i| (0..4).map(move |q| (i, q)))
        .filter(move |&(i, q)| !(i + 1 == n && q == THICKNESS))
}

/// Phase velocity and ∂c/∂(thickness, vp, vs, rho) of every layer.
pub fn phase_velocity_gradient(
    model: &LayeredModel,
    wave: Wave,
    period: f64,
    mode: usize,
) -> Option<(f64, Vec<LayerSensitivity>)> {
    let c = phase_velocity(model, wave, period, mode)?;
    let omega = Dual::<f64, 2>::constant(angular(period));
    let mut grad = vec![LayerSensitivity::default(); model.n_layers()];
    for (i, q) in parameters(model) {
        let rows = rows_with_variable(model, i, q, |v| Dual::<f64, 2>::variable(v, 1));
        let f = secular(wave, &rows, Dual::variable(c, 0), omega);
        grad[i].set(q, -f.d[1] / f.d[0]);
    }
    Some((c, grad))
}

/// Group velocity and ∂U/∂(thickness, vp, vs, rho) of every layer: along the root c(p),
/// dc_ω/dp = G_c ∂c/∂p + G_p with G = −F_ω/F_c, from F's second derivatives in (c, ω, p).
pub fn group_velocity_gradient(
    model: &LayeredModel,
    wave: Wave,
    period: f64,
    mode: usize,
) -> Option<(f64, Vec<LayerSensitivity>)> {
    type H = Dual<Dual<f64, 3>, 3>;
    let c = phase_velocity(model, wave, period, mode)?;
    let omega = angular(period);
    let mut u = f64::NAN;
    let mut grad = vec![LayerSensitivity::default(); model.n_layers()];
    for (i, q) in parameters(model) {
        let rows: Vec<[H; 4]> = rows_with_variable(model, i, q, |v| hyper_variable(v, 2));
        let f = secular(wave, &rows, hyper_variable(c, 0), hyper_variable(omega, 1));
        let (f_c, f_w, f_p) = (f.d[0].v, f.d[1].v, f.d[2].v);
        let (f_cc, f_cw, f_cp, f_wp) = (f.d[0].d[0], f.d[0].d[1], f.d[0].d[2], f.d[1].d[2]);
        let dc_dp = -f_p / f_c;
        let c_w = -f_w / f_c;
        let g_c = -(f_cw * f_c - f_w * f_cc) / (f_c * f_c);
        let g_p = -(f_wp * f_c - f_w * f_cp) / (f_c * f_c);
        let dcw_dp = g_c * dc_dp + g_p;
        let denominator = 1.0 - omega * c_w / c;
        u = c / denominator;
        let d_denominator = -omega * (dcw_dp * c - c_w * dc_dp) / (c * c);
        grad[i].set(
            q,
            (dc_dp * denominator - c * d_denominator) / (denominator * denominator),
        );
    }
    Some((u, grad))
}

/// A root of `f` in [a, b], where f changes sign, by Brent's method (inverse quadratic
/// interpolation and secant steps, falling back to bisection whenever they do not shrink the
/// bracket fast enough; the bracket always holds the root), to a few ulps. The secular
/// functions are rescaled on the way down, so they are far from linear across a wide bracket:
/// plain regula falsi needed up to 60 evaluations where this needs about a dozen.
pub(crate) fn refine_root(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let (mut a, mut b) = (a, b);
    let (mut fa, mut fb) = (f(a), f(b));
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    debug_assert!(fa * fb < 0.0, "the bracket must hold a sign change");
    // b: best estimate; c: the other end of the bracket; a: the previous b.
    let (mut c, mut fc) = (a, fa);
    let mut step = b - a;
    let mut step_before = step;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            (c, fc) = (a, fa);
            step = b - a;
            step_before = step;
        }
        if fc.abs() < fb.abs() {
            (a, fa) = (b, fb);
            (b, fb) = (c, fc);
            (c, fc) = (a, fa);
        }
        let tol = 2.0 * f64::EPSILON * b.abs();
        let half = 0.5 * (c - b);
        if half.abs() <= tol || fb == 0.0 {
            return b;
        }
        if step_before.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * half * s, 1.0 - s)
            } else {
                let (qa, r) = (fa / fc, fb / fc);
                (
                    s * (2.0 * half * qa * (qa - r) - (b - a) * (r - 1.0)),
                    (qa - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * half * q - (tol * q).abs()).min((step_before * q).abs()) {
                step_before = step;
                step = p / q;
            } else {
                step = half;
                step_before = half;
            }
        } else {
            step = half;
            step_before = half;
        }
        (a, fa) = (b, fb);
        b += if step.abs() > tol {
            step
        } else {
            tol.copysign(half)
        };
        fb = f(b);
    }
    b
}
