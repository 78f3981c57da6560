#!/usr/bin/env bash
# Prepares, on a build machine, what scripts/gpu-check.sh runs on a bare GPU machine that has no
# Rust toolchain and no network (the lent H200): the GPU test binaries (tests/gpu*.rs) and the
# geobayes binary built with `--features cuda`, stripped, plus the shared libraries they need
# beyond the C runtime, in .gpu-bundle/ (git-ignored; about 30 MB). Carry it with the working
# tree (device `run` with carry [".gpu-bundle"]) and start `scripts/gpu-check.sh` there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bundle=.gpu-bundle
rm -rf "$bundle"
mkdir -p "$bundle/tests" "$bundle/lib"
tests=()
for t in tests/gpu*.rs; do tests+=(--test "$(basename "$t" .rs)"); done
cargo build --release --features cuda --quiet
cargo test --release --features cuda --no-run --message-format=json "${tests[@]}" 2>/dev/null \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])
' | while read -r name exe; do strip -o "$bundle/tests/$name" "$exe"; done
strip -o "$bundle/geobayes" target/release/geobayes
# Shared libraries beyond the C runtime (which the GPU machine has, newer).
for bin in "$bundle/geobayes" "$bundle"/tests/*; do
  ldd "$bin" | awk '/=> \// {print $3}'
done | sort -u | grep -v -E '/(libc|libm|libgcc_s|libpthread|libdl|librt|ld-linux[^/]*)\.so' \
  | while read -r lib; do cp -L "$lib" "$bundle/lib/"; done
du -sh "$bundle"
ls "$bundle/tests"
