//! The result file of a run: a typed record (`RunRecord`) laid out under DESIGN.md's names and
//! written atomically. One file per run; while a run is going, the same file holds the latest
//! checkpoint (`status = checkpoint`, plus the `checkpoint` group).

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2, Array3, ArrayD};

pub use super::hdf5_util::AttrValue;
use super::hdf5_util::{self, GroupSpec, Values, Variable};
use super::names::{Trace, attr, dim, group, var};
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
    /// Why the loop stopped (`iterations`, `converged`); empty in a checkpoint.
    pub termination: String,
    /// Forward and adjoint solves so far, all ranks.
    pub forward_calls: u64,
    pub adjoint_calls: u64,
    /// The resolved configuration (defaults filled in) and the text the user wrote.
    pub config_resolved: String,
    pub config_source: String,
    /// The config file the run read (absolute): its directory resolves the files the config
    /// names when a later command (`evidence`) rebuilds the posterior.
    pub config_path: String,
    pub data_fingerprint: String,
    /// The prior hypothesis of a `hypotheses:` job and its prior odds (no attributes when
    /// the name is empty).
    pub hypothesis: String,
    pub prior_odds: f64,
}

/// Per-iteration traces (`diagnostics/*`), one column per [`Trace`] that any iteration
/// reported (NaN where an iteration did not). A column that is all NaN is not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    len: usize,
    columns: BTreeMap<Trace, Vec<f64>>,
}

impl History {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one iteration's values.
    pub fn push(&mut self, values: &[(Trace, f64)]) {
        for column in self.columns.values_mut() {
            column.push(f64::NAN);
        }
        for &(trace, value) in values {
            let column = self
                .columns
                .entry(trace)
                .or_insert_with(|| vec![f64::NAN; self.len + 1]);
            column[self.len] = value;
        }
        self.len += 1;
    }

    /// The columns in file order.
    pub fn columns(&self) -> impl Iterator<Item = (Trace, &Vec<f64>)> {
        self.columns.iter().map(|(t, c)| (*t, c))
    }

    /// The column of `trace`, when any iteration reported it.
    pub fn column(&self, trace: Trace) -> Option<&Vec<f64>> {
        self.columns.get(&trace)
    }

    /// A history read back from a file: columns of equal length.
    pub fn from_columns(columns: Vec<(Trace, Vec<f64>)>) -> Self {
        let len = columns.first().map_or(0, |(_, c)| c.len());
        assert!(
            columns.iter().all(|(_, c)| c.len() == len),
            "history columns of equal length"
        );
        History {
            len,
            columns: columns.into_iter().collect(),
        }
    }
}

/// Values per (chain, draw) of `sample_stats/`.
#[derive(Debug, Clone, PartialEq)]
pub enum DrawValues {
    F64(Array2<f64>),
    I64(Array2<i64>),
    I8(Array2<i8>),
}

/// A group of arrays a method keeps in the result (flow parameters, network weights): written
/// under `name/` with its attributes, read back by later runs (`init: {file: q.h5}`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptGroup {
    pub name: &'static str,
    pub attrs: Vec<(String, AttrValue)>,
    pub arrays: Vec<(String, ArrayD<f64>)>,
}

