//! The joint prior, built from parts: independent uniform or Gaussian marginals, plus an optional
//! smoothing term −½ Σ_axes ‖D m‖² / σ² with D the first or second differences along each axis
//! of the parameter grid (x first; within each block of the parameter vector, such as the
//! profiles of a layered model). Densities are in physical units.
//!
//! Draws for initial members use the marginals only (member-keyed streams): with smoothing they
//! are not draws from the joint prior, only starting points inside its support. Methods that
//! need exact prior draws must not take them from here.

use ndarray::{Array1, ArrayView1, ArrayViewMut1};
use rand::RngExt;
use rand_distr::StandardNormal;

use super::transform::Transform;
use crate::core::config::spec::{Marginals, PriorSpec, SmoothingSpec};
use crate::core::parallel::rng::{Purpose, member_rng};

#[derive(Debug, Clone)]
pub struct Prior {
    marginals: Marginals,
    smoothing: Option<SmoothingSpec>,
    /// The blocks smoothing acts on, each a grid shape (x first), in parameter order.
    smoothing_blocks: Vec<Vec<usize>>,
    /// Constant part of the marginal log-density.
    normalisation: f64,
}

impl Prior {
    pub fn new(spec: &PriorSpec) -> Self {
        let normalisation = match &spec.marginals {
            Marginals::Uniform { lower, upper } => -(upper - lower).mapv(f64::ln).sum(),
            Marginals::Gaussian { std, .. } => {
                -std.mapv(f64::ln).sum()
                    - 0.5 * std.len() as f64 * (2.0 * std::f64::consts::PI).ln()
            }
        };
        Prior {
            marginals: spec.marginals.clone(),
            smoothing: spec.smoothing,
            smoothing_blocks: spec.smoothing_blocks.clone(),
            normalisation,
        }
    }

    pub fn dim(&self) -> usize {
        match &self.marginals {
            Marginals::Uniform { lower, .. } => lower.len(),
            Marginals::Gaussian { mean, .. } => mean.len(),
        }
    }

    /// The transform that maps the unconstrained space onto the prior's support.
    pub fn transform(&self) -> Transform {
        match &self.marginals {
            Marginals::Uniform { lower, upper } => Transform::logit(lower.clone(), upper.clone()),
            Marginals::Gaussian { .. } => Transform::Identity,
        }
    }

    /// Prior mean of each parameter in the unconstrained space (0 for the logistic image of a
    /// uniform).
    pub fn unconstrained_mean(&self) -> Array1<f64> {
        match &self.marginals {
            Marginals::Uniform { lower, .. } => Array1::zeros(lower.len()),
            Marginals::Gaussian { mean, .. } => mean.clone(),
        }
    }

    /// Prior std of each parameter in the unconstrained space (π/√3 for the logistic image of a
    /// uniform), the natural scale of an initial random-walk proposal.
    pub fn unconstrained_std(&self) -> Array1<f64> {
        match &self.marginals {
            Marginals::Uniform { lower, .. } => {
                Array1::from_elem(lower.len(), std::f64::consts::PI / 3f64.sqrt())
            }
            Marginals::Gaussian { std, .. } => std.clone(),
        }
    }

    /// log p(m) (physical units; inside the support for a uniform prior) and its gradient,
    /// written into `grad`.
    pub fn log_prob_into(&self, m: ArrayView1<f64>, mut grad: ArrayViewMut1<f64>) -> f64 {
        let mut lp = self.normalisation;
        match &self.marginals {
            Marginals::Uniform { .. } => grad.fill(0.0),
            Marginals::Gaussian { mean, std } => {
                for j in 0..m.len() {
                    let z = (m[j] - mean[j]) / std[j];
                    lp -= 0.5 * z * z;
                    grad[j] = -z / std[j];
                }
            }
        }
        if let Some(s) = self.smoothing {
            let mut start = 0;
            for shape in &self.smoothing_blocks {
                let len: usize = shape.iter().product();
                let range = ndarray::s![start..start + len];
                lp += smoothing_into(shape, s, m.slice(range), grad.slice_mut(range));
                start += len;
            }
            debug_assert_eq!(start, m.len(), "the blocks cover the parameters");
        }
        lp
    }

    pub fn marginals(&self) -> &Marginals {
        &self.marginals
    }

    pub fn smoothing(&self) -> Option<SmoothingSpec> {
        self.smoothing
    }

    /// The smoothing term's difference rows over the whole parameter vector (nodes, weights:
    /// see [`for_each_difference`]); none without smoothing.
    pub fn difference_rows(&self) -> Vec<([usize; 3], [f64; 3])> {
        let mut rows = Vec::new();
        if let Some(s) = self.smoothing {
            let mut start = 0;
            for shape in &self.smoothing_blocks {
                for_each_difference(shape, s.order, start, |n, w| rows.push((n, w)));
                start += shape.iter().product::<usize>();
            }
        }
        rows
    }

