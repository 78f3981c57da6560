//! Stochastic SVGD (Gallego & Insua 2018; Leimkuhler, Matthews & Weare 2018; VIP's sSVGD): the
//! SVGD flow made a diffusion whose invariant law is the posterior for every particle. With the
//! ensemble X = (x_1, …, x_N), the kernel's Gram matrix K over the usable particles (m of
//! them), the diagonal kernel's preconditioner S (the identity for the RBF kernel) and
//! D = (1/m) (K + δI) ⊗ S,
//!
//! ```text
//!   X' = X + ε [D ∇log π(X) + ∇·D] + √(2ε) D^{1/2} ξ,     ξ ~ N(0, I),
//!   D^{1/2} = √(1/m) L ⊗ S^{1/2},   L Lᵀ = K + δI (Cholesky),
//! ```
//!
//! where the drift D ∇log π + ∇·D is SVGD's φ for the kernel k + δ 𝟙[x = y] (the kernel plus
//! white noise of weight δ, `jitter`): φ plus δ S ∇log p(x_i) / m. The white noise keeps L
//! defined when particles nearly coincide (δ = 1e-9 by default) and, larger (0.1 by default
//! with `metropolis: true`), keeps D well conditioned, which the Metropolis test needs: the
//! reverse move is judged under D(X'), and directions where K's eigenvalues are tiny turn
//! small changes of D into large density ratios. When the kernel is nearly diagonal (high
//! dimension, few particles) the diffusion is Langevin dynamics with step ε(1 + δ)/m.
//!
//! `metropolis: true` proposes the whole ensemble this way and accepts it with probability
//! min(1, π(X') q(X | X') / (π(X) q(X' | X))), q the Gaussian of mean X + ε drift(X) and
//! covariance 2ε D(X); its log-determinant is m d ln √(2ε/m) + d Σ ln L_aa + (m/2) Σ ln s²_c,
//! so no determinant is formed. The chain of ensembles is then exact for π^N whatever ε, with
//! the kernel re-fitted at each state (bandwidth and scale are functions of the state).
//!
//! Draws: after `burn_in`, every `thin` iterations, every particle, pooled into one chain (the
//! particles interact: no R-hat across them). Unadjusted, a draw is the ensemble where the step
//! evaluated it; Metropolis-adjusted, the ensemble after the accept/reject. Noise rows come
//! from the stream (seed, proposal, particle, iteration), the accept uniform from (seed,
//! accept, 0, iteration): the same on every rank, so the output is the same bits for any
//! number of ranks. Each rank evaluates and computes the drift and noise of the particles it
//! owns; the Cholesky factor is computed on every rank from the gathered ensemble.

mod config;

use ndarray::{Array1, Array2, ArrayView2};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::core::error::{Error, Result};
use crate::core::io::names::var;
use crate::core::linalg::{cholesky, solve_lower};
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::diagnostics::stein::{ksd_row, ksd_squared};
use crate::inference::mcmc::{ChainDraws, after_burn_in, keeps_draw};
use crate::inference::stein_kernel::FittedKernel;
use crate::inference::{
    Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace, mean_over_ok,
};
pub use config::{Config, Spec};

pub struct StochasticSvgd {
    spec: Spec,
    dim: usize,
    /// The ensemble (unconstrained).
    x: Array2<f64>,
    /// Metropolis-adjusted: log posterior, log-likelihood, misfit and score of the current
    /// ensemble.
    lp: Array1<f64>,
    log_likelihood: Array1<f64>,
    misfit: Array1<f64>,
    score: Array2<f64>,
    /// Accepted ensemble moves after burn-in (Metropolis-adjusted).
    accepted_after_burn_in: f64,
    draws: ChainDraws,
}

/// The diffusion's pieces at one ensemble.
struct Dynamics {
    kernel: FittedKernel,
    /// Cholesky factor of K + δI over the usable particles.
    root: Array2<f64>,
    /// Per particle: the drift and the noise √(2ε/m) (L ⊗ S^{1/2}) ξ (rows of unusable
    /// particles zero; noise zero when no ξ was given).
    drift: Array2<f64>,
    noise: Array2<f64>,
    /// The KSD² U-statistic of the usable particles.
    ksd: f64,
}

