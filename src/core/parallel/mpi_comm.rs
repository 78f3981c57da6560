//! `Comm` over MPI (feature `mpi`), with rsmpi. OpenMPI is the tested implementation.

use mpi::Count;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::Comm;

/// An MPI communicator: the world of a run, which holds the universe (dropping it finalises
/// MPI), or a group split from it (dropped before the world).
pub struct MpiComm {
    world: SimpleCommunicator,
    _universe: Option<mpi::environment::Universe>,
}

impl MpiComm {
    /// Initialises MPI. Returns `None` when MPI was already initialised by someone else.
    /// A binary started without `mpirun` runs as a singleton of size 1.
    pub fn initialize() -> Option<Self> {
        let universe = mpi::initialize()?;
        let world = universe.world();
        Some(MpiComm {
            world,
            _universe: Some(universe),
        })
    }
}

fn to_count(n: usize) -> Count {
    Count::try_from(n).expect("MPI message length exceeds the range of an MPI count")
}

impl Comm for MpiComm {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }
    fn size(&self) -> usize {
        self.world.size() as usize
    }
    fn all_gather_varcount(&self, local: &[f64], counts: &[usize], out: &mut [f64]) {
        let counts: Vec<Count> = counts.iter().map(|&c| to_count(c)).collect();
        let displs: Vec<Count> = counts
            .iter()
            .scan(0, |acc, &c| {
                let start = *acc;
                *acc += c;
                Some(start)
            })
            .collect();
        let mut partition = PartitionMut::new(out, counts, displs);
        self.world.all_gather_varcount_into(local, &mut partition);
    }
    fn broadcast_bytes(&self, root: usize, bytes: &mut Vec<u8>) {
        let root_process = self.world.process_at_rank(root as i32);
        let mut len = bytes.len() as u64;
        root_process.broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        root_process.broadcast_into(&mut bytes[..]);
    }
    fn barrier(&self) {
        self.world.barrier();
    }
    fn split(&self, color: usize) -> Box<dyn Comm> {
        let color = mpi::topology::Color::with_value(i32::try_from(color).expect("a small color"));
        let group = self
            .world
            .split_by_color(color)
            .expect("a rank with a color is in a group");
        Box::new(MpiComm {
            world: group,
            _universe: None,
        })
    }
    fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

/// Makes a panic on any rank end every rank (MPI_Abort), so that no rank waits forever in a
/// collective for a rank that died. The default hook still prints the message first.
pub fn abort_all_ranks_on_panic() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        // SAFETY: MPI is initialised (this is installed after `initialize`); MPI_Abort on the
        // world communicator is valid from any thread and does not return.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 101);
        }
    }));
}
