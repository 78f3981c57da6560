//! log Z from the per-β log-likelihood series of a temperature ladder 0 = β₀ < … < β_N = 1
//! (the `tempering/` group of a parallel-tempering run: the β = 0 end samples the normalised
//! prior, so the result is log Z itself):
//!
//! - stepping-stone (Xie et al. 2011): log Z = Σᵢ log E_βᵢ[exp((βᵢ₊₁ − βᵢ) ℓ)], each ratio an
//!   importance-sampling estimate from the draws at βᵢ (its Pareto k̂ says whether the rungs are
//!   close enough);
//! - thermodynamic integration: log Z = ∫₀¹ E_β[ℓ] dβ by the trapezoidal rule, with its
//!   discretisation error estimated as the difference to the rule on every other β.
//!
//! The rungs are correlated through the swaps and each series through the Markov chain, so the
//! Monte-Carlo error is that of batch means of the whole estimator over `BATCHES` contiguous
//! time blocks (all chains and rungs together), never an iid formula. The effective sample size
//! reported is the draws per rung times the ratio of the iid (delta-method) variance to the
//! batch-means variance.

use std::ops::Range;

use ndarray::ArrayView3;

use super::Estimate;
use super::psis::{khat_threshold, log_sum_exp, psis};

/// Time blocks of the batch-means error.
pub const BATCHES: usize = 20;
/// Fewer draws per chain than this make the blocks too short for batch means.
pub const MIN_DRAWS: usize = 10 * BATCHES;

/// A ladder's series: `betas` (increasing, from 0 to 1) and `ll` (β, chain, draw).
#[derive(Debug, Clone, Copy)]
pub struct Ladder<'a> {
    pub betas: &'a [f64],
    pub ll: ArrayView3<'a, f64>,
}

impl Ladder<'_> {
    fn draws(&self) -> usize {
        self.ll.dim().2
    }

    /// The values ℓ at rung i over the draws `range` of every chain.
    fn values(&self, i: usize, range: Range<usize>) -> impl Iterator<Item = f64> + '_ {
        let rung = self.ll.index_axis(ndarray::Axis(0), i);
        (0..rung.nrows()).flat_map(move |c| range.clone().map(move |j| rung[[c, j]]))
    }

    fn rung_mean(&self, i: usize, range: Range<usize>) -> f64 {
        let n = (range.len() * self.ll.dim().1) as f64;
        self.values(i, range).sum::<f64>() / n
    }

    /// log E_βᵢ[exp(Δβ ℓ)] over `range`.
    fn log_ratio(&self, i: usize, range: Range<usize>) -> f64 {
        let delta = self.betas[i + 1] - self.betas[i];
        let terms: Vec<f64> = self.values(i, range.clone()).map(|l| delta * l).collect();
        log_sum_exp(&terms) - (terms.len() as f64).ln()
    }

    fn stepping_stone_over(&self, range: Range<usize>) -> f64 {
        (0..self.betas.len() - 1)
            .map(|i| self.log_ratio(i, range.clone()))
            .sum()
    }

    /// The trapezoidal rule over the rungs `rungs` (increasing, from 0 to the last).
    fn trapezoid_over(&self, rungs: &[usize], range: Range<usize>) -> f64 {
        let means: Vec<f64> = rungs
            .iter()
            .map(|&i| self.rung_mean(i, range.clone()))
            .collect();
        rungs
            .windows(2)
            .zip(means.windows(2))
            .map(|(r, m)| (self.betas[r[1]] - self.betas[r[0]]) * 0.5 * (m[0] + m[1]))
            .sum()
    }

    /// The standard error of `estimator` by batch means over `BATCHES` time blocks.
    fn batch_means_error(&self, estimator: impl Fn(Range<usize>) -> f64) -> f64 {
        let k = self.draws();
        let batches = BATCHES.min(k);
        let values: Vec<f64> = (0..batches)
            .map(|b| estimator(b * k / batches..(b + 1) * k / batches))
            .collect();
        let mean = values.iter().sum::<f64>() / batches as f64;
        let var =
            values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (batches - 1) as f64;
        (var / batches as f64).sqrt()
    }

    /// The information E_β=1[ℓ] − log Z.
    fn information(&self, log_z: f64) -> f64 {
        self.rung_mean(self.betas.len() - 1, 0..self.draws()) - log_z
    }

    /// A note when the series are too short for batch means.
    fn length_note(&self) -> Option<String> {
        (self.draws() < MIN_DRAWS).then(|| {
            format!(
                "{} draws per chain and rung: batch means over {BATCHES} blocks needs ≥ {MIN_DRAWS}",
                self.draws()
            )
        })
    }
}

