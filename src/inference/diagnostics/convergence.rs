//! Rank-normalised split R-hat and bulk effective sample size (Vehtari, Gelman, Simpson,
//! Carpenter & Bürkner 2021), as ArviZ computes them: chains are split in halves (the middle draw
//! dropped for odd lengths), draws are replaced by normal scores of their pooled ranks (average
//! ranks for ties), R-hat is the larger of the bulk and folded (|θ − median|) values, and the ESS
//! uses Geyer's initial monotone sequence on FFT autocovariances.

use ndarray::{Array2, ArrayView2};

use super::stats::{normal_quantile, quantile_sorted};

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

/// Rank-normalised split R-hat of (chain, draw); NaN with fewer than 4 draws per chain or a
/// constant sample.
pub fn rank_rhat(x: ArrayView2<f64>) -> f64 {
    if x.ncols() < 4 || x.iter().all(|&v| v == x[[0, 0]]) {
        return f64::NAN;
    }
    let split = split_chains(x);
    let bulk = rhat_classic(rank_normalise(split.view()).view());
    let mut sorted: Vec<f64> = split.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let median = quantile_sorted(&sorted, 0.5);
    let folded = split.mapv(|v| (v - median).abs());
    let tail = rhat_classic(rank_normalise(folded.view()).view());
    bulk.max(tail)
}

/// Bulk ESS of (chain, draw).
pub fn ess_bulk(x: ArrayView2<f64>) -> f64 {
    if x.ncols() < 4 || x.iter().all(|&v| v == x[[0, 0]]) {
        return f64::NAN;
    }
    ess(rank_normalise(split_chains(x).view()).view())
}

/// ESS of (chain, draw) by Geyer's initial monotone sequence estimator.
fn ess(x: ArrayView2<f64>) -> f64 {
    let (m, n) = x.dim();
    let (nf, mf) = (n as f64, m as f64);
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
    let mut rho_hat = vec![0.0; n];
    rho_hat[0] = 1.0;
    if n > 1 {
        rho_hat[1] = rho(1);
    }
    let (mut rho_even, mut rho_odd) = (1.0, rho_hat.get(1).copied().unwrap_or(0.0));
    let mut t = 1;
    while t + 2 < n && rho_even + rho_odd > 0.0 {
        rho_even = rho(t + 1);
        rho_odd = rho(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho_hat[t + 1] = rho_even;
            rho_hat[t + 2] = rho_odd;
        }
        t += 2;
    }
    let max_t = t;
    if rho_even > 0.0 && max_t + 1 < n {
        rho_hat[max_t + 1] = rho_even;
    }
    // Initial monotone sequence.
    let mut t = 1;
    while t + 2 <= max_t {
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t] {
            rho_hat[t + 1] = (rho_hat[t - 1] + rho_hat[t]) / 2.0;
            rho_hat[t + 2] = rho_hat[t + 1];
        }
        t += 2;
    }
    let tau = -1.0
        + 2.0 * rho_hat[..=max_t.min(n - 1)].iter().sum::<f64>()
        + rho_hat.get(max_t + 1).copied().unwrap_or(0.0);
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
        let mut x = Array2::zeros((chains, draws));
        for c in 0..chains {
            let mut rng = member_rng(42, Purpose::Proposal, c as u64, 0);
            let mut v = 0.0;
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
        let r = rank_rhat(x.view());
        assert!((r - 1.0).abs() < 0.01, "rhat {r}");
        let e = ess_bulk(x.view());
        assert!((e / 8000.0 - 1.0).abs() < 0.1, "ess {e}");
    }

    #[test]
    fn ess_of_ar1_matches_its_integrated_autocorrelation() {
        // For AR(1), τ = (1 + φ)/(1 − φ) = 3 at φ = 0.5.
        let x = ar1(4, 5000, 0.5, 0.0);
        let e = ess_bulk(x.view());
        let expected = 20000.0 / 3.0;
        assert!((e / expected - 1.0).abs() < 0.12, "ess {e} vs {expected}");
    }

    #[test]
    fn a_shifted_chain_raises_rhat() {
        let x = ar1(4, 1000, 0.0, 1.0);
        assert!(rank_rhat(x.view()) > 1.05);
    }
}
