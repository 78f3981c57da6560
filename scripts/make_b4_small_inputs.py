"""Inputs of the scaled-down B4 (BENCHMARKS.md): 33 x 33 x 21 cells of 50 m (1.6 x 1.6 x 1.0 km),
the top level fixed at 1.5 km/s, prior per depth level k (counted from 1)
U[1.84 + 0.036 (k - 1), 4.30 + 0.038 (k - 1)] km/s, an Overthrust-like true model (layers
folded over a thrust ramp) between the bounds, and the 7 x 7 receivers. Arrays are the free
cells (levels 2-21), x fastest, then y, then z. Usage: make_b4_small_inputs.py DIR
"""
import sys

import numpy as np

out = sys.argv[1]
n, nz, h, fixed = 33, 21, 0.05, 1
k = np.arange(fixed + 1, nz + 1)  # depth levels 2 .. 21
lower = 1.84 + 0.036 * (k - 1)
upper = 4.30 + 0.038 * (k - 1)
x = np.arange(n) * h
Z, Y, X = np.meshgrid((k - 1) * h, x, x, indexing="ij")
L = lower[:, None, None] * np.ones_like(Z)
U = upper[:, None, None] * np.ones_like(Z)
ramp = 0.25 * np.clip((X + 0.4 * Y - 0.7) / 0.5, 0, 1)  # the thrust lifts the layers east
fold = 0.06 * np.sin(2 * np.pi * Y / 1.6)
depth = Z + ramp + fold
fraction = np.clip(0.45 + 0.3 * np.sin(2 * np.pi * depth / 0.45), 0.1, 0.9)
truth = L + (U - L) * fraction
for name, a in [("lower", L), ("upper", U), ("truth", truth)]:
    np.save(f"{out}/{name}.npy", a.astype(np.float64))
with open(f"{out}/receivers.txt", "w") as f:
    f.write("# x y z (km): 7 x 7 receivers every 0.2 km from (0.2, 0.2) at 50 m depth\n")
    for i in range(7):
        for j in range(7):
            f.write(f"{0.2 + 0.2 * j:.1f} {0.2 + 0.2 * i:.1f} 0.05\n")
print("free cells", truth.shape, "truth", truth.min(), truth.max(), "upper max", U.max())
