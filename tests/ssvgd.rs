//! Stochastic SVGD against known answers: a 50-dimensional linear-Gaussian posterior (condition
//! number 100) where plain SVGD collapses, the mode weights of a bimodal mixture with the
//! Metropolis-adjusted variant, and the diagonal kernel against the RBF kernel.

mod common;

use ndarray::{Array1, Array2};

use common::*;

/// d = G m + e with G = diag(s) Vᵀ, V the orthogonal DCT-IV basis and 1 + s_j² log-spaced over
/// [1, 100], σ = 1, prior N(0, I): the posterior precision V diag(1 + s²) Vᵀ has condition
/// number 100 and eigenvectors that mix every parameter. Writes G.npy and data.txt.
fn conditioned_linear_problem(dir: &std::path::Path, dim: usize) -> (Array1<f64>, Array2<f64>) {
    let n = dim as f64;
    let v = Array2::from_shape_fn((dim, dim), |(j, k)| {
        (2.0 / n).sqrt() * (std::f64::consts::PI * (j as f64 + 0.5) * (k as f64 + 0.5) / n).cos()
    });
    let s: Vec<f64> = (0..dim)
        .map(|j| (100f64.powf(j as f64 / (n - 1.0)) - 1.0).sqrt())
        .collect();
    let g = Array2::from_shape_fn((dim, dim), |(i, a)| s[i] * v[[a, i]]);
    let m_true = Array1::from_iter((0..dim).map(|j| (j as f64 * 1.3).cos()));
    let d = g.dot(&m_true) + Array1::from_iter((0..dim).map(|i| 0.3 * ((i * 13) as f64).sin()));
    write_npy(&dir.join("G.npy"), &g);
    let text: String = d.iter().map(|x| format!("{x:?} 1.0\n")).collect();
    write(dir, "data.txt", &text);
    linear_gaussian_posterior(&g, &d, &Array1::ones(dim), 0.0, 1.0)
}

/// Mean |Δmean|/σ and mean variance ratio over the parameters of a result.
fn errors(out: &std::path::Path, mean: &Array1<f64>, cov: &Array2<f64>) -> (f64, f64) {
    let (m, s) = (f64s(out, "summary/mean"), f64s(out, "summary/std"));
    let p = mean.len() as f64;
    let mean_error = (0..mean.len())
        .map(|j| ((m[j] - mean[j]) / cov[[j, j]].sqrt()).abs())
        .sum::<f64>()
        / p;
    let variance_ratio = (0..mean.len())
        .map(|j| s[j] * s[j] / cov[[j, j]])
        .sum::<f64>()
        / p;
    (mean_error, variance_ratio)
}

#[test]
fn stochastic_svgd_samples_a_conditioned_gaussian_where_svgd_collapses() {
    // 50 particles in 50 dimensions: the median kernel's off-diagonal entries are ≈ 1/51, so
    // sSVGD is close to Langevin dynamics with step ε/50 = 0.002 (ε λ_max / n = 0.2). The
    // slowest direction (λ = 1) relaxes in ≈ 1/(0.002) = 500 iterations: 16,000 iterations
    // after burn-in give ≈ 16 independent draws per particle, 800 in all, so the MCSE of a
    // mean is ≈ 0.035 σ and of a variance ratio ≈ √(2/800) = 5 % per parameter; the averages
    // over 50 parameters are bounded at 0.1 σ and ±10 %. The discretisation bias of the
    // variance, (ε/n) λ / 2 per eigen-direction, averages to 0.5 %.
    let dir = tempfile::tempdir().unwrap();
    let dim = 50;
    let (mean, cov) = conditioned_linear_problem(dir.path(), dim);
    let problem = "problem: {kind: linear, matrix: {file: G.npy}, data: {file: data.txt}}\n\
                   prior: {kind: gaussian, mean: 0.0, std: 1.0}\n\
                   seed: 4\n";
    let run = |name: &str, method: &str| {
        let cfg =
            format!("{problem}method: {method}\noutput: {{path: {name}.h5, progress: off}}\n");
        let config = write(dir.path(), &format!("{name}.yaml"), &cfg);
        run_ok(geobayes().arg("run").arg(&config).arg("--overwrite"));
        dir.path().join(format!("{name}.h5"))
    };
    let ssvgd = run(
        "ssvgd",
        "{kind: ssvgd, n_particles: 50, iterations: 20000, burn_in: 4000, thin: 20, step_size: 0.1}",
    );
    let svgd = run(
        "svgd",
        "{kind: svgd, n_particles: 50, iterations: 4000, step_size: 0.05, decay: {factor: 0.5, every: 1000}}",
    );
    let (ssvgd_mean, ssvgd_var) = errors(&ssvgd, &mean, &cov);
    let (svgd_mean, svgd_var) = errors(&svgd, &mean, &cov);
    println!(
        "{:>8} {:>16} {:>22}",
        "method", "mean |Δmean|/σ", "mean variance ratio"
    );
    println!("{:>8} {ssvgd_mean:>16.4} {ssvgd_var:>22.4}", "ssvgd");
    println!("{:>8} {svgd_mean:>16.4} {svgd_var:>22.4}", "svgd");
    assert_eq!(shape(&ssvgd, "posterior/m"), [1, 800 * 50, dim]);
    assert!(ssvgd_mean < 0.1, "sSVGD mean error {ssvgd_mean}");
    assert!(
        (0.9..=1.1).contains(&ssvgd_var),
        "sSVGD variance ratio {ssvgd_var}"
    );
}

