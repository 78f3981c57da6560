//! Importance sampling of the evidence with a fitted variational density q as the proposal:
//! Z = E_q[p(d|m) p(m) / q(m)] from S samples of q evaluated on the ranks that own them
//! (streams (seed, evidence, i, 0), so the estimate does not depend on the rank count). A
//! sample whose forward model fails has weight 0 (a model the data rule out). Reported: the
//! log-mean-exp of the weights with its delta-method error, the Pareto k̂ of the weights
//! (PSIS; above min(1 − 1/log₁₀ S, 0.7) the estimate is flagged unreliable), the effective
//! sample size of the smoothed weights and the information H. The ELBO E_q[log w] comes from
//! the same samples, as a lower bound, never as an estimate.
//!
//! k̂ sees heavy tails of p/q, not mass that q misses entirely: a q that covers one of two
//! separated modes gives a confident estimate low by the missing mass (ln 2 for two equal
//! ones). Compare with a ladder estimate where that matters.

use ndarray::Array2;

use super::Estimate;
use super::psis::{khat_threshold, log_sum_exp, psis};
use crate::core::error::Result;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::RunContext;
use crate::inference::variational::FittedQ;

/// Samples evaluated per round (bounds the memory of a large S).
const ROUND: usize = 4096;

/// The log importance weights of S samples of q and their log-likelihoods.
#[derive(Debug, Clone)]
pub struct Weights {
    /// log p(d|m) p(m) − log q(m) in the unconstrained space (−∞ where the model failed).
    pub log_w: Vec<f64>,
    pub log_likelihood: Vec<f64>,
}

/// Draws `samples` models from q and evaluates them over the ranks.
pub fn sample_weights(ctx: &RunContext, q: &FittedQ, samples: usize) -> Result<Weights> {
    let d = q.dim();
    let (mut log_w, mut log_likelihood) =
        (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for start in (0..samples).step_by(ROUND) {
        let n = ROUND.min(samples - start);
        let owned = ctx.owned(n);
        let mut x = Array2::zeros((owned.len(), d));
        let mut log_q = Vec::with_capacity(owned.len());
        for (r, k) in owned.enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::Evidence, (start + k) as u64, 0);
            log_q.push(q.sample(&mut rng, x.row_mut(r)));
        }
        let eval = ctx.evaluate(x.view(), false)?;
        let all = ctx.gather_evaluation(n, &eval);
        let log_q = ctx.gather_rows(n, 1, &log_q);
        for k in 0..n {
            if all.failed[k] {
                log_w.push(f64::NEG_INFINITY);
                log_likelihood.push(f64::NAN);
            } else {
                log_w.push(all.log_prob[k] - log_q[[k, 0]]);
                log_likelihood.push(all.log_likelihood[k]);
            }
        }
    }
    Ok(Weights {
        log_w,
        log_likelihood,
    })
}

/// The importance-sampling estimate of log Z.
pub fn importance_sampling(w: &Weights) -> Estimate {
    let s = w.log_w.len() as f64;
    let log_z = log_sum_exp(&w.log_w) - s.ln();
    // Var(Ẑ)/Ẑ² = Σ (wᵢ/w̄ − 1)² / (S (S − 1)): the delta method for log Ẑ.
    let relative: f64 = w
        .log_w
        .iter()
        .map(|v| ((v - log_z).exp() - 1.0).powi(2))
        .sum();
    let error = (relative / (s * (s - 1.0))).sqrt();
    let smoothed = psis(&w.log_w);
    let ess = smoothed.ess();
    let posterior_ll: f64 = smoothed
        .log_weights
        .iter()
        .zip(&w.log_likelihood)
        .filter(|(v, _)| v.is_finite())
        .map(|(v, l)| v.exp() * l)
        .sum();
    let threshold = khat_threshold(w.log_w.len());
    let note = (smoothed.khat > threshold).then(|| {
        format!(
            "Pareto k̂ {:.2} > {threshold:.2}: q's tails are too light for importance sampling (the estimate may be far off, its error meaningless)",
            smoothed.khat
        )
    });
    Estimate {
        log_z,
        error,
        information: posterior_ll - log_z,
        ess,
        khat: smoothed.khat,
        discretisation_error: f64::NAN,
        note,
    }
}

