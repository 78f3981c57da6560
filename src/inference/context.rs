//! `RunContext`: what a method may use besides its own state — the posterior and its parts
//! (prior, transform, likelihood, forward model), the run's seed and iteration, the initial
//! members, the rank's thread pool, and the communicator's deterministic collectives: the block
//! partition of members, gathers of whole evaluations by global index, and the blocked sum whose
//! blocks never depend on the rank count. It also counts the forward and adjoint solves.

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView2, s};

use rand::RngExt;

use crate::core::error::Result;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::core::parallel::{Comm, Par, Partition};
use crate::physics::ForwardModel;
use crate::posterior::{
    Batch, Evaluation, GaussianLikelihood, LogDensity, Posterior, Prior, Transform,
};

pub struct RunContext<'a> {
    posterior: &'a Posterior,
    comm: &'a dyn Comm,
    par: Par,
    seed: u64,
    iteration: usize,
    initial_members: Array2<f64>,
    prior_scale: Array1<f64>,
    /// Data groups (shots) per mini-batch; `None`: the full likelihood every iteration.
    batch_size: Option<usize>,
}

impl<'a> RunContext<'a> {
    /// `initial_members` (members × dim, unconstrained) are computed identically on every rank.
    pub fn new(
        posterior: &'a Posterior,
        comm: &'a dyn Comm,
        par: Par,
        seed: u64,
        initial_members: Array2<f64>,
    ) -> Self {
        RunContext {
            posterior,
            comm,
            par,
            seed,
            iteration: 0,
            initial_members,
            prior_scale: posterior.prior().unconstrained_std(),
            batch_size: None,
        }
    }

    /// Mini-batches of `size` data groups for the methods that take stochastic gradients.
    pub fn with_batch_size(mut self, size: Option<usize>) -> Self {
        self.batch_size = size.filter(|&k| k < self.posterior.n_data_groups());
        self
    }

