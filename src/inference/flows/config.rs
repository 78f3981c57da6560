//! The `flow:` list of a variational method: each layer a tagged block (`{kind: linear, ...}`)
//! with its own keys, checked against the problem's grid into a [`LayerSpec`], and built into
//! a [`Flow`]. Shared by `vi` and `boosting_vi`.

use serde::{Deserialize, Serialize};

use super::Flow;
use super::coupling::AffineCoupling;
use super::elementwise::{ActNorm, Reverse};
use super::linear::{Linear, Structure};
use super::planar::{Planar, Radial};
use super::spline::{MAX_BINS, SplineCoupling};
use crate::core::config::Issues;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StructureKind {
    /// Mean-field ADVI.
    Diagonal,
    /// Full-rank ADVI.
    Full,
    /// PSVI: correlations between grid neighbours inside `template`.
    Banded,
}

/// `{kind: linear, structure: diagonal | full | banded, template: [w_x, w_y, ...]}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinearKeys {
    pub structure: StructureKind,
    /// Odd widths per grid axis (x first); banded only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Vec<usize>>,
}

/// `{kind: affine_coupling, hidden: [64, 64]}`: the conditioner's hidden layer sizes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CouplingKeys {
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
}

fn default_hidden() -> Vec<usize> {
    vec![64, 64]
}

/// `{kind: spline_coupling, bins: 8, bound: 5.0, hidden: [64, 64]}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplineKeys {
    #[serde(default = "default_bins")]
    pub bins: usize,
    #[serde(default = "default_bound")]
    pub bound: f64,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
}

fn default_bins() -> usize {
    8
}

fn default_bound() -> f64 {
    5.0
}

/// A layer without keys of its own (`{kind: permute}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoKeys {}

crate::tagged_registry! {
    /// A layer of `flow:` (`kind`).
    pub enum LayerKeys {
        /// y = μ + L z with diagonal, full or banded L.
        "linear" => Linear(LinearKeys),
        /// RealNVP's affine coupling; consecutive couplings alternate halves.
        "affine_coupling" => AffineCoupling(CouplingKeys),
        /// Rational-quadratic spline coupling (neural spline flows); identity outside ±bound.
        "spline_coupling" => SplineCoupling(SplineKeys),
        /// Reverses the parameter order.
        "permute" => Permute(NoKeys),
        /// A learned per-parameter scale and shift.
        "actnorm" => ActNorm(NoKeys),
        /// y = z + û tanh(wᵀz + b).
        "planar" => Planar(NoKeys),
        /// y = z + β (z − z₀)/(α + ‖z − z₀‖).
        "radial" => Radial(NoKeys),
    }
}

/// A checked layer.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    Linear(Structure),
    /// Hidden sizes and which index parity conditions.
    AffineCoupling {
        hidden: Vec<usize>,
        parity: usize,
    },
    /// As the affine coupling, with K bins on [−bound, bound].
    SplineCoupling {
        hidden: Vec<usize>,
        parity: usize,
        bins: usize,
        bound: f64,
    },
    Permute,
    ActNorm,
    Planar,
    Radial,
}

/// Checks `flow:` (keys relative to the method block) for a problem of `dim` parameters on
/// the grid `shape` (x first).
pub fn check_flow(
    blocks: &[serde_yaml_ng::Value],
    dim: usize,
    shape: &[usize],
    issues: &mut Issues,
) -> Option<Vec<LayerSpec>> {
    if !issues.check(!blocks.is_empty(), "flow", || {
        format!(
            "needs at least one layer (kinds: {})",
            LayerKeys::KINDS.join(", ")
        )
    }) {
        return None;
    }
    let mut layers = Vec::with_capacity(blocks.len());
    let mut ok = true;
    let mut couplings = 0;
    for (k, block) in blocks.iter().enumerate() {
        let key = format!("flow[{k}]");
        let parsed = match LayerKeys::from_block(block.clone(), &issues.path(&key)) {
            Ok(p) => p,
            Err(issue) => {
                issues.push(issue);
                ok = false;
                continue;
            }
        };
        match issues.within(&key, |issues| {
            check_layer(&parsed, dim, shape, couplings, issues)
        }) {
            Some(layer) => {
                couplings += usize::from(matches!(
                    layer,
                    LayerSpec::AffineCoupling { .. } | LayerSpec::SplineCoupling { .. }
                ));
                layers.push(layer);
            }
            None => ok = false,
        }
    }
    ok.then_some(layers)
}

