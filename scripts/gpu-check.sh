#!/usr/bin/env bash
# The GPU check for a lent H200 (or any CUDA machine): runs the GPU agreement tests (tests/gpu*.rs:
# every kernel against the CPU path; they skip with a reason when no GPU is present), then the
# kernel benchmark, and prints its table last. Full logs go to $OUT (or ./gpu-check-logs).
# Meant to finish within 8 minutes.
#
# Where cargo is available it builds with `--features cuda` first. On a machine without a Rust
# toolchain or network (the lent H200), it runs the prebuilt binaries of .gpu-bundle/, made
# beforehand by scripts/gpu-bundle.sh on a build machine and carried along.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=${OUT:-gpu-check-logs}
mkdir -p "$logs"
export PATH="$HOME/.cargo/bin:$PATH"
# The tests find configs/ here, not at the build machine's path.
export GEOBAYES_REPO="$PWD"
# NVRTC: the machine's CUDA toolkit, else the PyPI wheel in .venv (scripts/setup.sh).
for dir in "$PWD"/.venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib /usr/local/cuda/lib64; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
nvidia-smi > "$logs/nvidia-smi.txt" 2>&1 || true
status=passed
if [ -d .gpu-bundle ] && ! command -v cargo >/dev/null 2>&1; then
  echo "gpu-check: prebuilt binaries of .gpu-bundle/"
  export LD_LIBRARY_PATH="$PWD/.gpu-bundle/lib:$LD_LIBRARY_PATH"
  geobayes=.gpu-bundle/geobayes
  : > "$logs/tests.txt"
  for t in .gpu-bundle/tests/*; do
    echo "== $(basename "$t")" >> "$logs/tests.txt"
    "$t" --nocapture --test-threads=1 >> "$logs/tests.txt" 2>&1 || status=FAILED
  done
else
  echo "gpu-check: building (features cuda)"
  cargo build --release --features cuda --tests --quiet 2> "$logs/build.txt"
  geobayes=./target/release/geobayes
  tests=()
  for t in tests/gpu*.rs; do tests+=(--test "$(basename "$t" .rs)"); done
  cargo test --release --features cuda "${tests[@]}" -- --nocapture --test-threads=1 \
    > "$logs/tests.txt" 2>&1 || status=FAILED
fi
grep -E "^==|max|error|skipped|test result|panicked|FAILED" "$logs/tests.txt" || true
echo "gpu-check: kernel benchmark"
"$geobayes" bench gpu --steps 50 > "$logs/bench.txt" 2>&1 || true
echo
echo "GPU tests: $status (log: $logs/tests.txt)"
cat "$logs/bench.txt"
