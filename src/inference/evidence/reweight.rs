//! Prior replacement (Zhao & Curtis' variational prior replacement, here for any posterior
//! draws): draws of p(m | d) under a prior p_old are reused for another prior p_new by the
//! importance weights p_new(m)/p_old(m), without a forward solve. The weights are
//! Pareto-smoothed (k̂ reported: above min(1 − 1/log₁₀ S, 0.7) the replacement is unreliable);
//! their mean is the evidence ratio Z_new/Z_old, with a delta-method error that counts the
//! draws' autocorrelation through the bulk ESS of the weights.

use ndarray::{Array1, Array2, ArrayView2, ArrayView3};

use super::psis::{khat_threshold, log_sum_exp, psis};
use crate::inference::diagnostics::convergence::bulk_ess;

/// What the replacement found.
#[derive(Debug, Clone)]
pub struct Reweighting {
    /// Pareto-smoothed, normalised log weights per (chain, draw).
    pub log_weights: Array2<f64>,
    /// log Z_new − log Z_old and its standard error.
    pub log_ratio: f64,
    pub error: f64,
    pub khat: f64,
    /// 1/Σ w̃² of the smoothed weights (before the draws' autocorrelation).
    pub ess: f64,
    /// Why the replacement is not to be trusted.
    pub note: Option<String>,
}

/// The replacement from log p_old to log p_new (normalised densities of the draws, −∞ where
/// p_new has no support), both (chain, draw).
pub fn reweight(log_old: ArrayView2<f64>, log_new: ArrayView2<f64>) -> Reweighting {
    let (chains, draws) = log_old.dim();
    let log_w: Vec<f64> = log_new
        .iter()
        .zip(log_old.iter())
        .map(|(n, o)| n - o)
        .collect();
    let s = log_w.len() as f64;
    let log_ratio = log_sum_exp(&log_w) - s.ln();
    // Var(w̄)/w̄² with the weights' own autocorrelation: Var(w)/ESS(w).
    let relative = Array2::from_shape_fn((chains, draws), |(c, j)| {
        (log_w[c * draws + j] - log_ratio).exp()
    });
    let var = relative.iter().map(|w| (w - 1.0) * (w - 1.0)).sum::<f64>() / (s - 1.0);
    let ess_w = if relative.iter().all(|w| *w == relative[[0, 0]]) {
        s
    } else {
        bulk_ess(relative.view()).max(1.0)
    };
    let smoothed = psis(&log_w);
    let ess = smoothed.ess();
    let threshold = khat_threshold(log_w.len());
    let note = if !log_ratio.is_finite() {
        Some("the new prior gives every draw zero density: nothing to reweight".to_string())
    } else if smoothed.khat > threshold {
        Some(format!(
            "Pareto k̂ {:.2} > {threshold:.2}: the new prior puts its mass where the draws are few (run under it instead)",
            smoothed.khat
        ))
    } else {
        None
    };
    Reweighting {
        log_weights: Array2::from_shape_vec((chains, draws), smoothed.log_weights)
            .expect("one per draw"),
        log_ratio,
        error: (var / ess_w).sqrt(),
        khat: smoothed.khat,
        ess,
        note,
    }
}

/// Weighted mean, std and the 5, 50 and 95 % quantiles per parameter of draws m (chain, draw,
/// param) with normalised log weights; a quantile is the inverse of the weighted empirical CDF
/// interpolated between the midpoints of the draws' weights (Hazen's rule for equal weights).
pub fn weighted_summary(m: ArrayView3<f64>, log_weights: ArrayView2<f64>) -> [Array1<f64>; 5] {
    let (chains, draws, p) = m.dim();
    let w: Vec<f64> = log_weights.iter().map(|v| v.exp()).collect();
    let mut out: [Array1<f64>; 5] = std::array::from_fn(|_| Array1::zeros(p));
    for j in 0..p {
        let values: Vec<f64> = (0..chains)
            .flat_map(|c| (0..draws).map(move |k| (c, k)))
            .map(|(c, k)| m[[c, k, j]])
            .collect();
        let mean: f64 = values.iter().zip(&w).map(|(v, w)| v * w).sum();
        let var: f64 = values
            .iter()
            .zip(&w)
            .map(|(v, w)| w * (v - mean) * (v - mean))
            .sum();
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let kept: Vec<usize> = order.into_iter().filter(|&i| w[i] > 0.0).collect();
        let (mut cdf, mut acc) = (Vec::with_capacity(kept.len()), 0.0);
        for &i in &kept {
            cdf.push(acc + 0.5 * w[i]);
            acc += w[i];
        }
        let quantile = |q: f64| -> f64 {
            let target = q * acc;
            match cdf.iter().position(|&c| c >= target) {
                Some(0) | None if kept.is_empty() => f64::NAN,
                Some(0) => values[kept[0]],
                None => values[kept[kept.len() - 1]],
                Some(k) => {
                    let t = (target - cdf[k - 1]) / (cdf[k] - cdf[k - 1]);
                    values[kept[k - 1]] + t * (values[kept[k]] - values[kept[k - 1]])
                }
            }
        };
        out[0][j] = mean;
        out[1][j] = var.sqrt();
        out[2][j] = quantile(0.05);
        out[3][j] = quantile(0.5);
        out[4][j] = quantile(0.95);
    }
    out
}

