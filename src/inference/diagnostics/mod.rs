//! Summaries and convergence diagnostics of an ensemble: numpy-compatible quantiles, the
//! standard normal quantile, rank-normalised split R-hat and bulk ESS (Vehtari et al. 2021).

pub mod convergence;
pub mod stats;
