//! Prior hypotheses in one job (`hypotheses:`): B5 under three priors, shortened. The table is
//! the same bit for bit on 1, 2 and 3 ranks (one group of ranks per hypothesis, or groups
//! running several in turn), the job-array path (`run --hypothesis NAME` per task, then
//! `evidence --combine`) gives the same numbers, and results of different data are refused.

mod common;

use std::path::{Path, PathBuf};

use geobayes::core::io::hdf5_util::H5Reader;
use geobayes::core::io::output::HypothesisRow;
use geobayes::core::io::results::read_hypotheses_table;

use common::*;

const SHORT: [&str; 10] = [
    "--set",
    "method.n_temperatures=8",
    "--set",
    "method.iterations=1500",
    "--set",
    "method.burn_in=500",
    "--set",
    "method.schedule={adapt: true, rounds: 2}",
    "--set",
    "output.progress=off",
];

fn table(file: &Path) -> Vec<HypothesisRow> {
    read_hypotheses_table(&H5Reader::open(file).unwrap()).unwrap()
}

/// The numbers of a table (the files' paths differ between runs).
fn numbers(rows: &[HypothesisRow]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {}",
                r.name,
                r.estimator,
                r.log_z,
                r.log_z_error,
                r.prior_odds,
                r.posterior_probability,
                r.log_bayes_factor,
                r.log_bayes_factor_error,
                r.reliable,
                r.forward_calls
            )
        })
        .collect()
}

fn run_job(dir: &Path, label: &str, ranks: Option<usize>) -> PathBuf {
    let out = dir.join(format!("{label}.h5"));
    let mut cmd = match ranks {
        Some(n) => mpirun(n, 600),
        None => geobayes(),
    };
    run_ok(
        cmd.arg("run")
            .arg(repo().join("configs/b5_hypotheses.yaml"))
            .args(SHORT)
            .args(["--set", &format!("output.path={}", out.display())]),
    );
    out
}

#[test]
fn b5_hypotheses_give_one_table_for_any_rank_count_and_by_job_array() {
    let dir = tempfile::tempdir().unwrap();
    let plain = run_job(dir.path(), "plain", None);
    let rows = table(&plain);
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["shipped", "no_slow_layers", "broad"]
    );
    let total: f64 = rows.iter().map(|r| r.posterior_probability).sum();
    assert!((total - 1.0).abs() < 1e-12, "probabilities sum to {total}");
    let best = rows.iter().filter(|r| r.log_bayes_factor == 0.0).count();
    assert_eq!(best, 1, "one best hypothesis");
    for r in &rows {
        println!(
            "{}: log Z {:.3} ± {:.3}, p {:.4}, log BF {:.3} ± {:.3}",
            r.name,
            r.log_z,
            r.log_z_error,
            r.posterior_probability,
            r.log_bayes_factor,
            r.log_bayes_factor_error
        );
        assert!(r.log_z.is_finite() && r.log_z_error > 0.0);
        // Each hypothesis's result is a result of its own, with its evidence and name.
        let file = H5Reader::open(Path::new(&r.file)).unwrap();
        assert_eq!(file.root_text("hypothesis").unwrap(), r.name);
    }
    // The broad prior spreads its mass over models the data rule out: an Occam penalty of
    // about 10 ln(2.95/1.2) ≈ 9 nats against the shipped one.
    assert!(
        rows[2].log_z < rows[0].log_z,
        "broad {} vs shipped {}",
        rows[2].log_z,
        rows[0].log_z
    );

    #[cfg(feature = "mpi")]
    for ranks in [1, 2, 3] {
        let other = run_job(dir.path(), &format!("ranks{ranks}"), Some(ranks));
        assert_eq!(numbers(&table(&other)), numbers(&rows), "{ranks} ranks");
    }

    // The job-array path: one hypothesis per task, then --combine.
    let array = dir.path().join("array.h5");
    let mut files = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        run_ok(
            geobayes()
                .arg("run")
                .arg(repo().join("configs/b5_hypotheses.yaml"))
                .args(SHORT)
                .args([
                    "--set",
                    &format!("output.path={}", array.display()),
                    "--hypothesis",
                    // By index, as jobs/hypotheses.slurm passes the array task's.
                    &k.to_string(),
                ]),
        );
        files.push(dir.path().join(format!("array.{}.h5", r.name)));
    }
    assert!(!array.exists(), "a single hypothesis writes no table");
    let combined = dir.path().join("combined.h5");
    run_ok(
        geobayes()
            .arg("evidence")
            .arg("--combine")
            .args(&files)
            .arg("--out")
            .arg(&combined),
    );
    assert_eq!(numbers(&table(&combined)), numbers(&rows));
    let report =
        String::from_utf8(run_ok(geobayes().arg("inspect").arg(&combined)).stdout).unwrap();
    assert!(
        report.contains("evidence/hypotheses") && report.contains("no_slow_layers"),
        "{report}"
    );

    // Results of other data do not combine.
    let linear = run_config(
        dir.path(),
        "evidence_gaussian_pt.yaml",
        "other.h5",
        &["--set", "method.iterations=24000"],
    );
    let mut mixed = files.clone();
    mixed.push(linear.clone());
    let out = geobayes()
        .arg("evidence")
        .arg("--combine")
        .args(&mixed)
        .arg("--out")
        .arg(dir.path().join("mixed.h5"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fitted other data"), "{stderr}");
    assert!(!dir.path().join("mixed.h5").exists());
}

#[test]
fn b1_hypotheses_run_shortened() {
    // configs/b1_hypotheses.yaml on the quickstart's coarse forward grid, a short ladder: the
    // numbers are not converged (the full job is a cluster job), the table's parts are checked.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b1.h5");
    run_ok(
        geobayes()
            .arg("run")
            .arg(repo().join("configs/b1_hypotheses.yaml"))
            .args([
                "--set",
                "problem.forward_refine=2",
                "--set",
                "method.n_temperatures=4",
                "--set",
                "method.iterations=300",
            ])
            .args([
                "--set",
                "method.burn_in=100",
                "--set",
                "method.thin=2",
                "--set",
                "method.schedule={adapt: true, rounds: 2}",
            ])
            .args([
                "--set",
                "output.progress=off",
                "--set",
                &format!("output.path={}", out.display()),
            ]),
    );
    let rows = table(&out);
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["uniform", "smooth", "no_slow_disc"]
    );
    for r in &rows {
        let evidence = geobayes::core::io::results::read_evidence_rows(
            &H5Reader::open(Path::new(&r.file)).unwrap(),
        )
        .unwrap();
        let ss = evidence.iter().find(|e| e.estimator == "ss").unwrap();
        println!(
            "{}: log Z {:.2} ± {:.2}, prior log-normaliser {:.3} ± {:.3}: {}",
            r.name,
            ss.log_z,
            ss.log_z_error,
            ss.prior_log_normaliser,
            ss.prior_log_normaliser_error,
            ss.note
        );
        // The ladder starts at each prior itself: the smoothing term's normaliser cancels.
        assert_eq!(
            (ss.prior_log_normaliser, ss.prior_log_normaliser_error),
            (0.0, 0.0)
        );
    }
}
