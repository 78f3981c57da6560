//! A `hypotheses:` job: every prior hypothesis is a whole run of its own (its result file
//! `<output stem>.<name>.h5`), the world split into one group of ranks per hypothesis (or, with
//! fewer ranks than hypotheses, each group running several one after another); then the world's
//! root reads their evidence and writes the table `evidence/hypotheses/` at the output path.
//! A Slurm job array runs one hypothesis per task instead (`run --hypothesis NAME`), and
//! [`combine`] makes the same table from their files (`evidence --combine`). Each hypothesis's
//! result is the same for any number of ranks, so the table is too.

use std::path::{Path, PathBuf};

use super::{RunOptions, run};
use crate::core::config::spec::RunSpec;
use crate::core::error::{Error, Result};
use crate::core::io::hdf5_util::{AttrValue, H5Reader};
use crate::core::io::names::attr;
use crate::core::io::output::{HypothesisRow, hypotheses_groups};
use crate::core::io::results::{read_evidence_rows, require_complete};
use crate::core::parallel::{Comm, Partition};

/// Runs every hypothesis of `spec` and writes the evidence table; returns it (on every rank).
pub fn run_hypotheses(
    spec: &RunSpec,
    comm: &dyn Comm,
    options: RunOptions,
) -> Result<Vec<HypothesisRow>> {
    let n = spec.hypotheses.len();
    let groups = n.min(comm.size()).max(1);
    let ranks = Partition::new(comm.size(), groups);
    let group = (0..groups)
        .find(|&g| ranks.owned(g).contains(&comm.rank()))
        .expect("every rank is in a group");
    let sub = comm.split(group);
    for h in spec.hypotheses.iter().skip(group).step_by(groups) {
        let path = &h.spec.output.as_ref().expect("validated for run").path;
        let complete = options.resume
            && H5Reader::open(path)
                .and_then(|f| f.root_text(attr::STATUS))
                .is_ok_and(|s| s == "complete");
        if complete {
            continue; // finished before the job was interrupted
        }
        let resume = options.resume && path.exists();
        run(
            &h.spec,
            sub.as_ref(),
            RunOptions {
                resume,
                ..options.clone()
            },
        )?;
    }
    drop(sub);
    comm.barrier();
    let files: Vec<PathBuf> = spec
        .hypotheses
        .iter()
        .map(|h| {
            h.spec
                .output
                .as_ref()
                .expect("validated for run")
                .path
                .clone()
        })
        .collect();
    let (rows, fingerprint) = combine(&files)?;
    if comm.is_root() {
        let table = &spec.output.as_ref().expect("validated for run").path;
        write_table(table, &spec.name, &rows, &fingerprint)?;
    }
    Ok(rows)
}

/// The evidence table of hypothesis result files (all of the same data): each one's log Z from
/// the first estimator (not the ELBO bound) that every file has, its prior odds and name from
/// its root attributes (the file's stem without them).
pub fn combine(files: &[PathBuf]) -> Result<(Vec<HypothesisRow>, String)> {
    let mut tables = Vec::with_capacity(files.len());
    let mut fingerprint: Option<(String, &Path)> = None;
    for file in files {
        let reader = H5Reader::open(file)?;
        require_complete(&reader, file, "only complete results enter the table")?;
        let data = reader.root_text(attr::DATA_FINGERPRINT).unwrap_or_default();
        match &fingerprint {
            None => fingerprint = Some((data, file)),
            Some((first, first_file)) if *first != data => {
                return Err(Error::input(
                    file,
                    format!(
                        "fitted other data than {} (data fingerprint {data} ≠ {first}): the evidence of different data cannot be compared",
                        first_file.display()
                    ),
                ));
            }
            Some(_) => {}
        }
        let rows = read_evidence_rows(&reader)?;
        if rows.is_empty() {
            return Err(Error::input(
                file,
                "no evidence/ table: run it with `evidence: {estimators: [...]}` or `geobayes evidence` first",
            ));
        }
        let name = match reader.root_attr(attr::HYPOTHESIS) {
            Ok(AttrValue::Text(name)) => name,
            _ => file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let odds = match reader.root_attr(attr::PRIOR_ODDS) {
            Ok(AttrValue::Float(x)) => x,
            _ => 1.0,
        };
        let calls = match reader.root_attr(attr::FORWARD_CALLS) {
            Ok(AttrValue::Int(n)) => n as u64,
            _ => 0,
        };
        tables.push((file, name, odds, calls, rows));
    }
    if let Some(dup) = (0..tables.len()).find(|&i| tables[..i].iter().any(|t| t.1 == tables[i].1)) {
        return Err(Error::input(
            tables[dup].0,
            format!("hypothesis `{}` is given twice", tables[dup].1),
        ));
    }
    let estimator = tables
        .first()
        .and_then(|t| {
            t.4.iter()
                .filter(|r| !r.lower_bound)
                .map(|r| r.estimator.clone())
                .find(|e| tables.iter().all(|u| u.4.iter().any(|r| &r.estimator == e)))
        })
        .ok_or_else(|| {
            Error::Usage(
                "the results share no estimate of log Z (ss, ti or is; the ELBO is only a bound)"
                    .into(),
            )
        })?;
    let mut rows: Vec<HypothesisRow> = tables
        .iter()
        .map(|(file, name, odds, calls, rows)| {
            let r = rows
                .iter()
                .find(|r| r.estimator == estimator)
                .expect("checked above");
            HypothesisRow {
                name: name.clone(),
                file: file.display().to_string(),
                estimator: estimator.clone(),
                log_z: r.log_z,
                log_z_error: r.log_z_error,
                prior_odds: *odds,
                posterior_probability: f64::NAN,
                log_bayes_factor: f64::NAN,
                log_bayes_factor_error: f64::NAN,
                reliable: r.reliable,
                forward_calls: *calls,
            }
        })
        .collect();
    crate::inference::evidence::rank_hypotheses(&mut rows);
    Ok((rows, fingerprint.map(|f| f.0).unwrap_or_default()))
}

/// Writes the table file (atomically): root attributes and `evidence/hypotheses/`.
pub fn write_table(
    path: &Path,
    name: &str,
    rows: &[HypothesisRow],
    fingerprint: &str,
) -> Result<()> {
    let text = |s: &str| AttrValue::Text(s.to_string());
    let root = vec![
        (attr::NAME.to_string(), text(name)),
        (attr::STATUS.to_string(), text("complete")),
        (attr::VERSION.to_string(), text(env!("CARGO_PKG_VERSION"))),
        (
            attr::GIT_COMMIT.to_string(),
            text(env!("GEOBAYES_GIT_COMMIT")),
        ),
        (attr::DATA_FINGERPRINT.to_string(), text(fingerprint)),
    ];
    let note = vec![(
        "note".to_string(),
        text(
            "evidence/hypotheses: one row per prior hypothesis; posterior_probability from prior_odds × Z; log_bayes_factor against the best",
        ),
    )];
    let groups = hypotheses_groups(rows, &note);
    crate::core::io::atomic::write_atomically(path, |tmp| {
        crate::core::io::hdf5_util::write_file(tmp, &root, &groups)
    })
}
