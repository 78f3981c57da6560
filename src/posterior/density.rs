//! `Posterior`: the composition of prior, transform, likelihood and forward model, evaluated
//! for a block of members: the forward model takes the whole block at once
//! (`ForwardModel::value_and_vjp_batch`, one device batch where the physics has kernels, else
//! members in parallel with rayon), a mini-batch of data groups member by member. Each member
//! goes through the same operations either way, so its bits do not depend on the block.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis};
use rayon::prelude::*;

use super::likelihood::GaussianLikelihood;
use super::prior::Prior;
use super::transform::Transform;
use super::{Batch, Evaluation, LogDensity};
use crate::core::config::spec::{InitSpec, LikelihoodKind, RunSpec};
use crate::core::error::{Error, Result};
use crate::core::parallel::Par;
use crate::physics::ForwardModel;

pub struct Posterior {
    prior: Prior,
    transform: Transform,
    likelihood: Option<GaussianLikelihood>,
    forward: Box<dyn ForwardModel>,
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
        Ok(Self::new(Prior::new(prior_spec), likelihood, forward))
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
            forward,
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
                InitSpec::Prior => self.prior.draw_marginals(seed, i, 0),
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
        grad: Option<ArrayViewMut1<f64>>,
        selection: Option<&Selection>,
    ) -> MemberValue {
        let want_grad = grad.is_some();
        let mut grad = grad;
        let (lp_prior, m, dm_dx) = self.prior_part(x, grad.as_mut().map(|g| g.view_mut()));
        let Some(likelihood) = &self.likelihood else {
            return MemberValue {
                log_prob: lp_prior,
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
                    for j in 0..m.len() {
                        g[j] += g_m[j] * dm_dx[j];
                    }
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

    /// A member's values from its prior part (its gradient already in `grad`, the likelihood's
    /// added), its predicted data and whether its forward model succeeded.
    fn finish_member(
        &self,
        lp_prior: f64,
        d: ArrayView1<f64>,
        forward_ok: bool,
        grad: Option<ArrayViewMut1<f64>>,
        selection: Option<&Selection>,
    ) -> MemberValue {
        let mut grad = grad;
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
        let log_prob = lp_prior + log_likelihood;
        let ok = forward_ok
            && log_prob.is_finite()
            && grad
                .as_ref()
                .is_none_or(|g| g.iter().all(|v| v.is_finite()));
        if !ok {
            if let Some(g) = grad.as_mut() {
                g.fill(0.0);
            }
            return MemberValue {
                log_prob: f64::NEG_INFINITY,
                log_likelihood: f64::NEG_INFINITY,
                misfit: f64::NAN,
                failed: true,
            };
        }
        MemberValue {
            log_prob,
            log_likelihood,
            misfit: chi2 / n_misfit as f64,
            failed: false,
        }
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
        if selection.is_none() && self.likelihood.is_some() {
            return self.evaluate_block(x, with_grad, par);
        }
        let n = x.nrows();
        let mut grad = with_grad.then(|| Array2::zeros((n, self.dim())));
        let values: Vec<MemberValue> = match (&mut grad, par) {
            (Some(g), Par::Rayon) => {
                let rows: Vec<_> = x.axis_iter(Axis(0)).zip(g.axis_iter_mut(Axis(0))).collect();
                rows.into_par_iter()
                    .map(|(xi, gi)| self.evaluate_member(xi, Some(gi), selection))
                    .collect()
            }
            (Some(g), Par::Seq) => x
                .axis_iter(Axis(0))
                .zip(g.axis_iter_mut(Axis(0)))
                .map(|(xi, gi)| self.evaluate_member(xi, Some(gi), selection))
                .collect(),
            (None, Par::Rayon) => x
                .axis_iter(Axis(0))
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|xi| self.evaluate_member(xi, None, selection))
                .collect(),
            (None, Par::Seq) => x
                .axis_iter(Axis(0))
                .map(|xi| self.evaluate_member(xi, None, selection))
                .collect(),
        };
        Self::collect(values, grad)
    }

    fn collect(values: Vec<MemberValue>, grad: Option<Array2<f64>>) -> Evaluation {
        Evaluation {
            log_prob: values.iter().map(|v| v.log_prob).collect(),
            log_likelihood: values.iter().map(|v| v.log_likelihood).collect(),
            misfit: values.iter().map(|v| v.misfit).collect(),
            failed: values.iter().map(|v| v.failed).collect(),
            grad,
        }
    }

    /// Every member with all the data: the prior parts member by member, the forward model and
    /// the likelihood's gradient for the whole block in one call of the forward model's batched
    /// interface.
    fn evaluate_block(&self, x: ArrayView2<f64>, with_grad: bool, par: Par) -> Evaluation {
        let likelihood = self.likelihood.as_ref().expect("a likelihood");
        let (n, p) = (x.nrows(), self.dim());
        let mut grad = with_grad.then(|| Array2::zeros((n, p)));
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
            if let (Some(grad), Some(gi)) = (grad.as_mut(), gi) {
                grad.row_mut(i).assign(gi);
            }
        }
        let mut d = Array2::zeros((n, self.forward.n_data()));
        let outcomes = match grad.as_mut() {
            Some(grad) => {
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
                for (i, (_, _, dm_dx, _)) in priors.iter().enumerate() {
                    if outcomes[i].is_ok() {
                        for j in 0..p {
                            grad[[i, j]] += g_m[[i, j]] * dm_dx[j];
                        }
                    }
                }
                outcomes
            }
            None => self.forward.forward_batch(m.view(), d.view_mut(), par),
        };
        let values: Vec<MemberValue> = match grad.as_mut() {
            Some(g) => priors
                .iter()
                .zip(g.axis_iter_mut(Axis(0)))
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
        Self::collect(values, grad)
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
        self.check_members(x)?;
        if self.likelihood.is_none() {
            return self.evaluate(x, with_grad);
        }
        let selection = self.selection(batch);
        Ok(self.evaluate_selection(x, with_grad, Par::Rayon, Some(&selection)))
    }
}
