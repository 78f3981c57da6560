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

pub use density::{ModelFit, Posterior};
pub use likelihood::GaussianLikelihood;
pub use prior::Prior;
pub use problem::{build_forward_model, param_coordinates, parameter_grid};
pub use transform::Transform;

/// Per-member results of one batched evaluation. log_prob = log_prior + log_likelihood, and
/// likewise the gradients, so that tempering (log_prior + β log_likelihood) and prior
/// replacement can use the parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// log p(x | d) up to a constant in the unconstrained space (Jacobian included).
    pub log_prob: Array1<f64>,
    /// log p(m(x)) + log|dm/dx|: the prior in the unconstrained space.
    pub log_prior: Array1<f64>,
    /// Total log-likelihood (0 without a likelihood).
    pub log_likelihood: Array1<f64>,
    /// χ²/N of the predicted data (NaN without a likelihood).
    pub misfit: Array1<f64>,
    /// ∂ log_prob / ∂x when asked for, and its prior and likelihood parts.
    pub grad: Option<Array2<f64>>,
    pub grad_log_prior: Option<Array2<f64>>,
    pub grad_log_likelihood: Option<Array2<f64>>,
    pub failed: Vec<bool>,
}

/// Values per member in a packed row, before the gradients.
const PACKED_VALUES: usize = 5;

impl Evaluation {
    pub fn len(&self) -> usize {
        self.log_prob.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log_prob.is_empty()
    }

    pub fn has_grad(&self) -> bool {
        self.grad.is_some()
    }

    /// Which gradients the evaluation holds: the total, the prior's and the likelihood's.
    pub fn gradients_present(&self) -> [bool; 3] {
        [
            self.grad.is_some(),
            self.grad_log_prior.is_some(),
            self.grad_log_likelihood.is_some(),
        ]
    }

    /// The width of a packed row of a target of dimension `dim`.
    pub fn packed_width(present: [bool; 3], dim: usize) -> usize {
        PACKED_VALUES + dim * present.iter().filter(|&&p| p).count()
    }

    /// The evaluation as rows of equal width (for gathers): the values, then the gradients it
    /// holds, in the order of [`gradients_present`](Self::gradients_present).
    pub fn pack(&self) -> Vec<f64> {
        let p = [&self.grad, &self.grad_log_prior, &self.grad_log_likelihood]
            .into_iter()
            .flatten()
            .next()
            .map_or(0, |g| g.ncols());
        let width = Self::packed_width(self.gradients_present(), p);
        let mut rows = Vec::with_capacity(self.len() * width);
        for i in 0..self.len() {
            rows.extend([
                self.log_prob[i],
                self.log_prior[i],
                self.log_likelihood[i],
                self.misfit[i],
                f64::from(u8::from(self.failed[i])),
            ]);
            for g in [&self.grad, &self.grad_log_prior, &self.grad_log_likelihood]
                .into_iter()
                .flatten()
            {
                rows.extend(g.row(i).iter());
            }
        }
        rows
    }

    /// The inverse of [`pack`](Self::pack): `rows` of members of a target of dimension `dim`.
    pub fn unpack(rows: &[f64], present: [bool; 3], dim: usize) -> Self {
        let width = Self::packed_width(present, dim);
        assert_eq!(rows.len() % width, 0, "whole packed rows");
        let n = rows.len() / width;
        let column = |k: usize| Array1::from_iter((0..n).map(|i| rows[i * width + k]));
        let mut offset = PACKED_VALUES;
        let mut grad = |k: usize| {
            present[k].then(|| {
                let start = offset;
                offset += dim;
                Array2::from_shape_fn((n, dim), |(i, j)| rows[i * width + start + j])
            })
        };
        let (grad, grad_log_prior, grad_log_likelihood) = (grad(0), grad(1), grad(2));
        Evaluation {
            log_prob: column(0),
            log_prior: column(1),
            log_likelihood: column(2),
            misfit: column(3),
            failed: (0..n).map(|i| rows[i * width + 4] > 0.5).collect(),
            grad,
            grad_log_prior,
            grad_log_likelihood,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_evaluations_unpack_to_the_same_values() {
        let e = Evaluation {
            log_prob: Array1::from(vec![-1.0, f64::NEG_INFINITY]),
            log_prior: Array1::from(vec![-0.5, f64::NEG_INFINITY]),
            log_likelihood: Array1::from(vec![-0.5, f64::NEG_INFINITY]),
            misfit: Array1::from(vec![0.25, f64::NAN]),
            grad: Some(Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64)),
            grad_log_prior: None,
            grad_log_likelihood: Some(Array2::from_elem((2, 3), 0.5)),
            failed: vec![false, true],
        };
        let back = Evaluation::unpack(&e.pack(), e.gradients_present(), 3);
        assert_eq!(back.log_prob, e.log_prob);
        assert_eq!(back.grad, e.grad);
        assert_eq!(back.grad_log_prior, None);
        assert_eq!(back.grad_log_likelihood, e.grad_log_likelihood);
        assert_eq!(back.failed, e.failed);
        assert!(back.misfit[1].is_nan());
    }
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
