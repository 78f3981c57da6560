#!/usr/bin/env python3
"""The exactly enumerable RJ-McMC case of issue 12 (acceptance (b)) and its answer.

A 1-D linear problem on 12 grid nodes: 16 data d = G m + e, G a Gaussian blur (width 1.2
nodes), the true model three blocks (1, 3, 2), sigma = 0.2. The RJ prior: k uniform on
[1, 4], nuclei on distinct nodes (ordered k-tuples, each with probability (N - k)!/N!), cell
values iid N(2, 1). For each labelled configuration the projection P (node -> nearest nucleus,
ties to the lower label) makes d ~ N(G P mu0, sigma^2 I + s0^2 G P P^T G^T): summing these
closed-form marginal likelihoods over all 13,344 configurations gives p(k | d) and the
posterior mean profile E[m | d] = sum_c w_c P_c E[v | d, c] exactly.

Writes configs/rj_linear/{G.npy, data.txt, exact.json}. Run from the repository root:
  .venv/bin/python scripts/make_rj_linear.py
"""
import itertools
import json
import math
import os

import numpy as np

N, ND, SIGMA, MU0, S0, KMAX = 12, 16, 0.2, 2.0, 1.0, 4
out = os.path.join("configs", "rj_linear")
os.makedirs(out, exist_ok=True)

x = np.linspace(0.0, N - 1.0, ND)
G = np.exp(-0.5 * ((x[:, None] - np.arange(N)[None, :]) / 1.2) ** 2)
G /= G.sum(axis=1, keepdims=True)
m_true = np.array([1.0] * 4 + [3.0] * 5 + [2.0] * 3)
rng = np.random.RandomState(0)
d = G @ m_true + SIGMA * rng.standard_normal(ND)
np.save(os.path.join(out, "G.npy"), G)
with open(os.path.join(out, "data.txt"), "w") as f:
    f.write("# value sigma: d = G m_true + N(0, 0.2^2) (scripts/make_rj_linear.py)\n")
    for v in d:
        f.write(f"{float(v)!r} {SIGMA}\n")


def projection(nuclei):
    P = np.zeros((N, len(nuclei)))
    for node in range(N):
        dist = [abs(node - c) for c in nuclei]
        P[node, int(np.argmin(dist))] = 1.0  # argmin: the first (lower label) on ties
    return P


log_w, means, ks = [], [], []
for k in range(1, KMAX + 1):
    log_prior = -math.log(KMAX) - (math.lgamma(N + 1) - math.lgamma(N - k + 1))
    for nuclei in itertools.permutations(range(N), k):
        P = projection(nuclei)
        A = G @ P
        C = SIGMA**2 * np.eye(ND) + S0**2 * A @ A.T
        r = d - A @ (MU0 * np.ones(k))
        L = np.linalg.cholesky(C)
        z = np.linalg.solve(L, r)
        log_ml = -0.5 * z @ z - np.log(np.diag(L)).sum() - 0.5 * ND * math.log(2 * math.pi)
        v_mean = MU0 + S0**2 * A.T @ np.linalg.solve(C, r)
        log_w.append(log_prior + log_ml)
        means.append(P @ v_mean)
        ks.append(k)
log_w = np.array(log_w)
w = np.exp(log_w - log_w.max())
w /= w.sum()
ks = np.array(ks)
p_k = [float(w[ks == k].sum()) for k in range(1, KMAX + 1)]
mean = (w[:, None] * np.array(means)).sum(axis=0)
with open(os.path.join(out, "exact.json"), "w") as f:
    json.dump({"p_k": p_k, "mean": mean.tolist(), "configurations": int(len(w))}, f, indent=1)
print("p(k | d) for k = 1..4:", np.round(p_k, 4))
print("E[m | d]:", np.round(mean, 3))
