//! Validation of a `hypotheses:` config: several priors, each a whole run of its own (the
//! config with that prior, its output `<output stem>.<name>.h5`), ranked by their evidence.
//! Every problem of every hypothesis is reported at once; a problem of a hypothesis's prior
//! names its key (`hypotheses[2].prior.lower`), one that all share is reported once.

use std::path::{Path, PathBuf};

use super::Mode;
use super::check::{Issues, validate_with, with_defaults};
use super::method::MethodCatalog;
use super::raw::{RawConfig, RawHypothesis};
use super::spec::{Hypothesis, HypothesisLabel, RunSpec};
use crate::core::error::{ConfigIssue, Error, Result};

/// `<stem>.<name>.<ext>` beside `path`.
pub fn hypothesis_path(path: &Path, name: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "h5".into());
    path.with_file_name(format!("{stem}.{name}.{ext}"))
}

pub(super) fn validate_hypotheses(
    raw: &RawConfig,
    list: &[RawHypothesis],
    config_path: &Path,
    source: &str,
    methods: &dyn MethodCatalog,
) -> Result<RunSpec> {
    let mut issues = Issues::new();
    if raw.prior.is_some() {
        issues.add("prior", "a config with `hypotheses` gives each hypothesis its own prior (hypotheses[i].prior): remove the top-level prior");
    }
    issues.check(!list.is_empty(), "hypotheses", || {
        "needs at least one hypothesis: {name: ..., prior: {...}}".into()
    });
    match &raw.evidence {
        None => issues.add(
            "evidence",
            "hypotheses are ranked by their evidence: add evidence: {estimators: [ss]} (or ti, is)",
        ),
        Some(e) => {
            issues.check(e.estimators.iter().any(|e| *e != super::raw::Estimator::Elbo), "evidence.estimators", || {
                "hypotheses are ranked by an estimate of log Z (ss, ti or is): the ELBO is only a bound".into()
            });
        }
    }
    for (i, h) in list.iter().enumerate() {
        let key = format!("hypotheses[{i}].name");
        let ok_chars = h
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        issues.check(!h.name.is_empty() && ok_chars, &key, || {
            format!("`{}`: a name of letters, digits, `_` and `-` (it becomes part of the result file's name)", h.name)
        });
        issues.check(!list[..i].iter().any(|o| o.name == h.name), &key, || {
            format!("`{}` is used twice", h.name)
        });
        if let Some(odds) = h.prior_odds {
            issues.check(
                odds > 0.0 && odds.is_finite(),
                &format!("hypotheses[{i}].prior_odds"),
                || format!("must be a finite number > 0 (got {odds})"),
            );
        }
    }
    let mut found: Vec<ConfigIssue> = match issues.into_error(config_path, &raw.lines) {
        Some(Error::Config { issues, .. }) => issues,
        _ => Vec::new(),
    };
    let mut runs = Vec::with_capacity(list.len());
    for (i, h) in list.iter().enumerate() {
        let mut one = raw.clone();
        one.hypotheses = None;
        one.prior = Some(h.prior.clone());
        if let Some(o) = &mut one.output {
            o.path = hypothesis_path(&o.path, &h.name);
        }
        match validate_with(&one, config_path, source, Mode::Run, methods) {
            Ok(mut spec) => {
                let prior_odds = h.prior_odds.unwrap_or(1.0);
                spec.hypothesis = Some(HypothesisLabel {
                    name: h.name.clone(),
                    prior_odds,
                });
                runs.push(Hypothesis {
                    name: h.name.clone(),
                    prior_odds,
                    spec,
                });
            }
            Err(Error::Config { issues, .. }) => {
                for mut issue in issues {
                    if issue.key == "prior" || issue.key.starts_with("prior.") {
                        issue.key = format!("hypotheses[{i}].{}", issue.key);
                        issue.line = raw.lines.line(&issue.key);
                    }
                    if !found
                        .iter()
                        .any(|f| f.key == issue.key && f.message == issue.message)
                    {
                        found.push(issue);
                    }
                }
            }
            Err(other) => return Err(other),
        }
    }
    if !found.is_empty() {
        return Err(Error::Config {
            file: config_path.to_path_buf(),
            issues: found,
        });
    }
    let mut top = runs[0].spec.clone();
    let resolved =
        serde_yaml_ng::to_string(&with_defaults(raw)).expect("the raw config serialises");
    top.source.hash = super::fingerprint(&resolved);
    top.source.resolved = resolved;
    top.output = raw.output.as_ref().map(|o| super::spec::OutputSpec {
        path: super::check::resolve(config_path.parent().unwrap_or(Path::new("")), &o.path),
        ..top.output.clone().expect("validated for run")
    });
    top.prior = None;
    top.hypothesis = None;
    top.hypotheses = runs;
    Ok(top)
}
