//! Stochastic-gradient optimizers shared by the methods that ascend an objective (SVGD's
//! particles, a variational density's parameters): SGD with optional momentum and Adam
//! (Kingma & Ba 2015, bias-corrected), both with optional step decay
//! step(t) = step_size · factor^⌊t / every⌋. The config keys are every such method's own
//! (`step_size`, `optimizer`, `adam`, `sgd`, `decay`); [`check_optimizer`] validates them. The
//! state an optimizer carries (Adam's moments, SGD's velocity, nothing for plain SGD) is what
//! goes into a checkpoint.

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use crate::core::config::Issues;
use crate::core::error::Result;
use crate::core::state::MethodState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[default]
    Adam,
    Sgd,
}

/// `adam: {beta1, beta2, eps}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamKeys {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl Default for AdamKeys {
    fn default() -> Self {
        AdamKeys {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// `sgd: {momentum}`: v ← μ v + g, x ← x + step · v (μ = 0: plain SGD).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SgdKeys {
    pub momentum: f64,
}

/// `decay: {factor, every}`: step = step_size · factor^⌊t / every⌋.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DecayKeys {
    pub factor: f64,
    pub every: usize,
}

/// The update rule of a checked optimizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    Sgd { momentum: f64 },
    Adam { beta1: f64, beta2: f64, eps: f64 },
}

/// A checked optimizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerSpec {
    pub step_size: f64,
    pub rule: Rule,
    /// (factor, every).
    pub decay: Option<(f64, usize)>,
}

impl OptimizerSpec {
    /// The step size at iteration t (0-based) after decay.
    pub fn step_size(&self, t: usize) -> f64 {
        match self.decay {
            Some((factor, every)) => self.step_size * factor.powi((t / every) as i32),
            None => self.step_size,
        }
    }

    /// Plain SGD without momentum (for tests and fixed-step methods).
    pub fn sgd(step_size: f64) -> Self {
        OptimizerSpec {
            step_size,
            rule: Rule::Sgd { momentum: 0.0 },
            decay: None,
        }
    }
}

/// Checks a method's optimizer keys (keys relative to the method block).
pub fn check_optimizer(
    step_size: f64,
    kind: OptimizerKind,
    adam: &AdamKeys,
    sgd: &SgdKeys,
    decay: Option<&DecayKeys>,
    issues: &mut Issues,
) -> Option<OptimizerSpec> {
    let mut ok = issues.positive(step_size, "step_size");
    let rule = match kind {
        OptimizerKind::Adam => {
            let below_one = 1.0 - f64::EPSILON;
            ok &= issues.in_range(adam.beta1, 0.0, below_one, "adam.beta1", "[0, 1)");
            ok &= issues.in_range(adam.beta2, 0.0, below_one, "adam.beta2", "[0, 1)");
            ok &= issues.positive(adam.eps, "adam.eps");
            Rule::Adam {
                beta1: adam.beta1,
                beta2: adam.beta2,
                eps: adam.eps,
            }
        }
        OptimizerKind::Sgd => {
            ok &= issues.in_range(
                sgd.momentum,
                0.0,
                1.0 - f64::EPSILON,
                "sgd.momentum",
                "[0, 1)",
            );
            Rule::Sgd {
                momentum: sgd.momentum,
            }
        }
    };
    let decay = decay.map(|d| {
        ok &= issues.in_range(d.factor, f64::MIN_POSITIVE, 1.0, "decay.factor", "(0, 1]");
        ok &= issues.at_least(d.every, 1, "decay.every");
        (d.factor, d.every)
    });
    ok.then_some(OptimizerSpec {
        step_size,
        rule,
        decay,
    })
}

/// An optimizer over a fixed number of parameters with its state (`shape` only names how the
/// state is stored in checkpoints, e.g. particles × dimension).
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    spec: OptimizerSpec,
    shape: Vec<usize>,
    /// Adam's first moment, or SGD's velocity (with momentum).
    first: Vec<f64>,
    /// Adam's second moment.
    second: Vec<f64>,
}

impl Optimizer {
    pub fn new(spec: OptimizerSpec, shape: &[usize]) -> Self {
        let n: usize = shape.iter().product();
        let (first, second) = match spec.rule {
            Rule::Adam { .. } => (vec![0.0; n], vec![0.0; n]),
            Rule::Sgd { momentum } if momentum > 0.0 => (vec![0.0; n], Vec::new()),
            Rule::Sgd { .. } => (Vec::new(), Vec::new()),
        };
        Optimizer {
            spec,
            shape: shape.to_vec(),
            first,
            second,
        }
    }

