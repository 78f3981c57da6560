#!/usr/bin/env python3
"""Independent reference for geobayes' SVGD: ten steps from a fixed start on a small
linear-Gaussian posterior, written with numpy from the method's definition (Liu & Wang 2016):

    k(x, y) = exp(-|x - y|^2 / h),  h = median_{i<j} |x_i - x_j|^2 / ln(N + 1),
    phi(x_i) = 1/N sum_j [k(x_j, x_i) grad log p(x_j) + (2/h) (x_i - x_j) k(x_j, x_i)],

followed by an Adam ascent step (beta1 0.9, beta2 0.999, eps 1e-8, step 0.1) and, for the
second file, plain SGD (step 0.02). Writes the problem (G.npy, data.txt, init.npy) and the
particles after ten steps (expected_adam.npy, expected_sgd.npy). config.yaml runs geobayes on
the same problem; tests/methods.rs compares the two to 1e-12."""
from pathlib import Path

import numpy as np

here = Path(__file__).parent
rng = np.random.default_rng(7)
n_particles, dim, n_data = 6, 3, 4
G = rng.standard_normal((n_data, dim))
sigma = np.array([0.5, 0.7, 0.4, 0.6])
d_obs = rng.standard_normal(n_data)
prior_mean, prior_std = 0.2, 1.5
init = rng.standard_normal((n_particles, dim)) * 2.0

np.save(here / "G.npy", G)
np.save(here / "init.npy", init)
with open(here / "data.txt", "w") as f:
    for v, s in zip(d_obs, sigma):
        f.write(f"{float(v)!r} {float(s)!r}\n")


def score(x):
    residual = (d_obs - G @ x) / sigma**2
    return G.T @ residual - (x - prior_mean) / prior_std**2


def phi(x):
    n = len(x)
    grads = np.array([score(xi) for xi in x])
    iu = np.triu_indices(n, k=1)
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    h = np.median(d2[iu]) / np.log(n + 1)
    k = np.exp(-d2 / h)  # k[j, i] = k(x_j, x_i), symmetric
    out = np.zeros_like(x)
    for i in range(n):
        for j in range(n):
            out[i] += k[j, i] * grads[j] + 2.0 / h * (x[i] - x[j]) * k[j, i]
    return out / n


def run(optimizer):
    x = init.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t in range(10):
        g = phi(x)
        if optimizer == "adam":
            b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            x = x + lr * (m / (1 - b1 ** (t + 1))) / (np.sqrt(v / (1 - b2 ** (t + 1))) + eps)
        else:
            x = x + 0.02 * g
    return x


np.save(here / "expected_adam.npy", run("adam"))
np.save(here / "expected_sgd.npy", run("sgd"))
