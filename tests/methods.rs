//! Every method against a posterior known in closed form (linear-Gaussian), SVGD step by step
//! against an independent numpy reference, and a prior-only run against the prior.

mod common;

use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;

use common::*;

fn read_npy(path: &Path) -> Array2<f64> {
    Array2::<f64>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

fn read_data(path: &Path) -> (Array1<f64>, Array1<f64>) {
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(|w| w.parse().unwrap()).collect())
        .collect();
    (
        rows.iter().map(|r| r[0]).collect(),
        rows.iter().map(|r| r[1]).collect(),
    )
}

#[test]
fn mh_recovers_the_linear_gaussian_posterior() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mh.h5");
    run_ok(
        geobayes()
            .arg("run")
            .arg(repo().join("configs/linear_gaussian.yaml"))
            .args([
                "--set",
                "output.progress=off",
                "--set",
                &format!("output.path={}", out.display()),
            ]),
    );
    let g = read_npy(&repo().join("configs/linear/G.npy"));
    let (d, sigma) = read_data(&repo().join("configs/linear/data.txt"));
    let (mean, cov) = linear_gaussian_posterior(&g, &d, &sigma, 0.0, 1.0);
    let (m_mean, m_std) = (f64s(&out, "summary/mean"), f64s(&out, "summary/std"));
    let (rhat, ess) = (f64s(&out, "summary/rhat"), f64s(&out, "summary/ess_bulk"));
    let p = mean.len();
    assert!(p >= 20);
    println!(
        "{:>4} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "j", "mean", "exact", "z_mean", "std", "exact", "z_std", "rhat"
    );
    for j in 0..p {
        let sd = cov[[j, j]].sqrt();
        // Monte-Carlo standard errors from the bulk ESS: sd/√ESS for the mean, sd/√(2 ESS) for
        // the std of a Gaussian.
        let z_mean = (m_mean[j] - mean[j]) / (sd / ess[j].sqrt());
        let z_std = (m_std[j] - sd) / (sd / (2.0 * ess[j]).sqrt());
        println!(
            "{j:>4} {:>9.4} {:>9.4} {z_mean:>8.2} {:>8.4} {sd:>8.4} {z_std:>7.2} {:>7.4}",
            m_mean[j], mean[j], m_std[j], rhat[j]
        );
        assert!(
            z_mean.abs() < 4.0,
            "parameter {j}: mean off by {z_mean:.2} Monte-Carlo errors"
        );
        assert!(
            z_std.abs() < 4.0,
            "parameter {j}: std off by {z_std:.2} Monte-Carlo errors"
        );
        assert!(rhat[j] < 1.01, "parameter {j}: R-hat {}", rhat[j]);
        assert!(ess[j] > 400.0, "parameter {j}: ESS {}", ess[j]);
    }
    let rate = f64s(&out, "sample_stats/acceptance_rate");
    println!("acceptance rates {rate:?}");
}

