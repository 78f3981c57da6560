//! Normalizing flows against exact posteriors of analytic targets: a RealNVP flow's draws on
//! a 2-D banana match the exact marginal quantiles (by quadrature) within 3 Monte-Carlo
//! standard errors; mean-field ADVI's miss on the same target is reported beside it. Boosting
//! VI (a mixture of RealNVP flows) gets the weights of a two-mode mixture, which one flow
//! cannot.

mod common;

use common::*;
use geobayes::core::io::hdf5_util::H5Reader;

/// Exact marginal quantiles of the banana posterior of configs/analytic_banana_flow.yaml
/// (banana a = 0, b = 1, s1 = 1, s2 = 0.5 times the prior N(0, 5²) on each parameter), with
/// the marginal densities there, by midpoint quadrature on a grid holding all the mass.
fn exact_quantiles(probabilities: &[f64]) -> [Vec<(f64, f64)>; 2] {
    let (n1, n2) = (1601, 5001);
    let (lo1, hi1, lo2, hi2) = (-8.0, 8.0, -10.0, 40.0);
    let (h1, h2) = ((hi1 - lo1) / n1 as f64, (hi2 - lo2) / n2 as f64);
    let mut m1 = vec![0.0; n1];
    let mut m2 = vec![0.0; n2];
    for i in 0..n1 {
        let x1 = lo1 + (i as f64 + 0.5) * h1;
        for j in 0..n2 {
            let x2 = lo2 + (j as f64 + 0.5) * h2;
            let r = (x2 - x1 * x1) / 0.5;
            let p = (-0.5 * x1 * x1 - 0.5 * r * r - (x1 * x1 + x2 * x2) / 50.0).exp();
            m1[i] += p;
            m2[j] += p;
        }
    }
    let quantiles = |m: &[f64], lo: f64, h: f64| -> Vec<(f64, f64)> {
        let total: f64 = m.iter().sum();
        probabilities
            .iter()
            .map(|&q| {
                let mut acc = 0.0;
                for (k, v) in m.iter().enumerate() {
                    let next = acc + v / total;
                    if next >= q {
                        // Linear within the cell, density from the cell.
                        let x = lo + (k as f64 + (q - acc) / (next - acc)) * h;
                        return (x, v / total / h);
                    }
                    acc = next;
                }
                unreachable!("probabilities below 1")
            })
            .collect()
    };
    [quantiles(&m1, lo1, h1), quantiles(&m2, lo2, h2)]
}

/// The draws' quantile of parameter `j` (numpy's linear interpolation).
fn draw_quantile(m: &ndarray::ArrayD<f64>, j: usize, q: f64) -> f64 {
    let mut v: Vec<f64> = (0..m.shape()[1]).map(|k| m[[0, k, j]]).collect();
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
}

/// (parameter, probability, draws' quantile, exact, Monte-Carlo standard error) of a result.
fn compare(path: &std::path::Path) -> Vec<(usize, f64, f64, f64, f64)> {
    let probabilities = [0.05, 0.5, 0.95];
    let exact = exact_quantiles(&probabilities);
    let m = H5Reader::open(path).unwrap().f64("posterior/m").unwrap();
    let n = m.shape()[1] as f64;
    let mut rows = Vec::new();
    for j in 0..2 {
        for (k, &q) in probabilities.iter().enumerate() {
            let (x, density) = exact[j][k];
            let se = (q * (1.0 - q) / n).sqrt() / density;
            rows.push((j, q, draw_quantile(&m, j, q), x, se));
        }
    }
    rows
}