/// The draws as (chain, draw, param) in physical units, with log p under a prior `log_prior`.
pub fn log_prior_of(
    m: ArrayView3<f64>,
    log_prior: impl Fn(ndarray::ArrayView1<f64>) -> f64,
) -> Array2<f64> {
    let (chains, draws, _) = m.dim();
    Array2::from_shape_fn((chains, draws), |(c, k)| {
        log_prior(m.slice(ndarray::s![c, k, ..]))
    })
}

#[cfg(test)]
mod tests {
    use ndarray::Array3;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    /// Draws of N(0, 2²), the posterior under a prior N(0, 3²) of a likelihood of precision
    /// 1/4 − 1/9, reweighted to the prior N(0, 1): the new posterior has precision
    /// P = 1/4 − 1/9 + 1 and the evidence ratio is ∫ N(m; 0, 4) N(m; 0, 1)/N(m; 0, 9) dm =
    /// 3/(2√P).
    #[test]
    fn gaussian_reweighting_matches_the_product() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let (chains, draws) = (4, 5000);
        let m = Array3::from_shape_fn((chains, draws, 1), |_| {
            2.0 * Distribution::<f64>::sample(&StandardNormal, &mut rng)
        });
        let ln_norm = |x: f64, s: f64| {
            -0.5 * (x / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
        };
        let log_old = log_prior_of(m.view(), |v| ln_norm(v[0], 3.0));
        let log_new = log_prior_of(m.view(), |v| ln_norm(v[0], 1.0));
        let r = reweight(log_old.view(), log_new.view());
        let precision: f64 = 1.0 / 4.0 + 1.0 - 1.0 / 9.0;
        let exact = (3.0 / (2.0 * 1.0 * precision.sqrt())).ln();
        assert!(r.note.is_none(), "{:?}", r.note);
        assert!(
            ((r.log_ratio - exact) / r.error).abs() < 4.0,
            "{} ± {} vs {exact}",
            r.log_ratio,
            r.error
        );
        let [mean, std, _, q50, _] = weighted_summary(m.view(), r.log_weights.view());
        let sd = 1.0 / precision.sqrt();
        assert!(mean[0].abs() < 4.0 * sd / r.ess.sqrt(), "mean {}", mean[0]);
        assert!((std[0] / sd - 1.0).abs() < 0.05, "std {} vs {sd}", std[0]);
        assert!(q50[0].abs() < 0.05);
    }

    #[test]
    fn a_prior_far_from_the_draws_is_flagged() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let m = Array3::from_shape_fn((2, 2000, 1), |_| {
            Distribution::<f64>::sample(&StandardNormal, &mut rng)
        });
        let log_old = log_prior_of(m.view(), |v| -0.5 * v[0] * v[0]);
        let log_new = log_prior_of(m.view(), |v| -0.5 * ((v[0] - 3.0) / 0.3).powi(2));
        let r = reweight(log_old.view(), log_new.view());
        assert!(r.khat > 0.7 && r.note.is_some(), "k̂ {}", r.khat);
    }

    #[test]
    fn equal_weights_give_the_sample_mean_and_median() {
        let m = Array3::from_shape_fn((1, 5, 1), |(_, k, _)| [3.0, 1.0, 4.0, 1.5, 9.0][k]);
        let log_w = Array2::from_elem((1, 5), -(5f64.ln()));
        let [mean, _, q05, q50, q95] = weighted_summary(m.view(), log_w.view());
        assert!((mean[0] - 3.7).abs() < 1e-12);
        assert!((q50[0] - 3.0).abs() < 1e-12, "{}", q50[0]);
        // Hazen's midpoint rule differs from numpy's linear one in the tails: within the range.
        assert!(q05[0] >= 1.0 && q95[0] <= 9.0);
    }
}
