#!/usr/bin/env python3
"""Phase velocities from disba (its default `dunkin` algorithm with a fine root step
dc = 5e-4 km/s, never `fast-delta`) for Love and Rayleigh modes 0-2 on five layered models,
with dc = 2e-5 km/s for the soft-sediment model, whose first Love modes at 0.01 s lie 2e-4 km/s
apart (with 5e-4 disba steps over two of them and calls the third mode 0),
one with a low-velocity layer in the crust and B5's near-surface model with one at 0.3 km.
Writes disba_phase.json: per model its layers and, per (wave, mode), the velocity at each period
(null where disba finds no root: the mode does not exist there). Run with the peers' venv:
.venv-bench/bin/python tests/data/dispersion/make_disba_fixtures.py"""
import json
from pathlib import Path

import disba
import numpy as np

vs_b5 = np.array([0.4, 0.5, 0.65, 0.55, 0.65, 0.8, 0.85, 0.9, 1.0, 1.0])
vp_b5 = 1.16 * vs_b5 + 1.36
models = {
    "crust4": ([10.0, 10.0, 15.0, 0.0], [5.8, 6.3, 6.9, 8.04], [3.36, 3.64, 3.95, 4.48], [2.72, 2.8, 2.95, 3.32], (0.5, 60.0)),
    "crust_lvl": ([2.0, 5.0, 8.0, 0.0], [5.8, 4.5, 6.4, 8.0], [3.4, 2.6, 3.7, 4.6], [2.6, 2.5, 2.9, 3.3], (0.3, 40.0)),
    "b5": ([0.1] * 9 + [0.0], list(vp_b5), list(vs_b5), list(1.74 * vp_b5**0.25), (0.1, 3.0)),
    "gradient20": (
        [1.5] * 19 + [0.0],
        list(np.linspace(3.6, 7.8, 20)),
        list(np.linspace(2.0, 4.5, 20)),
        list(np.linspace(2.2, 3.3, 20)),
        (0.3, 50.0),
    ),
    "soft_sediment": ([0.02, 0.05, 0.3, 0.0], [1.6, 1.9, 3.5, 5.0], [0.15, 0.35, 1.8, 2.9], [1.8, 1.9, 2.3, 2.6], (0.01, 2.0)),
}
root_step = {"soft_sediment": 2e-5}
out = {"disba_version": disba.__version__, "algorithm": "dunkin", "dc": 5e-4, "models": []}
for name, (h, vp, vs, rho, (t0, t1)) in models.items():
    periods = np.logspace(np.log10(t0), np.log10(t1), 25)
    dc = root_step.get(name, 5e-4)
    pd = disba.PhaseDispersion(np.array(h), np.array(vp), np.array(vs), np.array(rho), algorithm="dunkin", dc=dc)
    curves = []
    for wave in ("rayleigh", "love"):
        for mode in range(3):
            curve = pd(periods, mode=mode, wave=wave)
            found = dict(zip(np.round(curve.period, 12), curve.velocity))
            velocity = [None if round(t, 12) not in found else float(found[round(t, 12)]) for t in periods]
            curves.append({"wave": wave, "mode": mode, "velocity": velocity})
    out["models"].append(
        {"name": name, "dc": dc, "thickness": [float(x) for x in h], "vp": [float(x) for x in vp], "vs": [float(x) for x in vs], "rho": [float(x) for x in rho], "periods": [float(t) for t in periods], "curves": curves}
    )
Path(__file__).with_name("disba_phase.json").write_text(json.dumps(out, indent=1))
