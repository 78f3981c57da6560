//! Parallel tempering's ladder, independent of the explorer that moves each chain (MH's random
//! walk for `pt`, RJ-McMC's moves for tempered RJ chains).
//!
//! `chains` independent ladders of `n_temperatures` chains each target p(m) p(d | m)^β_i with
//! β₀ = 0 (the prior, exactly) < … < β_N = 1; slot c·T + i holds ladder c's chain at β_i.
//! Swaps are non-reversible (deterministic even/odd, Syed et al. 2021): swap round k attempts
//! the pairs (i, i + 1) with i ≡ k (mod 2), each accepted with α = min(1, exp((β_{i+1} − β_i)
//! (ℓ_i − ℓ_{i+1}))), ℓ the log-likelihood, its uniform from the stream (seed, swap, ladder, k).
//! Every swap round also adds the Rao-Blackwellised rejection 1 − α of every pair, attempted or
//! not; their sums r_i estimate the communication barrier Λ(β_{i+1}) − Λ(β_i) (to O(Δβ³)).
//!
//! The adaptive schedule (Syed et al., Algorithm 4): burn-in is cut into `rounds` of doubling
//! length; after each, the ladder is re-placed so that the cumulative barrier Λ — piecewise
//! linear through (β_i, Σ_{j<i} r_j) — rises by Λ(1)/N between neighbours. The last round ends
//! with burn-in: the ladder is frozen after it, and only then do swap statistics, round trips
//! and the per-β log-likelihood series (kept in `tempering/` for the evidence estimators)
//! accumulate.

mod keys;

use ndarray::{Array1, Array2, Array3, ArrayD};
use rand::RngExt;

use crate::core::error::Result;
use crate::core::io::hdf5_util::AttrValue;
use crate::core::io::names::{group, var};
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::{KeptGroup, MethodState, Trace};
pub use keys::{ScheduleKeys, TemperingKeys, TemperingSpec};

/// The iteration at which adaptation round `r` of `rounds` ends: rounds double in length and
/// the last ends with burn-in.
pub(super) fn round_end(r: usize, rounds: usize, burn_in: usize) -> usize {
    let total = (1u128 << rounds) - 1;
    ((burn_in as u128 * ((1u128 << (r + 1)) - 1)) / total) as usize
}

/// The ladder re-placed so that the piecewise-linear cumulative barrier through
/// (β_i, Σ_{j<i} r_j) rises equally between neighbours; unchanged when no swap was ever rejected.
pub fn equalised_ladder(betas: &[f64], rejection: &[f64]) -> Vec<f64> {
    let n = betas.len() - 1;
    let mut barrier = vec![0.0; n + 1];
    for i in 0..n {
        barrier[i + 1] = barrier[i] + rejection[i].max(0.0);
    }
    let total = barrier[n];
    if total <= 0.0 || !total.is_finite() {
        return betas.to_vec();
    }
    let mut out = vec![0.0; n + 1];
    let mut j = 0;
    for (k, beta) in out.iter_mut().enumerate().take(n).skip(1) {
        let target = total * k as f64 / n as f64;
        while barrier[j + 1] < target {
            j += 1;
        }
        let w = (target - barrier[j]) / (barrier[j + 1] - barrier[j]);
        *beta = betas[j] + w * (betas[j + 1] - betas[j]);
    }
    out[n] = 1.0;
    out
}

