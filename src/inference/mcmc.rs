//! What the McMC methods (MH, parallel tempering, ...) share: the chain-length keys and their
//! check, the retained draws of several chains, and the adaptive Gaussian random walk:
//! proposals x + s L z in the unconstrained space, z ~ N(0, I), adapted during
//! burn-in as Haario et al. (2001): L L^T becomes the running covariance of the states it is
//! shown (pooled over chains), shrunk towards the initial diagonal with weight d/(n + d) and
//! refreshed every `adapt_every` iterations, while log s follows a Robbins–Monro recursion
//! towards the target acceptance rate. Frozen after burn-in, so the retained chains are exact
//! Metropolis–Hastings chains.

use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, ArrayViewMut1};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::core::config::Issues;
use crate::core::error::Result;
use crate::core::io::names::var;
use crate::core::linalg::{cholesky, lower_mul_into};
use crate::inference::{DrawValues, MethodState};

/// Checks `iterations` (burn-in included), `burn_in` and `thin` of a chain: burn-in shorter
/// than the run, and at least one retained draw.
pub fn check_chain_lengths(
    issues: &mut Issues,
    iterations: usize,
    burn_in: usize,
    thin: usize,
) -> bool {
    let burn_in_key = issues.path("burn_in");
    let mut ok = issues.check(iterations > burn_in, "iterations", || {
        format!("must exceed {burn_in_key} ({iterations} ≤ {burn_in})")
    });
    ok &= issues.at_least(thin, 1, "thin");
    if ok {
        ok &= issues.check(iterations - burn_in >= thin, "thin", || {
            format!(
                "keeps no draw: iterations − burn_in = {} < thin = {thin}",
                iterations - burn_in
            )
        });
    }
    ok
}

/// Whether iteration `t` keeps a draw: after burn-in, every `thin`-th.
pub fn keeps_draw(t: usize, burn_in: usize, thin: usize) -> bool {
    t >= burn_in && (t + 1 - burn_in).is_multiple_of(thin)
}

/// The iterations after burn-in (at least 1): what acceptance rates are counted over.
pub fn after_burn_in(iterations: usize, burn_in: usize) -> f64 {
    iterations.saturating_sub(burn_in).max(1) as f64
}

/// `thin: 1` unless given.
pub fn one() -> usize {
    1
}

/// `proposal: {initial_scale, adapt, adapt_every, target_acceptance}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProposalKeys {
    /// Initial random-walk std in the unconstrained space; default 2.38/√d × the prior's
    /// unconstrained std per parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_scale: Option<f64>,
    pub adapt: bool,
    pub adapt_every: usize,
    pub target_acceptance: f64,
}

impl Default for ProposalKeys {
    fn default() -> Self {
        ProposalKeys {
            initial_scale: None,
            adapt: true,
            adapt_every: 100,
            target_acceptance: 0.234,
        }
    }
}

impl ProposalKeys {
    /// Checks the block (keys under `proposal.`).
    pub fn check(&self, issues: &mut Issues) -> Option<Adaptation> {
        let mut ok = true;
        if let Some(s) = self.initial_scale {
            ok &= issues.positive(s, "proposal.initial_scale");
        }
        ok &= issues.at_least(self.adapt_every, 1, "proposal.adapt_every");
        ok &= issues.in_range(
            self.target_acceptance,
            0.01,
            0.99,
            "proposal.target_acceptance",
            "[0.01, 0.99]",
        );
        ok.then_some(Adaptation {
            initial_scale: self.initial_scale,
            adapt: self.adapt,
            adapt_every: self.adapt_every,
            target_acceptance: self.target_acceptance,
        })
    }
}

/// Retained draws of several chains with their per-draw statistics, appended draw by draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainDraws {
    n_chains: usize,
    dim: usize,
    n_draws: usize,
    // (draw, chain, param) and (draw, chain), flat.
    x: Vec<f64>,
    lp: Vec<f64>,
    log_likelihood: Vec<f64>,
    accepted: Vec<f64>,
    failed: Vec<f64>,
}

/// The [`ChainDraws`] statistics in the order of the flat vectors, with their checkpoint names.
const DRAW_STATS: [&str; 4] = [
    "draw_lp",
    "draw_log_likelihood",
    "draw_accepted",
    "draw_failed",
];