    /// Draw number `attempt` from the marginals for `member` (physical units), from the stream
    /// (seed, init, member, attempt). The smoothing term is ignored (see the module docs).
    pub fn draw_marginals(&self, seed: u64, member: usize, attempt: usize) -> Array1<f64> {
        let mut rng = member_rng(seed, Purpose::Init, member as u64, attempt as u64);
        match &self.marginals {
            Marginals::Uniform { lower, upper } => Array1::from_iter((0..lower.len()).map(|j| {
                // Open interval, so that the unconstrained image is finite.
                let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                lower[j] + (upper[j] - lower[j]) * u
            })),
            Marginals::Gaussian { mean, std } => Array1::from_iter((0..mean.len()).map(|j| {
                let z: f64 = rng.sample(StandardNormal);
                mean[j] + std[j] * z
            })),
        }
    }
}

/// The difference rows of one block of `shape` (x first): for every axis and every node whose
/// coordinate along it leaves room for `order` more, the nodes (offset by `offset`) and weights
/// of the first (−1, 1) or second (1, −2, 1) difference, the first `order + 1` entries used.
pub fn for_each_difference(shape: &[usize], order: u8, offset: usize, mut f: impl FnMut([usize; 3], [f64; 3])) {
    let n: usize = shape.iter().product();
    let order = order as usize;
    let mut stride = 1;
    for &len in shape {
        if len > order {
            for base in 0..n {
                // Visit each line start once: nodes whose coordinate along this axis is ≤ len − 1 − order.
                let coord = (base / stride) % len;
                if coord + order >= len {
                    continue;
                }
                let b = offset + base;
                if order == 1 {
                    f([b, b + stride, 0], [-1.0, 1.0, 0.0]);
                } else {
                    f([b, b + stride, b + 2 * stride], [1.0, -2.0, 1.0]);
                }
            }
        }
        stride *= len;
    }
}

/// Adds −½ Σ_axes ‖D m‖²/σ² to the log-density (returned) and its gradient to `grad`.
fn smoothing_into(
    shape: &[usize],
    spec: SmoothingSpec,
    m: ArrayView1<f64>,
    mut grad: ArrayViewMut1<f64>,
) -> f64 {
    let inv_var = 1.0 / (spec.sigma * spec.sigma);
    let mut lp = 0.0;
    debug_assert_eq!(shape.iter().product::<usize>(), m.len());
    let used = spec.order as usize + 1;
    for_each_difference(shape, spec.order, 0, |nodes, weights| {
        let r: f64 = if used == 2 {
            m[nodes[1]] - m[nodes[0]]
        } else {
            m[nodes[0]] - 2.0 * m[nodes[1]] + m[nodes[2]]
        };
        lp -= 0.5 * r * r * inv_var;
        for k in 0..used {
            grad[nodes[k]] -= r * weights[k] * inv_var;
        }
    });
    lp
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn smoothing_does_not_couple_blocks() {
        // Two blocks of 3: a jump between the blocks costs nothing, a jump inside one does.
        let spec = PriorSpec {
            marginals: Marginals::Uniform {
                lower: Array1::zeros(6),
                upper: Array1::from_elem(6, 10.0),
            },
            smoothing: Some(SmoothingSpec {
                order: 1,
                sigma: 1.0,
            }),
            smoothing_blocks: vec![vec![3], vec![3]],
        };
        let prior = Prior::new(&spec);
        let mut g = Array1::zeros(6);
        let flat = prior.log_prob_into(
            Array1::from(vec![1.0, 1.0, 1.0, 5.0, 5.0, 5.0]).view(),
            g.view_mut(),
        );
        assert!(g.iter().all(|&v| v == 0.0));
        let jump = prior.log_prob_into(
            Array1::from(vec![1.0, 1.0, 3.0, 5.0, 5.0, 5.0]).view(),
            g.view_mut(),
        );
        assert!((flat - jump - 0.5 * 4.0).abs() < 1e-12, "{flat} {jump}");
    }

    #[test]
    fn smoothing_gradient_matches_differences() {
        for order in [1u8, 2] {
            let spec = PriorSpec {
                marginals: Marginals::Gaussian {
                    mean: Array1::zeros(12),
                    std: Array1::from_elem(12, 2.0),
                },
                smoothing: Some(SmoothingSpec { order, sigma: 0.3 }),
                smoothing_blocks: vec![vec![4, 3]],
            };
            let prior = Prior::new(&spec);
            let m = Array1::from_iter((0..12).map(|i| (i as f64 * 0.77).sin()));
            let mut g = Array1::zeros(12);
            prior.log_prob_into(m.view(), g.view_mut());
            let eps = 1e-6;
            for j in 0..12 {
                let mut scratch = Array1::zeros(12);
                let mut mp = m.clone();
                mp[j] += eps;
                let lp_p = prior.log_prob_into(mp.view(), scratch.view_mut());
                let mut mm = m.clone();
                mm[j] -= eps;
                let lp_m = prior.log_prob_into(mm.view(), scratch.view_mut());
                assert!(
                    ((lp_p - lp_m) / (2.0 * eps) - g[j]).abs() < 1e-7,
                    "order {order}, param {j}"
                );
            }
        }
    }
}
