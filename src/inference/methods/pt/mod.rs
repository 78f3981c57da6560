//! Parallel tempering: ladders of chains at inverse temperatures 0 = β₀ < … < β_N = 1, each
//! chain targeting p(m) p(d | m)^β with its temperature's adaptive random walk ([`RandomWalk`],
//! adapted during burn-in from the states of every ladder at that temperature, then frozen), and
//! non-reversible swaps between neighbours with an adaptive schedule ([`Tempering`]).
//!
//! Slot s = c·T + i holds ladder c's chain at temperature i; at iteration t it draws its
//! proposal and accept uniform from the stream (seed, proposal, s, t). Each rank advances the
//! slots it owns, the states are gathered, and every rank performs the same swaps (their
//! uniforms come from per-ladder streams), so the run is the same for any rank count. The β = 1
//! chains are the draws (`posterior/m`); every chain's log-likelihood after burn-in goes to
//! `tempering/` with the ladder, swap rates, barrier and round trips.

mod config;

use ndarray::{Array1, Array2, ArrayView1, Axis, s};
use rand::RngExt;

pub use config::{Config, Spec};
use crate::core::error::{Error, Result};
use crate::core::io::names::var;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::mcmc::{ChainDraws, RandomWalk, after_burn_in, keeps_draw};
use crate::inference::tempering::Tempering;
use crate::inference::{
    Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace, mean_over_ok,
};

pub struct ParallelTempering {
    spec: Spec,
    dim: usize,
    tempering: Tempering,
    // Every slot's state (every rank holds all of them).
    x: Array2<f64>,
    lp: Array1<f64>,
    log_prior: Array1<f64>,
    log_likelihood: Array1<f64>,
    misfit: Array1<f64>,
    /// One random walk per temperature.
    walks: Vec<RandomWalk>,
    /// Accepted explorer moves per slot after burn-in.
    accepted_after_burn_in: Array1<f64>,
    draws: ChainDraws,
}

/// log p(m) + β log L, and log p itself (bit for bit) at β = 1.
fn tempered(lp: f64, log_prior: f64, log_likelihood: f64, beta: f64) -> f64 {
    if beta == 1.0 {
        lp
    } else {
        log_prior + beta * log_likelihood
    }
}

impl ParallelTempering {
    pub fn new(spec: Spec, dim: usize) -> Self {
        let tempering = Tempering::new(spec.tempering.clone());
        let n = tempering.n_slots();
        let walk = RandomWalk::new(spec.proposal.initial_scale, &Array1::ones(dim));
        ParallelTempering {
            dim,
            x: Array2::zeros((n, dim)),
            lp: Array1::zeros(n),
            log_prior: Array1::zeros(n),
            log_likelihood: Array1::zeros(n),
            misfit: Array1::zeros(n),
            walks: vec![walk; spec.tempering.n_temperatures],
            accepted_after_burn_in: Array1::zeros(n),
            draws: ChainDraws::new(spec.tempering.chains, dim),
            tempering,
            spec,
        }
    }

    fn n_temperatures(&self) -> usize {
        self.spec.tempering.n_temperatures
    }

    /// Exchanges the states of two slots (the ladder has exchanged their log-likelihoods).
    fn exchange(&mut self, a: usize, b: usize) {
        for k in 0..self.dim {
            self.x.swap([a, k], [b, k]);
        }
        self.lp.swap(a, b);
        self.log_prior.swap(a, b);
        self.misfit.swap(a, b);
    }

    /// The explorer's acceptance rate after burn-in per temperature (all ladders).
    fn explorer_acceptance(&self) -> Array1<f64> {
        let after = after_burn_in(self.spec.iterations, self.spec.burn_in);
        Array1::from_iter((0..self.n_temperatures()).map(|i| {
            let slots = self.tempering.slots_at(i);
            slots.iter().map(|&s| self.accepted_after_burn_in[s]).sum::<f64>()
                / (after * slots.len() as f64)
        }))
    }
}

