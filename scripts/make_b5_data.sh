#!/usr/bin/env bash
# Regenerates configs/b5/data.txt: the B5 Rayleigh phase velocities of the true model
# (configs/b5/truth.yaml), sigma = 2 % of the noise-free values, then Gaussian noise of that
# sigma added by `geobayes forward --noise-seed 5` (which reads sigma from data.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=./target/release/geobayes
clean=$(mktemp --suffix .txt)
noisy=$(mktemp --suffix .txt)
$bin forward configs/b5/truth.yaml --set "problem.data={sigma: 1.0}" --out "$clean"
{
  echo "# value sigma (km/s): noise-free B5 phase velocities with sigma = 2 %, before the noise"
  awk '{ printf "%s %.17g\n", $1, 0.02 * $1 }' "$clean"
} > configs/b5/data.txt
$bin forward configs/b5/truth.yaml --noise-seed 5 --out "$noisy"
{
  echo "# value sigma (km/s): B5 Rayleigh fundamental-mode phase velocities, 14 periods 0.2-2 s,"
  echo "# 2 % noise: geobayes forward configs/b5/truth.yaml --noise-seed 5 (scripts/make_b5_data.sh)"
  paste -d' ' "$noisy" <(grep -v '^#' configs/b5/data.txt | awk '{ print $2 }')
} > configs/b5/data.next
mv configs/b5/data.next configs/b5/data.txt
rm -f "$clean" "$noisy"
cat configs/b5/data.txt
