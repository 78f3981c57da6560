"""Inputs of B3 (BENCHMARKS.md): the prior bounds per depth row and a Marmousi-like true model
(folded, faulted layers between the bounds), on the free cells (rows 19-120 of the 120 x 200
grid at 20 m, x fastest). Rows are counted from 1; rows 1-18 are the fixed water layer.
upper = 2.5036 + 0.0242 (row - 19) km/s, lower = max(1.5, upper - 2.0).
Usage: make_b3_inputs.py DIR  (writes lower.npy, upper.npy, truth.npy)
"""
import sys

import numpy as np

out = sys.argv[1]
nx, nz, h, water = 200, 120, 0.02, 18
rows = np.arange(water + 1, nz + 1)  # 19 .. 120
upper = 2.5036 + 0.0242 * (rows - 19)
lower = np.maximum(1.5, upper - 2.0)
x = np.arange(nx) * h
z = (rows - 1) * h
X, Z = np.meshgrid(x, z)
U = np.repeat(upper[:, None], nx, axis=1)
L = np.repeat(lower[:, None], nx, axis=1)
# Folded layers, a normal fault at x = 2.4 km dipping east (throw 0.12 km), and a fast wedge.
fault = X > 2.4 + 0.35 * (Z - 0.36)
folded = Z + 0.12 * np.sin(2 * np.pi * X / 2.2) + np.where(fault, 0.12, 0.0)
layers = 0.5 + 0.28 * np.sin(2 * np.pi * folded / 0.55) + 0.1 * np.sin(2 * np.pi * folded / 0.21)
wedge = (Z > 1.4) & (Z < 1.9) & (np.abs(X - 1.3) < 0.5 - 0.6 * (Z - 1.4))
fraction = np.clip(np.where(wedge, 0.9, layers), 0.08, 0.92)
truth = L + (U - L) * fraction
for name, a in [("lower", L), ("upper", U), ("truth", truth)]:
    np.save(f"{out}/{name}.npy", a.astype(np.float64))
print("free cells", truth.shape, "truth", truth.min(), truth.max(), "upper max", U.max())
