//! Travel times by the eikonal equation |∇T| = s (slowness), solved by second-order fast
//! marching on the factored form T = T₀ τ with T₀ = |x − x_s| (so a homogeneous medium is
//! solved exactly and the point-source singularity costs no accuracy), and the exact discrete
//! adjoint of that solver.
//!
//! - `mesh`: regular grids in D dimensions, multilinear interpolation and grid refinement;
//! - `fmm`: the forward solver, which records each node's upwind stencil;
//! - `adjoint`: the transposed solve in reverse acceptance order;
//! - `traveltime2d`: the 2D tomography forward model (parameter grid → refined grid → times).

pub mod adjoint;
pub mod fmm;
pub mod mesh;
pub mod traveltime2d;

pub use fmm::{FmmWorkspace, PointSource};
pub use mesh::Mesh;
pub use traveltime2d::TravelTime2d;

#[cfg(test)]
mod tests;
