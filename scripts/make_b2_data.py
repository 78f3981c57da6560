#!/usr/bin/env python3
"""Makes the inputs of the B2-like synthetic (BENCHMARKS.md B2, British Isles geometry):
61 stations (name lat lon, geocentric degrees) inside the grid of 41 x 38 nodes at 0.325 deg
from (-9.0 E, 48.975 N) (south-west corner; B2's north-west corner 61.0 N, -9.0 E), a true Love
group-velocity map (3.0 km/s with two slow and one fast anomaly), and 401 station pairs between
150 and 700 km apart with per-datum sigma (mean about 1.42 s). The picks file is written with
placeholder times; make_b2_data.sh fills them in with `geobayes forward --noise-seed`.
Usage: make_b2_data.py OUT_DIR"""
import math
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/b2")
rng = np.random.default_rng(20261130)
lon0, lat0, h, nx, ny = -9.0, 48.975, 0.325, 41, 38
lon = lon0 + h * np.arange(nx)
lat = lat0 + h * np.arange(ny)

# True model on the grid, axes (lat, lon) with longitude fastest.
LON, LAT = np.meshgrid(lon, lat)
def bump(lo, la, width):
    return np.exp(-(((LON - lo) * math.cos(math.radians(la))) ** 2 + (LAT - la) ** 2) / width**2)
v = 3.0 - 0.6 * bump(-1.8, 53.2, 1.2) + 0.5 * bump(-6.0, 56.8, 1.3) - 0.45 * bump(1.6, 57.9, 1.0)
np.save(out / "true_model.npy", v.astype(np.float64))

# Stations at least 0.5 deg inside the grid and 40 km apart.
def distance_km(a, b):
    p = [math.radians(x) for x in (a[0], a[1], b[0], b[1])]
    c = math.sin(p[0]) * math.sin(p[2]) + math.cos(p[0]) * math.cos(p[2]) * math.cos(p[3] - p[1])
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))
stations = []
while len(stations) < 61:
    cand = (rng.uniform(lat[0] + 0.5, lat[-1] - 0.5), rng.uniform(lon[0] + 0.5, lon[-1] - 0.5))
    if all(distance_km(cand, s) > 40.0 for s in stations):
        stations.append(cand)
with open(out / "stations.txt", "w") as f:
    f.write("# name lat lon (degrees, geocentric): B2-like synthetic network (scripts/make_b2_data.py)\n")
    for k, (la, lo) in enumerate(stations):
        f.write(f"ST{k:02d} {float(round(la, 4))!r} {float(round(lo, 4))!r}\n")

pairs = [(i, j) for i in range(61) for j in range(i + 1, 61) if 150.0 < distance_km(stations[i], stations[j]) < 700.0]
chosen = sorted(rng.choice(len(pairs), size=401, replace=False))
sigma = rng.uniform(0.8, 2.04, size=401)
with open(out / "picks.txt", "w") as f:
    f.write("# source receiver time(s) sigma(s): B2-like Love group travel times (placeholder times\n")
    f.write("# until scripts/make_b2_data.sh fills them in)\n")
    for k, c in enumerate(chosen):
        i, j = pairs[c]
        f.write(f"ST{i:02d} ST{j:02d} 0.0 {float(round(sigma[k], 3))!r}\n")