impl Method for ParallelTempering {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        let n = self.tempering.n_slots();
        self.x.assign(ctx.initial_members());
        let walk = RandomWalk::new(self.spec.proposal.initial_scale, ctx.prior_scale());
        self.walks = vec![walk; self.n_temperatures()];
        let eval = ctx.evaluate_owned(self.x.view(), false)?;
        let all = ctx.gather_evaluation(n, &eval);
        self.lp.assign(&all.log_prob);
        self.log_prior.assign(&all.log_prior);
        self.log_likelihood.assign(&all.log_likelihood);
        self.misfit.assign(&all.misfit);
        if let Some(s) = self.lp.iter().position(|v| !v.is_finite()) {
            return Err(Error::Run(format!(
                "chain {s} (ladder {}, temperature {}) starts where the posterior is zero (the forward model failed for its initial model); check method.init and the prior",
                s / self.n_temperatures(),
                s % self.n_temperatures()
            )));
        }
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, d, temps) = (self.tempering.n_slots(), self.dim, self.n_temperatures());
        let t = ctx.iteration();
        let owned = ctx.owned(n);

        // Explorer: one random-walk move of every owned slot at its temperature.
        let mut proposals = Array2::zeros((owned.len(), d));
        let mut log_u = Vec::with_capacity(owned.len());
        for (r, slot) in owned.clone().enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::Proposal, slot as u64, t as u64);
            self.walks[slot % temps].propose(self.x.row(slot), &mut rng, proposals.row_mut(r));
            log_u.push(rng.random::<f64>().ln());
        }
        let eval = ctx.evaluate(proposals.view(), false)?;
        let width = d + 6;
        let mut local = Vec::with_capacity(owned.len() * width);
        for (r, slot) in owned.clone().enumerate() {
            let beta = self.tempering.beta(slot);
            let current = tempered(
                self.lp[slot],
                self.log_prior[slot],
                self.log_likelihood[slot],
                beta,
            );
            let proposed = tempered(
                eval.log_prob[r],
                eval.log_prior[r],
                eval.log_likelihood[r],
                beta,
            );
            let accept = !eval.failed[r] && log_u[r] < proposed - current;
            if accept {
                local.extend(proposals.row(r).iter());
                local.extend([
                    eval.log_prob[r],
                    eval.log_prior[r],
                    eval.log_likelihood[r],
                    eval.misfit[r],
                ]);
            } else {
                local.extend(self.x.row(slot).iter());
                local.extend([
                    self.lp[slot],
                    self.log_prior[slot],
                    self.log_likelihood[slot],
                    self.misfit[slot],
                ]);
            }
            local.extend([
                f64::from(u8::from(accept)),
                f64::from(u8::from(eval.failed[r])),
            ]);
        }
        let all = ctx.gather_rows(n, width, &local);
        self.x.assign(&all.slice(s![.., ..d]));
        self.lp.assign(&all.column(d));
        self.log_prior.assign(&all.column(d + 1));
        self.log_likelihood.assign(&all.column(d + 2));
        self.misfit.assign(&all.column(d + 3));
        let accepted = all.column(d + 4);
        let failed = all.column(d + 5);

        if t < self.spec.burn_in {
            if self.spec.proposal.adapt {
                for i in 0..temps {
                    let slots = self.tempering.slots_at(i);
                    let states = self.x.select(Axis(0), &slots);
                    let rate = slots.iter().map(|&s| accepted[s]).sum::<f64>() / slots.len() as f64;
                    self.walks[i].adapt(states.view(), rate, t, &self.spec.proposal);
                }
            }
        } else {
            self.accepted_after_burn_in += &accepted;
        }

        // Swaps between neighbouring temperatures, the same on every rank.
        let mut ll = self.log_likelihood.to_vec();
        for (a, b) in self.tempering.swap(ctx.seed(), t, &mut ll) {
            self.exchange(a, b);
        }
        self.log_likelihood = Array1::from(ll);
        self.tempering.end_iteration(t, self.log_likelihood.as_slice().expect("contiguous"));

        let top = self.tempering.posterior_slots();
        if keeps_draw(t, self.spec.burn_in, self.spec.thin) {
            let pick = |a: ArrayView1<f64>| a.select(Axis(0), &top);
            self.draws.push(
                self.x.select(Axis(0), &top).view(),
                pick(self.lp.view()).view(),
                pick(self.log_likelihood.view()).view(),
                pick(accepted).view(),
                pick(failed).view(),
            );
        }
        let no_failures = vec![false; top.len()];
        let mut traces = vec![
            (Trace::StepSize, self.walks[temps - 1].scale()),
            (Trace::Acceptance, accepted.sum() / n as f64),
        ];
        traces.extend(self.tempering.traces());
        Ok(StepStats {
            misfit: mean_over_ok(top.iter().map(|&s| self.misfit[s]), &no_failures),
            lp_mean: mean_over_ok(top.iter().map(|&s| self.lp[s]), &no_failures),
            n_evaluated: n,
            n_failed: failed.sum() as usize,
            traces,
            converged: false,
        })
    }

    fn output(&self) -> MethodOutput {
        let after = after_burn_in(self.spec.iterations, self.spec.burn_in);
        let top = self.tempering.posterior_slots();
        MethodOutput {
            draws: self.draws.draws(),
            space: Space::Unconstrained,
            draw_stats: self.draws.draw_stats(),
            chain_stats: vec![(
                var::ACCEPTANCE_RATE,
                self.accepted_after_burn_in.select(Axis(0), &top) / after,
            )],
            independent_chains: true,
            kept: vec![self.tempering.kept(self.explorer_acceptance())],
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        state.put("x", self.x.clone().into_dyn());
        state.put("lp", self.lp.clone().into_dyn());
        state.put("log_prior", self.log_prior.clone().into_dyn());
        state.put("log_likelihood", self.log_likelihood.clone().into_dyn());
        state.put("misfit", self.misfit.clone().into_dyn());
        for (i, walk) in self.walks.iter().enumerate() {
            walk.checkpoint(&format!("walk{i}."), &mut state);
        }
        state.put(
            "accepted_after_burn_in",
            self.accepted_after_burn_in.clone().into_dyn(),
        );
        self.draws.checkpoint(&mut state);
        self.tempering.checkpoint(&mut state);
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.tempering.n_slots(), self.dim);
        self.x = state.array2("x", [n, d])?;
        self.lp = state.array1("lp", n)?;
        self.log_prior = state.array1("log_prior", n)?;
        self.log_likelihood = state.array1("log_likelihood", n)?;
        self.misfit = state.array1("misfit", n)?;
        for (i, walk) in self.walks.iter_mut().enumerate() {
            walk.restore(&format!("walk{i}."), state)?;
        }
        self.accepted_after_burn_in = state.array1("accepted_after_burn_in", n)?;
        self.draws.restore(state)?;
        self.tempering.restore(state)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::core::config::spec::{InitSpec, MembersSpec};
    use crate::inference::mcmc::Adaptation;
    use crate::inference::tempering::TemperingSpec;
    use crate::inference::testing::{gaussian_posterior, run, run_cut_and_resumed};

    fn spec(chains: usize, temps: usize, iterations: usize, burn_in: usize, rounds: usize) -> Spec {
        Spec {
            members: MembersSpec {
                n: chains * temps,
                init: InitSpec::Prior,
                max_failed_fraction: 0.5,
            },
            iterations,
            burn_in,
            thin: 1,
            tempering: TemperingSpec {
                n_temperatures: temps,
                chains,
                swap_every: 2,
                initial_betas: (0..temps).map(|i| i as f64 / (temps - 1) as f64).collect(),
                rounds,
                burn_in,
                thin: 1,
            },
            proposal: Adaptation {
                initial_scale: None,
                adapt: true,
                adapt_every: 100,
                target_acceptance: 0.3,
            },
        }
    }

    #[test]
    fn the_beta_one_chains_sample_the_posterior() {
        // Posterior N(4y/5, 1/5) per parameter (prior N(0, 1), unit likelihood precision 4 from
        // the helper). 2 ladders × 30,000 draws with an autocorrelation time below ~10 give an
        // ESS above 6,000: mean errors below √(0.2/6000) = 0.006, variance errors below
        // 0.2 √(2/6000) = 0.0037; bounds at 5 of those.
        let y = [1.0, -0.5];
        let posterior = gaussian_posterior(&y);
        let mut pt = ParallelTempering::new(spec(2, 4, 33_000, 3_000, 3), 2);
        let out = run(&mut pt, &posterior, 7, 33_000, Array2::zeros((8, 2)));
        assert_eq!(out.draws.dim(), (2, 30_000, 2));
        for j in 0..2 {
            let column: Vec<f64> = out.draws.index_axis(Axis(2), j).iter().copied().collect();
            let n = column.len() as f64;
            let mean = column.iter().sum::<f64>() / n;
            let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!((mean - 0.8 * y[j]).abs() < 0.03, "mean {j}: {mean}");
            assert!((var - 0.2).abs() < 0.019, "variance {j}: {var}");
        }
        // The ladder stays a ladder and the series has one row per retained draw.
        let betas = pt.tempering.betas().to_vec();
        assert_eq!(betas[0], 0.0);
        assert_eq!(betas[3], 1.0);
        assert!(betas.windows(2).all(|w| w[1] > w[0]), "ladder {betas:?}");
        let kept = &out.kept[0];
        let series = &kept.arrays.iter().find(|(n, _)| n == var::LOG_LIKELIHOOD).unwrap().1;
        assert_eq!(series.shape(), &[4, 2, 30_000]);
    }

    #[test]
    fn a_restored_checkpoint_continues_with_the_same_bits() {
        let posterior = gaussian_posterior(&[0.3, 0.7, -1.0]);
        let s = spec(2, 3, 400, 200, 2);
        let mut whole = ParallelTempering::new(s.clone(), 3);
        let a = run(&mut whole, &posterior, 5, 400, Array2::zeros((6, 3)));
        // Stop within an adaptation round of burn-in, restore into a fresh method, continue.
        let second =
            run_cut_and_resumed(|| ParallelTempering::new(s.clone(), 3), &posterior, 5, 400, 77, Array2::zeros((6, 3)));
        let b = second.output();
        assert_eq!(a.draws, b.draws);
        assert_eq!(a.draw_stats, b.draw_stats);
        assert_eq!(a.kept, b.kept);
    }
}
