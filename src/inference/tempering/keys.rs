//! The tempering keys and their check into a [`TemperingSpec`]: the ladder (fixed `betas` or
//! `n_temperatures` adapted over `schedule.rounds`), the ladders per temperature and the swap
//! interval.

use serde::{Deserialize, Serialize};

use super::round_end;
use crate::core::config::Issues;

/// The tempering keys (at the top of `method:` for `pt`, under `tempering:` for RJ-McMC).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TemperingKeys {
    /// Temperatures per ladder, β = 0 and β = 1 included (or the length of `betas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_temperatures: Option<usize>,
    /// Independent ladders: chains at β = 1 (and at every other β).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chains_per_temperature: Option<usize>,
    /// Explorer iterations between swap rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_every: Option<usize>,
    /// `{adapt: true, rounds: R}`: re-place the ladder after each of R burn-in rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleKeys>,
    /// A fixed ladder 0 = β₀ < … < β_N = 1 instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub betas: Option<Vec<f64>>,
}

/// `schedule: {adapt, rounds}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleKeys {
    pub adapt: bool,
    pub rounds: usize,
}

impl Default for ScheduleKeys {
    fn default() -> Self {
        ScheduleKeys {
            adapt: true,
            rounds: DEFAULT_ROUNDS,
        }
    }
}

const DEFAULT_ROUNDS: usize = 6;

/// The checked tempering of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TemperingSpec {
    pub n_temperatures: usize,
    pub chains: usize,
    pub swap_every: usize,
    /// The first ladder: `betas`, or equally spaced for the adaptive schedule.
    pub initial_betas: Vec<f64>,
    /// Adaptation rounds within burn-in (0: a fixed ladder).
    pub rounds: usize,
    pub burn_in: usize,
    pub thin: usize,
}

impl TemperingKeys {
    /// Checks the keys (relative to the current block of `issues`) for a run whose chains have
    /// `burn_in` iterations of burn-in and keep every `thin`-th after it.
    pub fn check(&self, issues: &mut Issues, burn_in: usize, thin: usize) -> Option<TemperingSpec> {
        let mut ok = true;
        let chains = self.chains_per_temperature.unwrap_or(1);
        ok &= issues.at_least(chains, 1, "chains_per_temperature");
        let swap_every = self.swap_every.unwrap_or(1);
        ok &= issues.at_least(swap_every, 1, "swap_every");
        let adapt = self.schedule.is_none_or(|s| s.adapt);
        let n_temperatures = match (&self.betas, self.n_temperatures) {
            (Some(betas), n) => {
                ok &= check_ladder(issues, betas);
                if let Some(n) = n {
                    ok &= issues.check(n == betas.len(), "n_temperatures", || {
                        format!(
                            "is {n} but betas has {} values: give one of them",
                            betas.len()
                        )
                    });
                }
                if self.schedule.is_some_and(|s| s.adapt) {
                    issues.add(
                        "schedule.adapt",
                        "a fixed ladder (betas) cannot adapt: drop betas or set schedule.adapt: false",
                    );
                    ok = false;
                }
                betas.len()
            }
            (None, Some(n)) => {
                ok &= issues.at_least(n, 2, "n_temperatures");
                n
            }
            (None, None) => {
                issues.add(
                    "n_temperatures",
                    "is missing: give n_temperatures (the ladder adapts) or betas: [0, …, 1]",
                );
                return None;
            }
        };
        if self.betas.is_none() && !adapt {
            issues.add(
                "schedule.adapt",
                "is false without betas: give the fixed ladder as betas: [0, …, 1]",
            );
            ok = false;
        }
        let rounds = if self.betas.is_some() {
            0
        } else {
            self.schedule.map_or(DEFAULT_ROUNDS, |s| s.rounds)
        };
        if self.betas.is_none() && ok {
            ok &= issues.at_least(rounds, 1, "schedule.rounds");
            if ok {
                let first = round_end(0, rounds, burn_in);
                ok &= issues.check(first >= swap_every, "schedule.rounds", || {
                    format!(
                        "{rounds} rounds of doubling length in burn_in = {burn_in} make the first {first} iterations long, fewer than swap_every = {swap_every}: lower the rounds or raise burn_in"
                    )
                });
            }
        }
        let initial_betas = match &self.betas {
            Some(b) => b.clone(),
            None => (0..n_temperatures.max(2))
                .map(|i| i as f64 / (n_temperatures.max(2) - 1) as f64)
                .collect(),
        };
        ok.then_some(TemperingSpec {
            n_temperatures,
            chains,
            swap_every,
            initial_betas,
            rounds,
            burn_in,
            thin,
        })
    }
}

/// A ladder must start at 0 (the prior), increase strictly and end at 1 (the posterior).
fn check_ladder(issues: &mut Issues, betas: &[f64]) -> bool {
    if betas.len() < 2 {
        issues.add(
            "betas",
            format!("needs at least 2 values, 0 and 1 (got {})", betas.len()),
        );
        return false;
    }
    let mut ok = issues.check(betas[0] == 0.0, "betas[0]", || {
        format!("must be 0, the prior (got {})", betas[0])
    });
    for i in 1..betas.len() {
        ok &= issues.check(betas[i] > betas[i - 1], &format!("betas[{i}]"), || {
            format!(
                "must exceed betas[{}] = {} (the ladder increases strictly)",
                i - 1,
                betas[i - 1]
            )
        });
    }
    let last = betas[betas.len() - 1];
    ok &= issues.check(last == 1.0, &format!("betas[{}]", betas.len() - 1), || {
        format!("must be 1, the posterior (got {last})")
    });
    ok
}
