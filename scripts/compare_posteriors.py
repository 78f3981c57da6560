#!/usr/bin/env python3
"""Compares posterior results with a reference result (e.g. a long MH run): per result the
forward and adjoint solves, the wall time, the RMS difference of the mean and std maps, the
worst |mean difference| in reference stds and the range of std ratios; with --per-parameter
every parameter's row. Reads only the result files (h5py).

    .venv/bin/python scripts/compare_posteriors.py results/b1_mh_ref.h5 results/b1_advi.h5 ...
"""

import argparse

import h5py
import numpy as np


def draws(path):
    with h5py.File(path, "r") as f:
        m = f["posterior/m"][:]
        # Draws of a variational density whose forward model failed (none after the rejection
        # of failed candidates, unless q put almost all its mass there); McMC's n_failed
        # counts failed proposals, whose chains stayed at valid states.
        variational = "variational" in f and "sample_stats/n_failed" in f
        failed = f["sample_stats/n_failed"][:] if variational else None
        attrs = dict(f.attrs)
        rhat = f["summary/rhat"][:] if "summary/rhat" in f else None
        ess = f["summary/ess_bulk"][:] if "summary/ess_bulk" in f else None
    m = m.reshape(-1, m.shape[-1])
    if failed is not None:
        m = m[failed.reshape(-1) == 0]
    return m, attrs, rhat, ess


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference")
    parser.add_argument("results", nargs="+")
    parser.add_argument("--per-parameter", action="store_true")
    args = parser.parse_args()
    ref, ref_attrs, rhat, ess = draws(args.reference)
    mean0, std0 = ref.mean(0), ref.std(0)
    line = f"reference {args.reference}: {ref.shape[0]} draws, forward_calls {ref_attrs.get('forward_calls')}"
    if rhat is not None:
        line += f", max R-hat {np.nanmax(rhat):.3f}, min bulk ESS {np.nanmin(ess):.0f}"
    print(line)
    print(f"{'result':40} {'forward':>9} {'adjoint':>9} {'wall s':>8} {'RMS mean':>9} {'RMS std':>8} {'max z':>6} {'std ratio':>13}")
    for path in args.results:
        m, attrs, _, _ = draws(path)
        mean, std = m.mean(0), m.std(0)
        z = np.abs(mean - mean0) / std0
        ratio = std / std0
        print(
            f"{path:40} {attrs.get('forward_calls', 0):>9} {attrs.get('adjoint_calls', 0):>9}"
            f" {attrs.get('wall_seconds', float('nan')):>8.0f}"
            f" {np.sqrt(np.mean((mean - mean0) ** 2)):>9.4f} {np.sqrt(np.mean((std - std0) ** 2)):>8.4f}"
            f" {z.max():>6.2f} {ratio.min():>6.3f}-{ratio.max():.3f}"
        )
        if args.per_parameter:
            for j in range(len(mean)):
                print(
                    f"    {j:4}: reference {mean0[j]:.4f} ± {std0[j]:.4f}, result {mean[j]:.4f} ± {std[j]:.4f},"
                    f" z {z[j]:.2f}, ratio {ratio[j]:.3f}"
                )


if __name__ == "__main__":
    main()
