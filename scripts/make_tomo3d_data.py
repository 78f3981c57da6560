#!/usr/bin/env python3
"""Makes the inputs of the small 3D tomography example (configs/tomo3d_svgd.yaml): 24 stations
(name x y z, km) in a 6 x 6 x 4 km block, and a true model v = 3 + 0.2 z km/s with a slow blob
(-0.5 km/s) centred at (3, 3, 2) km, on the 13 x 13 x 9 grid (0.5 km) in C order (z, y, x).
The travel times are made by `geobayes forward --noise-seed` (make_tomo3d_data.sh)."""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/tomo3d")
rng = np.random.default_rng(3)
h, nx, ny, nz = 0.5, 13, 13, 9
x, y, z = h * np.arange(nx), h * np.arange(ny), h * np.arange(nz)
Z, Y, X = np.meshgrid(z, y, x, indexing="ij")
v = 3.0 + 0.2 * Z - 0.5 * np.exp(-((X - 3) ** 2 + (Y - 3) ** 2 + (Z - 2) ** 2) / 1.0**2)
np.save(out / "true_model.npy", v.astype(np.float64))
with open(out / "stations.txt", "w") as f:
    f.write("# name x y z (km): 12 surface stations and 12 sources at depth (scripts/make_tomo3d_data.py)\n")
    for k in range(24):
        depth = 0.0 if k < 12 else rng.uniform(1.0, 3.8)
        f.write(f"T{k:02d} {float(round(rng.uniform(0.2, 5.8), 3))!r} {float(round(rng.uniform(0.2, 5.8), 3))!r} {float(round(depth, 3))!r}\n")
