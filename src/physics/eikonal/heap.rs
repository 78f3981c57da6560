//! The front of the fast marching: a binary min-heap of trial nodes keyed by their travel time
//! (ties to the smaller node index, so the acceptance order is deterministic), with each node's
//! slot kept so that a key can move up or down when a trial node is recomputed.

/// A binary min-heap of trial nodes keyed by their time (ties by node index), keys stored
/// inline, with each node's slot kept so that its key can move either way.
pub(crate) struct TrialHeap {
    entries: Vec<(f64, u32)>,
    slot: Vec<u32>,
}

const NO_SLOT: u32 = u32::MAX;

impl TrialHeap {
    pub(crate) fn new(n: usize) -> Self {
        TrialHeap {
            entries: Vec::with_capacity(1024),
            slot: vec![NO_SLOT; n],
        }
    }

    pub(crate) fn clear(&mut self) {
        for &(_, n) in &self.entries {
            self.slot[n as usize] = NO_SLOT;
        }
        self.entries.clear();
    }

    #[inline]
    fn less(a: (f64, u32), b: (f64, u32)) -> bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
    }

    #[inline]
    fn place(&mut self, pos: usize, entry: (f64, u32)) {
        self.entries[pos] = entry;
        self.slot[entry.1 as usize] = pos as u32;
    }

    fn sift_up(&mut self, mut pos: usize, entry: (f64, u32)) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            let p = self.entries[parent];
            if !Self::less(entry, p) {
                break;
            }
            self.place(pos, p);
            pos = parent;
        }
        self.place(pos, entry);
    }

    fn sift_down(&mut self, mut pos: usize, entry: (f64, u32)) {
        let n = self.entries.len();
        loop {
            let left = 2 * pos + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && Self::less(self.entries[right], self.entries[left]) {
                right
            } else {
                left
            };
            let c = self.entries[child];
            if !Self::less(c, entry) {
                break;
            }
            self.place(pos, c);
            pos = child;
        }
        self.place(pos, entry);
    }

    /// Inserts `node` with key `time`, or moves it to its new key.
    pub(crate) fn upsert(&mut self, time: f64, node: u32) {
        let entry = (time, node);
        let slot = self.slot[node as usize];
        if slot == NO_SLOT {
            self.entries.push(entry);
            let pos = self.entries.len() - 1;
            self.sift_up(pos, entry);
        } else {
            let pos = slot as usize;
            let old = self.entries[pos];
            if Self::less(entry, old) {
                self.sift_up(pos, entry);
            } else {
                self.sift_down(pos, entry);
            }
        }
    }

    pub(crate) fn pop(&mut self) -> Option<u32> {
        let (_, top) = *self.entries.first()?;
        let last = self.entries.pop().expect("non-empty");
        self.slot[top as usize] = NO_SLOT;
        if !self.entries.is_empty() {
            self.sift_down(0, last);
        }
        Some(top)
    }
}