impl Dynamics {
    /// √(2ε/m), the noise scale of m usable particles.
    fn noise_scale(step_size: f64, m: usize) -> f64 {
        (2.0 * step_size / m as f64).sqrt()
    }

    /// s² per parameter (ones for the RBF kernel).
    fn s2(&self, c: usize) -> f64 {
        self.kernel.s2.as_ref().map_or(1.0, |s2| s2[c])
    }

    /// ln det of the noise's matrix √(2ε/m) (L ⊗ S^{1/2}) over m particles × d parameters.
    fn log_det(&self, step_size: f64, d: usize) -> f64 {
        let m = self.root.nrows();
        let diag: f64 = (0..m).map(|a| self.root[[a, a]].ln()).sum();
        let scales: f64 = (0..d).map(|c| 0.5 * self.s2(c).ln()).sum();
        (m * d) as f64 * Self::noise_scale(step_size, m).ln() + d as f64 * diag + m as f64 * scales
    }
}

impl StochasticSvgd {
    pub fn new(spec: Spec, dim: usize) -> Self {
        let n = spec.members.n;
        StochasticSvgd {
            dim,
            x: Array2::zeros((n, dim)),
            lp: Array1::from_elem(n, f64::NAN),
            log_likelihood: Array1::from_elem(n, f64::NAN),
            misfit: Array1::from_elem(n, f64::NAN),
            score: Array2::zeros((n, dim)),
            accepted_after_burn_in: 0.0,
            draws: ChainDraws::new(n, dim),
            spec,
        }
    }

    /// ξ of every particle at iteration `t`, from their own streams.
    fn normals(&self, seed: u64, t: usize) -> Array2<f64> {
        let (n, d) = (self.spec.members.n, self.dim);
        let mut xi = Array2::zeros((n, d));
        for (i, mut row) in xi.rows_mut().into_iter().enumerate() {
            let mut rng = member_rng(seed, Purpose::Proposal, i as u64, t as u64);
            row.iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
        }
        xi
    }

    /// The diffusion at the ensemble `x` with its scores, over the usable particles `ok`;
    /// the noise from `xi` when given. Every rank gets the same.
    fn dynamics(
        &self,
        ctx: &RunContext,
        x: ArrayView2<f64>,
        score: ArrayView2<f64>,
        ok: &[usize],
        xi: Option<&Array2<f64>>,
    ) -> Result<Dynamics> {
        let (n, d) = (self.spec.members.n, self.dim);
        let m = ok.len();
        let kernel = self.spec.kernel.fit(x, score, ok);
        let mut gram = kernel.gram(x, ok);
        gram.diag_mut()
            .iter_mut()
            .for_each(|k| *k += self.spec.jitter);
        let root = cholesky(gram.view()).map_err(|e| {
            Error::Run(format!(
                "stochastic SVGD: the particles' kernel matrix is not positive definite ({e}): the particles are not finite or the bandwidth is degenerate; lower method.step_size"
            ))
        })?;
        let mut position = vec![None; n];
        for (a, &i) in ok.iter().enumerate() {
            position[i] = Some(a);
        }
        let scale = Dynamics::noise_scale(self.spec.step_size, m);
        let s2: Vec<f64> = kernel.s2.clone().unwrap_or_else(|| vec![1.0; d]);
        let owned = ctx.owned(n);
        let width = 2 * d + 1;
        let mut local = vec![0.0; owned.len() * width];
        for (r, i) in owned.enumerate() {
            let Some(a) = position[i] else { continue };
            let row = &mut local[r * width..(r + 1) * width];
            let (drift, rest) = row.split_at_mut(d);
            kernel.stein_direction_into(x, score, ok, i, drift);
            for c in 0..d {
                drift[c] += self.spec.jitter / m as f64 * s2[c] * score[[i, c]];
            }
            if let Some(xi) = xi {
                for c in 0..d {
                    let mut v = 0.0;
                    for b in 0..=a {
                        v += root[[a, b]] * xi[[ok[b], c]];
                    }
                    rest[c] = scale * s2[c].sqrt() * v;
                }
            }
            rest[d] = ksd_row(x, score, ok, i);
        }
        let all = ctx.gather_rows(n, width, &local);
        let ksd = ksd_squared(ok.iter().map(|&i| all[[i, 2 * d]]), m);
        Ok(Dynamics {
            kernel,
            root,
            drift: all.slice(ndarray::s![.., ..d]).to_owned(),
            noise: all.slice(ndarray::s![.., d..2 * d]).to_owned(),
            ksd,
        })
    }