/// The stepping-stone estimate of a ladder.
pub fn stepping_stone(ladder: &Ladder) -> Estimate {
    let all = 0..ladder.draws();
    let log_z = ladder.stepping_stone_over(all.clone());
    let error = ladder.batch_means_error(|r| ladder.stepping_stone_over(r));
    // Per rung: the iid delta-method variance of log r̂ and the Pareto k̂ of its weights.
    let per_rung = (ladder.ll.dim().1 * ladder.draws()) as f64;
    let (mut iid_var, mut khat) = (0.0, f64::NEG_INFINITY);
    for i in 0..ladder.betas.len() - 1 {
        let delta = ladder.betas[i + 1] - ladder.betas[i];
        let log_w: Vec<f64> = ladder.values(i, all.clone()).map(|l| delta * l).collect();
        khat = khat.max(psis(&log_w).khat);
        let log_mean = log_sum_exp(&log_w) - per_rung.ln();
        let relative: Vec<f64> = log_w.iter().map(|v| (v - log_mean).exp()).collect();
        let var = relative.iter().map(|w| (w - 1.0) * (w - 1.0)).sum::<f64>() / (per_rung - 1.0);
        iid_var += var / per_rung;
    }
    let threshold = khat_threshold(per_rung as usize);
    let note = ladder.length_note().or_else(|| {
        (khat > threshold).then(|| {
            format!("a rung's weights have Pareto k̂ {khat:.2} > {threshold:.2}: the ladder needs more temperatures")
        })
    });
    Estimate {
        log_z,
        error,
        information: ladder.information(log_z),
        ess: per_rung * iid_var / (error * error),
        khat,
        discretisation_error: f64::NAN,
        note,
    }
}

