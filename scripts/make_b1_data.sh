#!/usr/bin/env bash
# Regenerates the committed B1 inputs: stations, true model, and noisy travel times made by
# `geobayes forward --noise-seed` on the fine grid (configs/b1/truth.yaml). Needs numpy
# (scripts/setup.sh puts it in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" scripts/make_b1_data.py configs/b1
cargo build --release --quiet
times=$(mktemp --suffix .txt)
./target/release/geobayes forward configs/b1/truth.yaml --out "$times" --noise-seed 2026
{
  echo "# source receiver time(s) sigma(s): B1 synthetic data, all pairs i < j (i outer),"
  echo "# geobayes forward configs/b1/truth.yaml --noise-seed 2026 (sigma = 0.05 s)"
  k=0
  mapfile -t t < "$times"
  for i in $(seq 0 15); do
    for j in $(seq $((i + 1)) 15); do
      printf 'S%02d S%02d %s 0.05\n' "$i" "$j" "${t[$k]}"
      k=$((k + 1))
    done
  done
} > configs/b1/traveltimes.txt
rm -f "$times"
echo "wrote configs/b1/traveltimes.txt ($(grep -vc '^#' configs/b1/traveltimes.txt) data)"
