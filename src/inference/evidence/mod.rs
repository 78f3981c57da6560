//! Log-evidence estimates with error bars from what a method's result keeps: stepping-stone
//! and thermodynamic integration from a temperature ladder (`tempering/`), importance sampling
//! with the fitted variational density as the proposal and the ELBO from `variational/`. Each
//! estimator returns log Z, its standard error, the information H, an effective sample size,
//! and says when it is not to be trusted; [`estimate`] turns them into the rows of the
//! `evidence/` table, for `run` (with `evidence:` in the config) and for `geobayes evidence`.
//! The plain harmonic mean is not offered: its variance is infinite for most posteriors.
//!
//! log Z is of the normalised prior and likelihood, so estimates are comparable across priors.
//! A ladder's ratios start at the prior itself, so its normalisation cancels in stepping-stone
//! and TI; importance sampling and the ELBO read log p, whose marginal and likelihood constants
//! are exact but whose smoothing term is unnormalised: its log-normaliser (exact for Gaussian
//! marginals, else estimated without forward solves: `prior_normaliser`) is taken off those rows
//! and its error carried into theirs.

pub mod importance;
pub mod prior_normaliser;
pub mod psis;
pub mod reweight;
pub mod tempered;

use std::path::Path;

use crate::core::config::spec::{Estimator, EvidenceSpec};
use crate::core::error::{Error, Result};
use crate::core::io::names::{group, var};
use crate::inference::variational::FittedQ;
use crate::inference::{EvidenceRow, KeptGroup, RunContext};
use crate::posterior::LogDensity;
use tempered::Ladder;

/// What an estimator found.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub log_z: f64,
    /// The standard error of log Z (for TI including its discretisation error).
    pub error: f64,
    /// H = E_post[log L] − log Z (NaN where the estimator does not give it).
    pub information: f64,
    pub ess: f64,
    /// Pareto k̂ of the importance weights (NaN where there are none).
    pub khat: f64,
    pub discretisation_error: f64,
    /// Why the estimate is not to be trusted (or, for the ELBO, that it is a bound).
    pub note: Option<String>,
}

impl Estimate {
    fn row(self, estimator: Estimator, forward_calls: u64) -> EvidenceRow {
        let lower_bound = estimator == Estimator::Elbo;
        EvidenceRow {
            estimator: estimator.name().to_string(),
            lower_bound,
            log_z: self.log_z,
            log_z_error: self.error,
            information: self.information,
            ess: self.ess,
            forward_calls,
            khat: self.khat,
            reliable: self.note.is_none() && !lower_bound,
            discretisation_error: self.discretisation_error,
            prior_log_normaliser: 0.0,
            prior_log_normaliser_error: 0.0,
            note: self.note.unwrap_or_default(),
        }
    }
}

/// What the estimators read from a result: its kept groups, where they came from, and the
/// forward solves of the run that made them.
pub struct EvidenceInput<'a> {
    pub kept: &'a [KeptGroup],
    pub file: &'a Path,
    pub run_forward_calls: u64,
    /// The problem's grid shape (for a banded flow).
    pub shape: &'a [usize],
}

/// The evidence rows of `spec`'s estimators, in their order. Importance sampling evaluates its
/// samples over the ranks of `ctx` (every rank calls this).
pub fn estimate(
    spec: &EvidenceSpec,
    input: &EvidenceInput,
    ctx: &RunContext,
) -> Result<Vec<EvidenceRow>> {
    let find = |name: &str| input.kept.iter().find(|g| g.name == name);
    let mut rows = Vec::with_capacity(spec.estimators.len());
    let mut weights = None;
    for &estimator in &spec.estimators {
        let row = if estimator.needs_ladder() {
            let group = find(group::TEMPERING).ok_or_else(|| {
                missing(
                    input.file,
                    estimator,
                    "tempering/",
                    "a temperature ladder (kind: pt, or rjmcmc with tempering)",
                )
            })?;
            let (betas, ll) = ladder_arrays(group, input.file)?;
            let ladder = Ladder {
                betas: &betas,
                ll: ll.view(),
            };
            let e = match estimator {
                Estimator::Ss => tempered::stepping_stone(&ladder),
                _ => tempered::thermodynamic(&ladder),
            };
            e.row(estimator, input.run_forward_calls)
        } else {
            if weights.is_none() {
                let group = find(group::VARIATIONAL).ok_or_else(|| {
                    missing(
                        input.file,
                        estimator,
                        "variational/",
                        "a fitted variational density (kind: vi or boosting_vi)",
                    )
                })?;
                let q = FittedQ::from_group(group, ctx.posterior().dim(), input.shape, input.file)?;
                let before = ctx.solve_counts().0;
                let w = importance::sample_weights(ctx, &q, spec.samples)?;
                weights = Some((w, ctx.solve_counts().0 - before));
            }
            let (w, calls) = weights.as_ref().expect("sampled above");
            let e = match estimator {
                Estimator::Is => importance::importance_sampling(w),
                _ => importance::elbo(w),
            };
            e.row(estimator, input.run_forward_calls + calls)
        };
        rows.push(row);
    }
    // A smoothing prior's normaliser for the estimators that read log p itself (IS, ELBO):
    // a ladder's ratios start at the prior's own normalisation, which cancels.
    if ctx.prior().smoothing().is_some() && spec.estimators.iter().any(|e| !e.needs_ladder()) {
        let normaliser = prior_normaliser::prior_normaliser(ctx.prior(), ctx.seed());
        let how = if normaliser.exact {
            "exact (Gaussian marginals)".to_string()
        } else {
            format!(
                "estimated by stepping-stone over {} rungs",
                normaliser.rungs
            )
        };
        for (row, estimator) in rows.iter_mut().zip(&spec.estimators) {
            if estimator.needs_ladder() {
                continue;
            }
            row.log_z -= normaliser.log_c;
            row.log_z_error = row.log_z_error.hypot(normaliser.error);
            row.prior_log_normaliser = normaliser.log_c;
            row.prior_log_normaliser_error = normaliser.error;
            let part = format!(
                "smoothing prior's log-normaliser {:.4} ± {:.4} taken off, {how}",
                normaliser.log_c, normaliser.error
            );
            row.note = if row.note.is_empty() {
                part
            } else {
                format!("{}; {part}", row.note)
            };
        }
    }
    Ok(rows)
}

