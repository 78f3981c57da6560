//! Validation: raw config → checked spec, in one pass that collects every problem with its key
//! path and the accepted range, reading the files the config names (relative to the config).

use std::path::{Path, PathBuf};

use ndarray::Array1;

use super::keys::{KeyLines, issue, join_key};
use super::method::{MethodCatalog, MethodCheck, check_output, check_prior};
use super::problem::check_problem;
use super::raw::*;
use super::spec::*;
use crate::core::error::{ConfigIssue, Error, Result};
use crate::core::io::arrays::{ArrayFile, read_array};

/// What the config will be used for: `forward` needs only `problem`; `run` needs everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Run,
}

/// The problems found so far, each with its full key path. Checks of a nested block run
/// `within` its key (`issues.within("method", |i| ...)`, `within("[2]", ...)`), so they name
/// keys relative to their block and the messages still carry the whole path.
#[derive(Debug, Default)]
pub struct Issues {
    list: Vec<ConfigIssue>,
    prefix: String,
}

impl Issues {
    pub fn new() -> Self {
        Self::default()
    }

    /// The full key path of `key` (relative to the current block).
    pub fn path(&self, key: &str) -> String {
        join_key(&self.prefix, key)
    }

    /// Runs `f` with keys relative to `segment` (a key, or `[i]` for a sequence item).
    pub fn within<T>(&mut self, segment: &str, f: impl FnOnce(&mut Issues) -> T) -> T {
        let saved = self.prefix.clone();
        self.prefix = join_key(&saved, segment);
        let out = f(self);
        self.prefix = saved;
        out
    }

    pub fn add(&mut self, key: &str, message: impl Into<String>) {
        let key = self.path(key);
        self.list.push(issue(&key, message));
    }

