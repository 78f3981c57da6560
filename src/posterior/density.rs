//! `Posterior`: the composition of prior, transform, likelihood and forward model, evaluated
//! for a block of members: the forward model takes the whole block at once
//! (`ForwardModel::value_and_vjp_batch`, one device batch where the physics has kernels, else
//! members in parallel with rayon), a mini-batch of data groups member by member. Each member
//! goes through the same operations either way, so its bits do not depend on the block.

use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis};
use rayon::prelude::*;

use super::likelihood::GaussianLikelihood;
use super::prior::Prior;
use super::transform::Transform;
use super::{Batch, Evaluation, LogDensity};
pub use models::ModelFit;
use crate::core::config::spec::{InitSpec, LikelihoodKind, ProblemSpec, RunSpec, TargetSpec};
use crate::core::error::{Error, Result};
use crate::core::parallel::Par;
use crate::physics::ForwardModel;

pub struct Posterior {
    prior: Prior,
    transform: Transform,
    likelihood: Option<GaussianLikelihood>,
    /// An analytic log-likelihood instead of data (the `analytic` problem kind).
    target: Option<TargetSpec>,
    forward: Box<dyn ForwardModel>,
    /// Members whose forward model ran (with or without its adjoint), and adjoints run.
    forward_calls: AtomicU64,
    adjoint_calls: AtomicU64,
}

/// One member's gradient rows: the total and its prior (with the Jacobian) and likelihood
/// parts, each w.r.t. the unconstrained x.
struct GradRows<'a> {
    total: ArrayViewMut1<'a, f64>,
    prior: ArrayViewMut1<'a, f64>,
    likelihood: ArrayViewMut1<'a, f64>,
}

impl GradRows<'_> {
    fn zero(&mut self) {
        self.total.fill(0.0);
        self.prior.fill(0.0);
        self.likelihood.fill(0.0);
    }
}

/// The gradient arrays of a block of members.
struct GradArrays {
    total: Array2<f64>,
    prior: Array2<f64>,
    likelihood: Array2<f64>,
}

impl GradArrays {
    fn zeros(n: usize, p: usize) -> Self {
        GradArrays {
            total: Array2::zeros((n, p)),
            prior: Array2::zeros((n, p)),
            likelihood: Array2::zeros((n, p)),
        }
    }

    fn rows(&mut self) -> Vec<GradRows<'_>> {
        self.total
            .axis_iter_mut(Axis(0))
            .zip(self.prior.axis_iter_mut(Axis(0)))
            .zip(self.likelihood.axis_iter_mut(Axis(0)))
            .map(|((total, prior), likelihood)| GradRows {
                total,
                prior,
                likelihood,
            })
            .collect()
    }
}

/// The data of a mini-batch: which groups the forward model runs, and each datum's weight
/// (zero outside the batch).
struct Selection {
    active: Vec<bool>,
    weights: Array1<f64>,
    n_selected: usize,
}

/// One member's values before they are packed into an `Evaluation`.
struct MemberValue {
    log_prob: f64,
    log_prior: f64,
    log_likelihood: f64,
    misfit: f64,
    failed: bool,
}

impl Posterior {
    /// Builds the posterior of a run spec (which must have a prior), physics on the CPU.
    pub fn from_spec(spec: &RunSpec) -> Result<Self> {
        Self::from_spec_on(spec, None)
    }

    /// [`from_spec`](Self::from_spec) with the physics on `device` where it has kernels.
    pub fn from_spec_on(
        spec: &RunSpec,
        device: Option<&std::sync::Arc<crate::gpu::Device>>,
    ) -> Result<Self> {
        let prior_spec = spec
            .prior
            .as_ref()
            .ok_or_else(|| Error::Usage("this command needs a `prior` block".into()))?;
        let forward = super::build_forward_model(&spec.problem, device);
        let prior = Prior::new(prior_spec);
        if let ProblemSpec::Analytic(a) = &spec.problem {
            let target = (spec.likelihood == LikelihoodKind::Gaussian).then(|| a.target.clone());
            return Ok(Self::new(prior, None, forward).with_target(target));
        }
        let likelihood = match spec.likelihood {
            LikelihoodKind::None => None,
            LikelihoodKind::Gaussian => {
                let data = spec.problem.data();
                let observed = data.observed.clone().ok_or_else(|| {
                    Error::Usage(
                        "a Gaussian likelihood needs observed data (problem.data.file)".into(),
                    )
                })?;
                Some(GaussianLikelihood::new(observed, data.sigma.clone()))
            }
        };
        Ok(Self::new(prior, likelihood, forward))
    }

