//! The log-normaliser log C of a prior with a smoothing term, p(m) = p₀(m) e^{−S(m)} / C with
//! p₀ the normalised marginals and S(m) = ½ Σ_rows (w·m)²/σ² the smoothing penalty, so that
//! evidences under smoothed priors are comparable (log Z = log Z_unnormalised − log C):
//!
//! - Gaussian marginals: C is a Gaussian integral, exact (a dense Cholesky of D⁻¹ + LᵀL/σ²
//!   up to [`MAX_EXACT`] parameters);
//! - otherwise stepping-stone from β = 0 (the marginals, drawn exactly) to β = 1 over
//!   p₀ e^{−βS}, sampled by single-site Metropolis (each update touches only the few
//!   differences of its node): the ladder places each next β where the log weights of the
//!   current rung have a standard deviation of [`RUNG_SPREAD`], and each rung's error comes
//!   from batch means over time; no forward solve is needed.
//!
//! The chains are seeded from (seed, prior normaliser, chain, rung), so every rank computes the
//! same value.

use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_distr::StandardNormal;

use super::psis::log_sum_exp;
use crate::core::config::spec::Marginals;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::posterior::Prior;

/// Parameters up to which the Gaussian-marginal case is integrated exactly (dense Cholesky).
pub const MAX_EXACT: usize = 3000;
/// The standard deviation of Δβ S at the rung the step starts from.
pub const RUNG_SPREAD: f64 = 0.5;
const CHAINS: usize = 4;
const BURN_IN_SWEEPS: usize = 100;
const SWEEPS: usize = 1000;
const BATCHES: usize = 20;

/// log C with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorNormaliser {
    pub log_c: f64,
    pub error: f64,
    /// Computed exactly (no smoothing, or Gaussian marginals) rather than estimated.
    pub exact: bool,
    /// Rungs of the stepping-stone ladder (0 when exact).
    pub rungs: usize,
}

/// log C of `prior` (0, exactly, without smoothing).
pub fn prior_normaliser(prior: &Prior, seed: u64) -> PriorNormaliser {
    let Some(smoothing) = prior.smoothing() else {
        return PriorNormaliser {
            log_c: 0.0,
            error: 0.0,
            exact: true,
            rungs: 0,
        };
    };
    let inv_var = 1.0 / (smoothing.sigma * smoothing.sigma);
    let rows = prior.difference_rows();
    match prior.marginals() {
        Marginals::Gaussian { mean, std } if mean.len() <= MAX_EXACT => PriorNormaliser {
            log_c: gaussian_log_normaliser(mean, std, &rows, inv_var),
            error: 0.0,
            exact: true,
            rungs: 0,
        },
        marginals => Ladder::new(marginals, rows, inv_var).stepping_stone(seed),
    }
}

/// log ∫ N(m; μ, D) e^{−½ mᵀAm} dm with A = inv_var Σ_rows w wᵀ:
/// −½ log|D| − ½ log|P| − ½ μᵀD⁻¹μ + ½ bᵀP⁻¹b with P = D⁻¹ + A and b = D⁻¹μ.
fn gaussian_log_normaliser(
    mean: &Array1<f64>,
    std: &Array1<f64>,
    rows: &[([usize; 3], [f64; 3])],
    inv_var: f64,
) -> f64 {
    let n = mean.len();
    let mut precision = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        precision[[j, j]] = 1.0 / (std[j] * std[j]);
    }
    for (nodes, weights) in rows {
        for a in 0..3 {
            for b in 0..3 {
                if weights[a] != 0.0 && weights[b] != 0.0 {
                    precision[[nodes[a], nodes[b]]] += inv_var * weights[a] * weights[b];
                }
            }
        }
    }
    let l = crate::core::linalg::cholesky(precision.view()).expect("D⁻¹ + A is positive definite");
    let b = Array1::from_iter((0..n).map(|j| mean[j] / (std[j] * std[j])));
    let y = crate::core::linalg::solve_lower(l.view(), b.view());
    let log_det_p: f64 = (0..n).map(|j| 2.0 * l[[j, j]].ln()).sum();
    let log_det_d: f64 = std.iter().map(|s| 2.0 * s.ln()).sum();
    let quad_prior: f64 = (0..n).map(|j| (mean[j] / std[j]).powi(2)).sum();
    -0.5 * log_det_d - 0.5 * log_det_p - 0.5 * quad_prior + 0.5 * y.dot(&y)
}