    pub fn spec(&self) -> &OptimizerSpec {
        &self.spec
    }

    /// One ascent step at iteration t on the parameters `x` = all[offset..offset + x.len()]
    /// (a contiguous run, such as one particle's row) along `g`; returns the step size.
    pub fn ascend_at(&mut self, t: usize, offset: usize, x: &mut [f64], g: &[f64]) -> f64 {
        assert_eq!(x.len(), g.len(), "one gradient entry per parameter");
        let lr = self.spec.step_size(t);
        match self.spec.rule {
            Rule::Sgd { momentum } if momentum > 0.0 => {
                let v = &mut self.first[offset..offset + x.len()];
                for k in 0..x.len() {
                    v[k] = momentum * v[k] + g[k];
                    x[k] += lr * v[k];
                }
            }
            Rule::Sgd { .. } => {
                for k in 0..x.len() {
                    x[k] += lr * g[k];
                }
            }
            Rule::Adam { beta1, beta2, eps } => {
                let bias1 = 1.0 - beta1.powi(t as i32 + 1);
                let bias2 = 1.0 - beta2.powi(t as i32 + 1);
                let m = &mut self.first[offset..offset + x.len()];
                let v = &mut self.second[offset..offset + x.len()];
                for k in 0..x.len() {
                    let mk = beta1 * m[k] + (1.0 - beta1) * g[k];
                    let vk = beta2 * v[k] + (1.0 - beta2) * g[k] * g[k];
                    m[k] = mk;
                    v[k] = vk;
                    x[k] += lr * (mk / bias1) / ((vk / bias2).sqrt() + eps);
                }
            }
        }
        lr
    }

    /// One ascent step on every parameter.
    pub fn ascend(&mut self, t: usize, x: &mut [f64], g: &[f64]) -> f64 {
        self.ascend_at(t, 0, x, g)
    }

    /// Stores the state under `prefix` (`adam_m`, `adam_v` for Adam, `velocity` for SGD with
    /// momentum, nothing for plain SGD).
    pub fn save(&self, prefix: &str, state: &mut MethodState) {
        let array = |v: &[f64]| {
            ArrayD::from_shape_vec(IxDyn(&self.shape), v.to_vec()).expect("state of its shape")
        };
        match self.spec.rule {
            Rule::Adam { .. } => {
                state.put(&format!("{prefix}adam_m"), array(&self.first));
                state.put(&format!("{prefix}adam_v"), array(&self.second));
            }
            Rule::Sgd { .. } if !self.first.is_empty() => {
                state.put(&format!("{prefix}velocity"), array(&self.first));
            }
            Rule::Sgd { .. } => {}
        }
    }

