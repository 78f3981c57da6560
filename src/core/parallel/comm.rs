//! The communicator contract: rank identity and the few deterministic collectives the methods
//! need. No floating-point reductions: data are gathered by global index and summed by the
//! caller in index order, so results do not depend on the number of ranks.

use super::Partition;

/// A group of cooperating processes (MPI ranks, or just this one).
pub trait Comm {
    fn rank(&self) -> usize;
    fn size(&self) -> usize;

    /// Concatenates every rank's `local` buffer in rank order into `out`, on every rank.
    /// `counts[r]` is the length of rank r's buffer; `out.len()` is their sum.
    fn all_gather_varcount(&self, local: &[f64], counts: &[usize], out: &mut [f64]);

    /// Copies rank `root`'s bytes to every rank (resizing the buffer where needed).
    fn broadcast_bytes(&self, root: usize, bytes: &mut Vec<u8>);

    fn barrier(&self);

    /// Splits the ranks into groups by `color` (a collective: every rank calls it); each rank
    /// gets the communicator of its group, ranked in the order of the ranks here.
    fn split(&self, color: usize) -> Box<dyn Comm>;

    /// Ends every rank at once with `code` (used when one rank alone hit an error, so that no
    /// rank waits forever in a collective).
    fn abort(&self, code: i32) -> !;

    fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// Gathers the rows each rank owns under `partition` into the full (members × width) block,
    /// on every rank. `local` holds this rank's rows, row-major.
    fn all_gather_rows(&self, partition: &Partition, width: usize, local: &[f64]) -> Vec<f64> {
        debug_assert_eq!(local.len(), partition.owned_count(self.rank()) * width);
        let counts: Vec<usize> = (0..self.size())
            .map(|r| partition.owned_count(r) * width)
            .collect();
        let mut out = vec![0.0; partition.n_members() * width];
        self.all_gather_varcount(local, &counts, &mut out);
        out
    }
}

/// The communicator of a plain run: one process, every collective a copy.
#[derive(Debug, Default, Clone, Copy)]
pub struct SingleProcess;

impl Comm for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather_varcount(&self, local: &[f64], counts: &[usize], out: &mut [f64]) {
        assert_eq!(counts, [local.len()], "single process: one buffer");
        out.copy_from_slice(local);
    }
    fn broadcast_bytes(&self, _root: usize, _bytes: &mut Vec<u8>) {}
    fn barrier(&self) {}
    fn split(&self, _color: usize) -> Box<dyn Comm> {
        Box::new(SingleProcess)
    }
    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}