    /// The mini-batch of the current iteration: `batch_size` of the density's data groups,
    /// chosen without replacement from the stream (seed, batch, 0, iteration), so every member
    /// and every rank gets the same one. `None` without mini-batches.
    pub fn batch(&self) -> Option<Batch> {
        let size = self.batch_size?;
        let n = self.posterior.n_data_groups();
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

    /// The target: log p(x | d) in the unconstrained space.
    pub fn density(&self) -> &dyn LogDensity {
        self.posterior
    }

    pub fn posterior(&self) -> &Posterior {
        self.posterior
    }

    pub fn prior(&self) -> &Prior {
        self.posterior.prior()
    }

    pub fn transform(&self) -> &Transform {
        self.posterior.transform()
    }

    /// The likelihood (`None` for a prior-only run).
    pub fn likelihood(&self) -> Option<&GaussianLikelihood> {
        self.posterior.likelihood()
    }

    pub fn forward_model(&self) -> &dyn ForwardModel {
        self.posterior.forward_model()
    }

    /// The rank's thread pool.
    pub fn par(&self) -> Par {
        self.par
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

    /// The prior's std per parameter in the unconstrained space.
    pub fn prior_scale(&self) -> &Array1<f64> {
        &self.prior_scale
    }

    pub fn n_ranks(&self) -> usize {
        self.comm.size()
    }

    /// Global indices of the members this rank owns out of `n_members`.
    pub fn owned(&self, n_members: usize) -> Range<usize> {
        Partition::new(n_members, self.comm.size()).owned(self.comm.rank())
    }

    /// Evaluates `rows` (members of this rank) with the full likelihood, on the rank's pool.
    pub fn evaluate(&self, rows: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation> {
        self.posterior.evaluate_on(rows, with_grad, self.par, None)
    }

    /// Evaluates `rows` (members of this rank) with this iteration's mini-batch when the run
    /// has them: for methods that take stochastic gradients.
    pub fn evaluate_stochastic(
        &self,
        rows: ArrayView2<f64>,
        with_grad: bool,
    ) -> Result<Evaluation> {
        let batch = self.batch();
        self.posterior
            .evaluate_on(rows, with_grad, self.par, batch.as_ref())
    }

    /// Evaluates the rows of `x` (all members) that this rank owns.
    pub fn evaluate_owned(&self, x: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation> {
        let owned = self.owned(x.nrows());
        self.evaluate(x.slice(s![owned, ..]), with_grad)
    }

    /// [`evaluate_owned`](Self::evaluate_owned) with the likelihood of this iteration's
    /// mini-batch (when the run has mini-batches): for methods that take stochastic gradients.
    pub fn evaluate_owned_batch(&self, x: ArrayView2<f64>, with_grad: bool) -> Result<Evaluation> {
        let owned = self.owned(x.nrows());
        self.evaluate_stochastic(x.slice(s![owned, ..]), with_grad)
    }

    /// Gathers this rank's evaluation of its owned members (out of `n_members`) into the
    /// evaluation of every member on every rank, ordered by global index.
    /// Every rank must hold the same gradients (drop the parts a method does not need before
    /// the gather: they travel with it).
    pub fn gather_evaluation(&self, n_members: usize, local: &Evaluation) -> Evaluation {
        let partition = Partition::new(n_members, self.comm.size());
        let present = local.gradients_present();
        let dim = self.posterior.dim();
        let width = Evaluation::packed_width(present, dim);
        let all = self.comm.all_gather_rows(&partition, width, &local.pack());
        Evaluation::unpack(&all, present, dim)
    }

    /// Gathers this rank's rows (owned members × `width`, row-major) into the full
    /// (n_members × width) array on every rank, ordered by global index.
    pub fn gather_rows(&self, n_members: usize, width: usize, local: &[f64]) -> Array2<f64> {
        let partition = Partition::new(n_members, self.comm.size());
        let all = self.comm.all_gather_rows(&partition, width, local);
        Array2::from_shape_vec((n_members, width), all).expect("gathered length")
    }

    /// The members this rank owns when `n_members` are dealt out to the ranks in whole blocks
    /// of `block` (the last block may be shorter), for [`blocked_sum`](Self::blocked_sum).
    pub fn owned_in_blocks(&self, n_members: usize, block: usize) -> Range<usize> {
        let blocks =
            Partition::new(n_members.div_ceil(block), self.comm.size()).owned(self.comm.rank());
        (blocks.start * block).min(n_members)..(blocks.end * block).min(n_members)
    }

    /// Σ over all `n_members` of per-member vectors of length `width`, the same bits for any
    /// number of ranks: `local` holds this rank's members ([`owned_in_blocks`]) row after row;
    /// each block is summed in member order, the block sums are gathered and summed in block
    /// order. The block size is the method's, never derived from the rank count.
    ///
    /// [`owned_in_blocks`]: Self::owned_in_blocks
    pub fn blocked_sum(
        &self,
        n_members: usize,
        block: usize,
        width: usize,
        local: &[f64],
    ) -> Vec<f64> {
        let owned = self.owned_in_blocks(n_members, block);
        assert_eq!(local.len(), owned.len() * width, "one row per owned member");
        let sums = block_sums(local, owned.len(), block, width);
        let n_blocks = n_members.div_ceil(block);
        // One rank owns every block: no gather (and no copy of the block sums).
        let all = if self.comm.size() == 1 {
            sums
        } else {
            let partition = Partition::new(n_blocks, self.comm.size());
            self.comm.all_gather_rows(&partition, width, &sums)
        };
        let mut total = vec![0.0; width];
        for b in 0..n_blocks {
            for (t, v) in total.iter_mut().zip(&all[b * width..(b + 1) * width]) {
                *t += v;
            }
        }
        total
    }

    /// Forward and adjoint solves of this run so far, over all ranks.
    pub fn solve_counts(&self) -> (u64, u64) {
        let (forward, adjoint) = self.posterior.solve_counts();
        let partition = Partition::new(self.comm.size(), self.comm.size());
        let all = self
            .comm
            .all_gather_rows(&partition, 2, &[forward as f64, adjoint as f64]);
        let sum = |k: usize| all.iter().skip(k).step_by(2).map(|&v| v as u64).sum();
        (sum(0), sum(1))
    }
}

/// Sums of consecutive blocks of `block` rows (the last may be shorter) of a row-major array of
/// `rows` × `width`, each in row order.
fn block_sums(values: &[f64], rows: usize, block: usize, width: usize) -> Vec<f64> {
    let mut sums = Vec::with_capacity(rows.div_ceil(block) * width);
    for start in (0..rows).step_by(block) {
        let mut sum = vec![0.0; width];
        for r in start..(start + block).min(rows) {
            for (s, v) in sum.iter_mut().zip(&values[r * width..(r + 1) * width]) {
                *s += v;
            }
        }
        sums.extend(sum);
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sums_add_rows_in_order_within_each_block() {
        let v: Vec<f64> = (0..10).map(f64::from).collect(); // 5 rows × 2
        assert_eq!(
            block_sums(&v, 5, 2, 2),
            vec![2.0, 4.0, 10.0, 12.0, 8.0, 9.0]
        );
    }
}
