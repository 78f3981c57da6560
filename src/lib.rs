//! geobayes: Bayesian geophysical inversion on anything from a laptop to a GPU cluster.
//!
//! Layers, top to bottom (imports point down only): `cli` → `driver` → `inference` →
//! `posterior` → `physics` → `gpu` → `core`. See DESIGN.md in the project's shared documents.
//!
//! Cargo features:
//! - `mpi` (default): distribute ensemble members over MPI ranks (OpenMPI tested). Without it the
//!   binary runs as one process and ignores `mpirun`.
//! - `cuda`: the CUDA kernels of `kernels/` through cudarc (loaded at run time; the build needs no
//!   CUDA toolkit).

pub mod cli;
pub mod core;
pub mod driver;
pub mod gpu;
pub mod inference;
pub mod physics;
pub mod posterior;
