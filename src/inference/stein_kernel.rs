//! The kernels of the Stein particle methods (SVGD, stochastic SVGD): the scalar RBF kernel
//! k(x, y) = exp(−‖x − y‖² / h) and the matrix-valued diagonal kernel of Wang et al. (2019)
//! with the diagonal preconditioner S = diag(s²) (VIP's choices of s):
//!
//! ```text
//!   K(x, y) = S exp(−Σ_c (x_c − y_c)² / (s_c² h))
//!   φ_c(x_i) = (1/N) Σ_j k_ij [ s_c² ∂_c log p(x_j) + (2/h) (x_ic − x_jc) ]
//! ```
//!
//! with s = a constant (`scale: constant`, `value`, 1 by default: the RBF kernel), the
//! particles' standard deviation per parameter (`variance`), or the inverse root of the mean
//! squared score per parameter (`gradient`, a diagonal Fisher-information estimate). The
//! bandwidth h is the median heuristic over the (scaled) squared distances or fixed. The kernel
//! is fitted to the ensemble at every step ([`KernelSpec::fit`]); its dependence on the
//! particles is not differentiated (as in every SVGD code), so unadjusted stochastic SVGD
//! is exact only in the limit of a slowly changing ensemble, and exact with `metropolis: true`.

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::core::config::Issues;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelKind {
    /// k(x, y) = exp(−‖x − y‖² / h).
    #[default]
    Rbf,
    /// The matrix-valued kernel S exp(−Σ_c (x_c − y_c)² / (s_c² h)), S = diag(s²).
    Diagonal,
}

/// How the diagonal kernel's per-parameter scale s is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleRule {
    /// s_c = `value` for every parameter.
    #[default]
    Constant,
    /// s_c² = the variance of the particles' c-th coordinates.
    Variance,
    /// s_c² = 1 / mean_j (∂_c log p(x_j))².
    Gradient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BandwidthRule {
    /// h = multiplier · median(d²(xᵢ, xⱼ)) / ln(N + 1), over pairs i < j.
    Median,
}

/// The kernel bandwidth: a rule (`median`) or a fixed h.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(untagged, expecting = "`median` or a positive number")]
pub enum RawBandwidth {
    Rule(BandwidthRule),
    Fixed(f64),
}

/// `kernel: {kind: rbf | diagonal, bandwidth: median | h, multiplier: 1.0, scale, value}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelKeys {
    pub kind: KernelKind,
    pub bandwidth: RawBandwidth,
    pub multiplier: f64,
    /// The diagonal kernel's scale rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleRule>,
    /// The constant scale s (with `scale: constant`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl Default for KernelKeys {
    fn default() -> Self {
        KernelKeys {
            kind: KernelKind::Rbf,
            bandwidth: RawBandwidth::Rule(BandwidthRule::Median),
            multiplier: 1.0,
            scale: None,
            value: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BandwidthSpec {
    Median { multiplier: f64 },
    Fixed(f64),
}

/// The metric of a checked kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    Rbf,
    Diagonal(DiagonalScale),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DiagonalScale {
    Constant(f64),
    Variance,
    Gradient,
}

/// A checked `kernel:` block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelSpec {
    pub metric: Metric,
    pub bandwidth: BandwidthSpec,
}

impl KernelSpec {
    /// The RBF kernel with the median bandwidth.
    pub fn median_rbf() -> Self {
        KernelSpec {
            metric: Metric::Rbf,
            bandwidth: BandwidthSpec::Median { multiplier: 1.0 },
        }
    }
}

impl KernelKeys {
    /// Checks the block; keys relative to `kernel`.
    pub fn check(&self, issues: &mut Issues) -> Option<KernelSpec> {
        let mut ok = issues.positive(self.multiplier, "multiplier");
        let bandwidth = match self.bandwidth {
            RawBandwidth::Rule(BandwidthRule::Median) => BandwidthSpec::Median {
                multiplier: self.multiplier,
            },
            RawBandwidth::Fixed(h) => {
                ok &= issues.positive(h, "bandwidth");
                BandwidthSpec::Fixed(h * self.multiplier)
            }
        };
        let metric = match self.kind {
            KernelKind::Rbf => {
                for (given, key) in [
                    (self.scale.is_some(), "scale"),
                    (self.value.is_some(), "value"),
                ] {
                    ok &= issues.check(!given, key, || {
                        "belongs to `kind: diagonal`: remove it or set kernel.kind: diagonal"
                            .to_string()
                    });
                }
                Metric::Rbf
            }
            KernelKind::Diagonal => match self.scale.unwrap_or_default() {
                ScaleRule::Constant => {
                    let value = self.value.unwrap_or(1.0);
                    ok &= issues.positive(value, "value");
                    Metric::Diagonal(DiagonalScale::Constant(value))
                }
                rule => {
                    ok &= issues.check(self.value.is_none(), "value", || {
                        "is the constant scale: it needs `scale: constant`".to_string()
                    });
                    Metric::Diagonal(if rule == ScaleRule::Variance {
                        DiagonalScale::Variance
                    } else {
                        DiagonalScale::Gradient
                    })
                }
            },
        };
        ok.then_some(KernelSpec { metric, bandwidth })
    }
}

/// The kernel fitted to one ensemble: its bandwidth and, for the diagonal kernel, s² per
/// parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedKernel {
    pub h: f64,
    /// s² per parameter; `None` for the RBF kernel.
    pub s2: Option<Vec<f64>>,
}

