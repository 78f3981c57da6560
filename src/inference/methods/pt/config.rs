//! Parallel tempering's config block and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::raw::{RawInit, default_max_failed_fraction};
use crate::core::config::spec::{CheckedMethod, EvidenceInputs, FailureCount, MembersSpec};
use crate::inference::mcmc::{Adaptation, ProposalKeys, check_chain_lengths, one};
use crate::inference::tempering::{ScheduleKeys, TemperingKeys, TemperingSpec};
use crate::inference::{Method, MethodConfig};

/// `method: {kind: pt, ...}`. The tempering keys stand at the top of the block, so they are
/// declared here as in [`TemperingKeys`] (which checks them): serde's `flatten` cannot be
/// combined with `deny_unknown_fields`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Temperatures per ladder, β = 0 and β = 1 included (or the length of `betas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_temperatures: Option<usize>,
    /// Independent ladders, so chains at β = 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chains_per_temperature: Option<usize>,
    /// Total iterations of every chain, burn-in included.
    pub iterations: usize,
    pub burn_in: usize,
    #[serde(default = "one")]
    pub thin: usize,
    /// Explorer iterations between swap rounds (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_every: Option<usize>,
    /// `{adapt: true, rounds: 6}` unless a fixed ladder is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleKeys>,
    /// A fixed ladder 0 = β₀ < … < β_N = 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub betas: Option<Vec<f64>>,
    /// The random walk of every temperature (adapted per temperature during burn-in).
    #[serde(default)]
    pub proposal: ProposalKeys,
    #[serde(default)]
    pub init: RawInit,
    #[serde(default = "default_max_failed_fraction")]
    pub max_failed_fraction: f64,
}

/// A checked PT block. The members are the ladders' chains, ladder by ladder.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub burn_in: usize,
    pub thin: usize,
    pub tempering: TemperingSpec,
    pub proposal: Adaptation,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "pt"
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
        let t = &self.tempering;
        let ladder = if t.rounds > 0 {
            format!("adapted over {} burn-in rounds", t.rounds)
        } else {
            "fixed".to_string()
        };
        format!(
            "{} ladders × {} temperatures ({ladder}, swaps every {}), {} iterations ({} burn-in, thin {})",
            t.chains, t.n_temperatures, t.swap_every, self.iterations, self.burn_in, self.thin
        )
    }
    fn evidence_inputs(&self) -> EvidenceInputs {
        EvidenceInputs { ladder: true, density: false }
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
        let keys = TemperingKeys {
            n_temperatures: self.n_temperatures,
            chains_per_temperature: self.chains_per_temperature,
            swap_every: self.swap_every,
            schedule: self.schedule,
            betas: self.betas.clone(),
        };
        let tempering = keys.check(issues, self.burn_in, self.thin);
        let n_members = tempering.as_ref().map_or(1, |t| t.n_temperatures * t.chains);
        let members = cx.members(
            n_members,
            "chains_per_temperature",
            1,
            &self.init,
            self.max_failed_fraction,
        );
        Some(Spec {
            members: members?,
            iterations: self.iterations,
            burn_in: self.burn_in,
            thin: self.thin,
            tempering: tempering.filter(|_| lengths)?,
            proposal: proposal?,
        })
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::ParallelTempering::new(spec.clone(), dim))
    }
}
