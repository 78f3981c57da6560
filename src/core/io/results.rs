//! Reading a result file back: what `inspect` shows and what `--resume` restores.

use std::path::Path;

use super::hdf5_util::{AttrValue, H5Reader};
use super::names::{Trace, attr, group, var};
use super::output::{EvidenceRow, History, HypothesisRow, KeptGroup};
use crate::core::error::{Error, Result};
use crate::core::state::MethodState;

/// The parts of a checkpoint a resumed run needs.
pub struct Checkpoint {
    pub config_hash: String,
    pub next_iteration: usize,
    pub state: MethodState,
    pub history: History,
}

pub fn read_checkpoint(path: &Path) -> Result<Checkpoint> {
    let file = H5Reader::open(path)?;
    let status = file.root_text(attr::STATUS)?;
    if !file.has_group(group::CHECKPOINT) {
        return Err(Error::Usage(format!(
            "{}: status is `{status}` and the file holds no checkpoint to resume from (run without --resume to start over)",
            path.display()
        )));
    }
    let config_hash = file.root_text(attr::CONFIG_HASH)?;
    let h5 = hdf5::File::open(path).map_err(|e| Error::input(path, e.to_string()))?;
    let cp = h5
        .group(group::CHECKPOINT)
        .map_err(|e| Error::input(path, e.to_string()))?;
    let next_iteration = cp
        .attr(var::NEXT_ITERATION)
        .and_then(|a| a.read_scalar::<i64>())
        .map_err(|e| Error::input(path, format!("checkpoint without next_iteration ({e})")))?
        as usize;
    let mut state = MethodState::new();
    for (name, values) in group_arrays(&file, group::CHECKPOINT)? {
        state.put(&name, values);
    }
    let mut columns = Vec::new();
    if file.has_group(group::DIAGNOSTICS) {
        for name in file.dataset_names(group::DIAGNOSTICS)? {
            if let Some(trace) = Trace::from_name(&name) {
                let values = file.f64(&format!("{}/{name}", group::DIAGNOSTICS))?;
                columns.push((trace, values.iter().copied().collect()));
            }
        }
    }
    let history = History::from_columns(columns);
    Ok(Checkpoint {
        config_hash,
        next_iteration,
        state,
        history,
    })
}

/// The f64 arrays of a group written by `array_group` (its dimension scales `*_dim_k` left out).
fn group_arrays(file: &H5Reader, name: &str) -> Result<Vec<(String, ndarray::ArrayD<f64>)>> {
    file.dataset_names(name)?
        .into_iter()
        .filter(|n| !n.contains("_dim_"))
        .map(|n| {
            let values = file.f64(&format!("{name}/{n}"))?;
            Ok((n, values))
        })
        .collect()
}

/// A group a method kept (`tempering/`, `variational/`, ...) read back, or `None` when the
/// file has none.
pub fn read_kept_group(file: &H5Reader, name: &'static str) -> Result<Option<KeptGroup>> {
    if !file.has_group(name) {
        return Ok(None);
    }
    Ok(Some(KeptGroup {
        name,
        attrs: file.group_attrs(name)?,
        arrays: group_arrays(file, name)?,
    }))
}

/// The rows of a result's `evidence/` table (none when it has no table).
pub fn read_evidence_rows(file: &H5Reader) -> Result<Vec<EvidenceRow>> {
    let at = |name: &str| format!("{}/{name}", group::EVIDENCE);
    if !file.has(&at(super::names::dim::ESTIMATOR)) {
        return Ok(Vec::new()); // none, or only a hypotheses table
    }
    let names = file.strings(&at(super::names::dim::ESTIMATOR))?;
    let column = |name: &str| -> Result<Vec<f64>> { Ok(file.f64(&at(name))?.iter().copied().collect()) };
    let (log_z, error, information, ess, khat, discretisation) = (
        column(var::LOG_Z)?,
        column(var::LOG_Z_ERROR)?,
        column(var::INFORMATION)?,
        column(var::ESS)?,
        column(var::KHAT)?,
        column(var::DISCRETISATION_ERROR)?,
    );
    let calls = file.i64(&at(attr::FORWARD_CALLS))?;
    let reliable = file.i8(&at(var::RELIABLE))?;
    let (normaliser, normaliser_error) = (column(var::PRIOR_LOG_NORMALISER)?, column(var::PRIOR_LOG_NORMALISER_ERROR)?);
    let bound = file.strings(&at(var::BOUND))?;
    let note = file.strings(&at(var::NOTE))?;
    Ok((0..names.len())
        .map(|k| EvidenceRow {
            estimator: names[k].clone(),
            lower_bound: bound[k] == "lower_bound",
            log_z: log_z[k],
            log_z_error: error[k],
            information: information[k],
            ess: ess[k],
            forward_calls: calls[k] as u64,
            khat: khat[k],
            reliable: reliable[k] != 0,
            discretisation_error: discretisation[k],
            prior_log_normaliser: normaliser[k],
            prior_log_normaliser_error: normaliser_error[k],
            note: note[k].clone(),
        })
        .collect())
}

/// The evidence table of a `hypotheses:` job (`evidence/hypotheses/`), or none.
pub fn read_hypotheses_table(file: &H5Reader) -> Result<Vec<HypothesisRow>> {
    let table = format!("{}/{}", group::EVIDENCE, group::HYPOTHESES);
    if !file.has_group(&table) {
        return Ok(Vec::new());
    }
    let at = |name: &str| format!("{table}/{name}");
    let column = |name: &str| -> Result<Vec<f64>> { Ok(file.f64(&at(name))?.iter().copied().collect()) };
    let names = file.strings(&at(super::names::dim::HYPOTHESIS))?;
    let (estimator, files) = (file.strings(&at(var::ESTIMATOR_USED))?, file.strings(&at(var::FILE))?);
    let (log_z, error, odds) = (column(var::LOG_Z)?, column(var::LOG_Z_ERROR)?, column(var::PRIOR_ODDS)?);
    let (probability, bf, bf_error) = (
        column(var::POSTERIOR_PROBABILITY)?,
        column(var::LOG_BAYES_FACTOR)?,
        column(var::LOG_BAYES_FACTOR_ERROR)?,
    );
    let reliable = file.i8(&at(var::RELIABLE))?;
    let calls = file.i64(&at(attr::FORWARD_CALLS))?;
    Ok((0..names.len())
        .map(|k| HypothesisRow {
            name: names[k].clone(),
            file: files[k].clone(),
            estimator: estimator[k].clone(),
            log_z: log_z[k],
            log_z_error: error[k],
            prior_odds: odds[k],
            posterior_probability: probability[k],
            log_bayes_factor: bf[k],
            log_bayes_factor_error: bf_error[k],
            reliable: reliable[k] != 0,
            forward_calls: calls[k] as u64,
        })
        .collect())
}

/// Refuses a result whose status is not `complete`; `purpose` says what needs it complete.
pub fn require_complete(file: &H5Reader, path: &Path, purpose: &str) -> Result<()> {
    let status = file.root_text(attr::STATUS)?;
    if status == "complete" {
        Ok(())
    } else {
        Err(Error::input(path, format!("status is `{status}`: {purpose}")))
    }
}

/// A root attribute as display text.
pub fn attr_text(file: &H5Reader, name: &str) -> String {
    match file.root_attr(name) {
        Ok(AttrValue::Text(s)) => s,
        Ok(AttrValue::Int(i)) => i.to_string(),
        Ok(AttrValue::Float(x)) => format!("{x:.3}"),
        Err(_) => "-".into(),
    }
}
