//! Summaries and convergence diagnostics of an ensemble: numpy-compatible quantiles, the
//! standard normal quantile, R-hat (bulk, tail), ESS (bulk, tail) and MCSE (Vehtari et al. 2021).

pub mod convergence;
pub mod stats;
