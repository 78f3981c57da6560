//! Convergence diagnostics of McMC chains (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021),
//! as ArviZ computes them: chains are split in halves (the middle draw dropped for odd lengths);
//! rank normalisation replaces draws by normal scores of their pooled ranks (average ranks for
//! ties); bulk R-hat and ESS use the rank-normalised draws, tail R-hat the folded ones
//! (|θ − median|), tail ESS the indicators of the 5 % and 95 % quantiles; R-hat is the larger
//! of bulk and tail; the ESS uses Geyer's initial monotone sequence on FFT autocovariances; the
//! Monte-Carlo standard errors of the mean and the sd follow from the ESS of θ and of
//! (θ − mean)², those of quantiles from the ESS of their indicators. Checked against ArviZ 0.23.4 (tests/data/diagnostics/make_fixture.py).

use ndarray::{Array2, ArrayView2};

use super::stats::{beta_quantile, median_sorted, mquantile_sorted, normal_quantile};

/// Splits each chain of (chain, draw) into two halves: (2·chain, draw/2).
fn split_chains(x: ArrayView2<f64>) -> Array2<f64> {
    let (m, n) = x.dim();
    let half = n / 2;
    Array2::from_shape_fn((2 * m, half), |(c, k)| {
        if c < m {
            x[[c, k]]
        } else {
            x[[c - m, n - half + k]]
        }
    })
}

/// Normal scores of the pooled fractional ranks: Φ⁻¹((r − 3/8) / (S + 1/4)).
fn rank_normalise(x: ArrayView2<f64>) -> Array2<f64> {
    let values: Vec<f64> = x.iter().copied().collect();
    let s = values.len();
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; s];
    let mut k = 0;
    while k < s {
        let mut end = k;
        while end + 1 < s && values[order[end + 1]] == values[order[k]] {
            end += 1;
        }
        let average = (k + end) as f64 / 2.0 + 1.0;
        for &idx in &order[k..=end] {
            ranks[idx] = average;
        }
        k = end + 1;
    }
    let z: Vec<f64> = ranks
        .iter()
        .map(|r| normal_quantile((r - 0.375) / (s as f64 + 0.25)))
        .collect();
    Array2::from_shape_vec(x.raw_dim(), z).expect("same shape")
}

/// Classic R-hat of (chain, draw).
fn rhat_classic(x: ArrayView2<f64>) -> f64 {
    let (m, n) = x.dim();
    let (nf, mf) = (n as f64, m as f64);
    let means: Vec<f64> = (0..m).map(|c| x.row(c).sum() / nf).collect();
    let grand = means.iter().sum::<f64>() / mf;
    let b = nf / (mf - 1.0) * means.iter().map(|mu| (mu - grand).powi(2)).sum::<f64>();
    let w = (0..m)
        .map(|c| x.row(c).iter().map(|v| (v - means[c]).powi(2)).sum::<f64>() / (nf - 1.0))
        .sum::<f64>()
        / mf;
    let var_plus = (nf - 1.0) / nf * w + b / nf;
    (var_plus / w).sqrt()
}

/// Every diagnostic of one parameter's (chain, draw) series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Convergence {
    /// max(bulk, tail): the R-hat to report.
    pub rhat: f64,
    pub rhat_bulk: f64,
    pub rhat_tail: f64,
    pub ess_bulk: f64,
    pub ess_tail: f64,
    pub ess_mean: f64,
    pub ess_sd: f64,
    pub mcse_mean: f64,
    pub mcse_sd: f64,
    /// MCSE of the 5 %, 50 % and 95 % quantiles (the summary's q05, q50, q95).
    pub mcse_quantiles: [f64; 3],
}

/// The quantiles whose Monte-Carlo errors [`Convergence`] holds.
pub const MCSE_QUANTILES: [f64; 3] = [0.05, 0.5, 0.95];

