//! Bad input: every mistake gets a short error naming the key or file, exit code 2, no panic and
//! no output file — run plainly and under `mpirun -n 2` (no rank may hang).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A valid travel-time config with its files, in `dir`.
fn traveltime_case(dir: &Path) -> String {
    write(dir, "stations.txt", "A 0.5 0.5\nB 3.5 0.7\nC 2.0 3.6\n");
    write(
        dir,
        "picks.txt",
        "A B 1.6 0.05\nA C 1.7 0.05\nB C 1.8 0.05\n",
    );
    r#"name: tt
problem:
  kind: traveltime2d
  grid: {origin: [0.0, 0.0], spacing: [0.5, 0.5], shape: [9, 9]}
  stations: {file: stations.txt}
  data: {file: picks.txt}
prior: {kind: uniform, lower: 1.0, upper: 3.0}
method: {kind: svgd, n_particles: 4, iterations: 2, step_size: 0.05}
output: {path: out.h5}
"#
    .to_string()
}

/// A valid linear config with its files, in `dir`.
fn linear_case(dir: &Path) -> String {
    copy_in(dir, &["configs/linear/G.npy", "configs/linear/data.txt"]);
    r#"name: lin
problem:
  kind: linear
  matrix: {file: G.npy}
  data: {file: data.txt}
prior: {kind: gaussian, mean: 0.0, std: 1.0}
method: {kind: mh, n_chains: 2, iterations: 20, burn_in: 10}
output: {path: out.h5}
"#
    .to_string()
}

/// A valid variational config on an analytic target (no files).
fn vi_case(_dir: &Path) -> String {
    r#"name: vi
problem:
  kind: analytic
  dim: 6
  grid: {shape: [3, 2]}
  target: {kind: gaussian, mean: 0.0, std: 0.5}
prior: {kind: gaussian, mean: 0.0, std: 1.0}
method:
  kind: vi
  flow:
    - {kind: linear, structure: banded, template: [3, 3]}
  iterations: 5
  step_size: 0.01
  draws: 10
output: {path: out.h5}
"#
    .to_string()
}

/// A valid parallel-tempering config on an analytic target (no files).
fn pt_case(_dir: &Path) -> String {
    r#"name: pt
problem:
  kind: analytic
  dim: 2
  target: {kind: gaussian, mean: 0.0, std: 0.5}
prior: {kind: gaussian, mean: 0.0, std: 1.0}
method:
  kind: pt
  betas: [0.0, 0.3, 1.0]
  iterations: 40
  burn_in: 20
output: {path: out.h5}
"#
    .to_string()
}

/// A valid `hypotheses:` config: [`pt_case`] under two Gaussian priors.
fn hypotheses_case(dir: &Path) -> String {
    pt_case(dir).replace(
        "prior: {kind: gaussian, mean: 0.0, std: 1.0}\n",
        "hypotheses:\n  - {name: wide, prior: {kind: gaussian, mean: 0.0, std: 1.0}}\n  - {name: narrow, prior: {kind: gaussian, mean: 0.0, std: 0.3}}\nevidence: {estimators: [ss]}\n",
    )
}

/// A valid RJ-McMC config on the analytic target of [`pt_case`], given a grid.
fn rj_case(dir: &Path) -> String {
    pt_case(dir)
        .replace(
            "  target: {kind: gaussian, mean: 0.0, std: 0.5}\n",
            "  target: {kind: gaussian, mean: 0.0, std: 0.5}\n  grid: {shape: [2]}\n",
        )
        .replace(
            "kind: pt\n  betas: [0.0, 0.3, 1.0]",
            "kind: rjmcmc\n  n_chains: 2\n  cells: {min: 1, max: 4}",
        )
}

/// A valid sSVGD config on the analytic target of [`pt_case`].
fn ssvgd_case(dir: &Path) -> String {
    pt_case(dir).replace(
        "kind: pt\n  betas: [0.0, 0.3, 1.0]",
        "kind: ssvgd\n  n_particles: 4\n  step_size: 0.01\n  kernel: {kind: diagonal, scale: variance}",
    )
}

