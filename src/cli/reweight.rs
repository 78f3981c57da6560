//! `geobayes reweight RESULT.h5 --prior PRIOR.yaml`: prior replacement. The result's posterior
//! draws are reweighted from the prior it ran under to another (`prior:` block of the same
//! problem) by p_new/p_old (both normalised: a smoothing term's normaliser from
//! `evidence::prior_normaliser`), without forward solves. Writes a copy of the result whose
//! `summary/` is the reweighted posterior's and whose `reweighting/` group holds the smoothed log
//! weights per (chain, draw), the log evidence ratio log Z_new − log Z_old with its error,
//! Pareto k̂, the ESS and whether the replacement is reliable; prints the ratio. The copy drops
//! `evidence/`, `tempering/` and `variational/`: they belong to the old prior.

use std::path::{Path, PathBuf};

use ndarray::{Array1, ArrayView1};

use crate::core::config::raw::RawPrior;
use crate::core::config::spec::{Marginals, PriorSpec};
use crate::core::error::{ConfigIssue, Error, Result};
use crate::core::io::hdf5_util::{
    AttrValue, GroupSpec, H5Reader, Values, Variable, remove_groups, replace_group,
};
use crate::core::io::names::{dim, group, var};
use crate::core::io::output::{Summary, summary_group};
use crate::core::io::results::require_complete;
use crate::inference::evidence::prior_normaliser::prior_normaliser;
use crate::inference::evidence::reweight::{Reweighting, log_prior_of, reweight, weighted_summary};
use crate::posterior::{Prior, param_coordinates};

/// log p(m) of a normalised prior in physical units (−∞ outside a uniform's support).
fn normalised_log_prior(spec: &PriorSpec, seed: u64) -> impl Fn(ArrayView1<f64>) -> f64 {
    let prior = Prior::new(spec);
    let log_c = prior_normaliser(&prior, seed).log_c;
    let bounds = match &spec.marginals {
        Marginals::Uniform { lower, upper } => Some((lower.clone(), upper.clone())),
        Marginals::Gaussian { .. } => None,
    };
    move |m: ArrayView1<f64>| {
        if let Some((lower, upper)) = &bounds
            && (0..m.len()).any(|j| m[j] <= lower[j] || m[j] >= upper[j])
        {
            return f64::NEG_INFINITY;
        }
        let mut grad = Array1::zeros(m.len());
        prior.log_prob_into(m, grad.view_mut()) - log_c
    }
}

/// The prior block of `path`: a file with a `prior:` key, or the block itself.
fn read_prior(path: &Path) -> Result<RawPrior> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e.to_string()))?;
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| Error::input(path, format!("not YAML: {e}")))?;
    let block = value.get("prior").cloned().unwrap_or(value);
    serde_yaml_ng::from_value(block).map_err(|e| Error::Config {
        file: path.to_path_buf(),
        issues: vec![ConfigIssue {
            key: "prior".into(),
            message: e.to_string(),
            line: None,
        }],
    })
}

pub(super) fn reweight_command(
    file: &Path,
    prior_file: &Path,
    out: Option<&Path>,
) -> Result<(PathBuf, Reweighting)> {
    let reader = H5Reader::open(file)?;
    require_complete(&reader, file, "reweight a complete result")?;
    let new_raw = read_prior(prior_file)?;
    let old = super::evidence::recorded_spec(&reader, file, None)?;
    let new = super::evidence::recorded_spec(&reader, file, Some((&new_raw, prior_file)))?;
    let (Some(old_prior), Some(new_prior)) = (&old.prior, &new.prior) else {
        return Err(Error::input(file, "the result has no prior to replace"));
    };
    let m = reader
        .f64(&format!("{}/{}", group::POSTERIOR, var::M))?
        .into_dimensionality::<ndarray::Ix3>()
        .map_err(|_| Error::input(file, "posterior/m is not (chain, draw, param)"))?;
    let log_old = log_prior_of(m.view(), normalised_log_prior(old_prior, old.seed));
    let log_new = log_prior_of(m.view(), normalised_log_prior(new_prior, old.seed));
    let r = reweight(log_old.view(), log_new.view());
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        file.with_file_name(format!("{stem}.reweighted.h5"))
    });
    let [mean, std, q05, q50, q95] = weighted_summary(m.view(), r.log_weights.view());
    let summary = Summary {
        mean,
        std,
        q05,
        q50,
        q95,
        n_samples: r.ess.round() as usize,
        extra: Vec::new(),
    };
    let prior_text = std::fs::read_to_string(prior_file).unwrap_or_default();
    let mut group_spec = GroupSpec::new(group::REWEIGHTING)
        .attr("prior", AttrValue::Text(prior_text))
        .attr(
            "prior_file",
            AttrValue::Text(prior_file.display().to_string()),
        )
        .attr(var::RELIABLE, AttrValue::Int(i64::from(r.note.is_none())))
        .attr(
            var::NOTE,
            AttrValue::Text(r.note.clone().unwrap_or_default()),
        )
        .var(Variable::new(
            var::LOG_WEIGHT,
            &[dim::CHAIN, dim::DRAW],
            Values::F64(r.log_weights.clone().into_dyn()),
        ));
    for (name, value) in [
        (var::LOG_EVIDENCE_RATIO, r.log_ratio),
        (var::LOG_EVIDENCE_RATIO_ERROR, r.error),
        (var::KHAT, r.khat),
        (var::ESS, r.ess),
    ] {
        group_spec = group_spec.var(Variable::new(
            name,
            &[],
            Values::F64(ndarray::arr0(value).into_dyn()),
        ));
    }
    let coords = param_coordinates(&old.problem);
    crate::core::io::atomic::write_atomically(&out, |tmp| {
        std::fs::copy(file, tmp).map_err(|e| Error::output(tmp, e))?;
        remove_groups(
            tmp,
            &[group::EVIDENCE, group::TEMPERING, group::VARIATIONAL],
        )?;
        replace_group(tmp, &summary_group(&summary, &coords))?;
        replace_group(tmp, &group_spec)
    })?;
    Ok((out, r))
}