/// Runs the config of tests/data/svgd_reference with `optimizer` and compares the particles
/// after ten steps with the numpy reference.
fn svgd_against_reference(optimizer: &str, step: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let reference = repo().join("tests/data/svgd_reference");
    for f in ["config.yaml", "G.npy", "data.txt", "init.npy", expected] {
        std::fs::copy(reference.join(f), dir.path().join(f)).unwrap();
    }
    run_ok(
        geobayes()
            .arg("run")
            .arg(dir.path().join("config.yaml"))
            .args([
                "--set",
                &format!("method.optimizer={optimizer}"),
                "--set",
                &format!("method.step_size={step}"),
                "--set",
                "output.progress=off",
            ]),
    );
    let got = f64s(&dir.path().join("out.h5"), "posterior/m");
    let want = read_npy(&dir.path().join(expected));
    assert_eq!(
        shape(&dir.path().join("out.h5"), "posterior/m"),
        vec![1, 6, 3]
    );
    let max_diff = got
        .iter()
        .zip(want.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("{optimizer}: max |geobayes − reference| = {max_diff:e}");
    assert!(
        max_diff < 1e-12,
        "{optimizer}: particles differ from the reference by {max_diff:e}"
    );
}

#[test]
fn svgd_ten_steps_match_the_numpy_reference() {
    svgd_against_reference("adam", "0.1", "expected_adam.npy");
    svgd_against_reference("sgd", "0.02", "expected_sgd.npy");
}

/// A linear-Gaussian problem of dimension `dim` (G = rotation × log-spaced singular values,
/// prior N(0, 1), σ = 1) written into `dir`; returns its closed-form posterior.
fn small_linear_problem(dir: &Path, dim: usize) -> (Array1<f64>, Array2<f64>) {
    let n_data = dim + 5;
    let g = Array2::from_shape_fn((n_data, dim), |(i, j)| {
        let s = 10f64.powf(j as f64 / (dim.max(2) - 1) as f64);
        s * ((i * 7 + j * 3) as f64 * 0.61).sin() / (n_data as f64 / 2.0).sqrt()
    });
    let m_true = Array1::from_iter((0..dim).map(|j| (j as f64 * 1.3).cos()));
    let d = g.dot(&m_true) + Array1::from_iter((0..n_data).map(|i| 0.3 * ((i * 13) as f64).sin()));
    write_npy(&dir.join("G.npy"), &g);
    let text: String = d.iter().map(|v| format!("{v:?} 1.0\n")).collect();
    write(dir, "data.txt", &text);
    linear_gaussian_posterior(&g, &d, &Array1::ones(n_data), 0.0, 1.0)
}

fn run_svgd(dir: &Path, particles: usize, iterations: usize) -> (Vec<f64>, Vec<f64>) {
    let cfg = format!(
        "problem: {{kind: linear, matrix: {{file: G.npy}}, data: {{file: data.txt}}}}\n\
         prior: {{kind: gaussian, mean: 0.0, std: 1.0}}\n\
         method: {{kind: svgd, n_particles: {particles}, iterations: {iterations}, step_size: 0.05, decay: {{factor: 0.5, every: {}}}}}\n\
         output: {{path: out_{particles}.h5, progress: off}}\n",
        iterations / 4
    );
    let config = write(dir, "svgd.yaml", &cfg);
    run_ok(geobayes().arg("run").arg(&config).arg("--overwrite"));
    let out = dir.join(format!("out_{particles}.h5"));
    (f64s(&out, "summary/mean"), f64s(&out, "summary/std"))
}

#[test]
fn svgd_recovers_a_two_dimensional_gaussian_posterior() {
    let dir = tempfile::tempdir().unwrap();
    let (mean, cov) = small_linear_problem(dir.path(), 2);
    let (m, s) = run_svgd(dir.path(), 100, 2000);
    for j in 0..2 {
        let sd = cov[[j, j]].sqrt();
        println!(
            "param {j}: mean {:.5} vs {:.5} ({:.3} σ), std {:.5} vs {:.5} (ratio {:.3})",
            m[j],
            mean[j],
            (m[j] - mean[j]) / sd,
            s[j],
            sd,
            s[j] / sd
        );
        assert!((m[j] - mean[j]).abs() < 0.05 * sd, "mean of parameter {j}");
        assert!((s[j] / sd - 1.0).abs() < 0.05, "std of parameter {j}");
    }
    // The kernelised Stein discrepancy² of the particles falls from the prior draws' value to
    // the scale of the U-statistic's noise (an unbiased estimate of 0 can be negative).
    let ksd = f64s(&dir.path().join("out_100.h5"), "diagnostics/ksd");
    let tail = &ksd[ksd.len() * 9 / 10..];
    let late = tail.iter().sum::<f64>() / tail.len() as f64;
    println!(
        "KSD²: first {:.4}, mean of the last 10 % {late:.2e}",
        ksd[0]
    );
    assert!(late.abs() < 0.01 * ksd[0], "KSD² {} → {late}", ksd[0]);
    assert!(ksd.iter().all(|v| v.is_finite()));
}

/// SVGD's known variance collapse in higher dimension: the mean is right, the spread shrinks;
/// the std ratio is reported for 50, 200 and 800 particles (not tuned away).
#[test]
fn svgd_in_twenty_dimensions_gets_the_mean_and_reports_the_variance_collapse() {
    let dir = tempfile::tempdir().unwrap();
    let (mean, cov) = small_linear_problem(dir.path(), 20);
    println!(
        "{:>10} {:>14} {:>16} {:>16}",
        "particles", "max |Δmean|/σ", "mean std ratio", "min std ratio"
    );
    for particles in [50, 200, 800] {
        let (m, s) = run_svgd(dir.path(), particles, 1200);
        let worst_mean = (0..20)
            .map(|j| ((m[j] - mean[j]) / cov[[j, j]].sqrt()).abs())
            .fold(0.0, f64::max);
        let ratios: Vec<f64> = (0..20).map(|j| s[j] / cov[[j, j]].sqrt()).collect();
        let avg = ratios.iter().sum::<f64>() / 20.0;
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        println!("{particles:>10} {worst_mean:>14.4} {avg:>16.3} {min:>16.3}");
        assert!(
            worst_mean < 0.1,
            "{particles} particles: mean off by {worst_mean:.3} σ"
        );
    }
}

#[test]
fn a_prior_only_run_reproduces_the_prior_marginals() {
    let dir = tempfile::tempdir().unwrap();
    copy_in(dir.path(), &["configs/linear/G.npy"]);
    let (lo, hi) = (0.5, 3.0);
    let cfg = format!(
        "problem: {{kind: linear, matrix: {{file: G.npy}}}}\n\
         prior: {{kind: uniform, lower: {lo}, upper: {hi}}}\n\
         likelihood: none\n\
         method: {{kind: mh, n_chains: 4, iterations: 40000, burn_in: 5000, thin: 5}}\n\
         output: {{path: prior.h5, progress: off}}\n"
    );
    let config = write(dir.path(), "prior.yaml", &cfg);
    run_ok(geobayes().arg("run").arg(&config));
    let out = dir.path().join("prior.h5");
    let (mean, std, q05, q95, ess) = (
        f64s(&out, "summary/mean"),
        f64s(&out, "summary/std"),
        f64s(&out, "summary/q05"),
        f64s(&out, "summary/q95"),
        f64s(&out, "summary/ess_bulk"),
    );
    let (exact_mean, exact_std) = ((lo + hi) / 2.0, (hi - lo) / 12f64.sqrt());
    for j in 0..mean.len() {
        let n = ess[j];
        // Standard errors of the mean, std and 5 %/95 % quantiles of a uniform sample of size n.
        let se_mean = exact_std / n.sqrt();
        let se_std = (hi - lo) * (1.0f64 / 180.0).sqrt() / n.sqrt() / (2.0 * exact_std) * (hi - lo);
        let se_q = (0.05f64 * 0.95 / n).sqrt() * (hi - lo);
        assert!(
            (mean[j] - exact_mean).abs() < 4.0 * se_mean,
            "param {j}: mean {}",
            mean[j]
        );
        assert!(
            (std[j] - exact_std).abs() < 4.0 * se_std,
            "param {j}: std {}",
            std[j]
        );
        assert!(
            (q05[j] - (lo + 0.05 * (hi - lo))).abs() < 4.0 * se_q,
            "param {j}: q05 {}",
            q05[j]
        );
        assert!(
            (q95[j] - (lo + 0.95 * (hi - lo))).abs() < 4.0 * se_q,
            "param {j}: q95 {}",
            q95[j]
        );
    }
    assert_eq!(
        f64s(&out, "sample_stats/log_likelihood")
            .iter()
            .filter(|v| **v != 0.0)
            .count(),
        0
    );
}
