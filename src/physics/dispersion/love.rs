//! Love waves in a stack of isotropic layers over a half-space (Thomson–Haskell propagation of
//! the SH displacement–traction vector), with the mode count of a Sturm–Liouville problem.
//!
//! With k = ω/c and ν_i² = k² − ω²/β_i², the vector (v, τ = μ v') crosses layer i as
//!
//! ```text
//!   v' = C v + (h/μ) S τ,   τ' = μ ν² h S v + C τ,   C = cosh √x, S = sinh √x / √x, x = ν² h²
//! ```
//!
//! from (1, 0) at the free surface; the secular function is F(c) = τ + μ_n ν_n v at the top of
//! the half-space (decay there). For fixed ω the SH problem is a Sturm–Liouville problem in k²,
//! so, by the Prüfer angle of (v, τ), the number of modes slower than c is
//!
//! ```text
//!   N(c) = (zeros of v above the half-space) + [F(c) · v(half-space top) < 0],
//! ```
//!
//! non-decreasing in c and jumping by one at each root: mode n is found by bisecting on N, never
//! by following a curve, so no mode is skipped or swapped, low-velocity layers included.

use super::scalar::{Scalar, cosh_sinhc};

/// A layered medium for Love waves: thickness (km; the last layer is the half-space and its
/// thickness is ignored), shear velocity (km/s) and density (g/cm³), top down.
#[derive(Debug, Clone, PartialEq)]
pub struct ShLayers {
    pub thickness: Vec<f64>,
    pub vs: Vec<f64>,
    pub rho: Vec<f64>,
}

