//! The GPU path without a GPU (feature `cuda`): every kernel in kernels/ compiles to PTX with
//! NVRTC (from the PyPI wheel `nvidia-cuda-nvrtc-cu12`, which scripts/setup.sh installs and
//! scripts/test.sh puts on LD_LIBRARY_PATH) for compute_90 and an older architecture, and a run
//! that asks for a GPU on a machine without a driver stops with a clear error (exit 2).
#![cfg(feature = "cuda")]

mod common;

use common::*;
use geobayes::gpu::{GpuError, KERNELS, compile_ptx, probe};

#[test]
fn every_kernel_compiles_to_ptx_for_two_architectures() {
    for arch in ["compute_90", "compute_70"] {
        for kernel in KERNELS {
            let ptx = match compile_ptx(kernel, arch) {
                Ok(p) => p.to_src(),
                Err(GpuError::NoNvrtc) => panic!(
                    "NVRTC is not loadable: run scripts/setup.sh (installs nvidia-cuda-nvrtc-cu12 into .venv) and scripts/test.sh (puts it on LD_LIBRARY_PATH)"
                ),
                Err(e) => panic!("{e}"),
            };
            for f in kernel.functions {
                assert!(ptx.contains(&format!(".entry {f}(")), "{} {arch}: no entry {f}", kernel.file);
            }
            println!("kernels/{} → PTX for {arch}: {} bytes", kernel.file, ptx.len());
        }
    }
}

#[test]
fn asking_for_a_gpu_without_a_driver_is_a_clear_error() {
    if probe() != Err(GpuError::NoDriver) {
        println!("skipped: this machine has a CUDA driver (the GPU tests cover it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_in(dir.path(), &["configs/linear/G.npy", "configs/linear/data.txt"]);
    let config = write(
        dir.path(),
        "config.yaml",
        "problem: {kind: linear, matrix: {file: G.npy}, data: {file: data.txt}}\nprior: {kind: gaussian, mean: 0.0, std: 1.0}\nmethod: {kind: mh, n_chains: 2, iterations: 20, burn_in: 10}\noutput: {path: out.h5}\ngpu: {enabled: true}\n",
    );
    let out = geobayes().arg("run").arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("gpu.enabled: no CUDA driver found"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.path().join("out.h5").exists());
}
