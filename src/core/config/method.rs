//! Validation of the `prior`, `method` (with initial members) and `output` blocks.

use std::path::Path;

use ndarray::{Array1, Array2};

use super::check::{Issues, read_values, resolve};
use super::raw::*;
use super::spec::*;
use crate::core::io::arrays::read_array;

pub(super) fn check_prior(
    raw: &RawPrior,
    n: usize,
    axes_shape: Vec<usize>,
    smoothing_blocks: Vec<Vec<usize>>,
    dir: &Path,
    problem: &Option<ProblemSpec>,
    issues: &mut Issues,
) -> Option<PriorSpec> {
    let read = |v: &Option<RawValues>, name: &str, issues: &mut Issues| -> Option<Array1<f64>> {
        match v {
            Some(v) => read_values(v, n, &axes_shape, &format!("prior.{name}"), dir, issues),
            None => {
                issues.add(
                    &format!("prior.{name}"),
                    format!("required for a {:?} prior", raw.kind).to_lowercase(),
                );
                None
            }
        }
    };
    let marginals = match raw.kind {
        PriorKind::Uniform => {
            for (v, name) in [(&raw.mean, "mean"), (&raw.std, "std")] {
                issues.check(v.is_none(), &format!("prior.{name}"), || {
                    "belongs to a gaussian prior; a uniform prior takes lower and upper".into()
                });
            }
            let lower = read(&raw.lower, "lower", issues);
            let upper = read(&raw.upper, "upper", issues);
            let (lower, upper) = (lower?, upper?);
            if let Some(i) = (0..n).find(|&i| lower[i] >= upper[i]) {
                issues.add(
                    "prior.lower",
                    format!(
                        "must be < prior.upper (parameter {i}: lower {} ≥ upper {})",
                        lower[i], upper[i]
                    ),
                );
                return None;
            }
            if matches!(problem, Some(ProblemSpec::TravelTime(_)))
                && let Some(i) = (0..n).find(|&i| lower[i] <= 0.0)
            {
                issues.add(
                    "prior.lower",
                    format!("velocities must be > 0 km/s (parameter {i}: {})", lower[i]),
                );
                return None;
            }
            Marginals::Uniform { lower, upper }
        }
        PriorKind::Gaussian => {
            for (v, name) in [(&raw.lower, "lower"), (&raw.upper, "upper")] {
                issues.check(v.is_none(), &format!("prior.{name}"), || {
                    "belongs to a uniform prior; a gaussian prior takes mean and std".into()
                });
            }
            let mean = read(&raw.mean, "mean", issues);
            let std = read(&raw.std, "std", issues);
            let (mean, std) = (mean?, std?);
            if let Some(i) = (0..n).find(|&i| std[i] <= 0.0) {
                issues.add(
                    "prior.std",
                    format!("must be > 0 (parameter {i}: {})", std[i]),
                );
                return None;
            }
            Marginals::Gaussian { mean, std }
        }
    };
    let smoothing = match &raw.smoothing {
        Some(s) => {
            let ok_order = issues.check(
                s.order == 1 || s.order == 2,
                "prior.smoothing.order",
                || format!("must be 1 or 2 (got {})", s.order),
            );
            let ok_sigma = issues.positive(s.sigma, "prior.smoothing.sigma");
            if !(ok_order && ok_sigma) {
                return None;
            }
            Some(SmoothingSpec {
                order: s.order,
                sigma: s.sigma,
            })
        }
        None => None,
    };
    Some(PriorSpec {
        marginals,
        smoothing,
        smoothing_blocks,
    })
}

/// What `core` knows of a checked method (the rest is the method's own, in `inference`):
/// its kind, its members and iterations, and what the problem checks need to know of it.
pub trait CheckedMethod: std::fmt::Debug + Send + Sync + 'static {
    /// The method's `kind`, stored in the result file.
    fn kind(&self) -> &'static str;
    /// The ensemble: members (particles, chains, Monte-Carlo samples), initial members and
    /// the failure threshold.
    fn members(&self) -> &MembersSpec;
    /// Iterations of the run loop.
    fn iterations(&self) -> usize;
    /// Whether the method takes stochastic gradients (and so may use mini-batches of shots).
    fn takes_stochastic_gradients(&self) -> bool {
        false
    }
    /// How failed members count against the threshold.
    fn failure_count(&self) -> FailureCount {
        FailureCount::PerStep
    }
    /// One line for `geobayes validate` (`20 particles × 4000 iterations`).
    fn describe(&self) -> String;
    /// What the method's result offers the evidence estimators.
    fn evidence_inputs(&self) -> EvidenceInputs {
        EvidenceInputs::default()
    }
    /// For the registry's `build`, which knows the concrete type.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// What a method's result holds for the evidence estimators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvidenceInputs {
    /// The per-β log-likelihood series of a temperature ladder from β = 0 (the prior) to 1
    /// (`tempering/`): stepping-stone and thermodynamic integration.
    pub ladder: bool,
    /// A fitted variational density (`variational/`): importance sampling and the ELBO.
    pub density: bool,
}

impl EvidenceInputs {
    pub fn allows(&self, estimator: Estimator) -> bool {
        if estimator.needs_ladder() {
            self.ladder
        } else {
            self.density
        }
    }
}

/// The list of methods, given to `validate_with` by `inference` (which owns the methods'
/// configs, so that `core` imports nothing above it).
pub trait MethodCatalog {
    /// Every method kind, in registry order.
    fn kinds(&self) -> &'static [&'static str];
    /// Checks the `method` block (reporting into `cx.issues`, whose keys are relative to
    /// `method`); returns the checked method and the block with its defaults filled in.
    fn check(
        &self,
        block: serde_yaml_ng::Value,
        cx: &mut MethodCheck,
    ) -> Option<(MethodSpec, serde_yaml_ng::Value)>;
}

