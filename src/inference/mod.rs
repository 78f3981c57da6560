//! Inference methods and their diagnostics. Every method is driven by the one loop of `driver`
//! through the [`Method`] trait: `init` once, `step` per iteration, `output` for the result
//! file and `checkpoint`/`restore` for resuming. Methods never print, never open files and
//! never call MPI directly: collectives go through [`RunContext`], what happened in a step
//! comes back as [`StepStats`], and what the result holds as a typed [`MethodOutput`].
//!
//! A method is one folder under `methods/` (its config with defaults, its validation into a
//! checked spec, its `build`, its step and its tests) plus one line in the registry
//! (`methods/mod.rs`). Shared pieces: `optim` (SGD, Adam, step decay), `diagnostics`, `evidence` (log Z and its errors), `flows`, `mcmc` (what
//! the McMC methods share), `stein_kernel` (SVGD's and sSVGD's kernels), `tempering` (parallel tempering's ladder) and `variational` (what the methods fitting a variational density
//! share).

pub mod context;
pub mod diagnostics;
pub mod evidence;
pub mod flows;
pub mod mcmc;
pub mod methods;
pub mod optim;
mod registry;
pub mod stein_kernel;
pub mod tempering;
#[cfg(test)]
pub(crate) mod testing;
pub mod variational;

use std::path::Path;

use ndarray::{Array1, Array3};

use crate::core::config::raw::RawConfig;
use crate::core::config::spec::{CheckedMethod, RunSpec};
use crate::core::config::{MethodCheck, Mode};
use crate::core::error::Result;
pub use crate::core::io::names::Trace;
pub use crate::core::io::output::{DrawValues, EvidenceRow, KeptGroup};
pub use crate::core::state::MethodState;
pub use context::RunContext;
pub use methods::build;

/// Validates a raw config for `mode` with the registered methods.
pub fn validate(raw: &RawConfig, config_path: &Path, source: &str, mode: Mode) -> Result<RunSpec> {
    crate::core::config::validate_with(raw, config_path, source, mode, &methods::Registry)
}

/// A method's config block: serde (`deny_unknown_fields`, defaults beside the fields), checked
/// into its spec, which builds the method. The registry lists each implementor once.
pub trait MethodConfig: serde::Serialize + serde::de::DeserializeOwned {
    type Spec: CheckedMethod + Clone;
    /// Checks the block; problems go to `cx.issues` with keys relative to `method`.
    fn check(&self, cx: &mut MethodCheck) -> Option<Self::Spec>;
    /// The method for a target of dimension `dim`.
    fn build(spec: &Self::Spec, dim: usize) -> Box<dyn Method>;
}

/// What one iteration did, for the run policy and the observers (progress, history).
#[derive(Debug, Clone, PartialEq)]
pub struct StepStats {
    /// Mean χ²/N over the members that did not fail (NaN without a likelihood).
    pub misfit: f64,
    /// Mean log posterior over the members that did not fail.
    pub lp_mean: f64,
    /// Members whose forward model was run in this step, and how many of them failed.
    pub n_evaluated: usize,
    pub n_failed: usize,
    /// Further traces of the step (step size, bandwidth, acceptance, ELBO, ...).
    pub traces: Vec<(Trace, f64)>,
    /// The method has converged: the loop stops after this step.
    pub converged: bool,
}

impl StepStats {
    pub fn trace(&self, trace: Trace) -> Option<f64> {
        self.traces
            .iter()
            .find(|(t, _)| *t == trace)
            .map(|(_, v)| *v)
    }
}

/// The space of a method's draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// The unconstrained space the posterior is written in (the driver maps them to physical
    /// units).
    Unconstrained,
    /// Physical units already (RJ-McMC's projected grid models).
    Physical,
}

/// What a method's result holds; the driver writes it under DESIGN.md's names.
#[derive(Debug, Clone)]
pub struct MethodOutput {
    /// (chain, draw, param) in `space`.
    pub draws: Array3<f64>,
    pub space: Space,
    /// `sample_stats/` per (chain, draw), in file order (lp, log_likelihood, n_failed, ...).
    pub draw_stats: Vec<(&'static str, DrawValues)>,
    /// `sample_stats/` per chain (acceptance_rate).
    pub chain_stats: Vec<(&'static str, Array1<f64>)>,
    /// The chains are independent Markov chains, so R-hat and ESS apply (not for
    /// interacting particles).
    pub independent_chains: bool,
    /// Groups to keep in the result (variational parameters, trained weights).
    pub kept: Vec<KeptGroup>,
    /// Rows of the evidence table (the driver adds those of `evidence:`).
    pub evidence: Vec<EvidenceRow>,
}

pub trait Method {
    /// Sets up the initial state (called only on a fresh start, never on resume).
    fn init(&mut self, ctx: &mut RunContext) -> Result<()>;
    /// One iteration; `ctx.iteration()` is its index.
    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats>;
    /// Work after the last iteration (e.g. evaluating the final particles).
    fn finish(&mut self, _ctx: &mut RunContext) -> Result<()> {
        Ok(())
    }
    /// What the result holds now.
    fn output(&self) -> MethodOutput;
    /// Everything needed to resume after the last completed iteration.
    fn checkpoint(&self) -> MethodState;
    fn restore(&mut self, state: &MethodState) -> Result<()>;
}

/// Mean of the values of the members that did not fail (NaN when all failed).
pub(crate) fn mean_over_ok(values: impl Iterator<Item = f64>, failed: &[bool]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (v, &f) in values.zip(failed) {
        if !f {
            sum += v;
            n += 1;
        }
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}
