//! Pure numerics of the forward problems: no MPI, no files, no configuration. Each problem lives
//! in its own folder with its tests; a forward model offers a simulation and the exact
//! vector-Jacobian product of the discrete solver that is implemented.
//!
//! Units: km, s, km/s. Arrays are C-ordered with x fastest.

pub mod analytic;
pub mod dispersion;
pub mod eikonal;
pub mod linear;
pub mod wave;

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::core::error::Error;
use crate::core::parallel::Par;

/// Why a forward model could not be evaluated for a model. A member whose forward model fails is
/// reported per member (lp = -∞), never as an error for the batch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PhysicsError {
    #[error("velocity must be finite and > 0 km/s, but node {node} has {value}")]
    NonPositiveVelocity { node: usize, value: f64 },
    #[error("model parameter {index} is not finite ({value})")]
    NonFiniteParameter { index: usize, value: f64 },
    #[error("the model has {got} parameters, the problem needs {expected}")]
    WrongModelLength { got: usize, expected: usize },
    #[error(
        "velocity {value} km/s at node {node} exceeds {limit} km/s, the stability limit of the time step"
    )]
    Unstable { node: usize, value: f64, limit: f64 },
    #[error("fast marching left node {node} unreached (no causal update found)")]
    Unreached { node: usize },
    #[error("GPU: {0}")]
    Device(String),
    #[error("layer {layer}: {what} is {value}")]
    BadLayer {
        layer: usize,
        what: String,
        value: f64,
    },
}

impl From<PhysicsError> for Error {
    fn from(e: PhysicsError) -> Self {
        Error::Physics(e.to_string())
    }
}

/// What a linearised forward model keeps to apply its transposed Jacobian.
pub trait Linearization: Send {
    /// The predicted data d = F(m) at the linearisation point.
    fn data(&self) -> ArrayView1<'_, f64>;
    /// grad = J(m)ᵀ cotangent, written into `grad` (length n_params), the exact gradient of the
    /// discrete solver.
    fn vjp_into(&self, cotangent: ArrayView1<f64>, grad: ArrayViewMut1<f64>);
}

/// A forward model d = F(m) with its vector-Jacobian product. Batched versions take a block of
/// members (rows) at once, so that a GPU implementation can launch one kernel for the block;
/// the defaults loop over rows with the same per-member code path, so a member's bits do not
/// depend on the batch it is in.
pub trait ForwardModel: Sync {
    fn n_params(&self) -> usize;
    fn n_data(&self) -> usize;

    /// d = F(m) into `d`.
    fn forward_into(&self, m: ArrayView1<f64>, d: ArrayViewMut1<f64>) -> Result<(), PhysicsError>;

    /// Runs the forward model and keeps what the vector-Jacobian product needs.
    fn linearize(&self, m: ArrayView1<f64>) -> Result<Box<dyn Linearization + '_>, PhysicsError>;

    /// The independent groups of the data (the shots of a waveform problem) that a mini-batch
    /// chooses from, as ranges of the data vector: one group by default.
    fn data_groups(&self) -> Vec<std::ops::Range<usize>> {
        std::iter::once(0..self.n_data()).collect()
    }

    /// [`forward_into`](Self::forward_into) for the groups marked `active` only; the data of
    /// the others are unspecified (the default computes everything).
    fn forward_groups_into(
        &self,
        m: ArrayView1<f64>,
        active: &[bool],
        d: ArrayViewMut1<f64>,
    ) -> Result<(), PhysicsError> {
        let _ = active;
        self.forward_into(m, d)
    }

