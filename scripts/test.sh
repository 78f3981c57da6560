#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite in release mode: unit tests,
# integration tests (including the MPI ones under mpirun), the Python output-format checks, the
# CUDA kernels' compilation (feature `cuda`, NVRTC, no GPU), and a check that the build without
# MPI compiles. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# OpenMPI refuses to run as root and to oversubscribe 2 cores without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# NVRTC from .venv (scripts/setup.sh) for the kernel-compilation tests of the `cuda` build.
for dir in "$PWD"/.venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib; do
  export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
# Waveform data of B3 and the scaled B4 are too large to commit: made here (a few seconds),
# with the same build as the tests.
export GEOBAYES_FEATURES=cuda
./scripts/make_b3_data.sh
./scripts/make_b4_small_data.sh
# The whole suite with the `cuda` feature (no GPU needed: kernels compile, the CPU path runs).
cargo test --release --features cuda --all-targets -- --test-threads=2
cargo check --release --no-default-features --all-targets
