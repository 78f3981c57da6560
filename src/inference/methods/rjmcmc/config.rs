//! RJ-McMC's config block and its checked spec.

use serde::{Deserialize, Serialize};

use crate::core::config::MethodCheck;
use crate::core::config::raw::default_max_failed_fraction;
use crate::core::config::spec::{
    CheckedMethod, EvidenceInputs, FailureCount, GridSpec, InitSpec, Marginals, MembersSpec,
};
use crate::inference::mcmc::{check_chain_lengths, one};
use crate::inference::tempering::{TemperingKeys, TemperingSpec};
use crate::inference::{Method, MethodConfig};

/// `method: {kind: rjmcmc, ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub n_chains: usize,
    /// Total iterations of every chain, burn-in included.
    pub iterations: usize,
    pub burn_in: usize,
    #[serde(default = "one")]
    pub thin: usize,
    pub cells: CellsKeys,
    #[serde(default)]
    pub nuclei: NucleiKind,
    #[serde(default)]
    pub birth: BirthKind,
    #[serde(default)]
    pub proposal: StepKeys,
    /// Hierarchical noise: σ_data × λ with λ ~ U[lower, upper].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseKeys>,
    /// Parallel tempering of the chains (the keys of `kind: pt`; `chains_per_temperature` is
    /// `n_chains`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempering: Option<TemperingKeys>,
    #[serde(default = "default_max_failed_fraction")]
    pub max_failed_fraction: f64,
}

/// `cells: {min, max}`: the prior on the number of cells is uniform on [min, max].
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CellsKeys {
    pub min: usize,
    pub max: usize,
}

/// Where nuclei may lie: anywhere in the grid's box, or on its nodes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NucleiKind {
    #[default]
    Continuous,
    Nodes,
}

/// How a birth draws the new cell's value: from the prior, or from the value of the cell the
/// new nucleus falls in plus a Gaussian (`proposal.birth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BirthKind {
    #[default]
    Prior,
    Neighbour,
}

/// Proposal standard deviations (physical units; positions in the grid's units).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepKeys {
    /// A cell value's perturbation (default: a tenth of the prior's range, or half its std).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// A nucleus's move (default: a tenth of the grid's largest extent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<f64>,
    /// A neighbour birth's value around its cell's (default: `value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth: Option<f64>,
    /// λ's perturbation (default: a twentieth of its prior's range).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
}

/// `noise: {lower, upper}`: λ's uniform prior.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseKeys {
    pub lower: f64,
    pub upper: f64,
}

/// The prior of one cell value, per grid node (the config's prior marginals).
#[derive(Debug, Clone)]
pub struct ValuePrior(pub Marginals);

