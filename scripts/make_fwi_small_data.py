"""Inputs of the small 2D FWI example (configs/fwi_small/): the true model (a velocity
gradient with a fast Gaussian anomaly, below four fixed water rows), the SVGD initial particles
(the anomaly-free gradient model plus smooth random perturbations), written as .npy in the
free-cell grid order (z rows below the water, x fastest). Usage: make_fwi_small_data.py DIR
"""
import sys

import numpy as np

out = sys.argv[1]
nx, nz, h, water = 40, 30, 0.025, 4
x = np.arange(nx) * h
z = (np.arange(water, nz)) * h
X, Z = np.meshgrid(x, z)  # (nz - water, nx), x fastest
background = 1.8 + 1.2 * (Z - water * h)
anomaly = 0.5 * np.exp(-((X - 0.5) ** 2 + (Z - 0.42) ** 2) / (2 * 0.08**2))
truth = background + anomaly
np.save(f"{out}/truth.npy", truth.astype(np.float64))

rng = np.random.default_rng(31)
members = []
for _ in range(16):
    # Smooth perturbations: a few random cosines of amplitude 0.05 km/s.
    p = np.zeros_like(background)
    for _ in range(3):
        kx, kz, phase = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 2 * np.pi)
        p += 0.05 * np.cos(kx * X + kz * Z + phase)
    members.append((background + p).ravel())
np.save(f"{out}/init.npy", np.array(members))
print("truth", truth.shape, truth.min(), truth.max(), "init", np.array(members).shape)
