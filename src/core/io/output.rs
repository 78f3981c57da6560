//! The result file of a run: a typed record (`RunRecord`) laid out under DESIGN.md's names and
//! written atomically. One file per run; while a run is going, the same file holds the latest
//! checkpoint (`status = checkpoint`, plus the `checkpoint` group).

use std::path::Path;

use ndarray::{Array1, Array2, Array3};

use super::hdf5_util::{self, AttrValue, GroupSpec, Values, Variable};
use super::names::{attr, dim, group, var};
use crate::core::error::Result;
use crate::core::state::MethodState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Complete,
    Checkpoint,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Checkpoint => "checkpoint",
            Status::Failed => "failed",
        }
    }
}

/// Root attributes.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub name: String,
    pub method: String,
    pub problem: String,
    pub n_ranks: usize,
    pub seed: u64,
    pub config_hash: String,
    pub n_members: usize,
    pub iterations: usize,
    pub iterations_done: usize,
    pub wall_seconds: f64,
    /// The resolved configuration (defaults filled in) and the text the user wrote.
    pub config_resolved: String,
    pub config_source: String,
}

/// Per-iteration traces (`diagnostics/*`). A column that a method never reports (all NaN) is
/// not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub misfit: Vec<f64>,
    pub lp_mean: Vec<f64>,
    pub step_size: Vec<f64>,
    pub bandwidth: Vec<f64>,
    pub acceptance: Vec<f64>,
    pub n_failed: Vec<f64>,
    pub wall_time: Vec<f64>,
}

impl History {
    pub fn len(&self) -> usize {
        self.misfit.len()
    }

    pub fn is_empty(&self) -> bool {
        self.misfit.is_empty()
    }