/// A valid small 2D FWI config (forward only: v_max given, no data file).
fn fwi_case() -> String {
    r#"problem:
  kind: fwi2d
  grid: {origin: [0.0, 0.0], spacing: [0.02, 0.02], shape: [20, 15]}
  dt: 0.003
  steps: 50
  wavelet: {ricker: 8.0}
  sources: [[0.2, 0.04]]
  receivers: [[0.1, 0.1], [0.3, 0.1]]
  fixed: {top_rows: 2, velocity: 1.5}
  v_max: 3.0
  reference_model: 2.0
"#
    .to_string()
}

struct Case {
    name: &'static str,
    /// Edits the directory and returns the config text.
    setup: fn(&Path) -> String,
    /// Extra arguments after the config (the command is `run` unless `args` says otherwise).
    args: &'static [&'static str],
    /// Text the message must contain (the key or file at fault).
    expect: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "unknown key",
            setup: |d| linear_case(d).replace("name: lin", "name: lin\nmethd: 3"),
            args: &[],
            expect: "unknown field `methd`",
        },
        Case {
            name: "wrong type",
            setup: |d| linear_case(d).replace("name: lin", "name: lin\nseed: many"),
            args: &[],
            expect: "seed",
        },
        Case {
            name: "unknown method kind",
            setup: |d| linear_case(d).replace("kind: mh", "kind: hmc"),
            args: &[],
            expect: "hmc",
        },
        Case {
            name: "sigma <= 0 in the data file",
            setup: |d| {
                let c = traveltime_case(d);
                write(
                    d,
                    "picks.txt",
                    "A B 1.6 0.05\nA C 1.7 -0.05\nB C 1.8 0.05\n",
                );
                c
            },
            args: &[],
            expect: "picks.txt: line 2: σ must be",
        },
        Case {
            name: "lower >= upper",
            setup: |d| traveltime_case(d).replace("upper: 3.0", "upper: 0.9"),
            args: &[],
            expect: "prior.lower",
        },
        Case {
            name: "missing file",
            setup: |d| traveltime_case(d).replace("stations.txt}", "nowhere.txt}"),
            args: &[],
            expect: "nowhere.txt",
        },
        Case {
            name: "data of the wrong length",
            setup: |d| {
                let c = linear_case(d);
                write(d, "data.txt", "1.0 1.0\n2.0 1.0\n");
                c
            },
            args: &[],
            expect: "data.txt: has 2 data, the matrix has 30",
        },
        Case {
            name: "NaN in data",
            setup: |d| {
                let c = traveltime_case(d);
                write(d, "picks.txt", "A B nan 0.05\nA C 1.7 0.05\nB C 1.8 0.05\n");
                c
            },
            args: &[],
            expect: "picks.txt: line 1: datum is not finite",
        },
        Case {
            name: "station outside the grid",
            setup: |d| {
                let c = traveltime_case(d);
                write(d, "stations.txt", "A 0.5 0.5\nB 7.5 0.7\nC 2.0 3.6\n");
                c
            },
            args: &[],
            expect: "station `B` at (7.5, 0.7) lies outside the grid",
        },
        Case {
            name: "unknown station in the picks",
            setup: |d| {
                let c = traveltime_case(d);
                write(d, "picks.txt", "A B 1.6 0.05\nA Z 1.7 0.05\n");
                c
            },
            args: &[],
            expect: "unknown station `Z`",
        },
        Case {
            name: "negative step size",
            setup: |d| traveltime_case(d).replace("step_size: 0.05", "step_size: -0.1"),
            args: &[],
            expect: "method.step_size: must be a finite number > 0 (got -0.1)",
        },
        Case {
            name: "burn-in not below iterations",
            setup: |d| linear_case(d).replace("burn_in: 10", "burn_in: 20"),
            args: &[],
            expect: "method.iterations: must exceed method.burn_in",
        },
        Case {
            name: "grid shape of the wrong length",
            setup: |d| traveltime_case(d).replace("shape: [9, 9]", "shape: [9, 9, 9]"),
            args: &[],
            expect: "problem.grid.shape: must have 2 values",
        },
        Case {
            name: "missing prior",
            setup: |d| linear_case(d).replace("prior: {kind: gaussian, mean: 0.0, std: 1.0}\n", ""),
            args: &[],
            expect: "prior: required",
        },
        Case {
            name: "initial members outside the prior",
            setup: |d| {
                let c = traveltime_case(d);
                write(d, "init.txt", &"5.0\n".repeat(4 * 81));
                c.replace(
                    "step_size: 0.05}",
                    "step_size: 0.05, init: {file: init.txt}}",
                )
            },
            args: &[],
            expect: "init.txt: member 0, parameter 0 = 5 lies outside",
        },
        Case {
            name: "output not HDF5",
            setup: |d| linear_case(d).replace("out.h5", "out.csv"),
            args: &[],
            expect: "output.path: must end in .h5",
        },
        Case {
            name: "several problems at once",
            setup: |d| {
                traveltime_case(d)
                    .replace("upper: 3.0", "upper: 0.9")
                    .replace("step_size: 0.05", "step_size: 0.0")
            },
            args: &[],
            expect: "2 problems",
        },
        Case {
            name: "forward with a model of the wrong length",
            setup: |d| {
                write(d, "model.txt", "2.0\n2.0\n");
                traveltime_case(d)
            },
            args: &["forward", "--model", "model.txt", "--out", "out.txt"],
            expect: "model.txt: has 2 values, the problem has 81 parameters",
        },
        Case {
            name: "forward with a non-positive reference velocity",
            setup: |d| {
                traveltime_case(d).replace(
                    "data: {file: picks.txt}",
                    "data: {file: picks.txt}\n  reference_model: -1.0",
                )
            },
            args: &["forward", "--out", "out.txt"],
            expect: "problem.reference_model: velocity must be > 0",
        },
        Case {
            name: "noise without sigma",
            setup: |d| {
                traveltime_case(d).replace("data: {file: picks.txt}", "reference_model: 2.0")
            },
            args: &["forward", "--out", "out.txt", "--noise-seed", "1"],
            expect: "--noise-seed needs the data σ",
        },
        Case {
            name: "resume without a result file",
            setup: linear_case,
            args: &["run", "--resume"],
            expect: "out.h5: no result file to resume from",
        },
        Case {
            name: "spherical station outside the grid",
            setup: |d| {
                write(d, "sph.txt", "A 50.5 -3.5\nB 51.0 -1.0\nC 58.0 -2.0\n");
                traveltime_case(d)
                    .replace(
                        "stations: {file: stations.txt}",
                        "stations: {file: sph.txt}\n  geometry: spherical",
                    )
                    .replace("origin: [0.0, 0.0]", "origin: [-4.0, 50.0]")
                    .replace("  data: {file: picks.txt}\n", "")
            },
            args: &["forward", "--out", "out.txt"],
            expect: "station `C` at lon -2, lat 58 lies outside the grid",
        },
        Case {
            name: "fluid layer in a dispersion model",
            setup: |_| {
                "problem:\n  kind: dispersion\n  model: {thickness: [1.0, 0.0], vp: [1.5, 6.0], vs: [0.0, 3.5], rho: [1.0, 2.7]}\n  curves:\n    - {wave: rayleigh, velocity: phase, mode: 0, periods: [1.0]}\n".to_string()
            },
            args: &["forward", "--out", "out.txt"],
            expect: "problem.model.vs[0]: is 0: fluid layers are not supported",
        },
        Case {
            name: "FWI time step above the stability limit",
            setup: |_| fwi_case().replace("dt: 0.003", "dt: 0.004"),
            args: &["forward", "--out", "out.npy"],
            expect: "problem.dt: 0.004 s is above the stability limit",
        },
        Case {
            name: "FWI grid too coarse for the wavelet",
            setup: |_| fwi_case().replace("ricker: 8.0", "ricker: 12.0"),
            args: &["forward", "--out", "out.npy"],
            expect: "problem.grid.spacing: 0.02 km gives 2.50 points per shortest wavelength",
        },
        Case {
            name: "FWI receiver outside the model",
            setup: |_| fwi_case().replace("[0.3, 0.1]]", "[0.5, 0.1]]"),
            args: &["forward", "--out", "out.npy"],
            expect: "problem.receivers: position 1 [0.5, 0.1] lies outside the model grid",
        },
        Case {
            name: "FWI unequal grid spacing",
            setup: |_| fwi_case().replace("spacing: [0.02, 0.02]", "spacing: [0.02, 0.025]"),
            args: &["forward", "--out", "out.npy"],
            expect: "problem.grid.spacing: must be the same on every axis",
        },
        Case {
            name: "FWI waveform data without sigma",
            setup: |d| {
                write(d, "d.txt", &"0.0\n".repeat(102));
                fwi_case().replace("  v_max: 3.0", "  v_max: 3.0\n  data: {file: d.txt}")
            },
            args: &["forward", "--out", "out.npy"],
            expect: "problem.data.sigma: required with waveform data",
        },
        Case {
            name: "negative member count, with its line",
            setup: |d| linear_case(d).replace("n_chains: 2", "n_chains: -5"),
            args: &[],
            expect: "method.n_chains: invalid value: integer `-5`, expected usize (line 7)",
        },
        Case {
            name: "wrong type inside a method block, with its line",
            setup: |d| {
                linear_case(d).replace("burn_in: 10}", "burn_in: 10, proposal: {adapt: maybe}}")
            },
            args: &[],
            expect: "method.proposal.adapt: invalid type: string \"maybe\", expected a boolean (line 7)",
        },
        Case {
            name: "wrong type inside a problem block",
            setup: |d| traveltime_case(d).replace("shape: [9, 9]", "shape: [9, x]"),
            args: &[],
            expect: "problem.grid.shape[1]: invalid type: string \"x\"",
        },
        Case {
            name: "unknown flow layer",
            setup: |d| {
                vi_case(d).replace(
                    "kind: linear, structure: banded, template: [3, 3]",
                    "kind: wavelet",
                )
            },
            args: &[],
            expect: "method.flow[0].kind: unknown variant `wavelet`",
        },
        Case {
            name: "template wider than the axis",
            setup: |d| vi_case(d).replace("template: [3, 3]", "template: [7, 3]"),
            args: &[],
            expect: "method.flow[0].template[0]: must be at most 2n − 1 = 5",
        },
        Case {
            name: "template of even width",
            setup: |d| vi_case(d).replace("template: [3, 3]", "template: [3, 2]"),
            args: &[],
            expect: "method.flow[0].template[1]: must be odd",
        },
        Case {
            name: "template with another number of axes than the grid",
            setup: |d| vi_case(d).replace("template: [3, 3]", "template: [3]"),
            args: &[],
            expect: "method.flow[0].template: has 1 widths, the parameter grid has 2 axes",
        },
        Case {
            name: "analytic grid of another size than dim",
            setup: |d| vi_case(d).replace("shape: [3, 2]", "shape: [4, 2]"),
            args: &[],
            expect: "problem.grid.shape: has 8 points ([4, 2]), problem.dim is 6",
        },
        Case {
            name: "no draws",
            setup: |d| vi_case(d).replace("draws: 10", "draws: 0"),
            args: &[],
            expect: "method.draws: must be ≥ 1 (got 0)",
        },
        Case {
            name: "non-positive variational step size",
            setup: |d| vi_case(d).replace("step_size: 0.01", "step_size: 0.0"),
            args: &[],
            expect: "method.step_size: must be a finite number > 0 (got 0)",
        },
        Case {
            name: "boosting without its number of components",
            setup: |d| vi_case(d).replace("kind: vi", "kind: boosting_vi"),
            args: &[],
            expect: "method.components: required: the number of mixture components",
        },
        Case {
            name: "boosting with no components",
            setup: |d| vi_case(d).replace("kind: vi", "kind: boosting_vi\n  components: 0"),
            args: &[],
            expect: "method.components: must be ≥ 1 (got 0)",
        },
        Case {
            name: "a negative count inside a boosting block",
            setup: |d| {
                vi_case(d)
                    .replace("kind: vi", "kind: boosting_vi\n  components: 2")
                    .replace("iterations: 5", "iterations: -5")
            },
            args: &[],
            expect: "method.iterations: invalid value: integer `-5`, expected usize (line 13)",
        },
        Case {
            name: "a starting model on a bound of the prior",
            setup: |d| {
                vi_case(d)
                    .replace(
                        "prior: {kind: gaussian, mean: 0.0, std: 1.0}",
                        "prior: {kind: uniform, lower: -1.0, upper: 1.0}",
                    )
                    .replace(
                        "draws: 10",
                        "draws: 10\n  init: {model: [0.0, 0.5, 1.0, 0.0, 0.0, 0.0], spread: 0.3}",
                    )
            },
            args: &[],
            expect: "method.init.model: parameter 2 is 1, not strictly inside the prior's bounds [-1, 1]",
        },
        Case {
            name: "components on a single flow",
            setup: |d| vi_case(d).replace("kind: vi", "kind: vi\n  components: 2"),
            args: &[],
            expect: "method.components: a mixture of flows is `kind: boosting_vi`",
        },
        Case {
            name: "a 2-D target in another dimension",
            setup: |d| {
                vi_case(d).replace(
                    "{kind: gaussian, mean: 0.0, std: 0.5}",
                    "{kind: banana, b: 2.0}",
                )
            },
            args: &[],
            expect: "problem.target.kind: `banana` is a 2-D target (problem.dim is 6)",
        },
        Case {
            name: "3D grid with 2D values",
            setup: |d| traveltime_case(d).replace("kind: traveltime2d", "kind: traveltime3d"),
            args: &[],
            expect: "problem.grid.origin: must have 3 values (x, y, z), got 2",
        },
        Case {
            name: "a temperature ladder that does not increase",
            setup: |d| pt_case(d).replace("[0.0, 0.3, 1.0]", "[0.0, 0.3, 0.2, 1.0]"),
            args: &[],
            expect: "method.betas[2]: must exceed betas[1] = 0.3",
        },
        Case {
            name: "a temperature ladder that does not end at 1",
            setup: |d| pt_case(d).replace("[0.0, 0.3, 1.0]", "[0.0, 0.3, 0.9]"),
            args: &[],
            expect: "method.betas[2]: must be 1, the posterior",
        },
        Case {
            name: "swap_every: 0",
            setup: |d| pt_case(d).replace("burn_in: 20", "burn_in: 20\n  swap_every: 0"),
            args: &[],
            expect: "method.swap_every: must be ≥ 1",
        },
        Case {
            name: "PT burn_in >= iterations",
            setup: |d| pt_case(d).replace("burn_in: 20", "burn_in: 40"),
            args: &[],
            expect: "method.iterations: must exceed method.burn_in",
        },
        Case {
            name: "PT adaptive rounds that do not fit in burn-in",
            setup: |d| {
                pt_case(d).replace(
                    "betas: [0.0, 0.3, 1.0]",
                    "n_temperatures: 4\n  schedule: {rounds: 5}\n  swap_every: 2",
                )
            },
            args: &[],
            expect: "method.schedule.rounds: 5 rounds of doubling length",
        },
        Case {
            name: "cells.min > cells.max",
            setup: |d| rj_case(d).replace("cells: {min: 1, max: 4}", "cells: {min: 5, max: 4}"),
            args: &[],
            expect: "method.cells.max: must be ≥ method.cells.min (4 < 5)",
        },
        Case {
            name: "rjmcmc on a problem without a grid",
            setup: |d| rj_case(d).replace("\n  grid: {shape: [2]}", ""),
            args: &[],
            expect: "method.kind: rjmcmc needs a problem whose parameters lie on a grid",
        },
        Case {
            name: "RJ burn_in >= iterations",
            setup: |d| rj_case(d).replace("burn_in: 20", "burn_in: 40"),
            args: &[],
            expect: "method.iterations: must exceed method.burn_in",
        },
        Case {
            name: "sSVGD step_size: 0",
            setup: |d| ssvgd_case(d).replace("step_size: 0.01", "step_size: 0.0"),
            args: &[],
            expect: "method.step_size: must be a finite number > 0",
        },
        Case {
            name: "a ladder estimator without a ladder",
            setup: |d| linear_case(d).replace("output:", "evidence: {estimators: [ss]}\noutput:"),
            args: &[],
            expect: "evidence.estimators[0]: `ss` needs a temperature ladder",
        },
        Case {
            name: "importance sampling without a fitted q",
            setup: |d| pt_case(d).replace("output:", "evidence: {estimators: [ti, is]}\noutput:"),
            args: &[],
            expect: "evidence.estimators[1]: `is` needs a fitted variational density",
        },
        Case {
            name: "an estimator listed twice",
            setup: |d| vi_case(d).replace("output:", "evidence: {estimators: [is, elbo, is]}\noutput:"),
            args: &[],
            expect: "evidence.estimators[2]: `is` is listed twice",
        },
        Case {
            name: "too few importance samples",
            setup: |d| vi_case(d).replace("output:", "evidence: {estimators: [is], samples: 10}\noutput:"),
            args: &[],
            expect: "evidence.samples: must be ≥ 100",
        },
        Case {
            name: "a hypothesis without a name",
            setup: |d| hypotheses_case(d).replace("  - {name: narrow, prior:", "  - {prior:"),
            args: &[],
            expect: "missing field `name`",
        },
        Case {
            name: "two hypotheses of one name",
            setup: |d| hypotheses_case(d).replace("name: narrow", "name: wide"),
            args: &[],
            expect: "hypotheses[1].name: `wide` is used twice",
        },
        Case {
            name: "hypotheses together with a prior",
            setup: |d| hypotheses_case(d).replace("hypotheses:", "prior: {kind: gaussian, mean: 0.0, std: 1.0}\nhypotheses:"),
            args: &[],
            expect: "prior: a config with `hypotheses` gives each hypothesis its own prior",
        },
        Case {
            name: "a hypothesis's prior is wrong",
            setup: |d| hypotheses_case(d).replace("std: 0.3}", "std: -0.3}"),
            args: &[],
            expect: "hypotheses[1].prior.std: must be > 0",
        },
        Case {
            name: "hypotheses without an evidence estimator",
            setup: |d| hypotheses_case(d).replace("evidence: {estimators: [ss]}\n", ""),
            args: &[],
            expect: "evidence: hypotheses are ranked by their evidence",
        },
        Case {
            name: "an unknown hypothesis",
            setup: hypotheses_case,
            args: &["--hypothesis", "medium"],
            expect: "--hypothesis medium: the config's hypotheses are wide, narrow",
        },
        Case {
            name: "kernel.value without the diagonal kernel",
            setup: |d| ssvgd_case(d).replace("kernel: {kind: diagonal, scale: variance}", "kernel: {kind: rbf, value: 2.0}"),
            args: &[],
            expect: "method.kernel.value: belongs to `kind: diagonal`",
        },
    ]
}