    /// The posterior with an analytic log-likelihood (no data).
    pub fn with_target(mut self, target: Option<TargetSpec>) -> Self {
        assert!(
            target.is_none() || self.likelihood.is_none(),
            "a target replaces the data's likelihood"
        );
        self.target = target;
        self
    }

    pub fn new(
        prior: Prior,
        likelihood: Option<GaussianLikelihood>,
        forward: Box<dyn ForwardModel>,
    ) -> Self {
        assert_eq!(
            prior.dim(),
            forward.n_params(),
            "prior and forward model disagree on the parameter count"
        );
        if let Some(l) = &likelihood {
            assert_eq!(
                l.n_data(),
                forward.n_data(),
                "data and forward model disagree on the data count"
            );
        }
        let transform = prior.transform();
        Posterior {
            prior,
            transform,
            likelihood,
            target: None,
            forward,
            forward_calls: AtomicU64::new(0),
            adjoint_calls: AtomicU64::new(0),
        }
    }

    pub fn transform(&self) -> &Transform {
        &self.transform
    }

    /// Forward and adjoint solves this process has run so far.
    pub fn solve_counts(&self) -> (u64, u64) {
        (
            self.forward_calls.load(Ordering::Relaxed),
            self.adjoint_calls.load(Ordering::Relaxed),
        )
    }

