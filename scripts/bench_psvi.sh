#!/usr/bin/env bash
# PSVI at scale: one ELBO-gradient step (and the 2 draws of q) of a 5 x 5 x 5 banded linear
# flow on 632,462 parameters (configs/psvi_at_scale.yaml), under /usr/bin/time -v. Prints the
# wall time, the peak resident memory and the memory the flow's parameters need (O(P x band)).
# Not part of CI. Usage: scripts/bench_psvi.sh [extra `geobayes run` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/geobayes
[ -x "$bin" ] || cargo build --release
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v "$bin" run configs/psvi_at_scale.yaml --set output.progress=off \
  --set "output.path=$out/psvi.h5" "$@" 2> "$out/time.txt"
wall=$(grep "Elapsed (wall clock)" "$out/time.txt" | awk '{print $NF}')
rss_kb=$(grep "Maximum resident set size" "$out/time.txt" | awk '{print $NF}')
params=$("$bin" inspect "$out/psvi.h5" | awk '/theta/ {print $2}')
echo "psvi at scale: P = 632462, template 5x5x5, flow parameters $params"
echo "  wall $wall (one step, 1 sample, 2 draws, result written)"
echo "  peak RSS $((rss_kb / 1024)) MiB; θ alone $((params * 8 / 1048576)) MiB (Adam keeps two more copies)"
