//! Variational inference with a flow (`kind: vi`): q = T_θ(N(0, I)) in the unconstrained
//! space, fitted by stochastic gradient ascent on the reparameterised ELBO,
//!
//! ```text
//!   ELBO(θ) = E_z[ log p(T_θ(z), d) + log|det ∂T_θ/∂z| ] + D/2 (1 + ln 2π),
//! ```
//!
//! with mean-field ADVI, full-rank ADVI and PSVI as a single linear layer (diagonal, full or
//! banded). Each iteration's Monte-Carlo samples are members (sample s at iteration t draws z
//! from the stream (seed, monte_carlo, s, t)), evaluated on the ranks that own them; their
//! parameter gradients are reduced by the context's blocked sum (one sample per block), so the
//! result does not depend on the rank count. A sample whose forward model fails is left out of
//! that iteration's average. After the last iteration, `draws` samples of q (streams
//! (seed, draw, i, 0)) are evaluated and written as the posterior, with log q beside lp.

mod config;

use ndarray::{Array2, ArrayD, IxDyn};

pub use config::{Config, Spec};
use crate::core::error::Result;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::flows::config::build_flow;
use crate::inference::flows::{Flow, standard_normal_log_density};
use crate::inference::optim::Optimizer;
use crate::inference::variational::{
    BLOCK, QDraws, THETA, anneal_beta, draw_from_q, placed_params, standard_normal,
    tempered_gradient, variational_group,
};
use crate::inference::{
    Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace, mean_over_ok,
};

pub struct Vi {
    spec: Spec,
    dim: usize,
    flow: Flow,
    theta: Vec<f64>,
    optimizer: Optimizer,
    /// The owned samples' parameter gradients (reused every iteration).
    gradients: Vec<f64>,
    /// Draws of the final q (unconstrained) and their values, after `finish`.
    draws: QDraws,
}

