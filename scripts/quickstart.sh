#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds geobayes and runs the quickstart inversion (a reduced B1
# travel-time tomography with SVGD, about a minute on 2 cores), then shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet
./target/release/geobayes run configs/quickstart.yaml --overwrite
./target/release/geobayes inspect results/quickstart.h5
