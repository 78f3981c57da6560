//! Member-keyed random streams: member i at iteration t draws from a ChaCha8 stream seeded from
//! a hash of (seed, purpose, i, t). A fresh seed per tuple (not a word offset into one stream),
//! because Gaussian sampling consumes a variable number of words. The hash is spelled out here
//! (SplitMix64 finalisers over the words) so that streams never change with a dependency.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream is used for; each purpose has its own streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Initial members drawn from the prior.
    Init,
    /// McMC proposals and their accept/reject uniforms.
    Proposal,
    /// Noise added to synthetic data (`forward --noise-seed`).
    Noise,
    /// Mini-batch selection (shots, data) shared by all members.
    Batch,
    /// Monte-Carlo samples of a variational objective (member = sample, per iteration).
    MonteCarlo,
    /// Draws from a fitted variational density for the result.
    Draw,
    /// The accept uniforms of parallel tempering's swaps (member = ladder, iteration = swap
    /// round).
    Swap,
    /// The accept uniform of a Metropolis step of a whole ensemble (member 0, per iteration).
    Accept,
    /// The proposal samples of an importance-sampling evidence estimate (member = sample).
    Evidence,
    /// The chains estimating a smoothing prior's normaliser (member = chain, iteration = rung).
    PriorNormaliser,
}

impl Purpose {
    /// Stable code of the purpose; never renumber (it would change every stream).
    fn code(self) -> u64 {
        match self {
            Purpose::Init => 1,
            Purpose::Proposal => 2,
            Purpose::Noise => 3,
            Purpose::Batch => 4,
            Purpose::MonteCarlo => 5,
            Purpose::Draw => 6,
            Purpose::Swap => 7,
            Purpose::Accept => 8,
            Purpose::Evidence => 9,
            Purpose::PriorNormaliser => 10,
        }
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of `member` at `iteration` for `purpose` under the run's `seed`.
pub fn member_rng(seed: u64, purpose: Purpose, member: u64, iteration: u64) -> ChaCha8Rng {
    let mut state = splitmix64(seed);
    for word in [purpose.code(), member, iteration] {
        state = splitmix64(state ^ splitmix64(word));
    }
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&splitmix64(state.wrapping_add(i as u64)).to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_every_key_and_repeat_for_the_same_key() {
        let draw = |s, p, m, t| member_rng(s, p, m, t).next_u64();
        let base = draw(7, Purpose::Init, 3, 5);
        assert_eq!(base, draw(7, Purpose::Init, 3, 5));
        assert_ne!(base, draw(8, Purpose::Init, 3, 5));
        assert_ne!(base, draw(7, Purpose::Proposal, 3, 5));
        assert_ne!(base, draw(7, Purpose::Init, 4, 5));
        assert_ne!(base, draw(7, Purpose::Init, 3, 6));
        // Swapped member and iteration must not collide.
        assert_ne!(draw(7, Purpose::Init, 3, 5), draw(7, Purpose::Init, 5, 3));
    }
}
