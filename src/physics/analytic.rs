//! Analytic log-likelihoods with their gradients: the targets of the `analytic` problem kind,
//! on which every method is tested against known posteriors and evidences. Each function
//! returns log L(m) and writes ∂ log L / ∂m into `grad`.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1};

use super::{ForwardModel, Linearization, PhysicsError};

/// The forward model of an analytic problem: parameters, no data (the likelihood is the
/// target itself).
pub struct NoData {
    n_params: usize,
}

impl NoData {
    pub fn new(n_params: usize) -> Self {
        NoData { n_params }
    }
}

struct NoDataTape;

impl Linearization for NoDataTape {
    fn data(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&[])
    }
    fn vjp_into(&self, _cotangent: ArrayView1<f64>, mut grad: ArrayViewMut1<f64>) {
        grad.fill(0.0);
    }
}

impl ForwardModel for NoData {
    fn n_params(&self) -> usize {
        self.n_params
    }
    fn n_data(&self) -> usize {
        0
    }
    fn forward_into(
        &self,
        _m: ArrayView1<f64>,
        _d: ArrayViewMut1<f64>,
    ) -> Result<(), PhysicsError> {
        Ok(())
    }
    fn linearize(&self, _m: ArrayView1<f64>) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        Ok(Box::new(NoDataTape))
    }
}

const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// A Gaussian with mean μ, stds s and an AR(1) correlation ρ^|i−j| along the parameter index:
/// log L = −½ zᵀ R⁻¹ z with z = (m − μ)/s, whose precision is tridiagonal,
/// zᵀR⁻¹z = [Σ zᵢ² + ρ² Σ_{1<i<D} zᵢ² − 2ρ Σ zᵢ zᵢ₊₁] / (1 − ρ²); with `normalised`,
/// − Σ log(sᵢ √2π) − ½ (D − 1) log(1 − ρ²) is added.
pub fn gaussian_ar1(
    m: ArrayView1<f64>,
    mean: ArrayView1<f64>,
    std: ArrayView1<f64>,
    rho: f64,
    normalised: bool,
    mut grad: ArrayViewMut1<f64>,
) -> f64 {
    let d = m.len();
    let z: Vec<f64> = (0..d).map(|i| (m[i] - mean[i]) / std[i]).collect();
    let scale = 1.0 / (1.0 - rho * rho);
    let mut quad = 0.0;
    for i in 0..d {
        let interior = i > 0 && i + 1 < d;
        let diag = if interior { 1.0 + rho * rho } else { 1.0 };
        let mut pz = diag * z[i];
        if i > 0 {
            pz -= rho * z[i - 1];
        }
        if i + 1 < d {
            pz -= rho * z[i + 1];
        }
        pz *= scale;
        quad += z[i] * pz;
        grad[i] = -pz / std[i];
    }
    let mut log_l = -0.5 * quad;
    if normalised {
        log_l -= std.iter().map(|s| s.ln()).sum::<f64>() + 0.5 * d as f64 * LN_2PI;
        log_l -= 0.5 * (d.saturating_sub(1)) as f64 * (1.0 - rho * rho).ln();
    }
    log_l
}

/// A normalised mixture Σ_k w_k N(m; μ_k, s_k² I) (means K × D), by log-sum-exp.
pub fn mixture(
    m: ArrayView1<f64>,
    weights: &[f64],
    means: ArrayView2<f64>,
    stds: &[f64],
    mut grad: ArrayViewMut1<f64>,
) -> f64 {
    let d = m.len();
    let logs: Vec<f64> = (0..weights.len())
        .map(|k| {
            let s = stds[k];
            let r2: f64 = (0..d).map(|j| (m[j] - means[[k, j]]).powi(2)).sum();
            weights[k].ln() - d as f64 * (s.ln() + 0.5 * LN_2PI) - 0.5 * r2 / (s * s)
        })
        .collect();
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logs.iter().map(|l| (l - top).exp()).sum();
    grad.fill(0.0);
    for (k, l) in logs.iter().enumerate() {
        let responsibility = (l - top).exp() / total;
        let inv_var = 1.0 / (stds[k] * stds[k]);
        for j in 0..d {
            grad[j] -= responsibility * (m[j] - means[[k, j]]) * inv_var;
        }
    }
    top + total.ln()
}

