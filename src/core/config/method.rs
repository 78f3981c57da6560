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
        axes_shape,
    })
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
            let key = "method.init.file";
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

/// The keys every method shares: the failure threshold and the initial members.
fn check_members(
    max_failed_fraction: Option<f64>,
    init: Option<&RawInit>,
    n_members: usize,
    n_params: Option<usize>,
    prior: Option<&PriorSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<(f64, InitSpec)> {
    let fraction = max_failed_fraction.expect("defaults filled");
    let ok = issues.in_range(fraction, 0.0, 1.0, "method.max_failed_fraction", "[0, 1]");
    let init = check_init(
        init.expect("defaults filled"),
        n_members,
        n_params,
        prior,
        dir,
        issues,
    )?;
    ok.then_some((fraction, init))
}

pub(super) fn check_method(
    raw: &RawMethod,
    n_params: Option<usize>,
    prior: Option<&PriorSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<MethodSpec> {
    match raw {
        RawMethod::Svgd(s) => {
            let mut ok = issues.check(s.n_particles >= 2, "method.n_particles", || {
                format!("must be ≥ 2 (got {})", s.n_particles)
            });
            ok &= issues.check(s.iterations >= 1, "method.iterations", || {
                "must be ≥ 1".into()
            });
            ok &= issues.positive(s.step_size, "method.step_size");
            let adam = s.adam.as_ref().expect("defaults filled");
            let adam = AdamSpec {
                beta1: adam.beta1.unwrap(),
                beta2: adam.beta2.unwrap(),
                eps: adam.eps.unwrap(),
            };
            ok &= issues.in_range(
                adam.beta1,
                0.0,
                1.0 - f64::EPSILON,
                "method.adam.beta1",
                "[0, 1)",
            );
            ok &= issues.in_range(
                adam.beta2,
                0.0,
                1.0 - f64::EPSILON,
                "method.adam.beta2",
                "[0, 1)",
            );
            ok &= issues.positive(adam.eps, "method.adam.eps");
            let kernel = s.kernel.as_ref().expect("defaults filled");
            let multiplier = kernel.multiplier.unwrap();
            ok &= issues.positive(multiplier, "method.kernel.multiplier");
            let bandwidth = match kernel.bandwidth.unwrap() {
                RawBandwidth::Rule(BandwidthRule::Median) => BandwidthSpec::Median { multiplier },
                RawBandwidth::Fixed(h) => {
                    ok &= issues.positive(h, "method.kernel.bandwidth");
                    BandwidthSpec::Fixed(h * multiplier)
                }
            };
            let decay = s.decay.as_ref().map(|d| {
                issues.in_range(
                    d.factor,
                    f64::MIN_POSITIVE,
                    1.0,
                    "method.decay.factor",
                    "(0, 1]",
                );
                issues.check(d.every >= 1, "method.decay.every", || "must be ≥ 1".into());
                (d.factor, d.every)
            });
            let members = check_members(
                s.max_failed_fraction,
                s.init.as_ref(),
                s.n_particles,
                n_params,
                prior,
                dir,
                issues,
            );
            (ok && members.is_some()).then(|| {
                let (max_failed_fraction, init) = members.expect("checked");
                MethodSpec::Svgd(SvgdSpec {
                    n_particles: s.n_particles,
                    iterations: s.iterations,
                    step_size: s.step_size,
                    optimizer: s.optimizer.unwrap(),
                    adam,
                    bandwidth,
                    decay,
                    init,
                    max_failed_fraction,
                })
            })
        }
        RawMethod::Mh(m) => {
            let mut ok = issues.check(m.n_chains >= 1, "method.n_chains", || {
                "must be ≥ 1 (4 or more to assess convergence)".into()
            });
            ok &= issues.check(m.iterations > m.burn_in, "method.iterations", || {
                format!(
                    "must exceed method.burn_in ({} ≤ {})",
                    m.iterations, m.burn_in
                )
            });
            let thin = m.thin.unwrap();
            ok &= issues.check(thin >= 1, "method.thin", || "must be ≥ 1".into());
            if ok {
                ok &= issues.check(m.iterations - m.burn_in >= thin, "method.thin", || {
                    format!(
                        "keeps no draw: iterations − burn_in = {} < thin = {thin}",
                        m.iterations - m.burn_in
                    )
                });
            }
            let p = m.proposal.as_ref().expect("defaults filled");
            if let Some(s) = p.initial_scale {
                ok &= issues.positive(s, "method.proposal.initial_scale");
            }
            let adapt_every = p.adapt_every.unwrap();
            ok &= issues.check(adapt_every >= 1, "method.proposal.adapt_every", || {
                "must be ≥ 1".into()
            });
            let target = p.target_acceptance.unwrap();
            ok &= issues.in_range(
                target,
                0.01,
                0.99,
                "method.proposal.target_acceptance",
                "[0.01, 0.99]",
            );
            let members = check_members(
                m.max_failed_fraction,
                m.init.as_ref(),
                m.n_chains,
                n_params,
                prior,
                dir,
                issues,
            );
            (ok && members.is_some()).then(|| {
                let (max_failed_fraction, init) = members.expect("checked");
                MethodSpec::Mh(MhSpec {
                    n_chains: m.n_chains,
                    iterations: m.iterations,
                    burn_in: m.burn_in,
                    thin,
                    initial_scale: p.initial_scale,
                    adapt: p.adapt.unwrap(),
                    adapt_every,
                    target_acceptance: target,
                    init,
                    max_failed_fraction,
                })
            })
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