/// A checked RJ-McMC block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub burn_in: usize,
    pub thin: usize,
    pub grid: GridSpec,
    pub k_min: usize,
    pub k_max: usize,
    pub nuclei: NucleiKind,
    pub birth: BirthKind,
    pub values: ValuePrior,
    pub value_step: f64,
    pub position_step: f64,
    pub birth_step: f64,
    /// λ's prior bounds and step, with hierarchical noise.
    pub noise: Option<(f64, f64, f64)>,
    pub tempering: Option<TemperingSpec>,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "rjmcmc"
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
        let ladder = self.tempering.as_ref().map_or(String::new(), |t| {
            format!(" × {} temperatures", t.n_temperatures)
        });
        format!(
            "{} chains{ladder} × {} iterations ({} burn-in, thin {}), {}–{} cells",
            self.members.n, self.iterations, self.burn_in, self.thin, self.k_min, self.k_max
        )
    }
    fn evidence_inputs(&self) -> EvidenceInputs {
        EvidenceInputs { ladder: self.tempering.is_some(), density: false }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl MethodConfig for Config {
    type Spec = Spec;

    fn check(&self, cx: &mut MethodCheck) -> Option<Spec> {
        let grid = cx.problem.and_then(crate::posterior::parameter_grid);
        let problem = cx.problem;
        let prior = cx.prior;
        let issues = &mut *cx.issues;
        let mut ok = check_chain_lengths(issues, self.iterations, self.burn_in, self.thin);
        ok &= issues.at_least(self.n_chains, 1, "n_chains");
        ok &= issues.at_least(self.cells.min, 1, "cells.min");
        let min_key = issues.path("cells.min");
        ok &= issues.check(self.cells.max >= self.cells.min, "cells.max", || {
            format!(
                "must be ≥ {min_key} ({} < {})",
                self.cells.max, self.cells.min
            )
        });
        ok &= issues.in_range(
            self.max_failed_fraction,
            0.0,
            1.0,
            "max_failed_fraction",
            "[0, 1]",
        );
        if let Some(problem) = problem {
            ok &= issues.check(grid.is_some(), "kind", || {
                format!(
                    "rjmcmc needs a problem whose parameters lie on a grid (traveltime2d/3d, fwi2d/3d, linear and analytic with problem.grid, dispersion with parameters: vs on layers of one thickness); `{}` has none",
                    problem.kind_name()
                )
            });
        }
        if let (Some(grid), NucleiKind::Nodes) = (&grid, self.nuclei) {
            ok &= issues.check(self.cells.max <= grid.n_nodes(), "cells.max", || {
                format!(
                    "is more than the grid's {} nodes, which `nuclei: nodes` allows at most",
                    grid.n_nodes()
                )
            });
        }
        if let Some(prior) = prior {
            ok &= issues.check(prior.smoothing.is_none(), "kind", || {
                "rjmcmc does not take prior.smoothing (the cells are the model's structure): remove it".to_string()
            });
        }
        let noise = match &self.noise {
            None => None,
            Some(n) => {
                let bounds = issues.check(
                    n.lower > 0.0 && n.upper > n.lower && n.upper.is_finite(),
                    "noise",
                    || format!("needs 0 < lower < upper (got [{}, {}])", n.lower, n.upper),
                );
                ok &= bounds;
                let data = problem.is_some_and(|p| !p.data().sigma.is_empty());
                ok &= issues.check(data || problem.is_none(), "noise", || {
                    "scales the data's σ: the problem has no data (an analytic target or likelihood: none)".to_string()
                });
                let step = self.proposal.noise.unwrap_or((n.upper - n.lower) / 20.0);
                ok &= issues.positive(step, "proposal.noise");
                Some((n.lower, n.upper, step))
            }
        };
        let tempering = match &self.tempering {
            None => None,
            Some(keys) => issues.within("tempering", |issues| {
                let given = keys.chains_per_temperature;
                let chains_ok = issues.check(
                    given.is_none_or(|c| c == self.n_chains),
                    "chains_per_temperature",
                    || "is n_chains for RJ-McMC: remove it".to_string(),
                );
                let keys = TemperingKeys {
                    chains_per_temperature: Some(self.n_chains),
                    ..keys.clone()
                };
                keys.check(issues, self.burn_in, self.thin)
                    .filter(|_| chains_ok)
            }),
        };
        ok &= self.tempering.is_none() || tempering.is_some();
        let (grid, prior) = (grid?, prior?);
        let values = ValuePrior(prior.marginals.clone());
        let value_step = self.proposal.value.unwrap_or_else(|| values.default_step());
        let extent = (0..grid.dims())
            .map(|a| grid.end(a) - grid.origin[a])
            .fold(0.0, f64::max);
        let position_step = self.proposal.position.unwrap_or(0.1 * extent);
        let birth_step = self.proposal.birth.unwrap_or(value_step);
        ok &= issues.positive(value_step, "proposal.value");
        ok &= issues.positive(position_step, "proposal.position");
        ok &= issues.positive(birth_step, "proposal.birth");
        let slots = tempering.as_ref().map_or(1, |t| t.n_temperatures) * self.n_chains;
        ok.then(|| Spec {
            members: MembersSpec {
                n: slots,
                init: InitSpec::ByMethod,
                max_failed_fraction: self.max_failed_fraction,
            },
            iterations: self.iterations,
            burn_in: self.burn_in,
            thin: self.thin,
            grid,
            k_min: self.cells.min,
            k_max: self.cells.max,
            nuclei: self.nuclei,
            birth: self.birth,
            values,
            value_step,
            position_step,
            birth_step,
            noise,
            tempering,
        })
    }

    fn build(spec: &Spec, _dim: usize) -> Box<dyn Method> {
        Box::new(super::ReversibleJump::new(spec.clone()))
    }
}
