//! Stein variational gradient descent (Liu & Wang 2016) with an RBF kernel
//! k(x, y) = exp(−‖x − y‖² / h) (or the diagonal matrix kernel of `stein_kernel`):
//!
//! ```text
//!   φ(x_i) = (1/N) Σ_j [ k(x_j, x_i) ∇ log p(x_j) + (2/h) (x_i − x_j) k(x_j, x_i) ]
//! ```
//!
//! with h = multiplier · median_{i<j} ‖x_i − x_j‖² / ln(N + 1) (or fixed), and an Adam or SGD
//! ascent step with optional step decay. Each rank evaluates the particles it owns; scores are
//! gathered by global index, each rank computes φ for its own particles with a sequential sum over
//! all j, and the φ's are gathered so that every rank applies the same update to every particle.
//! A particle whose forward model fails stays in place and is left out of the sums for that step.

mod config;

use ndarray::{Array1, Array2, Axis};

pub use config::{Config, Spec};
use crate::core::error::Result;
use crate::core::io::names::var;
use crate::inference::diagnostics::stein::{ksd_row, ksd_squared};
use crate::inference::optim::Optimizer;
use crate::inference::{
    DrawValues, Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace,
    mean_over_ok,
};

pub struct Svgd {
    spec: Spec,
    dim: usize,
    /// Current particles (after the last update), unconstrained.
    x: Array2<f64>,
    optimizer: Optimizer,
    /// Positions where lp was last evaluated, with their values: what the output holds.
    x_eval: Array2<f64>,
    lp: Array1<f64>,
    log_likelihood: Array1<f64>,
    failed: Vec<bool>,
}

impl Svgd {
    pub fn new(spec: Spec, dim: usize) -> Self {
        let n = spec.members.n;
        Svgd {
            dim,
            x: Array2::zeros((n, dim)),
            optimizer: Optimizer::new(spec.optimizer, &[n, dim]),
            x_eval: Array2::zeros((n, dim)),
            lp: Array1::from_elem(n, f64::NAN),
            log_likelihood: Array1::from_elem(n, f64::NAN),
            failed: vec![false; n],
            spec,
        }
    }
}

