//! Planar and radial flows (Rezende & Mohamed 2015), each invertible by construction:
//!
//! - planar: y = z + û tanh(wᵀz + b), with û = u + (m(wᵀu) − wᵀu) w/‖w‖² and
//!   m(a) = −1 + softplus(a), so that wᵀû ≥ −1; log|det| = log(1 + (1 − tanh²) wᵀû); the
//!   inverse solves the monotone scalar equation for a = wᵀz + b by bisection;
//! - radial: y = z + β h (z − z₀), h = 1/(α + r), r = ‖z − z₀‖, α = softplus(α̂),
//!   β = −α + softplus(β̂) ≥ −α; log|det| = (D − 1) log(1 + βh) + log(1 + αβh²); the inverse
//!   is the positive root of a quadratic in r.
//!
//! Both start at the identity (planar: u = ln(e − 1) w/‖w‖², so û = 0; radial: α̂ = β̂ = 0,
//! so β = 0).

use ndarray::{ArrayView1, ArrayViewMut1};

use super::Layer;

fn softplus(a: f64) -> f64 {
    if a > 30.0 { a } else { a.exp().ln_1p() }
}

fn sigmoid(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

fn dot(a: &[f64], b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

/// Parameters (u, w, b).
#[derive(Debug, Clone)]
pub struct Planar {
    pub dim: usize,
}

impl Planar {
    /// û and its pieces: (û, s = wᵀu, ‖w‖²).
    fn u_hat(&self, theta: &[f64]) -> (Vec<f64>, f64, f64) {
        let d = self.dim;
        let (u, w) = (&theta[..d], &theta[d..2 * d]);
        let s: f64 = u.iter().zip(w).map(|(a, b)| a * b).sum();
        let n2: f64 = w.iter().map(|v| v * v).sum();
        let f = -1.0 + softplus(s) - s;
        ((0..d).map(|i| u[i] + f * w[i] / n2).collect(), s, n2)
    }
}

impl Layer for Planar {
    fn kind(&self) -> &'static str {
        "planar"
    }

    fn n_params(&self) -> usize {
        2 * self.dim + 1
    }

    fn init(&self, theta: &mut [f64]) {
        let d = self.dim;
        // A fixed direction w; u along it so that m(wᵀu) = 0, i.e. û = 0.
        let w: Vec<f64> = (0..d)
            .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let n2: f64 = w.iter().map(|v| v * v).sum();
        let a0 = (std::f64::consts::E - 1.0).ln();
        for i in 0..d {
            theta[i] = a0 * w[i] / n2;
            theta[d + i] = w[i];
        }
        theta[2 * d] = 0.0;
    }

    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        let d = self.dim;
        let (u_hat, _, _) = self.u_hat(theta);
        let w = &theta[d..2 * d];
        let h = (dot(w, z) + theta[2 * d]).tanh();
        for i in 0..d {
            y[i] = z[i] + u_hat[i] * h;
        }
        let wu: f64 = w.iter().zip(&u_hat).map(|(a, b)| a * b).sum();
        (1.0 + (1.0 - h * h) * wu).ln()
    }

    fn backward(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        y_bar: ArrayView1<f64>,
        log_det_bar: f64,
        mut z_bar: ArrayViewMut1<f64>,
        theta_bar: &mut [f64],
    ) {
        let d = self.dim;
        let (u_hat, s, n2) = self.u_hat(theta);
        let (u, w) = (&theta[..d], &theta[d..2 * d]);
        let h = (dot(w, z) + theta[2 * d]).tanh();
        let hp = 1.0 - h * h;
        let wu: f64 = w.iter().zip(&u_hat).map(|(a, b)| a * b).sum();
        let denom = 1.0 + hp * wu;
        let uy: f64 = u_hat.iter().zip(y_bar.iter()).map(|(a, b)| a * b).sum();
        // ∂L/∂a with a = wᵀz + b, from y and from the log-determinant.
        let a_bar = hp * uy + log_det_bar * (-2.0 * h * hp * wu) / denom;
        for i in 0..d {
            z_bar[i] = y_bar[i] + w[i] * a_bar;
        }
        // ∂L/∂û, and ∂L/∂w holding û.
        let u_hat_bar: Vec<f64> = (0..d)
            .map(|i| y_bar[i] * h + log_det_bar * hp * w[i] / denom)
            .collect();
        let mut w_bar: Vec<f64> = (0..d)
            .map(|i| a_bar * z[i] + log_det_bar * hp * u_hat[i] / denom)
            .collect();
        // Through û = u + f(s) w/‖w‖², f = m(s) − s, s = wᵀu.
        let f = -1.0 + softplus(s) - s;
        let fp = sigmoid(s) - 1.0;
        let w_ub: f64 = w.iter().zip(&u_hat_bar).map(|(a, b)| a * b).sum();
        for i in 0..d {
            theta_bar[i] += u_hat_bar[i] + fp * w[i] * w_ub / n2;
            w_bar[i] +=
                fp * u[i] * w_ub / n2 + f * u_hat_bar[i] / n2 - 2.0 * f * w[i] * w_ub / (n2 * n2);
            theta_bar[d + i] += w_bar[i];
        }
        theta_bar[2 * d] += a_bar;
    }

    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        let d = self.dim;
        let (u_hat, _, _) = self.u_hat(theta);
        let w = &theta[d..2 * d];
        let b = theta[2 * d];
        let wu: f64 = w.iter().zip(&u_hat).map(|(p, q)| p * q).sum();
        // a + wᵀû tanh(a) = wᵀy + b, increasing in a, with the root within |wᵀû| of c.
        let c = dot(w, y) + b;
        let (mut lo, mut hi) = (c - wu.abs() - 1e-12, c + wu.abs() + 1e-12);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid + wu * mid.tanh() < c {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo <= f64::EPSILON * (1.0 + c.abs()) {
                break;
            }
        }
        let h = (0.5 * (lo + hi)).tanh();
        for i in 0..d {
            z[i] = y[i] - u_hat[i] * h;
        }
    }
    fn push_score(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        mut out: ArrayViewMut1<f64>,
    ) {
        // J = I + h' û wᵀ, so J⁻ᵀ v = v − h' w (ûᵀv)/(1 + h' ûᵀw) (Sherman–Morrison).
        let d = self.dim;
        let v = score.to_owned() - super::log_det_gradient(self, theta, z);
        let (u_hat, _, _) = self.u_hat(theta);
        let w = &theta[d..2 * d];
        let h = (dot(w, z) + theta[2 * d]).tanh();
        let hp = 1.0 - h * h;
        let wu: f64 = w.iter().zip(&u_hat).map(|(a, b)| a * b).sum();
        let uv = dot(&u_hat, v.view());
        for i in 0..d {
            out[i] = v[i] - hp * w[i] * uv / (1.0 + hp * wu);
        }
    }
}

