#!/usr/bin/env python3
"""Makes the linear-Gaussian test problem (BENCHMARKS.md B6): d = G m + e with
G = U diag(s) V^T, s log-spaced over [1, 10], U (n_data x n) with orthonormal columns and V
orthogonal, a N(0, 1) prior, sigma = 1. Writes G.npy, m_true.txt and data.txt (value sigma)."""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/linear")
n_params, n_data, sigma = 20, 30, 1.0
rng = np.random.default_rng(20261130)
U, _ = np.linalg.qr(rng.standard_normal((n_data, n_params)))
V, _ = np.linalg.qr(rng.standard_normal((n_params, n_params)))
s = np.logspace(0.0, 1.0, n_params)
G = U @ np.diag(s) @ V.T
m_true = rng.standard_normal(n_params)
d = G @ m_true + sigma * rng.standard_normal(n_data)
out.mkdir(parents=True, exist_ok=True)
np.save(out / "G.npy", G)
np.savetxt(out / "m_true.txt", m_true, fmt="%.17g")
with open(out / "data.txt", "w") as f:
    f.write("# value sigma: d = G m_true + N(0, 1) noise (scripts/make_linear_gaussian.py)\n")
    for v in d:
        f.write(f"{float(v)!r} {float(sigma)!r}\n")
