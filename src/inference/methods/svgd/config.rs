//! SVGD's config block and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::raw::{RawInit, default_max_failed_fraction};
use crate::core::config::spec::{CheckedMethod, MembersSpec};
use crate::inference::stein_kernel::{KernelKeys, KernelSpec};
use crate::inference::optim::{AdamKeys, DecayKeys, OptimizerKind, OptimizerSpec, SgdKeys, check_optimizer};
use crate::inference::{Method, MethodConfig};

/// `method: {kind: svgd, ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub n_particles: usize,
    pub iterations: usize,
    pub step_size: f64,
    #[serde(default)]
    pub optimizer: OptimizerKind,
    #[serde(default)]
    pub adam: AdamKeys,
    #[serde(default)]
    pub sgd: SgdKeys,
    #[serde(default)]
    pub kernel: KernelKeys,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<DecayKeys>,
    #[serde(default)]
    pub init: RawInit,
    #[serde(default = "default_max_failed_fraction")]
    pub max_failed_fraction: f64,
}

/// A checked SVGD block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub optimizer: OptimizerSpec,
    pub kernel: KernelSpec,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "svgd"
    }
    fn members(&self) -> &MembersSpec {
        &self.members
    }
    fn iterations(&self) -> usize {
        self.iterations
    }
    fn takes_stochastic_gradients(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("{} particles × {} iterations", self.members.n, self.iterations)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl MethodConfig for Config {
    type Spec = Spec;

    fn check(&self, cx: &mut MethodCheck) -> Option<Spec> {
        let ok = cx.issues.at_least(self.iterations, 1, "iterations");
        let optimizer = check_optimizer(
            self.step_size,
            self.optimizer,
            &self.adam,
            &self.sgd,
            self.decay.as_ref(),
            cx.issues,
        );
        let kernel = cx.issues.within("kernel", |issues| self.kernel.check(issues));
        let members = cx.members(
            self.n_particles,
            "n_particles",
            2,
            &self.init,
            self.max_failed_fraction,
        );
        (ok && optimizer.is_some() && members.is_some() && kernel.is_some()).then(|| Spec {
            members: members.expect("checked"),
            iterations: self.iterations,
            optimizer: optimizer.expect("checked"),
            kernel: kernel.expect("checked"),
        })
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::Svgd::new(spec.clone(), dim))
    }
}
