//! Travel times by the eikonal equation |∇T| = s (slowness), solved by second-order fast
//! marching on the factored form T = T₀ τ with T₀ = |x − x_s| (so a homogeneous medium is
//! solved exactly and the point-source singularity costs no accuracy), and the exact discrete
//! adjoint of that solver.
//!
//! - `mesh`: regular grids in D dimensions, multilinear interpolation and grid refinement;
//! - `geometry`: the metric of a grid (Cartesian in km, spherical in degrees) and T₀;
//! - `fmm`: the forward solver, which records each node's local rules;
//! - `adjoint`: the transposed solve in reverse acceptance order;
//! - `traveltime`: the tomography forward models (parameter grid → refined grid → times);
//!   `traveltime_device` their member blocks on the GPU (feature `cuda`).

pub mod adjoint;
pub mod fmm;
pub mod geometry;
mod heap;
pub mod mesh;
pub mod traveltime;
#[cfg(feature = "cuda")]
mod traveltime_device;

pub use fmm::{FmmWorkspace, PointSource};
pub use geometry::{Cartesian, Geometry, Spherical};
pub use mesh::Mesh;
pub use traveltime::{SphericalTravelTime, TravelTime2d, TravelTime3d};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_geometries;

/// Test helper: the fast-marching solve for a velocity given as a function of grid coordinates.
#[cfg(test)]
pub(crate) fn solve_for_velocity<const D: usize, G: Geometry<D>>(
    geo: &G,
    velocity: impl Fn([f64; D]) -> f64,
    source: [f64; D],
) -> FmmWorkspace<D> {
    let mesh = geo.mesh();
    let slowness: Vec<f64> = (0..mesh.n_nodes())
        .map(|i| 1.0 / velocity(mesh.position(i)))
        .collect();
    let mut ws = FmmWorkspace::new(mesh);
    ws.solve(
        geo,
        &slowness,
        &PointSource {
            position: source,
            slowness: 1.0 / velocity(source),
        },
    )
    .expect("positive test velocities");
    ws
}