impl KernelSpec {
    /// Fits the kernel to the usable particles `ok` of `x` with their scores.
    pub fn fit(&self, x: ArrayView2<f64>, score: ArrayView2<f64>, ok: &[usize]) -> FittedKernel {
        let s2 = match self.metric {
            Metric::Rbf => None,
            Metric::Diagonal(scale) => Some(diagonal_scale(scale, x, score, ok)),
        };
        let h = match self.bandwidth {
            BandwidthSpec::Median { multiplier } => {
                median_bandwidth(x, ok, multiplier, s2.as_deref())
            }
            BandwidthSpec::Fixed(h) => h,
        };
        FittedKernel { h, s2 }
    }
}

/// s² per parameter of the diagonal kernel; 1 where the ensemble gives no positive finite
/// estimate (fewer than two usable particles, coinciding coordinates, zero scores).
fn diagonal_scale(
    scale: DiagonalScale,
    x: ArrayView2<f64>,
    score: ArrayView2<f64>,
    ok: &[usize],
) -> Vec<f64> {
    let d = x.ncols();
    let usable = |v: f64| if v.is_finite() && v > 0.0 { v } else { 1.0 };
    let n = ok.len() as f64;
    (0..d)
        .map(|c| match scale {
            DiagonalScale::Constant(s) => s * s,
            DiagonalScale::Variance if ok.len() >= 2 => {
                let mean = ok.iter().map(|&i| x[[i, c]]).sum::<f64>() / n;
                usable(ok.iter().map(|&i| (x[[i, c]] - mean).powi(2)).sum::<f64>() / (n - 1.0))
            }
            DiagonalScale::Variance => 1.0,
            DiagonalScale::Gradient => {
                usable(n / ok.iter().map(|&i| score[[i, c]].powi(2)).sum::<f64>())
            }
        })
        .collect()
}

/// Squared distance between two rows, summed in index order.
pub fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    let mut d = 0.0;
    for k in 0..a.len() {
        let diff = a[k] - b[k];
        d += diff * diff;
    }
    d
}

/// Σ_c (a_c − b_c)² / s²_c, in index order.
fn scaled_squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>, s2: &[f64]) -> f64 {
    let mut d = 0.0;
    for k in 0..a.len() {
        let diff = a[k] - b[k];
        d += diff * diff / s2[k];
    }
    d
}