impl ChainDraws {
    pub fn new(n_chains: usize, dim: usize) -> Self {
        ChainDraws {
            n_chains,
            dim,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.n_draws
    }

    pub fn is_empty(&self) -> bool {
        self.n_draws == 0
    }

    /// Appends one draw of every chain: states (chain × param), their log posterior and
    /// log-likelihood, whether the move that led there was accepted and whether its forward
    /// model failed.
    pub fn push(
        &mut self,
        x: ArrayView2<f64>,
        lp: ArrayView1<f64>,
        log_likelihood: ArrayView1<f64>,
        accepted: ArrayView1<f64>,
        failed: ArrayView1<f64>,
    ) {
        assert_eq!(x.dim(), (self.n_chains, self.dim), "one state per chain");
        self.x.extend(x.iter());
        self.lp.extend(lp.iter());
        self.log_likelihood.extend(log_likelihood.iter());
        self.accepted.extend(accepted.iter());
        self.failed.extend(failed.iter());
        self.n_draws += 1;
    }

    /// (chain, draw, param).
    pub fn draws(&self) -> Array3<f64> {
        let (n, d) = (self.n_chains, self.dim);
        Array3::from_shape_fn((n, self.n_draws, d), |(c, k, p)| {
            self.x[(k * n + c) * d + p]
        })
    }

    /// A per-draw statistic as (chain, draw).
    fn per_chain(&self, values: &[f64]) -> Array2<f64> {
        let n = self.n_chains;
        Array2::from_shape_fn((n, self.n_draws), |(c, k)| values[k * n + c])
    }

    fn stats(&self) -> [&Vec<f64>; 4] {
        [&self.lp, &self.log_likelihood, &self.accepted, &self.failed]
    }

    /// Their `sample_stats/`: lp, log_likelihood, n_failed, accepted.
    pub fn draw_stats(&self) -> Vec<(&'static str, DrawValues)> {
        self.stats_shaped(|values| self.per_chain(values))
    }

    /// The draws of all chains pooled into one chain, draw after draw: (1, draws × chains,
    /// param), for interacting chains (particles) that are not independent.
    pub fn pooled_draws(&self) -> Array3<f64> {
        Array3::from_shape_vec((1, self.n_draws * self.n_chains, self.dim), self.x.clone())
            .expect("one row per draw and chain")
    }

    /// [`draw_stats`](Self::draw_stats) in the order of [`pooled_draws`](Self::pooled_draws).
    pub fn pooled_draw_stats(&self) -> Vec<(&'static str, DrawValues)> {
        self.stats_shaped(|values| {
            Array2::from_shape_vec((1, values.len()), values.to_vec()).expect("flat statistic")
        })
    }

    fn stats_shaped(&self, shape: impl Fn(&[f64]) -> Array2<f64>) -> Vec<(&'static str, DrawValues)> {
        vec![
            (var::LP, DrawValues::F64(shape(&self.lp))),
            (var::LOG_LIKELIHOOD, DrawValues::F64(shape(&self.log_likelihood))),
            (
                var::N_FAILED,
                DrawValues::I64(shape(&self.failed).mapv(|v| v as i64)),
            ),
            (
                var::ACCEPTED,
                DrawValues::I8(shape(&self.accepted).mapv(|v| v as i8)),
            ),
        ]
    }

    pub fn checkpoint(&self, state: &mut MethodState) {
        state.put("draws", self.draws().into_dyn());
        for (name, values) in DRAW_STATS.iter().zip(self.stats()) {
            state.put(name, self.per_chain(values).into_dyn());
        }
    }

    pub fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.n_chains, self.dim);
        let k = state.len_of("draws", 1)?;
        let draws = state.array3("draws", [n, k, d])?;
        let mut restored = ChainDraws::new(n, d);
        restored.n_draws = k;
        restored.x = (0..k)
            .flat_map(|j| (0..n).flat_map(move |c| (0..d).map(move |p| (j, c, p))))
            .map(|(j, c, p)| draws[[c, j, p]])
            .collect();
        let mut columns = Vec::new();
        for name in DRAW_STATS {
            let a = state.array2(name, [n, k])?;
            columns.push(a.t().iter().copied().collect::<Vec<f64>>());
        }
        let mut columns = columns.into_iter();
        restored.lp = columns.next().expect("four statistics");
        restored.log_likelihood = columns.next().expect("four statistics");
        restored.accepted = columns.next().expect("four statistics");
        restored.failed = columns.next().expect("four statistics");
        *self = restored;
        Ok(())
    }
}