/// The banana −(x₁ − a)²/(2 s₁²) − (x₂ − b x₁²)²/(2 s₂²) − log(2π s₁ s₂) (normalised in 2-D).
pub fn banana(
    m: ArrayView1<f64>,
    a: f64,
    b: f64,
    s1: f64,
    s2: f64,
    mut grad: ArrayViewMut1<f64>,
) -> f64 {
    let u = (m[0] - a) / s1;
    let v = (m[1] - b * m[0] * m[0]) / s2;
    grad[0] = -u / s1 + v / s2 * 2.0 * b * m[0];
    grad[1] = -v / s2;
    -0.5 * (u * u + v * v) - (s1 * s2).ln() - LN_2PI
}

/// Gaussian shells (Feroz & Hobson 2008): L = Σ_c exp(−(|m − c| − r)²/(2w²)) / √(2π w²).
pub fn shells(
    m: ArrayView1<f64>,
    centres: ArrayView2<f64>,
    radius: f64,
    width: f64,
    mut grad: ArrayViewMut1<f64>,
) -> f64 {
    let d = m.len();
    let norm = -(width.ln() + 0.5 * LN_2PI);
    let terms: Vec<(f64, f64)> = (0..centres.nrows())
        .map(|c| {
            let dist = (0..d)
                .map(|j| (m[j] - centres[[c, j]]).powi(2))
                .sum::<f64>()
                .sqrt();
            let u = (dist - radius) / width;
            (norm - 0.5 * u * u, dist)
        })
        .collect();
    let top = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = terms.iter().map(|t| (t.0 - top).exp()).sum();
    grad.fill(0.0);
    for (c, &(log_term, dist)) in terms.iter().enumerate() {
        if dist == 0.0 {
            continue; // the gradient of |m − c| is undefined at the centre; 0 by convention
        }
        let weight = (log_term - top).exp() / total;
        let dl_ddist = -(dist - radius) / (width * width);
        for j in 0..d {
            grad[j] += weight * dl_ddist * (m[j] - centres[[c, j]]) / dist;
        }
    }
    top + total.ln()
}

