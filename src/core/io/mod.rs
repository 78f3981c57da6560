//! Files in and out: array and table files (`.npy`, text), atomic writes, and the HDF5 result
//! file (its names in `names`, writer in `output`, reader in `results`).

pub mod arrays;
pub mod atomic;
pub mod hdf5_util;
pub mod names;
pub mod output;
pub mod results;
