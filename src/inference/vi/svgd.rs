//! Stein variational gradient descent (Liu & Wang 2016) with an RBF kernel
//! k(x, y) = exp(−‖x − y‖² / h):
//!
//! ```text
//!   φ(x_i) = (1/N) Σ_j [ k(x_j, x_i) ∇ log p(x_j) + (2/h) (x_i − x_j) k(x_j, x_i) ]
//! ```
//!
//! with h = multiplier · median_{i<j} ‖x_i − x_j‖² / ln(N + 1) (or fixed), and an Adam or SGD
//! ascent step with optional step decay. Each rank evaluates the particles it owns; scores are
//! gathered by global index, each rank computes φ for its own particles with a sequential sum over
//! all j, and the φ's are gathered so that every rank applies the same update to every particle.
//! A particle whose forward model fails stays in place and is left out of the sums for that step.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use crate::core::config::spec::{BandwidthSpec, OptimizerKind, SvgdSpec};
use crate::core::error::{Error, Result};
use crate::inference::{Method, MethodState, RunContext, Samples, StepStats, mean_over_ok};

pub struct Svgd {
    spec: SvgdSpec,
    dim: usize,
    /// Current particles (after the last update), unconstrained.
    x: Array2<f64>,
    adam_m: Array2<f64>,
    adam_v: Array2<f64>,
    /// Positions where lp was last evaluated, with their values: what the output holds.
    x_eval: Array2<f64>,
    lp: Array1<f64>,
    log_likelihood: Array1<f64>,
    failed: Vec<bool>,
}

impl Svgd {
    pub fn new(spec: SvgdSpec, dim: usize) -> Self {
        let n = spec.n_particles;
        Svgd {
            dim,
            x: Array2::zeros((n, dim)),
            adam_m: Array2::zeros((n, dim)),
            adam_v: Array2::zeros((n, dim)),
            x_eval: Array2::zeros((n, dim)),
            lp: Array1::from_elem(n, f64::NAN),
            log_likelihood: Array1::from_elem(n, f64::NAN),
            failed: vec![false; n],
            spec,
        }
    }

    /// Step size at iteration t (0-based) after decay.
    pub fn step_size(&self, t: usize) -> f64 {
        match self.spec.decay {
            Some((factor, every)) => self.spec.step_size * factor.powi((t / every) as i32),
            None => self.spec.step_size,
        }
    }
}

/// Squared distance between two rows, summed in index order.
fn squared_distance(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    let mut d = 0.0;
    for k in 0..a.len() {
        let diff = a[k] - b[k];
        d += diff * diff;
    }
    d
}

/// The median-heuristic bandwidth over the particles in `ok`: multiplier · median of the
/// squared distances of pairs i < j / ln(N + 1) (numpy's median); 1 · multiplier when every
/// pair coincides or fewer than two particles are usable.
pub fn median_bandwidth(x: ArrayView2<f64>, ok: &[usize], multiplier: f64) -> f64 {
    let mut d2 = Vec::with_capacity(ok.len() * ok.len().saturating_sub(1) / 2);
    for (a, &i) in ok.iter().enumerate() {
        for &j in &ok[a + 1..] {
            d2.push(squared_distance(x.row(i), x.row(j)));
        }
    }
    if d2.is_empty() {
        return multiplier;
    }
    d2.sort_by(f64::total_cmp);
    let n = d2.len();
    let median = if n % 2 == 1 {
        d2[n / 2]
    } else {
        (d2[n / 2 - 1] + d2[n / 2]) / 2.0
    };
    if median > 0.0 {
        multiplier * median / ((ok.len() as f64) + 1.0).ln()
    } else {
        multiplier
    }
}

/// φ(x_i) for particle i over the usable particles `ok`, into `phi`.
fn stein_direction_into(
    x: ArrayView2<f64>,
    score: ArrayView2<f64>,
    ok: &[usize],
    h: f64,
    i: usize,
    phi: &mut [f64],
) {
    phi.fill(0.0);
    let xi = x.row(i);
    for &j in ok {
        let xj = x.row(j);
        let k = (-squared_distance(xi, xj) / h).exp();
        let sj = score.row(j);
        for c in 0..phi.len() {
            phi[c] += k * sj[c] + 2.0 / h * (xi[c] - xj[c]) * k;
        }
    }
    let inv_n = 1.0 / ok.len() as f64;
    for p in phi.iter_mut() {
        *p *= inv_n;
    }
}

