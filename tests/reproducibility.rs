//! The reproducibility promise of DESIGN.md: a fixed seed gives bit-identical arrays for a plain
//! run and for 1, 2 or 3 MPI ranks, and for a run killed right after a checkpoint and resumed;
//! a run killed while writing never leaves a half-written file under the final name.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// The quickstart problem (travel times), shortened, for both methods.
const SVGD: &[&str] = &[
    "--set",
    "problem.forward_refine=1",
    "--set",
    "method.iterations=6",
    "--set",
    "output.progress=off",
];
const MH_OVERRIDES: &[&str] = &[
    "--set",
    "problem.forward_refine=1",
    "--set",
    "method={kind: mh, n_chains: 5, iterations: 40, burn_in: 20, thin: 2, proposal: {adapt_every: 5}}",
    "--set",
    "output.progress=off",
];
const LINEAR: &[&str] = &[
    "--set",
    "method.iterations=600",
    "--set",
    "method.burn_in=300",
    "--set",
    "method.thin=2",
    "--set",
    "method.proposal.adapt_every=50",
    "--set",
    "output.progress=off",
];

/// Mean-field ADVI on the linear problem (5 samples per iteration over 1, 2 or 3 ranks).
const VI_LINEAR: &[&str] = &[
    "--set",
    "method={kind: vi, flow: [{kind: linear, structure: diagonal}], samples_per_iteration: 5, iterations: 40, step_size: 0.01, draws: 7}",
    "--set",
    "output.progress=off",
];

/// Stochastic SVGD on the linear problem, unadjusted with the diagonal kernel (variance scale)
/// and Metropolis-adjusted (a step that rejects about half the moves): 7 particles, dealt
/// unevenly to 2 and 3 ranks.
const SSVGD_LINEAR: [&[&str]; 2] = [
    &[
        "--set",
        "method={kind: ssvgd, n_particles: 7, iterations: 60, burn_in: 20, thin: 2, step_size: 0.002, kernel: {kind: diagonal, scale: variance}}",
        "--set",
        "output.progress=off",
    ],
    &[
        "--set",
        "method={kind: ssvgd, n_particles: 7, iterations: 60, burn_in: 20, step_size: 0.05, metropolis: true}",
        "--set",
        "output.progress=off",
    ],
];

/// RJ-McMC on the enumerable linear case: nodes with neighbour births, hierarchical noise and
/// a tempered ladder (5 chains × 3 temperatures, dealt unevenly); continuous nuclei plainly.
const RJ_LINEAR: [&[&str]; 2] = [
    &[
        "--set",
        "method={kind: rjmcmc, n_chains: 5, iterations: 300, burn_in: 100, thin: 2, cells: {min: 1, max: 4}, nuclei: nodes, birth: neighbour, noise: {lower: 0.5, upper: 3.0}, tempering: {betas: [0.0, 0.5, 1.0], swap_every: 3}}",
        "--set",
        "output.progress=off",
    ],
    &[
        "--set",
        "method={kind: rjmcmc, n_chains: 5, iterations: 300, burn_in: 100, thin: 2, cells: {min: 1, max: 4}}",
        "--set",
        "output.progress=off",
    ],
];

fn out_arg(path: &Path) -> String {
    format!("output.path={}", path.display())
}

fn config(name: &str) -> PathBuf {
    repo().join("configs").join(name)
}

/// Runs `cfg` with `overrides` plainly and under mpirun with 1, 2 and 3 ranks; returns the files.
fn run_everywhere(dir: &Path, cfg: &str, overrides: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let plain = dir.join("plain.h5");
    run_ok(
        geobayes()
            .arg("run")
            .arg(config(cfg))
            .args(overrides)
            .args(["--set", &out_arg(&plain)]),
    );
    files.push(plain);
    #[cfg(feature = "mpi")]
    for ranks in [1, 2, 3] {
        let f = dir.join(format!("ranks{ranks}.h5"));
        run_ok(
            mpirun(ranks, 300)
                .arg("run")
                .arg(config(cfg))
                .args(overrides)
                .args(["--set", &out_arg(&f)]),
        );
        assert_eq!(root_text(&f, "n_ranks"), format!("Int({ranks})"));
        files.push(f);
    }
    files
}

fn check_identical_across_ranks(cfg: &str, overrides: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let files = run_everywhere(dir.path(), cfg, overrides);
    #[cfg(feature = "mpi")]
    assert_eq!(files.len(), 4);
    for f in &files[1..] {
        assert_identical_results(&files[0], f);
    }
}

#[test]
fn svgd_is_bit_identical_for_1_2_3_ranks() {
    check_identical_across_ranks("quickstart.yaml", SVGD);
}

#[test]
fn mh_on_travel_times_is_bit_identical_for_1_2_3_ranks() {
    check_identical_across_ranks("quickstart.yaml", MH_OVERRIDES);
}

#[test]
fn mh_on_the_linear_problem_is_bit_identical_for_1_2_3_ranks() {
    check_identical_across_ranks("linear_gaussian.yaml", LINEAR);
}