/// The thermodynamic-integration estimate of a ladder; its error includes the discretisation
/// error (root sum of squares with the Monte-Carlo error).
pub fn thermodynamic(ladder: &Ladder) -> Estimate {
    let n = ladder.betas.len();
    let all = 0..ladder.draws();
    let rungs: Vec<usize> = (0..n).collect();
    let mut coarse: Vec<usize> = (0..n).step_by(2).collect();
    if coarse.last() != Some(&(n - 1)) {
        coarse.push(n - 1);
    }
    let log_z = ladder.trapezoid_over(&rungs, all.clone());
    let discretisation = (log_z - ladder.trapezoid_over(&coarse, all.clone())).abs();
    let mc = ladder.batch_means_error(|r| ladder.trapezoid_over(&rungs, r));
    // The iid variance of the trapezoidal sum: Σ wᵢ² Var(ℓ at βᵢ) / draws.
    let per_rung = (ladder.ll.dim().1 * ladder.draws()) as f64;
    let iid_var: f64 = (0..n)
        .map(|i| {
            let lo = if i > 0 {
                ladder.betas[i] - ladder.betas[i - 1]
            } else {
                0.0
            };
            let hi = if i + 1 < n {
                ladder.betas[i + 1] - ladder.betas[i]
            } else {
                0.0
            };
            let w = 0.5 * (lo + hi);
            let mean = ladder.rung_mean(i, all.clone());
            let var = ladder
                .values(i, all.clone())
                .map(|l| (l - mean) * (l - mean))
                .sum::<f64>()
                / (per_rung - 1.0);
            w * w * var / per_rung
        })
        .sum();
    Estimate {
        log_z,
        error: mc.hypot(discretisation),
        information: ladder.information(log_z),
        ess: per_rung * iid_var / (mc * mc),
        khat: f64::NAN,
        discretisation_error: discretisation,
        note: ladder.length_note(),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array3;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma};

    use super::*;

    /// The `gaussian` target with prior N(0, I) in d dimensions and ℓ = −½|m|²/s²: at β the
    /// tempered posterior is N(0, I/(1 + β/s²)), so ℓ = −½ (1/s²)/(1 + β/s²) χ²_d exactly and
    /// log Z = −(d/2) ln(1 + 1/s²). Draws iid from it (no Markov chain), so batch means
    /// and the iid errors agree and the estimates must fall within their errors.
    fn exact_ladder(
        d: usize,
        s: f64,
        betas: &[f64],
        chains: usize,
        draws: usize,
        seed: u64,
    ) -> Array3<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let chi2 = Gamma::new(d as f64 / 2.0, 2.0).expect("χ²");
        let precision = 1.0 / (s * s);
        Array3::from_shape_fn((betas.len(), chains, draws), |(i, _, _)| {
            -0.5 * precision / (1.0 + betas[i] * precision) * chi2.sample(&mut rng)
        })
    }

    fn geometric_ladder(n: usize) -> Vec<f64> {
        // 0, then 10^-3 … 1 evenly in log β.
        std::iter::once(0.0)
            .chain((0..n - 1).map(|i| 10f64.powf(-3.0 + 3.0 * i as f64 / (n - 2) as f64)))
            .collect()
    }

    #[test]
    fn stepping_stone_recovers_the_closed_form() {
        let (d, s) = (10, 1.0f64 / 3.0);
        let exact = -(d as f64) / 2.0 * (1.0 + 1.0 / (s * s)).ln();
        let betas = geometric_ladder(24);
        let mut z = Vec::new();
        for seed in 0..20 {
            let ll = exact_ladder(d, s, &betas, 2, 2000, seed);
            let e = stepping_stone(&Ladder {
                betas: &betas,
                ll: ll.view(),
            });
            assert!(e.note.is_none(), "{:?}", e.note);
            // iid draws: ESS = 4000 × (true variance / batch-means variance), the latter
            // χ²₁₉/19-distributed about the truth (99.9 % within [0.35, 2.2]).
            assert!(
                (0.4..3.0).contains(&(e.ess / 4000.0)),
                "iid draws: ESS {} of 4000",
                e.ess
            );
            z.push((e.log_z - exact) / e.error);
        }
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let rms = (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
        assert!(z.iter().all(|v| v.abs() < 4.0), "z {z:?}");
        // 20 seeds: the mean z has sd 1/√20; the rms of z is 1 within ≈ 0.16 (sd of an
        // rms over 20, with the batch-means errors' own scatter on top).
        assert!(mean.abs() < 1.0, "mean z {mean}");
        assert!(
            (0.5..2.0).contains(&rms),
            "rms z {rms}: errors off by more than a factor 2"
        );
    }

    #[test]
    fn thermodynamic_integration_and_its_discretisation() {
        let (d, s) = (10, 1.0f64 / 3.0);
        let exact = -(d as f64) / 2.0 * (1.0 + 1.0 / (s * s)).ln();
        // E_β[ℓ] = −(d/2) (1/s²)/(1 + β/s²): the trapezoidal rule on a fine ladder is exact
        // to O(h²); the rule on every other β has about 4 times its error.
        let betas = geometric_ladder(40);
        let ll = exact_ladder(d, s, &betas, 2, 4000, 3);
        let e = thermodynamic(&Ladder {
            betas: &betas,
            ll: ll.view(),
        });
        let precision = 1.0 / (s * s);
        let expected: Vec<f64> = betas
            .iter()
            .map(|b| -(d as f64) / 2.0 * precision / (1.0 + b * precision))
            .collect();
        let rule: f64 = betas
            .windows(2)
            .zip(expected.windows(2))
            .map(|(b, m)| (b[1] - b[0]) * 0.5 * (m[0] + m[1]))
            .sum();
        let bias = (rule - exact).abs();
        assert!(
            e.discretisation_error > bias && e.discretisation_error < 10.0 * bias,
            "discretisation {} vs the rule's bias {bias}",
            e.discretisation_error
        );
        assert!(
            (e.log_z - exact).abs() < 4.0 * e.error,
            "TI {} ± {} vs {exact}",
            e.log_z,
            e.error
        );
    }

    #[test]
    fn short_series_are_flagged() {
        let betas = [0.0, 0.5, 1.0];
        let ll = exact_ladder(2, 1.0, &betas, 1, 50, 1);
        let e = stepping_stone(&Ladder {
            betas: &betas,
            ll: ll.view(),
        });
        assert!(
            e.note.as_deref().is_some_and(|n| n.contains("batch means")),
            "{:?}",
            e.note
        );
    }
}
