//! Metropolis–Hastings's config block and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::raw::{RawInit, default_max_failed_fraction};
use crate::core::config::spec::{CheckedMethod, FailureCount, MembersSpec};
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

fn one() -> usize {
    1
}

/// `proposal: {initial_scale, adapt, adapt_every, target_acceptance}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProposalKeys {
    /// Initial random-walk std in the unconstrained space; default 2.38/√d × the prior's
    /// unconstrained std per parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_scale: Option<f64>,
    pub adapt: bool,
    pub adapt_every: usize,
    pub target_acceptance: f64,
}

impl Default for ProposalKeys {
    fn default() -> Self {
        ProposalKeys {
            initial_scale: None,
            adapt: true,
            adapt_every: 100,
            target_acceptance: 0.234,
        }
    }
}

/// A checked MH block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub burn_in: usize,
    pub thin: usize,
    /// `None`: 2.38/√d × the prior's unconstrained std per parameter.
    pub initial_scale: Option<f64>,
    pub adapt: bool,
    pub adapt_every: usize,
    pub target_acceptance: f64,
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
        let burn_in_key = issues.path("burn_in");
        let mut ok = issues.check(self.iterations > self.burn_in, "iterations", || {
            format!(
                "must exceed {burn_in_key} ({} ≤ {})",
                self.iterations,
                self.burn_in
            )
        });
        let thin = self.thin;
        ok &= issues.at_least(thin, 1, "thin");
        if ok {
            ok &= issues.check(self.iterations - self.burn_in >= thin, "thin", || {
                format!(
                    "keeps no draw: iterations − burn_in = {} < thin = {thin}",
                    self.iterations - self.burn_in
                )
            });
        }
        let p = &self.proposal;
        if let Some(s) = p.initial_scale {
            ok &= issues.positive(s, "proposal.initial_scale");
        }
        ok &= issues.at_least(p.adapt_every, 1, "proposal.adapt_every");
        ok &= issues.in_range(
            p.target_acceptance,
            0.01,
            0.99,
            "proposal.target_acceptance",
            "[0.01, 0.99]",
        );
        let members = cx.members(
            self.n_chains,
            "n_chains",
            1,
            &self.init,
            self.max_failed_fraction,
        );
        (ok && members.is_some()).then(|| Spec {
            members: members.expect("checked"),
            iterations: self.iterations,
            burn_in: self.burn_in,
            thin,
            initial_scale: p.initial_scale,
            adapt: p.adapt,
            adapt_every: p.adapt_every,
            target_acceptance: p.target_acceptance,
        })
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::MetropolisHastings::new(spec.clone(), dim))
    }
}
