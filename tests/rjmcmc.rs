//! RJ-McMC against known answers: the prior recovered by prior-only chains (k, nuclei and
//! values; both birth kernels, both kinds of nuclei, tempered), the exactly enumerable 12-node
//! case (scripts/make_rj_linear.py), and the noise scale of data made with twice the σ given.

mod common;

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use common::*;

/// Kolmogorov–Smirnov distance of `sample` from the CDF `cdf`.
fn ks_distance(sample: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
    sample.sort_by(f64::total_cmp);
    let n = sample.len() as f64;
    sample
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// Pearson's χ² of `counts` against equal expected counts.
fn chi2_uniform(counts: &[f64]) -> f64 {
    let expected = counts.iter().sum::<f64>() / counts.len() as f64;
    counts
        .iter()
        .map(|c| (c - expected).powi(2) / expected)
        .sum()
}

/// χ² quantiles at 0.999 for the degrees of freedom used here (scipy.stats.chi2.ppf).
fn chi2_999(df: usize) -> f64 {
    match df {
        3 => 16.266,
        11 => 31.264,
        _ => panic!("no χ² quantile tabulated for {df} degrees of freedom"),
    }
}

/// The KS distance at 0.999 for n iid draws (asymptotic: 1.949 / √n).
fn ks_999(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

#[test]
fn prior_only_chains_sample_the_trans_dimensional_prior() {
    // 400 chains start from prior draws and take 2000 moves each: if every move keeps the
    // prior invariant, their final states are 400 independent prior draws (k uniform on
    // [1, 4], nuclei uniform in the 4 × 3 grid's box or over its 12 nodes, values U[0.5, 3]),
    // so the tests are the iid ones at level 0.001.
    let dir = tempfile::tempdir().unwrap();
    copy_in(dir.path(), &["configs/rj_linear/G.npy"]);
    let variants = [
        ("continuous", "prior", ""),
        ("continuous", "neighbour", ""),
        ("nodes", "prior", ""),
        ("nodes", "neighbour", ""),
        (
            "nodes",
            "neighbour",
            ", tempering: {betas: [0.0, 0.5, 1.0], swap_every: 2}",
        ),
    ];
    for (k, (nuclei, birth, tempering)) in variants.iter().enumerate() {
        let cfg = format!(
            "problem: {{kind: linear, matrix: {{file: G.npy}}, grid: {{shape: [4, 3]}}}}\n\
             prior: {{kind: uniform, lower: 0.5, upper: 3.0}}\n\
             likelihood: none\n\
             seed: {k}\n\
             method: {{kind: rjmcmc, n_chains: 400, iterations: 2001, burn_in: 2000, cells: {{min: 1, max: 4}}, nuclei: {nuclei}, birth: {birth}, proposal: {{value: 0.4, position: 0.8, birth: 0.3}}{tempering}}}\n\
             parallel: {{threads: 1}}\n\
             output: {{path: prior{k}.h5, progress: off}}\n"
        );
        let config = write(dir.path(), &format!("prior{k}.yaml"), &cfg);
        run_ok(geobayes().arg("run").arg(&config));
        let out = dir.path().join(format!("prior{k}.h5"));
        let n_cells = f64s(&out, "sample_stats/n_cells");
        assert_eq!(n_cells.len(), 400);
        let mut counts = [0.0; 4];
        for &c in &n_cells {
            counts[c as usize - 1] += 1.0;
        }
        let chi2_k = chi2_uniform(&counts);
        let nuclei_xy = f64s(&out, "cells/nuclei");
        let mut values = f64s(&out, "cells/values");
        assert_eq!(values.len() as f64, n_cells.iter().sum::<f64>());
        let d_values = ks_distance(&mut values, |v| ((v - 0.5) / 2.5).clamp(0.0, 1.0));
        let n = values.len();
        let (mut xs, mut ys): (Vec<f64>, Vec<f64>) =
            nuclei_xy.chunks(2).map(|p| (p[0], p[1])).unzip();
        let position_stat = if *nuclei == "continuous" {
            // The box is [0, 3] × [0, 2] in index units.
            let dx = ks_distance(&mut xs, |x| (x / 3.0).clamp(0.0, 1.0));
            let dy = ks_distance(&mut ys, |y| (y / 2.0).clamp(0.0, 1.0));
            println!(
                "{nuclei} {birth}{tempering}: KS of nuclei x {dx:.4}, y {dy:.4} (0.999: {:.4})",
                ks_999(n)
            );
            assert!(
                dx < ks_999(n) && dy < ks_999(n),
                "nuclei not uniform: {dx}, {dy}"
            );
            dx.max(dy)
        } else {
            let mut per_node = [0.0; 12];
            for (x, y) in xs.iter().zip(&ys) {
                per_node[(*y as usize) * 4 + *x as usize] += 1.0;
            }
            let chi2 = chi2_uniform(&per_node);
            println!(
                "{nuclei} {birth}{tempering}: χ² of nuclei over nodes {chi2:.2} (0.999: {})",
                chi2_999(11)
            );
            assert!(
                chi2 < chi2_999(11),
                "nuclei not uniform over the nodes: {per_node:?}"
            );
            chi2
        };
        println!(
            "  k counts {counts:?}: χ² {chi2_k:.2} (0.999: {}); KS of {n} values {d_values:.4} (0.999: {:.4}); nuclei {position_stat:.4}",
            chi2_999(3),
            ks_999(n)
        );
        assert!(chi2_k < chi2_999(3), "k not uniform: {counts:?}");
        assert!(
            d_values < ks_999(n),
            "values do not follow the prior: KS {d_values}"
        );
        if !tempering.is_empty() {
            // Every swap round (during the 2000 moves) exchanged its pairs: ℓ = 0 at every β.
            let swaps: Vec<f64> = f64s(&out, "diagnostics/swap_acceptance")
                .into_iter()
                .filter(|a| !a.is_nan())
                .collect();
            assert!(swaps.len() >= 1000, "{} swap rounds traced", swaps.len());
            assert!(
                swaps.iter().all(|&a| a == 1.0),
                "prior-only swaps are always accepted"
            );
        }
    }
}

#[test]
fn the_enumerable_case_matches_the_exact_posterior_over_k_and_the_mean_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_config(dir.path(), "rj_linear.yaml", "rj.h5", &[]);
    let exact: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("configs/rj_linear/exact.json")).unwrap(),
    )
    .unwrap();
    let p_exact: Vec<f64> = exact["p_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mean_exact: Vec<f64> = exact["mean"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let n_cells = f64s(&out, "sample_stats/n_cells");
    let mean = f64s(&out, "summary/mean");
    let mcse = f64s(&out, "summary/mcse_mean");
    println!("{:>3} {:>9} {:>9}", "k", "p(k|d)", "exact");
    for k in 1..=4 {
        let p = n_cells.iter().filter(|&&c| c as usize == k).count() as f64 / n_cells.len() as f64;
        println!("{k:>3} {p:>9.4} {:>9.4}", p_exact[k - 1]);
        assert!(
            (p - p_exact[k - 1]).abs() < 0.01,
            "p({k} | d) = {p}, exact {}",
            p_exact[k - 1]
        );
    }
    println!("{:>5} {:>8} {:>8} {:>7}", "node", "mean", "exact", "z");
    for j in 0..12 {
        let z = (mean[j] - mean_exact[j]) / mcse[j];
        println!("{j:>5} {:>8.4} {:>8.4} {z:>7.2}", mean[j], mean_exact[j]);
        assert!(
            z.abs() < 3.0,
            "node {j}: mean {} vs {} (MCSE {})",
            mean[j],
            mean_exact[j],
            mcse[j]
        );
    }
}