/// The secular function F and the displacement v at the half-space top, for phase velocity `c`
/// and angular frequency `omega`, over any scalar type (f64, or duals for derivatives).
/// `layers` gives (thickness, vs, rho) per layer as scalars. The vector is rescaled by positive
/// constants on the way down (it grows like exp(ν h)); F's sign and its roots do not change.
pub fn secular<S: Scalar>(layers: &[(S, S, S)], c: S, omega: S) -> (S, S) {
    let k = omega / c;
    let k2 = k * k;
    let mut v = S::constant(1.0);
    let mut tau = S::constant(0.0);
    let n = layers.len();
    for &(h, beta, rho) in &layers[..n - 1] {
        let mu = rho * beta * beta;
        let w = omega / beta;
        let nu2 = k2 - w * w;
        let (cc, sc) = cosh_sinhc(nu2 * h * h);
        let v_next = cc * v + h / mu * sc * tau;
        let tau_next = mu * nu2 * h * sc * v + cc * tau;
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
    let (_, beta, rho) = layers[n - 1];
    let w = omega / beta;
    let nu = (k2 - w * w).sqrt();
    let mu = rho * beta * beta;
    (tau + mu * nu * v, v)
}

impl ShLayers {
    fn as_scalars(&self) -> Vec<(f64, f64, f64)> {
        (0..self.vs.len())
            .map(|i| (self.thickness[i], self.vs[i], self.rho[i]))
            .collect()
    }

    /// The number of Love modes with phase velocity below `c` at angular frequency `omega`
    /// (`c` below the half-space's shear velocity).
    pub fn mode_count(&self, c: f64, omega: f64) -> usize {
        let n = self.vs.len();
        let k = omega / c;
        let (mut v, mut tau) = (1.0f64, 0.0f64);
        let mut zeros = 0usize;
        for i in 0..n - 1 {
            let (h, beta, rho) = (self.thickness[i], self.vs[i], self.rho[i]);
            let mu = rho * beta * beta;
            let nu2 = k * k - (omega / beta).powi(2);
            let (cc, sc) = cosh_sinhc(nu2 * h * h);
            let v_next = cc * v + h / mu * sc * tau;
            let tau_next = mu * nu2 * h * sc * v + cc * tau;
            zeros += if nu2 < 0.0 {
                // v = R cos(ν' z − φ): zeros where ν' z − φ = π/2 + jπ, 0 < z ≤ h.
                let nu = (-nu2).sqrt();
                let phi = (tau / (mu * nu)).atan2(v);
                let count = |t: f64| {
                    ((t - phi - std::f64::consts::FRAC_PI_2) / std::f64::consts::PI).floor()
                };
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
        let (beta, rho) = (self.vs[n - 1], self.rho[n - 1]);
        let nu = (k * k - (omega / beta).powi(2)).sqrt();
        let f = tau + rho * beta * beta * nu * v;
        zeros + usize::from(f * v < 0.0)
    }

    fn f(&self, c: f64, omega: f64) -> f64 {
        secular(&self.as_scalars(), c, omega).0
    }

    /// Phase velocity (km/s) of mode `mode` (0 = fundamental) at period `period` (s); `None`
    /// where the mode does not exist (its phase velocity would reach the half-space's).
    pub fn phase_velocity(&self, period: f64, mode: usize) -> Option<f64> {
        let omega = 2.0 * std::f64::consts::PI / period;
        let beta_half = self.vs[self.vs.len() - 1];
        let beta_min = self.vs.iter().copied().fold(f64::INFINITY, f64::min);
        // Below every shear velocity all layers are evanescent and no mode is slower.
        let mut lo = 0.5 * beta_min;
        let mut hi = beta_half * (1.0 - 1e-12);
        if self.mode_count(hi, omega) <= mode {
            return None;
        }
        debug_assert_eq!(self.mode_count(lo, omega), 0);
        // Bisect on the mode count until F changes sign across a short bracket.
        loop {
            let mid = 0.5 * (lo + hi);
            if self.mode_count(mid, omega) <= mode {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-4 * hi && self.f(lo, omega) * self.f(hi, omega) < 0.0 {
                break;
            }
            if hi - lo < 1e-15 * hi {
                return Some(0.5 * (lo + hi));
            }
        }
        Some(refine_root(|c| self.f(c, omega), lo, hi))
    }

    /// Group velocity U = dω/dk (km/s) of mode `mode` at `period`, from the implicit derivative
    /// of F(c, ω) = 0 at the phase velocity: dc/dω = −F_ω / F_c, U = c / (1 − (ω/c) dc/dω).
    pub fn group_velocity(&self, period: f64, mode: usize) -> Option<f64> {
        use super::dual::Dual;
        let c = self.phase_velocity(period, mode)?;
        let omega = 2.0 * std::f64::consts::PI / period;
        let layers: Vec<(Dual<f64, 2>, Dual<f64, 2>, Dual<f64, 2>)> = self
            .as_scalars()
            .into_iter()
            .map(|(h, b, r)| (Dual::constant(h), Dual::constant(b), Dual::constant(r)))
            .collect();
        let (f, _) = secular(&layers, Dual::variable(c, 0), Dual::variable(omega, 1));
        let dc_domega = -f.d[1] / f.d[0];
        Some(c / (1.0 - omega / c * dc_domega))
    }
}

/// ∂c/∂(thickness, vs, rho) of one layer for a Love mode (the half-space's thickness is not a
/// parameter: its entry is zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSensitivity {
    pub thickness: f64,
    pub vs: f64,
    pub rho: f64,
}

impl ShLayers {
    /// Phase velocity of mode `mode` at `period` and its derivatives with respect to every
    /// layer's thickness, shear velocity and density, by implicit differentiation of
    /// F(c; p) = 0: ∂c/∂p = −F_p / F_c (each F_p from one dual evaluation).
    pub fn phase_velocity_gradient(
        &self,
        period: f64,
        mode: usize,
    ) -> Option<(f64, Vec<LayerSensitivity>)> {
        use super::dual::Dual;
        let c = self.phase_velocity(period, mode)?;
        let omega = Dual::<f64, 2>::constant(2.0 * std::f64::consts::PI / period);
        let base = self.as_scalars();
        let n = base.len();
        // Derivative 0: c; derivative 1: the parameter (layer i, property q).
        let partial = |i: usize, q: usize| -> (f64, f64) {
            let layers: Vec<(Dual<f64, 2>, Dual<f64, 2>, Dual<f64, 2>)> = base
                .iter()
                .enumerate()
                .map(|(j, &(h, b, r))| {
                    let pick = |value: f64, which: usize| {
                        if j == i && q == which {
                            Dual::variable(value, 1)
                        } else {
                            Dual::constant(value)
                        }
                    };
                    (pick(h, 0), pick(b, 1), pick(r, 2))
                })
                .collect();
            let (f, _) = secular(&layers, Dual::variable(c, 0), omega);
            (f.d[0], f.d[1])
        };
        let sensitivities = (0..n)
            .map(|i| {
                let dc = |q: usize| {
                    let (f_c, f_p) = partial(i, q);
                    -f_p / f_c
                };
                LayerSensitivity {
                    thickness: if i + 1 < n { dc(0) } else { 0.0 },
                    vs: dc(1),
                    rho: dc(2),
                }
            })
            .collect();
        Some((c, sensitivities))
    }
}

impl ShLayers {
    /// Group velocity of mode `mode` at `period` and its derivatives with respect to every
    /// layer's thickness, shear velocity and density. With c_ω = −F_ω/F_c and
    /// U = c / (1 − ω c_ω / c), the total derivative along the root c(p) needs F's second
    /// derivatives in (c, ω, p), which one nested-dual evaluation per parameter gives.
    pub fn group_velocity_gradient(
        &self,
        period: f64,
        mode: usize,
    ) -> Option<(f64, Vec<LayerSensitivity>)> {
        use super::dual::{Dual, hyper_variable};
        type H = Dual<Dual<f64, 3>, 3>;
        let c = self.phase_velocity(period, mode)?;
        let omega = 2.0 * std::f64::consts::PI / period;
        let base = self.as_scalars();
        let n = base.len();
        let mut u = f64::NAN;
        let mut derivative = |i: usize, q: usize| -> f64 {
            let layers: Vec<(H, H, H)> = base
                .iter()
                .enumerate()
                .map(|(j, &(h, b, r))| {
                    let pick = |value: f64, which: usize| {
                        if j == i && q == which {
                            hyper_variable(value, 2)
                        } else {
                            H::constant(value)
                        }
                    };
                    (pick(h, 0), pick(b, 1), pick(r, 2))
                })
                .collect();
            let (f, _) = secular(&layers, hyper_variable(c, 0), hyper_variable(omega, 1));
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
            (dc_dp * denominator - c * d_denominator) / (denominator * denominator)
        };
        let sensitivities = (0..n)
            .map(|i| LayerSensitivity {
                thickness: if i + 1 < n { derivative(i, 0) } else { 0.0 },
                vs: derivative(i, 1),
                rho: derivative(i, 2),
            })
            .collect();
        Some((u, sensitivities))
    }
}

/// A root of `f` in [a, b], where f changes sign, by the Illinois variant of regula falsi
/// (the bracket always holds the root; superlinear), to a few ulps.
fn refine_root(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let (mut fa, mut fb) = (f(a), f(b));
    debug_assert!(fa * fb < 0.0, "the bracket must hold a sign change");
    let mut last = 0i8;
    for _ in 0..200 {
        let c = (a * fb - b * fa) / (fb - fa);
        let fc = f(c);
        if fc == 0.0 || (b - a).abs() <= 4.0 * f64::EPSILON * c.abs() {
            return c;
        }
        if fc * fb > 0.0 {
            b = c;
            fb = fc;
            if last == -1 {
                fa *= 0.5;
            }
            last = -1;
        } else {
            a = c;
            fa = fc;
            if last == 1 {
                fb *= 0.5;
            }
            last = 1;
        }
    }
    0.5 * (a + b)
}
