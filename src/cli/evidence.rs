//! `geobayes evidence RESULT.h5`: the log-evidence estimates a finished result allows
//! (stepping-stone and thermodynamic integration from its temperature ladder, importance
//! sampling and the ELBO from its fitted q), added to its `evidence/` table (rows of other
//! estimators kept) atomically, and printed. Importance sampling rebuilds the posterior from the
//! config the run recorded and evaluates its proposal samples over the ranks.

use std::path::{Path, PathBuf};

use crate::core::config::spec::{Estimator, EvidenceSpec, MIN_EVIDENCE_SAMPLES};
use crate::core::config::{self, Mode};
use crate::core::error::{Error, Result};
use crate::core::io::hdf5_util::{AttrValue, H5Reader};
use crate::core::io::names::{attr, group, var};
use crate::core::io::output::{EvidenceRow, evidence_group};
use crate::core::io::results::{read_evidence_rows, read_kept_group, require_complete};
use crate::core::parallel::{Comm, Par};
use crate::inference::RunContext;
use crate::inference::evidence::{EvidenceInput, estimate};
use crate::posterior::Posterior;

pub(super) fn evidence(
    file: &Path,
    requested: &[Estimator],
    samples: usize,
    comm: &dyn Comm,
) -> Result<Vec<EvidenceRow>> {
    let reader = H5Reader::open(file)?;
    require_complete(
        &reader,
        file,
        "the evidence needs a complete result (finish the run with --resume)",
    )?;
    let kept: Vec<_> = [group::TEMPERING, group::VARIATIONAL]
        .into_iter()
        .map(|g| read_kept_group(&reader, g))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let has = |g: &str| kept.iter().any(|k| k.name == g);
    let estimators: Vec<Estimator> = if requested.is_empty() {
        Estimator::ALL
            .into_iter()
            .filter(|e| {
                has(if e.needs_ladder() {
                    group::TEMPERING
                } else {
                    group::VARIATIONAL
                })
            })
            .collect()
    } else {
        requested.to_vec()
    };
    if estimators.is_empty() {
        return Err(Error::input(
            file,
            "the result has neither a temperature ladder (tempering/: kind pt, or rjmcmc with tempering) nor a fitted variational density (variational/: kind vi or boosting_vi): no evidence estimator applies",
        ));
    }
    for e in &estimators {
        let (needs, what) = if e.needs_ladder() {
            (
                group::TEMPERING,
                "a temperature ladder (kind: pt, or rjmcmc with tempering)",
            )
        } else {
            (
                group::VARIATIONAL,
                "a fitted variational density (kind: vi or boosting_vi)",
            )
        };
        if !has(needs) {
            return Err(Error::input(
                file,
                format!(
                    "--estimator {} needs {what}; the result has no {needs}/ group",
                    e.name()
                ),
            ));
        }
    }
    if samples < MIN_EVIDENCE_SAMPLES {
        return Err(Error::Usage(format!(
            "--samples must be ≥ {MIN_EVIDENCE_SAMPLES} (the Pareto fit of PSIS needs a tail; got {samples})"
        )));
    }
    let spec = recorded_spec(&reader, file, None)?;
    let posterior = Posterior::from_spec_on(&spec, None)?;
    let ctx = RunContext::new(
        &posterior,
        comm,
        Par::Rayon,
        spec.seed,
        ndarray::Array2::zeros((0, 0)),
    );
    let run_forward_calls = match reader.root_attr(attr::FORWARD_CALLS) {
        Ok(AttrValue::Int(n)) => n as u64,
        _ => 0,
    };
    let input = EvidenceInput {
        kept: &kept,
        file,
        run_forward_calls,
        shape: &spec.problem.axes_shape(),
    };
    let rows = estimate(
        &EvidenceSpec {
            estimators,
            samples,
        },
        &input,
        &ctx,
    )?;
    let mut table = read_evidence_rows(&reader)?;
    drop(reader);
    table.retain(|old| !rows.iter().any(|new| new.estimator == old.estimator));
    table.extend(rows.iter().cloned());
    if comm.is_root() {
        crate::core::io::atomic::update_atomically(file, |tmp| {
            crate::core::io::hdf5_util::replace_group(tmp, &evidence_group(&table))
        })?;
    }
    Ok(rows)
}