/// The ELBO E_q[log w] from the samples whose forward model succeeded, with its standard
/// error: a lower bound on log Z.
pub fn elbo(w: &Weights) -> Estimate {
    let finite: Vec<f64> = w.log_w.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let var = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let failed = w.log_w.len() - finite.len();
    let mut note = "a lower bound on log Z, not an estimate".to_string();
    if failed > 0 {
        note += &format!(" ({failed} samples whose forward model failed left out: −∞ with them)");
    }
    Estimate {
        log_z: mean,
        error: (var / n).sqrt(),
        information: f64::NAN,
        ess: n,
        khat: f64::NAN,
        discretisation_error: f64::NAN,
        note: Some(note),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    /// Target N(0, 1) × Z with Z = e^1.5 (log Z = 1.5), proposal N(0, σ_q²), d = 1.
    fn weights(sigma_q: f64, samples: usize, seed: u64) -> Weights {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let mut log_w = Vec::new();
        for _ in 0..samples {
            let x: f64 = sigma_q * Distribution::<f64>::sample(&StandardNormal, &mut rng);
            let log_p = 1.5 - 0.5 * x * x - half_ln_2pi;
            let log_q = -0.5 * (x / sigma_q).powi(2) - sigma_q.ln() - half_ln_2pi;
            log_w.push(log_p - log_q);
        }
        let log_likelihood = vec![0.0; samples];
        Weights {
            log_w,
            log_likelihood,
        }
    }

    #[test]
    fn recovers_log_z_within_its_error() {
        let mut z = Vec::new();
        for seed in 0..40 {
            let e = importance_sampling(&weights(1.3, 2000, seed));
            assert!(e.note.is_none(), "{:?}", e.note);
            z.push((e.log_z - 1.5) / e.error);
        }
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let rms = (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
        assert!(z.iter().all(|v| v.abs() < 4.0), "{z:?}");
        assert!(
            mean.abs() < 0.6 && (0.6..1.6).contains(&rms),
            "mean z {mean}, rms {rms}"
        );
    }

    #[test]
    fn elbo_is_a_bound_below_log_z() {
        // KL(q‖p) for q = N(0, σ²), p = N(0, 1): (σ² − 1 − ln σ²)/2.
        let sigma: f64 = 1.3;
        let e = elbo(&weights(sigma, 20_000, 1));
        let kl = 0.5 * (sigma * sigma - 1.0 - (sigma * sigma).ln());
        assert!(
            (e.log_z - (1.5 - kl)).abs() < 4.0 * e.error,
            "ELBO {} ± {} vs {}",
            e.log_z,
            e.error,
            1.5 - kl
        );
        assert!(e.note.is_some());
    }

    #[test]
    fn light_tailed_proposals_are_flagged() {
        let e = importance_sampling(&weights(0.4, 10_000, 2));
        assert!(
            e.khat > 0.7 && e.note.as_deref().is_some_and(|n| n.contains("k̂")),
            "k̂ {}",
            e.khat
        );
    }

    #[test]
    fn failed_models_weigh_zero() {
        let mut w = weights(1.3, 4000, 3);
        let full = importance_sampling(&w).log_z;
        // Half the samples failing halves Z.
        for k in (0..4000).step_by(2) {
            w.log_w[k] = f64::NEG_INFINITY;
            w.log_likelihood[k] = f64::NAN;
        }
        let half = importance_sampling(&w);
        assert!(half.log_z.is_finite() && half.information.is_finite());
        assert!(
            (half.log_z - (full - 2f64.ln())).abs() < 0.1,
            "{} vs {}",
            half.log_z,
            full - 2f64.ln()
        );
    }
}