/// How the walk adapts (`proposal:` of MH and PT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptation {
    /// `None`: 2.38/√d × the prior's unconstrained std per parameter.
    pub initial_scale: Option<f64>,
    pub adapt: bool,
    pub adapt_every: usize,
    pub target_acceptance: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RandomWalk {
    dim: usize,
    // Proposal: N(0, exp(2 log_scale) L Lᵀ).
    chol: Array2<f64>,
    initial_cov_diag: Array1<f64>,
    log_scale: f64,
    // Pooled running moments of the states seen during burn-in.
    n_seen: f64,
    mean: Array1<f64>,
    scatter: Array2<f64>,
}

impl RandomWalk {
    /// The initial walk: `initial_scale` × I, or 2.38/√d × the prior's unconstrained std
    /// (`prior_scale`) per parameter.
    pub fn new(initial_scale: Option<f64>, prior_scale: &Array1<f64>) -> Self {
        let dim = prior_scale.len();
        let (initial_cov_diag, log_scale) = match initial_scale {
            Some(scale) => (Array1::ones(dim), scale.ln()),
            None => (
                prior_scale.mapv(|s| s * s),
                (2.38 / (dim as f64).sqrt()).ln(),
            ),
        };
        RandomWalk {
            dim,
            chol: Array2::from_diag(&initial_cov_diag.mapv(f64::sqrt)),
            initial_cov_diag,
            log_scale,
            n_seen: 0.0,
            mean: Array1::zeros(dim),
            scatter: Array2::zeros((dim, dim)),
        }
    }

    /// The global scale s.
    pub fn scale(&self) -> f64 {
        self.log_scale.exp()
    }

    /// Writes x + s L z into `out`, z from `rng`.
    pub fn propose(
        &self,
        x: ArrayView1<f64>,
        rng: &mut impl rand::Rng,
        mut out: ArrayViewMut1<f64>,
    ) {
        let z: Array1<f64> = (0..self.dim).map(|_| rng.sample(StandardNormal)).collect();
        let mut step = Array1::zeros(self.dim);
        lower_mul_into(self.chol.view(), z.view(), step.view_mut());
        let scale = self.scale();
        for k in 0..self.dim {
            out[k] = x[k] + scale * step[k];
        }
    }

    /// One burn-in adaptation after iteration `t`: the states (rows, pooled in row order) and
    /// the acceptance rate of the iteration's proposals.
    pub fn adapt(&mut self, states: ArrayView2<f64>, acceptance: f64, t: usize, how: &Adaptation) {
        for row in states.rows() {
            self.accumulate(row);
        }
        let gain = 1.0 / ((t + 1) as f64).powf(0.6);
        self.log_scale += gain * (acceptance - how.target_acceptance);
        if (t + 1).is_multiple_of(how.adapt_every) && self.n_seen >= 2.0 * self.dim as f64 {
            self.refresh_covariance();
        }
    }

    /// Welford update of the pooled mean and scatter.
    fn accumulate(&mut self, row: ArrayView1<f64>) {
        self.n_seen += 1.0;
        let delta: Array1<f64> = &row - &self.mean;
        self.mean.scaled_add(1.0 / self.n_seen, &delta);
        let delta2: Array1<f64> = &row - &self.mean;
        for a in 0..self.dim {
            for b in 0..=a {
                self.scatter[[a, b]] += delta[a] * delta2[b];
            }
        }
    }

    /// Proposal covariance from the pooled moments, shrunk towards the initial diagonal.
    fn refresh_covariance(&mut self) {
        let n = self.n_seen;
        let w = n / (n + self.dim as f64);
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

    /// Stores the walk under names starting with `prefix`.
    pub fn checkpoint(&self, prefix: &str, state: &mut MethodState) {
        let name = |n: &str| format!("{prefix}{n}");
        state.put(&name("chol"), self.chol.clone().into_dyn());
        state.put(
            &name("initial_cov_diag"),
            self.initial_cov_diag.clone().into_dyn(),
        );
        state.put_scalar(&name("log_scale"), self.log_scale);
        state.put_scalar(&name("n_seen"), self.n_seen);
        state.put(&name("mean"), self.mean.clone().into_dyn());
        state.put(&name("scatter"), self.scatter.clone().into_dyn());
    }

    pub fn restore(&mut self, prefix: &str, state: &MethodState) -> Result<()> {
        let name = |n: &str| format!("{prefix}{n}");
        let d = self.dim;
        self.chol = state.array2(&name("chol"), [d, d])?;
        self.initial_cov_diag = state.array1(&name("initial_cov_diag"), d)?;
        self.log_scale = state.scalar(&name("log_scale"))?;
        self.n_seen = state.scalar(&name("n_seen"))?;
        self.mean = state.array1(&name("mean"), d)?;
        self.scatter = state.array2(&name("scatter"), [d, d])?;
        Ok(())
    }
}
