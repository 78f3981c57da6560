#!/usr/bin/env python3
"""Peer side of `geobayes bench eikonal`: point-source travel-time fields with scikit-fmm
(order 2) and pykonal on the grids geobayes solves, timed over repeated solves, with the max
error against the analytic times. Reads the cases as JSON on stdin, writes JSON on stdout; a
peer that is not installed is reported as missing (scripts/install_bench_peers.sh installs
both into .venv-bench)."""
import json
import sys
import time

import numpy as np

cases = json.load(sys.stdin)


def analytic(case):
    """Analytic times on the grid, axes (z, y, x) / (y, x) as numpy arrays in C order."""
    n, h, src = case["n"], case["h"], case["source_index"]
    dims = len(src)
    axes = [h * np.arange(n) for _ in range(dims)]
    grids = np.meshgrid(*axes, indexing="ij")  # (x, y[, z]) index order
    s = [h * i for i in src]
    r = np.sqrt(sum((g - si) ** 2 for g, si in zip(grids, s)))
    v0, k = case["v0"], case["k"]
    v = v0 + k * grids[-1]
    if k == 0.0:
        t = r / v0
    else:
        vs = v0 + k * s[-1]
        t = np.arccosh(1.0 + k * k * r * r / (2.0 * vs * v)) / k
    return v, t  # indexed (x, y[, z])


def timed(fn, reps):
    fn()  # warm up (and JIT / allocation)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, min(times), float(np.median(times))


def run_skfmm(case):
    import skfmm

    v, exact = analytic(case)
    phi = np.ones_like(v)
    phi[tuple(case["source_index"])] = -1.0
    out, tmin, tmed = timed(lambda: skfmm.travel_time(phi, v, dx=case["h"], order=2), case["reps"])
    return {"min_s": tmin, "median_s": tmed, "max_error": float(np.max(np.abs(np.asarray(out) - exact)))}


def run_pykonal(case):
    import pykonal

    v, exact = analytic(case)
    dims = len(case["source_index"])
    vol = v if dims == 3 else v[:, :, None]
    src = tuple(case["source_index"]) + ((0,) if dims == 2 else ())

    def solve():
        solver = pykonal.EikonalSolver(coord_sys="cartesian")
        solver.velocity.min_coords = 0.0, 0.0, 0.0
        solver.velocity.node_intervals = case["h"], case["h"], case["h"]
        solver.velocity.npts = vol.shape
        solver.velocity.values = vol
        solver.traveltime.values[src] = 0.0
        solver.unknown[src] = False
        solver.trial.push(*src)
        solver.solve()
        return solver.traveltime.values

    out, tmin, tmed = timed(solve, case["reps"])
    out = out if dims == 3 else out[:, :, 0]
    return {"min_s": tmin, "median_s": tmed, "max_error": float(np.max(np.abs(out - exact)))}


results = []
for case in cases:
    row = {}
    for name, fn, module in [("scikit-fmm order 2", run_skfmm, "skfmm"), ("pykonal", run_pykonal, "pykonal")]:
        try:
            __import__(module)
        except ImportError:
            row[name] = {"missing": f"{module} is not installed (scripts/install_bench_peers.sh)"}
            continue
        row[name] = fn(case)
    results.append(row)
json.dump(results, sys.stdout)