impl Method for Svgd {
    fn name(&self) -> &'static str {
        "svgd"
    }

    fn n_members(&self) -> usize {
        self.spec.n_particles
    }

    fn iterations(&self) -> usize {
        self.spec.iterations
    }

    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        self.x.assign(ctx.initial_members());
        self.x_eval.assign(&self.x);
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, d) = (self.spec.n_particles, self.dim);
        let t = ctx.iteration();
        let owned = ctx.owned(n);

        // Scores of the owned particles, gathered by global index: [score, lp, loglik, misfit, failed].
        let eval = ctx.evaluate_owned_batch(self.x.view(), true)?;
        let width = d + 4;
        let grad = eval.grad.as_ref().expect("asked for the gradient");
        let mut local = Vec::with_capacity(owned.len() * width);
        for r in 0..owned.len() {
            local.extend(grad.row(r).iter());
            local.extend([
                eval.log_prob[r],
                eval.log_likelihood[r],
                eval.misfit[r],
                f64::from(u8::from(eval.failed[r])),
            ]);
        }
        let all = ctx.gather_rows(n, width, &local);
        let score = all.slice(s![.., ..d]);
        let failed: Vec<bool> = all.column(d + 3).iter().map(|&f| f > 0.5).collect();
        let ok: Vec<usize> = (0..n).filter(|&i| !failed[i]).collect();
        let n_failed = n - ok.len();
        if n_failed as f64 > self.spec.max_failed_fraction * n as f64 {
            return Err(Error::Run(format!(
                "iteration {t}: the forward model failed for {n_failed} of {n} particles (more than method.max_failed_fraction = {}); check the prior bounds and the model",
                self.spec.max_failed_fraction
            )));
        }

        let h = match self.spec.bandwidth {
            BandwidthSpec::Median { multiplier } => {
                median_bandwidth(self.x.view(), &ok, multiplier)
            }
            BandwidthSpec::Fixed(h) => h,
        };
        let mut phi_local = vec![0.0; owned.len() * d];
        for (r, i) in owned.clone().enumerate() {
            if !failed[i] {
                stein_direction_into(
                    self.x.view(),
                    score,
                    &ok,
                    h,
                    i,
                    &mut phi_local[r * d..(r + 1) * d],
                );
            }
        }
        let phi = ctx.gather_rows(n, d, &phi_local);

        self.x_eval.assign(&self.x);
        self.lp.assign(&all.column(d));
        self.log_likelihood.assign(&all.column(d + 1));
        self.failed.clone_from(&failed);

        let lr = self.step_size(t);
        let adam = self.spec.adam;
        let (bias1, bias2) = (
            1.0 - adam.beta1.powi(t as i32 + 1),
            1.0 - adam.beta2.powi(t as i32 + 1),
        );
        for &i in &ok {
            for c in 0..d {
                let g = phi[[i, c]];
                match self.spec.optimizer {
                    OptimizerKind::Sgd => self.x[[i, c]] += lr * g,
                    OptimizerKind::Adam => {
                        let m = adam.beta1 * self.adam_m[[i, c]] + (1.0 - adam.beta1) * g;
                        let v = adam.beta2 * self.adam_v[[i, c]] + (1.0 - adam.beta2) * g * g;
                        self.adam_m[[i, c]] = m;
                        self.adam_v[[i, c]] = v;
                        self.x[[i, c]] += lr * (m / bias1) / ((v / bias2).sqrt() + adam.eps);
                    }
                }
            }
        }
        Ok(StepStats {
            misfit: mean_over_ok(all.column(d + 2).iter().copied(), &failed),
            lp_mean: mean_over_ok(all.column(d).iter().copied(), &failed),
            step_size: Some(lr),
            bandwidth: Some(h),
            acceptance: None,
            n_failed,
        })
    }

    fn finish(&mut self, ctx: &mut RunContext) -> Result<()> {
        let n = self.spec.n_particles;
        let eval = ctx.evaluate_owned(self.x.view(), false)?;
        let local: Vec<f64> = (0..eval.log_prob.len())
            .flat_map(|r| {
                [
                    eval.log_prob[r],
                    eval.log_likelihood[r],
                    f64::from(u8::from(eval.failed[r])),
                ]
            })
            .collect();
        let all = ctx.gather_rows(n, 3, &local);
        self.x_eval.assign(&self.x);
        self.lp.assign(&all.column(0));
        self.log_likelihood.assign(&all.column(1));
        self.failed = all.column(2).iter().map(|&f| f > 0.5).collect();
        Ok(())
    }

    fn samples(&self) -> Samples {
        let (n, d) = (self.spec.n_particles, self.dim);
        Samples {
            draws: self
                .x_eval
                .clone()
                .into_shape_with_order((1, n, d))
                .expect("particles reshape"),
            lp: self.lp.clone().insert_axis(Axis(0)),
            log_likelihood: self.log_likelihood.clone().insert_axis(Axis(0)),
            n_failed: Array2::from_shape_fn((1, n), |(_, i)| i64::from(self.failed[i])),
            accepted: None,
            acceptance_rate: None,
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        state.put("particles", self.x.clone().into_dyn());
        state.put("adam_m", self.adam_m.clone().into_dyn());
        state.put("adam_v", self.adam_v.clone().into_dyn());
        state.put("evaluated_particles", self.x_eval.clone().into_dyn());
        state.put("lp", self.lp.clone().into_dyn());
        state.put("log_likelihood", self.log_likelihood.clone().into_dyn());
        state.put(
            "failed",
            Array1::from_iter(self.failed.iter().map(|&f| f64::from(u8::from(f)))).into_dyn(),
        );
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, d) = (self.spec.n_particles, self.dim);
        let as2 = |name: &str| -> Result<Array2<f64>> {
            Ok(state
                .array(name, &[n, d])?
                .into_dimensionality()
                .expect("checked shape"))
        };
        let as1 = |name: &str| -> Result<Array1<f64>> {
            Ok(state
                .array(name, &[n])?
                .into_dimensionality()
                .expect("checked shape"))
        };
        self.x = as2("particles")?;
        self.adam_m = as2("adam_m")?;
        self.adam_v = as2("adam_v")?;
        self.x_eval = as2("evaluated_particles")?;
        self.lp = as1("lp")?;
        self.log_likelihood = as1("log_likelihood")?;
        self.failed = as1("failed")?.iter().map(|&f| f > 0.5).collect();
        Ok(())
    }
}
