//! Summaries and convergence diagnostics of an ensemble: numpy-compatible quantiles, the
//! standard normal quantile, R-hat (bulk, tail), ESS (bulk, tail) and MCSE (Vehtari et al. 2021)
//! for chains, the kernelised Stein discrepancy for interacting particles.

pub mod convergence;
pub mod stats;
pub mod stein;
