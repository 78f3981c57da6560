#!/usr/bin/env bash
# Runs B1 (BENCHMARKS.md) with one method per config for the README's method table and keeps,
# per run, what the table needs in assets/b1_table/<name>.json: forward and adjoint solves, wall
# and CPU seconds, the mean and std maps (441 values each) and the McMC diagnostics. The maps
# are small, so runs made in different sessions add up to one table:
#
#     scripts/b1_table.sh mh_ref advi psvi        # run these entries (results/ keeps the .h5)
#     .venv/bin/python scripts/b1_table.py        # the table against the longest McMC kept
#
# Each entry is a shipped config plus the overrides that fix its budget; runs are niced so that
# a build beside them is not slowed (their CPU seconds stay exact; wall time is then longer).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/geobayes
declare -A config overrides
config[mh_ref]=configs/b1_mh.yaml
overrides[mh_ref]="--set method.iterations=60000 --set method.burn_in=15000 --set output.path=../results/b1_table/mh_ref.h5"
for name in svgd advi psvi flow pt ssvgd rjmcmc; do
  config[$name]=configs/b1_$name.yaml
  overrides[$name]="--set output.path=../results/b1_table/$name.h5"
done
mkdir -p results/b1_table assets/b1_table
for name in "$@"; do
  [[ -n "${config[$name]:-}" ]] || { echo "unknown entry $name (known: ${!config[*]})" >&2; exit 2; }
  log=results/b1_table/$name.time
  # shellcheck disable=SC2086
  nice -n 19 /usr/bin/time -f "%e %U %S" -o "$log" "$bin" run "${config[$name]}" ${overrides[$name]} --overwrite
  read -r wall user sys < "$log"
  .venv/bin/python scripts/b1_table.py --extract "results/b1_table/$name.h5" --name "$name" \
    --config "${config[$name]} ${overrides[$name]}" --wall "$wall" --cpu "$(awk "BEGIN {print $user + $sys}")"
done
