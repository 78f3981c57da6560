//! Boosting variational inference (`kind: boosting_vi`; Guo et al. 2016, Miller et al. 2017,
//! as in GeoPVI): q = Σ_j w_j q_j, a mixture of flows (each component the `vi` flow), built one
//! component at a time. Component k is fitted together with its weight ρ = sigmoid(η) while
//! the earlier mixture q_old stays fixed, q = (1 − ρ) q_old + ρ q_k, by stochastic ascent on
//! the mixture's ELBO = E_q[log p(x, d) − log q(x)]:
//!
//! ```text
//!   ∇_θ ELBO = ρ E_z[(∇ log p − ∇ log q)(x) · ∂x/∂θ],   x = T_θ(z) ~ q_k,
//!   ∂_ρ ELBO = E_{q_k}[log p − log q] − E_{q_old}[log p − log q]
//! ```
//!
//! (the terms from q's own dependence on θ and ρ vanish, ∫ ∂q = 0), with ∇_x log q from every
//! component's pushed score (`Flow::log_density_and_score`). The first component (ρ = 1) is an
//! ordinary flow fit by the same path-derivative estimator. A new component starts at the
//! prior (as `vi` does) with the small weight ρ₀ = 0.01: where q_old holds a mode of mass w and
//! misses one of mass w', the component's part of the ELBO is larger on the missed mode while
//! ρ < w'/w (ln(w'/ρ) against ln w), so a small start sends it there, not onto the mode already
//! held; ρ then rises to its optimum.
//!
//! Each iteration's S samples of q_k are members (streams (seed, monte_carlo, s, t)); from the
//! second component on, S samples of q_old too (streams (seed, monte_carlo, S + s, t): a
//! component by its weight, then z), evaluated without gradients. The gradients are reduced by
//! the context's blocked sum, so the result does not depend on the rank count. `iterations`,
//! `decay` and `anneal` restart with each component.

mod config;

use ndarray::{Array1, Array2, ArrayD, ArrayView1, IxDyn};
use rand::RngExt;

pub use config::{Config, Spec};
use crate::core::error::Result;
use crate::core::io::hdf5_util::AttrValue;
use crate::core::io::names::var;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::flows::config::build_flow;
use crate::inference::flows::{Flow, standard_normal_log_density};
use crate::inference::methods::vi::initial_params;
use crate::inference::optim::Optimizer;
use crate::inference::variational::{
    BLOCK, QDraws, anneal_beta, draw_from_q, pick, placed_params, standard_normal, tempered_gradient,
    tempered_log_prob, variational_group,
};
use crate::inference::{
    DrawValues, Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace,
    mean_over_ok,
};

/// The weight ρ₀ a new component starts with (the module's doc says why it is small).
const INITIAL_WEIGHT: f64 = 0.01;

/// Checkpoint names.
const FITTED: &str = "fitted";
const N_FITTED: &str = "n_fitted";
const PARAMS: &str = "params";

/// A component already evaluated at a point: its index, log q_j and (when asked) its score.
type Known<'a> = (usize, f64, Option<&'a Array1<f64>>);

pub struct BoostingVi {
    spec: Spec,
    dim: usize,
    flow: Flow,
    /// The fitted components' parameters and their mixture weights (summing to 1).
    fitted: Vec<Vec<f64>>,
    weights: Vec<f64>,
    /// The component being fitted, then η (its weight ρ = sigmoid(η); unused for the first).
    params: Vec<f64>,
    optimizer: Optimizer,
    gradients: Vec<f64>,
    /// Draws of the final mixture (their component as the per-draw value), after `finish`.
    draws: QDraws,
}

fn sigmoid(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}


impl BoostingVi {
    pub fn new(spec: Spec, dim: usize) -> Self {
        let flow = build_flow(&spec.fit.layers, dim);
        let n = flow.n_params() + 1;
        BoostingVi {
            optimizer: Optimizer::new(spec.fit.optimizer, &[n]),
            params: vec![0.0; n],
            fitted: Vec::new(),
            weights: Vec::new(),
            gradients: Vec::new(),
            flow,
            draws: QDraws::none(dim),
            dim,
            spec,
        }
    }

    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// The fitted components' parameters and weights (all of them after the run).
    pub fn mixture(&self) -> (&[Vec<f64>], &[f64]) {
        (&self.fitted, &self.weights)
    }