    /// Restores what [`save`](Self::save) stored.
    pub fn restore(&mut self, prefix: &str, state: &MethodState) -> Result<()> {
        let read = |name: &str| -> Result<Vec<f64>> {
            Ok(state
                .array(&format!("{prefix}{name}"), &self.shape)?
                .iter()
                .copied()
                .collect())
        };
        match self.spec.rule {
            Rule::Adam { .. } => {
                self.first = read("adam_m")?;
                self.second = read("adam_v")?;
            }
            Rule::Sgd { .. } if !self.first.is_empty() => self.first = read("velocity")?,
            Rule::Sgd { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adam(step: f64) -> OptimizerSpec {
        OptimizerSpec {
            step_size: step,
            rule: Rule::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            decay: None,
        }
    }

    #[test]
    fn adam_first_step_moves_each_parameter_by_the_step_size() {
        // m̂ = g, v̂ = g² after one step, so the update is step · g / (|g| + eps) ≈ ±step.
        let mut opt = Optimizer::new(adam(0.1), &[3]);
        let mut x = [0.0, 1.0, -2.0];
        opt.ascend(0, &mut x, &[2.0, -0.5, 1e-3]);
        let expect = [
            0.1 * 2.0 / (2.0 + 1e-8),
            1.0 - 0.1 * 0.5 / (0.5 + 1e-8),
            -2.0 + 0.1 * 1e-3 / (1e-3 + 1e-8),
        ];
        for k in 0..3 {
            assert!(
                (x[k] - expect[k]).abs() < 1e-15,
                "{k}: {} vs {}",
                x[k],
                expect[k]
            );
        }
    }

    #[test]
    fn adam_second_step_matches_the_recursion() {
        let mut opt = Optimizer::new(adam(0.01), &[1]);
        let mut x = [0.0];
        opt.ascend(0, &mut x, &[1.0]);
        opt.ascend(1, &mut x, &[3.0]);
        let m: f64 = 0.9 * 0.1 + 0.1 * 3.0;
        let v: f64 = 0.999 * 0.001 + 0.001 * 9.0;
        let m_hat = m / (1.0 - 0.9f64.powi(2));
        let v_hat = v / (1.0 - 0.999f64.powi(2));
        let first = 0.01 * 1.0 / (1.0 + 1e-8);
        assert!((x[0] - (first + 0.01 * m_hat / (v_hat.sqrt() + 1e-8))).abs() < 1e-15);
    }

    #[test]
    fn adam_climbs_a_concave_quadratic_to_its_maximum() {
        // f(x) = -½ Σ a_k (x_k - c_k)²: gradient a (c - x); with decay the jitter dies out.
        let a = [1.0, 10.0, 0.1];
        let c = [1.0, -2.0, 3.0];
        let spec = OptimizerSpec {
            decay: Some((0.5, 500)),
            ..adam(0.05)
        };
        let mut opt = Optimizer::new(spec, &[3]);
        let mut x = [0.0; 3];
        for t in 0..5000 {
            let g: Vec<f64> = (0..3).map(|k| a[k] * (c[k] - x[k])).collect();
            opt.ascend(t, &mut x, &g);
        }
        for k in 0..3 {
            assert!((x[k] - c[k]).abs() < 1e-4, "{k}: {}", x[k]);
        }
    }

    #[test]
    fn sgd_with_momentum_is_the_heavy_ball_recursion() {
        let spec = OptimizerSpec {
            step_size: 0.1,
            rule: Rule::Sgd { momentum: 0.5 },
            decay: None,
        };
        let mut opt = Optimizer::new(spec, &[1]);
        let mut x = [0.0];
        opt.ascend(0, &mut x, &[1.0]); // v = 1, x = 0.1
        opt.ascend(1, &mut x, &[2.0]); // v = 2.5, x = 0.35
        assert!((x[0] - 0.35).abs() < 1e-15);
        let mut plain = Optimizer::new(OptimizerSpec::sgd(0.1), &[1]);
        let mut y = [0.0];
        plain.ascend(0, &mut y, &[1.0]);
        plain.ascend(1, &mut y, &[2.0]);
        assert!((y[0] - 0.3).abs() < 1e-15);
    }

    #[test]
    fn step_decay_halves_every_k_iterations() {
        let spec = OptimizerSpec {
            decay: Some((0.5, 10)),
            ..OptimizerSpec::sgd(1.0)
        };
        assert_eq!(spec.step_size(9), 1.0);
        assert_eq!(spec.step_size(10), 0.5);
        assert_eq!(spec.step_size(35), 0.125);
    }

    #[test]
    fn state_round_trips_and_only_what_the_optimizer_has_is_stored() {
        let mut opt = Optimizer::new(adam(0.1), &[2, 2]);
        let mut x = [0.0; 4];
        opt.ascend(0, &mut x, &[1.0, 2.0, 3.0, 4.0]);
        let mut state = MethodState::new();
        opt.save("q_", &mut state);
        assert_eq!(state.entries().len(), 2);
        let mut fresh = Optimizer::new(adam(0.1), &[2, 2]);
        fresh.restore("q_", &state).unwrap();
        assert_eq!(fresh, opt);
        let mut state = MethodState::new();
        Optimizer::new(OptimizerSpec::sgd(0.1), &[4]).save("", &mut state);
        assert!(state.entries().is_empty());
    }

    #[test]
    fn bad_keys_are_reported_with_their_paths() {
        let mut issues = Issues::new();
        let out = issues.within("method", |issues| {
            check_optimizer(
                -1.0,
                OptimizerKind::Adam,
                &AdamKeys {
                    beta1: 1.0,
                    ..AdamKeys::default()
                },
                &SgdKeys::default(),
                Some(&DecayKeys {
                    factor: 2.0,
                    every: 0,
                }),
                issues,
            )
        });
        assert!(out.is_none());
        let text = issues
            .into_error(std::path::Path::new("c.yaml"), &Default::default())
            .unwrap()
            .to_string();
        for key in [
            "method.step_size",
            "method.adam.beta1",
            "method.decay.factor",
            "method.decay.every",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
    }
}