/// Parameters (z₀, α̂, β̂).
#[derive(Debug, Clone)]
pub struct Radial {
    pub dim: usize,
}

impl Radial {
    fn alpha_beta(&self, theta: &[f64]) -> (f64, f64) {
        let d = self.dim;
        let alpha = softplus(theta[d]);
        (alpha, -alpha + softplus(theta[d + 1]))
    }
}

impl Layer for Radial {
    fn kind(&self) -> &'static str {
        "radial"
    }

    fn n_params(&self) -> usize {
        self.dim + 2
    }

    fn init(&self, theta: &mut [f64]) {
        theta.fill(0.0);
    }

    fn place(&self, theta: &mut [f64], mean: &[f64], _scale: &[f64]) -> bool {
        // The centre at the prior's mean; still the identity (β = 0), so not a placement.
        theta[..self.dim].copy_from_slice(mean);
        false
    }

    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        let d = self.dim;
        let (alpha, beta) = self.alpha_beta(theta);
        let r = (0..d)
            .map(|i| (z[i] - theta[i]).powi(2))
            .sum::<f64>()
            .sqrt();
        let h = 1.0 / (alpha + r);
        for i in 0..d {
            y[i] = z[i] + beta * h * (z[i] - theta[i]);
        }
        (d as f64 - 1.0) * (1.0 + beta * h).ln() + (1.0 + alpha * beta * h * h).ln()
    }

    fn backward(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        y_bar: ArrayView1<f64>,
        log_det_bar: f64,
        mut z_bar: ArrayViewMut1<f64>,
        theta_bar: &mut [f64],
    ) {
        let d = self.dim;
        let dm1 = d as f64 - 1.0;
        let (alpha, beta) = self.alpha_beta(theta);
        let diff: Vec<f64> = (0..d).map(|i| z[i] - theta[i]).collect();
        let r = diff.iter().map(|v| v * v).sum::<f64>().sqrt();
        let h = 1.0 / (alpha + r);
        let hp = -h * h;
        let (p, q) = (1.0 + beta * h, 1.0 + alpha * beta * h * h);
        let dy: f64 = diff.iter().zip(y_bar.iter()).map(|(a, b)| a * b).sum();
        // ∂ log-det / ∂r, and the radial part of z̄ (zero at the centre).
        let ld_r = dm1 * beta * hp / p + 2.0 * alpha * beta * h * hp / q;
        let radial = if r > 0.0 {
            (beta * hp * dy + log_det_bar * ld_r) / r
        } else {
            0.0
        };
        for i in 0..d {
            z_bar[i] = p * y_bar[i] + radial * diff[i];
            // y and the log-det depend on z₀ only through z − z₀.
            theta_bar[i] += y_bar[i] - z_bar[i];
        }
        let alpha_bar = beta * dy * hp
            + log_det_bar
                * (dm1 * beta * hp / p + (beta * h * h + 2.0 * alpha * beta * h * hp) / q);
        let beta_bar = h * dy + log_det_bar * (dm1 * h / p + alpha * h * h / q);
        let (sa, sb) = (sigmoid(theta[d]), sigmoid(theta[d + 1]));
        theta_bar[d] += sa * (alpha_bar - beta_bar);
        theta_bar[d + 1] += sb * beta_bar;
    }

    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        let d = self.dim;
        let (alpha, beta) = self.alpha_beta(theta);
        let rho = (0..d)
            .map(|i| (y[i] - theta[i]).powi(2))
            .sum::<f64>()
            .sqrt();
        // r² + (α + β − ρ) r − ρα = 0, the positive root in a cancellation-free form.
        let b = alpha + beta - rho;
        let disc = (b * b + 4.0 * rho * alpha).sqrt();
        let r = if b > 0.0 {
            2.0 * rho * alpha / (b + disc)
        } else {
            0.5 * (disc - b)
        };
        let scale = 1.0 + beta / (alpha + r);
        for i in 0..d {
            z[i] = theta[i] + (y[i] - theta[i]) / scale;
        }
    }
    fn push_score(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        mut out: ArrayViewMut1<f64>,
    ) {
        // J = p I + c ê êᵀ (symmetric), p = 1 + βh, c = β h'(r) r, ê = (z − z₀)/r, so
        // J⁻ᵀ v = (v − c/(p + c) ê (êᵀv))/p.
        let d = self.dim;
        let v = score.to_owned() - super::log_det_gradient(self, theta, z);
        let (alpha, beta) = self.alpha_beta(theta);
        let diff: Vec<f64> = (0..d).map(|i| z[i] - theta[i]).collect();
        let r2: f64 = diff.iter().map(|x| x * x).sum();
        let r = r2.sqrt();
        let h = 1.0 / (alpha + r);
        let p = 1.0 + beta * h;
        let c = -beta * h * h * r;
        let radial = if r > 0.0 {
            c / (p + c) * dot(&diff, v.view()) / r2
        } else {
            0.0
        };
        for i in 0..d {
            out[i] = (v[i] - radial * diff[i]) / p;
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;
    use crate::inference::flows::check;

    #[test]
    fn planar_and_radial_layers_pass_the_layer_checks() {
        let z = Array1::from(vec![0.5, -1.2, 0.8, 1.9]);
        let planar = Planar { dim: 4 };
        for shift in [0.0, 0.7] {
            let theta: Vec<f64> = (0..planar.n_params())
                .map(|k| 0.4 * ((k as f64) * 1.3 + shift).sin())
                .collect();
            check::layer(&planar, &theta, &z);
        }
        let radial = Radial { dim: 4 };
        for (a, b) in [(0.3, 0.9), (-0.5, -0.2)] {
            let theta = vec![0.2, -0.1, 0.3, 0.5, a, b];
            check::layer(&radial, &theta, &z);
        }
    }

    #[test]
    fn fresh_planar_and_radial_layers_are_the_identity() {
        let z = Array1::from(vec![0.3, -2.0, 1.5]);
        for layer in [&Planar { dim: 3 } as &dyn Layer, &Radial { dim: 3 }] {
            let mut theta = vec![0.0; layer.n_params()];
            layer.init(&mut theta);
            let mut y = Array1::zeros(3);
            let log_det = layer.forward(&theta, z.view(), y.view_mut());
            assert!(log_det.abs() <= 1e-12, "{}: {log_det}", layer.kind());
            for i in 0..3 {
                assert!((y[i] - z[i]).abs() <= 1e-12, "{}", layer.kind());
            }
        }
    }
}
