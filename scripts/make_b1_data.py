#!/usr/bin/env python3
"""Makes the B1 benchmark inputs (BENCHMARKS.md): 16 stations on a circle of radius 4 km and
the true model (v = 2 km/s with a slow disc v = 1 km/s for x² + y² < 4) on the fine grid
(101 × 101 nodes, 0.1 km, on [-5, 5]², C order with x fastest). The travel times themselves are
made by `geobayes forward --noise-seed` (see make_b1_data.sh)."""
import math
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/b1")
with open(out / "stations.txt", "w") as f:
    f.write("# name x y (km): 16 stations on a circle of radius 4 km, (4 sin a, 4 cos a), a = k pi/8\n")
    for k in range(16):
        a = k * math.pi / 8
        f.write(f"S{k:02d} {4 * math.sin(a)!r} {4 * math.cos(a)!r}\n")
x = -5.0 + 0.1 * np.arange(101)
y = -5.0 + 0.1 * np.arange(101)
X, Y = np.meshgrid(x, y)  # axes (y, x), x fastest
v = np.where(X**2 + Y**2 < 4.0, 1.0, 2.0)
np.save(out / "true_model.npy", v.astype(np.float64))
