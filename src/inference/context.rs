//! `RunContext`: what a method may use besides its own state — the target density, the run's
//! seed and iteration, the initial members, and the communicator's deterministic collectives
//! (block partition of members, gathers by global index).

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView2};

use rand::RngExt;

use crate::core::error::Result;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::core::parallel::{Comm, Partition};
use crate::posterior::{Batch, Evaluation, LogDensity};

pub struct RunContext<'a> {
    density: &'a dyn LogDensity,
    comm: &'a dyn Comm,
    seed: u64,
    iteration: usize,
    initial_members: Array2<f64>,
    prior_scale: Array1<f64>,
    /// Data groups (shots) per mini-batch; `None`: the full likelihood every iteration.
    batch_size: Option<usize>,
}

impl<'a> RunContext<'a> {
    /// `initial_members` (members × dim, unconstrained) and `prior_scale` (the prior's std per
    /// parameter in the unconstrained space) are computed identically on every rank.
    pub fn new(
        density: &'a dyn LogDensity,
        comm: &'a dyn Comm,
        seed: u64,
        initial_members: Array2<f64>,
        prior_scale: Array1<f64>,
    ) -> Self {
        RunContext {
            density,
            comm,
            seed,
            iteration: 0,
            initial_members,
            prior_scale,
            batch_size: None,
        }
    }

    /// Mini-batches of `size` data groups for the methods that take stochastic gradients.
    pub fn with_batch_size(mut self, size: Option<usize>) -> Self {
        self.batch_size = size.filter(|&k| k < self.density.n_data_groups());
        self
    }

    /// The mini-batch of the current iteration: `batch_size` of the density's data groups,
    /// chosen without replacement from the stream (seed, batch, 0, iteration), so every member
    /// and every rank gets the same one. `None` without mini-batches.
    pub fn batch(&self) -> Option<Batch> {
        let size = self.batch_size?;
        let n = self.density.n_data_groups();
        let mut rng = member_rng(self.seed, Purpose::Batch, 0, self.iteration as u64);
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..size {
            let j = rng.random_range(i..n);
            order.swap(i, j);
        }
        let mut active = vec![false; n];
        for &g in &order[..size] {
            active[g] = true;
        }
        Some(Batch {
            active,
            weight: n as f64 / size as f64,
        })
    }

    pub fn density(&self) -> &dyn LogDensity {
        self.density
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn iteration(&self) -> usize {
        self.iteration
    }

    pub fn set_iteration(&mut self, t: usize) {
        self.iteration = t;
    }

    pub fn initial_members(&self) -> &Array2<f64> {
        &self.initial_members
    }

    pub fn prior_scale(&self) -> &Array1<f64> {
        &self.prior_scale
    }

    /// Global indices of the members this rank owns out of `n_members`.
    pub fn owned(&self, n_members: usize) -> Range<usize> {
        Partition::new(n_members, self.comm.size()).owned(self.comm.rank())
    }

    /// Evaluates the rows of `x` (all members) that this rank owns.
    pub fn evaluate_owned(&self, x: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation> {
        let owned = self.owned(x.nrows());
        self.density
            .evaluate(x.slice(ndarray::s![owned, ..]), with_grad)
    }

    /// [`evaluate_owned`](Self::evaluate_owned) with the likelihood of this iteration's
    /// mini-batch (when the run has mini-batches): for methods that take stochastic gradients.
    pub fn evaluate_owned_batch(&self, x: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation> {
        match self.batch() {
            Some(batch) => {
                let owned = self.owned(x.nrows());
                self.density
                    .evaluate_batch(x.slice(ndarray::s![owned, ..]), with_grad, &batch)
            }
            None => self.evaluate_owned(x, with_grad),
        }
    }

    /// Gathers this rank's rows (owned members × `width`, row-major) into the full
    /// (n_members × width) array on every rank, ordered by global index.
    pub fn gather_rows(&self, n_members: usize, width: usize, local: &[f64]) -> Array2<f64> {
        let partition = Partition::new(n_members, self.comm.size());
        let all = self.comm.all_gather_rows(&partition, width, local);
        Array2::from_shape_vec((n_members, width), all).expect("gathered length")
    }
}