/// The ladder's state: β's, schedule, swap statistics, replicas' round trips and the post-burn-in
/// log-likelihood series.
#[derive(Debug, Clone, PartialEq)]
pub struct Tempering {
    spec: TemperingSpec,
    betas: Vec<f64>,
    /// The ladder at the start and after each adaptation round.
    schedule: Vec<Vec<f64>>,
    /// Σ over swap rounds and ladders of 1 − α per pair, and the number of terms, since the
    /// last re-placement (burn-in) or since the ladder froze.
    rejection_sum: Vec<f64>,
    rejection_terms: f64,
    /// After burn-in: attempted and accepted swaps per pair.
    attempted: Vec<f64>,
    accepted: Vec<f64>,
    /// The replica in each slot, whether each replica has reached β = 1 since it last left
    /// β = 0, and the round trips per ladder after burn-in.
    replica: Vec<usize>,
    reached_top: Vec<bool>,
    round_trips: Vec<f64>,
    /// (draw, ladder, temperature) log-likelihoods after burn-in, flat.
    series: Vec<f64>,
    n_series: usize,
    last_swap_acceptance: f64,
}

impl Tempering {
    pub fn new(spec: TemperingSpec) -> Self {
        let t = spec.n_temperatures;
        let slots = t * spec.chains;
        Tempering {
            betas: spec.initial_betas.clone(),
            schedule: vec![spec.initial_betas.clone()],
            rejection_sum: vec![0.0; t - 1],
            rejection_terms: 0.0,
            attempted: vec![0.0; t - 1],
            accepted: vec![0.0; t - 1],
            replica: (0..slots).collect(),
            reached_top: vec![false; slots],
            round_trips: vec![0.0; spec.chains],
            series: Vec::new(),
            n_series: 0,
            last_swap_acceptance: f64::NAN,
            spec,
        }
    }

    pub fn n_slots(&self) -> usize {
        self.spec.n_temperatures * self.spec.chains
    }

    /// The slot of ladder `c` at temperature `i`.
    pub fn slot(&self, c: usize, i: usize) -> usize {
        c * self.spec.n_temperatures + i
    }

    /// The slots at β = 1, one per ladder.
    pub fn posterior_slots(&self) -> Vec<usize> {
        let top = self.spec.n_temperatures - 1;
        (0..self.spec.chains).map(|c| self.slot(c, top)).collect()
    }

    /// The slots at temperature i, one per ladder.
    pub fn slots_at(&self, i: usize) -> Vec<usize> {
        (0..self.spec.chains).map(|c| self.slot(c, i)).collect()
    }

    pub fn beta(&self, slot: usize) -> f64 {
        self.betas[slot % self.spec.n_temperatures]
    }

    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// The swap round after iteration `t`, if there is one.
    fn swap_round(&self, t: usize) -> Option<usize> {
        ((t + 1).is_multiple_of(self.spec.swap_every)).then(|| (t + 1) / self.spec.swap_every - 1)
    }

    /// After the explorers' iteration `t`: the swap round (when due) on the slots'
    /// log-likelihoods. Returns the pairs of slots whose states the caller exchanges, in order
    /// (the ladder has already exchanged its replicas and their log-likelihoods in `ll`).
    pub fn swap(&mut self, seed: u64, t: usize, ll: &mut [f64]) -> Vec<(usize, usize)> {
        let Some(k) = self.swap_round(t) else {
            return Vec::new();
        };
        let after_burn_in = t >= self.spec.burn_in;
        let n = self.spec.n_temperatures;
        let mut swaps = Vec::new();
        let (mut tried, mut taken) = (0usize, 0usize);
        for c in 0..self.spec.chains {
            let mut rng = member_rng(seed, Purpose::Swap, c as u64, k as u64);
            // Every pair's acceptance from the states before the round's swaps.
            let alphas: Vec<f64> = (0..n - 1)
                .map(|i| {
                    let (a, b) = (self.slot(c, i), self.slot(c, i + 1));
                    ((self.betas[i + 1] - self.betas[i]) * (ll[a] - ll[b]))
                        .min(0.0)
                        .exp()
                })
                .collect();
            for (i, &alpha) in alphas.iter().enumerate() {
                self.rejection_sum[i] += 1.0 - alpha;
                if i % 2 != k % 2 {
                    continue;
                }
                let (a, b) = (self.slot(c, i), self.slot(c, i + 1));
                let accept = rng.random::<f64>() < alpha;
                tried += 1;
                if after_burn_in {
                    self.attempted[i] += 1.0;
                }
                if accept {
                    taken += 1;
                    if after_burn_in {
                        self.accepted[i] += 1.0;
                    }
                    ll.swap(a, b);
                    self.replica.swap(a, b);
                    swaps.push((a, b));
                }
            }
            let (bottom, top) = (
                self.replica[self.slot(c, 0)],
                self.replica[self.slot(c, n - 1)],
            );
            self.reached_top[top] = true;
            if self.reached_top[bottom] {
                self.reached_top[bottom] = false;
                if after_burn_in {
                    self.round_trips[c] += 1.0;
                }
            }
        }
        self.rejection_terms += self.spec.chains as f64;
        self.last_swap_acceptance = taken as f64 / tried.max(1) as f64;
        swaps
    }

