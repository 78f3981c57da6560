#!/usr/bin/env python3
"""Opens a geobayes result file the way users do (h5py, xarray, ArviZ) and checks its layout
against DESIGN.md's table. Usage: check_output.py RESULT.h5 [mh|pt|svgd|ssvgd|rjmcmc]. Exits non-zero on any
mismatch."""
import sys

import arviz as az
import h5py
import numpy as np
import xarray as xr

path, method = sys.argv[1], sys.argv[2]

with h5py.File(path, "r") as f:
    assert f.attrs["status"] == "complete", f.attrs["status"]
    for key in ["version", "git_commit", "features", "n_ranks", "seed", "config_hash"]:
        assert key in f.attrs, key
    m = f["posterior/m"][...]
    chains, draws, params = m.shape
    assert f["sample_stats/lp"].shape == (chains, draws)
    assert f["sample_stats/log_likelihood"].shape == (chains, draws)
    assert f["sample_stats/n_failed"].shape == (chains, draws)
    n_obs = f["observed_data/d"].shape[0]
    assert f["constant_data/sigma"].shape == (n_obs,)
    assert f["posterior_predictive/d"].shape == (n_obs,)
    flat = m.reshape(-1, params)
    # Summaries follow numpy's conventions exactly.
    np.testing.assert_allclose(f["summary/mean"][...], flat.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f["summary/std"][...], flat.std(axis=0), rtol=1e-10, atol=1e-12)
    for name, q in [("q05", 0.05), ("q50", 0.5), ("q95", 0.95)]:
        np.testing.assert_allclose(f[f"summary/{name}"][...], np.quantile(flat, q, axis=0), rtol=0, atol=1e-14)
    assert f["summary"].attrs["n_samples"] == chains * draws
    assert "misfit" in f["diagnostics"]
    assert len(f["diagnostics/misfit"]) == f.attrs["iterations"]
    config = f["provenance/config"][()]
    assert b"problem" in config, config[:100]
    if method in ("mh", "pt", "rjmcmc"):
        assert f["sample_stats/accepted"].dtype == np.int8
        assert f["sample_stats/acceptance_rate"].shape == (chains,)
        assert f["summary/rhat"].shape == (params,)
        # The convergence diagnostics are ArviZ's, parameter by parameter.
        posterior = az.convert_to_dataset({"m": f["posterior/m"][...]})
        for name, value in [
            ("rhat", az.rhat(posterior, method="rank")),
            ("rhat_bulk", az.rhat(posterior, method="z_scale")),
            ("rhat_tail", az.rhat(posterior, method="folded")),
            ("ess_bulk", az.ess(posterior, method="bulk")),
            ("ess_tail", az.ess(posterior, method="tail")),
            ("mcse_mean", az.mcse(posterior, method="mean")),
            ("mcse_sd", az.mcse(posterior, method="sd")),
            ("mcse_q05", az.mcse(posterior, method="quantile", prob=0.05)),
            ("mcse_q50", az.mcse(posterior, method="quantile", prob=0.5)),
            ("mcse_q95", az.mcse(posterior, method="quantile", prob=0.95)),
        ]:
            np.testing.assert_allclose(f[f"summary/{name}"][...], value["m"].values, rtol=1e-8, err_msg=name)
    if method == "pt":
        # The ladder from the prior to the posterior, and every chain's log-likelihood on it:
        # the beta = 1 rows are the posterior draws' own.
        betas = f["tempering/betas"][...]
        assert betas[0] == 0.0 and betas[-1] == 1.0 and np.all(np.diff(betas) > 0), betas
        series = f["tempering/log_likelihood"][...]
        assert series.shape == (len(betas), chains, draws), series.shape
        np.testing.assert_array_equal(series[-1], f["sample_stats/log_likelihood"][...])
        assert f["tempering/swap_acceptance"].shape == (len(betas) - 1,)
        assert f["tempering/barrier"][0] == 0.0
    if method == "rjmcmc":
        # Physical grid models of variable-size Voronoi cells, the cells kept beside them.
        n_cells = f["sample_stats/n_cells"][...]
        assert n_cells.shape == (chains, draws) and n_cells.dtype == np.int64
        assert f["sample_stats/noise_scale"].shape == (chains, draws)
        offsets = f["cells/offsets"][...].astype(int)
        assert offsets.shape == (chains, draws)
        assert f["cells/values"].shape[0] == n_cells.sum()
        grid_dims = sum(name in f["posterior"] for name in ("param_x", "param_y", "param_z"))
        assert f["cells/nuclei"].shape == (n_cells.sum(), grid_dims), f["cells/nuclei"].shape
        assert "birth_acceptance" in f["diagnostics"]
    if method == "ssvgd":
        # Interacting particles: every kept iteration's ensemble pooled in one chain, no R-hat.
        assert chains == 1, chains
        assert "rhat" not in f["summary"] and "ess_bulk" not in f["summary"]
        assert f["sample_stats/accepted"].dtype == np.int8
        if "acceptance_rate" in f["sample_stats"]:  # Metropolis-adjusted
            assert f["sample_stats/acceptance_rate"].shape == (1,)
        assert "ksd" in f["diagnostics"]
    if "param_x" in f["posterior"]:
        assert f["summary/coverage"].shape == (params,)

ds = xr.open_dataset(path, group="posterior")
assert ds["m"].dims == ("chain", "draw", "param"), ds["m"].dims
assert ds["m"].shape == (chains, draws, params)
stats = xr.open_dataset(path, group="sample_stats")
if method == "pt":
    tempering = xr.open_dataset(path, group="tempering")
    assert "log_likelihood" in tempering and "betas" in tempering, list(tempering)
    # The evidence table: one row per estimator, labelled by the `estimator` coordinate.
    evidence = xr.open_dataset(path, group="evidence")
    assert list(evidence["estimator"].values) == ["ss", "ti"], evidence["estimator"].values
    for name in ("log_z", "log_z_error", "information", "ess", "forward_calls", "khat", "reliable", "bound", "note"):
        assert evidence[name].dims == ("estimator",), (name, evidence[name].dims)
    assert evidence["reliable"].dtype == np.int8 and np.all(np.isfinite(evidence["log_z"].values))
assert stats["lp"].dims == ("chain", "draw")

idata = az.from_netcdf(path)
assert "posterior" in idata.groups() and "sample_stats" in idata.groups(), idata.groups()
assert idata.posterior["m"].shape == (chains, draws, params)
summary = az.summary(idata, var_names=["m"], kind="stats")
assert len(summary) == params
print(f"ok: {path}: posterior/m {m.shape}, groups {sorted(idata.groups())}")
