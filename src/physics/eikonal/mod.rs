//! Travel times by the eikonal equation |∇T| = s (slowness), solved by second-order fast
//! marching on the factored form T = T₀ τ with T₀ = |x − x_s| (so a homogeneous medium is
//! solved exactly and the point-source singularity costs no accuracy), and the exact discrete
//! adjoint of that solver.
//!
//! - `mesh`: regular grids in D dimensions, multilinear interpolation and grid refinement;
//! - `geometry`: the metric of a grid (Cartesian in km, spherical in degrees) and T₀;
//! - `fmm`: the forward solver, which records each node's local rules;
//! - `adjoint`: the transposed solve in reverse acceptance order;
//! - `traveltime`: the tomography forward models (parameter grid → refined grid → times).

pub mod adjoint;
pub mod fmm;
pub mod geometry;
pub mod mesh;
pub mod traveltime;

pub use fmm::{FmmWorkspace, PointSource};
pub use geometry::{Cartesian, Geometry, Spherical};
pub use mesh::Mesh;
pub use traveltime::{SphericalTravelTime, TravelTime2d, TravelTime3d};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_geometries;
