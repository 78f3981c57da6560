"""Devito's side of `geobayes bench wave`: reads a JSON list of cases (ndim, n grid points per
axis including the absorbing layer, nbl, steps, threads) on stdin and prints a JSON list of
{"mpts": million grid-point updates per second} (or {"missing": why}). The operator is Devito's
acoustic propagator as in its seismic examples: m u_tt - laplace(u) + damp u_t = 0, space order
8, float32, a damping layer of nbl points, OpenMP with the given thread count; the first apply
(which compiles) is not timed.
"""
import json
import sys
import time

cases = json.load(sys.stdin)
try:
    import numpy as np
    from devito import Eq, Function, Grid, Operator, TimeFunction, configuration, solve
except Exception as e:  # noqa: BLE001 - report any import failure as a missing peer
    print(json.dumps([{"missing": f"devito not importable ({e})"} for _ in cases]))
    sys.exit(0)

configuration["log-level"] = "ERROR"
configuration["language"] = "openmp"
out = []
for c in cases:
    n, ndim, nbl = c["n"], c["ndim"], c["nbl"]
    h = 10.0
    grid = Grid(shape=(n,) * ndim, extent=((n - 1) * h,) * ndim, dtype=np.float32)
    u = TimeFunction(name="u", grid=grid, time_order=2, space_order=8)
    m = Function(name="m", grid=grid)
    m.data[:] = 1.0 / 3.0**2
    damp = Function(name="damp", grid=grid)
    profile = np.zeros(n, dtype=np.float32)
    for i in range(nbl):
        profile[i] = profile[n - 1 - i] = ((nbl - i) / nbl) ** 2 * 0.05
    d = np.zeros((n,) * ndim, dtype=np.float32)
    for axis in range(ndim):
        shape = [1] * ndim
        shape[axis] = n
        d = np.maximum(d, profile.reshape(shape))
    damp.data[:] = d
    pde = m * u.dt2 - u.laplace + damp * u.dt
    op = Operator([Eq(u.forward, solve(pde, u.forward))])
    dt = 0.4 * h / 3.0 / 1000.0
    u.data[:] = 0.0
    u.data[0][(n // 2,) * ndim] = 1.0
    op.apply(time_M=2, dt=dt, nthreads=c["threads"])
    started = time.perf_counter()
    op.apply(time_m=0, time_M=c["steps"] - 1, dt=dt, nthreads=c["threads"])
    elapsed = time.perf_counter() - started
    out.append({"mpts": n**ndim * c["steps"] / elapsed / 1e6})
print(json.dumps(out))
