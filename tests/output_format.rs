//! The result file opens with h5py, `xarray.open_dataset(path, group="posterior")` and
//! `arviz.from_netcdf(path)`, with DESIGN.md's names and shapes (tests/python/check_output.py,
//! run with the pinned readers of tests/python/requirements.txt in .venv).

mod common;

use std::process::Command;

use common::*;

fn python() -> std::path::PathBuf {
    let venv = repo().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "the output-format test needs the pinned Python readers: run scripts/setup.sh (it creates .venv)"
    );
    venv
}

fn check(method_args: &[&str], method: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.h5");
    run_ok(
        geobayes()
            .arg("run")
            .arg(repo().join("configs/quickstart.yaml"))
            .args(method_args)
            .args([
                "--set",
                "problem.forward_refine=1",
                "--set",
                "output.progress=off",
                "--set",
                &format!("output.path={}", out.display()),
            ]),
    );
    let check = run_ok(
        Command::new(python())
            .arg(repo().join("tests/python/check_output.py"))
            .arg(&out)
            .arg(method),
    );
    println!("{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn svgd_output_opens_with_h5py_xarray_and_arviz() {
    check(&["--set", "method.iterations=5"], "svgd");
}

#[test]
fn pt_output_opens_with_h5py_xarray_and_arviz() {
    check(
        &[
            "--set",
            "method={kind: pt, n_temperatures: 4, chains_per_temperature: 2, iterations: 60, burn_in: 30, thin: 2, swap_every: 2, schedule: {rounds: 2}}",
            "--set",
            "evidence={estimators: [ss, ti]}",
        ],
        "pt",
    );
}

#[test]
fn ssvgd_output_opens_with_h5py_xarray_and_arviz() {
    check(
        &[
            "--set",
            "method={kind: ssvgd, n_particles: 4, iterations: 30, burn_in: 10, thin: 2, step_size: 0.001, metropolis: true}",
        ],
        "ssvgd",
    );
}

#[test]
fn rjmcmc_output_opens_with_h5py_xarray_and_arviz() {
    check(
        &[
            "--set",
            "method={kind: rjmcmc, n_chains: 4, iterations: 40, burn_in: 20, thin: 2, cells: {min: 2, max: 10}}",
        ],
        "rjmcmc",
    );
}

#[test]
fn mh_output_opens_with_h5py_xarray_and_arviz() {
    check(
        &[
            "--set",
            "method={kind: mh, n_chains: 4, iterations: 60, burn_in: 20, thin: 2}",
        ],
        "mh",
    );
}