    /// ln q(X | X') − ln q(X' | X) for the move from `self.x` (diffusion `here`, noise `xi`)
    /// to `proposal` (diffusion `there`), every particle usable.
    fn log_proposal_ratio(
        &self,
        here: &Dynamics,
        there: &Dynamics,
        proposal: ArrayView2<f64>,
        xi: &Array2<f64>,
    ) -> f64 {
        let (n, d, eps) = (self.spec.members.n, self.dim, self.spec.step_size);
        let forward = -0.5 * xi.iter().map(|v| v * v).sum::<f64>() - here.log_det(eps, d);
        // The reverse move's standardised noise: (√(2ε/n) L' ⊗ S'^{1/2})⁻¹ (X − X' − ε drift(X')).
        let scale = Dynamics::noise_scale(eps, n);
        let mut reverse = -there.log_det(eps, d);
        for c in 0..d {
            let sc = scale * there.s2(c).sqrt();
            let r = Array1::from_shape_fn(n, |i| {
                (self.x[[i, c]] - proposal[[i, c]] - eps * there.drift[[i, c]]) / sc
            });
            let y = solve_lower(there.root.view(), r.view());
            reverse -= 0.5 * y.iter().map(|v| v * v).sum::<f64>();
        }
        reverse - forward
    }

    /// One step of the unadjusted diffusion.
    fn diffuse(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, t) = (self.spec.members.n, ctx.iteration());
        let mut eval = ctx.evaluate_owned_batch(self.x.view(), true)?;
        eval.grad_log_prior = None;
        eval.grad_log_likelihood = None;
        let all = ctx.gather_evaluation(n, &eval);
        let score = all.grad.as_ref().expect("asked for the gradient");
        let ok: Vec<usize> = (0..n).filter(|&i| !all.failed[i]).collect();
        let xi = self.normals(ctx.seed(), t);
        let dynamics = self.dynamics(ctx, self.x.view(), score.view(), &ok, Some(&xi))?;
        if keeps_draw(t, self.spec.burn_in, self.spec.thin) {
            let failed = Array1::from_iter(all.failed.iter().map(|&f| f64::from(u8::from(f))));
            let moved = failed.mapv(|f| 1.0 - f);
            self.draws.push(
                self.x.view(),
                all.log_prob.view(),
                all.log_likelihood.view(),
                moved.view(),
                failed.view(),
            );
        }
        let eps = self.spec.step_size;
        for &i in &ok {
            for c in 0..self.dim {
                self.x[[i, c]] += eps * dynamics.drift[[i, c]] + dynamics.noise[[i, c]];
            }
        }
        Ok(StepStats {
            misfit: mean_over_ok(all.misfit.iter().copied(), &all.failed),
            lp_mean: mean_over_ok(all.log_prob.iter().copied(), &all.failed),
            n_evaluated: n,
            n_failed: n - ok.len(),
            traces: vec![
                (Trace::StepSize, eps),
                (Trace::Bandwidth, dynamics.kernel.h),
                (Trace::Ksd, dynamics.ksd),
            ],
            converged: false,
        })
    }

    /// One Metropolis-adjusted step of the whole ensemble.
    fn metropolis(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, t) = (self.spec.members.n, ctx.iteration());
        let eps = self.spec.step_size;
        let every: Vec<usize> = (0..n).collect();
        let xi = self.normals(ctx.seed(), t);
        let here = self.dynamics(ctx, self.x.view(), self.score.view(), &every, Some(&xi))?;
        let proposal = &self.x + &(&here.drift * eps) + &here.noise;

        let mut eval = ctx.evaluate_owned(proposal.view(), true)?;
        eval.grad_log_prior = None;
        eval.grad_log_likelihood = None;
        let all = ctx.gather_evaluation(n, &eval);
        let n_failed = all.failed.iter().filter(|&&f| f).count();
        let log_alpha = if n_failed > 0 {
            f64::NEG_INFINITY
        } else {
            let score = all.grad.as_ref().expect("asked for the gradient");
            let there = self.dynamics(ctx, proposal.view(), score.view(), &every, None)?;
            all.log_prob.sum() - self.lp.sum()
                + self.log_proposal_ratio(&here, &there, proposal.view(), &xi)
        };
        let log_u = member_rng(ctx.seed(), Purpose::Accept, 0, t as u64)
            .random::<f64>()
            .ln();
        let accepted = log_u < log_alpha;
        if accepted {
            self.x = proposal;
            self.lp.assign(&all.log_prob);
            self.log_likelihood.assign(&all.log_likelihood);
            self.misfit.assign(&all.misfit);
            self.score
                .assign(all.grad.as_ref().expect("asked for the gradient"));
        }
        if t >= self.spec.burn_in {
            self.accepted_after_burn_in += f64::from(u8::from(accepted));
        }
        if keeps_draw(t, self.spec.burn_in, self.spec.thin) {
            let flags = |v: bool| Array1::from_elem(n, f64::from(u8::from(v)));
            self.draws.push(
                self.x.view(),
                self.lp.view(),
                self.log_likelihood.view(),
                flags(accepted).view(),
                flags(n_failed > 0).view(),
            );
        }
        let no_failures = vec![false; n];
        Ok(StepStats {
            misfit: mean_over_ok(self.misfit.iter().copied(), &no_failures),
            lp_mean: mean_over_ok(self.lp.iter().copied(), &no_failures),
            n_evaluated: n,
            n_failed,
            traces: vec![
                (Trace::StepSize, eps),
                (Trace::Bandwidth, here.kernel.h),
                (Trace::Ksd, here.ksd),
                (Trace::Acceptance, f64::from(u8::from(accepted))),
            ],
            converged: false,
        })
    }
}