    /// Records an issue that already has its full key path (a deserialization error).
    pub fn push(&mut self, issue: ConfigIssue) {
        self.list.push(issue);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds an issue unless `ok`; returns `ok`.
    pub fn check(&mut self, ok: bool, key: &str, message: impl FnOnce() -> String) -> bool {
        if !ok {
            self.add(key, message());
        }
        ok
    }

    pub fn positive(&mut self, value: f64, key: &str) -> bool {
        self.check(value > 0.0 && value.is_finite(), key, || {
            format!("must be a finite number > 0 (got {value})")
        })
    }

    /// A count of at least `min`.
    pub fn at_least(&mut self, value: usize, min: usize, key: &str) -> bool {
        self.check(value >= min, key, || {
            format!("must be ≥ {min} (got {value})")
        })
    }

    pub fn in_range(&mut self, value: f64, lo: f64, hi: f64, key: &str, range_text: &str) -> bool {
        self.check(value >= lo && value <= hi && value.is_finite(), key, || {
            format!("must be in {range_text} (got {value})")
        })
    }

    /// Records a file problem under `key`, naming the file.
    pub fn file_error(&mut self, key: &str, err: Error) {
        self.add(key, err.to_string());
    }

    /// The error for `file`, every issue with its line where the file has one; `None` when
    /// nothing was found.
    pub fn into_error(self, file: &Path, lines: &KeyLines) -> Option<Error> {
        if self.list.is_empty() {
            return None;
        }
        let issues = self
            .list
            .into_iter()
            .map(|mut i| {
                i.line = i.line.or_else(|| lines.line(&i.key));
                i
            })
            .collect();
        Some(Error::Config {
            file: file.to_path_buf(),
            issues,
        })
    }
}

/// Validates `raw` (read from `config_path`, text `source`) for `mode`; the `method` block is
/// checked by `methods` (the registry of `inference`, which owns the methods' configs).
pub fn validate_with(
    raw: &RawConfig,
    config_path: &Path,
    source: &str,
    mode: Mode,
    methods: &dyn MethodCatalog,
) -> Result<RunSpec> {
    if mode == Mode::Run
        && let Some(list) = &raw.hypotheses
    {
        return super::hypotheses::validate_hypotheses(raw, list, config_path, source, methods);
    }
    let dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut issues = Issues::new();
    let mut resolved_raw = with_defaults(raw);

    let problem = match &resolved_raw.problem {
        Some(p) => check_problem(p, &dir, &mut issues),
        None => {
            issues.add(
                "problem",
                "required: the block that describes the physics (kind: linear, traveltime2d, traveltime3d, dispersion, fwi2d or fwi3d)",
            );
            None
        }
    };
    let n_params = problem.as_ref().map(ProblemSpec::n_params);
    let axes_shape = problem.as_ref().map(ProblemSpec::axes_shape);
    let likelihood = resolved_raw.likelihood.unwrap_or(LikelihoodKind::Gaussian);

    let mut prior = None;
    let mut method = None;
    let mut output = None;
    let mut evidence = None;
    if mode == Mode::Run {
        if let Some(p) = &problem
            && likelihood == LikelihoodKind::Gaussian
            && !p.is_analytic()
            && p.data().observed.is_none()
        {
            issues.add("problem.data.file", "required for a run with `likelihood: gaussian` (or set `likelihood: none` to sample the prior)");
        }
        prior = match (&resolved_raw.prior, n_params) {
            (Some(p), Some(n)) => check_prior(
                p,
                n,
                axes_shape.clone().unwrap_or_default(),
                problem
                    .as_ref()
                    .map(ProblemSpec::smoothing_blocks)
                    .unwrap_or_default(),
                &dir,
                &problem,
                &mut issues,
            ),
            (None, _) => {
                issues.add(
                    "prior",
                    "required for `run`: kind uniform (lower, upper) or gaussian (mean, std)",
                );
                None
            }
            _ => None,
        };
        method = match resolved_raw.method.clone() {
            Some(block) => issues.within("method", |issues| {
                let mut cx = MethodCheck {
                    issues,
                    problem: problem.as_ref(),
                    prior: prior.as_ref(),
                    dir: &dir,
                };
                let checked = methods.check(block, &mut cx);
                checked.map(|(spec, resolved)| {
                    resolved_raw.method = Some(resolved);
                    spec
                })
            }),
            None => {
                issues.add(
                    "method",
                    format!(
                        "required for `run`: a block with a kind ({})",
                        methods.kinds().join(", ")
                    ),
                );
                None
            }
        };
        evidence = resolved_raw.evidence.as_ref().and_then(|e| {
            super::method::check_evidence(e, method.as_ref(), &mut issues)
        });
        output = match &resolved_raw.output {
            Some(o) => Some(check_output(o, &dir, &mut issues)),
            None => {
                issues.add("output", "required for `run`: {path: results.h5}");
                None
            }
        };
    }
    let mut problem = problem;
    if let Some(ProblemSpec::Fwi(f)) = &mut problem {
        super::fwi::check_fwi_velocities(f, prior.as_ref(), &mut issues);
        if let Some(m) = &method {
            issues.check(
                f.shots_per_iteration.is_none() || m.takes_stochastic_gradients(),
                "problem.shots_per_iteration",
                || format!("mini-batches need a method that takes stochastic gradients (svgd, vi); {} needs every shot", m.kind()),
            );
        }
    }
    if let Some(name) = &raw.name {
        issues.check(!name.trim().is_empty(), "name", || {
            "must not be empty".into()
        });
    }

    if let Some(error) = issues.into_error(config_path, &raw.lines) {
        return Err(error);
    }
    let resolved = serde_yaml_ng::to_string(&resolved_raw).expect("the raw config serialises");
    let hash = super::fingerprint(&resolved);
    let problem = problem.expect("no issues means a problem");
    let data_fingerprint = data_fingerprint(&problem, resolved_raw.problem.as_ref(), likelihood);
    Ok(RunSpec {
        name: resolved_raw.name.clone().unwrap_or_default(),
        seed: resolved_raw.seed.unwrap_or(0),
        problem,
        prior,
        likelihood,
        method,
        parallel: ParallelSpec {
            threads: resolved_raw
                .parallel
                .as_ref()
                .and_then(|p| p.threads)
                .unwrap_or(0),
        },
        output,
        gpu: GpuSpec {
            enabled: resolved_raw
                .gpu
                .as_ref()
                .and_then(|g| g.enabled)
                .unwrap_or(false),
            devices: resolved_raw.gpu.as_ref().and_then(|g| g.devices.clone()),
        },
        evidence,
        hypotheses: Vec::new(),
        hypothesis: None,
        source: ConfigSource {
            path: config_path.to_path_buf(),
            text: source.to_string(),
            resolved,
            hash,
            data_fingerprint,
        },
    })
}

/// What the data of a run are: the problem kind and size with the bits of the observed data and
/// σ, or, without data (analytic targets), the problem block itself.
fn data_fingerprint(problem: &ProblemSpec, raw: Option<&RawProblem>, likelihood: LikelihoodKind) -> String {
    let data = problem.data();
    let head = format!("{} {} {likelihood:?}", problem.kind_name(), problem.n_params());
    match &data.observed {
        Some(observed) => {
            let bits = observed.iter().chain(data.sigma.iter()).flat_map(|v| v.to_bits().to_le_bytes());
            super::fingerprint_bytes(head.bytes().chain(bits))
        }
        None => {
            let block = raw.map(|r| serde_yaml_ng::to_string(r).expect("the raw problem serialises")).unwrap_or_default();
            super::fingerprint(&(head + &block))
        }
    }
}

/// The raw config with every default written in (the resolved config of the result file).
pub(super) fn with_defaults(raw: &RawConfig) -> RawConfig {
    let mut r = raw.clone();
    r.seed.get_or_insert(0);
    r.likelihood.get_or_insert(LikelihoodKind::Gaussian);
    r.parallel
        .get_or_insert_with(RawParallel::default)
        .threads
        .get_or_insert(0);
    if let Some(RawProblem::Traveltime2d(t) | RawProblem::Traveltime3d(t)) = &mut r.problem {
        t.forward_refine.get_or_insert(1);
    }
    if let Some(e) = &mut r.evidence {
        e.samples.get_or_insert(super::spec::DEFAULT_EVIDENCE_SAMPLES);
    }
    if let Some(o) = &mut r.output {
        o.checkpoint_every.get_or_insert(0);
        o.progress.get_or_insert(ProgressMode::Auto);
    }
    if r.name.is_none() {
        r.name = Some("geobayes".into());
    }
    r
}

/// A path of the config, relative to the config file's directory unless absolute.
pub fn resolve(dir: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() {
        file.to_path_buf()
    } else {
        dir.join(file)
    }
}

/// Reads per-parameter values (scalar, list or file) of length `n`; `file` shapes may be the
/// flat vector or the grid shape in C order (`axes_shape` is x first).
pub fn read_values(
    raw: &RawValues,
    n: usize,
    axes_shape: &[usize],
    key: &str,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Array1<f64>> {
    let values = match raw {
        RawValues::Scalar(v) => vec![*v; n],
        RawValues::List(list) => {
            if !issues.check(list.len() == n || list.len() == 1, key, || {
                format!(
                    "has {} values, the problem has {n} parameters (or give one value)",
                    list.len()
                )
            }) {
                return None;
            }
            if list.len() == 1 {
                vec![list[0]; n]
            } else {
                list.clone()
            }
        }
        RawValues::File(f) => {
            let path = resolve(dir, &f.file);
            let file = match read_array(&path) {
                Ok(a) => a,
                Err(e) => {
                    issues.file_error(&format!("{key}.file"), e);
                    return None;
                }
            };
            if !check_array_shape(&file, n, axes_shape, &format!("{key}.file"), &path, issues) {
                return None;
            }
            file.values
        }
    };
    let bad = values.iter().position(|v| !v.is_finite());
    if !issues.check(bad.is_none(), key, || {
        format!(
            "value {} is not finite ({})",
            bad.unwrap(),
            values[bad.unwrap()]
        )
    }) {
        return None;
    }
    Some(Array1::from(values))
}

/// Velocities read by [`read_values`] that must all be > 0 (`what` names an entry: "node",
/// "cell").
pub(super) fn read_velocities(
    raw: &RawValues,
    n: usize,
    axes_shape: &[usize],
    key: &str,
    what: &str,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Array1<f64>> {
    let v = read_values(raw, n, axes_shape, key, dir, issues)?;
    match v.iter().position(|&x| x <= 0.0) {
        Some(bad) => {
            issues.add(
                key,
                format!("velocity must be > 0 km/s ({what} {bad} is {})", v[bad]),
            );
            None
        }
        None => Some(v),
    }
}

pub(super) fn check_array_shape(
    file: &ArrayFile,
    n: usize,
    axes_shape: &[usize],
    key: &str,
    path: &Path,
    issues: &mut Issues,
) -> bool {
    let grid_shape: Vec<usize> = axes_shape.iter().rev().copied().collect();
    let shape_ok = match &file.shape {
        Some(s) => s.iter().product::<usize>() == n && (s.len() == 1 || *s == grid_shape),
        None => file.values.len() == n,
    };
    issues.check(shape_ok, key, || {
        format!(
            "{}: has {} values{}, expected {n} (the flat vector, or shape {:?} in C order with x fastest)",
            path.display(),
            file.values.len(),
            file.shape.as_ref().map(|s| format!(" in shape {s:?}")).unwrap_or_default(),
            grid_shape
        )
    })
}

pub(super) fn table_lines(table: &crate::core::io::arrays::Table) -> Vec<usize> {
    table.rows.iter().map(|r| r.line).collect()
}

/// Data must be finite and σ > 0.
pub(super) fn check_data_values(
    d: &[f64],
    sigma: &[f64],
    path: &Path,
    lines: &[usize],
    issues: &mut Issues,
) -> Option<()> {
    let key = "problem.data.file";
    for i in 0..d.len() {
        if !d[i].is_finite() {
            issues.add(
                key,
                format!(
                    "{}: line {}: datum is not finite ({}); remove the line or give a value",
                    path.display(),
                    lines[i],
                    d[i]
                ),
            );
            return None;
        }
        if !(sigma[i] > 0.0 && sigma[i].is_finite()) {
            issues.add(
                key,
                format!(
                    "{}: line {}: σ must be a finite number > 0 (got {})",
                    path.display(),
                    lines[i],
                    sigma[i]
                ),
            );
            return None;
        }
    }
    Some(())
}