    /// Counts `n` members' forward solves (and their adjoints, with the gradient).
    fn count_solves(&self, n: usize, with_grad: bool) {
        if self.likelihood.is_some() || self.target.is_some() {
            self.forward_calls.fetch_add(n as u64, Ordering::Relaxed);
            if with_grad {
                self.adjoint_calls.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }

    /// Evaluates every row on `par`, with the likelihood of `batch` when given.
    pub fn evaluate_on(
        &self,
        x: ArrayView2<f64>,
        with_grad: bool,
        par: Par,
        batch: Option<&Batch>,
    ) -> Result<Evaluation> {
        self.check_members(x)?;
        match batch {
            Some(batch) if self.likelihood.is_some() => {
                let selection = self.selection(batch);
                Ok(self.evaluate_selection(x, with_grad, par, Some(&selection)))
            }
            _ => Ok(self.evaluate_par(x, with_grad, par)),
        }
    }

    pub fn prior(&self) -> &Prior {
        &self.prior
    }

    pub fn likelihood(&self) -> Option<&GaussianLikelihood> {
        self.likelihood.as_ref()
    }

    pub fn forward_model(&self) -> &dyn ForwardModel {
        self.forward.as_ref()
    }

    /// Physical models m = T(x) for every row.
    pub fn to_physical(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut m = Array2::zeros(x.raw_dim());
        for (xi, mi) in x.axis_iter(Axis(0)).zip(m.axis_iter_mut(Axis(0))) {
            self.transform.to_physical_into(xi, mi);
        }
        m
    }

    /// Initial members in the unconstrained space: member-keyed prior draws (attempt 0) or the
    /// given file.
    pub fn initial_members(&self, init: &InitSpec, seed: u64, n_members: usize) -> Array2<f64> {
        let mut x = Array2::zeros((n_members, self.dim()));
        for (i, mut row) in x.axis_iter_mut(Axis(0)).enumerate() {
            let m = match init {
                InitSpec::Prior | InitSpec::ByMethod => self.prior.draw_marginals(seed, i, 0),
                InitSpec::Members(members) => members.row(i).to_owned(),
            };
            row.assign(&self.transform.to_unconstrained(m.view()));
        }
        x
    }

    /// Prior draw number `attempt` of `member`, in the unconstrained space.
    pub fn prior_draw(&self, seed: u64, member: usize, attempt: usize) -> Array1<f64> {
        self.transform
            .to_unconstrained(self.prior.draw_marginals(seed, member, attempt).view())
    }

    /// Everything but the forward model for one member: log prior + log|J| and its gradient
    /// (w.r.t. x, given dm/dx); returns (lp part, m, dm/dx).
    fn prior_part(
        &self,
        x: ArrayView1<f64>,
        grad: Option<ArrayViewMut1<f64>>,
    ) -> (f64, Array1<f64>, Array1<f64>) {
        let p = self.dim();
        let mut m = Array1::zeros(p);
        self.transform.to_physical_into(x, m.view_mut());
        let mut dm_dx = Array1::zeros(p);
        let mut grad_log_det = Array1::zeros(p);
        let log_det =
            self.transform
                .log_det_jacobian_into(x, dm_dx.view_mut(), grad_log_det.view_mut());
        let mut grad_prior_m = Array1::zeros(p);
        let lp = self.prior.log_prob_into(m.view(), grad_prior_m.view_mut()) + log_det;
        if let Some(mut g) = grad {
            for j in 0..p {
                g[j] = grad_prior_m[j] * dm_dx[j] + grad_log_det[j];
            }
        }
        (lp, m, dm_dx)
    }

    fn check_members(&self, x: ArrayView2<f64>) -> Result<()> {
        if x.ncols() != self.dim() {
            return Err(Error::Run(format!(
                "members have {} parameters, the posterior has {}",
                x.ncols(),
                self.dim()
            )));
        }
        Ok(())
    }

    fn selection(&self, batch: &Batch) -> Selection {
        let groups = self.forward.data_groups();
        assert_eq!(batch.active.len(), groups.len(), "one flag per data group");
        let mut weights = Array1::zeros(self.forward.n_data());
        let mut n_selected = 0;
        for (range, &on) in groups.iter().zip(&batch.active) {
            if on {
                weights
                    .slice_mut(ndarray::s![range.clone()])
                    .fill(batch.weight);
                n_selected += range.len();
            }
        }
        Selection {
            active: batch.active.clone(),
            weights,
            n_selected,
        }
    }

    fn evaluate_member(
        &self,
        x: ArrayView1<f64>,
        grad: Option<GradRows>,
        selection: Option<&Selection>,
    ) -> MemberValue {
        let want_grad = grad.is_some();
        let mut grad = grad;
        let (lp_prior, m, dm_dx) = self.prior_part(x, grad.as_mut().map(|g| g.total.view_mut()));
        if let Some(g) = grad.as_mut() {
            g.prior.assign(&g.total);
        }
        if let Some(target) = &self.target {
            return self.target_member(target, lp_prior, m.view(), dm_dx.view(), grad);
        }
        let Some(likelihood) = &self.likelihood else {
            return MemberValue {
                log_prob: lp_prior,
                log_prior: lp_prior,
                log_likelihood: 0.0,
                misfit: f64::NAN,
                failed: !lp_prior.is_finite(),
            };
        };
        let mut d = Array1::zeros(self.forward.n_data());
        let outcome = if want_grad {
            let lin = match selection {
                Some(sel) => self.forward.linearize_groups(m.view(), &sel.active),
                None => self.forward.linearize(m.view()),
            };
            lin.map(|lin| {
                d.assign(&lin.data());
                let mut cot = Array1::zeros(d.len());
                match selection {
                    Some(sel) => likelihood.gradient_weighted_into(
                        d.view(),
                        sel.weights.view(),
                        cot.view_mut(),
                    ),
                    None => likelihood.gradient_into(d.view(), cot.view_mut()),
                }
                let mut g_m = Array1::zeros(m.len());
                lin.vjp_into(cot.view(), g_m.view_mut());
                if let Some(g) = grad.as_mut() {
                    add_likelihood_gradient(g, g_m.view(), dm_dx.view());
                }
            })
        } else {
            match selection {
                Some(sel) => self
                    .forward
                    .forward_groups_into(m.view(), &sel.active, d.view_mut()),
                None => self.forward.forward_into(m.view(), d.view_mut()),
            }
        };
        self.finish_member(lp_prior, d.view(), outcome.is_ok(), grad, selection)
    }

    /// A member's values with an analytic log-likelihood.
    fn target_member(
        &self,
        target: &TargetSpec,
        lp_prior: f64,
        m: ArrayView1<f64>,
        dm_dx: ArrayView1<f64>,
        grad: Option<GradRows>,
    ) -> MemberValue {
        let mut grad = grad;
        let mut g_m = Array1::zeros(m.len());
        let log_likelihood = super::problem::target_log_likelihood(target, m, g_m.view_mut());
        if let Some(g) = grad.as_mut() {
            add_likelihood_gradient(g, g_m.view(), dm_dx);
        }
        member_value(lp_prior, log_likelihood, f64::NAN, true, grad)
    }

    /// A member's values from its prior part (its gradient already in `grad`, the likelihood's
    /// added), its predicted data and whether its forward model succeeded.
    fn finish_member(
        &self,
        lp_prior: f64,
        d: ArrayView1<f64>,
        forward_ok: bool,
        grad: Option<GradRows>,
        selection: Option<&Selection>,
    ) -> MemberValue {
        let likelihood = self.likelihood.as_ref().expect("a likelihood");
        // A batch reports its own χ²/N; its log-likelihood is the weighted estimate of the full one.
        let (chi2, n_misfit, log_likelihood) = match selection {
            Some(sel) => {
                let weighted = likelihood.chi2_weighted(d, sel.weights.view());
                let weight = sel.weights.iter().copied().fold(0.0, f64::max);
                (
                    weighted / weight,
                    sel.n_selected,
                    -0.5 * weighted + likelihood.normalisation(),
                )
            }
            None => {
                let chi2 = likelihood.chi2(d);
                (chi2, likelihood.n_data(), likelihood.log_likelihood(d))
            }
        };
        member_value(
            lp_prior,
            log_likelihood,
            chi2 / n_misfit as f64,
            forward_ok,
            grad,
        )
    }

    /// Evaluates every row of `x`, in parallel over members when `par` says so.
    pub fn evaluate_par(&self, x: ArrayView2<f64>, with_grad: bool, par: Par) -> Evaluation {
        self.evaluate_selection(x, with_grad, par, None)
    }

    fn evaluate_selection(
        &self,
        x: ArrayView2<f64>,
        with_grad: bool,
        par: Par,
        selection: Option<&Selection>,
    ) -> Evaluation {
        self.count_solves(x.nrows(), with_grad);
        if selection.is_none() && self.likelihood.is_some() {
            return self.evaluate_block(x, with_grad, par);
        }
        let mut grads = with_grad.then(|| GradArrays::zeros(x.nrows(), self.dim()));
        let rows: Vec<(ArrayView1<f64>, Option<GradRows>)> = match grads.as_mut() {
            Some(g) => x
                .axis_iter(Axis(0))
                .zip(g.rows().into_iter().map(Some))
                .collect(),
            None => x.axis_iter(Axis(0)).map(|xi| (xi, None)).collect(),
        };
        let member =
            |(xi, gi): (ArrayView1<f64>, Option<GradRows>)| self.evaluate_member(xi, gi, selection);
        let values: Vec<MemberValue> = match par {
            Par::Rayon => rows.into_par_iter().map(member).collect(),
            Par::Seq => rows.into_iter().map(member).collect(),
        };
        Self::collect(values, grads)
    }

    fn collect(values: Vec<MemberValue>, grads: Option<GradArrays>) -> Evaluation {
        let (grad, grad_log_prior, grad_log_likelihood) = match grads {
            Some(g) => (Some(g.total), Some(g.prior), Some(g.likelihood)),
            None => (None, None, None),
        };
        Evaluation {
            log_prob: values.iter().map(|v| v.log_prob).collect(),
            log_prior: values.iter().map(|v| v.log_prior).collect(),
            log_likelihood: values.iter().map(|v| v.log_likelihood).collect(),
            misfit: values.iter().map(|v| v.misfit).collect(),
            failed: values.iter().map(|v| v.failed).collect(),
            grad,
            grad_log_prior,
            grad_log_likelihood,
        }
    }

    /// Every member with all the data: the prior parts member by member, the forward model and
    /// the likelihood's gradient for the whole block in one call of the forward model's batched
    /// interface.
    fn evaluate_block(&self, x: ArrayView2<f64>, with_grad: bool, par: Par) -> Evaluation {
        let likelihood = self.likelihood.as_ref().expect("a likelihood");
        let (n, p) = (x.nrows(), self.dim());
        let mut grads = with_grad.then(|| GradArrays::zeros(n, p));
        let prior_of = |xi: ArrayView1<f64>| {
            let mut g = with_grad.then(|| Array1::zeros(p));
            let (lp, m, dm_dx) = self.prior_part(xi, g.as_mut().map(|g| g.view_mut()));
            (lp, m, dm_dx, g)
        };
        let priors: Vec<_> = match par {
            Par::Rayon => x
                .axis_iter(Axis(0))
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(prior_of)
                .collect(),
            Par::Seq => x.axis_iter(Axis(0)).map(prior_of).collect(),
        };
        let mut m = Array2::zeros((n, p));
        for (i, (_, mi, _, gi)) in priors.iter().enumerate() {
            m.row_mut(i).assign(mi);
            if let (Some(grads), Some(gi)) = (grads.as_mut(), gi) {
                grads.total.row_mut(i).assign(gi);
                grads.prior.row_mut(i).assign(gi);
            }
        }
        let mut d = Array2::zeros((n, self.forward.n_data()));
        let outcomes = match grads.as_mut() {
            Some(grads) => {
                let mut g_m = Array2::zeros((n, p));
                let gradient =
                    |di: ArrayView1<f64>, ci: ArrayViewMut1<f64>| likelihood.gradient_into(di, ci);
                let outcomes = self.forward.value_and_vjp_batch(
                    m.view(),
                    &gradient,
                    d.view_mut(),
                    g_m.view_mut(),
                    par,
                );
                for (i, ((_, _, dm_dx, _), mut rows)) in priors.iter().zip(grads.rows()).enumerate()
                {
                    if outcomes[i].is_ok() {
                        add_likelihood_gradient(&mut rows, g_m.row(i), dm_dx.view());
                    }
                }
                outcomes
            }
            None => self.forward.forward_batch(m.view(), d.view_mut(), par),
        };
        let values: Vec<MemberValue> = match grads.as_mut() {
            Some(g) => priors
                .iter()
                .zip(g.rows())
                .enumerate()
                .map(|(i, ((lp, ..), gi))| {
                    self.finish_member(*lp, d.row(i), outcomes[i].is_ok(), Some(gi), None)
                })
                .collect(),
            None => priors
                .iter()
                .enumerate()
                .map(|(i, (lp, ..))| {
                    self.finish_member(*lp, d.row(i), outcomes[i].is_ok(), None, None)
                })
                .collect(),
        };
        Self::collect(values, grads)
    }
}

/// A member's values, or a failed member (lp = −∞, zero gradient) when its forward model did
/// not succeed or anything came out non-finite.
fn member_value(
    log_prior: f64,
    log_likelihood: f64,
    misfit: f64,
    forward_ok: bool,
    mut grad: Option<GradRows>,
) -> MemberValue {
    let log_prob = log_prior + log_likelihood;
    let ok = forward_ok
        && log_prob.is_finite()
        && grad
            .as_ref()
            .is_none_or(|g| g.total.iter().all(|v| v.is_finite()));
    if !ok {
        if let Some(g) = grad.as_mut() {
            g.zero();
        }
        return MemberValue {
            log_prob: f64::NEG_INFINITY,
            log_prior: f64::NEG_INFINITY,
            log_likelihood: f64::NEG_INFINITY,
            misfit: f64::NAN,
            failed: true,
        };
    }
    MemberValue {
        log_prob,
        log_prior,
        log_likelihood,
        misfit,
        failed: false,
    }
}

/// Adds the likelihood's gradient w.r.t. m, chained to x by dm/dx, to a member's rows.
fn add_likelihood_gradient(g: &mut GradRows, g_m: ArrayView1<f64>, dm_dx: ArrayView1<f64>) {
    for j in 0..g_m.len() {
        let part = g_m[j] * dm_dx[j];
        g.likelihood[j] = part;
        g.total[j] += part;
    }
}

impl LogDensity for Posterior {
    fn dim(&self) -> usize {
        self.prior.dim()
    }

    fn evaluate(&self, x: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation> {
        self.check_members(x)?;
        Ok(self.evaluate_par(x, with_grad, Par::Rayon))
    }

    fn n_data_groups(&self) -> usize {
        self.forward.data_groups().len()
    }

    fn evaluate_batch(
        &self,
        x: ArrayView2<f64>,
        with_grad: bool,
        batch: &Batch,
    ) -> Result<Evaluation> {
        self.evaluate_on(x, with_grad, Par::Rayon, Some(batch))
    }
}

mod models;
#[cfg(test)]
mod tests;
