//! Metropolis–Hastings with a Gaussian random walk in the unconstrained space, several chains.
//!
//! During burn-in the proposal adapts ([`RandomWalk`], pooled over chains); after burn-in it is
//! frozen, so the retained chains are exact MH chains. Chain c at iteration t draws its
//! proposal and its accept uniform from the stream (seed, proposal, c, t); each rank advances the
//! chains it owns and the new states are gathered, so every rank holds every chain and the
//! adaptation is computed identically everywhere.

mod config;

use ndarray::{Array1, Array2, s};
use rand::RngExt;

pub use config::{Config, Spec};
use crate::core::error::{Error, Result};
use crate::core::io::names::var;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::mcmc::{ChainDraws, RandomWalk, after_burn_in, keeps_draw};
use crate::inference::{
    Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace, mean_over_ok,
};

pub struct MetropolisHastings {
    spec: Spec,
    dim: usize,
    // Current chain states (every rank holds every chain).
    x: Array2<f64>,
    lp: Array1<f64>,
    log_likelihood: Array1<f64>,
    misfit: Array1<f64>,
    walk: RandomWalk,
    // Post-burn-in acceptance counts and the retained draws.
    accepted_after_burn_in: Array1<f64>,
    draws: ChainDraws,
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
            walk: RandomWalk::new(spec.proposal.initial_scale, &Array1::ones(dim)),
            accepted_after_burn_in: Array1::zeros(n),
            draws: ChainDraws::new(n, dim),
            spec,
        }
    }
}

impl Method for MetropolisHastings {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        let n = self.spec.members.n;
        self.x.assign(ctx.initial_members());
        self.walk = RandomWalk::new(self.spec.proposal.initial_scale, ctx.prior_scale());
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
        let scale = self.walk.scale();

        // Proposals and accept uniforms of the owned chains, from their own streams.
        let mut proposals = Array2::zeros((owned.len(), d));
        let mut log_u = Vec::with_capacity(owned.len());
        for (r, c) in owned.clone().enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::Proposal, c as u64, t as u64);
            self.walk.propose(self.x.row(c), &mut rng, proposals.row_mut(r));
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
        let accepted = all.column(d + 3);
        let failed = all.column(d + 4);
        let acceptance = accepted.sum() / n as f64;
        let n_failed = failed.sum() as usize;

        if t < self.spec.burn_in {
            if self.spec.proposal.adapt {
                self.walk.adapt(self.x.view(), acceptance, t, &self.spec.proposal);
            }
        } else {
            self.accepted_after_burn_in += &accepted;
            if keeps_draw(t, self.spec.burn_in, self.spec.thin) {
                self.draws.push(
                    self.x.view(),
                    self.lp.view(),
                    self.log_likelihood.view(),
                    accepted,
                    failed,
                );
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
        let after = after_burn_in(self.spec.iterations, self.spec.burn_in);
        MethodOutput {
            draws: self.draws.draws(),
            space: Space::Unconstrained,
            draw_stats: self.draws.draw_stats(),
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
        self.walk.checkpoint("", &mut state);
        state.put(
            "accepted_after_burn_in",
            self.accepted_after_burn_in.clone().into_dyn(),
        );
        self.draws.checkpoint(&mut state);
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.spec.members.n, self.dim);
        self.x = state.array2("x", [n, d])?;
        self.lp = state.array1("lp", n)?;
        self.log_likelihood = state.array1("log_likelihood", n)?;
        self.misfit = state.array1("misfit", n)?;
        self.walk.restore("", state)?;
        self.accepted_after_burn_in = state.array1("accepted_after_burn_in", n)?;
        self.draws.restore(state)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Axis};

    use super::*;
    use crate::inference::mcmc::Adaptation;
    use crate::core::config::spec::{InitSpec, MembersSpec};
    use crate::inference::testing::{gaussian_posterior, run, run_cut_and_resumed};

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
            proposal: Adaptation {
                initial_scale: None,
                adapt: true,
                adapt_every: 100,
                target_acceptance: 0.3,
            },
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
        let second =
            run_cut_and_resumed(|| MetropolisHastings::new(s.clone(), 3), &posterior, 5, 300, 150, Array2::zeros((2, 3)));
        let b = second.output();
        assert_eq!(a.draws, b.draws);
        assert_eq!(a.draw_stats, b.draw_stats);
    }
}