impl KeptGroup {
    pub fn array(&self, name: &str) -> Option<&ArrayD<f64>> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

/// One row of the evidence table (`evidence/`): an estimator's log Z with its standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRow {
    /// `ss`, `ti`, `is`, `elbo`.
    pub estimator: String,
    /// A lower bound (the ELBO), not an estimate.
    pub lower_bound: bool,
    pub log_z: f64,
    pub log_z_error: f64,
    /// H = E_post[log L] − log Z in nats (NaN where the estimator does not give it).
    pub information: f64,
    /// Effective sample size of the estimate.
    pub ess: f64,
    /// Forward solves behind the estimate: the run's and the estimator's own.
    pub forward_calls: u64,
    /// Pareto k̂ of the importance weights (for ss the worst rung; NaN for ti and elbo).
    pub khat: f64,
    pub reliable: bool,
    /// TI's discretisation error (NaN for the others).
    pub discretisation_error: f64,
    /// The smoothing prior's log-normaliser log C taken off log Z (0 without smoothing), its
    /// error (included in log_z_error; 0 where exact) and whether it is exact.
    pub prior_log_normaliser: f64,
    pub prior_log_normaliser_error: f64,
    /// Why the row is not reliable, or what it is (empty otherwise).
    pub note: String,
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
    /// `sample_stats/` per (chain, draw), in file order: lp, log_likelihood, n_failed, ...
    pub draw_stats: Vec<(&'static str, DrawValues)>,
    /// `sample_stats/` per chain (acceptance_rate).
    pub chain_stats: Vec<(&'static str, Array1<f64>)>,
    /// Groups the method keeps (`variational/`, ...).
    pub kept: Vec<KeptGroup>,
    /// The evidence table, one row per estimator.
    pub evidence: Vec<EvidenceRow>,
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
    if cfg!(feature = "cuda") {
        list.push("cuda");
    }
    list.join(",")
}

/// A group of named f64 arrays, each with its own dimensions (`{name}_dim_{k}`).
fn array_group(name: &str, arrays: &[(String, ArrayD<f64>)]) -> GroupSpec {
    let mut g = GroupSpec::new(name);
    for (name, array) in arrays {
        let dims: Vec<String> = (0..array.ndim())
            .map(|k| format!("{name}_dim_{k}"))
            .collect();
        let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
        g = g.var(Variable::new(name, &dims, Values::F64(array.clone())));
    }
    g
}

/// One prior hypothesis in the evidence table of a `hypotheses:` job.
#[derive(Debug, Clone, PartialEq)]
pub struct HypothesisRow {
    pub name: String,
    /// Its result file.
    pub file: String,
    /// The estimator of its log Z.
    pub estimator: String,
    pub log_z: f64,
    pub log_z_error: f64,
    pub prior_odds: f64,
    /// p(H | d) ∝ prior odds × Z over the hypotheses of the table.
    pub posterior_probability: f64,
    /// log Z − log Z of the best hypothesis (≤ 0), and its error (the two independent errors
    /// in quadrature; 0 for the best itself).
    pub log_bayes_factor: f64,
    pub log_bayes_factor_error: f64,
    pub reliable: bool,
    pub forward_calls: u64,
}

/// A named f64 column of a table of rows.
type Column<Row> = (&'static str, fn(&Row) -> f64);

/// The `reliable` (int8) and `forward_calls` (int64) columns of an evidence table.
fn reliable_and_calls(
    rows: impl Iterator<Item = (bool, u64)>,
    dims: &[&str],
) -> (Variable, Variable) {
    let (reliable, calls): (Vec<i8>, Vec<i64>) = rows.map(|(r, c)| (i8::from(r), c as i64)).unzip();
    (
        Variable::new(
            var::RELIABLE,
            dims,
            Values::I8(Array1::from(reliable).into_dyn()),
        ),
        Variable::new(
            attr::FORWARD_CALLS,
            dims,
            Values::I64(Array1::from(calls).into_dyn()),
        ),
    )
}

/// The groups of an evidence-table file: `evidence/` (its attributes) and
/// `evidence/hypotheses/`, one row per hypothesis along the `hypothesis` dimension.
pub fn hypotheses_groups(rows: &[HypothesisRow], attrs: &[(String, AttrValue)]) -> Vec<GroupSpec> {
    let strings =
        |f: &dyn Fn(&HypothesisRow) -> String| Values::Strings(rows.iter().map(f).collect());
    let dims = [dim::HYPOTHESIS];
    let (reliable, calls) =
        reliable_and_calls(rows.iter().map(|r| (r.reliable, r.forward_calls)), &dims);
    let mut top = GroupSpec::new(group::EVIDENCE);
    for (name, value) in attrs {
        top = top.attr(name, value.clone());
    }
    let mut table = GroupSpec::new(&format!("{}/{}", group::EVIDENCE, group::HYPOTHESES))
        .coord(dim::HYPOTHESIS, strings(&|r| r.name.clone()))
        .var(Variable::new(
            var::ESTIMATOR_USED,
            &dims,
            strings(&|r| r.estimator.clone()),
        ));
    let columns: [Column<HypothesisRow>; 6] = [
        (var::LOG_Z, |r| r.log_z),
        (var::LOG_Z_ERROR, |r| r.log_z_error),
        (var::PRIOR_ODDS, |r| r.prior_odds),
        (var::POSTERIOR_PROBABILITY, |r| r.posterior_probability),
        (var::LOG_BAYES_FACTOR, |r| r.log_bayes_factor),
        (var::LOG_BAYES_FACTOR_ERROR, |r| r.log_bayes_factor_error),
    ];
    for (name, f) in columns {
        table = table.var(Variable::new(
            name,
            &dims,
            f64_values(&rows.iter().map(f).collect::<Array1<f64>>()),
        ));
    }
    table = table.var(reliable).var(calls).var(Variable::new(
        var::FILE,
        &dims,
        strings(&|r| r.file.clone()),
    ));
    vec![top, table]
}

/// The `summary/` group: per-parameter statistics and the grid coordinates.
pub fn summary_group(
    s: &Summary,
    param_coords: &[(&'static str, Array1<f64>, &'static str)],
) -> GroupSpec {
    let mut summary =
        GroupSpec::new(group::SUMMARY).attr(attr::N_SAMPLES, AttrValue::Int(s.n_samples as i64));
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
    for (name, values, units) in param_coords {
        summary = summary.var(
            Variable::new(name, &[dim::PARAM], f64_values(values))
                .with_attr(attr::UNITS, text(units)),
        );
    }
    summary
}

/// The `evidence/` group: one row per estimator along the `estimator` dimension.
pub fn evidence_group(rows: &[EvidenceRow]) -> GroupSpec {
    let names: Vec<String> = rows.iter().map(|r| r.estimator.clone()).collect();
    let dims = [dim::ESTIMATOR];
    let (reliable, calls) =
        reliable_and_calls(rows.iter().map(|r| (r.reliable, r.forward_calls)), &dims);
    let bound = rows
        .iter()
        .map(|r| {
            if r.lower_bound {
                "lower_bound"
            } else {
                "estimate"
            }
            .to_string()
        })
        .collect();
    let mut g = GroupSpec::new(group::EVIDENCE)
        .attr(attr::ESTIMATORS, text(&names.join(" ")))
        .coord(dim::ESTIMATOR, Values::Strings(names))
        .var(Variable::new(var::BOUND, &dims, Values::Strings(bound)))
        .var(calls)
        .var(reliable);
    let columns: [Column<EvidenceRow>; 8] = [
        (var::LOG_Z, |r| r.log_z),
        (var::LOG_Z_ERROR, |r| r.log_z_error),
        (var::INFORMATION, |r| r.information),
        (var::ESS, |r| r.ess),
        (var::KHAT, |r| r.khat),
        (var::DISCRETISATION_ERROR, |r| r.discretisation_error),
        (var::PRIOR_LOG_NORMALISER, |r| r.prior_log_normaliser),
        (var::PRIOR_LOG_NORMALISER_ERROR, |r| {
            r.prior_log_normaliser_error
        }),
    ];
    for (name, f) in columns {
        g = g.var(Variable::new(
            name,
            &dims,
            f64_values(&rows.iter().map(f).collect::<Array1<f64>>()),
        ));
    }
    g.var(Variable::new(
        var::NOTE,
        &dims,
        Values::Strings(rows.iter().map(|r| r.note.clone()).collect()),
    ))
}

impl RunRecord {
    fn root_attrs(&self) -> Vec<(String, AttrValue)> {
        let p = &self.provenance;
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut attrs = vec![
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
            (attr::CONFIG_PATH.into(), text(&p.config_path)),
            (attr::DATA_FINGERPRINT.into(), text(&p.data_fingerprint)),
            (attr::N_MEMBERS.into(), AttrValue::Int(p.n_members as i64)),
            (attr::ITERATIONS.into(), AttrValue::Int(p.iterations as i64)),
            (
                attr::ITERATIONS_DONE.into(),
                AttrValue::Int(p.iterations_done as i64),
            ),
            (attr::WALL_SECONDS.into(), AttrValue::Float(p.wall_seconds)),
            (attr::TERMINATION.into(), text(&p.termination)),
            (
                attr::FORWARD_CALLS.into(),
                AttrValue::Int(p.forward_calls as i64),
            ),
            (
                attr::ADJOINT_CALLS.into(),
                AttrValue::Int(p.adjoint_calls as i64),
            ),
            (attr::CREATED.into(), AttrValue::Int(created)),
            (attr::INFERENCE_LIBRARY.into(), text("geobayes")),
            (
                attr::INFERENCE_LIBRARY_VERSION.into(),
                text(env!("CARGO_PKG_VERSION")),
            ),
        ];
        if !p.hypothesis.is_empty() {
            attrs.push((attr::HYPOTHESIS.into(), text(&p.hypothesis)));
            attrs.push((attr::PRIOR_ODDS.into(), AttrValue::Float(p.prior_odds)));
        }
        attrs
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

        let mut stats = GroupSpec::new(group::SAMPLE_STATS);
        for (name, values) in &self.draw_stats {
            let values = match values {
                DrawValues::F64(a) => f64_values(a),
                DrawValues::I64(a) => Values::I64(a.clone().into_dyn()),
                DrawValues::I8(a) => Values::I8(a.clone().into_dyn()),
            };
            stats = stats.var(Variable::new(name, &[dim::CHAIN, dim::DRAW], values));
        }
        for (name, values) in &self.chain_stats {
            stats = stats.var(Variable::new(name, &[dim::CHAIN], f64_values(values)));
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

        groups.push(summary_group(&self.summary, &self.param_coords));

        let mut diagnostics = GroupSpec::new(group::DIAGNOSTICS);
        for (trace, column) in self.history.columns() {
            if column.iter().any(|v| !v.is_nan()) {
                diagnostics = diagnostics.var(Variable::new(
                    trace.name(),
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

        if !self.evidence.is_empty() {
            groups.push(evidence_group(&self.evidence));
        }

        for kept in &self.kept {
            let mut g = array_group(kept.name, &kept.arrays);
            for (name, value) in &kept.attrs {
                g = g.attr(name, value.clone());
            }
            groups.push(g);
        }

        if let Some((next, state)) = &self.checkpoint {
            groups.push(
                array_group(group::CHECKPOINT, state.entries())
                    .attr(var::NEXT_ITERATION, AttrValue::Int(*next as i64)),
            );
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
