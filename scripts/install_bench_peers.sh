#!/usr/bin/env bash
# Installs the peer codes that `geobayes bench` compares with (scikit-fmm, pykonal, disba, Devito) into
# .venv-bench, from PyPI. Not part of CI. Usage: scripts/install_bench_peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-bench
.venv-bench/bin/pip install -q --upgrade pip
.venv-bench/bin/pip install -q numpy scikit-fmm pykonal disba devito
.venv-bench/bin/python -c "import skfmm, pykonal, disba, devito; print('skfmm', skfmm.__version__, 'pykonal', getattr(pykonal, '__version__', '?'), 'disba', disba.__version__, 'devito', devito.__version__)"