/// Runs every case through `command` (which gets the subcommand, config and arguments) and checks
/// the outcome.
fn check_all(command: impl Fn() -> Command, label: &str) {
    let cases = cases();
    assert!(cases.len() >= 15);
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config.yaml", &(case.setup)(dir.path()));
        let (sub, rest): (&str, &[&str]) = match case.args.first() {
            Some(&"forward") => ("forward", &case.args[1..]),
            Some(&"run") => ("run", &case.args[1..]),
            _ => ("run", case.args),
        };
        let out = command()
            .current_dir(dir.path())
            .arg(sub)
            .arg(&config)
            .args(rest)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "[{label}] {}: exit status {:?}, stderr:\n{stderr}",
            case.name,
            out.status
        );
        assert!(
            stderr.contains(case.expect),
            "[{label}] {}: message does not name `{}`:\n{stderr}",
            case.name,
            case.expect
        );
        assert!(
            !stderr.contains("panicked"),
            "[{label}] {}: panicked:\n{stderr}",
            case.name
        );
        for leftover in ["out.h5", "out.csv", "out.txt"] {
            assert!(
                !dir.path().join(leftover).exists(),
                "[{label}] {}: wrote {leftover}",
                case.name
            );
        }
        let extra: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(
            extra.is_empty(),
            "[{label}] {}: left a temporary file",
            case.name
        );
        println!(
            "[{label}] {}: {}",
            case.name,
            stderr.lines().last().unwrap_or_default().trim()
        );
    }
}

#[test]
fn bad_inputs_are_clear_errors_with_exit_code_2() {
    check_all(geobayes, "plain");
}

#[cfg(feature = "mpi")]
#[test]
fn bad_inputs_are_clear_errors_under_mpirun_without_hanging() {
    check_all(|| mpirun(2, 60), "mpirun -n 2");
}

#[test]
fn an_existing_result_is_not_overwritten_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "config.yaml", &linear_case(dir.path()));
    std::fs::write(dir.path().join("out.h5"), b"precious").unwrap();
    let out = geobayes().arg("run").arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--overwrite"));
    assert_eq!(
        std::fs::read(dir.path().join("out.h5")).unwrap(),
        b"precious"
    );
}

#[test]
fn validate_reports_ok_for_every_shipped_config() {
    for entry in std::fs::read_dir(repo().join("configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = run_ok(geobayes().arg("validate").arg(&path));
            assert!(
                String::from_utf8_lossy(&out.stdout).starts_with("ok:"),
                "{}",
                path.display()
            );
        }
    }
}
