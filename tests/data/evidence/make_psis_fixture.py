#!/usr/bin/env python3
"""Makes psis.json: log importance weights and ArviZ's Pareto-smoothed log weights and k̂ of
each, the fixture of src/inference/evidence/psis.rs. Run with the pinned readers
(tests/python/requirements.txt: arviz 0.23.4):

    .venv/bin/python tests/data/evidence/make_psis_fixture.py
"""

import json
import pathlib

import arviz as az
import numpy as np

rng = np.random.default_rng(20261203)


def gaussian_ratio(n, sigma_q):
    """log N(x; 0, 1) − log N(x; 0, σ_q²) at x ~ N(0, σ_q²): k = 1 − σ_q² for σ_q < 1."""
    x = sigma_q * rng.standard_normal(n)
    return -0.5 * x**2 + 0.5 * (x / sigma_q) ** 2 + np.log(sigma_q)


cases = {
    "heavy": gaussian_ratio(2000, 0.6),  # k about 0.64
    "light": gaussian_ratio(1500, 1.5),  # bounded weights: k < 0
    "short": gaussian_ratio(120, 0.8),  # a tail of 33 weights
    "student": np.log(np.abs(rng.standard_t(1.5, 3000))),  # k about 1/1.5
}
out = {}
for name, lw in cases.items():
    smoothed, khat = az.psislw(lw.copy(), reff=1.0)
    out[name] = {"log_weights": lw.tolist(), "smoothed": np.asarray(smoothed).tolist(), "khat": float(khat)}
    print(f"{name}: S = {len(lw)}, k̂ = {float(khat):.6f}")
path = pathlib.Path(__file__).with_name("psis.json")
path.write_text(json.dumps(out) + "\n")
print(f"wrote {path}")
