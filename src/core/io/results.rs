//! Reading a result file back: what `inspect` shows and what `--resume` restores.

use std::path::Path;

use super::hdf5_util::{AttrValue, H5Reader};
use super::names::{Trace, attr, group, var};
use super::output::History;
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
    for name in file.dataset_names(group::CHECKPOINT)? {
        if name.contains("_dim_") {
            continue; // dimension scales
        }
        state.put(&name, file.f64(&format!("{}/{name}", group::CHECKPOINT))?);
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

/// A root attribute as display text.
pub fn attr_text(file: &H5Reader, name: &str) -> String {
    match file.root_attr(name) {
        Ok(AttrValue::Text(s)) => s,
        Ok(AttrValue::Int(i)) => i.to_string(),
        Ok(AttrValue::Float(x)) => format!("{x:.3}"),
        Err(_) => "-".into(),
    }
}