/// The egg box: log L = (2 + cos(x/2) cos(y/2))⁵.
pub fn eggbox(m: ArrayView1<f64>, mut grad: ArrayViewMut1<f64>) -> f64 {
    let (cx, cy) = ((m[0] / 2.0).cos(), (m[1] / 2.0).cos());
    let (sx, sy) = ((m[0] / 2.0).sin(), (m[1] / 2.0).sin());
    let base = 2.0 + cx * cy;
    let d = 5.0 * base.powi(4);
    grad[0] = d * (-0.5 * sx * cy);
    grad[1] = d * (-0.5 * cx * sy);
    base.powi(5)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2, array};

    use super::*;

    /// Checks a target's gradient against central differences at `m`.
    fn check_gradient(f: &dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) -> f64, m: Array1<f64>) {
        let mut g = Array1::zeros(m.len());
        f(m.view(), g.view_mut());
        let mut scratch = Array1::zeros(m.len());
        let eps = 1e-6;
        for j in 0..m.len() {
            let (mut p, mut q) = (m.clone(), m.clone());
            p[j] += eps;
            q[j] -= eps;
            let fd =
                (f(p.view(), scratch.view_mut()) - f(q.view(), scratch.view_mut())) / (2.0 * eps);
            assert!(
                (fd - g[j]).abs() < 1e-6 * (1.0 + g[j].abs()),
                "param {j}: {fd} vs {}",
                g[j]
            );
        }
    }

    #[test]
    fn gradients_match_central_differences() {
        let mean = array![0.1, -0.2, 0.3, 0.0];
        let std = array![0.5, 1.0, 2.0, 0.7];
        check_gradient(
            &|m, g| gaussian_ar1(m, mean.view(), std.view(), 0.6, true, g),
            array![0.4, 0.1, -1.0, 0.8],
        );
        let means = array![[-2.0, 0.0], [2.0, 1.0]];
        check_gradient(
            &|m, g| mixture(m, &[0.3, 0.7], means.view(), &[0.5, 0.8], g),
            array![0.3, 0.4],
        );
        check_gradient(&|m, g| banana(m, 0.5, 1.5, 1.0, 0.3, g), array![0.7, -0.2]);
        let centres = array![[-3.5, 0.0], [3.5, 0.0]];
        check_gradient(
            &|m, g| shells(m, centres.view(), 2.0, 0.1, g),
            array![1.6, 0.3],
        );
        check_gradient(&|m, g| eggbox(m, g), array![1.3, 4.1]);
    }

    #[test]
    fn the_ar1_gaussian_is_the_dense_one() {
        // Dense R_ij = ρ^|i−j|: −½ zᵀR⁻¹z and −½ log|2π C| against a Cholesky solve.
        let (d, rho) = (5, 0.45f64);
        let r = Array2::from_shape_fn((d, d), |(i, j)| rho.powi((i as i32 - j as i32).abs()));
        let l = crate::core::linalg::cholesky(r.view()).unwrap();
        let z = array![0.3, -1.2, 0.5, 2.0, -0.1];
        let std = Array1::from_elem(d, 1.0);
        let mean = Array1::zeros(d);
        // Forward substitution L w = z, zᵀR⁻¹z = ‖w‖².
        let mut w = Array1::<f64>::zeros(d);
        for i in 0..d {
            let s: f64 = (0..i).map(|k| l[[i, k]] * w[k]).sum();
            w[i] = (z[i] - s) / l[[i, i]];
        }
        let log_det: f64 = (0..d).map(|i| 2.0 * l[[i, i]].ln()).sum();
        let expect = -0.5 * w.dot(&w) - 0.5 * log_det - 0.5 * d as f64 * LN_2PI;
        let mut g = Array1::zeros(d);
        let got = gaussian_ar1(z.view(), mean.view(), std.view(), rho, true, g.view_mut());
        assert!((got - expect).abs() < 1e-12, "{got} vs {expect}");
    }

    #[test]
    fn normalised_targets_integrate_to_one() {
        // 2-D midpoint quadrature on a box holding all the mass.
        let integrate =
            |f: &dyn Fn(ArrayView1<f64>) -> f64, lo: [f64; 2], hi: [f64; 2], n: usize| {
                let h = [(hi[0] - lo[0]) / n as f64, (hi[1] - lo[1]) / n as f64];
                let mut sum = 0.0;
                for i in 0..n {
                    for j in 0..n {
                        let m = array![
                            lo[0] + (i as f64 + 0.5) * h[0],
                            lo[1] + (j as f64 + 0.5) * h[1]
                        ];
                        sum += f(m.view()).exp();
                    }
                }
                sum * h[0] * h[1]
            };
        let means = array![[-2.0, 0.0], [2.0, 1.0]];
        let z = integrate(
            &|m| {
                mixture(
                    m,
                    &[0.3, 0.7],
                    means.view(),
                    &[0.5, 0.8],
                    Array1::zeros(2).view_mut(),
                )
            },
            [-8.0, -8.0],
            [8.0, 8.0],
            800,
        );
        assert!((z - 1.0).abs() < 1e-9, "mixture {z}");
        let z = integrate(
            &|m| banana(m, 0.0, 0.5, 1.0, 0.5, Array1::zeros(2).view_mut()),
            [-7.0, -6.0],
            [7.0, 30.0],
            1600,
        );
        assert!((z - 1.0).abs() < 1e-6, "banana {z}");
    }
}
