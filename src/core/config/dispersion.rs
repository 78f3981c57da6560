//! Validation of `problem.kind: dispersion`: the layered model, the curves, the parameters and
//! their rules, and the observed values.

use std::path::Path;

use ndarray::Array1;

use super::check::Issues;
use super::problem::check_value_data;
use super::raw::*;
use super::spec::*;

fn check_layers(raw: &RawLayers, issues: &mut Issues) -> Option<LayersSpec> {
    let n = raw.vs.len();
    let mut ok = issues.check(n >= 2, "problem.model.vs", || {
        format!("needs at least one layer over the half-space (got {n} values)")
    });
    for (name, len) in [
        ("thickness", raw.thickness.len()),
        ("vp", raw.vp.len()),
        ("rho", raw.rho.len()),
    ] {
        ok &= issues.check(len == n, &format!("problem.model.{name}"), || {
            format!("has {len} values, problem.model.vs has {n}")
        });
    }
    if !ok {
        return None;
    }
    for i in 0..n {
        let key = |name: &str| format!("problem.model.{name}[{i}]");
        if raw.vs[i] == 0.0 {
            issues.add(
                &key("vs"),
                "is 0: fluid layers are not supported (give the layer a shear velocity > 0)",
            );
            ok = false;
            continue;
        }
        ok &= issues.positive(raw.vs[i], &key("vs"));
        ok &= issues.check(
            raw.vp[i] > raw.vs[i] && raw.vp[i].is_finite(),
            &key("vp"),
            || format!("must exceed vs ({} ≤ {})", raw.vp[i], raw.vs[i]),
        );
        ok &= issues.positive(raw.rho[i], &key("rho"));
        if i + 1 < n {
            ok &= issues.positive(raw.thickness[i], &key("thickness"));
        }
    }
    ok.then(|| LayersSpec {
        thickness: raw.thickness.clone(),
        vp: raw.vp.clone(),
        vs: raw.vs.clone(),
        rho: raw.rho.clone(),
    })
}

pub(super) fn check_dispersion(
    raw: &RawDispersion,
    dir: &Path,
    issues: &mut Issues,
) -> Option<DispersionSpec> {
    let model = check_layers(&raw.model, issues);
    let mut ok = issues.check(!raw.curves.is_empty(), "problem.curves", || {
        "needs at least one curve {wave, velocity, mode, periods}".into()
    });
    for (c, curve) in raw.curves.iter().enumerate() {
        let key = format!("problem.curves[{c}].periods");
        ok &= issues.check(!curve.periods.is_empty(), &key, || {
            "needs at least one period".into()
        });
        if let Some(p) = curve.periods.iter().find(|p| !(**p > 0.0 && p.is_finite())) {
            issues.add(&key, format!("periods must be finite and > 0 s (got {p})"));
            ok = false;
        }
    }
    let parameters = raw.parameters.unwrap_or(DispersionParameters::Vs);
    let vp = raw.vp.unwrap_or(VpRuleSpec::Fixed);
    let rho = raw.rho.unwrap_or(RhoRuleSpec::Fixed);
    if parameters == DispersionParameters::All {
        for (name, given) in [("vp", raw.vp.is_some()), ("rho", raw.rho.is_some())] {
            ok &= issues.check(!given, &format!("problem.{name}"), || {
                "applies to `parameters: vs` only (with `all` every property is free)".into()
            });
        }
    }
    let rule_numbers: Vec<(String, f64)> = match vp {
        VpRuleSpec::Linear([a, b]) => vec![
            ("problem.vp.linear[0]".into(), a),
            ("problem.vp.linear[1]".into(), b.abs() + f64::MIN_POSITIVE),
        ],
        VpRuleSpec::Ratio(r) => vec![("problem.vp.ratio".into(), r)],
        VpRuleSpec::Fixed => vec![],
    }
    .into_iter()
    .chain(match rho {
        RhoRuleSpec::PowerOfVp([a, b]) => vec![
            ("problem.rho.power_of_vp[0]".into(), a),
            (
                "problem.rho.power_of_vp[1]".into(),
                b.abs() + f64::MIN_POSITIVE,
            ),
        ],
        RhoRuleSpec::RatioToVp(r) => vec![("problem.rho.ratio_to_vp".into(), r)],
        RhoRuleSpec::Fixed => vec![],
    })
    .collect();
    for (key, value) in rule_numbers {
        ok &= issues.positive(value, &key);
    }
    let n_data: usize = raw.curves.iter().map(|c| c.periods.len()).sum();
    let data = check_value_data(raw.data.as_ref(), n_data, dir, issues, "the curves have");
    let model = model?;
    if !ok {
        return None;
    }
    let reference_model = match parameters {
        DispersionParameters::Vs => Array1::from(model.vs.clone()),
        DispersionParameters::All => {
            let n = model.vs.len();
            Array1::from_iter(
                model.thickness[..n - 1]
                    .iter()
                    .chain(&model.vp)
                    .chain(&model.vs)
                    .chain(&model.rho)
                    .copied(),
            )
        }
    };
    let curves = raw
        .curves
        .iter()
        .map(|c| CurveSpec {
            wave: c.wave,
            velocity: c.velocity,
            mode: c.mode,
            periods: c.periods.clone(),
        })
        .collect();
    Some(DispersionSpec {
        model,
        curves,
        parameters,
        vp,
        rho,
        data: data?,
        reference_model,
    })
}