#[test]
fn a_realnvp_flow_gets_the_banana_quantiles() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("flow.h5");
    let config = repo().join("configs/analytic_banana_flow.yaml");
    run_ok(geobayes().arg("run").arg(&config).args([
        "--set",
        "output.progress=off",
        "--set",
        &format!("output.path={}", flow.display()),
    ]));
    // Mean-field ADVI on the same target, for the record.
    let mean_field = dir.path().join("mean_field.h5");
    run_ok(geobayes().arg("run").arg(&config).args([
        "--set",
        "method.flow=[{kind: linear, structure: diagonal}]",
        "--set",
        "method.step_size=0.01",
        "--set",
        "output.progress=off",
        "--set",
        &format!("output.path={}", mean_field.display()),
    ]));
    for (j, q, got, exact, se) in compare(&mean_field) {
        println!(
            "mean-field x{} q{q}: {got:.4} vs exact {exact:.4} ({:+.1} MCSE)",
            j + 1,
            (got - exact) / se
        );
    }
    for (j, q, got, exact, se) in compare(&flow) {
        println!(
            "RealNVP    x{} q{q}: {got:.4} vs exact {exact:.4} ({:+.1} MCSE)",
            j + 1,
            (got - exact) / se
        );
        assert!(
            (got - exact).abs() < 3.0 * se,
            "x{} q{q}: {got} vs {exact} ± {se}",
            j + 1
        );
    }
}

/// The share of draws in the mode at x₁ < 0 (weight 0.3), the fitted mixture weights (sorted)
/// and the component means.
fn mixture_result(path: &std::path::Path) -> (f64, Vec<f64>, ndarray::ArrayD<f64>) {
    let file = H5Reader::open(path).unwrap();
    let m = file.f64("posterior/m").unwrap();
    let n = m.shape()[1];
    let left = (0..n).filter(|&k| m[[0, k, 0]] < 0.0).count() as f64 / n as f64;
    let mut weights: Vec<f64> = file
        .f64("variational/weights")
        .unwrap()
        .iter()
        .copied()
        .collect();
    weights.sort_by(f64::total_cmp);
    (left, weights, m)
}

#[test]
fn boosting_vi_gets_the_mixture_weights() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/analytic_mixture_flow.yaml");
    let run = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        run_ok(geobayes().arg("run").arg(&config).args(extra).args([
            "--set",
            "output.progress=off",
            "--set",
            &format!("output.path={}", path.display()),
        ]));
        path
    };
    // One flow alone (the first component), for the record: it holds one mode.
    let (left, _, _) = mixture_result(&run("one.h5", &["--set", "method.components=1"]));
    println!("one RealNVP flow: share of draws in the 0.3 mode {left:.3}");
    let (left, weights, m) = mixture_result(&run("boosted.h5", &[]));
    println!(
        "boosting VI, 2 components: weights {weights:?}, share of draws in the 0.3 mode {left:.3}"
    );
    // The draws' share has a Monte-Carlo error of √(0.21/4000) = 0.007.
    assert!((left - 0.3).abs() < 0.05, "share of the 0.3 mode {left}");
    assert!(
        (weights[0] - 0.3).abs() < 0.05 && (weights[1] - 0.7).abs() < 0.05,
        "weights {weights:?}"
    );
    // Each mode's draws of x₁ sit at its mean -3 or 3 with its std 0.5 or 0.8: the bounds of
    // the linear-Gaussian test (0.05 σ, 5 %) plus three Monte-Carlo errors of n draws
    // (σ/√n for a mean, σ/√(2n) for a std).
    for (sign, std) in [(-1.0, 0.5), (1.0, 0.8)] {
        let rows: Vec<usize> = (0..m.shape()[1])
            .filter(|&k| m[[0, k, 0]] * sign > 0.0)
            .collect();
        let n = rows.len() as f64;
        let mean = rows.iter().map(|&k| m[[0, k, 0]]).sum::<f64>() / n;
        let sd = (rows
            .iter()
            .map(|&k| (m[[0, k, 0]] - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        println!(
            "mode at {}: mean {mean:.3}, std {sd:.3} ({n} draws)",
            3.0 * sign
        );
        assert!(
            (mean - 3.0 * sign).abs() < std * (0.05 + 3.0 / n.sqrt()),
            "mode mean {mean}"
        );
        assert!(
            (sd / std - 1.0).abs() < 0.05 + 3.0 / (2.0 * n).sqrt(),
            "mode std {sd} vs {std}"
        );
    }
}