    /// The columns with their names, in file order.
    pub fn columns(&self) -> [(&'static str, &Vec<f64>); 7] {
        [
            (var::MISFIT, &self.misfit),
            (var::LP_MEAN, &self.lp_mean),
            (var::STEP_SIZE, &self.step_size),
            (var::BANDWIDTH, &self.bandwidth),
            (var::ACCEPTANCE, &self.acceptance),
            (var::N_FAILED, &self.n_failed),
            (var::WALL_TIME, &self.wall_time),
        ]
    }

    pub fn columns_mut(&mut self) -> [(&'static str, &mut Vec<f64>); 7] {
        [
            (var::MISFIT, &mut self.misfit),
            (var::LP_MEAN, &mut self.lp_mean),
            (var::STEP_SIZE, &mut self.step_size),
            (var::BANDWIDTH, &mut self.bandwidth),
            (var::ACCEPTANCE, &mut self.acceptance),
            (var::N_FAILED, &mut self.n_failed),
            (var::WALL_TIME, &mut self.wall_time),
        ]
    }
}

/// Per-parameter summaries in physical units.
#[derive(Debug, Clone)]
pub struct Summary {
    pub mean: Array1<f64>,
    pub std: Array1<f64>,
    pub q05: Array1<f64>,
    pub q50: Array1<f64>,
    pub q95: Array1<f64>,
    pub n_samples: usize,
    /// Further per-parameter maps: coverage, rhat, ess_bulk.
    pub extra: Vec<(&'static str, Array1<f64>)>,
}

#[derive(Debug, Clone)]
pub struct RunRecord {
    pub status: Status,
    pub provenance: Provenance,
    /// (chain, draw, param), physical units.
    pub m: Array3<f64>,
    /// Grid coordinates of each parameter (`param_x`, `param_y`, ...) with their units.
    pub param_coords: Vec<(&'static str, Array1<f64>, &'static str)>,
    pub lp: Array2<f64>,
    pub log_likelihood: Array2<f64>,
    pub accepted: Option<Array2<i8>>,
    pub acceptance_rate: Option<Array1<f64>>,
    /// (chain, draw): members whose forward model failed.
    pub n_failed: Array2<i64>,
    /// Observed data and σ, when the run has a likelihood.
    pub observed: Option<(Array1<f64>, Array1<f64>)>,
    /// Predicted data at the posterior mean.
    pub predictive_mean: Option<Array1<f64>>,
    pub summary: Summary,
    pub history: History,
    /// Present in checkpoints: the next iteration to run and the method's state.
    pub checkpoint: Option<(usize, MethodState)>,
}

fn f64_values<D: ndarray::Dimension>(a: &ndarray::Array<f64, D>) -> Values {
    Values::F64(a.clone().into_dyn())
}

fn text(s: &str) -> AttrValue {
    AttrValue::Text(s.to_string())
}

fn features() -> String {
    let mut list = Vec::new();
    if cfg!(feature = "mpi") {
        list.push("mpi");
    }
    list.join(",")
}

impl RunRecord {
    fn root_attrs(&self) -> Vec<(String, AttrValue)> {
        let p = &self.provenance;
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        vec![
            (attr::NAME.into(), text(&p.name)),
            (attr::STATUS.into(), text(self.status.as_str())),
            (attr::METHOD.into(), text(&p.method)),
            (attr::PROBLEM.into(), text(&p.problem)),
            (attr::VERSION.into(), text(env!("CARGO_PKG_VERSION"))),
            (attr::GIT_COMMIT.into(), text(env!("GEOBAYES_GIT_COMMIT"))),
            (attr::FEATURES.into(), text(&features())),
            (attr::N_RANKS.into(), AttrValue::Int(p.n_ranks as i64)),
            (attr::SEED.into(), text(&p.seed.to_string())),
            (attr::CONFIG_HASH.into(), text(&p.config_hash)),
            (attr::N_MEMBERS.into(), AttrValue::Int(p.n_members as i64)),
            (attr::ITERATIONS.into(), AttrValue::Int(p.iterations as i64)),
            (
                attr::ITERATIONS_DONE.into(),
                AttrValue::Int(p.iterations_done as i64),
            ),
            (attr::WALL_SECONDS.into(), AttrValue::Float(p.wall_seconds)),
            (attr::CREATED.into(), AttrValue::Int(created)),
            (attr::INFERENCE_LIBRARY.into(), text("geobayes")),
            (
                attr::INFERENCE_LIBRARY_VERSION.into(),
                text(env!("CARGO_PKG_VERSION")),
            ),
        ]
    }

    fn groups(&self) -> Vec<GroupSpec> {
        let mut groups = Vec::new();
        let coord_names: Vec<&str> = self.param_coords.iter().map(|(n, _, _)| *n).collect();
        let mut posterior = GroupSpec::new(group::POSTERIOR).var({
            let mut v = Variable::new(
                var::M,
                &[dim::CHAIN, dim::DRAW, dim::PARAM],
                f64_values(&self.m),
            );
            if !coord_names.is_empty() {
                v = v.with_attr(attr::COORDINATES, text(&coord_names.join(" ")));
            }
            v
        });
        for (name, values, units) in &self.param_coords {
            posterior = posterior.var(
                Variable::new(name, &[dim::PARAM], f64_values(values))
                    .with_attr(attr::UNITS, text(units)),
            );
        }
        groups.push(posterior);

        let mut stats = GroupSpec::new(group::SAMPLE_STATS)
            .var(Variable::new(
                var::LP,
                &[dim::CHAIN, dim::DRAW],
                f64_values(&self.lp),
            ))
            .var(Variable::new(
                var::LOG_LIKELIHOOD,
                &[dim::CHAIN, dim::DRAW],
                f64_values(&self.log_likelihood),
            ))
            .var(Variable::new(
                var::N_FAILED,
                &[dim::CHAIN, dim::DRAW],
                Values::I64(self.n_failed.clone().into_dyn()),
            ));
        if let Some(accepted) = &self.accepted {
            stats = stats.var(Variable::new(
                var::ACCEPTED,
                &[dim::CHAIN, dim::DRAW],
                Values::I8(accepted.clone().into_dyn()),
            ));
        }
        if let Some(rate) = &self.acceptance_rate {
            stats = stats.var(Variable::new(
                var::ACCEPTANCE_RATE,
                &[dim::CHAIN],
                f64_values(rate),
            ));
        }
        groups.push(stats);

        if let Some((d, sigma)) = &self.observed {
            groups.push(GroupSpec::new(group::OBSERVED_DATA).var(Variable::new(
                var::D,
                &[dim::OBS],
                f64_values(d),
            )));
            groups.push(GroupSpec::new(group::CONSTANT_DATA).var(Variable::new(
                var::SIGMA,
                &[dim::OBS],
                f64_values(sigma),
            )));
        }
        if let Some(pred) = &self.predictive_mean {
            groups.push(GroupSpec::new(group::POSTERIOR_PREDICTIVE).var(
                Variable::new(var::D, &[dim::OBS], f64_values(pred)).with_attr(
                    attr::LONG_NAME,
                    text("predicted data at the posterior mean"),
                ),
            ));
        }

        let s = &self.summary;
        let mut summary = GroupSpec::new(group::SUMMARY)
            .attr(attr::N_SAMPLES, AttrValue::Int(s.n_samples as i64));
        for (name, values) in [
            (var::MEAN, &s.mean),
            (var::STD, &s.std),
            (var::Q05, &s.q05),
            (var::Q50, &s.q50),
            (var::Q95, &s.q95),
        ]
        .into_iter()
        .chain(s.extra.iter().map(|(n, v)| (*n, v)))
        {
            summary = summary.var(Variable::new(name, &[dim::PARAM], f64_values(values)));
        }
        for (name, values, units) in &self.param_coords {
            summary = summary.var(
                Variable::new(name, &[dim::PARAM], f64_values(values))
                    .with_attr(attr::UNITS, text(units)),
            );
        }
        groups.push(summary);

        let mut diagnostics = GroupSpec::new(group::DIAGNOSTICS);
        for (name, column) in self.history.columns() {
            if column.iter().any(|v| !v.is_nan()) {
                diagnostics = diagnostics.var(Variable::new(
                    name,
                    &[dim::ITERATION],
                    Values::F64(Array1::from(column.clone()).into_dyn()),
                ));
            }
        }
        groups.push(diagnostics);

        groups.push(
            GroupSpec::new(group::PROVENANCE)
                .var(Variable::new(
                    var::CONFIG,
                    &[],
                    Values::Text(self.provenance.config_resolved.clone()),
                ))
                .var(Variable::new(
                    var::CONFIG_SOURCE,
                    &[],
                    Values::Text(self.provenance.config_source.clone()),
                )),
        );

        if let Some((next, state)) = &self.checkpoint {
            let mut cp = GroupSpec::new(group::CHECKPOINT)
                .attr(var::NEXT_ITERATION, AttrValue::Int(*next as i64));
            for (name, array) in state.entries() {
                let dims: Vec<String> = (0..array.ndim())
                    .map(|k| format!("{name}_dim_{k}"))
                    .collect();
                let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
                cp = cp.var(Variable::new(name, &dims, Values::F64(array.clone())));
            }
            groups.push(cp);
        }
        groups
    }

    /// Writes the record to `path` atomically (temporary name, fsync, rename, directory fsync).
    pub fn write(&self, path: &Path) -> Result<()> {
        let attrs = self.root_attrs();
        let groups = self.groups();
        super::atomic::write_atomically(path, |tmp| {
            hdf5_util::write_file(tmp, &attrs, &groups)?;
            crate::core::testing_hooks::after_temporary_write(tmp);
            Ok(())
        })
    }
}
