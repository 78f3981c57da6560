#!/usr/bin/env bash
# The GPU check for a lent H200 (or any CUDA machine): builds with `--features cuda`, runs the
# GPU agreement tests (tests/gpu.rs: every kernel against the CPU path; they skip with a reason
# when no GPU is present), then the kernel benchmark, and prints its table last. Full logs go to
# $OUT (or ./gpu-check-logs). Meant to finish within 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=${OUT:-gpu-check-logs}
mkdir -p "$logs"
export PATH="$HOME/.cargo/bin:$PATH"
# NVRTC: the driver machine's CUDA, or the PyPI wheel in .venv (scripts/setup.sh).
for dir in "$PWD"/.venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib /usr/local/cuda/lib64; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
nvidia-smi > "$logs/nvidia-smi.txt" 2>&1 || true
echo "gpu-check: building (features cuda)"
cargo build --release --features cuda --tests --quiet 2> "$logs/build.txt"
echo "gpu-check: GPU tests"
tests=()
for t in tests/gpu*.rs; do tests+=(--test "$(basename "$t" .rs)"); done
cargo test --release --features cuda "${tests[@]}" -- --nocapture --test-threads=1 > "$logs/tests.txt" 2>&1 \
  && status=passed || status=FAILED
grep -E "error|skipped|test result|panicked|FAILED" "$logs/tests.txt" || true
echo "gpu-check: kernel benchmark"
./target/release/geobayes bench gpu --steps 50 > "$logs/bench.txt" 2>&1 || true
echo
echo "GPU tests: $status (log: $logs/tests.txt)"
cat "$logs/bench.txt"
