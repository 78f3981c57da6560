//! Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman, Yao & Gabry 2024): the M
//! largest importance weights, M = ⌈min(S/5, 3√S)⌉, are fitted with a generalized Pareto
//! distribution (the empirical-Bayes fit of Zhang & Stephens 2009 with its weakly informative
//! prior on the shape) and replaced by its quantiles. The fitted shape k̂ says whether the
//! weights have a finite variance (k̂ < ½) and whether the estimate can be trusted at all
//! (k̂ below min(1 − 1/log₁₀ S, 0.7)). Checked against ArviZ 0.23.4's `psislw`
//! (tests/data/evidence/make_psis_fixture.py).

/// The Pareto-smoothed log weights (normalised: their exponentials sum to 1) and k̂.
#[derive(Debug, Clone)]
pub struct Psis {
    pub log_weights: Vec<f64>,
    /// The shape of the fitted tail; +∞ when the tail has fewer than 5 weights.
    pub khat: f64,
}

impl Psis {
    /// The effective sample size 1/Σ w̃² of the smoothed normalised weights.
    pub fn ess(&self) -> f64 {
        1.0 / self
            .log_weights
            .iter()
            .map(|v| (2.0 * v).exp())
            .sum::<f64>()
    }
}

/// The k̂ above which an importance-sampling estimate from `samples` weights is unreliable.
pub fn khat_threshold(samples: usize) -> f64 {
    (1.0 - 1.0 / (samples as f64).log10()).min(0.7)
}

/// log Σ exp(xᵢ) (−∞ for no terms or all −∞).
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + x.iter().map(|v| (v - top).exp()).sum::<f64>().ln()
}

/// Pareto-smooths the log weights `log_w` (finite, or −∞ for a zero weight). Weights that are
/// all equal where they are not zero (a prior replaced by a narrower uniform one, say) are
/// bounded: k̂ = −∞ and nothing to smooth (ArviZ reports +∞ there, its tail being too short to
/// fit).
pub fn psis(log_w: &[f64]) -> Psis {
    let n = log_w.len();
    let top = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut x: Vec<f64> = log_w.iter().map(|v| v - top).collect();
    if top.is_finite() && x.iter().all(|&v| v == 0.0 || v == f64::NEG_INFINITY) {
        let total = log_sum_exp(&x);
        return Psis {
            log_weights: x.iter().map(|v| v - total).collect(),
            khat: f64::NEG_INFINITY,
        };
    }
    let tail = (n as f64 / 5.0).min(3.0 * (n as f64).sqrt()).ceil() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let cutoff = x[order[n.saturating_sub(tail + 1)]].max(f64::MIN_POSITIVE.ln());
    // The tail: the weights above the cutoff, in increasing order.
    let tail_index: Vec<usize> = order.iter().copied().filter(|&i| x[i] > cutoff).collect();
    let khat = if tail_index.len() <= 4 {
        f64::INFINITY
    } else {
        let exp_cutoff = cutoff.exp();
        let exceedances: Vec<f64> = tail_index
            .iter()
            .map(|&i| x[i].exp() - exp_cutoff)
            .collect();
        let (k, sigma) = fit_generalized_pareto(&exceedances);
        if k.is_finite() {
            let m = tail_index.len();
            for (j, &i) in tail_index.iter().enumerate() {
                let p = (j as f64 + 0.5) / m as f64;
                x[i] = (pareto_quantile(p, k, sigma) + exp_cutoff).ln().min(0.0);
            }
        }
        k
    };
    let total = log_sum_exp(&x);
    for v in &mut x {
        *v -= total;
    }
    Psis {
        log_weights: x,
        khat,
    }
}

/// (k, σ) of a generalized Pareto distribution fitted to the sorted positive exceedances `x`:
/// the posterior mean of θ = −k/σ over a grid of 30 + ⌊√n⌋ values weighted by the profile
/// likelihood (Zhang & Stephens 2009), then k shrunk towards ½ by a prior worth 10 draws.
fn fit_generalized_pareto(x: &[f64]) -> (f64, f64) {
    const PRIOR_SCALE: f64 = 3.0;
    const PRIOR_DRAWS: f64 = 10.0;
    let n = x.len();
    let grid = 30 + (n as f64).sqrt() as usize;
    let quartile = x[((n as f64 / 4.0 + 0.5) as usize).saturating_sub(1)];
    let largest = x[n - 1];
    let mean_log1p = |theta: f64| x.iter().map(|v| (-theta * v).ln_1p()).sum::<f64>() / n as f64;
    let thetas: Vec<f64> = (1..=grid)
        .map(|j| {
            (1.0 - (grid as f64 / (j as f64 - 0.5)).sqrt()) / (PRIOR_SCALE * quartile)
                + 1.0 / largest
        })
        .collect();
    let profile: Vec<f64> = thetas
        .iter()
        .map(|&theta| {
            let k = mean_log1p(theta);
            n as f64 * ((-theta / k).ln() - k - 1.0)
        })
        .collect();
    let mut weights: Vec<f64> = profile
        .iter()
        .map(|&lj| 1.0 / profile.iter().map(|&li| (li - lj).exp()).sum::<f64>())
        .collect();
    let mut kept_thetas = thetas;
    let negligible = 10.0 * f64::EPSILON;
    if weights.iter().any(|&w| w < negligible) {
        let keep: Vec<bool> = weights.iter().map(|&w| w >= negligible).collect();
        weights = weights
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(w, _)| *w)
            .collect();
        kept_thetas = kept_thetas
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(t, _)| *t)
            .collect();
    }
    let total: f64 = weights.iter().sum();
    let theta: f64 = kept_thetas
        .iter()
        .zip(&weights)
        .map(|(t, w)| t * w / total)
        .sum();
    let k = mean_log1p(theta);
    let sigma = -k / theta;
    (
        (n as f64 * k + PRIOR_DRAWS * 0.5) / (n as f64 + PRIOR_DRAWS),
        sigma,
    )
}