#[test]
fn hierarchical_noise_recovers_twice_the_given_sigma() {
    // 400 blurred data of the 12-node profile with noise σ_true = 0.4, the config saying 0.2:
    // λ's posterior is centred near 2 with sd ≈ 2 / √(2 · 400) = 0.07.
    let dir = tempfile::tempdir().unwrap();
    let (n_data, nodes) = (400, 12);
    let g = Array2::from_shape_fn((n_data, nodes), |(i, j)| {
        let x = 11.0 * i as f64 / (n_data - 1) as f64;
        (-0.5 * ((x - j as f64) / 1.2).powi(2)).exp()
    });
    let g = &g / &g.sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1));
    let m_true = Array1::from_iter((0..nodes).map(|j| {
        if j < 4 {
            1.0
        } else if j < 9 {
            3.0
        } else {
            2.0
        }
    }));
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let d: Vec<f64> = g
        .dot(&m_true)
        .iter()
        .map(|v| v + 0.4 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
        .collect();
    write_npy(&dir.path().join("G.npy"), &g);
    write(
        dir.path(),
        "data.txt",
        &d.iter().map(|v| format!("{v:?} 0.2\n")).collect::<String>(),
    );
    let cfg = "problem: {kind: linear, matrix: {file: G.npy}, data: {file: data.txt}, grid: {shape: [12]}}\n\
               prior: {kind: uniform, lower: 0.0, upper: 4.0}\n\
               seed: 3\n\
               method: {kind: rjmcmc, n_chains: 4, iterations: 30000, burn_in: 5000, thin: 5, cells: {min: 1, max: 8}, nuclei: nodes, birth: neighbour, noise: {lower: 0.5, upper: 5.0}, proposal: {value: 0.1, position: 1.5, birth: 0.3, noise: 0.1}}\n\
               parallel: {threads: 1}\n\
               output: {path: noise.h5, progress: off}\n";
    let config = write(dir.path(), "noise.yaml", cfg);
    run_ok(geobayes().arg("run").arg(&config));
    let lambda = f64s(&dir.path().join("noise.h5"), "sample_stats/noise_scale");
    let mean = lambda.iter().sum::<f64>() / lambda.len() as f64;
    let sd =
        (lambda.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (lambda.len() - 1) as f64).sqrt();
    println!("λ: posterior mean {mean:.4}, sd {sd:.4} (data made with λ = 2)");
    assert!((mean - 2.0).abs() < 3.0 * sd, "E[λ] = {mean} ± {sd}");
    assert!(sd < 0.1, "sd(λ) = {sd}");
}

/// The retained cells of every draw project to the draw's model (posterior/m).
#[test]
fn the_kept_cells_are_the_models_in_the_posterior() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_config(
        dir.path(),
        "rj_linear.yaml",
        "short.h5",
        &[
            "--set",
            "method.iterations=400",
            "--set",
            "method.burn_in=200",
            "--set",
            "method.nuclei=continuous",
        ],
    );
    let m = f64s(&out, "posterior/m");
    let offsets = f64s(&out, "cells/offsets");
    let counts = f64s(&out, "cells/n_cells");
    let nuclei = f64s(&out, "cells/nuclei");
    let values = f64s(&out, "cells/values");
    assert_eq!(offsets.len(), 4 * 20);
    for (draw, (&start, &k)) in offsets.iter().zip(&counts).enumerate() {
        let (start, k) = (start as usize, k as usize);
        for node in 0..12 {
            // Nearest nucleus, the first on ties.
            let mut best = (f64::INFINITY, 0);
            for j in 0..k {
                let d = (nuclei[start + j] - node as f64).abs();
                if d < best.0 {
                    best = (d, j);
                }
            }
            assert_eq!(
                m[draw * 12 + node],
                values[start + best.1],
                "draw {draw} node {node}"
            );
        }
    }
}
