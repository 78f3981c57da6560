//! Validation: raw config → checked spec, in one pass that collects every problem with its key
//! path and the accepted range, reading the files the config names (relative to the config).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::raw::*;
use super::spec::*;
use crate::core::error::{ConfigIssue, Error, Result};
use crate::core::io::arrays::{ArrayFile, parse_number, read_array, read_table};

/// What the config will be used for: `forward` needs only `problem`; `run` needs everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Run,
}

/// Collected problems.
struct Issues {
    list: Vec<ConfigIssue>,
}

impl Issues {
    fn add(&mut self, key: &str, message: impl Into<String>) {
        self.list.push(ConfigIssue {
            key: key.to_string(),
            message: message.into(),
        });
    }
    /// Adds an issue unless `ok`; returns `ok`.
    fn check(&mut self, ok: bool, key: &str, message: impl FnOnce() -> String) -> bool {
        if !ok {
            self.add(key, message());
        }
        ok
    }
    fn positive(&mut self, value: f64, key: &str) -> bool {
        self.check(value > 0.0 && value.is_finite(), key, || {
            format!("must be a finite number > 0 (got {value})")
        })
    }
    fn in_range(&mut self, value: f64, lo: f64, hi: f64, key: &str, range_text: &str) -> bool {
        self.check(value >= lo && value <= hi && value.is_finite(), key, || {
            format!("must be in {range_text} (got {value})")
        })
    }
    /// Records a file problem under `key`, naming the file.
    fn file_error(&mut self, key: &str, err: Error) {
        self.add(key, err.to_string());
    }
}