impl Method for StochasticSvgd {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        self.x.assign(ctx.initial_members());
        if !self.spec.metropolis {
            return Ok(());
        }
        let n = self.spec.members.n;
        let mut eval = ctx.evaluate_owned(self.x.view(), true)?;
        eval.grad_log_prior = None;
        eval.grad_log_likelihood = None;
        let all = ctx.gather_evaluation(n, &eval);
        if let Some(i) = all.failed.iter().position(|&f| f) {
            return Err(Error::Run(format!(
                "particle {i} starts where the posterior is zero (its forward model failed): Metropolis-adjusted sSVGD moves the ensemble as one, so every initial particle must be valid; check method.init and the prior"
            )));
        }
        self.lp.assign(&all.log_prob);
        self.log_likelihood.assign(&all.log_likelihood);
        self.misfit.assign(&all.misfit);
        self.score
            .assign(all.grad.as_ref().expect("asked for the gradient"));
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        if self.spec.metropolis {
            self.metropolis(ctx)
        } else {
            self.diffuse(ctx)
        }
    }

    fn output(&self) -> MethodOutput {
        let after = after_burn_in(self.spec.iterations, self.spec.burn_in);
        MethodOutput {
            draws: self.draws.pooled_draws(),
            space: Space::Unconstrained,
            draw_stats: self.draws.pooled_draw_stats(),
            chain_stats: if self.spec.metropolis {
                vec![(
                    var::ACCEPTANCE_RATE,
                    Array1::from_elem(1, self.accepted_after_burn_in / after),
                )]
            } else {
                Vec::new()
            },
            independent_chains: false,
            kept: Vec::new(),
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        state.put("particles", self.x.clone().into_dyn());
        state.put("lp", self.lp.clone().into_dyn());
        state.put("log_likelihood", self.log_likelihood.clone().into_dyn());
        state.put("misfit", self.misfit.clone().into_dyn());
        state.put("score", self.score.clone().into_dyn());
        state.put(
            "accepted_after_burn_in",
            Array1::from_elem(1, self.accepted_after_burn_in).into_dyn(),
        );
        self.draws.checkpoint(&mut state);
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.spec.members.n, self.dim);
        self.x = state.array2("particles", [n, d])?;
        self.lp = state.array1("lp", n)?;
        self.log_likelihood = state.array1("log_likelihood", n)?;
        self.misfit = state.array1("misfit", n)?;
        self.score = state.array2("score", [n, d])?;
        self.accepted_after_burn_in = state.array1("accepted_after_burn_in", 1)?[0];
        self.draws.restore(state)
    }
}