    /// The weight of the component being fitted.
    fn rho(&self) -> f64 {
        if self.fitted.is_empty() {
            1.0
        } else {
            sigmoid(self.params[self.flow.n_params()])
        }
    }

    /// The weights of the mixture with the component being fitted (last).
    fn current_weights(&self) -> Vec<f64> {
        let rho = self.rho();
        self.weights.iter().map(|w| w * (1.0 - rho)).chain([rho]).collect()
    }

    /// Component j's parameters (j = the fitted count: the one being fitted).
    fn component(&self, j: usize) -> &[f64] {
        self.fitted.get(j).map_or(&self.params[..self.flow.n_params()], |c| c)
    }

    /// log q(x) of the mixture with `weights` over the first components (the fitted ones, then
    /// the one being fitted), and ∇_x log q(x) when `with_score`; `known` is a component
    /// already evaluated at x.
    fn mixture_density(
        &self,
        weights: &[f64],
        x: ArrayView1<f64>,
        known: Option<Known>,
        with_score: bool,
    ) -> (f64, Option<Array1<f64>>) {
        let mut terms = Vec::with_capacity(weights.len());
        let mut scores = Vec::with_capacity(weights.len());
        for (j, &w) in weights.iter().enumerate() {
            let (log_q, score) = match known {
                Some((k, log_q, score)) if k == j => (log_q, score.cloned()),
                _ if with_score => {
                    let (log_q, score) = self.flow.log_density_and_score(self.component(j), x);
                    (log_q, Some(score))
                }
                _ => (self.flow.log_density(self.component(j), x), None),
            };
            terms.push(w.ln() + log_q);
            scores.push(score);
        }
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = terms.iter().map(|l| (l - top).exp()).sum();
        let log_q = top + total.ln();
        let score = with_score.then(|| {
            let mut s = Array1::zeros(self.dim);
            for (l, score) in terms.iter().zip(&scores) {
                let responsibility = (l - log_q).exp();
                if responsibility > 0.0 {
                    s.scaled_add(responsibility, score.as_ref().expect("scores asked for"));
                }
            }
            s
        });
        (log_q, score)
    }

    /// Adds the component being fitted to the mixture with its weight.
    fn fold(&mut self) {
        self.weights = self.current_weights();
        self.fitted.push(self.params[..self.flow.n_params()].to_vec());
    }

    /// Starts the next component at the prior (the first where `init` says), with weight ρ₀.
    fn start_component(&mut self, ctx: &RunContext) {
        let p = self.flow.n_params();
        let fresh = if self.fitted.is_empty() {
            initial_params(&self.spec.fit, &self.flow, ctx)
        } else {
            placed_params(&self.flow, ctx, None)
        };
        self.params[..p].copy_from_slice(&fresh);
        // logit(ρ₀) (no weight for the first).
        self.params[p] = if self.fitted.is_empty() {
            0.0
        } else {
            (INITIAL_WEIGHT / (1.0 - INITIAL_WEIGHT)).ln()
        };
        self.optimizer = Optimizer::new(self.spec.fit.optimizer, &[p + 1]);
    }
}

