//! Metropolis–Hastings's config block and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::raw::{RawInit, default_max_failed_fraction};
use crate::core::config::spec::{CheckedMethod, FailureCount, MembersSpec};
use crate::inference::mcmc::{Adaptation, ProposalKeys, check_chain_lengths, one};
use crate::inference::{Method, MethodConfig};

/// `method: {kind: mh, ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub n_chains: usize,
    /// Total iterations per chain, burn-in included.
    pub iterations: usize,
    pub burn_in: usize,
    #[serde(default = "one")]
    pub thin: usize,
    #[serde(default)]
    pub proposal: ProposalKeys,
    #[serde(default)]
    pub init: RawInit,
    #[serde(default = "default_max_failed_fraction")]
    pub max_failed_fraction: f64,
}

/// A checked MH block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub burn_in: usize,
    pub thin: usize,
    pub proposal: Adaptation,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "mh"
    }
    fn members(&self) -> &MembersSpec {
        &self.members
    }
    fn iterations(&self) -> usize {
        self.iterations
    }
    fn failure_count(&self) -> FailureCount {
        FailureCount::Cumulative { after: 10 }
    }
    fn describe(&self) -> String {
        format!(
            "{} chains × {} iterations ({} burn-in, thin {})",
            self.members.n, self.iterations, self.burn_in, self.thin
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
        let proposal = self.proposal.check(issues);
        let members = cx.members(
            self.n_chains,
            "n_chains",
            1,
            &self.init,
            self.max_failed_fraction,
        );
        Some(Spec {
            members: members?,
            iterations: self.iterations,
            burn_in: self.burn_in,
            thin: self.thin,
            proposal: proposal.filter(|_| lengths)?,
        })
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::MetropolisHastings::new(spec.clone(), dim))
    }
}
