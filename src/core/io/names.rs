//! The names of the result file (DESIGN.md's output table). Users and tests rely on them: extend,
//! never rename.

pub mod group {
    pub const POSTERIOR: &str = "posterior";
    pub const SAMPLE_STATS: &str = "sample_stats";
    pub const OBSERVED_DATA: &str = "observed_data";
    pub const CONSTANT_DATA: &str = "constant_data";
    pub const POSTERIOR_PREDICTIVE: &str = "posterior_predictive";
    pub const SUMMARY: &str = "summary";
    pub const DIAGNOSTICS: &str = "diagnostics";
    pub const PROVENANCE: &str = "provenance";
    /// Log-evidence estimates, one per estimator.
    pub const EVIDENCE: &str = "evidence";
    /// A variational density's parameters (flows), kept after the run.
    pub const VARIATIONAL: &str = "variational";
    /// Parallel tempering's ladder, swap statistics and per-β log-likelihood series.
    pub const TEMPERING: &str = "tempering";
    /// RJ-McMC's retained Voronoi cells (nuclei and values of every draw).
    pub const CELLS: &str = "cells";
    /// A prior replacement's weights and evidence ratio (`geobayes reweight`).
    pub const REWEIGHTING: &str = "reweighting";
    /// The evidence table of a `hypotheses:` job (`evidence/hypotheses/`).
    pub const HYPOTHESES: &str = "hypotheses";
    /// Method state for `--resume`; present only while `status` is `checkpoint`.
    pub const CHECKPOINT: &str = "checkpoint";
}

pub mod dim {
    pub const CHAIN: &str = "chain";
    pub const DRAW: &str = "draw";
    pub const PARAM: &str = "param";
    pub const OBS: &str = "obs";
    pub const ITERATION: &str = "iteration";
    pub const ESTIMATOR: &str = "estimator";
    pub const HYPOTHESIS: &str = "hypothesis";
}

