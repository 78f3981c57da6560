#!/usr/bin/env bash
# Regenerates the committed B2-like inputs: stations, true model and noisy travel times made by
# `geobayes forward --noise-seed` on the true model (configs/b2/truth.yaml, which reads the pairs
# and sigmas of picks.txt and ignores its times). Needs numpy (scripts/setup.sh puts it in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" scripts/make_b2_data.py configs/b2
cargo build --release --quiet
times=$(mktemp --suffix .txt)
./target/release/geobayes forward configs/b2/truth.yaml --out "$times" --noise-seed 61
"$PY" - "$times" configs/b2/picks.txt <<'PYEOF'
import sys
times = [l.strip() for l in open(sys.argv[1])]
lines = open(sys.argv[2]).read().splitlines()
header = ["# source receiver time(s) sigma(s): B2-like Love group travel times (synthetic),",
          "# geobayes forward configs/b2/truth.yaml --noise-seed 61 (scripts/make_b2_data.sh)"]
rows = [l.split() for l in lines if not l.startswith("#")]
assert len(rows) == len(times)
with open(sys.argv[2], "w") as f:
    f.write("\n".join(header) + "\n")
    for r, t in zip(rows, times):
        f.write(f"{r[0]} {r[1]} {t} {r[3]}\n")
PYEOF
rm -f "$times"
echo "wrote configs/b2/picks.txt ($(grep -vc '^#' configs/b2/picks.txt) picks)"
