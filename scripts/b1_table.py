#!/usr/bin/env python3
"""The README's B1 method table from the runs that scripts/b1_table.sh kept in assets/b1_table/.

    b1_table.py --extract results/b1_table/advi.h5 --name advi --config "..." --wall S --cpu S
        keeps one run: forward and adjoint solves, wall and CPU seconds, the mean and std maps,
        R-hat and bulk ESS of the map values where the method has chains;
    b1_table.py [--reference NAME]
        prints the markdown table: every kept run against the reference (default: the McMC run
        with the most forward solves), RMS of the mean and of the std maps over the 441 nodes
        and over the nodes inside the station circle (r < 3.5 km, where the rays are).
"""

import argparse
import json
import pathlib

import numpy as np

from compare_posteriors import draws

ASSETS = pathlib.Path(__file__).resolve().parent.parent / "assets" / "b1_table"
MCMC = {"mh", "pt", "rjmcmc", "ssvgd"}
# B1's inversion grid: 21 x 21 nodes on [-5, 5]^2 (configs/b1_*.yaml), C order (x, y).
AXIS = np.linspace(-5.0, 5.0, 21)
INSIDE = (np.hypot(*np.meshgrid(AXIS, AXIS, indexing="ij")) < 3.5).reshape(-1)


def extract(args):
    m, attrs, rhat, ess = draws(args.extract)
    record = {
        "name": args.name,
        "method": str(attrs.get("method", "")),
        "config": args.config,
        "draws": int(m.shape[0]),
        "forward_calls": int(attrs.get("forward_calls", 0)),
        "adjoint_calls": int(attrs.get("adjoint_calls", 0)),
        "wall_seconds": args.wall,
        "cpu_seconds": args.cpu,
        "mean": m.mean(0).tolist(),
        "std": m.std(0).tolist(),
    }
    if rhat is not None:
        record["rhat_median"] = float(np.nanmedian(rhat))
        record["rhat_max"] = float(np.nanmax(rhat))
        record["ess_bulk_median"] = float(np.nanmedian(ess))
        record["ess_bulk_min"] = float(np.nanmin(ess))
    ASSETS.mkdir(parents=True, exist_ok=True)
    (ASSETS / f"{args.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"kept {ASSETS / (args.name + '.json')}")


def rms(a, b, mask=slice(None)):
    return float(np.sqrt(np.mean((np.asarray(a)[mask] - np.asarray(b)[mask]) ** 2)))


def table(args):
    runs = [json.loads(p.read_text()) for p in sorted(ASSETS.glob("*.json"))]
    if not runs:
        raise SystemExit(f"no runs kept in {ASSETS}: run scripts/b1_table.sh first")
    if args.reference:
        ref = next(r for r in runs if r["name"] == args.reference)
    else:
        chains = [r for r in runs if r["method"] in MCMC]
        if not chains:
            raise SystemExit("no McMC run kept yet: the reference is the McMC run with the most solves")
        ref = max(chains, key=lambda r: r["forward_calls"])
    diag = f", R-hat median {ref['rhat_median']:.2f} (max {ref['rhat_max']:.2f}), bulk ESS median {ref['ess_bulk_median']:.0f}" if "rhat_median" in ref else ""
    print(f"Reference: `{ref['name']}` ({ref['method']}, {ref['forward_calls']:,} forward solves{diag}).\n")
    print("| run | method | forward solves | adjoint solves | wall (2 cores) | CPU s / 2 | RMS mean | RMS mean r<3.5 | RMS std | RMS std r<3.5 | R-hat median |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(runs, key=lambda r: r["forward_calls"]):
        rh = f"{r['rhat_median']:.2f}" if "rhat_median" in r else "–"
        same = r is ref
        cells = ["(reference)"] * 4 if same else [
            f"{rms(r['mean'], ref['mean']):.3f}", f"{rms(r['mean'], ref['mean'], INSIDE):.3f}",
            f"{rms(r['std'], ref['std']):.3f}", f"{rms(r['std'], ref['std'], INSIDE):.3f}"]
        print(f"| {r['name']} | {r['method']} | {r['forward_calls']:,} | {r['adjoint_calls']:,} |"
              f" {r['wall_seconds'] / 60:.0f} min | {r['cpu_seconds'] / 120:.0f} min | " + " | ".join(cells) + f" | {rh} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extract")
    parser.add_argument("--name")
    parser.add_argument("--config", default="")
    parser.add_argument("--wall", type=float)
    parser.add_argument("--cpu", type=float)
    parser.add_argument("--reference")
    args = parser.parse_args()
    extract(args) if args.extract else table(args)


if __name__ == "__main__":
    main()
