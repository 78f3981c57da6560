//! Metropolis–Hastings with a Gaussian random walk in the unconstrained space, several chains.
//!
//! During burn-in the proposal adapts (Haario et al. 2001, pooled over chains): the covariance
//! becomes the running empirical covariance of all chains' states, shrunk towards the initial
//! diagonal with weight d/(n + d), refreshed every `adapt_every` iterations; the global scale
//! follows a Robbins–Monro recursion towards the target acceptance rate. After burn-in the
//! proposal is frozen, so the retained chains are exact MH chains. Chain c at iteration t draws its
//! proposal and its accept uniform from the stream (seed, proposal, c, t); each rank advances the
//! chains it owns and the new states are gathered, so every rank holds every chain and the
//! adaptation is computed identically everywhere.

mod config;

use ndarray::{Array1, Array2, Array3, Axis, s};
use rand::RngExt;
use rand_distr::StandardNormal;

pub use config::{Config, Spec};
use crate::core::error::{Error, Result};
use crate::core::io::names::var;
use crate::core::linalg::{cholesky, lower_mul_into};
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::{
    DrawValues, Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace,
    mean_over_ok,
};

pub struct MetropolisHastings {
    spec: Spec,
    dim: usize,
    // Current chain states (every rank holds every chain).
    x: Array2<f64>,
    lp: Array1<f64>,
    log_likelihood: Array1<f64>,
    misfit: Array1<f64>,
    // Proposal: N(0, exp(2 log_scale) L Lᵀ).
    chol: Array2<f64>,
    initial_cov_diag: Array1<f64>,
    log_scale: f64,
    // Pooled running moments of the chain states during burn-in.
    n_seen: f64,
    mean: Array1<f64>,
    scatter: Array2<f64>,
    // Post-burn-in counts and retained draws, (chain, draw) with draws appended.
    accepted_after_burn_in: Array1<f64>,
    draws: Vec<Array2<f64>>,
    draw_lp: Vec<Array1<f64>>,
    draw_log_likelihood: Vec<Array1<f64>>,
    draw_accepted: Vec<Array1<f64>>,
    draw_failed: Vec<Array1<f64>>,
}

impl MetropolisHastings {
    pub fn new(spec: Spec, dim: usize) -> Self {
        let n = spec.members.n;
        MetropolisHastings {
            dim,
            x: Array2::zeros((n, dim)),
            lp: Array1::zeros(n),
            log_likelihood: Array1::zeros(n),
            misfit: Array1::zeros(n),
            chol: Array2::eye(dim),
            initial_cov_diag: Array1::ones(dim),
            log_scale: 0.0,
            n_seen: 0.0,
            mean: Array1::zeros(dim),
            scatter: Array2::zeros((dim, dim)),
            accepted_after_burn_in: Array1::zeros(n),
            draws: Vec::new(),
            draw_lp: Vec::new(),
            draw_log_likelihood: Vec::new(),
            draw_accepted: Vec::new(),
            draw_failed: Vec::new(),
            spec,
        }
    }

    fn set_diagonal_proposal(&mut self) {
        self.chol = Array2::from_diag(&self.initial_cov_diag.mapv(f64::sqrt));
    }

    /// Welford update of the pooled mean and scatter with every chain's state, in chain order.
    fn accumulate_moments(&mut self) {
        for c in 0..self.spec.members.n {
            self.n_seen += 1.0;
            let row = self.x.row(c);
            let delta: Array1<f64> = &row - &self.mean;
            self.mean.scaled_add(1.0 / self.n_seen, &delta);
            let delta2: Array1<f64> = &row - &self.mean;
            for a in 0..self.dim {
                for b in 0..=a {
                    self.scatter[[a, b]] += delta[a] * delta2[b];
                }
            }
        }
    }

    /// Proposal covariance from the pooled moments, shrunk towards the initial diagonal.
    fn refresh_covariance(&mut self) {
        let n = self.n_seen;
        let n0 = self.dim as f64;
        let w = n / (n + n0);
        let mut cov = Array2::zeros((self.dim, self.dim));
        for a in 0..self.dim {
            for b in 0..=a {
                let emp = self.scatter[[a, b]] / (n - 1.0).max(1.0);
                let prior = if a == b {
                    self.initial_cov_diag[a]
                } else {
                    0.0
                };
                cov[[a, b]] = w * emp + (1.0 - w) * prior;
            }
            cov[[a, a]] += 1e-10 * self.initial_cov_diag[a];
        }
        if let Ok(l) = cholesky(cov.view()) {
            self.chol = l;
        }
    }