impl Method for BoostingVi {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        self.start_component(ctx);
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, d, p) = (self.spec.fit.members.n, self.dim, self.flow.n_params());
        let t = ctx.iteration();
        let (stage, local) = (t / self.spec.fit.iterations, t % self.spec.fit.iterations);
        while self.fitted.len() < stage {
            self.fold();
            self.start_component(ctx);
        }
        let mixing = !self.fitted.is_empty();
        let (rho, weights, current) = (self.rho(), self.current_weights(), self.fitted.len());
        let owned = ctx.owned_in_blocks(n, BLOCK);
        let rows = owned.len();

        // Samples of the component being fitted, with their log q and score.
        let mut z = Array2::zeros((rows, d));
        let mut x = Array2::zeros((rows, d));
        let mut own = Vec::with_capacity(rows);
        for (r, s) in owned.clone().enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::MonteCarlo, s as u64, t as u64);
            z.row_mut(r).assign(&standard_normal(&mut rng, d));
            let (xs, log_q, score) = self.flow.density_at_latent(&self.params[..p], z.row(r));
            x.row_mut(r).assign(&xs);
            own.push((log_q, score));
        }
        // Samples of the earlier mixture: a component by its weight, then z.
        let mut old_x = Array2::zeros((if mixing { rows } else { 0 }, d));
        let mut old_known = Vec::with_capacity(old_x.nrows());
        for (r, s) in owned.clone().enumerate().filter(|_| mixing) {
            let mut rng = member_rng(ctx.seed(), Purpose::MonteCarlo, (n + s) as u64, t as u64);
            let j = pick(&self.weights, rng.random::<f64>());
            let zj = standard_normal(&mut rng, d);
            let log_det = self.flow.forward(&self.fitted[j], zj.view(), old_x.row_mut(r));
            old_known.push((j, standard_normal_log_density(zj.view()) - log_det));
        }
        let eval = ctx.evaluate_stochastic(x.view(), true)?;
        let old_eval = if mixing {
            Some(ctx.evaluate_stochastic(old_x.view(), false)?)
        } else {
            None
        };
        let beta = anneal_beta(self.spec.fit.anneal, local);
        let grad = tempered_gradient(&eval, beta);

        // Per sample: the parameter gradient, then ∂/∂η; and log p − log q of both samples.
        let width = p + 1;
        let mut local_grad = std::mem::take(&mut self.gradients);
        local_grad.clear();
        local_grad.resize(rows * width, 0.0);
        let mut residuals = vec![f64::NAN; 2 * rows];
        for r in 0..rows {
            let old_failed = old_eval.as_ref().is_some_and(|e| e.failed[r]);
            if eval.failed[r] || old_failed {
                continue;
            }
            let known = (current, own[r].0, Some(&own[r].1));
            let (log_q, score) = self.mixture_density(&weights, x.row(r), Some(known), true);
            let f_new = tempered_log_prob(&eval, r, beta) - log_q;
            let x_bar = (&grad.row(r) - &score.expect("asked for")) * rho;
            let row = &mut local_grad[r * width..(r + 1) * width];
            self.flow.backward(&self.params[..p], z.row(r), x_bar.view(), 0.0, &mut row[..p]);
            residuals[2 * r] = f_new;
            if let Some(old) = &old_eval {
                let (j, log_q_j) = old_known[r];
                let (log_q_old, _) =
                    self.mixture_density(&weights, old_x.row(r), Some((j, log_q_j, None)), false);
                let f_old = tempered_log_prob(old, r, beta) - log_q_old;
                row[p] = rho * (1.0 - rho) * (f_new - f_old);
                residuals[2 * r + 1] = f_old;
            }
        }
        drop(grad);
        let total = ctx.blocked_sum(n, BLOCK, width, &local_grad);
        self.gradients = local_grad;

        // Every sample's values and residuals (one sample a block: the member partition).
        let mut values = eval;
        values.grad = None;
        values.grad_log_prior = None;
        values.grad_log_likelihood = None;
        let all = ctx.gather_evaluation(n, &values);
        let old_all = old_eval.map(|e| ctx.gather_evaluation(n, &e));
        let residuals = ctx.gather_rows(n, 2, &residuals);
        let failed: Vec<bool> = (0..n)
            .map(|s| all.failed[s] || old_all.as_ref().is_some_and(|o| o.failed[s]))
            .collect();
        let n_ok = failed.iter().filter(|&&f| !f).count();
        let n_failed = all.failed.iter().chain(old_all.iter().flat_map(|o| &o.failed)).filter(|&&f| f).count();

        let mut lr = self.spec.fit.optimizer.step_size(local);
        if n_ok > 0 {
            let g: Vec<f64> = total.iter().map(|v| v / n_ok as f64).collect();
            lr = self.optimizer.ascend(local, &mut self.params, &g);
        }
        let elbo_terms = (0..n).map(|s| {
            if mixing {
                rho * residuals[[s, 0]] + (1.0 - rho) * residuals[[s, 1]]
            } else {
                residuals[[s, 0]]
            }
        });
        let mut traces = vec![
            (Trace::Elbo, mean_over_ok(elbo_terms, &failed)),
            (Trace::StepSize, lr),
            (Trace::MixtureWeight, rho),
        ];
        if self.spec.fit.anneal.is_some() {
            traces.push((Trace::Beta, beta));
        }
        Ok(StepStats {
            misfit: mean_over_ok(all.misfit.iter().copied(), &failed),
            lp_mean: mean_over_ok(all.log_prob.iter().copied(), &failed),
            n_evaluated: if mixing { 2 * n } else { n },
            n_failed,
            traces,
            converged: false,
        })
    }

    fn finish(&mut self, ctx: &mut RunContext) -> Result<()> {
        self.fold();
        let d = self.dim;
        let this = &*self;
        self.draws = draw_from_q(ctx, self.spec.fit.draws, d, |rng, mut x| {
            let j = pick(&this.weights, rng.random::<f64>());
            let z = standard_normal(rng, d);
            let log_det = this.flow.forward(&this.fitted[j], z.view(), x.view_mut());
            let known = (j, standard_normal_log_density(z.view()) - log_det, None);
            (this.mixture_density(&this.weights, x.view(), Some(known), false).0, j as f64)
        })?;
        Ok(())
    }

    fn output(&self) -> MethodOutput {
        let (n, k, p) = (self.draws.x.nrows(), self.fitted.len(), self.flow.n_params());
        let theta = ArrayD::from_shape_vec(IxDyn(&[k, p]), self.fitted.concat()).expect("components × parameters");
        let weights = ArrayD::from_shape_vec(IxDyn(&[k]), self.weights.clone()).expect("1-D");
        let mut stats = self.draws.stats();
        let component = self.draws.extra.iter().map(|&j| j as i64).collect();
        stats.push((
            var::COMPONENT,
            DrawValues::I64(Array2::from_shape_vec((1, n), component).expect("one per draw")),
        ));
        MethodOutput {
            draws: self.draws.chain(),
            space: Space::Unconstrained,
            draw_stats: stats,
            chain_stats: Vec::new(),
            independent_chains: false,
            kept: vec![variational_group(
                &self.flow,
                &self.spec.fit.flow_text,
                theta,
                vec![(var::WEIGHTS.to_string(), weights)],
                [("components".into(), AttrValue::Int(k as i64))].into_iter().chain(self.draws.attrs()).collect(),
            )],
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let (k, p) = (self.spec.components, self.flow.n_params());
        let mut fitted = vec![0.0; k * p];
        for (j, c) in self.fitted.iter().enumerate() {
            fitted[j * p..(j + 1) * p].copy_from_slice(c);
        }
        let mut weights = self.weights.clone();
        weights.resize(k, 0.0);
        let array = |shape: &[usize], v: Vec<f64>| ArrayD::from_shape_vec(IxDyn(shape), v).expect("state of its shape");
        let mut state = MethodState::new();
        state.put(FITTED, array(&[k, p], fitted));
        state.put(var::WEIGHTS, array(&[k], weights));
        state.put(N_FITTED, array(&[1], vec![self.fitted.len() as f64]));
        state.put(PARAMS, array(&[p + 1], self.params.clone()));
        self.optimizer.save("", &mut state);
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (k, p) = (self.spec.components, self.flow.n_params());
        let n_fitted = state.array(N_FITTED, &[1])?.iter().map(|&v| v as usize).sum::<usize>().min(k);
        let fitted: Vec<f64> = state.array(FITTED, &[k, p])?.iter().copied().collect();
        let weights = state.array(var::WEIGHTS, &[k])?;
        self.fitted = (0..n_fitted).map(|j| fitted[j * p..(j + 1) * p].to_vec()).collect();
        self.weights = weights.iter().take(self.fitted.len()).copied().collect();
        self.params = state.array(PARAMS, &[p + 1])?.iter().copied().collect();
        self.optimizer = Optimizer::new(self.spec.fit.optimizer, &[p + 1]);
        self.optimizer.restore("", state)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::core::config::spec::{InitSpec, MembersSpec};
    use crate::inference::flows::config::LayerSpec;
    use crate::inference::flows::linear::Structure;
    use crate::inference::optim::{OptimizerSpec, Rule};
    use crate::inference::testing::{gaussian_posterior, run};

    fn spec(components: usize, iterations: usize, draws: usize) -> Spec {
        Spec {
            components,
            fit: crate::inference::methods::vi::Spec {
                members: MembersSpec {
                    n: 8,
                    init: InitSpec::ByMethod,
                    max_failed_fraction: 0.5,
                },
                iterations,
                optimizer: OptimizerSpec {
                    step_size: 0.02,
                    rule: Rule::Adam {
                        beta1: 0.9,
                        beta2: 0.999,
                        eps: 1e-8,
                    },
                    decay: Some((0.5, iterations / 6)),
                },
                layers: vec![LayerSpec::Linear(Structure::Full)],
                draws,
                anneal: None,
                initial_theta: None,
                initial_model: None,
                flow_text: String::new(),
            },
        }
    }

    #[test]
    fn the_mixture_density_and_its_score_are_the_weighted_components() {
        let d = 3;
        let mut b = BoostingVi::new(spec(2, 1, 1), d);
        let p = b.flow().n_params();
        let theta = |phase: f64| (0..p).map(|k| 0.3 * (k as f64 * 0.9 + phase).sin()).collect::<Vec<f64>>();
        b.fitted = vec![theta(0.0)];
        b.weights = vec![1.0];
        b.params = theta(1.7);
        b.params.push(-0.4); // ρ = sigmoid(−0.4)
        let weights = b.current_weights();
        let rho = sigmoid(-0.4);
        assert!((weights[0] - (1.0 - rho)).abs() < 1e-15 && (weights[1] - rho).abs() < 1e-15);
        let x = Array1::from(vec![0.2, -0.5, 0.9]);
        let direct = |x: ArrayView1<f64>| {
            (weights[0] * b.flow().log_density(&b.fitted[0], x).exp()
                + weights[1] * b.flow().log_density(&b.params[..p], x).exp())
            .ln()
        };
        let (log_q, score) = b.mixture_density(&weights, x.view(), None, true);
        assert!((log_q - direct(x.view())).abs() < 1e-12, "{log_q} vs {}", direct(x.view()));
        let score = score.unwrap();
        let eps = 1e-6;
        for j in 0..d {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[j] += eps;
            xm[j] -= eps;
            let fd = (direct(xp.view()) - direct(xm.view())) / (2.0 * eps);
            assert!((fd - score[j]).abs() < 1e-7, "∂/∂x{j}: {} vs {fd}", score[j]);
        }
        // A component already evaluated gives the same.
        let (own, own_score) = b.flow().log_density_and_score(&b.params[..p], x.view());
        let (again, _) = b.mixture_density(&weights, x.view(), Some((1, own, Some(&own_score))), true);
        assert!((again - log_q).abs() < 1e-12);
    }

    #[test]
    fn components_are_picked_by_their_weights() {
        let w = [0.2, 0.5, 0.3];
        assert_eq!(pick(&w, 0.0), 0);
        assert_eq!(pick(&w, 0.19), 0);
        assert_eq!(pick(&w, 0.2), 1);
        assert_eq!(pick(&w, 0.69), 1);
        assert_eq!(pick(&w, 0.71), 2);
        assert_eq!(pick(&w, 0.999_999), 2);
    }

    #[test]
    fn boosting_a_gaussian_posterior_keeps_its_moments() {
        // Posterior N(4y/5, 1/5) per parameter: the first component is exact, the second may
        // take any weight (a copy of the posterior changes nothing); the mixture's draws must
        // keep the mean and variance. 20,000 draws: the Monte-Carlo error of a mean is 0.0032,
        // of a variance 0.002 (√(2/n) × 0.2); the bounds are four of them.
        let y = [1.0, -0.5, 2.0];
        let posterior = gaussian_posterior(&y);
        let draws = 20_000;
        let mut b = BoostingVi::new(spec(2, 3000, draws), y.len());
        let out = run(&mut b, &posterior, 21, 6000, Array2::zeros((0, y.len())));
        let (fitted, weights) = b.mixture();
        assert_eq!(fitted.len(), 2);
        assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for (j, &yj) in y.iter().enumerate() {
            let column = out.draws.slice(ndarray::s![0, .., j]);
            let mean = column.mean().unwrap();
            let var = column.mapv(|v| (v - mean).powi(2)).mean().unwrap();
            assert!((mean - 0.8 * yj).abs() < 4.0 * 0.0032, "mean {j}: {mean} vs {}", 0.8 * yj);
            assert!((var - 0.2).abs() < 4.0 * 0.002, "variance {j}: {var}");
        }
    }
}
