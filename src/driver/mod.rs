//! The one run loop for every method: build the posterior and the method, `init` (or restore a
//! checkpoint), then `step` until the last iteration or until the method converges, applying
//! the run policy (failed members) and telling the observers (progress, checkpoint) after each
//! step, and finally write the result file from the method's typed output. Rank 0 writes; every
//! rank runs the loop.

pub mod hypotheses;
mod observers;
mod policy;
mod record;

use std::path::PathBuf;
use std::time::Instant;

use crate::core::config::spec::{InitSpec, RunSpec};
use crate::core::error::{Error, Result};
use crate::core::io::names::Trace;
use crate::core::io::output::{History, Status};
use crate::core::io::results::read_checkpoint;
use crate::core::parallel::{Comm, Par, Partition};
use crate::inference::{RunContext, StepStats};
use crate::posterior::{LogDensity, Posterior};
use observers::{CheckpointWriter, Observer, Progress, StepEvent};
pub use policy::{RunTotals, Termination};
pub use record::{RecordInputs, build_record};

/// How `run` starts.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Continue from the checkpoint in the output file.
    pub resume: bool,
    /// The rank's GPU when the config enables one (`gpu:`), opened by the caller.
    pub device: Option<std::sync::Arc<crate::gpu::Device>>,
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub output: PathBuf,
    pub iterations: usize,
    pub wall_seconds: f64,
    pub termination: Termination,
}

/// The history row of a step: misfit, mean lp, the method's traces, failures and wall time.
fn trace_row(stats: &StepStats, wall_time: f64) -> Vec<(Trace, f64)> {
    let mut row = vec![
        (Trace::Misfit, stats.misfit),
        (Trace::LpMean, stats.lp_mean),
    ];
    row.extend(stats.traces.iter().copied());
    row.push((Trace::NFailed, stats.n_failed as f64));
    row.push((Trace::WallTime, wall_time));
    row
}

