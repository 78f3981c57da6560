//! Stochastic SVGD's config block and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::raw::{RawInit, default_max_failed_fraction};
use crate::core::config::spec::{CheckedMethod, MembersSpec};
use crate::inference::mcmc::{check_chain_lengths, one};
use crate::inference::stein_kernel::{KernelKeys, KernelSpec};
use crate::inference::{Method, MethodConfig};

/// `method: {kind: ssvgd, ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub n_particles: usize,
    /// Total iterations, burn-in included.
    pub iterations: usize,
    pub burn_in: usize,
    #[serde(default = "one")]
    pub thin: usize,
    /// The time step ε of the discretised diffusion (no optimizer: a sampler).
    pub step_size: f64,
    #[serde(default)]
    pub kernel: KernelKeys,
    /// Accept or reject each step of the whole ensemble with the exact proposal densities.
    #[serde(default)]
    pub metropolis: bool,
    /// The weight δ of the white-noise kernel added to the kernel (K + δI): 1e-9 by default,
    /// 0.1 with `metropolis: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
    #[serde(default)]
    pub init: RawInit,
    #[serde(default = "default_max_failed_fraction")]
    pub max_failed_fraction: f64,
}

/// A checked sSVGD block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub burn_in: usize,
    pub thin: usize,
    pub step_size: f64,
    pub kernel: KernelSpec,
    pub metropolis: bool,
    pub jitter: f64,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "ssvgd"
    }
    fn members(&self) -> &MembersSpec {
        &self.members
    }
    fn iterations(&self) -> usize {
        self.iterations
    }
    /// The unadjusted diffusion takes mini-batch gradients as stochastic-gradient Langevin
    /// dynamics does; the Metropolis test needs the full log posterior.
    fn takes_stochastic_gradients(&self) -> bool {
        !self.metropolis
    }
    fn describe(&self) -> String {
        format!(
            "{} particles × {} iterations ({} burn-in, thin {}{})",
            self.members.n,
            self.iterations,
            self.burn_in,
            self.thin,
            if self.metropolis {
                ", Metropolis-adjusted"
            } else {
                ""
            }
        )
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl MethodConfig for Config {
    type Spec = Spec;

    fn check(&self, cx: &mut MethodCheck) -> Option<Spec> {
        let issues = &mut *cx.issues;
        let lengths = check_chain_lengths(issues, self.iterations, self.burn_in, self.thin);
        let step = issues.positive(self.step_size, "step_size");
        let jitter = self
            .jitter
            .unwrap_or(if self.metropolis { 0.1 } else { 1e-9 });
        let step = step & issues.positive(jitter, "jitter");
        let kernel = issues.within("kernel", |issues| self.kernel.check(issues));
        let members = cx.members(
            self.n_particles,
            "n_particles",
            2,
            &self.init,
            self.max_failed_fraction,
        );
        (lengths && step).then_some(())?;
        Some(Spec {
            members: members?,
            iterations: self.iterations,
            burn_in: self.burn_in,
            thin: self.thin,
            step_size: self.step_size,
            kernel: kernel?,
            metropolis: self.metropolis,
            jitter,
        })
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::StochasticSvgd::new(spec.clone(), dim))
    }
}
