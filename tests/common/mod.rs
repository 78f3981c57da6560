//! Helpers shared by the integration tests: running the binary (plainly or under mpirun),
//! writing configs into temporary directories, comparing result files, and the closed-form
//! linear-Gaussian posterior.
#![allow(dead_code)]

pub mod dispersion_cases;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use geobayes::core::io::hdf5_util::H5Reader;
use geobayes::core::io::names::{NON_REPRODUCIBLE, attr, group};
use geobayes::core::linalg::{cholesky, inverse_from_cholesky};
use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt;

pub const BIN: &str = env!("CARGO_BIN_EXE_geobayes");

/// The repository root: `GEOBAYES_REPO` where set (prebuilt test binaries run from another
/// checkout, scripts/gpu-check.sh), else the one the tests were built in.
pub fn repo() -> PathBuf {
    std::env::var_os("GEOBAYES_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The geobayes command, without test hooks from the environment.
pub fn geobayes() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("GEOBAYES_TEST_ABORT_AFTER_CHECKPOINT")
        .env_remove("GEOBAYES_TEST_ABORT_DURING_WRITE");
    c
}

/// `mpirun -n ranks geobayes ...` (OpenMPI, as root, oversubscribed, one thread per rank),
/// under a timeout so that a hanging rank fails the test instead of the CI job.
pub fn mpirun(ranks: usize, timeout_s: u32) -> Command {
    let mut c = Command::new("timeout");
    c.arg(timeout_s.to_string())
        .args(["mpirun", "-n", &ranks.to_string(), "--oversubscribe", BIN])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("GEOBAYES_TEST_ABORT_AFTER_CHECKPOINT")
        .env_remove("GEOBAYES_TEST_ABORT_DURING_WRITE");
    c
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "command failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes `text` as `name` into `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Copies repository files into `dir` (keeping their file names).
pub fn copy_in(dir: &Path, repo_paths: &[&str]) {
    for p in repo_paths {
        let src = repo().join(p);
        std::fs::copy(&src, dir.join(src.file_name().unwrap())).unwrap();
    }
}

pub fn f64s(file: &Path, dataset: &str) -> Vec<f64> {
    H5Reader::open(file)
        .unwrap()
        .f64(dataset)
        .unwrap()
        .iter()
        .copied()
        .collect()
}

pub fn shape(file: &Path, dataset: &str) -> Vec<usize> {
    H5Reader::open(file)
        .unwrap()
        .f64(dataset)
        .unwrap()
        .shape()
        .to_vec()
}

pub fn root_text(file: &Path, name: &str) -> String {
    H5Reader::open(file).unwrap().root_text(name).unwrap()
}

/// Asserts that two result files hold bit-identical arrays in every group DESIGN.md lists
/// (posterior, sample_stats, observed_data, summary, diagnostics), except wall-clock traces.
pub fn assert_identical_results(a: &Path, b: &Path) {
    let (fa, fb) = (H5Reader::open(a).unwrap(), H5Reader::open(b).unwrap());
    let mut compared = 0;
    for g in [
        group::POSTERIOR,
        group::SAMPLE_STATS,
        group::OBSERVED_DATA,
        group::SUMMARY,
        group::DIAGNOSTICS,
        group::VARIATIONAL,
        group::TEMPERING,
        group::CELLS,
        group::EVIDENCE,
    ] {
        let (na, nb) = (
            fa.dataset_names(g).unwrap_or_default(),
            fb.dataset_names(g).unwrap_or_default(),
        );
        assert_eq!(na, nb, "datasets of group {g} differ");
        for name in na {
            if NON_REPRODUCIBLE.contains(&name.as_str()) {
                continue;
            }
            let path = format!("{g}/{name}");
            if let (Ok(x), Ok(y)) = (fa.strings(&path), fb.strings(&path)) {
                assert_eq!(x, y, "{path} ({} vs {})", a.display(), b.display());
                compared += 1;
                continue;
            }
            let (va, vb) = match (fa.f64(&path), fb.f64(&path)) {
                (Ok(x), Ok(y)) => (x, y),
                _ => (
                    fa.i64(&path).unwrap().mapv(|v| v as f64),
                    fb.i64(&path).unwrap().mapv(|v| v as f64),
                ),
            };
            assert_eq!(va.shape(), vb.shape(), "{path}: shapes differ");
            for (k, (x, y)) in va.iter().zip(vb.iter()).enumerate() {
                assert!(
                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                    "{path}[{k}]: {x:e} vs {y:e} ({} vs {})",
                    a.display(),
                    b.display()
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 8, "only {compared} datasets compared");
    for name in [attr::FORWARD_CALLS, attr::ADJOINT_CALLS, attr::TERMINATION] {
        assert_eq!(
            format!("{:?}", fa.root_attr(name).unwrap()),
            format!("{:?}", fb.root_attr(name).unwrap()),
            "root attribute {name} ({} vs {})",
            a.display(),
            b.display()
        );
    }
}

/// Runs a kernel file of kernels/ on the CPU (tests without a GPU): compiles the source NVRTC
/// gets for `kernels/{kernel}` (`geobayes::gpu::KERNELS`) as C++ together with the host driver
/// `tests/emulation/{driver}` (which launches the kernel's threads one after another,
/// tests/emulation/cuda_host.h), feeds it `input` on stdin and returns its stdout. Same rounding
/// rules as the device build: no contraction into fused multiply-adds.
pub fn run_kernel_on_host(kernel: &str, driver: &str, input: &str) -> String {
    run_kernels_on_host(&[kernel], driver, input)
}

/// [`run_kernel_on_host`] for a driver that launches the kernels of several files.
pub fn run_kernels_on_host(kernels: &[&str], driver: &str, input: &str) -> String {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("driver");
    let emulation = repo().join("tests/emulation");
    let sources: Vec<PathBuf> = kernels
        .iter()
        .map(|&name| {
            let kernel = geobayes::gpu::KERNELS
                .iter()
                .find(|k| k.file == name)
                .unwrap_or_else(|| panic!("kernels/{name} is not in gpu::KERNELS"));
            let path = dir.path().join(name);
            std::fs::write(&path, kernel.source).unwrap();
            path
        })
        .collect();
    let out = Command::new("c++")
        .args(["-std=c++17", "-O2", "-ffp-contract=off", "-include"])
        .arg(emulation.join("cuda_host.h"))
        .args(["-x", "c++"])
        .args(&sources)
        .arg(emulation.join(driver))
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("a C++ compiler (c++, from build-essential) runs the kernel emulation");
    assert!(
        out.status.success(),
        "compiling kernels/{kernels:?} with tests/emulation/{driver}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(&exe)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tests/emulation/{driver}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// max |a − b| / max |b| (the relative error in the max norm).
pub fn relative_max_error(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    err / scale
}

/// Runs a shipped config with `overrides` into `dir/name`.
pub fn run_config(dir: &Path, config: &str, name: &str, overrides: &[&str]) -> PathBuf {
    let path = dir.join(name);
    run_ok(
        geobayes()
            .arg("run")
            .arg(repo().join("configs").join(config))
            .args(overrides)
            .args([
                "--set",
                "output.progress=off",
                "--set",
                &format!("output.path={}", path.display()),
            ]),
    );
    path
}

pub fn write_npy(path: &Path, a: &Array2<f64>) {
    a.write_npy(std::fs::File::create(path).unwrap()).unwrap();
}

/// The closed-form log-evidence of d = G m + e, e ~ N(0, diag σ²), m ~ N(μ₀, s₀² I):
/// log N(d; G μ₀, diag σ² + s₀² G Gᵀ).
pub fn linear_gaussian_log_evidence(
    g: &Array2<f64>,
    d: &Array1<f64>,
    sigma: &Array1<f64>,
    mu0: f64,
    s0: f64,
) -> f64 {
    let mut cov = g.dot(&g.t()) * (s0 * s0);
    for i in 0..d.len() {
        cov[[i, i]] += sigma[i] * sigma[i];
    }
    let residual = d - &g.dot(&Array1::from_elem(g.ncols(), mu0));
    gaussian_log_density(&residual, &cov)
}

/// log N(x; 0, cov).
pub fn gaussian_log_density(x: &Array1<f64>, cov: &Array2<f64>) -> f64 {
    let n = x.len();
    let l = cholesky(cov.view()).expect("a covariance");
    let z = geobayes::core::linalg::solve_lower(l.view(), x.view());
    let log_det: f64 = (0..n).map(|i| 2.0 * l[[i, i]].ln()).sum();
    -0.5 * z.dot(&z) - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// Closed-form posterior of d = G m + e, e ~ N(0, diag σ²), m ~ N(μ₀, s₀² I).
pub fn linear_gaussian_posterior(
    g: &Array2<f64>,
    d: &Array1<f64>,
    sigma: &Array1<f64>,
    mu0: f64,
    s0: f64,
) -> (Array1<f64>, Array2<f64>) {
    let p = g.ncols();
    let mut precision = Array2::<f64>::eye(p) / (s0 * s0);
    let mut rhs = Array1::from_elem(p, mu0 / (s0 * s0));
    for i in 0..g.nrows() {
        let w = 1.0 / (sigma[i] * sigma[i]);
        for a in 0..p {
            rhs[a] += g[[i, a]] * d[i] * w;
            for b in 0..p {
                precision[[a, b]] += g[[i, a]] * g[[i, b]] * w;
            }
        }
    }
    let cov = inverse_from_cholesky(cholesky(precision.view()).unwrap().view());
    (cov.dot(&rhs), cov)
}
