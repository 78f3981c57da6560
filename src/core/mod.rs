//! The bottom layer: errors, configuration types and validation, file I/O (arrays, HDF5 results,
//! atomic writes), parallel infrastructure (communicator, partitions, member-keyed random
//! streams) and small dense linear algebra. Nothing here knows about physics or methods.

pub mod config;
pub mod error;
pub mod io;
pub mod linalg;
pub mod parallel;
pub mod simd;
pub mod state;
pub mod stencil;
pub mod testing_hooks;