/// The median-heuristic bandwidth over the particles in `ok`: multiplier · median of the
/// (scaled, with `s2`) squared distances of pairs i < j / ln(N + 1) (numpy's median);
/// 1 · multiplier when every pair coincides or fewer than two particles are usable.
pub fn median_bandwidth(
    x: ArrayView2<f64>,
    ok: &[usize],
    multiplier: f64,
    s2: Option<&[f64]>,
) -> f64 {
    let mut d2 = Vec::with_capacity(ok.len() * ok.len().saturating_sub(1) / 2);
    for (a, &i) in ok.iter().enumerate() {
        for &j in &ok[a + 1..] {
            d2.push(match s2 {
                None => squared_distance(x.row(i), x.row(j)),
                Some(s2) => scaled_squared_distance(x.row(i), x.row(j), s2),
            });
        }
    }
    if d2.is_empty() {
        return multiplier;
    }
    d2.sort_by(f64::total_cmp);
    let n = d2.len();
    let median = if n % 2 == 1 {
        d2[n / 2]
    } else {
        (d2[n / 2 - 1] + d2[n / 2]) / 2.0
    };
    if median > 0.0 {
        multiplier * median / ((ok.len() as f64) + 1.0).ln()
    } else {
        multiplier
    }
}

impl FittedKernel {
    /// The scalar part k(x_i, x_j) (the RBF kernel, or the diagonal kernel's exponential).
    pub fn value(&self, a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
        let d2 = match &self.s2 {
            None => squared_distance(a, b),
            Some(s2) => scaled_squared_distance(a, b, s2),
        };
        (-d2 / self.h).exp()
    }

    /// The Gram matrix k(x_i, x_j) over the particles `ok` (in their order).
    pub fn gram(&self, x: ArrayView2<f64>, ok: &[usize]) -> Array2<f64> {
        let m = ok.len();
        let mut k = Array2::zeros((m, m));
        for a in 0..m {
            k[[a, a]] = 1.0;
            for b in a + 1..m {
                let v = self.value(x.row(ok[a]), x.row(ok[b]));
                k[[a, b]] = v;
                k[[b, a]] = v;
            }
        }
        k
    }

