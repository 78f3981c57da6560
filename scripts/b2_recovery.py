#!/usr/bin/env python3
"""How well a B2-like run recovers the synthetic model's anomalies: within the ray-covered
region (coverage above 5 % of its maximum), the correlation between the posterior mean's and
the true model's deviations from 3.0 km/s and the RMS error, node by node and at the
resolution of 401 rays (both maps Gaussian-smoothed over 2 nodes, 0.65 deg), and the posterior
at the three anomaly centres (mean and 5-95 % interval against the truth).
Usage: b2_recovery.py RESULT.h5 [configs/b2/true_model.npy]"""
import sys

import h5py
import numpy as np
from scipy.ndimage import gaussian_filter

result = sys.argv[1]
truth = np.load(sys.argv[2] if len(sys.argv) > 2 else "configs/b2/true_model.npy").ravel()
with h5py.File(result, "r") as f:
    mean, q05, q95 = (f[f"summary/{k}"][...] for k in ("mean", "q05", "q95"))
    lon, lat, coverage = f["summary/param_x"][...], f["summary/param_y"][...], f["summary/coverage"][...]
    prior_mean = 0.5 * (1.56 + 4.81)
covered = coverage > 0.05 * coverage.max()
dm, dt = mean[covered] - 3.0, truth[covered] - 3.0
corr = float(np.corrcoef(dm, dt)[0, 1])
rms = float(np.sqrt(np.mean((mean[covered] - truth[covered]) ** 2)))
rms_prior = float(np.sqrt(np.mean((prior_mean - truth[covered]) ** 2)))
print(f"covered nodes: {covered.sum()} of {len(mean)}")
shape = (38, 41)  # (lat, lon), longitude fastest
smooth_mean = gaussian_filter(mean.reshape(shape), 2, mode="nearest").ravel()
smooth_truth = gaussian_filter(truth.reshape(shape), 2, mode="nearest").ravel()
corr_smooth = float(np.corrcoef(smooth_mean[covered] - 3.0, smooth_truth[covered] - 3.0)[0, 1])
rms_smooth = float(np.sqrt(np.mean((smooth_mean[covered] - smooth_truth[covered]) ** 2)))
print(f"smoothed over 0.65 deg: correlation {corr_smooth:.3f}, RMS {rms_smooth:.3f} km/s")
print(f"correlation of mean and true anomalies (covered): {corr:.3f}")
print(f"RMS(mean - true) over covered nodes: {rms:.3f} km/s (prior mean: {rms_prior:.3f} km/s)")
for name, (lo, la) in [("slow, central England", (-1.8, 53.2)), ("fast, Scotland", (-6.0, 56.8)), ("slow, North Sea", (1.6, 57.9))]:
    i = int(np.argmin((lon - lo) ** 2 + (lat - la) ** 2))
    inside = q05[i] <= truth[i] <= q95[i]
    print(f"{name:<22} ({lon[i]:.3f} E, {lat[i]:.3f} N): true {truth[i]:.3f}, mean {mean[i]:.3f}, 90% [{q05[i]:.3f}, {q95[i]:.3f}], coverage {coverage[i] / coverage.max():.2f}{'' if inside else '  (truth outside)'}")