/// The diagnostics of (chain, draw); NaN with fewer than 4 draws per chain, a non-finite value
/// or a constant sample (R-hat also with one chain).
pub fn convergence(x: ArrayView2<f64>) -> Convergence {
    let (m, n) = x.dim();
    let nan = f64::NAN;
    if n < 4 || x.iter().any(|v| !v.is_finite()) || x.iter().all(|&v| v == x[[0, 0]]) {
        return Convergence {
            rhat: nan,
            rhat_bulk: nan,
            rhat_tail: nan,
            ess_bulk: nan,
            ess_tail: nan,
            ess_mean: nan,
            ess_sd: nan,
            mcse_mean: nan,
            mcse_sd: nan,
            mcse_quantiles: [nan; 3],
        };
    }
    let split = split_chains(x);
    let (rhat_bulk, rhat_tail) = if m >= 2 {
        let mut sorted: Vec<f64> = split.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let median = median_sorted(&sorted);
        let folded = split.mapv(|v| (v - median).abs());
        (
            rhat_classic(rank_normalise(split.view()).view()),
            rhat_classic(rank_normalise(folded.view()).view()),
        )
    } else {
        (nan, nan)
    };
    let mut sorted: Vec<f64> = x.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let ess_quantile = |p: f64| {
        let q = mquantile_sorted(&sorted, p);
        ess(split_chains(x.mapv(|v| f64::from(u8::from(v <= q))).view()).view())
    };
    let size = (m * n) as f64;
    let mean = x.sum() / size;
    let squares = x.mapv(|v| (v - mean).powi(2));
    let ess_mean = ess(split.view());
    let ess_sd = ess(split_chains(squares.view()).view());
    let sd = (squares.sum() / (size - 1.0)).sqrt();
    // Var of the variance estimate from the ESS of (θ − mean)², then the delta method for sd.
    let evar = squares.sum() / size;
    let varvar = (squares.mapv(|v| v * v).sum() / size - evar * evar) / ess_sd;
    // The quantile's error: half the distance between the draws at the ±1σ probabilities of
    // Beta(ESS p + 1, ESS (1 − p) + 1), the distribution of the quantile's rank.
    let mcse_quantile = |p: f64| {
        let e = ess_quantile(p);
        let (a, b) = (e * p + 1.0, e * (1.0 - p) + 1.0);
        let last = sorted.len() - 1;
        let below = (beta_quantile(0.1586553, a, b) * size - 1.0)
            .max(0.0)
            .floor() as usize;
        let above = (beta_quantile(0.8413447, a, b) * size - 1.0)
            .min(last as f64)
            .ceil() as usize;
        (sorted[above] - sorted[below]) / 2.0
    };
    Convergence {
        mcse_quantiles: MCSE_QUANTILES.map(mcse_quantile),
        rhat: rhat_bulk.max(rhat_tail),
        rhat_bulk,
        rhat_tail,
        ess_bulk: bulk_ess_of_split(split.view()),
        ess_tail: ess_quantile(0.05).min(ess_quantile(0.95)),
        ess_mean,
        ess_sd,
        mcse_mean: sd / ess_mean.sqrt(),
        mcse_sd: (varvar / evar / 4.0).sqrt(),
    }
}

/// The bulk ESS of split chains: the ESS of their rank-normalised values.
fn bulk_ess_of_split(split: ArrayView2<f64>) -> f64 {
    ess(rank_normalise(split).view())
}

/// The bulk ESS of (chain, draw) alone (what [`convergence`] reports as `ess_bulk`).
pub fn bulk_ess(x: ArrayView2<f64>) -> f64 {
    bulk_ess_of_split(split_chains(x).view())
}

/// ESS of (chain, draw) by Geyer's initial monotone sequence estimator (the draw count for a
/// constant series, as ArviZ).
fn ess(x: ArrayView2<f64>) -> f64 {
    let (m, n) = x.dim();
    let (nf, mf) = (n as f64, m as f64);
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if hi - lo < 1e-15 {
        return mf * nf;
    }
    let acov: Vec<Vec<f64>> = (0..m).map(|c| autocovariance(&x.row(c).to_vec())).collect();
    let chain_mean: Vec<f64> = (0..m).map(|c| x.row(c).sum() / nf).collect();
    let chain_var: Vec<f64> = (0..m).map(|c| acov[c][0] * nf / (nf - 1.0)).collect();
    let mean_var = chain_var.iter().sum::<f64>() / mf;
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        let grand = chain_mean.iter().sum::<f64>() / mf;
        var_plus += chain_mean
            .iter()
            .map(|mu| (mu - grand).powi(2))
            .sum::<f64>()
            / (mf - 1.0);
    }
    let rho = |t: usize| 1.0 - (mean_var - acov.iter().map(|a| a[t]).sum::<f64>() / mf) / var_plus;
    // ArviZ's `_ess` step for step (its indices and bounds included).
    let mut rho_hat = vec![0.0; n.max(2)];
    rho_hat[0] = 1.0;
    let (mut rho_even, mut rho_odd) = (1.0, if n > 1 { rho(1) } else { 0.0 });
    rho_hat[1] = rho_odd;
    // Geyer's initial positive sequence.
    let mut t = 1;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = rho(t + 1);
        rho_odd = rho(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho_hat[t + 1] = rho_even;
            rho_hat[t + 2] = rho_odd;
        }
        t += 2;
    }
    // The last lag kept, plus one (ArviZ's max_t + 1: 0 when no pair was kept).
    let end = t - 1;
    if rho_even > 0.0 {
        rho_hat[end] = rho_even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1;
    while t + 3 <= end {
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t] {
            rho_hat[t + 1] = (rho_hat[t - 1] + rho_hat[t]) / 2.0;
            rho_hat[t + 2] = rho_hat[t + 1];
        }
        t += 2;
    }
    let tau = -1.0 + 2.0 * rho_hat[..end].iter().sum::<f64>() + rho_hat[end];
    let tau = tau.max(1.0 / (mf * nf).log10());
    mf * nf / tau
}