/// What a method's validation may consult: the issues (keys relative to `method`), the
/// checked problem and prior, and the config's directory for the files it names.
pub struct MethodCheck<'a> {
    pub issues: &'a mut Issues,
    pub problem: Option<&'a ProblemSpec>,
    pub prior: Option<&'a PriorSpec>,
    pub dir: &'a Path,
}

impl MethodCheck<'_> {
    pub fn n_params(&self) -> Option<usize> {
        self.problem.map(ProblemSpec::n_params)
    }

    /// The keys every method shares: the member count (`key` names it: `n_particles`,
    /// `n_chains`, ...), the failure threshold and the initial members.
    pub fn members(
        &mut self,
        n_members: usize,
        key: &str,
        min: usize,
        init: &RawInit,
        max_failed_fraction: f64,
    ) -> Option<MembersSpec> {
        let mut ok = self.issues.at_least(n_members, min, key);
        ok &= self.issues.in_range(
            max_failed_fraction,
            0.0,
            1.0,
            "max_failed_fraction",
            "[0, 1]",
        );
        let init = check_init(
            init,
            n_members,
            self.n_params(),
            self.prior,
            self.dir,
            self.issues,
        )?;
        ok.then_some(MembersSpec {
            n: n_members,
            init,
            max_failed_fraction,
        })
    }
}

fn check_init(
    raw: &RawInit,
    n_members: usize,
    n_params: Option<usize>,
    prior: Option<&PriorSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<InitSpec> {
    match raw {
        RawInit::Kind(InitKind::Prior) => Some(InitSpec::Prior),
        RawInit::File(f) => {
            let key = "init.file";
            let path = resolve(dir, &f.file);
            let n_params = n_params?;
            let file = match read_array(&path) {
                Ok(a) => a,
                Err(e) => {
                    issues.file_error(key, e);
                    return None;
                }
            };
            let expected = n_members * n_params;
            if !issues.check(file.values.len() == expected, key, || {
                format!(
                    "{}: has {} values, expected {n_members} members × {n_params} parameters",
                    path.display(),
                    file.values.len()
                )
            }) {
                return None;
            }
            let members =
                Array2::from_shape_vec((n_members, n_params), file.values).expect("length checked");
            if let Some(PriorSpec {
                marginals: Marginals::Uniform { lower, upper },
                ..
            }) = prior
            {
                for ((i, j), &v) in members.indexed_iter() {
                    if !(v > lower[j] && v < upper[j]) {
                        issues.add(key, format!("{}: member {i}, parameter {j} = {v} lies outside the prior's open interval ({}, {})", path.display(), lower[j], upper[j]));
                        return None;
                    }
                }
            }
            if let Some((i, j)) = members
                .indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|(ij, _)| ij)
            {
                issues.add(
                    key,
                    format!(
                        "{}: member {i}, parameter {j} is not finite",
                        path.display()
                    ),
                );
                return None;
            }
            Some(InitSpec::Members(members))
        }
    }
}

pub(super) fn check_output(raw: &RawOutput, dir: &Path, issues: &mut Issues) -> OutputSpec {
    issues.check(!raw.path.as_os_str().is_empty(), "output.path", || {
        "must name the result file, e.g. results/run.h5".into()
    });
    issues.check(
        raw.path
            .extension()
            .is_some_and(|e| e == "h5" || e == "nc" || e == "hdf5"),
        "output.path",
        || {
            format!(
                "must end in .h5 (or .nc, .hdf5); got `{}`",
                raw.path.display()
            )
        },
    );
    OutputSpec {
        path: resolve(dir, &raw.path),
        checkpoint_every: raw.checkpoint_every.unwrap_or(0),
        progress: raw.progress.unwrap_or(ProgressMode::Auto),
    }
}

/// Checks the `evidence` block against the method: every estimator must find its input in the
/// method's result (a ladder for ss/ti, a fitted q for is/elbo), once each.
pub(super) fn check_evidence(
    raw: &RawEvidence,
    method: Option<&MethodSpec>,
    issues: &mut Issues,
) -> Option<EvidenceSpec> {
    let mut ok = issues.check(!raw.estimators.is_empty(), "evidence.estimators", || {
        "needs at least one estimator: ss or ti (with kind: pt, or rjmcmc with tempering), is or elbo (with kind: vi or boosting_vi)".into()
    });
    for (i, e) in raw.estimators.iter().enumerate() {
        let key = format!("evidence.estimators[{i}]");
        ok &= issues.check(!raw.estimators[..i].contains(e), &key, || {
            format!("`{}` is listed twice", e.name())
        });
        if let Some(m) = method {
            ok &= issues.check(m.evidence_inputs().allows(*e), &key, || {
                let needs = if e.needs_ladder() {
                    "a temperature ladder (kind: pt, or rjmcmc with tempering)"
                } else {
                    "a fitted variational density (kind: vi or boosting_vi)"
                };
                format!("`{}` needs {needs}; the {} method has none", e.name(), m.kind())
            });
        }
    }
    let samples = raw.samples.unwrap_or(DEFAULT_EVIDENCE_SAMPLES);
    ok &= issues.check(samples >= MIN_EVIDENCE_SAMPLES, "evidence.samples", || {
        format!("must be ≥ {MIN_EVIDENCE_SAMPLES} (the Pareto fit of PSIS needs a tail; got {samples})")
    });
    ok.then(|| EvidenceSpec {
        estimators: raw.estimators.clone(),
        samples,
    })
}