    /// After iteration `t` and its swaps: keeps the log-likelihoods `ll` of every slot for a
    /// retained draw, re-places the ladder at the end of an adaptation round, and starts the
    /// frozen ladder's statistics when burn-in ends.
    pub fn end_iteration(&mut self, t: usize, ll: &[f64]) {
        let spec = &self.spec;
        if t >= spec.burn_in && (t + 1 - spec.burn_in).is_multiple_of(spec.thin) {
            self.series.extend_from_slice(ll);
            self.n_series += 1;
        }
        let round = self.schedule.len() - 1;
        let adapting = round < spec.rounds;
        if adapting && t + 1 == round_end(round, spec.rounds, spec.burn_in) {
            self.betas = equalised_ladder(&self.betas, &self.rejection_rates());
            self.schedule.push(self.betas.clone());
            self.reset_rejections();
        } else if spec.rounds == 0 && t + 1 == spec.burn_in {
            self.reset_rejections();
        }
    }

    fn reset_rejections(&mut self) {
        self.rejection_sum.iter_mut().for_each(|r| *r = 0.0);
        self.rejection_terms = 0.0;
    }

    /// Mean Rao-Blackwellised rejection per pair since the last reset.
    fn rejection_rates(&self) -> Vec<f64> {
        let terms = self.rejection_terms.max(1.0);
        self.rejection_sum.iter().map(|r| r / terms).collect()
    }

    /// Λ(β_i) = Σ_{j<i} r_j.
    fn barrier(&self) -> Vec<f64> {
        let mut out = vec![0.0];
        for r in self.rejection_rates() {
            out.push(out[out.len() - 1] + r);
        }
        out
    }

    /// The step's tempering traces: the latest swap round's acceptance and Λ(1) so far.
    pub fn traces(&self) -> [(Trace, f64); 2] {
        let barrier = self.barrier();
        [
            (Trace::SwapAcceptance, self.last_swap_acceptance),
            (Trace::Barrier, barrier[barrier.len() - 1]),
        ]
    }

    /// The kept `tempering/` group, with the explorer's acceptance rate after burn-in per β.
    pub fn kept(&self, explorer_acceptance: Array1<f64>) -> KeptGroup {
        let (n, c, k) = (self.spec.n_temperatures, self.spec.chains, self.n_series);
        let per_beta =
            Array3::from_shape_fn((n, c, k), |(i, ch, j)| self.series[(j * c + ch) * n + i]);
        let schedule =
            Array2::from_shape_fn((self.schedule.len(), n), |(r, i)| self.schedule[r][i]);
        let ratio: Vec<f64> = self
            .accepted
            .iter()
            .zip(&self.attempted)
            .map(|(a, t)| if *t > 0.0 { a / t } else { f64::NAN })
            .collect();
        let barrier = self.barrier();
        let dyn1 = |v: Vec<f64>| Array1::from(v).into_dyn();
        KeptGroup {
            name: group::TEMPERING,
            attrs: vec![
                ("swap_every".into(), AttrValue::Int(self.spec.swap_every as i64)),
                ("swap_rounds".into(), AttrValue::Int((self.rejection_terms / c as f64) as i64)),
                ("global_barrier".into(), AttrValue::Float(barrier[n - 1])),
                (
                    "note".into(),
                    AttrValue::Text(
                        "log_likelihood is (beta, chain, draw) on the frozen ladder betas; barrier and rates after burn-in".into(),
                    ),
                ),
            ],
            arrays: vec![
                (var::BETAS.into(), dyn1(self.betas.clone())),
                (var::LOG_LIKELIHOOD.into(), per_beta.into_dyn()),
                (var::SWAP_ACCEPTANCE.into(), dyn1(ratio)),
                (var::REJECTION_RATE.into(), dyn1(self.rejection_rates())),
                (var::BARRIER.into(), dyn1(barrier)),
                (var::ROUND_TRIPS.into(), dyn1(self.round_trips.clone())),
                (var::EXPLORER_ACCEPTANCE.into(), explorer_acceptance.into_dyn()),
                (var::SCHEDULE.into(), schedule.into_dyn()),
            ],
        }
    }

