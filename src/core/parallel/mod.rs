//! Distribution of ensemble members over processes, and the randomness that belongs to members.
//!
//! `Comm` is the only door to MPI; `Partition` says which members a rank owns; `rng` gives each
//! (seed, purpose, member, iteration) its own stream, so that results do not depend on the
//! number of ranks.

mod comm;
#[cfg(feature = "mpi")]
mod mpi_comm;
mod partition;
pub mod rng;

pub use comm::{Comm, SingleProcess};
#[cfg(feature = "mpi")]
pub use mpi_comm::{MpiComm, abort_all_ranks_on_panic};
pub use partition::Partition;

/// How a physics or linear-algebra routine may use threads. Results are bit-identical for both
/// choices wherever a routine says so in its doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Par {
    /// Run on the calling thread.
    Seq,
    /// Use the current rayon pool.
    Rayon,
}