impl Vi {
    pub fn new(spec: Spec, dim: usize) -> Self {
        let flow = build_flow(&spec.layers, dim);
        let n = flow.n_params();
        Vi {
            optimizer: Optimizer::new(spec.optimizer, &[n]),
            theta: vec![0.0; n],
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

    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// The likelihood's weight at iteration t.
    pub fn beta(&self, t: usize) -> f64 {
        anneal_beta(self.spec.anneal, t)
    }

    /// The constant of the ELBO: the entropy of N(0, I).
    fn entropy_constant(&self) -> f64 {
        0.5 * self.dim as f64 * (1.0 + (2.0 * std::f64::consts::PI).ln())
    }
}

/// Where q starts (`init`): an earlier result's parameters, or the flow placed at a starting
/// model with a spread of the prior's scale, or at the prior's unconstrained mean and scale.
pub(crate) fn initial_params(spec: &Spec, flow: &Flow, ctx: &RunContext) -> Vec<f64> {
    match &spec.initial_theta {
        Some(theta) => theta.clone(),
        None => placed_params(flow, ctx, spec.initial_model.as_ref()),
    }
}

impl Method for Vi {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        self.theta = initial_params(&self.spec, &self.flow, ctx);
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, d, p) = (self.spec.members.n, self.dim, self.flow.n_params());
        let t = ctx.iteration();
        let owned = ctx.owned_in_blocks(n, BLOCK);

        // The owned samples: z from the member streams, x = T(z).
        let mut z = Array2::zeros((owned.len(), d));
        let mut x = Array2::zeros((owned.len(), d));
        let mut log_det = vec![0.0; owned.len()];
        for (r, s) in owned.clone().enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::MonteCarlo, s as u64, t as u64);
            z.row_mut(r).assign(&standard_normal(&mut rng, d));
            log_det[r] = self.flow.forward(&self.theta, z.row(r), x.row_mut(r));
        }
        let eval = ctx.evaluate_stochastic(x.view(), true)?;
        let beta = self.beta(t);
        let grad = tempered_gradient(&eval, beta);

        // Each sample's parameter gradient (zero for a failed one).
        let mut local_grad = std::mem::take(&mut self.gradients);
        local_grad.clear();
        local_grad.resize(owned.len() * p, 0.0);
        for r in (0..owned.len()).filter(|&r| !eval.failed[r]) {
            self.flow.backward(
                &self.theta,
                z.row(r),
                grad.row(r),
                1.0,
                &mut local_grad[r * p..(r + 1) * p],
            );
        }
        drop(grad);
        let total = ctx.blocked_sum(n, BLOCK, p, &local_grad);
        self.gradients = local_grad;
        // Every sample's values (one sample a block: the member partition) and log-det.
        debug_assert_eq!(owned, ctx.owned(n));
        let mut values = eval;
        values.grad = None;
        values.grad_log_prior = None;
        values.grad_log_likelihood = None;
        let all = ctx.gather_evaluation(n, &values);
        let log_dets = ctx.gather_rows(n, 1, &log_det);
        let failed = &all.failed;
        let n_ok = failed.iter().filter(|&&f| !f).count();

        let mut lr = self.spec.optimizer.step_size(t);
        if n_ok > 0 {
            let g: Vec<f64> = total.iter().map(|v| v / n_ok as f64).collect();
            lr = self.optimizer.ascend(t, &mut self.theta, &g);
        }
        let elbo_terms = (0..n).map(|s| all.log_prob[s] + log_dets[[s, 0]] + self.entropy_constant());
        let elbo = mean_over_ok(elbo_terms, failed);
        Ok(StepStats {
            misfit: mean_over_ok(all.misfit.iter().copied(), failed),
            lp_mean: mean_over_ok(all.log_prob.iter().copied(), failed),
            n_evaluated: n,
            n_failed: n - n_ok,
            traces: if self.spec.anneal.is_some() {
                vec![(Trace::Elbo, elbo), (Trace::StepSize, lr), (Trace::Beta, beta)]
            } else {
                vec![(Trace::Elbo, elbo), (Trace::StepSize, lr)]
            },
            converged: false,
        })
    }

    fn finish(&mut self, ctx: &mut RunContext) -> Result<()> {
        let (flow, theta, d) = (&self.flow, &self.theta, self.dim);
        self.draws = draw_from_q(ctx, self.spec.draws, d, |rng, x| {
            let z = standard_normal(rng, d);
            let log_det = flow.forward(theta, z.view(), x);
            (standard_normal_log_density(z.view()) - log_det, 0.0)
        })?;
        Ok(())
    }

    fn output(&self) -> MethodOutput {
        // θ once (it can be hundreds of MB for PSVI at scale).
        let theta = ArrayD::from_shape_vec(IxDyn(&[self.theta.len()]), self.theta.clone()).expect("1-D");
        MethodOutput {
            draws: self.draws.chain(),
            space: Space::Unconstrained,
            draw_stats: self.draws.stats(),
            chain_stats: Vec::new(),
            independent_chains: false,
            kept: vec![variational_group(&self.flow, &self.spec.flow_text, theta, Vec::new(), self.draws.attrs())],
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        state.put(
            THETA,
            ArrayD::from_shape_vec(IxDyn(&[self.theta.len()]), self.theta.clone()).expect("1-D"),
        );
        self.optimizer.save("", &mut state);
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        self.theta = state.array(THETA, &[self.theta.len()])?.iter().copied().collect();
        self.optimizer.restore("", state)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::core::config::spec::{InitSpec, Marginals, MembersSpec, PriorSpec};
    use crate::core::linalg::{cholesky, inverse_from_cholesky};
    use crate::inference::flows::config::LayerSpec;
    use crate::inference::flows::linear::Structure;
    use crate::inference::optim::{OptimizerSpec, Rule};
    use crate::inference::testing::{run, run_cut_and_resumed};
    use crate::physics::linear::LinearForward;
    use crate::posterior::{GaussianLikelihood, Posterior, Prior};

    const D: usize = 50;

    /// Orthonormal columns from Gram–Schmidt on a deterministic pseudo-random matrix.
    fn orthonormal(rows: usize, cols: usize, phase: f64) -> Array2<f64> {
        let mut q = Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 131 + j * 71) as f64 * 0.707 + phase).sin());
        for j in 0..cols {
            for k in 0..j {
                let dot = q.column(j).dot(&q.column(k));
                let qk = q.column(k).to_owned();
                q.column_mut(j).scaled_add(-dot, &qk);
            }
            let norm = q.column(j).dot(&q.column(j)).sqrt();
            q.column_mut(j).mapv_inplace(|v| v / norm);
        }
        q
    }

    /// The closed-form linear-Gaussian problem: d = G m + e (σ_d = 0.1), G = U diag(s) Vᵀ with
    /// singular values from 3 down to 0.1 (condition number 30), prior N(μ₀, s₀²) with unequal
    /// means and stds. Returns the posterior, its mean, precision Λ and log Z.
    struct Problem {
        posterior: Posterior,
        mean: Array1<f64>,
        precision: Array2<f64>,
        log_z: f64,
    }

    fn problem() -> Problem {
        let n_data = 60;
        let u = orthonormal(n_data, D, 0.3);
        let v = orthonormal(D, D, 1.1);
        let s = Array1::from_iter((0..D).map(|k| 3.0 * (1.0f64 / 30.0).powf(k as f64 / (D - 1) as f64)));
        let g = u.dot(&Array2::from_diag(&s)).dot(&v.t());
        let mu0 = Array1::from_iter((0..D).map(|j| 0.5 * (j as f64 * 0.3).sin()));
        let s0 = Array1::from_iter((0..D).map(|j| 0.5 + 0.5 * ((j * 7) % 5) as f64 / 4.0));
        let m_true = Array1::from_iter((0..D).map(|j| (j as f64 * 0.45).cos()));
        let sigma = 0.1;
        let d = g.dot(&m_true) + Array1::from_iter((0..n_data).map(|i| sigma * (i as f64 * 2.3).sin()));
        // Posterior precision and mean.
        let mut precision = g.t().dot(&g) / (sigma * sigma);
        let mut rhs = g.t().dot(&d) / (sigma * sigma);
        for j in 0..D {
            precision[[j, j]] += 1.0 / (s0[j] * s0[j]);
            rhs[j] += mu0[j] / (s0[j] * s0[j]);
        }
        let cov = inverse_from_cholesky(cholesky(precision.view()).unwrap().view());
        let mean = cov.dot(&rhs);
        // log Z = log N(d; G μ₀, σ² I + G S₀² Gᵀ).
        let mut c = g.dot(&Array2::from_diag(&s0.mapv(|v| v * v))).dot(&g.t());
        for i in 0..n_data {
            c[[i, i]] += sigma * sigma;
        }
        let lc = cholesky(c.view()).unwrap();
        let r = &d - &g.dot(&mu0);
        let mut w = Array1::<f64>::zeros(n_data);
        for i in 0..n_data {
            let acc: f64 = (0..i).map(|k| lc[[i, k]] * w[k]).sum();
            w[i] = (r[i] - acc) / lc[[i, i]];
        }
        let log_det: f64 = (0..n_data).map(|i| 2.0 * lc[[i, i]].ln()).sum();
        let log_z = -0.5 * w.dot(&w) - 0.5 * log_det - 0.5 * n_data as f64 * (2.0 * std::f64::consts::PI).ln();
        let prior = Prior::new(&PriorSpec {
            marginals: Marginals::Gaussian { mean: mu0, std: s0 },
            smoothing: None,
            smoothing_blocks: vec![vec![D]],
        });
        let likelihood = GaussianLikelihood::new(d, Array1::from_elem(n_data, sigma));
        Problem {
            posterior: Posterior::new(prior, Some(likelihood), Box::new(LinearForward::new(g))),
            mean,
            precision,
            log_z,
        }
    }

    fn spec(structure: Structure, iterations: usize, samples: usize) -> Spec {
        Spec {
            members: MembersSpec {
                n: samples,
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
                decay: Some((0.5, iterations / 12)),
            },
            layers: vec![LayerSpec::Linear(structure)],
            draws: 10,
            anneal: None,
            initial_theta: None,
            initial_model: None,
            flow_text: String::new(),
        }
    }

    /// q's mean and covariance from a single linear layer's parameters.
    fn gaussian_of(vi: &Vi) -> (Array1<f64>, Array2<f64>) {
        let theta = vi.theta();
        let mut l = Array2::zeros((D, D));
        let mut x = Array1::zeros(D);
        // Columns of L from T(e_j) − T(0).
        let mut base = Array1::zeros(D);
        vi.flow().forward(theta, Array1::zeros(D).view(), base.view_mut());
        for j in 0..D {
            let mut e = Array1::zeros(D);
            e[j] = 1.0;
            vi.flow().forward(theta, e.view(), x.view_mut());
            l.column_mut(j).assign(&(&x - &base));
        }
        (base, l.dot(&l.t()))
    }

    /// KL(q‖p) for Gaussians q = N(m, C), p = N(μ, Λ⁻¹).
    fn kl(m: &Array1<f64>, c: &Array2<f64>, p: &Problem) -> f64 {
        let diff = m - &p.mean;
        let trace: f64 = (0..D).map(|i| p.precision.row(i).dot(&c.column(i))).sum();
        let quad = diff.dot(&p.precision.dot(&diff));
        let log_det_c: f64 = cholesky(c.view()).unwrap().diag().iter().map(|v| 2.0 * v.ln()).sum();
        let log_det_lambda: f64 = cholesky(p.precision.view()).unwrap().diag().iter().map(|v| 2.0 * v.ln()).sum();
        0.5 * (trace + quad - D as f64 - log_det_c - log_det_lambda)
    }

    #[test]
    fn full_rank_advi_recovers_the_linear_gaussian_posterior() {
        let p = problem();
        let iterations = 48_000;
        let mut vi = Vi::new(spec(Structure::Full, iterations, 10), D);
        run(&mut vi, &p.posterior, 7, iterations, Array2::zeros((0, D)));
        let (m, c) = gaussian_of(&vi);
        let cov = inverse_from_cholesky(cholesky(p.precision.view()).unwrap().view());
        let kl = kl(&m, &c, &p);
        let mut worst_mean: f64 = 0.0;
        let mut worst_ratio: f64 = 0.0;
        for j in 0..D {
            let sd = cov[[j, j]].sqrt();
            worst_mean = worst_mean.max((m[j] - p.mean[j]).abs() / sd);
            worst_ratio = worst_ratio.max((c[[j, j]].sqrt() / sd - 1.0).abs());
        }
        eprintln!("full-rank ADVI: KL {kl:.4}, worst mean error {worst_mean:.4} σ, worst std ratio error {worst_ratio:.4}");
        assert!(kl < 0.05, "KL(q‖p) = {kl}");
        assert!(worst_mean < 0.05, "mean error {worst_mean} σ");
        assert!(worst_ratio < 0.05, "std ratio error {worst_ratio}");
    }

    #[test]
    fn mean_field_advi_reaches_the_mean_field_optimum() {
        let p = problem();
        let iterations = 48_000;
        let mut vi = Vi::new(spec(Structure::Diagonal, iterations, 10), D);
        let out = run(&mut vi, &p.posterior, 11, iterations, Array2::zeros((0, D)));
        let (m, c) = gaussian_of(&vi);
        let cov = inverse_from_cholesky(cholesky(p.precision.view()).unwrap().view());
        for j in 0..D {
            // Means exact, σᵢ² = 1/Λᵢᵢ.
            let sd = cov[[j, j]].sqrt();
            assert!((m[j] - p.mean[j]).abs() < 0.05 * sd, "mean {j}");
            let ratio = c[[j, j]] * p.precision[[j, j]];
            assert!((ratio - 1.0).abs() < 0.05, "variance {j}: {ratio}");
        }
        let log_det_lambda: f64 = cholesky(p.precision.view()).unwrap().diag().iter().map(|v| 2.0 * v.ln()).sum();
        let optimum = p.log_z - 0.5 * ((0..D).map(|i| p.precision[[i, i]].ln()).sum::<f64>() - log_det_lambda);
        let fitted = p.log_z - kl(&m, &c, &p);
        eprintln!("mean-field: closed-form ELBO of q {fitted:.4}, optimum {optimum:.4}, log Z {:.4}", p.log_z);
        assert!((fitted - optimum).abs() < 0.01, "ELBO {fitted} vs the optimum {optimum}");
        // The Monte-Carlo ELBO of the fitted q from 20,000 draws, within 3 standard errors.
        let comm = crate::core::parallel::SingleProcess;
        let ctx = RunContext::new(&p.posterior, &comm, crate::core::parallel::Par::Seq, 0, Array2::zeros((0, D)));
        let m_draws = 20_000;
        let mut terms = Vec::with_capacity(m_draws);
        let mut x = Array2::zeros((1, D));
        for i in 0..m_draws {
            let mut rng = member_rng(99, Purpose::Draw, i as u64, 0);
            let z = standard_normal(&mut rng, D);
            let log_det = vi.flow().forward(vi.theta(), z.view(), x.row_mut(0));
            let lp = ctx.evaluate(x.view(), false).unwrap().log_prob[0];
            terms.push(lp + log_det + vi.entropy_constant());
        }
        let mean = terms.iter().sum::<f64>() / m_draws as f64;
        let var = terms.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (m_draws - 1) as f64;
        let se = (var / m_draws as f64).sqrt();
        eprintln!("mean-field: Monte-Carlo ELBO {mean:.4} ± {se:.4}");
        assert!((mean - fitted).abs() < 3.0 * se, "MC ELBO {mean} ± {se} vs {fitted}");
        assert_eq!(out.draws.dim(), (1, 10, D));
    }

    #[test]
    fn a_realnvp_flow_has_the_posterior_moments() {
        // A flow of a full linear layer and two affine couplings (started at the identity):
        // moments of 10⁵ draws of q, no forward solves. With 10⁵ draws the Monte-Carlo error
        // of a mean is 0.003 σ and of a std 0.2 %, far inside the bounds.
        let p = problem();
        let iterations = 48_000;
        let mut s = spec(Structure::Full, iterations, 10);
        s.layers.push(LayerSpec::AffineCoupling { hidden: vec![16], parity: 0 });
        s.layers.push(LayerSpec::AffineCoupling { hidden: vec![16], parity: 1 });
        let mut vi = Vi::new(s, D);
        run(&mut vi, &p.posterior, 13, iterations, Array2::zeros((0, D)));
        let n = 100_000;
        let mut sum = Array1::<f64>::zeros(D);
        let mut sum2 = Array1::<f64>::zeros(D);
        let mut x = Array1::zeros(D);
        for i in 0..n {
            let mut rng = member_rng(17, Purpose::Draw, i as u64, 0);
            let z = standard_normal(&mut rng, D);
            vi.flow().forward(vi.theta(), z.view(), x.view_mut());
            sum += &x;
            sum2 += &x.mapv(|v| v * v);
        }
        let cov = inverse_from_cholesky(cholesky(p.precision.view()).unwrap().view());
        let (mut worst_mean, mut worst_ratio): (f64, f64) = (0.0, 0.0);
        for j in 0..D {
            let mean = sum[j] / n as f64;
            let sd = (sum2[j] / n as f64 - mean * mean).sqrt();
            let exact_sd = cov[[j, j]].sqrt();
            worst_mean = worst_mean.max((mean - p.mean[j]).abs() / exact_sd);
            worst_ratio = worst_ratio.max((sd / exact_sd - 1.0).abs());
        }
        eprintln!("RealNVP flow: worst mean error {worst_mean:.4} σ, worst std ratio error {worst_ratio:.4}");
        assert!(worst_mean < 0.05, "mean error {worst_mean} σ");
        assert!(worst_ratio < 0.05, "std ratio error {worst_ratio}");
    }

    #[test]
    fn psvi_with_a_template_over_the_whole_axis_is_full_rank_advi() {
        let p = problem();
        let k = 200;
        let mut full = Vi::new(spec(Structure::Full, k, 3), D);
        run(&mut full, &p.posterior, 5, k, Array2::zeros((0, D)));
        let banded = Structure::Banded {
            template: vec![2 * D - 1],
            shape: vec![D],
        };
        let mut psvi = Vi::new(spec(banded, k, 3), D);
        run(&mut psvi, &p.posterior, 5, k, Array2::zeros((0, D)));
        let worst = full
            .theta()
            .iter()
            .zip(psvi.theta())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1e-10, "largest parameter difference {worst}");
    }

    #[test]
    fn a_restored_checkpoint_continues_with_the_same_bits() {
        let p = problem();
        let s = spec(Structure::Diagonal, 60, 2);
        let mut whole = Vi::new(s.clone(), D);
        run(&mut whole, &p.posterior, 3, 60, Array2::zeros((0, D)));
        let second = run_cut_and_resumed(|| Vi::new(s.clone(), D), &p.posterior, 3, 60, 25, Array2::zeros((0, D)));
        assert_eq!(whole.theta(), second.theta());
    }
}
