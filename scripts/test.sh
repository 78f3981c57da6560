#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite in release mode: unit tests,
# integration tests (including the MPI ones under mpirun), the Python output-format checks, and
# a check that the build without MPI compiles. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# OpenMPI refuses to run as root and to oversubscribe 2 cores without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Waveform data of B3 and the scaled B4 are too large to commit: made here (a few seconds).
./scripts/make_b3_data.sh
./scripts/make_b4_small_data.sh
cargo test --release --all-targets -- --test-threads=2
cargo check --release --no-default-features --all-targets