/// The run spec a result recorded (its config, validated again where the config file was, so
/// that the files it names resolve), with its prior replaced by `prior` when given (whose
/// problems are then reported against `prior_file`).
pub(super) fn recorded_spec(
    reader: &H5Reader,
    file: &Path,
    prior: Option<(&crate::core::config::raw::RawPrior, &Path)>,
) -> Result<crate::core::config::spec::RunSpec> {
    let config_path = match reader.root_attr(attr::CONFIG_PATH) {
        Ok(AttrValue::Text(p)) => PathBuf::from(p),
        _ => {
            return Err(Error::input(
                file,
                "the result does not record its config file (written by an older geobayes): run it again",
            ));
        }
    };
    // The text the user wrote (overrides applied): the resolved text need not parse back.
    let text = reader.text(&format!("{}/{}", group::PROVENANCE, var::CONFIG_SOURCE))?;
    let mut raw = config::parse(&text).map_err(|issue| Error::Config {
        file: config_path.clone(),
        issues: vec![issue],
    })?;
    // One hypothesis of a `hypotheses:` config: that hypothesis's run.
    let hypothesis = match reader.root_attr(attr::HYPOTHESIS) {
        Ok(AttrValue::Text(name)) => Some(name),
        _ => None,
    };
    if let (Some(name), Some(list)) = (&hypothesis, &raw.hypotheses) {
        let chosen = list.iter().find(|h| &h.name == name).ok_or_else(|| {
            Error::input(
                file,
                format!("hypothesis `{name}` is not in its recorded config"),
            )
        })?;
        raw.prior = Some(chosen.prior.clone());
        raw.hypotheses = None;
    }
    if let Some((p, _)) = prior {
        raw.prior = Some(p.clone());
    }
    crate::inference::validate(&raw, &config_path, &text, Mode::Run).map_err(|e| match (e, prior) {
        (Error::Config { issues, .. }, Some((_, prior_file))) => Error::Config {
            file: prior_file.to_path_buf(),
            issues,
        },
        (e, _) => e,
    })
}

/// The evidence rows as a table for the terminal.
pub(super) fn format_rows(rows: &[EvidenceRow]) -> String {
    let mut text = format!(
        "{:<6} {:>12} {:>10} {:>9} {:>9} {:>7} {:>12}  note\n",
        "", "log Z", "± error", "H", "ESS", "k̂", "forward"
    );
    for r in rows {
        let label = if r.reliable || r.lower_bound {
            ""
        } else {
            "UNRELIABLE: "
        };
        text.push_str(&format!(
            "{:<6} {:>12.4} {:>10.4} {:>9.3} {:>9.0} {:>7.3} {:>12}  {label}{}\n",
            r.estimator,
            r.log_z,
            r.log_z_error,
            r.information,
            r.ess,
            r.khat,
            r.forward_calls,
            r.note
        ));
    }
    text
}

/// The evidence table of a `hypotheses:` job for the terminal, best first.
pub(super) fn format_hypotheses(rows: &[crate::core::io::output::HypothesisRow]) -> String {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| rows[b].log_z.total_cmp(&rows[a].log_z));
    let mut text = format!(
        "{:<16} {:>5} {:>12} {:>9} {:>10} {:>16} {:>6}  file\n",
        "hypothesis", "est.", "log Z", "± error", "p(H|d)", "log BF ± error", "odds"
    );
    for &k in &order {
        let r = &rows[k];
        let flag = if r.reliable { "" } else { " (UNRELIABLE)" };
        text.push_str(&format!(
            "{:<16} {:>5} {:>12.4} {:>9.4} {:>10.4} {:>9.3} ± {:<5.3} {:>6}  {}{flag}\n",
            r.name,
            r.estimator,
            r.log_z,
            r.log_z_error,
            r.posterior_probability,
            r.log_bayes_factor,
            r.log_bayes_factor_error,
            r.prior_odds,
            r.file
        ));
    }
    text
}