    /// [`linearize`](Self::linearize) for the groups marked `active` only: the data of the
    /// others are unspecified and their cotangents must be zero.
    fn linearize_groups(
        &self,
        m: ArrayView1<f64>,
        active: &[bool],
    ) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        let _ = active;
        self.linearize(m)
    }

    /// Σ_i |∂d_i/∂m_j| per parameter (ray coverage for travel times), from one VJP per datum.
    fn coverage(&self, m: ArrayView1<f64>) -> Result<Array1<f64>, PhysicsError> {
        let lin = self.linearize(m)?;
        let mut total = Array1::zeros(self.n_params());
        let mut cot = Array1::zeros(self.n_data());
        let mut grad = Array1::zeros(self.n_params());
        for i in 0..self.n_data() {
            cot.fill(0.0);
            cot[i] = 1.0;
            lin.vjp_into(cot.view(), grad.view_mut());
            total.zip_mut_with(&grad, |t, g| *t += g.abs());
        }
        Ok(total)
    }

    /// d_i = F(m_i) for every row i.
    fn forward_batch(
        &self,
        m: ArrayView2<f64>,
        d: ArrayViewMut2<f64>,
        par: Par,
    ) -> Vec<Result<(), PhysicsError>> {
        forward_rows(self, m, d, par)
    }

    /// For every row i: d_i = F(m_i), then grad_i = J(m_i)ᵀ c_i where `cotangent(d_i, c_i)`
    /// fills c_i from the predicted data (e.g. the gradient of a misfit).
    fn value_and_vjp_batch(
        &self,
        m: ArrayView2<f64>,
        cotangent: &(dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) + Sync),
        d: ArrayViewMut2<f64>,
        grad: ArrayViewMut2<f64>,
        par: Par,
    ) -> Vec<Result<(), PhysicsError>> {
        value_and_vjp_rows(self, m, cotangent, d, grad, par)
    }
}

/// [`ForwardModel::forward_batch`] row by row (the default, and the fallback of overrides).
pub fn forward_rows<F: ForwardModel + ?Sized>(
    f: &F,
    m: ArrayView2<f64>,
    mut d: ArrayViewMut2<f64>,
    par: Par,
) -> Vec<Result<(), PhysicsError>> {
    let rows = m.axis_iter(Axis(0)).zip(d.axis_iter_mut(Axis(0)));
    match par {
        Par::Seq => rows.map(|(mi, di)| f.forward_into(mi, di)).collect(),
        Par::Rayon => rows
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(mi, di)| f.forward_into(mi, di))
            .collect(),
    }
}

/// [`ForwardModel::value_and_vjp_batch`] row by row (the default, and the fallback of
/// overrides).
pub fn value_and_vjp_rows<F: ForwardModel + ?Sized>(
    f: &F,
    m: ArrayView2<f64>,
    cotangent: &(dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) + Sync),
    mut d: ArrayViewMut2<f64>,
    mut grad: ArrayViewMut2<f64>,
    par: Par,
) -> Vec<Result<(), PhysicsError>> {
    let one = |mi: ArrayView1<f64>, mut di: ArrayViewMut1<f64>, gi: ArrayViewMut1<f64>| {
        let lin = f.linearize(mi)?;
        di.assign(&lin.data());
        let mut cot = Array1::zeros(f.n_data());
        cotangent(di.view(), cot.view_mut());
        lin.vjp_into(cot.view(), gi);
        Ok(())
    };
    let rows = m
        .axis_iter(Axis(0))
        .zip(d.axis_iter_mut(Axis(0)))
        .zip(grad.axis_iter_mut(Axis(0)));
    match par {
        Par::Seq => rows.map(|((mi, di), gi)| one(mi, di, gi)).collect(),
        Par::Rayon => rows
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|((mi, di), gi)| one(mi, di, gi))
            .collect(),
    }
}

/// Checks a model vector's length and finiteness (the common guard of forward models).
pub fn check_model(m: ArrayView1<f64>, expected: usize) -> Result<(), PhysicsError> {
    if m.len() != expected {
        return Err(PhysicsError::WrongModelLength {
            got: m.len(),
            expected,
        });
    }
    match m.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(PhysicsError::NonFiniteParameter {
            index,
            value: m[index],
        }),
        None => Ok(()),
    }
}
