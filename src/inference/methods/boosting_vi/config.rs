//! The `boosting_vi` config block: the `vi` keys (one component's flow and its fit) plus
//! `components`, and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::spec::{CheckedMethod, EvidenceInputs, MembersSpec};
use crate::inference::methods::vi;
use crate::inference::{Method, MethodConfig};

/// `method: {kind: boosting_vi, components: K, flow: [...], iterations: ..., ...}`: every key
/// of `vi`, with `iterations` (and `anneal`, `decay`) per component.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Config(pub vi::Config);

/// A checked `boosting_vi` block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub components: usize,
    /// One component's fit (`iterations` per component; `init` is the first component's).
    pub fit: vi::Spec,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "boosting_vi"
    }
    fn members(&self) -> &MembersSpec {
        &self.fit.members
    }
    fn iterations(&self) -> usize {
        self.components * self.fit.iterations
    }
    fn takes_stochastic_gradients(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("{} components of {}", self.components, self.fit.describe())
    }
    fn evidence_inputs(&self) -> EvidenceInputs {
        EvidenceInputs { ladder: false, density: true }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl MethodConfig for Config {
    type Spec = Spec;

    fn check(&self, cx: &mut MethodCheck) -> Option<Spec> {
        let components = match self.0.components {
            Some(k) => cx.issues.at_least(k, 1, "components").then_some(k),
            None => {
                cx.issues.add("components", "required: the number of mixture components (e.g. 2)");
                None
            }
        };
        let fit = self.0.check_fit(cx);
        Some(Spec {
            components: components?,
            fit: fit?,
        })
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::BoostingVi::new(spec.clone(), dim))
    }
}
