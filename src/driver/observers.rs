//! Observers of the run loop (rank 0 only): progress on the terminal or as heartbeat lines, and
//! checkpoints every k iterations. They see each step through `StepEvent`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::policy::RunTotals;
use super::record::{RecordInputs, build_record};
use crate::core::config::spec::{ProgressMode, RunSpec};
use crate::core::error::Result;
use crate::core::io::output::{History, Status};
use crate::core::testing_hooks;
use crate::inference::{Method, StepStats, Trace};
use crate::posterior::Posterior;

pub struct StepEvent<'a> {
    pub iteration: usize,
    pub total: usize,
    pub stats: &'a StepStats,
    pub history: &'a History,
    pub method: &'a dyn Method,
    /// The run policy's counters (solves counted at checkpoint steps and the last).
    pub totals: &'a RunTotals,
    pub elapsed: f64,
}

pub trait Observer {
    fn after_step(&mut self, event: &StepEvent) -> Result<()>;
    fn after_run(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A progress bar on a terminal; otherwise a heartbeat line every 5 % of the run or 30 s.
pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    last_line: Instant,
    every: usize,
}

impl Progress {
    pub fn new(mode: ProgressMode, total: usize, first: usize) -> Self {
        let tty = std::io::stderr().is_terminal();
        let (bar, lines) = match mode {
            ProgressMode::Off => (false, false),
            ProgressMode::Bar => (true, false),
            ProgressMode::Lines => (false, true),
            ProgressMode::Auto => (tty, !tty),
        };
        let bar = bar.then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} ({eta}) {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b.set_position(first as u64);
            b
        });
        Progress {
            bar,
            lines,
            last_line: Instant::now(),
            every: (total / 20).max(1),
        }
    }
}

fn describe(stats: &StepStats) -> String {
    let mut text = if stats.misfit.is_nan() {
        String::new()
    } else {
        format!("misfit {:.4}", stats.misfit)
    };
    if let Some(e) = stats.trace(Trace::Elbo) {
        text.push_str(&format!(" elbo {e:.4}"));
    }
    if let Some(a) = stats.trace(Trace::Acceptance) {
        text.push_str(&format!(" acc {a:.2}"));
    }
    if let Some(s) = stats.trace(Trace::StepSize) {
        text.push_str(&format!(" step {s:.3e}"));
    }
    if stats.n_failed > 0 {
        text.push_str(&format!(" failed {}", stats.n_failed));
    }
    text.trim_start().to_string()
}

impl Observer for Progress {
    fn after_step(&mut self, e: &StepEvent) -> Result<()> {
        let done = e.iteration + 1;
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            bar.set_message(describe(e.stats));
        } else if self.lines
            && (done.is_multiple_of(self.every)
                || done == e.total
                || self.last_line.elapsed().as_secs() >= 30)
        {
            let eta = e.elapsed / done as f64 * (e.total - done) as f64;
            eprintln!(
                "iteration {done}/{} ({:.0}%) {} elapsed {:.1}s eta {:.0}s",
                e.total,
                100.0 * done as f64 / e.total as f64,
                describe(e.stats),
                e.elapsed,
                eta
            );
            self.last_line = Instant::now();
        }
        Ok(())
    }

    fn after_run(&mut self) -> Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        Ok(())
    }
}

/// Writes the result file with `status = checkpoint` and the method state every k iterations
/// (not after the last one: the final result follows).
pub struct CheckpointWriter<'a> {
    spec: &'a RunSpec,
    posterior: &'a Posterior,
    n_ranks: usize,
    every: usize,
    path: PathBuf,
}

impl<'a> CheckpointWriter<'a> {
    pub fn new(
        spec: &'a RunSpec,
        posterior: &'a Posterior,
        n_ranks: usize,
        every: usize,
        path: &Path,
    ) -> Self {
        CheckpointWriter {
            spec,
            posterior,
            n_ranks,
            every,
            path: path.to_path_buf(),
        }
    }
}

impl Observer for CheckpointWriter<'_> {
    fn after_step(&mut self, e: &StepEvent) -> Result<()> {
        let done = e.iteration + 1;
        if !done.is_multiple_of(self.every) || done >= e.total {
            return Ok(());
        }
        let mut state = e.method.checkpoint();
        e.totals.save(&mut state);
        let record = build_record(&RecordInputs {
            spec: self.spec,
            posterior: self.posterior,
            output: e.method.output(),
            history: e.history,
            status: Status::Checkpoint,
            iterations_done: done,
            termination: "",
            solves: e.totals.solves(),
            n_ranks: self.n_ranks,
            wall_seconds: e.elapsed,
            checkpoint: Some((done, state)),
        });
        record.write(&self.path)?;
        testing_hooks::after_checkpoint();
        Ok(())
    }
}
