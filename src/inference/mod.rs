//! Inference methods and their diagnostics. Every method is driven by the one loop of `driver`
//! through the `Method` trait: `init` once, `step` per iteration, `samples` for the output and
//! `checkpoint`/`restore` for resuming. Methods never print, never open files and never call MPI
//! directly: collectives go through `RunContext`, and what happened in a step comes back as
//! `StepStats`.

pub mod context;
pub mod diagnostics;
pub mod mcmc;
pub mod vi;

use ndarray::{Array1, Array2, Array3};

use crate::core::config::spec::MethodSpec;
use crate::core::error::Result;
pub use crate::core::state::MethodState;
pub use context::RunContext;

/// What one iteration did, for observers (progress, history).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean χ²/N over the members that did not fail (NaN without a likelihood).
    pub misfit: f64,
    /// Mean log posterior over the members that did not fail.
    pub lp_mean: f64,
    pub step_size: Option<f64>,
    pub bandwidth: Option<f64>,
    pub acceptance: Option<f64>,
    pub n_failed: usize,
}

/// The ensemble a method holds, in the unconstrained space: (chain, draw, param).
#[derive(Debug, Clone)]
pub struct Samples {
    pub draws: Array3<f64>,
    pub lp: Array2<f64>,
    pub log_likelihood: Array2<f64>,
    pub n_failed: Array2<i64>,
    pub accepted: Option<Array2<i8>>,
    pub acceptance_rate: Option<Array1<f64>>,
}

pub trait Method {
    /// Short name (`svgd`, `mh`), stored in the result file.
    fn name(&self) -> &'static str;
    fn n_members(&self) -> usize;
    /// Total iterations of the run.
    fn iterations(&self) -> usize;
    /// Sets up the initial state (called only on a fresh start, never on resume).
    fn init(&mut self, ctx: &mut RunContext) -> Result<()>;
    /// One iteration; `ctx.iteration()` is its index.
    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats>;
    /// Work after the last iteration (e.g. evaluating the final particles).
    fn finish(&mut self, _ctx: &mut RunContext) -> Result<()> {
        Ok(())
    }
    /// What the output holds now.
    fn samples(&self) -> Samples;
    /// Everything needed to resume after the last completed iteration.
    fn checkpoint(&self) -> MethodState;
    fn restore(&mut self, state: &MethodState) -> Result<()>;
}

/// The method of a checked spec, for a target of dimension `dim`.
pub fn build_method(spec: &MethodSpec, dim: usize) -> Box<dyn Method> {
    match spec {
        MethodSpec::Svgd(s) => Box::new(vi::svgd::Svgd::new(s.clone(), dim)),
        MethodSpec::Mh(m) => Box::new(mcmc::mh::MetropolisHastings::new(m.clone(), dim)),
    }
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