pub mod var {
    pub const M: &str = "m";
    pub const PARAM_X: &str = "param_x";
    pub const PARAM_Y: &str = "param_y";
    pub const PARAM_Z: &str = "param_z";
    pub const LP: &str = "lp";
    pub const LOG_LIKELIHOOD: &str = "log_likelihood";
    pub const ACCEPTED: &str = "accepted";
    pub const ACCEPTANCE_RATE: &str = "acceptance_rate";
    pub const N_FAILED: &str = "n_failed";
    pub const D: &str = "d";
    pub const SIGMA: &str = "sigma";
    pub const MEAN: &str = "mean";
    pub const STD: &str = "std";
    pub const Q05: &str = "q05";
    pub const Q50: &str = "q50";
    pub const Q95: &str = "q95";
    /// Ray coverage Σ_i |∂d_i/∂m_j| at the posterior mean (travel-time problems).
    pub const COVERAGE: &str = "coverage";
    /// Rank-normalised split R-hat (the larger of bulk and tail), its bulk and tail parts, bulk
    /// and tail ESS, and the Monte-Carlo standard errors of the mean, the sd and the summary's
    /// quantiles, per parameter
    /// (McMC; Vehtari et al. 2021, ArviZ's definitions).
    pub const RHAT: &str = "rhat";
    pub const RHAT_BULK: &str = "rhat_bulk";
    pub const RHAT_TAIL: &str = "rhat_tail";
    pub const ESS_BULK: &str = "ess_bulk";
    pub const ESS_TAIL: &str = "ess_tail";
    pub const MCSE_MEAN: &str = "mcse_mean";
    pub const MCSE_SD: &str = "mcse_sd";
    pub const MCSE_Q05: &str = "mcse_q05";
    pub const MCSE_Q50: &str = "mcse_q50";
    pub const MCSE_Q95: &str = "mcse_q95";
    pub const MISFIT: &str = "misfit";
    pub const STEP_SIZE: &str = "step_size";
    pub const BANDWIDTH: &str = "bandwidth";
    pub const ACCEPTANCE: &str = "acceptance";
    pub const LP_MEAN: &str = "lp_mean";
    pub const WALL_TIME: &str = "wall_time";
    /// Evidence lower bound of a variational density (Monte-Carlo estimate per iteration).
    pub const ELBO: &str = "elbo";
    pub const BETA: &str = "beta";
    /// Kernelised Stein discrepancy² (IMQ kernel, U-statistic) of a particle set per iteration.
    pub const KSD: &str = "ksd";
    /// `tempering/`: the frozen ladder β₀ = 0 < … < 1 and the schedule's ladder per round.
    pub const BETAS: &str = "betas";
    pub const SCHEDULE: &str = "schedule";
    /// Per swap pair (i, i + 1): accepted share of the attempted swaps, and the
    /// Rao-Blackwellised rejection rate E[1 − min(1, α)] over every swap round.
    pub const SWAP_ACCEPTANCE: &str = "swap_acceptance";
    pub const N_CELLS: &str = "n_cells";
    pub const NOISE_SCALE: &str = "noise_scale";
    pub const NUCLEI: &str = "nuclei";
    pub const VALUES: &str = "values";
    pub const OFFSETS: &str = "offsets";
    pub const BIRTH_ACCEPTANCE: &str = "birth_acceptance";
    pub const DEATH_ACCEPTANCE: &str = "death_acceptance";
    pub const MOVE_ACCEPTANCE: &str = "move_acceptance";
    pub const VALUE_ACCEPTANCE: &str = "value_acceptance";
    pub const NOISE_ACCEPTANCE: &str = "noise_acceptance";
    pub const REJECTION_RATE: &str = "rejection_rate";
    /// Per β: the cumulative communication barrier Λ(β_i) = Σ_{j<i} r_j.
    pub const BARRIER: &str = "barrier";
    /// Per ladder: replicas that went from β = 0 to β = 1 and back after burn-in.
    pub const ROUND_TRIPS: &str = "round_trips";
    /// Per β: the explorer's acceptance rate after burn-in.
    pub const EXPLORER_ACCEPTANCE: &str = "explorer_acceptance";
    /// The weight of the mixture component being fitted (boosting VI).
    pub const MIXTURE_WEIGHT: &str = "mixture_weight";
    pub const CONFIG: &str = "config";
    pub const CONFIG_SOURCE: &str = "config_source";
    pub const NEXT_ITERATION: &str = "next_iteration";
    /// log q of each draw of a variational density (unconstrained space).
    pub const LOG_Q: &str = "log_q";
    /// The mixture component of each draw of a mixture of flows.
    pub const COMPONENT: &str = "component";
    /// Mixture weights of a mixture of flows (`variational/weights`).
    pub const WEIGHTS: &str = "weights";
    /// `estimate` or `lower_bound` (the ELBO).
    pub const BOUND: &str = "bound";
    pub const LOG_Z: &str = "log_z";
    pub const LOG_Z_ERROR: &str = "log_z_error";
    /// The information H = E_post[log p(d|m)] − log Z (nats).
    pub const INFORMATION: &str = "information";
    pub const ESS: &str = "ess";
    pub const KHAT: &str = "khat";
    pub const RELIABLE: &str = "reliable";
    /// Thermodynamic integration's discretisation error (included in its log_z_error).
    pub const DISCRETISATION_ERROR: &str = "discretisation_error";
    /// Why a row is not reliable (empty when it is).
    pub const NOTE: &str = "note";
    /// A smoothing prior's log-normaliser taken off log Z, and its error.
    pub const PRIOR_LOG_NORMALISER: &str = "prior_log_normaliser";
    pub const PRIOR_LOG_NORMALISER_ERROR: &str = "prior_log_normaliser_error";
    /// The estimator behind a hypothesis's log Z.
    pub const ESTIMATOR_USED: &str = "estimator";
    pub const PRIOR_ODDS: &str = "prior_odds";
    pub const POSTERIOR_PROBABILITY: &str = "posterior_probability";
    pub const LOG_BAYES_FACTOR: &str = "log_bayes_factor";
    pub const LOG_BAYES_FACTOR_ERROR: &str = "log_bayes_factor_error";
    pub const FILE: &str = "file";
    /// A prior replacement: each draw's smoothed normalised log weight, log Z_new − log Z_old
    /// and its error.
    pub const LOG_WEIGHT: &str = "log_weight";
    pub const LOG_EVIDENCE_RATIO: &str = "log_evidence_ratio";
    pub const LOG_EVIDENCE_RATIO_ERROR: &str = "log_evidence_ratio_error";
}