/// Per-parameter mean and variance of pooled draws (1, draws, d), for the tests.
#[cfg(test)]
fn pooled_moments(draws: &ndarray::Array3<f64>) -> (Array1<f64>, Array1<f64>) {
    use ndarray::Axis;
    let flat = draws.index_axis(Axis(0), 0);
    let mean = flat.mean_axis(Axis(0)).expect("draws");
    let var = flat.var_axis(Axis(0), 1.0);
    (mean, var)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::core::config::spec::{InitSpec, MembersSpec};
    use crate::inference::stein_kernel::KernelSpec;
    use crate::inference::testing::{gaussian_posterior, run, run_cut_and_resumed};

    fn spec(n: usize, iterations: usize, burn_in: usize, metropolis: bool) -> Spec {
        Spec {
            members: MembersSpec {
                n,
                init: InitSpec::Prior,
                max_failed_fraction: 0.5,
            },
            iterations,
            burn_in,
            thin: 1,
            step_size: 0.05,
            kernel: KernelSpec::median_rbf(),
            metropolis,
            jitter: if metropolis { 0.1 } else { 1e-9 },
        }
    }

    fn spread(n: usize, d: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, c)| {
            -2.0 + 4.0 * ((i * 7 + c * 3) % n) as f64 / (n - 1) as f64
        })
    }

    #[test]
    fn both_variants_sample_a_gaussian_posterior() {
        // Posterior N(0.8, 0.2) in each of 2 parameters. 20 particles × 4000 kept iterations
        // (autocorrelation time ≲ 50 steps): the MCSE of the mean is ≲ √(0.2 / 1600) ≈ 0.011, of
        // the variance ≲ 0.2 √(2 / 1600) ≈ 0.007; bounds at 4 MCSE plus, unadjusted, the
        // O(ε/m) discretisation bias of Langevin dynamics (≈ 0.05 · 5 / 20 / 2 ≈ 0.6 % of the
        // variance).
        let posterior = gaussian_posterior(&[1.0, 1.0]);
        for metropolis in [false, true] {
            let mut method = StochasticSvgd::new(spec(20, 5000, 1000, metropolis), 2);
            let out = run(&mut method, &posterior, 3, 5000, spread(20, 2));
            assert_eq!(out.draws.dim(), (1, 4000 * 20, 2));
            let (mean, var) = pooled_moments(&out.draws);
            for c in 0..2 {
                assert!(
                    (mean[c] - 0.8).abs() < 0.045,
                    "metropolis {metropolis}: mean {mean}"
                );
                assert!(
                    (var[c] - 0.2).abs() < 0.03,
                    "metropolis {metropolis}: variance {var}"
                );
            }
            if metropolis {
                let rate = out.chain_stats[0].1[0];
                assert!(rate > 0.3 && rate < 1.0, "acceptance {rate}");
            }
        }
    }

    #[test]
    fn resuming_from_a_checkpoint_continues_the_same_run() {
        let posterior = gaussian_posterior(&[1.0, -0.5]);
        for metropolis in [false, true] {
            let make = || StochasticSvgd::new(spec(6, 40, 10, metropolis), 2);
            let mut whole = make();
            let expect = run(&mut whole, &posterior, 9, 40, spread(6, 2));
            let resumed = run_cut_and_resumed(make, &posterior, 9, 40, 25, spread(6, 2));
            assert_eq!(
                resumed.output().draws,
                expect.draws,
                "metropolis {metropolis}"
            );
        }
    }

    #[test]
    fn the_metropolis_ratio_of_a_vanishing_step_vanishes_like_its_square_root() {
        // With a state-dependent diffusion matrix D the Euler proposal's log acceptance ratio is
        // √ε ξ · (D'/2D)(ξ² − 3) + O(ε) in one dimension (expanding ln q(x | x') − ln q(x' | x)
        // with the drift D ∇log π + ∇·D): it tends to 0, like √ε, not faster. A wrong drift
        // or density would leave an O(1) ratio.
        use crate::core::parallel::{Par, SingleProcess};
        use crate::inference::stein_kernel::{BandwidthSpec, Metric};
        let posterior = gaussian_posterior(&[0.3, 0.1]);
        let comm = SingleProcess;
        let x = Array2::from_shape_vec((3, 2), vec![0.0, 0.2, 0.5, -0.4, 1.1, 0.3]).unwrap();
        let ctx = RunContext::new(&posterior, &comm, Par::Seq, 1, x.clone());
        let log_alpha = |eps: f64| {
            let mut spec = spec(3, 10, 1, true);
            spec.step_size = eps;
            spec.kernel = KernelSpec {
                metric: Metric::Rbf,
                bandwidth: BandwidthSpec::Fixed(0.7),
            };
            let mut method = StochasticSvgd::new(spec, 2);
            method.x.assign(&x);
            let every = [0, 1, 2];
            let here_eval = posterior
                .evaluate_on(x.view(), true, Par::Seq, None)
                .unwrap();
            let xi = method.normals(5, 0);
            let here = method
                .dynamics(
                    &ctx,
                    x.view(),
                    here_eval.grad.as_ref().unwrap().view(),
                    &every,
                    Some(&xi),
                )
                .unwrap();
            let proposal = &x + &(&here.drift * eps) + &here.noise;
            let there_eval = posterior
                .evaluate_on(proposal.view(), true, Par::Seq, None)
                .unwrap();
            let there = method
                .dynamics(
                    &ctx,
                    proposal.view(),
                    there_eval.grad.as_ref().unwrap().view(),
                    &every,
                    None,
                )
                .unwrap();
            there_eval.log_prob.sum() - here_eval.log_prob.sum()
                + method.log_proposal_ratio(&here, &there, proposal.view(), &xi)
        };
        let (coarse, fine) = (log_alpha(1e-5), log_alpha(1e-7));
        assert!(coarse.abs() < 0.05, "{coarse}");
        let ratio = coarse / fine;
        assert!(
            (ratio / 10.0 - 1.0).abs() < 0.2,
            "ln α {coarse:e} at ε = 1e-5, {fine:e} at 1e-7"
        );
    }

    #[test]
    fn the_proposal_log_density_uses_the_factor_of_the_diffusion_matrix() {
        // The noise of 3 particles in 2-D through Dynamics has covariance 2ε D; its density's
        // log-determinant from L's diagonal equals ½ ln det(2ε D) formed densely.
        let posterior = gaussian_posterior(&[0.3, 0.1]);
        let comm = crate::core::parallel::SingleProcess;
        let x = Array2::from_shape_vec((3, 2), vec![0.0, 0.2, 0.5, -0.4, 1.1, 0.3]).unwrap();
        let ctx = RunContext::new(
            &posterior,
            &comm,
            crate::core::parallel::Par::Seq,
            1,
            x.clone(),
        );
        let method = StochasticSvgd::new(spec(3, 10, 1, true), 2);
        let score = Array2::from_elem((3, 2), 0.5);
        let dynamics = method
            .dynamics(&ctx, x.view(), score.view(), &[0, 1, 2], None)
            .unwrap();
        let k =
            dynamics.kernel.gram(x.view(), &[0, 1, 2]) + Array2::<f64>::eye(3) * method.spec.jitter;
        let eps = method.spec.step_size;
        // det(2ε D) with D = (K/3) ⊗ I₂ is det(2ε K/3)²; ½ ln of it.
        let det3 = {
            let a = &k * (2.0 * eps / 3.0);
            a[[0, 0]] * (a[[1, 1]] * a[[2, 2]] - a[[1, 2]] * a[[2, 1]])
                - a[[0, 1]] * (a[[1, 0]] * a[[2, 2]] - a[[1, 2]] * a[[2, 0]])
                + a[[0, 2]] * (a[[1, 0]] * a[[2, 1]] - a[[1, 1]] * a[[2, 0]])
        };
        let expect = 0.5 * 2.0 * det3.ln();
        assert!(
            (dynamics.log_det(eps, 2) - expect).abs() < 1e-10,
            "{} vs {expect}",
            dynamics.log_det(eps, 2)
        );
    }
}