#[test]
fn mean_field_vi_is_bit_identical_for_1_2_3_ranks() {
    check_identical_across_ranks("linear_gaussian.yaml", VI_LINEAR);
}

#[test]
fn psvi_on_travel_times_is_bit_identical_for_1_2_3_ranks() {
    check_identical_across_ranks(
        "quickstart.yaml",
        &[
            "--set",
            "problem.forward_refine=1",
            "--set",
            "method={kind: vi, flow: [{kind: linear, structure: banded, template: [3, 3]}], samples_per_iteration: 3, iterations: 4, step_size: 0.01, draws: 5}",
            "--set",
            "output.progress=off",
        ],
    );
}

/// PSVI with shot mini-batches on the small 2D FWI problem, shortened.
const PSVI_FWI: &[&str] = &[
    "--set",
    "problem.shots_per_iteration=2",
    "--set",
    "method={kind: vi, flow: [{kind: linear, structure: banded, template: [5, 5]}], samples_per_iteration: 2, iterations: 4, step_size: 0.01, draws: 2}",
    "--set",
    "output.progress=off",
];

#[test]
fn fwi_psvi_with_shot_mini_batches_is_bit_identical_for_1_2_3_ranks_and_resumes() {
    check_identical_across_ranks("fwi_small_svgd.yaml", PSVI_FWI);
    check_resume("fwi_small_svgd.yaml", PSVI_FWI, 1);
}

/// PSVI with a 5 × 5 × 5 template and shot mini-batches on the scaled B4, shortened.
const PSVI_B4: &[&str] = &[
    "--set",
    "method.iterations=3",
    "--set",
    "method.draws=1",
    "--set",
    "method.decay={factor: 0.5, every: 1}",
    "--set",
    "output.progress=off",
];

#[test]
fn b4_small_psvi_is_bit_identical_across_ranks_and_resumes() {
    check_identical_across_ranks("b4_small_psvi.yaml", PSVI_B4);
    check_resume("b4_small_psvi.yaml", PSVI_B4, 1);
}

#[test]
fn a_realnvp_flow_is_bit_identical_for_1_2_3_ranks_and_resumes() {
    // Five samples on up to three ranks: the per-sample parameter gradients of every layer
    // (actnorm, couplings) meet in the blocked sum.
    let shortened = [
        "--set",
        "method.iterations=12",
        "--set",
        "method.samples_per_iteration=5",
        "--set",
        "method.draws=9",
        "--set",
        "output.progress=off",
    ];
    check_identical_across_ranks("analytic_banana_flow.yaml", &shortened);
    check_resume("analytic_banana_flow.yaml", &shortened, 4);
}

#[test]
fn boosting_vi_is_bit_identical_for_1_2_3_ranks_and_resumes() {
    // Three RealNVP components of 6 iterations, five samples (and five of the earlier mixture
    // from the second component on) on up to three ranks. Resumed from a checkpoint inside the
    // second component (iteration 8) and from one at a component's end (12).
    let shortened = [
        "--set",
        "method.components=3",
        "--set",
        "method.iterations=6",
        "--set",
        "method.anneal={start: 0.3, iterations: 3}",
        "--set",
        "method.samples_per_iteration=5",
        "--set",
        "method.draws=9",
        "--set",
        "output.progress=off",
    ];
    check_identical_across_ranks("analytic_mixture_flow.yaml", &shortened);
    check_resume("analytic_mixture_flow.yaml", &shortened, 4);
    check_resume("analytic_mixture_flow.yaml", &shortened, 6);
}

#[test]
fn parallel_tempering_is_bit_identical_for_1_2_3_ranks_and_resumes() {
    // Two ladders of five temperatures (ten chains, dealt unevenly to three ranks), swaps every
    // second iteration, the ladder adapted over three burn-in rounds. Resumed from a checkpoint
    // inside an adaptation round (iteration 160) and from one after burn-in (400).
    let shortened = [
        "--set",
        "method.n_temperatures=5",
        "--set",
        "method.iterations=600",
        "--set",
        "method.burn_in=300",
        "--set",
        "method.thin=1",
        "--set",
        "method.swap_every=2",
        "--set",
        "method.schedule={adapt: true, rounds: 3}",
        "--set",
        "output.progress=off",
    ];
    check_identical_across_ranks("analytic_gaussian_pt.yaml", &shortened);
    check_resume("analytic_gaussian_pt.yaml", &shortened, 80);
    check_resume("analytic_gaussian_pt.yaml", &shortened, 200);
}

#[test]
fn evidence_is_bit_identical_for_1_2_3_ranks() {
    // Stepping-stone and TI from a short ladder; importance sampling and the ELBO from a
    // full-rank q, its 1000 proposal samples dealt out to the ranks.
    check_identical_across_ranks(
        "evidence_gaussian_pt.yaml",
        &["--set", "method.iterations=6000", "--set", "method.burn_in=2000", "--set", "output.progress=off"],
    );
    check_identical_across_ranks(
        "evidence_gaussian_vi.yaml",
        &["--set", "method.iterations=300", "--set", "evidence.samples=1000", "--set", "output.progress=off"],
    );
}

