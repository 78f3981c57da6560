#!/usr/bin/env python3
"""Makes arviz.json: three (chain, draw) series and ArviZ's convergence diagnostics of each,
the fixture of src/inference/diagnostics/convergence.rs. Run with the pinned readers
(tests/python/requirements.txt: arviz 0.23.4):

    .venv/bin/python tests/data/diagnostics/make_fixture.py
"""

import json
import pathlib

import arviz as az
import numpy as np

rng = np.random.default_rng(20261202)
chains, draws = 4, 501  # an odd length: the split drops the middle draw


def ar1(phi, scale=1.0):
    x = np.zeros((chains, draws))
    for c in range(chains):
        v = 0.0
        for k in range(draws):
            v = phi * v + np.sqrt(1 - phi * phi) * rng.standard_normal()
            x[c, k] = scale * v
    return x


series = {
    # well mixed, correlated
    "ar1": ar1(0.6),
    # heavy tails and one shifted chain
    "shifted_t": rng.standard_t(3, size=(chains, draws)) + np.array([[0.0], [0.0], [0.0], [0.8]]),
    # slowly mixing, positive (a scale parameter)
    "slow_lognormal": np.exp(ar1(0.95, 0.7)),
}
out = {}
for name, x in series.items():
    d = az.convert_to_dataset({"x": x})
    value = lambda f, **kw: float(f(d, **kw)["x"].values)
    out[name] = {
        "draws": x.tolist(),
        "rhat": value(az.rhat, method="rank"),
        "rhat_bulk": value(az.rhat, method="z_scale"),
        "rhat_tail": value(az.rhat, method="folded"),
        "ess_bulk": value(az.ess, method="bulk"),
        "ess_tail": value(az.ess, method="tail"),
        "ess_mean": value(az.ess, method="mean"),
        "ess_sd": value(az.ess, method="sd"),
        "mcse_mean": value(az.mcse, method="mean"),
        "mcse_sd": value(az.mcse, method="sd"),
        "mcse_q05": value(az.mcse, method="quantile", prob=0.05),
        "mcse_q50": value(az.mcse, method="quantile", prob=0.5),
        "mcse_q95": value(az.mcse, method="quantile", prob=0.95),
    }
path = pathlib.Path(__file__).with_name("arviz.json")
path.write_text(json.dumps(out, indent=1))
print({k: {m: round(v, 6) for m, v in r.items() if m != "draws"} for k, r in out.items()})