    /// φ(x_i) over the usable particles `ok`, into `phi` (the module doc's formula).
    pub fn stein_direction_into(
        &self,
        x: ArrayView2<f64>,
        score: ArrayView2<f64>,
        ok: &[usize],
        i: usize,
        phi: &mut [f64],
    ) {
        phi.fill(0.0);
        let xi = x.row(i);
        let h = self.h;
        for &j in ok {
            let xj = x.row(j);
            let k = self.value(xi, xj);
            let sj = score.row(j);
            match &self.s2 {
                None => {
                    for c in 0..phi.len() {
                        phi[c] += k * sj[c] + 2.0 / h * (xi[c] - xj[c]) * k;
                    }
                }
                Some(s2) => {
                    for c in 0..phi.len() {
                        phi[c] += k * (s2[c] * sj[c] + 2.0 / h * (xi[c] - xj[c]));
                    }
                }
            }
        }
        let inv_n = 1.0 / ok.len() as f64;
        for p in phi.iter_mut() {
            *p *= inv_n;
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;

    fn rbf(h: f64) -> FittedKernel {
        FittedKernel { h, s2: None }
    }

    #[test]
    fn median_bandwidth_is_the_median_squared_distance_over_ln_n_plus_one() {
        let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]];
        // Squared distances 1, 4, 5: median 4, h = 4 / ln 4.
        let h = median_bandwidth(x.view(), &[0, 1, 2], 1.0, None);
        assert!((h - 4.0 / 4f64.ln()).abs() < 1e-15);
        // Leaving particle 2 out leaves one pair: h = 1 / ln 3.
        assert!((median_bandwidth(x.view(), &[0, 1], 2.0, None) - 2.0 / 3f64.ln()).abs() < 1e-15);
        // Scaled by s² = (1, 4): distances 1, 1, 2, median 1.
        let scaled = median_bandwidth(x.view(), &[0, 1, 2], 1.0, Some(&[1.0, 4.0]));
        assert!((scaled - 1.0 / 4f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn stein_direction_of_two_particles_by_hand() {
        // φ(x₀) = ½ [ s₀ + k(x₁, x₀) s₁ + (2/h)(x₀ − x₁) k(x₁, x₀) ] in one dimension.
        let x = array![[0.0], [1.0]];
        let score = array![[2.0], [-1.0]];
        let h = 0.5;
        let mut phi = [0.0];
        rbf(h).stein_direction_into(x.view(), score.view(), &[0, 1], 0, &mut phi);
        let k = (-1.0f64 / h).exp();
        let (s0, s1) = (2.0, -1.0);
        let expect = 0.5 * (s0 + k * s1 + 2.0 / h * (0.0 - 1.0) * k);
        assert!((phi[0] - expect).abs() < 1e-15);
    }

    /// A small ensemble with scores, not symmetric in any way.
    fn ensemble() -> (Array2<f64>, Array2<f64>) {
        let x = Array2::from_shape_fn((7, 3), |(i, c)| {
            ((i * 3 + c) as f64 * 0.37).sin() * (1.0 + c as f64)
        });
        let score = Array2::from_shape_fn((7, 3), |(i, c)| ((i * 5 + c * 2) as f64 * 0.53).cos());
        (x, score)
    }

    #[test]
    fn the_diagonal_kernel_with_constant_scale_one_reproduces_the_rbf_updates() {
        let (x, score) = ensemble();
        let ok = [0, 1, 2, 4, 5, 6];
        let diagonal = KernelKeys {
            kind: KernelKind::Diagonal,
            scale: Some(ScaleRule::Constant),
            ..KernelKeys::default()
        };
        let mut issues = Issues::default();
        let diagonal = diagonal.check(&mut issues).expect("valid");
        let rbf = KernelSpec::median_rbf();
        let (fd, fr) = (
            diagonal.fit(x.view(), score.view(), &ok),
            rbf.fit(x.view(), score.view(), &ok),
        );
        assert!((fd.h - fr.h).abs() <= 1e-12 * fr.h);
        for i in ok {
            let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
            fd.stein_direction_into(x.view(), score.view(), &ok, i, &mut a);
            fr.stein_direction_into(x.view(), score.view(), &ok, i, &mut b);
            for c in 0..3 {
                assert!(
                    (a[c] - b[c]).abs() <= 1e-12,
                    "particle {i} coordinate {c}: {} vs {}",
                    a[c],
                    b[c]
                );
            }
        }
    }

    #[test]
    fn the_diagonal_direction_is_the_preconditioned_rbf_direction_in_scaled_coordinates() {
        // With y = x / s, the diagonal kernel is the RBF kernel in y; the score in y is s ∂_x
        // log p, and φ_x = s φ_y. Checks the formula against the change of variables.
        let (x, score) = ensemble();
        let s = [0.5, 2.0, 1.5];
        let ok = [0, 1, 2, 3, 4, 5, 6];
        let y = Array2::from_shape_fn(x.dim(), |(i, c)| x[[i, c]] / s[c]);
        let score_y = Array2::from_shape_fn(x.dim(), |(i, c)| score[[i, c]] * s[c]);
        let h = 0.8;
        let diagonal = FittedKernel {
            h,
            s2: Some(s.iter().map(|v| v * v).collect()),
        };
        for i in ok {
            let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
            diagonal.stein_direction_into(x.view(), score.view(), &ok, i, &mut a);
            rbf(h).stein_direction_into(y.view(), score_y.view(), &ok, i, &mut b);
            for c in 0..3 {
                assert!(
                    (a[c] - s[c] * b[c]).abs() < 1e-13,
                    "{} vs {}",
                    a[c],
                    s[c] * b[c]
                );
            }
        }
    }

    #[test]
    fn scale_rules_estimate_variances() {
        let x = array![[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]];
        let score = array![[1.0, 0.0], [-3.0, 0.0], [1.0, 0.0]];
        let ok = [0, 1, 2];
        // Variance 4 in the first coordinate; none in the second (falls back to 1).
        assert_eq!(
            diagonal_scale(DiagonalScale::Variance, x.view(), score.view(), &ok),
            [4.0, 1.0]
        );
        // Mean squared score 11/3 in the first; zero in the second.
        let g = diagonal_scale(DiagonalScale::Gradient, x.view(), score.view(), &ok);
        assert!((g[0] - 3.0 / 11.0).abs() < 1e-15 && g[1] == 1.0);
    }
}