    pub fn checkpoint(&self, state: &mut MethodState) {
        let v = |x: &[f64]| Array1::from(x.to_vec()).into_dyn();
        let flags =
            |x: &[bool]| Array1::from_iter(x.iter().map(|&b| f64::from(u8::from(b)))).into_dyn();
        let n = self.spec.n_temperatures;
        let schedule: Vec<f64> = self.schedule.iter().flatten().copied().collect();
        state.put(
            "tempering.schedule",
            ArrayD::from_shape_vec(vec![self.schedule.len(), n], schedule).expect("rows of n"),
        );
        state.put("tempering.rejection_sum", v(&self.rejection_sum));
        state.put_scalar("tempering.rejection_terms", self.rejection_terms);
        state.put("tempering.attempted", v(&self.attempted));
        state.put("tempering.accepted", v(&self.accepted));
        state.put(
            "tempering.replica",
            Array1::from_iter(self.replica.iter().map(|&r| r as f64)).into_dyn(),
        );
        state.put("tempering.reached_top", flags(&self.reached_top));
        state.put("tempering.round_trips", v(&self.round_trips));
        state.put(
            "tempering.series",
            ArrayD::from_shape_vec(vec![self.n_series, self.n_slots()], self.series.clone())
                .expect("one row per draw"),
        );
        state.put_scalar("tempering.last_swap_acceptance", self.last_swap_acceptance);
    }