/// Runs the inference described by `spec` on the ranks of `comm`.
pub fn run(spec: &RunSpec, comm: &dyn Comm, options: RunOptions) -> Result<RunOutcome> {
    let started = Instant::now();
    let method_spec = spec
        .method
        .as_ref()
        .ok_or_else(|| Error::Usage("`run` needs a `method` block".into()))?;
    let output = spec
        .output
        .as_ref()
        .ok_or_else(|| Error::Usage("`run` needs an `output` block".into()))?;
    let posterior = Posterior::from_spec_on(spec, options.device.as_ref())?;
    let mut method = crate::inference::build(method_spec, posterior.dim());
    let members = method_spec.members();
    let checkpoint = options
        .resume
        .then(|| read_checkpoint(&output.path))
        .transpose()?;
    // Initial members only for a fresh start (a resume must not repeat their solves).
    let initial = match (&checkpoint, &members.init) {
        (Some(_), _) | (None, InitSpec::ByMethod) => ndarray::Array2::zeros((0, posterior.dim())),
        (None, InitSpec::Prior) => admissible_prior_draws(&posterior, spec.seed, members.n, comm)?,
        (None, init) => posterior.initial_members(init, spec.seed, members.n),
    };
    let par = if spec.parallel.threads == 1 {
        Par::Seq
    } else {
        Par::Rayon
    };
    let mut ctx = RunContext::new(&posterior, comm, par, spec.seed, initial)
        .with_batch_size(spec.problem.batch_size());

    let mut totals = RunTotals::new(method_spec.as_ref());
    let (first, mut history) = match checkpoint {
        Some(cp) => {
            if cp.config_hash != spec.source.hash {
                return Err(Error::Usage(format!(
                    "{}: the checkpoint was written with another configuration (hash {} ≠ {}); resume with the same config, or run without --resume to start over",
                    output.path.display(),
                    cp.config_hash,
                    spec.source.hash
                )));
            }
            method.restore(&cp.state)?;
            totals.restore(&cp.state)?;
            (cp.next_iteration, cp.history)
        }
        None => {
            method.init(&mut ctx)?;
            (0, History::default())
        }
    };

    let total = method_spec.iterations();
    let mut observers: Vec<Box<dyn Observer + '_>> = Vec::new();
    if comm.is_root() {
        observers.push(Box::new(Progress::new(output.progress, total, first)));
        if output.checkpoint_every > 0 {
            observers.push(Box::new(CheckpointWriter::new(
                spec,
                &posterior,
                comm.size(),
                output.checkpoint_every,
                &output.path,
            )));
        }
    }
    let mut termination = Termination::IterationsDone;
    let mut done = total;
    for t in first..total {
        ctx.set_iteration(t);
        let stats = method.step(&mut ctx)?;
        history.push(&trace_row(&stats, started.elapsed().as_secs_f64()));
        totals.after_step(t, &stats, members.max_failed_fraction)?;
        let last = t + 1 == total || stats.converged;
        // A collective: every rank counts at the same steps.
        let checkpoint_due =
            output.checkpoint_every > 0 && (t + 1).is_multiple_of(output.checkpoint_every);
        if checkpoint_due || last {
            totals.set_solves(ctx.solve_counts());
        }
        let event = StepEvent {
            iteration: t,
            total,
            stats: &stats,
            history: &history,
            method: method.as_ref(),
            totals: &totals,
            elapsed: started.elapsed().as_secs_f64(),
        };
        for observer in &mut observers {
            observer.after_step(&event)?;
        }
        if stats.converged {
            termination = Termination::Converged;
            done = t + 1;
            break;
        }
    }
    method.finish(&mut ctx)?;
    totals.set_solves(ctx.solve_counts());
    // The output (a copy of every draw) is built on the root, which writes it, and on every
    // rank only when the evidence estimators (collectives) read its kept groups.
    let mut output_now = (comm.is_root() || spec.evidence.is_some()).then(|| method.output());
    if let (Some(evidence), Some(output_now)) = (&spec.evidence, &mut output_now) {
        let input = crate::inference::evidence::EvidenceInput {
            kept: &output_now.kept,
            file: &output.path,
            run_forward_calls: totals.solves().0,
            shape: &spec.problem.axes_shape(),
        };
        let rows = crate::inference::evidence::estimate(evidence, &input, &ctx)?;
        output_now.evidence.extend(rows);
        totals.set_solves(ctx.solve_counts());
    }
    for observer in &mut observers {
        observer.after_run()?;
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    if comm.is_root() {
        let record = build_record(&RecordInputs {
            spec,
            posterior: &posterior,
            output: output_now.expect("built on the root"),
            history: &history,
            status: Status::Complete,
            iterations_done: done,
            termination: termination.as_str(),
            solves: totals.solves(),
            n_ranks: comm.size(),
            wall_seconds,
            checkpoint: None,
        });
        record.write(&output.path)?;
    }
    Ok(RunOutcome {
        output: output.path.clone(),
        iterations: done,
        wall_seconds,
        termination,
    })
}

/// Most prior draws tried per member before giving up.
const MAX_INIT_ATTEMPTS: usize = 1000;

/// Initial members drawn from the prior where the forward model works: member i takes the first
/// of its draws (seed, init, i, attempt = 0, 1, ...) with a finite log posterior (a random prior
/// model may lack a mode that the data have, say). Each rank draws for the members it owns; the
/// rows are gathered by global index, so the result does not depend on the rank count.
fn admissible_prior_draws(
    posterior: &Posterior,
    seed: u64,
    n: usize,
    comm: &dyn Comm,
) -> Result<ndarray::Array2<f64>> {
    let dim = posterior.dim();
    let owned = Partition::new(n, comm.size()).owned(comm.rank());
    let mut local = Vec::with_capacity(owned.len() * (dim + 1));
    for member in owned {
        let mut found = None;
        for attempt in 0..MAX_INIT_ATTEMPTS {
            let x = posterior.prior_draw(seed, member, attempt);
            let lp = posterior.log_prob(x.view().insert_axis(ndarray::Axis(0)))?[0];
            if lp.is_finite() {
                found = Some(x);
                break;
            }
        }
        match found {
            Some(x) => {
                local.extend(x.iter());
                local.push(1.0);
            }
            None => {
                local.extend(std::iter::repeat_n(0.0, dim));
                local.push(0.0);
            }
        }
    }
    let partition = Partition::new(n, comm.size());
    let all = comm.all_gather_rows(&partition, dim + 1, &local);
    let rows = ndarray::Array2::from_shape_vec((n, dim + 1), all).expect("gathered length");
    if let Some(member) = (0..n).find(|&i| rows[[i, dim]] == 0.0) {
        return Err(Error::Run(format!(
            "member {member}: none of {MAX_INIT_ATTEMPTS} prior draws gives a finite posterior (the forward model fails everywhere the prior puts its mass); narrow the prior or give method.init a file"
        )));
    }
    Ok(rows.slice(ndarray::s![.., ..dim]).to_owned())
}
