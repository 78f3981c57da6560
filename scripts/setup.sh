#!/usr/bin/env bash
# Installs what geobayes needs on a fresh Debian/Ubuntu machine, if missing: the C libraries
# (OpenMPI, HDF5, OpenBLAS, libclang, pkg-config), a Rust toolchain, and a Python venv (.venv)
# with the pinned readers the tests use to check the output format. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libclang-dev libopenmpi-dev openmpi-bin libhdf5-dev libopenblas-dev python3-venv curl ca-certificates build-essential)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  # python3-venv is only needed where python3 -m venv does not work already.
  if python3 -m venv --help >/dev/null 2>&1; then
    missing=("${missing[@]/python3-venv/}")
  fi
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ${missing[*]} >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing Rust (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >/dev/null
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import h5py, xarray, arviz" 2>/dev/null; then
  echo "setup: creating .venv with the pinned Python readers"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r tests/python/requirements.txt
fi

# NVRTC (the CUDA runtime compiler, no GPU needed) from its PyPI wheel: the `cuda` build checks
# that every kernel in kernels/ compiles. cudarc loads `libnvrtc.so`: link it to the wheel's .so.12.
nvrtc_lib=.venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib
if ! compgen -G "$nvrtc_lib/libnvrtc.so.12" >/dev/null; then
  echo "setup: installing NVRTC (nvidia-cuda-nvrtc-cu12) into .venv"
  .venv/bin/pip install -q -r tests/python/requirements-nvrtc.txt
fi
for dir in $nvrtc_lib; do
  ln -sf libnvrtc.so.12 "$dir/libnvrtc.so"
done
