//! A short SVGD run on the small 2D FWI problem (configs/fwi_small_svgd.yaml, 20 of its 40
//! iterations) moves the ensemble mean toward the true model: the misfit (χ²/N) falls, the
//! error of the mean where the true model departs from the starting gradient model (the
//! anomaly) shrinks, and the mean's update correlates with the missing anomaly.

mod common;

use common::*;
use ndarray::Array2;
use ndarray_npy::ReadNpyExt;

fn npy(path: &str) -> ndarray::ArrayD<f64> {
    ndarray::ArrayD::<f64>::read_npy(std::fs::File::open(repo().join(path)).unwrap()).unwrap()
}

#[test]
fn svgd_on_a_small_fwi_problem_moves_the_mean_toward_the_true_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fwi.h5");
    run_ok(
        geobayes()
            .arg("run")
            .arg(repo().join("configs/fwi_small_svgd.yaml"))
            .args([
                "--set",
                "output.progress=off",
                "--set",
                "method.iterations=20",
                "--set",
                &format!("output.path={}", out.display()),
            ]),
    );
    let truth: Vec<f64> = npy("configs/fwi_small/truth.npy").iter().copied().collect();
    let init = npy("configs/fwi_small/init.npy");
    let init = init.into_shape_with_order((16, truth.len())).unwrap();
    let start: Vec<f64> = (0..truth.len())
        .map(|j| init.column(j).mean().unwrap())
        .collect();
    let m = f64s(&out, "posterior/m");
    let members = Array2::from_shape_vec((16, truth.len()), m).unwrap();
    let mean: Vec<f64> = (0..truth.len())
        .map(|j| members.column(j).mean().unwrap())
        .collect();
    let misfit = f64s(&out, "diagnostics/misfit");
    let anomaly: Vec<usize> = (0..truth.len())
        .filter(|&j| truth[j] - start[j] > 0.1)
        .collect();
    let rms = |v: &[f64]| -> f64 {
        (anomaly
            .iter()
            .map(|&j| (v[j] - truth[j]).powi(2))
            .sum::<f64>()
            / anomaly.len() as f64)
            .sqrt()
    };
    let (before, after) = (rms(&start), rms(&mean));
    let update: Vec<f64> = mean.iter().zip(&start).map(|(a, b)| a - b).collect();
    let missing: Vec<f64> = truth.iter().zip(&start).map(|(a, b)| a - b).collect();
    let corr = correlation(&update, &missing);
    println!(
        "misfit trace (chi2/N): {:?}",
        misfit.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>()
    );
    println!(
        "anomaly cells: {}, rms error of the mean there {before:.3} -> {after:.3} km/s; correlation of the update with (truth - start) {corr:.3}",
        anomaly.len()
    );
    // The data are informative (χ²/N ≈ 11.5 at the start): a working gradient must at least
    // halve the misfit, and move the mean toward the truth where it differs from the start.
    assert!(
        misfit[misfit.len() - 1] < 0.5 * misfit[0],
        "misfit {misfit:?}"
    );
    assert!(after < before, "anomaly error {before} -> {after}");
    assert!(corr > 0.0, "correlation {corr}");
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Shot mini-batches are unbiased: averaged over every batch of k of the 3 shots (each weighted
/// 3/k), the batch log-likelihood and its gradient equal the full ones (an identity, to
/// round-off; k = 3 is the full evaluation).
#[test]
fn shot_mini_batches_average_to_the_full_likelihood_and_gradient() {
    use geobayes::core::config::{Mode, load, spec::InitSpec};
    use geobayes::inference::validate;
    use geobayes::posterior::{Batch, LogDensity, Posterior};
    let path = repo().join("configs/fwi_small_svgd.yaml");
    let (raw, text) = load(&path, &[]).unwrap();
    let spec = validate(&raw, &path, &text, Mode::Run).unwrap();
    let posterior = Posterior::from_spec(&spec).unwrap();
    let x = posterior.initial_members(&InitSpec::Prior, 3, 2);
    let full = posterior.evaluate(x.view(), true).unwrap();
    let n = posterior.n_data_groups();
    assert_eq!(n, 3);
    for k in [1usize, 2, 3] {
        let subsets: Vec<Vec<bool>> = (0..1u32 << n)
            .filter(|mask| mask.count_ones() as usize == k)
            .map(|mask| (0..n).map(|g| mask >> g & 1 == 1).collect())
            .collect();
        let mut ll = vec![0.0; x.nrows()];
        let mut grad = ndarray::Array2::<f64>::zeros(x.raw_dim());
        for active in &subsets {
            let batch = Batch {
                active: active.clone(),
                weight: n as f64 / k as f64,
            };
            let e = posterior.evaluate_batch(x.view(), true, &batch).unwrap();
            for r in 0..x.nrows() {
                ll[r] += (e.log_likelihood[r] - full.log_likelihood[r]) / subsets.len() as f64;
            }
            grad = grad + e.grad.unwrap() / subsets.len() as f64;
        }
        let g_full = full.grad.as_ref().unwrap();
        let scale = g_full.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let g_err = (&grad - g_full).iter().map(|v| v.abs()).fold(0.0, f64::max) / scale;
        let ll_err = ll.iter().map(|v| v.abs()).fold(0.0, f64::max)
            / full
                .log_likelihood
                .iter()
                .map(|v| v.abs())
                .fold(0.0, f64::max);
        println!(
            "batches of {k}: mean log-likelihood − full: {ll_err:.2e} (relative), mean gradient − full: {g_err:.2e} (relative to the largest component)"
        );
        // The traces do not depend on the batch (same bits); the gradient's adjoint runs in f32
        // on cotangents scaled by 3/k, so it agrees to single precision (ε = 1.2e-7) times the
        // growth of rounding over the 300 adjoint steps.
        assert!(ll_err < 1e-12 && g_err < 1e-5, "k = {k}: {ll_err} {g_err}");
    }
}