fn check_layer(
    keys: &LayerKeys,
    dim: usize,
    shape: &[usize],
    couplings_before: usize,
    issues: &mut Issues,
) -> Option<LayerSpec> {
    match keys {
        LayerKeys::AffineCoupling(c) => {
            let ok = check_coupling(dim, &c.hidden, issues);
            ok.then(|| LayerSpec::AffineCoupling {
                hidden: c.hidden.clone(),
                parity: couplings_before % 2,
            })
        }
        LayerKeys::SplineCoupling(c) => {
            let mut ok = check_coupling(dim, &c.hidden, issues);
            ok &= issues.check((2..=MAX_BINS).contains(&c.bins), "bins", || {
                format!("must be in [2, {MAX_BINS}] (got {})", c.bins)
            });
            ok &= issues.positive(c.bound, "bound");
            ok.then(|| LayerSpec::SplineCoupling {
                hidden: c.hidden.clone(),
                parity: couplings_before % 2,
                bins: c.bins,
                bound: c.bound,
            })
        }
        LayerKeys::Permute(_) => Some(LayerSpec::Permute),
        LayerKeys::ActNorm(_) => Some(LayerSpec::ActNorm),
        LayerKeys::Planar(_) => Some(LayerSpec::Planar),
        LayerKeys::Radial(_) => Some(LayerSpec::Radial),
        LayerKeys::Linear(l) => {
            let structure = match (l.structure, &l.template) {
                (StructureKind::Banded, None) => {
                    issues.add(
                        "template",
                        "required for `structure: banded`: odd widths per grid axis, e.g. [5, 5]",
                    );
                    return None;
                }
                (StructureKind::Banded, Some(t)) => {
                    check_template(t, shape, issues)?;
                    Structure::Banded {
                        template: t.clone(),
                        shape: shape.to_vec(),
                    }
                }
                (kind, Some(_)) => {
                    issues.add(
                        "template",
                        format!("belongs to `structure: banded`, not {kind:?}").to_lowercase(),
                    );
                    return None;
                }
                (StructureKind::Diagonal, None) => Structure::Diagonal,
                (StructureKind::Full, None) => {
                    issues
                        .check(dim <= 20_000, "structure", || {
                            format!(
                                "full covariance of {dim} parameters needs {} entries; use banded",
                                dim * (dim - 1) / 2
                            )
                        })
                        .then_some(())?;
                    Structure::Full
                }
            };
            Some(LayerSpec::Linear(structure))
        }
    }
}

/// What every coupling needs: two parameters or more, and hidden layers with units.
fn check_coupling(dim: usize, hidden: &[usize], issues: &mut Issues) -> bool {
    let ok = issues.check(dim >= 2, "kind", || {
        format!("a coupling layer conditions half the parameters on the other half: it needs at least 2 (the problem has {dim})")
    });
    ok & issues.check(hidden.iter().all(|&h| h >= 1), "hidden", || {
        format!("every hidden layer needs at least one unit (got {hidden:?})")
    })
}

/// A template has one odd width per grid axis, each at most 2n − 1 (the whole axis).
fn check_template(template: &[usize], shape: &[usize], issues: &mut Issues) -> Option<()> {
    if !issues.check(template.len() == shape.len(), "template", || {
        format!(
            "has {} widths, the parameter grid has {} axes (shape {shape:?}, x first)",
            template.len(),
            shape.len()
        )
    }) {
        return None;
    }
    let mut ok = true;
    for (a, (&w, &n)) in template.iter().zip(shape).enumerate() {
        ok &= issues.check(w % 2 == 1, &format!("template[{a}]"), || {
            format!("must be odd (a node and the same number of neighbours either side; got {w})")
        });
        ok &= issues.check(w < 2 * n, &format!("template[{a}]"), || {
            format!(
                "must be at most 2n − 1 = {} for an axis of {n} points (got {w})",
                2 * n - 1
            )
        });
    }
    ok.then_some(())
}

/// The flow of checked layers over `dim` parameters.
pub fn build_flow(layers: &[LayerSpec], dim: usize) -> Flow {
    let built = layers
        .iter()
        .map(|l| -> Box<dyn super::Layer> {
            match l {
                LayerSpec::Linear(s) => Box::new(Linear::new(s, dim)),
                LayerSpec::AffineCoupling { hidden, parity } => {
                    Box::new(AffineCoupling::new(dim, hidden, *parity))
                }
                LayerSpec::SplineCoupling {
                    hidden,
                    parity,
                    bins,
                    bound,
                } => Box::new(SplineCoupling::new(dim, hidden, *parity, *bins, *bound)),
                LayerSpec::Permute => Box::new(Reverse { dim }),
                LayerSpec::ActNorm => Box::new(ActNorm { dim }),
                LayerSpec::Planar => Box::new(Planar { dim }),
                LayerSpec::Radial => Box::new(Radial { dim }),
            }
        })
        .collect();
    Flow::new(dim, built)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, shape: &[usize]) -> Result<Vec<LayerSpec>, String> {
        let blocks: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(text).unwrap();
        let mut issues = Issues::new();
        let dim = shape.iter().product();
        let out = issues.within("method", |i| check_flow(&blocks, dim, shape, i));
        match issues.into_error(std::path::Path::new("c.yaml"), &Default::default()) {
            Some(e) => Err(e.to_string()),
            None => Ok(out.unwrap()),
        }
    }

    #[test]
    fn layers_are_checked_with_their_key_paths() {
        assert!(check("[{kind: linear, structure: diagonal}]", &[4]).is_ok());
        let e = check("[{kind: linear, structure: diagonal}, {kind: magic}]", &[4]).unwrap_err();
        assert!(
            e.contains("method.flow[1].kind: unknown variant `magic`"),
            "{e}"
        );
        let e = check(
            "[{kind: linear, structure: banded, template: [4, 3]}]",
            &[5, 5],
        )
        .unwrap_err();
        assert!(e.contains("method.flow[0].template[0]: must be odd"), "{e}");
        let e = check(
            "[{kind: linear, structure: banded, template: [11, 3]}]",
            &[5, 5],
        )
        .unwrap_err();
        assert!(
            e.contains("method.flow[0].template[0]: must be at most 2n − 1 = 9"),
            "{e}"
        );
        let e = check(
            "[{kind: linear, structure: banded, template: [3]}]",
            &[5, 5],
        )
        .unwrap_err();
        assert!(
            e.contains("method.flow[0].template: has 1 widths, the parameter grid has 2 axes"),
            "{e}"
        );
        let e = check("[{kind: linear, structure: full, templat: [3]}]", &[5]).unwrap_err();
        assert!(e.contains("method.flow[0].templat: unknown field"), "{e}");
        assert!(
            check("[]", &[3])
                .unwrap_err()
                .contains("method.flow: needs at least one layer")
        );
    }
}
