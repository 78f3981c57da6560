#!/usr/bin/env python3
"""Peer side of `geobayes bench dispersion`: disba (0.7, its default `dunkin` algorithm with
dc = 5e-4 km/s, the root step its fixtures need to find every mode, or DISBA_DC; group
velocities by its finite differences) timed on the same curves geobayes computes. Reads the cases as JSON on stdin, writes JSON on stdout: per case the time per curve
(min and median over repeats) and the velocities (null where disba finds no root)."""
import json
import os
import sys
import time

import numpy as np

cases = json.load(sys.stdin)
try:
    import disba
except ImportError:
    json.dump([{"missing": "disba is not installed (scripts/install_bench_peers.sh)"} for _ in cases], sys.stdout)
    sys.exit(0)

out = []
for case in cases:
    m = np.array(case["model"], dtype=float)  # rows: thickness, vp, vs, rho
    periods = np.array(case["periods"], dtype=float)
    kind = disba.PhaseDispersion if case["velocity"] == "phase" else disba.GroupDispersion
    solver = kind(*m.T, algorithm="dunkin", dc=float(os.environ.get("DISBA_DC", "5e-4")))
    run = lambda: solver(periods, mode=case["mode"], wave=case["wave"])
    run()  # compile
    times = []
    for _ in range(case["reps"]):
        t0 = time.perf_counter()
        curve = run()
        times.append(time.perf_counter() - t0)
    found = dict(zip(np.round(curve.period, 12), curve.velocity))
    velocity = [None if round(t, 12) not in found else float(found[round(t, 12)]) for t in periods]
    out.append({"min_s": min(times), "median_s": float(np.median(times)), "velocity": velocity})
json.dump(out, sys.stdout)