fn missing(file: &Path, estimator: Estimator, group: &str, needs: &str) -> Error {
    Error::input(
        file,
        format!(
            "`{}` needs {needs}; the result has no {group} group",
            estimator.name()
        ),
    )
}

/// The ladder β and the per-β log-likelihood series (β, chain, draw) of a `tempering/` group.
fn ladder_arrays(group: &KeptGroup, file: &Path) -> Result<(Vec<f64>, ndarray::Array3<f64>)> {
    let bad = |what: &str| Error::input(file, format!("tempering/: {what}"));
    let betas: Vec<f64> = group
        .array(var::BETAS)
        .ok_or_else(|| bad("no betas"))?
        .iter()
        .copied()
        .collect();
    let ll = group
        .array(var::LOG_LIKELIHOOD)
        .ok_or_else(|| bad("no log_likelihood"))?
        .clone()
        .into_dimensionality::<ndarray::Ix3>()
        .map_err(|_| bad("log_likelihood is not (beta, chain, draw)"))?;
    let increasing = betas.windows(2).all(|w| w[0] < w[1]);
    if betas.len() < 2
        || betas[0] != 0.0
        || betas[betas.len() - 1] != 1.0
        || !increasing
        || ll.dim().0 != betas.len()
    {
        return Err(bad(
            "the ladder must rise from β = 0 to 1 with one series per β",
        ));
    }
    if ll.dim().2 < 2 {
        return Err(bad(
            "fewer than 2 draws per chain after burn-in: nothing to estimate from",
        ));
    }
    Ok((betas, ll))
}

/// Fills the posterior probabilities (prior odds × Z, normalised over the table) and the log
/// Bayes factors against the best hypothesis, with their errors (independent runs: the two
/// errors in quadrature).
pub fn rank_hypotheses(rows: &mut [crate::core::io::output::HypothesisRow]) {
    let Some(best) = (0..rows.len()).max_by(|&a, &b| rows[a].log_z.total_cmp(&rows[b].log_z))
    else {
        return;
    };
    let (top, top_error) = (rows[best].log_z, rows[best].log_z_error);
    let weighted: Vec<f64> = rows.iter().map(|r| r.prior_odds.ln() + r.log_z).collect();
    let total = psis::log_sum_exp(&weighted);
    for (k, r) in rows.iter_mut().enumerate() {
        r.posterior_probability = (weighted[k] - total).exp();
        r.log_bayes_factor = r.log_z - top;
        r.log_bayes_factor_error = if k == best {
            0.0
        } else {
            r.log_z_error.hypot(top_error)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::io::output::HypothesisRow;

    fn row(name: &str, log_z: f64, error: f64, odds: f64) -> HypothesisRow {
        HypothesisRow {
            name: name.into(),
            file: String::new(),
            estimator: "ss".into(),
            log_z,
            log_z_error: error,
            prior_odds: odds,
            posterior_probability: f64::NAN,
            log_bayes_factor: f64::NAN,
            log_bayes_factor_error: f64::NAN,
            reliable: true,
            forward_calls: 0,
        }
    }

    #[test]
    fn ranking_by_evidence_and_prior_odds() {
        // Z ∝ 1, e, e² with odds 1, 1, 2: p ∝ 1, e, 2e².
        let mut rows = vec![
            row("a", -10.0, 0.1, 1.0),
            row("b", -9.0, 0.2, 1.0),
            row("c", -8.0, 0.3, 2.0),
        ];
        rank_hypotheses(&mut rows);
        let e = std::f64::consts::E;
        let total = 1.0 + e + 2.0 * e * e;
        for (r, p) in rows
            .iter()
            .zip([1.0 / total, e / total, 2.0 * e * e / total])
        {
            assert!(
                (r.posterior_probability - p).abs() < 1e-14,
                "{}: {} vs {p}",
                r.name,
                r.posterior_probability
            );
        }
        assert_eq!(rows[2].log_bayes_factor, 0.0);
        assert_eq!(rows[2].log_bayes_factor_error, 0.0);
        assert!((rows[0].log_bayes_factor + 2.0).abs() < 1e-14);
        assert!((rows[0].log_bayes_factor_error - 0.1f64.hypot(0.3)).abs() < 1e-15);
    }
}