pub mod attr {
    pub const VERSION: &str = "version";
    pub const GIT_COMMIT: &str = "git_commit";
    pub const FEATURES: &str = "features";
    pub const N_RANKS: &str = "n_ranks";
    pub const SEED: &str = "seed";
    pub const CONFIG_HASH: &str = "config_hash";
    /// The config file of the run (absolute path).
    pub const CONFIG_PATH: &str = "config_path";
    /// Which data the run fitted (a fingerprint): evidence tables combine only equal ones.
    pub const DATA_FINGERPRINT: &str = "data_fingerprint";
    /// The prior hypothesis a run is, within a `hypotheses:` config, and its prior odds.
    pub const HYPOTHESIS: &str = "hypothesis";
    pub const PRIOR_ODDS: &str = "prior_odds";
    pub const STATUS: &str = "status";
    pub const NAME: &str = "name";
    pub const METHOD: &str = "method";
    pub const PROBLEM: &str = "problem";
    pub const N_MEMBERS: &str = "n_members";
    pub const ITERATIONS: &str = "iterations";
    pub const ITERATIONS_DONE: &str = "iterations_done";
    /// Why the run loop stopped: `iterations` (all done) or `converged`.
    pub const TERMINATION: &str = "termination";
    /// The estimators of `evidence/`, in order, space-separated.
    pub const ESTIMATORS: &str = "estimators";
    /// Forward and adjoint (gradient) solves of the physics over the whole run, all ranks.
    pub const FORWARD_CALLS: &str = "forward_calls";
    pub const ADJOINT_CALLS: &str = "adjoint_calls";
    pub const CREATED: &str = "created";
    pub const WALL_SECONDS: &str = "wall_seconds";
    pub const N_SAMPLES: &str = "n_samples";
    pub const UNITS: &str = "units";
    pub const LONG_NAME: &str = "long_name";
    pub const COORDINATES: &str = "coordinates";
    /// ArviZ reads these to label the inference library.
    pub const INFERENCE_LIBRARY: &str = "inference_library";
    pub const INFERENCE_LIBRARY_VERSION: &str = "inference_library_version";
}

/// A per-iteration trace of `diagnostics/`. A new trace is one variant (and its name above);
/// the file holds them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trace {
    /// χ²/N averaged over the members that did not fail.
    Misfit,
    /// Mean log posterior over the members that did not fail.
    LpMean,
    Elbo,
    /// The likelihood's weight of a tempered objective.
    Beta,
    /// The weight of the mixture component being fitted.
    MixtureWeight,
    /// KSD² of the particles.
    Ksd,
    /// Accepted share of the swaps attempted in the latest swap round.
    SwapAcceptance,
    /// The estimated global communication barrier Λ(1) of the ladder.
    Barrier,
    /// RJ-McMC: the accepted share of each move kind so far (all chains).
    BirthAcceptance,
    DeathAcceptance,
    MoveAcceptance,
    ValueAcceptance,
    NoiseAcceptance,
    StepSize,
    Bandwidth,
    Acceptance,
    NFailed,
    WallTime,
}

impl Trace {
    pub const ALL: &[Trace] = &[
        Trace::Misfit,
        Trace::LpMean,
        Trace::Elbo,
        Trace::Beta,
        Trace::MixtureWeight,
        Trace::Ksd,
        Trace::SwapAcceptance,
        Trace::Barrier,
        Trace::BirthAcceptance,
        Trace::DeathAcceptance,
        Trace::MoveAcceptance,
        Trace::ValueAcceptance,
        Trace::NoiseAcceptance,
        Trace::StepSize,
        Trace::Bandwidth,
        Trace::Acceptance,
        Trace::NFailed,
        Trace::WallTime,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Trace::Misfit => var::MISFIT,
            Trace::LpMean => var::LP_MEAN,
            Trace::Elbo => var::ELBO,
            Trace::Beta => var::BETA,
            Trace::MixtureWeight => var::MIXTURE_WEIGHT,
            Trace::Ksd => var::KSD,
            Trace::SwapAcceptance => var::SWAP_ACCEPTANCE,
            Trace::Barrier => var::BARRIER,
            Trace::BirthAcceptance => var::BIRTH_ACCEPTANCE,
            Trace::DeathAcceptance => var::DEATH_ACCEPTANCE,
            Trace::MoveAcceptance => var::MOVE_ACCEPTANCE,
            Trace::ValueAcceptance => var::VALUE_ACCEPTANCE,
            Trace::NoiseAcceptance => var::NOISE_ACCEPTANCE,
            Trace::StepSize => var::STEP_SIZE,
            Trace::Bandwidth => var::BANDWIDTH,
            Trace::Acceptance => var::ACCEPTANCE,
            Trace::NFailed => var::N_FAILED,
            Trace::WallTime => var::WALL_TIME,
        }
    }

    pub fn from_name(name: &str) -> Option<Trace> {
        Trace::ALL.iter().copied().find(|t| t.name() == name)
    }
}

/// Root attributes that differ between equivalent runs (rank count, times) and are therefore
/// left out of bit-identity comparisons, like the wall-time trace.
pub const NON_REPRODUCIBLE: &[&str] = &[
    attr::N_RANKS,
    attr::CREATED,
    attr::WALL_SECONDS,
    var::WALL_TIME,
];