#[test]
fn stochastic_svgd_is_bit_identical_for_1_2_3_ranks_and_resumes() {
    for overrides in SSVGD_LINEAR {
        check_identical_across_ranks("linear_gaussian.yaml", overrides);
        // Killed during burn-in and after it.
        check_resume("linear_gaussian.yaml", overrides, 8);
        check_resume("linear_gaussian.yaml", overrides, 25);
    }
}

#[test]
fn rjmcmc_is_bit_identical_for_1_2_3_ranks_and_resumes() {
    for overrides in RJ_LINEAR {
        check_identical_across_ranks("rj_linear.yaml", overrides);
        // Killed during burn-in and after it.
        check_resume("rj_linear.yaml", overrides, 40);
        check_resume("rj_linear.yaml", overrides, 90);
    }
}

#[test]
fn vi_killed_after_a_checkpoint_resumes_bit_identically() {
    check_resume("linear_gaussian.yaml", VI_LINEAR, 8);
}

/// Kills a run right after its second checkpoint (test hook), resumes it, and compares with an
/// uninterrupted run.
fn check_resume(cfg: &str, overrides: &[&str], every: usize) {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.h5");
    let cut = dir.path().join("cut.h5");
    let cp = format!("output.checkpoint_every={every}");
    run_ok(
        geobayes()
            .arg("run")
            .arg(config(cfg))
            .args(overrides)
            .args(["--set", &cp, "--set", &out_arg(&whole)]),
    );

    let killed = geobayes()
        .arg("run")
        .arg(config(cfg))
        .args(overrides)
        .args(["--set", &cp, "--set", &out_arg(&cut)])
        .env("GEOBAYES_TEST_ABORT_AFTER_CHECKPOINT", "2")
        .output()
        .unwrap();
    assert!(!killed.status.success(), "the run was meant to be killed");
    assert_eq!(root_text(&cut, "status"), "checkpoint");
    assert_eq!(
        root_text(&cut, "iterations_done"),
        format!("Int({})", 2 * every)
    );

    run_ok(
        geobayes()
            .arg("run")
            .arg(config(cfg))
            .args(overrides)
            .args(["--set", &cp, "--set", &out_arg(&cut), "--resume"]),
    );
    assert_eq!(root_text(&cut, "status"), "complete");
    assert_identical_results(&whole, &cut);
}

#[test]
fn svgd_killed_after_a_checkpoint_resumes_bit_identically() {
    check_resume(
        "quickstart.yaml",
        &[
            "--set",
            "problem.forward_refine=1",
            "--set",
            "method.iterations=12",
            "--set",
            "output.progress=off",
        ],
        4,
    );
}

#[test]
fn mh_killed_after_a_checkpoint_resumes_bit_identically() {
    // The kill falls inside burn-in (adaptation state) for one run and after it for the other.
    check_resume("linear_gaussian.yaml", LINEAR, 100);
    check_resume("linear_gaussian.yaml", LINEAR, 200);
}

#[test]
fn a_run_killed_while_writing_leaves_the_previous_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    let args = ["--set", "output.checkpoint_every=100", "--set"];
    let killed = geobayes()
        .arg("run")
        .arg(config("linear_gaussian.yaml"))
        .args(LINEAR)
        .args(args)
        .arg(out_arg(&out))
        .env("GEOBAYES_TEST_ABORT_DURING_WRITE", "2")
        .output()
        .unwrap();
    assert!(!killed.status.success());
    // The second checkpoint's temporary file was complete but never renamed: the final name
    // still holds the first checkpoint, whole and readable.
    assert_eq!(root_text(&out, "status"), "checkpoint");
    assert_eq!(root_text(&out, "iterations_done"), "Int(100)");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert_eq!(leftovers.len(), 1, "the interrupted temporary file");
    // And the run resumes from it to the same answer as an uninterrupted run.
    run_ok(
        geobayes()
            .arg("run")
            .arg(config("linear_gaussian.yaml"))
            .args(LINEAR)
            .args(args)
            .arg(out_arg(&out))
            .arg("--resume"),
    );
    let whole = dir.path().join("whole.h5");
    run_ok(
        geobayes()
            .arg("run")
            .arg(config("linear_gaussian.yaml"))
            .args(LINEAR)
            .args(args)
            .arg(out_arg(&whole)),
    );
    assert_identical_results(&whole, &out);
}

/// FWI with shot mini-batches: the batch of each iteration comes from (seed, iteration), the
/// same on every rank, and shots run in parallel within a rank with their gradients summed in
/// shot order, so 1, 2 and 3 ranks give the same bits (4 iterations of fwi_small, one shot of
/// three per iteration).
#[test]
fn fwi_svgd_with_shot_mini_batches_is_bit_identical_for_1_2_3_ranks() {
    check_identical_across_ranks(
        "fwi_small_svgd.yaml",
        &[
            "--set",
            "method.iterations=4",
            "--set",
            "problem.shots_per_iteration=1",
            "--set",
            "output.progress=off",
        ],
    );
}
