#!/usr/bin/env bash
# Makes configs/b3/data.npy (not committed: 10 shots x 200 receivers x 2501 samples, 40 MB):
# the prior bounds and true model (make_b3_inputs.py, committed), then the noisy traces by
# `geobayes forward configs/b3/truth.yaml --noise-seed 3` (sigma 2.5e-4, see truth.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--inputs" ]; then
  "${PYTHON:-.venv/bin/python}" scripts/make_b3_inputs.py configs/b3
fi
# The features of the build at hand (scripts/test.sh sets GEOBAYES_FEATURES=cuda), so that
# this does not rebuild it with others.
cargo build --release --quiet --features "${GEOBAYES_FEATURES:-}"
./target/release/geobayes forward configs/b3/truth.yaml --noise-seed 3 --out configs/b3/data.npy