    pub fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, slots) = (self.spec.n_temperatures, self.n_slots());
        let rows = state.len_of("tempering.schedule", 0)?;
        let schedule = state.array2("tempering.schedule", [rows, n])?;
        self.schedule = schedule.rows().into_iter().map(|r| r.to_vec()).collect();
        self.betas = self.schedule[rows - 1].clone();
        self.rejection_sum = state.array1("tempering.rejection_sum", n - 1)?.to_vec();
        self.rejection_terms = state.scalar("tempering.rejection_terms")?;
        self.attempted = state.array1("tempering.attempted", n - 1)?.to_vec();
        self.accepted = state.array1("tempering.accepted", n - 1)?.to_vec();
        self.replica = state
            .array1("tempering.replica", slots)?
            .iter()
            .map(|&r| r as usize)
            .collect();
        self.reached_top = state
            .array1("tempering.reached_top", slots)?
            .iter()
            .map(|&f| f > 0.5)
            .collect();
        self.round_trips = state
            .array1("tempering.round_trips", self.spec.chains)?
            .to_vec();
        self.n_series = state.len_of("tempering.series", 0)?;
        self.series = state
            .array2("tempering.series", [self.n_series, slots])?
            .iter()
            .copied()
            .collect();
        self.last_swap_acceptance = state.scalar("tempering.last_swap_acceptance")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(n_temperatures: usize, chains: usize, rounds: usize, burn_in: usize) -> TemperingSpec {
        TemperingSpec {
            n_temperatures,
            chains,
            swap_every: 1,
            initial_betas: (0..n_temperatures)
                .map(|i| i as f64 / (n_temperatures - 1) as f64)
                .collect(),
            rounds,
            burn_in,
            thin: 1,
        }
    }

    #[test]
    fn rounds_double_in_length_and_the_last_ends_with_burn_in() {
        let ends: Vec<usize> = (0..3).map(|r| round_end(r, 3, 70)).collect();
        assert_eq!(ends, [10, 30, 70]);
    }

    #[test]
    fn the_equalised_ladder_inverts_the_piecewise_linear_barrier() {
        // Λ = 0, 0.3, 0.4 at β = 0, 0.5, 1: Λ(1)/2 = 0.2 is reached at β = 0.5 · 0.2/0.3.
        let b = equalised_ladder(&[0.0, 0.5, 1.0], &[0.3, 0.1]);
        assert_eq!(b[0], 0.0);
        assert!((b[1] - 1.0 / 3.0).abs() < 1e-15, "{b:?}");
        assert_eq!(b[2], 1.0);
        // An even barrier leaves the ladder where it is; no rejections leave it too.
        let even = equalised_ladder(&[0.0, 0.25, 0.5, 0.75, 1.0], &[0.1; 4]);
        for (x, y) in even.iter().zip([0.0, 0.25, 0.5, 0.75, 1.0]) {
            assert!((x - y).abs() < 1e-15);
        }
        assert_eq!(
            equalised_ladder(&[0.0, 0.2, 1.0], &[0.0, 0.0]),
            [0.0, 0.2, 1.0]
        );
    }

    #[test]
    fn swap_rounds_alternate_even_and_odd_pairs_and_add_every_pairs_rejection() {
        let mut ladder = Tempering::new(spec(5, 1, 0, 0));
        // Equal log-likelihoods: every attempted swap is accepted (α = 1, no rejection).
        let mut ll = vec![-1.0; 5];
        let even = ladder.swap(1, 0, &mut ll);
        assert_eq!(even, [(0, 1), (2, 3)]);
        assert_eq!(ladder.replica, [1, 0, 3, 2, 4]);
        let odd = ladder.swap(1, 1, &mut ll);
        assert_eq!(odd, [(1, 2), (3, 4)]);
        assert_eq!(ladder.replica, [1, 3, 0, 4, 2]);
        assert_eq!(ladder.rejection_sum, [0.0; 4]);
        // Rejections are Rao-Blackwellised over all pairs, swapped or not: 1 − min(1, α) with
        // α = exp((β_{i+1} − β_i)(ℓ_i − ℓ_{i+1})).
        let mut fresh = Tempering::new(spec(3, 1, 0, 0));
        let mut ll = vec![-1.0, -3.0, -2.0];
        fresh.swap(7, 0, &mut ll);
        // Pair 0: ℓ₀ > ℓ₁, α = 1; pair 1: (β₂ − β₁)(ℓ₁ − ℓ₂) = 0.5 · (−1).
        let expected = [0.0, 1.0 - (-0.5f64).exp()];
        assert_eq!(fresh.rejection_sum, expected);
        assert_eq!(fresh.rejection_terms, 1.0);
    }

    #[test]
    fn a_replica_that_goes_up_and_comes_back_makes_one_round_trip() {
        // Two temperatures, equal log-likelihoods: pair (0, 1) swaps in every even round.
        let mut ladder = Tempering::new(TemperingSpec {
            swap_every: 1,
            ..spec(2, 1, 0, 0)
        });
        let mut ll = vec![0.0; 2];
        for k in 0..4 {
            ladder.swap(3, k, &mut ll);
        }
        // Replica 0 reached the top in round 0 and came back in round 2: one round trip.
        // Replica 1 started at the top, went down and up again: not a round trip (it never
        // started from the bottom).
        assert_eq!(ladder.replica, [0, 1]);
        assert_eq!(ladder.round_trips, [1.0]);
    }
}