/// The tempered family p₀ e^{−βS} and its single-site sampler.
struct Ladder<'a> {
    marginals: &'a Marginals,
    rows: Vec<([usize; 3], [f64; 3])>,
    /// For each parameter, the rows it enters with its weight.
    rows_of: Vec<Vec<(usize, f64)>>,
    inv_var: f64,
    /// The proposal scale of each parameter (width of a uniform, std of a Gaussian).
    scale: Vec<f64>,
}

/// One chain: the model, every difference's residual w·m, and S.
#[derive(Clone)]
struct Chain {
    m: Vec<f64>,
    residual: Vec<f64>,
}

impl<'a> Ladder<'a> {
    fn new(marginals: &'a Marginals, rows: Vec<([usize; 3], [f64; 3])>, inv_var: f64) -> Self {
        let (scale, n): (Vec<f64>, usize) = match marginals {
            Marginals::Uniform { lower, upper } => ((upper - lower).to_vec(), lower.len()),
            Marginals::Gaussian { std, .. } => (std.to_vec(), std.len()),
        };
        let mut rows_of = vec![Vec::new(); n];
        for (r, (nodes, weights)) in rows.iter().enumerate() {
            for k in 0..3 {
                if weights[k] != 0.0 {
                    rows_of[nodes[k]].push((r, weights[k]));
                }
            }
        }
        Ladder {
            marginals,
            rows,
            rows_of,
            inv_var,
            scale,
        }
    }

    fn chain(&self, m: Vec<f64>) -> Chain {
        let residual = self
            .rows
            .iter()
            .map(|(nodes, weights)| (0..3).map(|k| weights[k] * m[nodes[k]]).sum())
            .collect();
        Chain { m, residual }
    }

    fn penalty(&self, c: &Chain) -> f64 {
        0.5 * self.inv_var * c.residual.iter().map(|r| r * r).sum::<f64>()
    }

