#!/usr/bin/env bash
# Regenerates the 3D example's inputs: stations and true model (make_tomo3d_data.py), then the
# noisy times of all station pairs by `geobayes forward --noise-seed` (configs/tomo3d/truth.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" scripts/make_tomo3d_data.py configs/tomo3d
cargo build --release --quiet
times=$(mktemp --suffix .txt)
./target/release/geobayes forward configs/tomo3d/truth.yaml --out "$times" --noise-seed 24
{
  echo "# source receiver time(s) sigma(s): all station pairs i < j (i outer),"
  echo "# geobayes forward configs/tomo3d/truth.yaml --noise-seed 24 (sigma = 0.01 s)"
  mapfile -t t < "$times"
  k=0
  for i in $(seq 0 23); do
    for j in $(seq $((i + 1)) 23); do
      printf 'T%02d T%02d %s 0.01\n' "$i" "$j" "${t[$k]}"
      k=$((k + 1))
    done
  done
} > configs/tomo3d/picks.txt
rm -f "$times"
echo "wrote configs/tomo3d/picks.txt ($(grep -vc '^#' configs/tomo3d/picks.txt) picks)"
