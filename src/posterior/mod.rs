//! The posterior: prior + bounded→unconstrained transform + likelihood + forward model, as a
//! `LogDensity` over the unconstrained space that every method samples or optimises.
//!
//! Members are rows of a 2-D array. A member whose forward model fails (or gives a non-finite
//! value) gets lp = -∞ and a zero gradient and is flagged in `Evaluation::failed`; it is never an
//! error for the batch.

mod density;
mod likelihood;
mod prior;
mod problem;
mod transform;

use ndarray::{Array1, Array2, ArrayView2};

use crate::core::error::Result;

pub use density::Posterior;
pub use likelihood::GaussianLikelihood;
pub use prior::Prior;
pub use problem::{build_forward_model, param_coordinates};
pub use transform::Transform;

/// Per-member results of one batched evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// log p(x | d) up to a constant in the unconstrained space (Jacobian included).
    pub log_prob: Array1<f64>,
    /// Total log-likelihood (0 without a likelihood).
    pub log_likelihood: Array1<f64>,
    /// χ²/N of the predicted data (NaN without a likelihood).
    pub misfit: Array1<f64>,
    /// ∂ log_prob / ∂x when asked for.
    pub grad: Option<Array2<f64>>,
    pub failed: Vec<bool>,
}

/// A mini-batch of data groups (shots): the groups that take part, each weighted by
/// n_groups / batch size so that the batch's log-likelihood is an unbiased estimate of the full
/// one. The same for every member of an iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub active: Vec<bool>,
    pub weight: f64,
}

/// log p(m | d) up to a constant, and its gradient, for every row of `x`.
pub trait LogDensity: Sync {
    fn dim(&self) -> usize;

    /// Evaluates every row; with `with_grad` also the gradient.
    fn evaluate(&self, x: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation>;

    /// The number of data groups a mini-batch chooses from (1: no mini-batches).
    fn n_data_groups(&self) -> usize {
        1
    }

    /// Evaluates every row with the likelihood of a mini-batch of data groups (log-likelihood
    /// and misfit of the batch; the full evaluation by default).
    fn evaluate_batch(
        &self,
        x: ArrayView2<f64>,
        with_grad: bool,
        batch: &Batch,
    ) -> Result<Evaluation> {
        let _ = batch;
        self.evaluate(x, with_grad)
    }

    fn log_prob(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        Ok(self.evaluate(x, false)?.log_prob)
    }

    fn log_prob_grad(&self, x: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
        let e = self.evaluate(x, true)?;
        Ok((e.log_prob, e.grad.expect("asked for the gradient")))
    }
}
