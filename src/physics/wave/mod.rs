//! Acoustic waves for full-waveform inversion: the constant-density wave equation
//! (1/c²) u_tt − Δu = f, second order in time and order 2, 4 or 8 in space, in 2D and 3D, with
//! CPML absorbing layers, and its exact discrete adjoint.
//!
//! - `float`: the wavefield float type (f32 in production, f64 in tests);
//! - `fwi`: the full-waveform forward model (free cells → traces of every shot, and the gradient);
//!   `fwi_device`: its shots on the GPU (feature `cuda`);
//! - stencils, stability limit and sampling rule: `core::stencil` (shared with the config checks);
//! - `grid`: the padded grid, model extension into the CPML, source/receiver weights;
//! - `cpml`: the absorbing layer's coefficients;
//! - `propagator`: one forward step and its transpose;
//! - `modelling`: shots, traces, the checkpointed adjoint-state gradient and Born modelling;
//! - `wavelet`: Ricker.

pub mod cpml;
pub mod float;
pub mod fwi;
#[cfg(feature = "cuda")]
mod fwi_device;
pub mod grid;
pub mod modelling;
pub mod propagator;
mod rows;
pub mod wavelet;

pub use crate::core::stencil::SpaceOrder;
pub use float::WaveFloat;
pub use grid::WaveGrid;
pub use modelling::{Shot, Traces, WaveSolver};
pub use propagator::{AdjointWork, Propagator, WaveState};

#[cfg(test)]
mod tests;