#[test]
fn metropolis_adjusted_stochastic_svgd_recovers_mixture_weights_where_the_unadjusted_step_is_biased()
 {
    let dir = tempfile::tempdir().unwrap();
    let share = |out: &std::path::Path| {
        let m = f64s(out, "posterior/m");
        // Per kept iteration, the share of the 8 particles in the left mode; batch means over
        // 50 blocks of iterations for its MCSE.
        let per_iteration: Vec<f64> = m
            .chunks(8)
            .map(|c| c.iter().filter(|v| **v < 0.0).count() as f64 / 8.0)
            .collect();
        let blocks = 50;
        let len = per_iteration.len() / blocks;
        let means: Vec<f64> = (0..blocks)
            .map(|b| per_iteration[b * len..(b + 1) * len].iter().sum::<f64>() / len as f64)
            .collect();
        let mean = means.iter().sum::<f64>() / blocks as f64;
        let var = means.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (blocks - 1) as f64;
        (mean, (var / blocks as f64).sqrt())
    };
    let adjusted = run_config(
        dir.path(),
        "analytic_mixture_ssvgd.yaml",
        "adjusted.h5",
        &[],
    );
    let unadjusted = run_config(
        dir.path(),
        "analytic_mixture_ssvgd.yaml",
        "unadjusted.h5",
        &[
            "--set",
            "method.metropolis=false",
            "--set",
            "method.jitter=0.1",
        ],
    );
    // The modes overlap: P(m < 0) = w Φ(2) + (1 − w) Φ(−2) for the left weight w, so w is
    // estimated as (P − Φ(−2)) / (Φ(2) − Φ(−2)) (Φ(−2) = 0.0227501319481792).
    let tail = 0.022_750_131_948_179_2;
    let weight = |(p, se): (f64, f64)| ((p - tail) / (1.0 - 2.0 * tail), se / (1.0 - 2.0 * tail));
    let (a, a_se) = weight(share(&adjusted));
    let (u, u_se) = weight(share(&unadjusted));
    let acceptance = f64s(&adjusted, "sample_stats/acceptance_rate")[0];
    println!(
        "weight of the left mode (exact 0.3): Metropolis-adjusted {a:.4} ± {a_se:.4} (acceptance {acceptance:.3}), unadjusted {u:.4} ± {u_se:.4}"
    );
    assert!((a - 0.3).abs() < 0.02, "adjusted share {a}");
    assert!(a_se < 0.007, "the run is too short to tell: MCSE {a_se}");
    // The same step without the test is biased by several MCSE (it is why the test exists).
    assert!(
        (u - 0.3).abs() > 4.0 * u_se,
        "unadjusted share {u} ± {u_se}"
    );
}

#[test]
fn svgd_with_the_diagonal_kernel_of_constant_scale_one_reproduces_rbf_svgd() {
    let dir = tempfile::tempdir().unwrap();
    let svgd = "{kind: svgd, n_particles: 12, iterations: 200, step_size: 0.05, kernel: ";
    let run = |name: &str, kernel: &str| {
        run_config(
            dir.path(),
            "linear_gaussian.yaml",
            name,
            &["--set", &format!("method={svgd}{kernel}}}")],
        )
    };
    let rbf = f64s(&run("rbf.h5", "{kind: rbf}"), "posterior/m");
    let diagonal = f64s(
        &run(
            "diagonal.h5",
            "{kind: diagonal, scale: constant, value: 1.0}",
        ),
        "posterior/m",
    );
    let worst = rbf
        .iter()
        .zip(&diagonal)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("max |Δ| over the 12 × 20 final particles: {worst:e}");
    assert!(worst <= 1e-12, "{worst}");
}