impl Method for Svgd {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        self.x.assign(ctx.initial_members());
        self.x_eval.assign(&self.x);
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, d) = (self.spec.members.n, self.dim);
        let t = ctx.iteration();
        let owned = ctx.owned(n);

        // Scores of the owned particles, gathered by global index (the parts are not needed).
        let mut eval = ctx.evaluate_owned_batch(self.x.view(), true)?;
        eval.grad_log_prior = None;
        eval.grad_log_likelihood = None;
        let all = ctx.gather_evaluation(n, &eval);
        let score = all.grad.as_ref().expect("asked for the gradient");
        let ok: Vec<usize> = (0..n).filter(|&i| !all.failed[i]).collect();

        let kernel = self.spec.kernel.fit(self.x.view(), score.view(), &ok);
        // Each owned particle's Stein direction and its row of the KSD U-statistic.
        let mut phi_local = vec![0.0; owned.len() * d];
        let mut ksd_local = vec![0.0; owned.len()];
        for (r, i) in owned.clone().enumerate() {
            if !all.failed[i] {
                kernel.stein_direction_into(self.x.view(), score.view(), &ok, i, &mut phi_local[r * d..(r + 1) * d]);
                ksd_local[r] = ksd_row(self.x.view(), score.view(), &ok, i);
            }
        }
        let phi = ctx.gather_rows(n, d, &phi_local);
        let ksd_rows = ctx.gather_rows(n, 1, &ksd_local);
        let ksd = ksd_squared(ok.iter().map(|&i| ksd_rows[[i, 0]]), ok.len());

        self.x_eval.assign(&self.x);
        self.lp.assign(&all.log_prob);
        self.log_likelihood.assign(&all.log_likelihood);
        self.failed.clone_from(&all.failed);

        let mut lr = self.spec.optimizer.step_size(t);
        for &i in &ok {
            let x = self.x.row_mut(i).into_slice().expect("standard layout");
            let g = phi.row(i).to_slice().expect("standard layout");
            lr = self.optimizer.ascend_at(t, i * d, x, g);
        }
        Ok(StepStats {
            misfit: mean_over_ok(all.misfit.iter().copied(), &all.failed),
            lp_mean: mean_over_ok(all.log_prob.iter().copied(), &all.failed),
            n_evaluated: n,
            n_failed: n - ok.len(),
            traces: vec![(Trace::StepSize, lr), (Trace::Bandwidth, kernel.h), (Trace::Ksd, ksd)],
            converged: false,
        })
    }

    fn finish(&mut self, ctx: &mut RunContext) -> Result<()> {
        let n = self.spec.members.n;
        let eval = ctx.evaluate_owned(self.x.view(), false)?;
        let all = ctx.gather_evaluation(n, &eval);
        self.x_eval.assign(&self.x);
        self.lp.assign(&all.log_prob);
        self.log_likelihood.assign(&all.log_likelihood);
        self.failed = all.failed;
        Ok(())
    }

    fn output(&self) -> MethodOutput {
        let (n, d) = (self.spec.members.n, self.dim);
        MethodOutput {
            draws: self
                .x_eval
                .clone()
                .into_shape_with_order((1, n, d))
                .expect("particles reshape"),
            space: Space::Unconstrained,
            draw_stats: vec![
                (var::LP, DrawValues::F64(self.lp.clone().insert_axis(Axis(0)))),
                (
                    var::LOG_LIKELIHOOD,
                    DrawValues::F64(self.log_likelihood.clone().insert_axis(Axis(0))),
                ),
                (
                    var::N_FAILED,
                    DrawValues::I64(Array2::from_shape_fn((1, n), |(_, i)| {
                        i64::from(self.failed[i])
                    })),
                ),
            ],
            chain_stats: Vec::new(),
            independent_chains: false,
            kept: Vec::new(),
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        state.put("particles", self.x.clone().into_dyn());
        self.optimizer.save("", &mut state);
        state.put("evaluated_particles", self.x_eval.clone().into_dyn());
        state.put("lp", self.lp.clone().into_dyn());
        state.put("log_likelihood", self.log_likelihood.clone().into_dyn());
        state.put(
            "failed",
            Array1::from_iter(self.failed.iter().map(|&f| f64::from(u8::from(f)))).into_dyn(),
        );
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.spec.members.n, self.dim);
        let as2 = |name: &str| state.array2(name, [n, d]);
        let as1 = |name: &str| state.array1(name, n);
        self.x = as2("particles")?;
        self.optimizer.restore("", state)?;
        self.x_eval = as2("evaluated_particles")?;
        self.lp = as1("lp")?;
        self.log_likelihood = as1("log_likelihood")?;
        self.failed = as1("failed")?.iter().map(|&f| f > 0.5).collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::core::config::spec::{InitSpec, MembersSpec};
    use crate::inference::optim::OptimizerSpec;
    use crate::inference::stein_kernel::KernelSpec;
    use crate::inference::testing::{gaussian_posterior, run};

    #[test]
    fn particles_settle_near_a_gaussian_posterior() {
        // Posterior N(0.8, 0.2) in one dimension; 50 particles of deterministic SVGD reach its
        // mean (measured error 1e-6) and underestimate its variance, the method's known bias
        // with the median bandwidth (measured 0.1875, −6 %); the bounds flag a regression.
        let posterior = gaussian_posterior(&[1.0]);
        let n = 50;
        let spec = Spec {
            members: MembersSpec {
                n,
                init: InitSpec::Prior,
                max_failed_fraction: 0.5,
            },
            iterations: 2000,
            optimizer: OptimizerSpec::sgd(0.05),
            kernel: KernelSpec::median_rbf(),
        };
        let initial = Array2::from_shape_fn((n, 1), |(i, _)| -2.0 + 4.0 * i as f64 / (n - 1) as f64);
        let mut svgd = Svgd::new(spec, 1);
        let out = run(&mut svgd, &posterior, 1, 2000, initial);
        let v: Vec<f64> = out.draws.iter().copied().collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.8).abs() < 5e-3, "mean {mean}");
        assert!((var / 0.2 - 1.0).abs() < 0.15, "variance {var}");
    }
}