    fn retain(&mut self, accepted: &Array1<f64>, failed: &Array1<f64>) {
        self.draws.push(self.x.clone());
        self.draw_lp.push(self.lp.clone());
        self.draw_log_likelihood.push(self.log_likelihood.clone());
        self.draw_accepted.push(accepted.clone());
        self.draw_failed.push(failed.clone());
    }

    fn stack(&self, rows: &[Array1<f64>]) -> Array2<f64> {
        let n = self.spec.members.n;
        Array2::from_shape_fn((n, rows.len()), |(c, k)| rows[k][c])
    }
}

impl Method for MetropolisHastings {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        let n = self.spec.members.n;
        self.x.assign(ctx.initial_members());
        let d = self.dim as f64;
        match self.spec.initial_scale {
            Some(scale) => {
                self.initial_cov_diag = Array1::ones(self.dim);
                self.log_scale = scale.ln();
            }
            None => {
                self.initial_cov_diag = ctx.prior_scale().mapv(|s| s * s);
                self.log_scale = (2.38 / d.sqrt()).ln();
            }
        }
        self.set_diagonal_proposal();
        let eval = ctx.evaluate_owned(self.x.view(), false)?;
        let all = ctx.gather_evaluation(n, &eval);
        self.lp.assign(&all.log_prob);
        self.log_likelihood.assign(&all.log_likelihood);
        self.misfit.assign(&all.misfit);
        if let Some(c) = self.lp.iter().position(|v| !v.is_finite()) {
            return Err(Error::Run(format!(
                "chain {c} starts where the posterior is zero (the forward model failed for its initial model); check method.init and the prior"
            )));
        }
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, d) = (self.spec.members.n, self.dim);
        let t = ctx.iteration();
        let owned = ctx.owned(n);
        let scale = self.log_scale.exp();

        // Proposals and accept uniforms of the owned chains, from their own streams.
        let mut proposals = Array2::zeros((owned.len(), d));
        let mut log_u = Vec::with_capacity(owned.len());
        let mut z = Array1::zeros(d);
        let mut step = Array1::zeros(d);
        for (r, c) in owned.clone().enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::Proposal, c as u64, t as u64);
            for v in z.iter_mut() {
                *v = rng.sample(StandardNormal);
            }
            lower_mul_into(self.chol.view(), z.view(), step.view_mut());
            let mut row = proposals.row_mut(r);
            for k in 0..d {
                row[k] = self.x[[c, k]] + scale * step[k];
            }
            log_u.push(rng.random::<f64>().ln());
        }
        let eval = ctx.evaluate(proposals.view(), false)?;

        // Accept or reject the owned chains; gather [x, lp, loglik, misfit, accepted, failed].
        let width = d + 5;
        let mut local = Vec::with_capacity(owned.len() * width);
        for (r, c) in owned.clone().enumerate() {
            let accept = !eval.failed[r] && log_u[r] < eval.log_prob[r] - self.lp[c];
            if accept {
                local.extend(proposals.row(r).iter());
                local.extend([eval.log_prob[r], eval.log_likelihood[r], eval.misfit[r]]);
            } else {
                local.extend(self.x.row(c).iter());
                local.extend([self.lp[c], self.log_likelihood[c], self.misfit[c]]);
            }
            local.extend([
                f64::from(u8::from(accept)),
                f64::from(u8::from(eval.failed[r])),
            ]);
        }
        let all = ctx.gather_rows(n, width, &local);
        self.x.assign(&all.slice(s![.., ..d]));
        self.lp.assign(&all.column(d));
        self.log_likelihood.assign(&all.column(d + 1));
        self.misfit.assign(&all.column(d + 2));
        let accepted = all.column(d + 3).to_owned();
        let failed = all.column(d + 4).to_owned();
        let acceptance = accepted.sum() / n as f64;
        let n_failed = failed.sum() as usize;

        if t < self.spec.burn_in {
            if self.spec.adapt {
                self.accumulate_moments();
                let gain = 1.0 / ((t + 1) as f64).powf(0.6);
                self.log_scale += gain * (acceptance - self.spec.target_acceptance);
                if (t + 1).is_multiple_of(self.spec.adapt_every) && self.n_seen >= 2.0 * d as f64 {
                    self.refresh_covariance();
                }
            }
        } else {
            self.accepted_after_burn_in += &accepted;
            if (t + 1 - self.spec.burn_in).is_multiple_of(self.spec.thin) {
                self.retain(&accepted, &failed);
            }
        }
        let no_failures = vec![false; n];
        Ok(StepStats {
            misfit: mean_over_ok(self.misfit.iter().copied(), &no_failures),
            lp_mean: mean_over_ok(self.lp.iter().copied(), &no_failures),
            n_evaluated: n,
            n_failed,
            traces: vec![(Trace::StepSize, scale), (Trace::Acceptance, acceptance)],
            converged: false,
        })
    }

    fn output(&self) -> MethodOutput {
        let (n, d, k) = (self.spec.members.n, self.dim, self.draws.len());
        let draws = Array3::from_shape_fn((n, k, d), |(c, j, p)| self.draws[j][[c, p]]);
        let after = self
            .spec
            .iterations
            .saturating_sub(self.spec.burn_in)
            .max(1) as f64;
        MethodOutput {
            draws,
            space: Space::Unconstrained,
            draw_stats: vec![
                (var::LP, DrawValues::F64(self.stack(&self.draw_lp))),
                (
                    var::LOG_LIKELIHOOD,
                    DrawValues::F64(self.stack(&self.draw_log_likelihood)),
                ),
                (
                    var::N_FAILED,
                    DrawValues::I64(self.stack(&self.draw_failed).mapv(|v| v as i64)),
                ),
                (
                    var::ACCEPTED,
                    DrawValues::I8(self.stack(&self.draw_accepted).mapv(|v| v as i8)),
                ),
            ],
            chain_stats: vec![(var::ACCEPTANCE_RATE, &self.accepted_after_burn_in / after)],
            independent_chains: true,
            kept: Vec::new(),
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        state.put("x", self.x.clone().into_dyn());
        state.put("lp", self.lp.clone().into_dyn());
        state.put("log_likelihood", self.log_likelihood.clone().into_dyn());
        state.put("misfit", self.misfit.clone().into_dyn());
        state.put("chol", self.chol.clone().into_dyn());
        state.put("initial_cov_diag", self.initial_cov_diag.clone().into_dyn());
        state.put_scalar("log_scale", self.log_scale);
        state.put_scalar("n_seen", self.n_seen);
        state.put("mean", self.mean.clone().into_dyn());
        state.put("scatter", self.scatter.clone().into_dyn());
        state.put(
            "accepted_after_burn_in",
            self.accepted_after_burn_in.clone().into_dyn(),
        );
        state.put("draws", self.output().draws.into_dyn());
        state.put("draw_lp", self.stack(&self.draw_lp).into_dyn());
        state.put(
            "draw_log_likelihood",
            self.stack(&self.draw_log_likelihood).into_dyn(),
        );
        state.put("draw_accepted", self.stack(&self.draw_accepted).into_dyn());
        state.put("draw_failed", self.stack(&self.draw_failed).into_dyn());
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.spec.members.n, self.dim);
        let arr2 = |name: &str, shape: [usize; 2]| -> Result<Array2<f64>> {
            Ok(state
                .array(name, &shape)?
                .into_dimensionality()
                .expect("checked shape"))
        };
        let arr1 = |name: &str, len: usize| -> Result<Array1<f64>> {
            Ok(state
                .array(name, &[len])?
                .into_dimensionality()
                .expect("checked shape"))
        };
        self.x = arr2("x", [n, d])?;
        self.lp = arr1("lp", n)?;
        self.log_likelihood = arr1("log_likelihood", n)?;
        self.misfit = arr1("misfit", n)?;
        self.chol = arr2("chol", [d, d])?;
        self.initial_cov_diag = arr1("initial_cov_diag", d)?;
        self.log_scale = state.scalar("log_scale")?;
        self.n_seen = state.scalar("n_seen")?;
        self.mean = arr1("mean", d)?;
        self.scatter = arr2("scatter", [d, d])?;
        self.accepted_after_burn_in = arr1("accepted_after_burn_in", n)?;
        let draws = state.get("draws")?;
        let k = draws.shape().get(1).copied().unwrap_or(0);
        let draws: Array3<f64> = state
            .array("draws", &[n, k, d])?
            .into_dimensionality()
            .expect("checked shape");
        let per_draw = |name: &str| -> Result<Vec<Array1<f64>>> {
            let a = arr2(name, [n, k])?;
            Ok(a.axis_iter(Axis(1)).map(|col| col.to_owned()).collect())
        };
        self.draws = (0..k)
            .map(|j| draws.slice(s![.., j, ..]).to_owned())
            .collect();
        self.draw_lp = per_draw("draw_lp")?;
        self.draw_log_likelihood = per_draw("draw_log_likelihood")?;
        self.draw_accepted = per_draw("draw_accepted")?;
        self.draw_failed = per_draw("draw_failed")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::core::config::spec::{InitSpec, MembersSpec};
    use crate::inference::testing::{gaussian_posterior, run};

    fn spec(n_chains: usize, iterations: usize, burn_in: usize) -> Spec {
        Spec {
            members: MembersSpec {
                n: n_chains,
                init: InitSpec::Prior,
                max_failed_fraction: 0.5,
            },
            iterations,
            burn_in,
            thin: 1,
            initial_scale: None,
            adapt: true,
            adapt_every: 100,
            target_acceptance: 0.3,
        }
    }

    #[test]
    fn chains_sample_a_gaussian_posterior() {
        // Posterior N(4y/5, 1/5) per parameter. 4 chains × 20,000 draws with an integrated
        // autocorrelation time below ~10 give an ESS above 8,000: the mean's Monte-Carlo error
        // is below √(0.2 / 8000) = 0.005, the variance's below 0.2 √(2 / 8000) = 0.0032;
        // bounds at 5 of those.
        let y = [1.0, -0.5];
        let posterior = gaussian_posterior(&y);
        let mut mh = MetropolisHastings::new(spec(4, 22_000, 2_000), 2);
        let out = run(&mut mh, &posterior, 3, 22_000, Array2::zeros((4, 2)));
        assert_eq!(out.draws.dim(), (4, 20_000, 2));
        for j in 0..2 {
            let column: Vec<f64> = out.draws.index_axis(Axis(2), j).iter().copied().collect();
            let n = column.len() as f64;
            let mean = column.iter().sum::<f64>() / n;
            let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!((mean - 0.8 * y[j]).abs() < 0.025, "mean {j}: {mean}");
            assert!((var - 0.2).abs() < 0.016, "variance {j}: {var}");
        }
        let rate = &out.chain_stats[0].1;
        assert!(rate.iter().all(|&r| r > 0.15 && r < 0.6), "acceptance {rate}");
    }

    #[test]
    fn a_restored_checkpoint_continues_with_the_same_bits() {
        let posterior = gaussian_posterior(&[0.3, 0.7, -1.0]);
        let s = spec(2, 300, 100);
        let mut whole = MetropolisHastings::new(s.clone(), 3);
        let a = run(&mut whole, &posterior, 5, 300, Array2::zeros((2, 3)));
        // Stop after 150 iterations, restore into a fresh method, continue.
        let comm = crate::core::parallel::SingleProcess;
        let mut ctx = RunContext::new(&posterior, &comm, crate::core::parallel::Par::Seq, 5, Array2::zeros((2, 3)));
        let mut first = MetropolisHastings::new(s.clone(), 3);
        first.init(&mut ctx).unwrap();
        for t in 0..150 {
            ctx.set_iteration(t);
            first.step(&mut ctx).unwrap();
        }
        let state = first.checkpoint();
        let mut second = MetropolisHastings::new(s, 3);
        second.restore(&state).unwrap();
        for t in 150..300 {
            ctx.set_iteration(t);
            second.step(&mut ctx).unwrap();
        }
        let b = second.output();
        assert_eq!(a.draws, b.draws);
        assert_eq!(a.draw_stats, b.draw_stats);
    }
}