    fn draw_marginals(&self, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<f64> {
        match self.marginals {
            Marginals::Uniform { lower, upper } => (0..lower.len())
                .map(|j| lower[j] + (upper[j] - lower[j]) * rng.random::<f64>())
                .collect(),
            Marginals::Gaussian { mean, std } => (0..mean.len())
                .map(|j| mean[j] + std[j] * rng.sample::<f64, _>(StandardNormal))
                .collect(),
        }
    }

    /// log p₀(m_j = v) up to a constant (−∞ outside a uniform's support).
    fn log_marginal(&self, j: usize, v: f64) -> f64 {
        match self.marginals {
            Marginals::Uniform { lower, upper } => {
                if v > lower[j] && v < upper[j] {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            }
            Marginals::Gaussian { mean, std } => -0.5 * ((v - mean[j]) / std[j]).powi(2),
        }
    }

    /// One sweep of single-site Metropolis at β with relative step `step`; returns the
    /// fraction accepted.
    fn sweep(&self, c: &mut Chain, beta: f64, step: f64, rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
        let mut accepted = 0usize;
        for j in 0..c.m.len() {
            let delta = step * self.scale[j] * rng.sample::<f64, _>(StandardNormal);
            let proposed = c.m[j] + delta;
            let log_prior = self.log_marginal(j, proposed) - self.log_marginal(j, c.m[j]);
            let u: f64 = rng.random();
            if log_prior == f64::NEG_INFINITY {
                continue;
            }
            let d_penalty: f64 = self.rows_of[j]
                .iter()
                .map(|&(r, w)| c.residual[r] * w * delta + 0.5 * w * w * delta * delta)
                .sum::<f64>()
                * self.inv_var;
            if u.ln() < log_prior - beta * d_penalty {
                c.m[j] = proposed;
                for &(r, w) in &self.rows_of[j] {
                    c.residual[r] += w * delta;
                }
                accepted += 1;
            }
        }
        accepted as f64 / c.m.len().max(1) as f64
    }

    /// log E[e^{−Δβ S}] over draws and its standard error by batch means over time
    /// (`penalties[chain][sweep]`).
    fn log_ratio(penalties: &[Vec<f64>], delta: f64) -> (f64, f64) {
        let estimate = |range: std::ops::Range<usize>| {
            let terms: Vec<f64> = penalties
                .iter()
                .flat_map(|p| p[range.clone()].iter().map(|s| -delta * s))
                .collect();
            log_sum_exp(&terms) - (terms.len() as f64).ln()
        };
        let n = penalties[0].len();
        let batches: Vec<f64> = (0..BATCHES)
            .map(|b| estimate(b * n / BATCHES..(b + 1) * n / BATCHES))
            .collect();
        let mean = batches.iter().sum::<f64>() / BATCHES as f64;
        let var = batches.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (BATCHES - 1) as f64;
        (estimate(0..n), (var / BATCHES as f64).sqrt())
    }

    fn stepping_stone(&self, seed: u64) -> PriorNormaliser {
        let mut rngs: Vec<_> = (0..CHAINS)
            .map(|c| member_rng(seed, Purpose::PriorNormaliser, c as u64, 0))
            .collect();
        // Rung 0: the marginals themselves, drawn exactly.
        let mut chains = Vec::with_capacity(CHAINS);
        let mut penalties: Vec<Vec<f64>> =
            (0..CHAINS).map(|_| Vec::with_capacity(SWEEPS)).collect();
        for (c, rng) in rngs.iter_mut().enumerate() {
            for _ in 0..SWEEPS {
                let chain = self.chain(self.draw_marginals(rng));
                penalties[c].push(self.penalty(&chain));
                if penalties[c].len() == SWEEPS {
                    chains.push(chain);
                }
            }
        }
        let (mut beta, mut log_c, mut var, mut rungs, mut step) = (0.0f64, 0.0, 0.0, 0, 0.2);
        loop {
            let values: Vec<f64> = penalties.iter().flatten().copied().collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                / (values.len() - 1) as f64)
                .sqrt();
            let delta = (RUNG_SPREAD / sd.max(f64::MIN_POSITIVE)).min(1.0 - beta);
            let (ratio, error) = Self::log_ratio(&penalties, delta);
            log_c += ratio;
            var += error * error;
            rungs += 1;
            beta += delta;
            if beta >= 1.0 {
                break;
            }
            // The next rung: each chain continues from its last state, adapts its step over
            // the burn-in towards acceptance 0.44, then records S after every sweep.
            for (c, (chain, rng)) in chains.iter_mut().zip(rngs.iter_mut()).enumerate() {
                *rng = member_rng(seed, Purpose::PriorNormaliser, c as u64, rungs as u64);
                for _ in 0..BURN_IN_SWEEPS {
                    let rate = self.sweep(chain, beta, step, rng);
                    step *= (0.5 * (rate - 0.44)).exp();
                }
                penalties[c].clear();
                for _ in 0..SWEEPS {
                    self.sweep(chain, beta, step, rng);
                    penalties[c].push(self.penalty(chain));
                }
            }
        }
        PriorNormaliser {
            log_c,
            error: var.sqrt(),
            exact: false,
            rungs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::spec::{PriorSpec, SmoothingSpec};

    fn prior(marginals: Marginals, order: u8, sigma: f64, shape: Vec<usize>) -> Prior {
        Prior::new(&PriorSpec {
            marginals,
            smoothing: Some(SmoothingSpec { order, sigma }),
            smoothing_blocks: vec![shape],
        })
    }

    /// ∫_{[0,1]^n} e^{−½ Σ (m_{i+1} − m_i)²/σ²} dm for a chain of n: 1ᵀ (WK)ⁿ⁻¹ W 1 with the
    /// kernel K(x, y) = e^{−½ (x − y)²/σ²} on composite-Simpson nodes and weights W (a
    /// transfer-matrix quadrature; 400 intervals on [0, 1] for a smooth kernel: error ≪ 1e-8).
    fn chain_integral(n: usize, sigma: f64) -> f64 {
        let k = 400;
        let h = 1.0 / k as f64;
        let x: Vec<f64> = (0..=k).map(|i| i as f64 * h).collect();
        let w: Vec<f64> = (0..=k)
            .map(|i| {
                h / 3.0
                    * if i == 0 || i == k {
                        1.0
                    } else if i % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    }
            })
            .collect();
        let mut f = vec![1.0; k + 1];
        for _ in 1..n {
            f = (0..=k)
                .map(|a| {
                    (0..=k)
                        .map(|b| w[b] * (-0.5 * ((x[a] - x[b]) / sigma).powi(2)).exp() * f[b])
                        .sum()
                })
                .collect();
        }
        (0..=k).map(|a| w[a] * f[a]).sum()
    }

    #[test]
    fn uniform_chain_of_five_against_quadrature() {
        let sigma = 0.2;
        let exact = chain_integral(5, sigma).ln();
        let p = prior(
            Marginals::Uniform {
                lower: Array1::zeros(5),
                upper: Array1::ones(5),
            },
            1,
            sigma,
            vec![5],
        );
        let c = prior_normaliser(&p, 3);
        println!(
            "log C {} ± {} ({} rungs), quadrature {exact}",
            c.log_c, c.error, c.rungs
        );
        assert!(!c.exact && c.rungs > 1);
        assert!(
            ((c.log_c - exact) / c.error).abs() < 4.0,
            "log C {} ± {} vs {exact}",
            c.log_c,
            c.error
        );
        assert!(c.error < 0.05);
    }

    #[test]
    fn the_sampler_agrees_with_the_gaussian_closed_form() {
        // Second differences on a 4 × 3 grid under Gaussian marginals: the sampler (forced
        // through the ladder) against the exact integral.
        let marginals = Marginals::Gaussian {
            mean: Array1::from_iter((0..12).map(|j| 0.1 * j as f64)),
            std: Array1::from_elem(12, 0.7),
        };
        let p = prior(marginals.clone(), 2, 0.3, vec![4, 3]);
        let exact = prior_normaliser(&p, 1);
        assert!(exact.exact);
        let sampled = Ladder::new(&marginals, p.difference_rows(), 1.0 / 0.09).stepping_stone(5);
        println!(
            "exact {}, sampled {} ± {} ({} rungs)",
            exact.log_c, sampled.log_c, sampled.error, sampled.rungs
        );
        assert!(((sampled.log_c - exact.log_c) / sampled.error).abs() < 4.0);
    }

    #[test]
    fn one_parameter_gaussian_is_its_own_check() {
        // n = 2, first difference: ∫ N(a) N(b) e^{−½ (b − a)²/σ²} = σ/√(σ² + 2) for unit normals.
        let p = prior(
            Marginals::Gaussian {
                mean: Array1::zeros(2),
                std: Array1::ones(2),
            },
            1,
            0.5,
            vec![2],
        );
        let c = prior_normaliser(&p, 0);
        assert!(
            (c.log_c - (0.5 / (0.25f64 + 2.0).sqrt()).ln()).abs() < 1e-12,
            "{}",
            c.log_c
        );
    }
}