/// The p-quantile of a generalized Pareto distribution (shape k, scale σ).
fn pareto_quantile(p: f64, k: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return f64::NAN;
    }
    if k.abs() < f64::EPSILON {
        -sigma * (-p).ln_1p()
    } else {
        sigma * (-k * (-p).ln_1p()).exp_m1() / k
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    #[test]
    fn matches_arviz() {
        // tests/data/evidence/psis.json: four sets of log weights and ArviZ 0.23.4's values.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/evidence/psis.json"
        ))
        .expect("fixture");
        let cases: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for (name, case) in cases.as_object().expect("cases") {
            let floats = |key: &str| -> Vec<f64> {
                case[key]
                    .as_array()
                    .expect("array")
                    .iter()
                    .map(|v| v.as_f64().expect("number"))
                    .collect()
            };
            let result = psis(&floats("log_weights"));
            let khat = case["khat"].as_f64().expect("k̂");
            assert!(
                (result.khat - khat).abs() < 1e-10,
                "{name}: k̂ {} vs ArviZ {khat}",
                result.khat
            );
            for (i, (a, b)) in result
                .log_weights
                .iter()
                .zip(floats("smoothed"))
                .enumerate()
            {
                assert!(
                    (a - b).abs() < 1e-10,
                    "{name}: smoothed log weight {i}: {a} vs ArviZ {b}"
                );
            }
        }
    }

    /// k̂ of N(0, 1) / N(0, σ_q²) weights, x ~ N(0, σ_q²), S = 10⁵: the weights' tail has
    /// shape 1 − σ_q² for σ_q < 1 (w ∝ exp(x² (1/σ_q² − 1)/2) and P(w > t) ∝ t^−σ_q²/(1−σ_q²)
    /// up to a log factor), and is bounded for σ_q > 1 (k̂ < 0 in the limit).
    #[test]
    fn khat_of_gaussian_proposals() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (sigma_q, expected) in [
            (0.5f64, Some(0.75)),
            (0.7, Some(0.51)),
            (0.8, Some(0.36)),
            (1.5, None),
            (2.0, None),
        ] {
            let log_w: Vec<f64> = (0..100_000)
                .map(|_| {
                    let x: f64 = sigma_q * Distribution::<f64>::sample(&StandardNormal, &mut rng);
                    -0.5 * x * x + 0.5 * (x / sigma_q) * (x / sigma_q) + f64::ln(sigma_q)
                })
                .collect();
            let khat = psis(&log_w).khat;
            match expected {
                Some(k) => assert!(
                    (khat - k).abs() < 0.15,
                    "σ_q {sigma_q}: k̂ {khat}, expected {k} ± 0.15"
                ),
                None => assert!(khat < 0.5, "σ_q {sigma_q}: k̂ {khat} ≥ 0.5"),
            }
        }
    }

    #[test]
    fn threshold_follows_the_sample_size() {
        assert!((khat_threshold(100) - 0.5).abs() < 1e-15);
        assert!((khat_threshold(1000) - (1.0 - 1.0 / 3.0)).abs() < 1e-15);
        assert_eq!(khat_threshold(100_000), 0.7);
    }

    #[test]
    fn equal_weights_stay_equal_and_are_bounded() {
        let result = psis(&[0.3; 400]);
        for w in &result.log_weights {
            assert!((w + 400f64.ln()).abs() < 1e-12);
        }
        assert_eq!(result.khat, f64::NEG_INFINITY);
        // Equal where not zero: still bounded.
        let mut log_w = vec![1.5; 300];
        log_w.extend([f64::NEG_INFINITY; 100]);
        let result = psis(&log_w);
        assert_eq!(result.khat, f64::NEG_INFINITY);
        assert!((result.log_weights[0] + 300f64.ln()).abs() < 1e-12);
        assert_eq!(result.log_weights[350], f64::NEG_INFINITY);
    }
}
