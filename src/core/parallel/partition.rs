//! Block partition of ensemble members over ranks: rank r owns a contiguous range of global
//! indices; the first `n % p` ranks own one member more. A rank may own none.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    n_members: usize,
    n_ranks: usize,
}

impl Partition {
    pub fn new(n_members: usize, n_ranks: usize) -> Self {
        assert!(n_ranks > 0, "a partition needs at least one rank");
        Partition { n_members, n_ranks }
    }

    pub fn n_members(&self) -> usize {
        self.n_members
    }

    /// Global indices owned by `rank`.
    pub fn owned(&self, rank: usize) -> Range<usize> {
        let base = self.n_members / self.n_ranks;
        let extra = self.n_members % self.n_ranks;
        let start = rank * base + rank.min(extra);
        let len = base + usize::from(rank < extra);
        start..start + len
    }

    pub fn owned_count(&self, rank: usize) -> usize {
        self.owned(rank).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_members_in_order() {
        for n in 0..12 {
            for p in 1..6 {
                let part = Partition::new(n, p);
                let mut next = 0;
                for r in 0..p {
                    let range = part.owned(r);
                    assert_eq!(range.start, next);
                    next = range.end;
                    assert!(range.len() == n / p || range.len() == n / p + 1);
                }
                assert_eq!(next, n);
            }
        }
    }
}
