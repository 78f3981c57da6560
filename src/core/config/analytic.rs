//! Validation of the `analytic` problem kind (a target likelihood instead of data) and of the
//! `grid: {shape}` that problems without a physical grid may give their parameters.

use std::path::Path;

use ndarray::{Array1, Array2};

use super::check::{Issues, read_values};
use super::raw::*;
use super::spec::*;

/// A parameter grid given by `grid: {shape}` (keys relative to the problem block), which must
/// hold `n` parameters; one axis of `n` without it.
pub(super) fn check_shape(
    raw: Option<&RawShape>,
    n: usize,
    what: &str,
    issues: &mut Issues,
) -> Option<Vec<usize>> {
    let Some(raw) = raw else {
        return Some(vec![n]);
    };
    let size: usize = raw.shape.iter().product();
    let ok = issues.check(
        !raw.shape.is_empty() && raw.shape.len() <= 3 && raw.shape.iter().all(|&k| k >= 1),
        "grid.shape",
        || {
            format!(
                "must have 1 to 3 axes of at least one point each (got {:?})",
                raw.shape
            )
        },
    ) && issues.check(size == n, "grid.shape", || {
        format!("has {size} points ({:?}), {what} {n}", raw.shape)
    });
    ok.then(|| raw.shape.clone())
}

pub(super) fn check_analytic(
    raw: &RawAnalytic,
    dir: &Path,
    issues: &mut Issues,
) -> Option<AnalyticSpec> {
    let dim = raw.dim;
    if !issues.at_least(dim, 1, "dim") {
        return None;
    }
    let shape = check_shape(raw.grid.as_ref(), dim, "problem.dim is", issues);
    let target = match RawTarget::from_block(raw.target.clone(), &issues.path("target")) {
        Ok(t) => issues.within("target", |issues| check_target(&t, dim, dir, issues)),
        Err(issue) => {
            issues.push(issue);
            None
        }
    };
    Some(AnalyticSpec {
        target: target?,
        shape: shape?,
        gridded: raw.grid.is_some(),
        data: DataSpec {
            sigma: Array1::zeros(0),
            observed: None,
        },
    })
}

/// Checks a target (keys relative to `problem.target`) of dimension `dim`.
fn check_target(
    raw: &RawTarget,
    dim: usize,
    dir: &Path,
    issues: &mut Issues,
) -> Option<TargetSpec> {
    let two_d = |issues: &mut Issues, kind: &str| {
        issues.check(dim == 2, "kind", || {
            format!("`{kind}` is a 2-D target (problem.dim is {dim})")
        })
    };
    let points = |list: &[Vec<f64>], key: &str, issues: &mut Issues| -> Option<Array2<f64>> {
        let mut rows = Array2::zeros((list.len(), dim));
        for (k, p) in list.iter().enumerate() {
            let ok = issues.check(
                p.len() == dim || p.len() == 1,
                &format!("{key}[{k}]"),
                || {
                    format!(
                        "has {} values, problem.dim is {dim} (or give one value)",
                        p.len()
                    )
                },
            ) && issues.check(
                p.iter().all(|v| v.is_finite()),
                &format!("{key}[{k}]"),
                || "values must be finite".into(),
            );
            if !ok {
                return None;
            }
            for j in 0..dim {
                rows[[k, j]] = if p.len() == 1 { p[0] } else { p[j] };
            }
        }
        Some(rows)
    };
    match raw {
        RawTarget::Gaussian(g) => {
            // Keys are relative to the target block.
            let mean = read_values(&g.mean, dim, &[dim], "mean", dir, issues);
            let std = read_values(&g.std, dim, &[dim], "std", dir, issues);
            let ok_rho = issues.check(g.rho.abs() < 1.0 && g.rho.is_finite(), "rho", || {
                format!("must be in (−1, 1) (got {})", g.rho)
            });
            let std = std.filter(|s| {
                issues.check(s.iter().all(|&v| v > 0.0), "std", || {
                    "must be > 0 for every parameter".into()
                })
            });
            (ok_rho && mean.is_some() && std.is_some()).then(|| TargetSpec::Gaussian {
                mean: mean.expect("checked"),
                std: std.expect("checked"),
                rho: g.rho,
                normalised: g.normalised,
            })
        }
        RawTarget::Mixture(m) => {
            let k = m.weights.len();
            let mut ok = issues.at_least(k, 1, "weights");
            ok &= issues.check(
                m.weights.iter().all(|&w| w > 0.0 && w.is_finite()),
                "weights",
                || "must be > 0".into(),
            );
            let total: f64 = m.weights.iter().sum();
            ok &= issues.check((total - 1.0).abs() < 1e-9, "weights", || {
                format!("must sum to 1 (a normalised mixture; they sum to {total})")
            });
            ok &= issues.check(m.means.len() == k && m.stds.len() == k, "means", || {
                format!(
                    "one mean and one std per weight ({k} weights, {} means, {} stds)",
                    m.means.len(),
                    m.stds.len()
                )
            });
            ok &= issues.check(
                m.stds.iter().all(|&s| s > 0.0 && s.is_finite()),
                "stds",
                || "must be > 0".into(),
            );
            let means = points(&m.means, "means", issues);
            (ok && means.is_some()).then(|| TargetSpec::Mixture {
                weights: m.weights.clone(),
                means: means.expect("checked"),
                stds: m.stds.clone(),
            })
        }
        RawTarget::Banana(b) => {
            let mut ok = two_d(issues, "banana");
            ok &= issues.positive(b.s1, "s1");
            ok &= issues.positive(b.s2, "s2");
            ok &= issues.check(b.a.is_finite() && b.b.is_finite(), "a", || {
                "a and b must be finite".into()
            });
            ok.then_some(TargetSpec::Banana {
                a: b.a,
                b: b.b,
                s1: b.s1,
                s2: b.s2,
            })
        }
        RawTarget::Shells(sh) => {
            let mut ok = issues.positive(sh.radius, "radius");
            ok &= issues.positive(sh.width, "width");
            let default = vec![
                std::iter::once(-3.5)
                    .chain(std::iter::repeat_n(0.0, dim - 1))
                    .collect(),
                std::iter::once(3.5)
                    .chain(std::iter::repeat_n(0.0, dim - 1))
                    .collect(),
            ];
            let centres = points(sh.centres.as_ref().unwrap_or(&default), "centres", issues);
            (ok && centres.is_some()).then(|| TargetSpec::Shells {
                centres: centres.expect("checked"),
                radius: sh.radius,
                width: sh.width,
            })
        }
        RawTarget::Eggbox(_) => two_d(issues, "eggbox").then_some(TargetSpec::Eggbox),
    }
}
