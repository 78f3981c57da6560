#!/usr/bin/env bash
# Regenerates the small 2D FWI example's inputs: true model and initial particles
# (make_fwi_small_data.py), then the noisy traces by `geobayes forward --noise-seed 7`
# (configs/fwi_small/truth.yaml, sigma 0.0005).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" scripts/make_fwi_small_data.py configs/fwi_small
cargo build --release --quiet
./target/release/geobayes forward configs/fwi_small/truth.yaml --noise-seed 7 --out configs/fwi_small/data.npy
"$PY" -c "import numpy as np; d = np.load('configs/fwi_small/data.npy'); print('data', d.shape, 'max |d|', abs(d).max(), 'rms', (d**2).mean()**0.5)"