/// Biased autocovariance of a series at every lag (divided by n), by FFT.
fn autocovariance(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let size = (2 * n).next_power_of_two();
    let mut re = vec![0.0; size];
    let mut im = vec![0.0; size];
    for (k, v) in x.iter().enumerate() {
        re[k] = v - mean;
    }
    fft(&mut re, &mut im, false);
    for k in 0..size {
        re[k] = re[k] * re[k] + im[k] * im[k];
        im[k] = 0.0;
    }
    fft(&mut re, &mut im, true);
    (0..n).map(|k| re[k] / size as f64 / n as f64).collect()
}

/// In-place radix-2 complex FFT (inverse without the 1/n factor).
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    debug_assert!(n.is_power_of_two());
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let angle = sign * 2.0 * std::f64::consts::PI / len as f64;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = (angle * k as f64).sin_cos();
                let (a, b) = (start + k, start + k + len / 2);
                let (xr, xi) = (re[b] * c - im[b] * s, re[b] * s + im[b] * c);
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parallel::rng::{Purpose, member_rng};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    fn ar1(chains: usize, draws: usize, phi: f64, offset: f64) -> Array2<f64> {
        ar1_seeded(42, chains, draws, phi, offset)
    }

    /// `chains` stationary AR(1) series x_k = φ x_{k−1} + √(1 − φ²) e_k (N(0, 1) marginals,
    /// x₋₁ ~ N(0, 1)), the first shifted by `offset`.
    fn ar1_seeded(seed: u64, chains: usize, draws: usize, phi: f64, offset: f64) -> Array2<f64> {
        let mut x = Array2::zeros((chains, draws));
        for c in 0..chains {
            let mut rng = member_rng(seed, Purpose::Proposal, c as u64, 0);
            let mut v: f64 = rng.sample(StandardNormal);
            for k in 0..draws {
                let e: f64 = rng.sample(StandardNormal);
                v = phi * v + (1.0 - phi * phi).sqrt() * e;
                x[[c, k]] = v + if c == 0 { offset } else { 0.0 };
            }
        }
        x
    }

    #[test]
    fn independent_draws_have_rhat_near_one_and_full_ess() {
        let x = ar1(4, 2000, 0.0, 0.0);
        let r = convergence(x.view()).rhat;
        assert!((r - 1.0).abs() < 0.01, "rhat {r}");
        let e = convergence(x.view()).ess_bulk;
        assert!((e / 8000.0 - 1.0).abs() < 0.1, "ess {e}");
    }

    #[test]
    fn ess_of_ar1_matches_its_integrated_autocorrelation() {
        // For AR(1), τ = (1 + φ)/(1 − φ) = 3 at φ = 0.5.
        let x = ar1(4, 5000, 0.5, 0.0);
        let e = convergence(x.view()).ess_bulk;
        let expected = 20000.0 / 3.0;
        assert!((e / expected - 1.0).abs() < 0.12, "ess {e} vs {expected}");
    }

    #[test]
    fn diagnostics_match_arviz() {
        // tests/data/diagnostics/arviz.json: three series and ArviZ 0.23.4's values.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/diagnostics/arviz.json"
        );
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for (name, case) in fixture.as_object().unwrap() {
            let rows: Vec<Vec<f64>> = serde_json::from_value(case["draws"].clone()).unwrap();
            let x = Array2::from_shape_fn((rows.len(), rows[0].len()), |(c, k)| rows[c][k]);
            let got = convergence(x.view());
            let pairs = [
                ("rhat", got.rhat),
                ("rhat_bulk", got.rhat_bulk),
                ("rhat_tail", got.rhat_tail),
                ("ess_bulk", got.ess_bulk),
                ("ess_tail", got.ess_tail),
                ("ess_mean", got.ess_mean),
                ("ess_sd", got.ess_sd),
                ("mcse_mean", got.mcse_mean),
                ("mcse_sd", got.mcse_sd),
                ("mcse_q05", got.mcse_quantiles[0]),
                ("mcse_q50", got.mcse_quantiles[1]),
                ("mcse_q95", got.mcse_quantiles[2]),
            ];
            for (key, value) in pairs {
                let want = case[key].as_f64().unwrap();
                assert!(
                    (value - want).abs() <= 1e-8 * want.abs().max(1.0),
                    "{name} {key}: {value} vs ArviZ {want}"
                );
            }
        }
    }

    #[test]
    fn the_shortest_series_have_finite_diagnostics() {
        // Four draws per chain (two per split half): Geyer's sequence keeps no pair.
        let x =
            Array2::from_shape_vec((2, 4), vec![0.1, -0.3, 0.7, 0.2, 1.1, -0.4, 0.3, 0.9]).unwrap();
        let c = convergence(x.view());
        assert!(c.ess_bulk.is_finite() && c.rhat.is_finite(), "{c:?}");
    }

    /// The share of 200 seeds for which `pass` holds on the diagnostics of `series(seed)`.
    fn share_of_seeds(
        series: impl Fn(u64) -> Array2<f64>,
        pass: impl Fn(&Convergence) -> bool,
    ) -> f64 {
        let seeds = 200;
        (0..seeds)
            .filter(|&s| pass(&convergence(series(1000 + s).view())))
            .count() as f64
            / seeds as f64
    }

    #[test]
    fn over_200_seeds_iid_draws_pass_and_a_shifted_chain_is_caught() {
        // iid N(0, 1), 4 × 1000: R-hat < 1.01 in ≥ 99 % and bulk ESS / 4000 in [0.85, 1.15] in
        // ≥ 95 % of the seeds; one chain shifted by 0.5 σ: R-hat > 1.01 in ≥ 95 %.
        let iid = |seed| ar1_seeded(seed, 4, 1000, 0.0, 0.0);
        let rhat_ok = share_of_seeds(iid, |c| c.rhat < 1.01);
        let ess_ok = share_of_seeds(iid, |c| (0.85..=1.15).contains(&(c.ess_bulk / 4000.0)));
        let shifted = share_of_seeds(
            |seed| ar1_seeded(seed, 4, 1000, 0.0, 0.5),
            |c| c.rhat > 1.01,
        );
        println!(
            "iid: R-hat < 1.01 in {rhat_ok}, ESS within 15 % in {ess_ok}; shifted caught in {shifted}"
        );
        assert!(rhat_ok >= 0.99, "R-hat < 1.01 in {rhat_ok} of the seeds");
        assert!(ess_ok >= 0.95, "ESS within 15 % in {ess_ok} of the seeds");
        assert!(
            shifted >= 0.95,
            "shifted chain caught in {shifted} of the seeds"
        );
    }

    #[test]
    fn over_200_seeds_the_ess_of_ar1_is_its_theoretical_value() {
        // AR(1) φ = 0.9, 4 × 10,000: ESS = N (1 − φ)/(1 + φ) = 2105 within 20 % in ≥ 95 %.
        let (phi, n) = (0.9, 40_000.0);
        let expected = n * (1.0 - phi) / (1.0 + phi);
        let within = (0..200u64)
            .filter(|s| {
                let e = bulk_ess(ar1_seeded(1000 + s, 4, 10_000, phi, 0.0).view());
                (e / expected - 1.0).abs() < 0.2
            })
            .count() as f64
            / 200.0;
        println!("AR(1) ESS within 20 % of {expected:.0} in {within} of the seeds");
        assert!(within >= 0.95, "{within}");
    }

    #[test]
    fn a_shifted_chain_raises_rhat() {
        let x = ar1(4, 1000, 0.0, 1.0);
        assert!(convergence(x.view()).rhat > 1.05);
    }
}
