#!/usr/bin/env bash
# Makes configs/b4_small/data.npy (not committed: 4 shots x 49 receivers x 401 samples): with
# --inputs first the prior bounds, true model and receivers (make_b4_small_inputs.py,
# committed), then the noisy traces by `geobayes forward configs/b4_small/truth.yaml
# --noise-seed 4` (sigma 0.002, see truth.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--inputs" ]; then
  "${PYTHON:-.venv/bin/python}" scripts/make_b4_small_inputs.py configs/b4_small
fi
# The features of the build at hand (scripts/test.sh sets GEOBAYES_FEATURES=cuda), so that
# this does not rebuild it with others.
cargo build --release --quiet --features "${GEOBAYES_FEATURES:-}"
./target/release/geobayes forward configs/b4_small/truth.yaml --noise-seed 4 --out configs/b4_small/data.npy