/// Validates `raw` (read from `config_path`, text `source`) for `mode`.
pub fn validate(raw: &RawConfig, config_path: &Path, source: &str, mode: Mode) -> Result<RunSpec> {
    let dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut issues = Issues { list: Vec::new() };
    let resolved_raw = with_defaults(raw);

    let problem = match &resolved_raw.problem {
        Some(p) => check_problem(p, &dir, &mut issues),
        None => {
            issues.add(
                "problem",
                "required: the block that describes the physics (kind: linear or traveltime2d)",
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
    if mode == Mode::Run {
        if let Some(p) = &problem
            && likelihood == LikelihoodKind::Gaussian
            && p.data().observed.is_none()
        {
            issues.add("problem.data.file", "required for a run with `likelihood: gaussian` (or set `likelihood: none` to sample the prior)");
        }
        prior = match (&resolved_raw.prior, n_params) {
            (Some(p), Some(n)) => check_prior(
                p,
                n,
                axes_shape.clone().unwrap_or_default(),
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
        method = match &resolved_raw.method {
            Some(m) => check_method(m, n_params, prior.as_ref(), &dir, &mut issues),
            None => {
                issues.add("method", "required for `run`: kind svgd or mh");
                None
            }
        };
        output = match &resolved_raw.output {
            Some(o) => Some(check_output(o, &dir, &mut issues)),
            None => {
                issues.add("output", "required for `run`: {path: results.h5}");
                None
            }
        };
    }
    if let Some(name) = &raw.name {
        issues.check(!name.trim().is_empty(), "name", || {
            "must not be empty".into()
        });
    }

    if !issues.list.is_empty() {
        return Err(Error::Config {
            file: config_path.to_path_buf(),
            issues: issues.list,
        });
    }
    let resolved = serde_yaml_ng::to_string(&resolved_raw).expect("the raw config serialises");
    let hash = super::fingerprint(&resolved);
    Ok(RunSpec {
        name: resolved_raw.name.clone().unwrap_or_default(),
        seed: resolved_raw.seed.unwrap_or(0),
        problem: problem.expect("no issues means a problem"),
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
        source: ConfigSource {
            path: config_path.to_path_buf(),
            text: source.to_string(),
            resolved,
            hash,
        },
    })
}

/// The raw config with every default written in (the resolved config of the result file).
fn with_defaults(raw: &RawConfig) -> RawConfig {
    let mut r = raw.clone();
    r.seed.get_or_insert(0);
    r.likelihood.get_or_insert(LikelihoodKind::Gaussian);
    r.parallel
        .get_or_insert_with(RawParallel::default)
        .threads
        .get_or_insert(0);
    if let Some(RawProblem::Traveltime2d(t)) = &mut r.problem {
        t.forward_refine.get_or_insert(1);
    }
    match &mut r.method {
        Some(RawMethod::Svgd(s)) => {
            s.optimizer.get_or_insert(OptimizerKind::Adam);
            let adam = s.adam.get_or_insert(RawAdam {
                beta1: None,
                beta2: None,
                eps: None,
            });
            adam.beta1.get_or_insert(0.9);
            adam.beta2.get_or_insert(0.999);
            adam.eps.get_or_insert(1e-8);
            let kernel = s.kernel.get_or_insert(RawKernel {
                kind: None,
                bandwidth: None,
                multiplier: None,
            });
            kernel.kind.get_or_insert(KernelKind::Rbf);
            kernel
                .bandwidth
                .get_or_insert(RawBandwidth::Rule(BandwidthRule::Median));
            kernel.multiplier.get_or_insert(1.0);
            s.init.get_or_insert(RawInit::Kind(InitKind::Prior));
            s.max_failed_fraction.get_or_insert(0.5);
        }
        Some(RawMethod::Mh(m)) => {
            m.thin.get_or_insert(1);
            let p = m.proposal.get_or_insert(RawProposal {
                initial_scale: None,
                adapt: None,
                adapt_every: None,
                target_acceptance: None,
            });
            p.adapt.get_or_insert(true);
            p.adapt_every.get_or_insert(100);
            p.target_acceptance.get_or_insert(0.234);
            m.init.get_or_insert(RawInit::Kind(InitKind::Prior));
            m.max_failed_fraction.get_or_insert(0.5);
        }
        None => {}
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

fn resolve(dir: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() {
        file.to_path_buf()
    } else {
        dir.join(file)
    }
}

/// Reads per-parameter values (scalar, list or file) of length `n`; `file` shapes may be the
/// flat vector or the grid shape in C order (`axes_shape` is x first).
fn read_values(
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

fn check_array_shape(
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

fn check_problem(raw: &RawProblem, dir: &Path, issues: &mut Issues) -> Option<ProblemSpec> {
    match raw {
        RawProblem::Linear(l) => check_linear(l, dir, issues).map(ProblemSpec::Linear),
        RawProblem::Traveltime2d(t) => {
            check_traveltime2d(t, dir, issues).map(ProblemSpec::TravelTime2d)
        }
    }
}

fn check_linear(raw: &RawLinear, dir: &Path, issues: &mut Issues) -> Option<LinearSpec> {
    let path = resolve(dir, &raw.matrix.file);
    let matrix = match read_array(&path) {
        Ok(ArrayFile {
            values,
            shape: Some(shape),
        }) if shape.len() == 2 => Array2::from_shape_vec((shape[0], shape[1]), values)
            .expect("npy shape matches its values"),
        Ok(_) => {
            issues.add(
                "problem.matrix.file",
                format!(
                    "{}: must be a 2-D .npy array (n_data, n_params)",
                    path.display()
                ),
            );
            return None;
        }
        Err(e) => {
            issues.file_error("problem.matrix.file", e);
            return None;
        }
    };
    if !issues.check(
        matrix.iter().all(|v| v.is_finite()),
        "problem.matrix.file",
        || format!("{}: holds non-finite values", path.display()),
    ) {
        return None;
    }
    let (n_data, n_params) = matrix.dim();
    let data = check_value_data(raw.data.as_ref(), n_data, dir, issues);
    let reference_model = raw.reference_model.as_ref().and_then(|r| {
        read_values(
            r,
            n_params,
            &[n_params],
            "problem.reference_model",
            dir,
            issues,
        )
    });
    Some(LinearSpec {
        matrix,
        data: data?,
        reference_model,
    })
}

/// Data of a linear problem: a file of `value [sigma]` lines, or σ only.
fn check_value_data(
    raw: Option<&RawData>,
    n_data: usize,
    dir: &Path,
    issues: &mut Issues,
) -> Option<DataSpec> {
    let default = RawData::default();
    let raw = raw.unwrap_or(&default);
    if let Some(s) = raw.sigma {
        issues.positive(s, "problem.data.sigma");
    }
    let Some(file) = &raw.file else {
        return Some(DataSpec {
            sigma: Array1::from_elem(n_data, raw.sigma.unwrap_or(f64::NAN)),
            observed: None,
        });
    };
    let path = resolve(dir, file);
    let table = match read_table(&path) {
        Ok(t) => t,
        Err(e) => {
            issues.file_error("problem.data.file", e);
            return None;
        }
    };
    let key = "problem.data.file";
    if !issues.check(table.rows.len() == n_data, key, || {
        format!(
            "{}: has {} data, the matrix has {n_data} rows",
            path.display(),
            table.rows.len()
        )
    }) {
        return None;
    }
    let mut d = Vec::with_capacity(n_data);
    let mut sigma = Vec::with_capacity(n_data);
    for row in &table.rows {
        let numbers: Option<Vec<f64>> = row.words.iter().map(|w| parse_number(w)).collect();
        let Some(numbers) = numbers else {
            issues.add(
                key,
                format!(
                    "{}: line {}: expected `value [sigma]` numbers",
                    path.display(),
                    row.line
                ),
            );
            return None;
        };
        let ok = match (numbers.len(), raw.sigma) {
            (1, Some(s)) => {
                sigma.push(s);
                true
            }
            (2, None) => {
                sigma.push(numbers[1]);
                true
            }
            (2, Some(_)) => {
                issues.add(
                    "problem.data.sigma",
                    format!(
                        "{}: the file has a σ column; give σ in one place only",
                        path.display()
                    ),
                );
                return None;
            }
            _ => false,
        };
        if !issues.check(ok, key, || {
            format!(
                "{}: line {}: expected `value sigma` (or `value` with problem.data.sigma)",
                path.display(),
                row.line
            )
        }) {
            return None;
        }
        d.push(numbers[0]);
    }
    check_data_values(&d, &sigma, &path, &table_lines(&table), issues)?;
    Some(DataSpec {
        sigma: Array1::from(sigma),
        observed: Some(Array1::from(d)),
    })
}

fn table_lines(table: &crate::core::io::arrays::Table) -> Vec<usize> {
    table.rows.iter().map(|r| r.line).collect()
}

/// Data must be finite and σ > 0.
fn check_data_values(
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

fn check_grid2(raw: &RawGrid, issues: &mut Issues) -> Option<Grid2Spec> {
    let mut ok = true;
    for (name, len) in [
        ("origin", raw.origin.len()),
        ("spacing", raw.spacing.len()),
        ("shape", raw.shape.len()),
    ] {
        ok &= issues.check(len == 2, &format!("problem.grid.{name}"), || {
            format!("must have 2 values (x, y), got {len}")
        });
    }
    if !ok {
        return None;
    }
    for a in 0..2 {
        ok &= issues.positive(raw.spacing[a], &format!("problem.grid.spacing[{a}]"));
        ok &= issues.check(
            raw.origin[a].is_finite(),
            &format!("problem.grid.origin[{a}]"),
            || "must be finite".into(),
        );
        ok &= issues.check(
            raw.shape[a] >= 2,
            &format!("problem.grid.shape[{a}]"),
            || format!("must be ≥ 2 nodes (got {})", raw.shape[a]),
        );
    }
    ok.then(|| Grid2Spec {
        origin: [raw.origin[0], raw.origin[1]],
        spacing: [raw.spacing[0], raw.spacing[1]],
        shape: [raw.shape[0], raw.shape[1]],
    })
}

fn check_traveltime2d(
    raw: &RawTravelTime2d,
    dir: &Path,
    issues: &mut Issues,
) -> Option<TravelTime2dSpec> {
    let grid = check_grid2(&raw.grid, issues);
    let refine = raw.forward_refine.unwrap_or(1);
    issues.check((1..=64).contains(&refine), "problem.forward_refine", || {
        format!("must be in 1..=64 (got {refine})")
    });
    let stations = check_stations(&raw.stations, grid.as_ref(), dir, issues)?;
    let grid = grid?;
    let data = raw.data.clone().unwrap_or_default();
    if let Some(s) = data.sigma {
        issues.positive(s, "problem.data.sigma");
    }
    let (pairs, data_spec) = match &data.file {
        None => {
            let mut pairs = Vec::new();
            for i in 0..stations.len() {
                for j in i + 1..stations.len() {
                    pairs.push((i, j));
                }
            }
            let n = pairs.len();
            (
                pairs,
                DataSpec {
                    sigma: Array1::from_elem(n, data.sigma.unwrap_or(f64::NAN)),
                    observed: None,
                },
            )
        }
        Some(file) => read_pick_data(&resolve(dir, file), &stations, data.sigma, issues)?,
    };
    let shape = grid.shape.to_vec();
    let reference_model = raw.reference_model.as_ref().and_then(|r| {
        let v = read_values(
            r,
            grid.n_nodes(),
            &shape,
            "problem.reference_model",
            dir,
            issues,
        )?;
        let bad = v.iter().position(|&x| x <= 0.0);
        issues
            .check(bad.is_none(), "problem.reference_model", || {
                format!(
                    "velocity must be > 0 km/s (node {} is {})",
                    bad.unwrap(),
                    v[bad.unwrap()]
                )
            })
            .then_some(v)
    });
    Some(TravelTime2dSpec {
        grid,
        forward_refine: refine,
        stations,
        pairs,
        data: data_spec,
        reference_model,
    })
}

fn check_stations(
    raw: &RawStations,
    grid: Option<&Grid2Spec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Vec<Station>> {
    let stations: Vec<Station> = match raw {
        RawStations::Inline(list) => {
            let mut out = Vec::new();
            for (i, p) in list.iter().enumerate() {
                if !issues.check(p.len() == 2, &format!("problem.stations[{i}]"), || {
                    format!("must be [x, y] (got {} values)", p.len())
                }) {
                    return None;
                }
                out.push(Station {
                    name: i.to_string(),
                    position: [p[0], p[1]],
                });
            }
            out
        }
        RawStations::File(f) => {
            let path = resolve(dir, &f.file);
            let table = match read_table(&path) {
                Ok(t) => t,
                Err(e) => {
                    issues.file_error("problem.stations.file", e);
                    return None;
                }
            };
            let mut out = Vec::new();
            for (i, row) in table.rows.iter().enumerate() {
                let (name, xy) = match row.words.len() {
                    3 => (row.words[0].clone(), &row.words[1..]),
                    2 => (i.to_string(), &row.words[..]),
                    _ => {
                        issues.add(
                            "problem.stations.file",
                            format!("{}: line {}: expected `name x y`", path.display(), row.line),
                        );
                        return None;
                    }
                };
                let (Some(x), Some(y)) = (parse_number(&xy[0]), parse_number(&xy[1])) else {
                    issues.add(
                        "problem.stations.file",
                        format!(
                            "{}: line {}: x and y must be numbers",
                            path.display(),
                            row.line
                        ),
                    );
                    return None;
                };
                out.push(Station {
                    name,
                    position: [x, y],
                });
            }
            out
        }
    };
    let key = match raw {
        RawStations::File(_) => "problem.stations.file",
        RawStations::Inline(_) => "problem.stations",
    };
    if !issues.check(stations.len() >= 2, key, || {
        format!("needs at least 2 stations (got {})", stations.len())
    }) {
        return None;
    }
    let mut seen = HashMap::new();
    for (i, s) in stations.iter().enumerate() {
        if let Some(first) = seen.insert(s.name.clone(), i) {
            issues.add(
                key,
                format!(
                    "station name `{}` is used twice (stations {first} and {i})",
                    s.name
                ),
            );
            return None;
        }
        let finite = s.position.iter().all(|v| v.is_finite());
        if !issues.check(finite, key, || {
            format!("station `{}` has a non-finite position", s.name)
        }) {
            return None;
        }
        if let Some(g) = grid {
            let inside = g.contains(s.position);
            if !issues.check(inside, key, || {
                format!(
                    "station `{}` at ({}, {}) lies outside the grid [{}, {}] × [{}, {}] km; enlarge problem.grid or remove the station",
                    s.name, s.position[0], s.position[1], g.origin[0], g.end(0), g.origin[1], g.end(1)
                )
            }) {
                return None;
            }
        }
    }
    Some(stations)
}

/// Picks: `source receiver time [sigma]` per line, station names as in the stations file.
fn read_pick_data(
    path: &Path,
    stations: &[Station],
    sigma_all: Option<f64>,
    issues: &mut Issues,
) -> Option<(Vec<(usize, usize)>, DataSpec)> {
    let key = "problem.data.file";
    let table = match read_table(path) {
        Ok(t) => t,
        Err(e) => {
            issues.file_error(key, e);
            return None;
        }
    };
    if !issues.check(!table.rows.is_empty(), key, || {
        format!("{}: holds no data", path.display())
    }) {
        return None;
    }
    let index: HashMap<&str, usize> = stations
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let (mut pairs, mut times, mut sigma) = (Vec::new(), Vec::new(), Vec::new());
    for row in &table.rows {
        let here = format!("{}: line {}", path.display(), row.line);
        let n = row.words.len();
        if !issues.check(n == 4 || (n == 3 && sigma_all.is_some()), key, || {
            format!("{here}: expected `source receiver time sigma` (or three columns with problem.data.sigma), got {n} columns")
        }) {
            return None;
        }
        if n == 4 && sigma_all.is_some() {
            issues.add(
                "problem.data.sigma",
                format!("{here}: the file has a σ column; give σ in one place only"),
            );
            return None;
        }
        let station = |w: &str| index.get(w).copied();
        let (Some(src), Some(rcv)) = (station(&row.words[0]), station(&row.words[1])) else {
            issues.add(
                key,
                format!(
                    "{here}: unknown station `{}` (names must match the stations file)",
                    if station(&row.words[0]).is_none() {
                        &row.words[0]
                    } else {
                        &row.words[1]
                    }
                ),
            );
            return None;
        };
        if !issues.check(src != rcv, key, || {
            format!("{here}: source and receiver are the same station")
        }) {
            return None;
        }
        let Some(t) = parse_number(&row.words[2]) else {
            issues.add(
                key,
                format!("{here}: time `{}` is not a number", row.words[2]),
            );
            return None;
        };
        let s = if n == 4 {
            match parse_number(&row.words[3]) {
                Some(s) => s,
                None => {
                    issues.add(key, format!("{here}: σ `{}` is not a number", row.words[3]));
                    return None;
                }
            }
        } else {
            sigma_all.expect("checked above")
        };
        pairs.push((src, rcv));
        times.push(t);
        sigma.push(s);
    }
    check_data_values(&times, &sigma, path, &table_lines(&table), issues)?;
    Some((
        pairs,
        DataSpec {
            sigma: Array1::from(sigma),
            observed: Some(Array1::from(times)),
        },
    ))
}

fn check_prior(
    raw: &RawPrior,
    n: usize,
    axes_shape: Vec<usize>,
    dir: &Path,
    problem: &Option<ProblemSpec>,
    issues: &mut Issues,
) -> Option<PriorSpec> {
    let read = |v: &Option<RawValues>, name: &str, issues: &mut Issues| -> Option<Array1<f64>> {
        match v {
            Some(v) => read_values(v, n, &axes_shape, &format!("prior.{name}"), dir, issues),
            None => {
                issues.add(
                    &format!("prior.{name}"),
                    format!("required for a {:?} prior", raw.kind).to_lowercase(),
                );
                None
            }
        }
    };
    let marginals = match raw.kind {
        PriorKind::Uniform => {
            for (v, name) in [(&raw.mean, "mean"), (&raw.std, "std")] {
                issues.check(v.is_none(), &format!("prior.{name}"), || {
                    "belongs to a gaussian prior; a uniform prior takes lower and upper".into()
                });
            }
            let lower = read(&raw.lower, "lower", issues);
            let upper = read(&raw.upper, "upper", issues);
            let (lower, upper) = (lower?, upper?);
            if let Some(i) = (0..n).find(|&i| lower[i] >= upper[i]) {
                issues.add(
                    "prior.lower",
                    format!(
                        "must be < prior.upper (parameter {i}: lower {} ≥ upper {})",
                        lower[i], upper[i]
                    ),
                );
                return None;
            }
            if matches!(problem, Some(ProblemSpec::TravelTime2d(_)))
                && let Some(i) = (0..n).find(|&i| lower[i] <= 0.0)
            {
                issues.add(
                    "prior.lower",
                    format!("velocities must be > 0 km/s (parameter {i}: {})", lower[i]),
                );
                return None;
            }
            Marginals::Uniform { lower, upper }
        }
        PriorKind::Gaussian => {
            for (v, name) in [(&raw.lower, "lower"), (&raw.upper, "upper")] {
                issues.check(v.is_none(), &format!("prior.{name}"), || {
                    "belongs to a uniform prior; a gaussian prior takes mean and std".into()
                });
            }
            let mean = read(&raw.mean, "mean", issues);
            let std = read(&raw.std, "std", issues);
            let (mean, std) = (mean?, std?);
            if let Some(i) = (0..n).find(|&i| std[i] <= 0.0) {
                issues.add(
                    "prior.std",
                    format!("must be > 0 (parameter {i}: {})", std[i]),
                );
                return None;
            }
            Marginals::Gaussian { mean, std }
        }
    };
    let smoothing = match &raw.smoothing {
        Some(s) => {
            let ok_order = issues.check(
                s.order == 1 || s.order == 2,
                "prior.smoothing.order",
                || format!("must be 1 or 2 (got {})", s.order),
            );
            let ok_sigma = issues.positive(s.sigma, "prior.smoothing.sigma");
            if !(ok_order && ok_sigma) {
                return None;
            }
            Some(SmoothingSpec {
                order: s.order,
                sigma: s.sigma,
            })
        }
        None => None,
    };
    Some(PriorSpec {
        marginals,
        smoothing,
        axes_shape,
    })
}

fn check_init(
    raw: &RawInit,
    n_members: usize,
    n_params: Option<usize>,
    prior: Option<&PriorSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<InitSpec> {
    match raw {
        RawInit::Kind(InitKind::Prior) => Some(InitSpec::Prior),
        RawInit::File(f) => {
            let key = "method.init.file";
            let path = resolve(dir, &f.file);
            let n_params = n_params?;
            let file = match read_array(&path) {
                Ok(a) => a,
                Err(e) => {
                    issues.file_error(key, e);
                    return None;
                }
            };
            let expected = n_members * n_params;
            if !issues.check(file.values.len() == expected, key, || {
                format!(
                    "{}: has {} values, expected {n_members} members × {n_params} parameters",
                    path.display(),
                    file.values.len()
                )
            }) {
                return None;
            }
            let members =
                Array2::from_shape_vec((n_members, n_params), file.values).expect("length checked");
            if let Some(PriorSpec {
                marginals: Marginals::Uniform { lower, upper },
                ..
            }) = prior
            {
                for ((i, j), &v) in members.indexed_iter() {
                    if !(v > lower[j] && v < upper[j]) {
                        issues.add(key, format!("{}: member {i}, parameter {j} = {v} lies outside the prior's open interval ({}, {})", path.display(), lower[j], upper[j]));
                        return None;
                    }
                }
            }
            if let Some((i, j)) = members
                .indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|(ij, _)| ij)
            {
                issues.add(
                    key,
                    format!(
                        "{}: member {i}, parameter {j} is not finite",
                        path.display()
                    ),
                );
                return None;
            }
            Some(InitSpec::Members(members))
        }
    }
}

fn check_method(
    raw: &RawMethod,
    n_params: Option<usize>,
    prior: Option<&PriorSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<MethodSpec> {
    match raw {
        RawMethod::Svgd(s) => {
            let mut ok = issues.check(s.n_particles >= 2, "method.n_particles", || {
                format!("must be ≥ 2 (got {})", s.n_particles)
            });
            ok &= issues.check(s.iterations >= 1, "method.iterations", || {
                "must be ≥ 1".into()
            });
            ok &= issues.positive(s.step_size, "method.step_size");
            let adam = s.adam.as_ref().expect("defaults filled");
            let adam = AdamSpec {
                beta1: adam.beta1.unwrap(),
                beta2: adam.beta2.unwrap(),
                eps: adam.eps.unwrap(),
            };
            ok &= issues.in_range(
                adam.beta1,
                0.0,
                1.0 - f64::EPSILON,
                "method.adam.beta1",
                "[0, 1)",
            );
            ok &= issues.in_range(
                adam.beta2,
                0.0,
                1.0 - f64::EPSILON,
                "method.adam.beta2",
                "[0, 1)",
            );
            ok &= issues.positive(adam.eps, "method.adam.eps");
            let kernel = s.kernel.as_ref().expect("defaults filled");
            let multiplier = kernel.multiplier.unwrap();
            ok &= issues.positive(multiplier, "method.kernel.multiplier");
            let bandwidth = match kernel.bandwidth.unwrap() {
                RawBandwidth::Rule(BandwidthRule::Median) => BandwidthSpec::Median { multiplier },
                RawBandwidth::Fixed(h) => {
                    ok &= issues.positive(h, "method.kernel.bandwidth");
                    BandwidthSpec::Fixed(h * multiplier)
                }
            };
            let decay = s.decay.as_ref().map(|d| {
                issues.in_range(
                    d.factor,
                    f64::MIN_POSITIVE,
                    1.0,
                    "method.decay.factor",
                    "(0, 1]",
                );
                issues.check(d.every >= 1, "method.decay.every", || "must be ≥ 1".into());
                (d.factor, d.every)
            });
            let max_failed_fraction = s.max_failed_fraction.unwrap();
            ok &= issues.in_range(
                max_failed_fraction,
                0.0,
                1.0,
                "method.max_failed_fraction",
                "[0, 1]",
            );
            let init = check_init(
                s.init.as_ref().unwrap(),
                s.n_particles,
                n_params,
                prior,
                dir,
                issues,
            );
            (ok && init.is_some()).then(|| {
                MethodSpec::Svgd(SvgdSpec {
                    n_particles: s.n_particles,
                    iterations: s.iterations,
                    step_size: s.step_size,
                    optimizer: s.optimizer.unwrap(),
                    adam,
                    bandwidth,
                    decay,
                    init: init.unwrap(),
                    max_failed_fraction,
                })
            })
        }
        RawMethod::Mh(m) => {
            let mut ok = issues.check(m.n_chains >= 1, "method.n_chains", || {
                "must be ≥ 1 (4 or more to assess convergence)".into()
            });
            ok &= issues.check(m.iterations > m.burn_in, "method.iterations", || {
                format!(
                    "must exceed method.burn_in ({} ≤ {})",
                    m.iterations, m.burn_in
                )
            });
            let thin = m.thin.unwrap();
            ok &= issues.check(thin >= 1, "method.thin", || "must be ≥ 1".into());
            if ok {
                ok &= issues.check(m.iterations - m.burn_in >= thin, "method.thin", || {
                    format!(
                        "keeps no draw: iterations − burn_in = {} < thin = {thin}",
                        m.iterations - m.burn_in
                    )
                });
            }
            let p = m.proposal.as_ref().expect("defaults filled");
            if let Some(s) = p.initial_scale {
                ok &= issues.positive(s, "method.proposal.initial_scale");
            }
            let adapt_every = p.adapt_every.unwrap();
            ok &= issues.check(adapt_every >= 1, "method.proposal.adapt_every", || {
                "must be ≥ 1".into()
            });
            let target = p.target_acceptance.unwrap();
            ok &= issues.in_range(
                target,
                0.01,
                0.99,
                "method.proposal.target_acceptance",
                "[0.01, 0.99]",
            );
            let max_failed_fraction = m.max_failed_fraction.unwrap();
            ok &= issues.in_range(
                max_failed_fraction,
                0.0,
                1.0,
                "method.max_failed_fraction",
                "[0, 1]",
            );
            let init = check_init(
                m.init.as_ref().unwrap(),
                m.n_chains,
                n_params,
                prior,
                dir,
                issues,
            );
            (ok && init.is_some()).then(|| {
                MethodSpec::Mh(MhSpec {
                    n_chains: m.n_chains,
                    iterations: m.iterations,
                    burn_in: m.burn_in,
                    thin,
                    initial_scale: p.initial_scale,
                    adapt: p.adapt.unwrap(),
                    adapt_every,
                    target_acceptance: target,
                    init: init.unwrap(),
                    max_failed_fraction,
                })
            })
        }
    }
}

fn check_output(raw: &RawOutput, dir: &Path, issues: &mut Issues) -> OutputSpec {
    issues.check(!raw.path.as_os_str().is_empty(), "output.path", || {
        "must name the result file, e.g. results/run.h5".into()
    });
    issues.check(
        raw.path
            .extension()
            .is_some_and(|e| e == "h5" || e == "nc" || e == "hdf5"),
        "output.path",
        || {
            format!(
                "must end in .h5 (or .nc, .hdf5); got `{}`",
                raw.path.display()
            )
        },
    );
    OutputSpec {
        path: resolve(dir, &raw.path),
        checkpoint_every: raw.checkpoint_every.unwrap_or(0),
        progress: raw.progress.unwrap_or(ProgressMode::Auto),
    }
}
