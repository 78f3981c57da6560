//! The run policy every method shares: failed members against `max_failed_fraction` (per step
//! for populations, over the run for chains), the solve counters, and why the loop stopped.
//! Its counters travel in checkpoints, so that a resumed run reports what an uninterrupted one
//! would.

use crate::core::config::spec::{CheckedMethod, FailureCount};
use crate::core::error::{Error, Result};
use crate::core::state::MethodState;
use crate::inference::StepStats;

/// Why the run loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// Every iteration ran.
    IterationsDone,
    /// The method reported convergence.
    Converged,
    /// More members failed than `max_failed_fraction` allows (the run stops with an error).
    TooManyFailures,
}

impl Termination {
    /// The value of the result file's `termination` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::IterationsDone => "iterations",
            Termination::Converged => "converged",
            Termination::TooManyFailures => "too_many_failures",
        }
    }
}

/// Counters of the whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTotals {
    counting: FailureCount,
    failed: u64,
    evaluated: u64,
    forward_calls: u64,
    adjoint_calls: u64,
    /// Solves before this process started (a resumed run's checkpoint).
    base_solves: (u64, u64),
}

impl RunTotals {
    pub fn new(method: &dyn CheckedMethod) -> Self {
        RunTotals {
            counting: method.failure_count(),
            failed: 0,
            evaluated: 0,
            forward_calls: 0,
            adjoint_calls: 0,
            base_solves: (0, 0),
        }
    }

    /// Counts the step's failures; an error ([`Termination::TooManyFailures`]) above the
    /// threshold.
    pub fn after_step(&mut self, t: usize, stats: &StepStats, max_fraction: f64) -> Result<()> {
        self.failed += stats.n_failed as u64;
        self.evaluated += stats.n_evaluated as u64;
        let (failed, of, counted) = match self.counting {
            FailureCount::PerStep => (stats.n_failed as u64, stats.n_evaluated as u64, true),
            FailureCount::Cumulative { after } => (self.failed, self.evaluated, t >= after),
        };
        if counted && failed as f64 > max_fraction * of as f64 {
            let scope = match self.counting {
                FailureCount::PerStep => "in this step",
                FailureCount::Cumulative { .. } => "so far",
            };
            return Err(Error::Run(format!(
                "iteration {t}: the forward model failed for {failed} of {of} members {scope} (more than method.max_failed_fraction = {max_fraction}; {}); check the prior bounds and the model",
                Termination::TooManyFailures.as_str()
            )));
        }
        Ok(())
    }

    /// Takes this process's solve counts (all ranks), added to the checkpoint's.
    pub fn set_solves(&mut self, (forward, adjoint): (u64, u64)) {
        self.forward_calls = self.base_solves.0 + forward;
        self.adjoint_calls = self.base_solves.1 + adjoint;
    }

    /// Forward and adjoint solves (all ranks), as last counted.
    pub fn solves(&self) -> (u64, u64) {
        (self.forward_calls, self.adjoint_calls)
    }

    /// Stores the counters beside the method's state.
    pub fn save(&self, state: &mut MethodState) {
        for (name, value) in self.entries() {
            state.put_scalar(name, value as f64);
        }
    }

    /// Restores what [`save`](Self::save) stored; the solve counts continue from the
    /// checkpoint's.
    pub fn restore(&mut self, state: &MethodState) -> Result<()> {
        self.failed = state.scalar("run_failed")? as u64;
        self.evaluated = state.scalar("run_evaluated")? as u64;
        self.forward_calls = state.scalar("run_forward_calls")? as u64;
        self.adjoint_calls = state.scalar("run_adjoint_calls")? as u64;
        self.base_solves = (self.forward_calls, self.adjoint_calls);
        Ok(())
    }

    fn entries(&self) -> [(&'static str, u64); 4] {
        [
            ("run_failed", self.failed),
            ("run_evaluated", self.evaluated),
            ("run_forward_calls", self.forward_calls),
            ("run_adjoint_calls", self.adjoint_calls),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(n_failed: usize, n_evaluated: usize) -> StepStats {
        StepStats {
            misfit: 0.0,
            lp_mean: 0.0,
            n_evaluated,
            n_failed,
            traces: Vec::new(),
            converged: false,
        }
    }

    fn totals(counting: FailureCount) -> RunTotals {
        RunTotals {
            counting,
            failed: 0,
            evaluated: 0,
            forward_calls: 0,
            adjoint_calls: 0,
            base_solves: (0, 0),
        }
    }

    #[test]
    fn a_population_stops_when_too_many_fail_in_one_step() {
        let mut t = totals(FailureCount::PerStep);
        assert!(t.after_step(0, &stats(5, 10), 0.5).is_ok());
        let e = t.after_step(1, &stats(6, 10), 0.5).unwrap_err().to_string();
        assert!(
            e.contains("6 of 10") && e.contains("max_failed_fraction"),
            "{e}"
        );
    }

    #[test]
    fn chains_count_failures_over_the_run_after_a_grace_period() {
        let mut t = totals(FailureCount::Cumulative { after: 3 });
        // Every proposal fails for three iterations: tolerated during the grace period.
        for i in 0..3 {
            assert!(t.after_step(i, &stats(4, 4), 0.5).is_ok());
        }
        // 12 of 16 failed so far at iteration 3.
        assert!(t.after_step(3, &stats(0, 4), 0.5).is_err());
        let mut t = totals(FailureCount::Cumulative { after: 0 });
        assert!(t.after_step(0, &stats(1, 4), 0.5).is_ok());
        assert!(t.after_step(1, &stats(1, 4), 0.5).is_ok());
    }

    #[test]
    fn counters_survive_a_checkpoint_and_solves_continue_from_it() {
        let mut t = totals(FailureCount::PerStep);
        t.after_step(0, &stats(1, 10), 0.5).unwrap();
        t.set_solves((40, 30));
        let mut state = MethodState::new();
        t.save(&mut state);
        let mut resumed = totals(FailureCount::PerStep);
        resumed.restore(&state).unwrap();
        assert_eq!(resumed.solves(), (40, 30));
        resumed.set_solves((5, 5));
        assert_eq!(resumed.solves(), (45, 35));
        assert_eq!((resumed.failed, resumed.evaluated), (1, 10));
    }
}
