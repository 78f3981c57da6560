//! Parallel tempering against targets with known answers: the communication barrier of a
//! Gaussian (Λ(β) = ½ ln(1 + 9β)) and its posterior, and the weights of a bimodal mixture that a
//! single-temperature random walk cannot cross.

mod common;

use std::path::Path;

use common::*;

/// Piecewise-linear interpolation of (xs, ys) at x (xs increasing, x within them).
fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let j = xs
        .windows(2)
        .position(|w| x <= w[1])
        .unwrap_or(xs.len() - 2);
    let w = (x - xs[j]) / (xs[j + 1] - xs[j]);
    ys[j] + w * (ys[j + 1] - ys[j])
}

#[test]
fn the_barrier_of_a_gaussian_is_half_log_one_plus_nine_beta_and_the_posterior_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_config(dir.path(), "analytic_gaussian_pt.yaml", "pt.h5", &[]);
    let betas = f64s(&out, "tempering/betas");
    let barrier = f64s(&out, "tempering/barrier");
    let swap = f64s(&out, "tempering/swap_acceptance");
    let trips = f64s(&out, "tempering/round_trips");
    let rounds = shape(&out, "tempering/schedule")[0];
    println!("frozen ladder after {} adaptation rounds", rounds - 1);
    println!("{:>8} {:>9} {:>9}", "beta", "Lambda", "exact");
    for (b, l) in betas.iter().zip(&barrier) {
        println!("{b:>8.4} {l:>9.4} {:>9.4}", 0.5 * (9.0 * b).ln_1p());
    }
    println!("swap acceptance per pair {swap:.3?}");
    println!("round trips per ladder {trips:?}");
    assert_eq!(betas[0], 0.0);
    assert_eq!(*betas.last().unwrap(), 1.0);
    assert!(betas.windows(2).all(|w| w[1] > w[0]));
    // The schedule equalises the barrier: every pair's rejection rate near Λ(1)/N, so the swap
    // acceptances lie close together.
    assert!(
        swap.iter().all(|a| (a - swap[0]).abs() < 0.03),
        "swap acceptance {swap:?}"
    );
    assert!(trips.iter().all(|&n| n > 1000.0), "round trips {trips:?}");
    // Λ from the Rao-Blackwellised rejection rates at 11 β (between ladder points: linear;
    // the interpolation error is below |Λ''| Δβ²/8 ≈ 0.001 on this ladder).
    for k in 0..=10 {
        let b = k as f64 / 10.0;
        let estimate = interpolate(&betas, &barrier, b);
        let exact = 0.5 * (9.0 * b).ln_1p();
        assert!(
            (estimate - exact).abs() < 0.01,
            "Λ({b}) = {estimate}, exact {exact}"
        );
    }
    // The β = 1 chains: N(0, 1/10) per parameter, within 4 Monte-Carlo standard errors.
    let (mean, std) = (f64s(&out, "summary/mean"), f64s(&out, "summary/std"));
    let (mcse_mean, mcse_sd) = (
        f64s(&out, "summary/mcse_mean"),
        f64s(&out, "summary/mcse_sd"),
    );
    let rhat = f64s(&out, "summary/rhat");
    for j in 0..2 {
        println!(
            "param {j}: mean {:.4} ± {:.4}, std {:.4} ± {:.4} (exact 0, {:.4}), R-hat {:.4}",
            mean[j],
            mcse_mean[j],
            std[j],
            mcse_sd[j],
            0.1f64.sqrt(),
            rhat[j]
        );
        assert!(mean[j].abs() < 4.0 * mcse_mean[j], "mean {j}");
        assert!((std[j] - 0.1f64.sqrt()).abs() < 4.0 * mcse_sd[j], "std {j}");
        assert!(rhat[j] < 1.01);
    }
    // Every chain's log-likelihood after burn-in is kept on the frozen ladder.
    let series = shape(&out, "tempering/log_likelihood");
    assert_eq!(series[..2], [betas.len(), 2]);
    assert_eq!(series[2], shape(&out, "posterior/m")[1]);
}

/// The share of draws at m < 0 (the mode of weight 0.3) and the number of mode switches summed
/// over chains.
fn mode_share(path: &Path) -> (f64, usize) {
    let m = geobayes::core::io::hdf5_util::H5Reader::open(path)
        .unwrap()
        .f64("posterior/m")
        .unwrap();
    let (chains, draws) = (m.shape()[0], m.shape()[1]);
    let mut left = 0usize;
    let mut switches = 0usize;
    for c in 0..chains {
        for k in 0..draws {
            left += usize::from(m[[c, k, 0]] < 0.0);
            if k > 0 && (m[[c, k, 0]] < 0.0) != (m[[c, k - 1, 0]] < 0.0) {
                switches += 1;
            }
        }
    }
    (left as f64 / (chains * draws) as f64, switches)
}

#[test]
fn tempering_gets_the_mixture_weights_that_a_single_temperature_walk_misses() {
    let dir = tempfile::tempdir().unwrap();
    let pt = run_config(dir.path(), "analytic_mixture_pt.yaml", "pt.h5", &[]);
    let (share, switches) = mode_share(&pt);
    let trips = f64s(&pt, "tempering/round_trips");
    println!(
        "PT: share of the 0.3 mode {share:.4}, {switches} mode switches, round trips {trips:?}"
    );
    // Single-temperature MH: the same four chains at β = 1 only, as long.
    let mh = run_config(
        dir.path(),
        "analytic_mixture_pt.yaml",
        "mh.h5",
        &[
            "--set",
            "method={kind: mh, n_chains: 4, iterations: 100000, burn_in: 10000}",
        ],
    );
    let (mh_share, mh_switches) = mode_share(&mh);
    println!("MH: share of the 0.3 mode {mh_share:.4}, {mh_switches} mode switches");
    // ≥ 5000 switches: the share's Monte-Carlo error is below √(0.21 / 5000) ≈ 0.0065 even if
    // only the switches carried information.
    assert!(switches >= 5000, "{switches} mode switches");
    assert!((share - 0.3).abs() < 0.02, "PT share {share}");
    assert!((mh_share - 0.3).abs() > 0.02, "MH share {mh_share}");
    assert_eq!(mh_switches, 0, "MH crossed between modes 40 stds apart");
}
