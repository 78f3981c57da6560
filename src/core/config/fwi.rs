//! Validation of `problem.kind: fwi2d / fwi3d`: the grid, stencil order, CPML, time axis,
//! wavelet, sources and receivers, the fixed top rows, the waveform data and the checks that
//! refuse a set-up the solver cannot run accurately (stability of the time step against the
//! largest velocity members may take, points per shortest wavelength).

use std::path::Path;

use ndarray::Array1;

use super::check::{Issues, read_velocities, resolve};
use super::raw::*;
use super::spec::*;
use crate::core::io::arrays::{parse_number, read_array, read_table};
use crate::core::stencil::SpaceOrder;

/// Positions `[[x, z], ...]` inline or from a file (`[name] x z` per line), inside the grid.
fn read_positions(
    raw: &RawStations,
    dims: usize,
    key: &str,
    grid: Option<&GridSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Vec<Vec<f64>>> {
    let positions: Vec<Vec<f64>> = match raw {
        RawStations::Inline(list) => {
            for (i, p) in list.iter().enumerate() {
                if !issues.check(p.len() == dims, &format!("{key}[{i}]"), || {
                    format!("must have {dims} coordinates (got {})", p.len())
                }) {
                    return None;
                }
            }
            list.clone()
        }
        RawStations::File(f) => {
            let path = resolve(dir, &f.file);
            let table = match read_table(&path) {
                Ok(t) => t,
                Err(e) => {
                    issues.file_error(&format!("{key}.file"), e);
                    return None;
                }
            };
            let mut out = Vec::new();
            for row in &table.rows {
                let words = if row.words.len() == dims + 1 {
                    &row.words[1..]
                } else {
                    &row.words[..]
                };
                let values: Option<Vec<f64>> = words.iter().map(|w| parse_number(w)).collect();
                match values {
                    Some(v) if v.len() == dims => out.push(v),
                    _ => {
                        issues.add(
                            &format!("{key}.file"),
                            format!(
                                "{}: line {}: expected `[name] {}` numbers",
                                path.display(),
                                row.line,
                                if dims == 2 { "x z" } else { "x y z" }
                            ),
                        );
                        return None;
                    }
                }
            }
            out
        }
    };
    if !issues.check(!positions.is_empty(), key, || {
        "needs at least one position".into()
    }) {
        return None;
    }
    if let Some(g) = grid {
        for (i, p) in positions.iter().enumerate() {
            if !issues.check(
                p.iter().all(|v| v.is_finite()) && g.contains(p),
                key,
                || {
                    let extent: Vec<String> = (0..dims)
                        .map(|a| format!("[{}, {}]", g.origin[a], g.end(a)))
                        .collect();
                    format!(
                        "position {i} {p:?} lies outside the model grid {} km",
                        extent.join(" × ")
                    )
                },
            ) {
                return None;
            }
        }
    }
    Some(positions)
}

pub(super) fn check_fwi(
    raw: &RawFwi,
    dims: usize,
    dir: &Path,
    issues: &mut Issues,
) -> Option<FwiSpec> {
    let kind = if dims == 2 { "fwi2d" } else { "fwi3d" };
    let g = &raw.grid;
    let mut ok = true;
    for (name, len) in [
        ("origin", g.origin.len()),
        ("spacing", g.spacing.len()),
        ("shape", g.shape.len()),
    ] {
        ok &= issues.check(len == dims, &format!("problem.grid.{name}"), || {
            format!(
                "must have {dims} values ({}) for {kind}, got {len}",
                if dims == 2 { "x, z" } else { "x, y, z" }
            )
        });
    }
    if !ok {
        return None;
    }
    for a in 0..dims {
        ok &= issues.positive(g.spacing[a], &format!("problem.grid.spacing[{a}]"));
        ok &= issues.check(
            g.origin[a].is_finite(),
            &format!("problem.grid.origin[{a}]"),
            || "must be finite".into(),
        );
        ok &= issues.check(g.shape[a] >= 2, &format!("problem.grid.shape[{a}]"), || {
            format!("must be ≥ 2 points (got {})", g.shape[a])
        });
    }
    ok &= issues.check(
        g.spacing
            .iter()
            .all(|&h| (h - g.spacing[0]).abs() <= 1e-12 * g.spacing[0].abs()),
        "problem.grid.spacing",
        || {
            format!(
                "must be the same on every axis for the wave solver (got {:?})",
                g.spacing
            )
        },
    );
    let grid = ok.then(|| GridSpec {
        origin: g.origin.clone(),
        spacing: g.spacing.clone(),
        shape: g.shape.clone(),
    });
    let order = raw.order.unwrap_or(8);
    let order_ok = issues.check(matches!(order, 2 | 4 | 8), "problem.order", || {
        format!("must be 2, 4 or 8 (got {order})")
    });
    let cpml = raw.cpml.unwrap_or(20);
    issues.check(cpml >= order / 2 && cpml <= 200, "problem.cpml", || {
        format!(
            "must be between the stencil radius ({}) and 200 points (got {cpml})",
            order / 2
        )
    });
    issues.positive(raw.dt, "problem.dt");
    issues.check(raw.steps >= 1, "problem.steps", || "must be ≥ 1".into());
    let nt = raw.steps + 1;
    let w = &raw.wavelet;
    let wavelet = match (w.ricker, &w.file) {
        (Some(f0), None) => {
            issues.check(
                w.peak_frequency.is_none(),
                "problem.wavelet.peak_frequency",
                || "goes with `file`; a Ricker wavelet's peak is `ricker`".into(),
            );
            issues
                .positive(f0, "problem.wavelet.ricker")
                .then_some((WaveletSpec::Ricker(f0), f0))
        }
        (None, Some(file)) => {
            let path = resolve(dir, file);
            let f0 = match w.peak_frequency {
                Some(f) => issues
                    .positive(f, "problem.wavelet.peak_frequency")
                    .then_some(f),
                None => {
                    issues.add(
                        "problem.wavelet.peak_frequency",
                        "required with a wavelet file (Hz; sets the sampling check and the CPML)",
                    );
                    None
                }
            };
            match read_array(&path) {
                Ok(a) if a.values.len() == nt && a.values.iter().all(|v| v.is_finite()) => {
                    f0.map(|f| (WaveletSpec::Samples(a.values), f))
                }
                Ok(a) => {
                    issues.add(
                        "problem.wavelet.file",
                        format!(
                            "{}: needs {nt} finite samples (steps + 1), got {}",
                            path.display(),
                            a.values.len()
                        ),
                    );
                    None
                }
                Err(e) => {
                    issues.file_error("problem.wavelet.file", e);
                    None
                }
            }
        }
        _ => {
            issues.add(
                "problem.wavelet",
                "give either {ricker: PEAK_HZ} or {file: PATH, peak_frequency: HZ}",
            );
            None
        }
    };
    let sources = read_positions(
        &raw.sources,
        dims,
        "problem.sources",
        grid.as_ref(),
        dir,
        issues,
    );
    let receivers = read_positions(
        &raw.receivers,
        dims,
        "problem.receivers",
        grid.as_ref(),
        dir,
        issues,
    );
    let (fixed_rows, fixed_velocity) = match &raw.fixed {
        Some(f) => {
            let nz = g.shape[dims - 1];
            issues.check(f.top_rows < nz, "problem.fixed.top_rows", || {
                format!(
                    "must leave free rows (the grid has {nz} depth levels, got {})",
                    f.top_rows
                )
            });
            issues.positive(f.velocity, "problem.fixed.velocity");
            (f.top_rows, f.velocity)
        }
        None => (0, f64::NAN),
    };
    if let Some(v) = raw.v_max {
        issues.positive(v, "problem.v_max");
    }
    let grid = grid?;
    let mut free_shape = grid.shape.clone();
    free_shape[dims - 1] = free_shape[dims - 1].saturating_sub(fixed_rows);
    let n_params: usize = free_shape.iter().product();
    let reference_model = raw.reference_model.as_ref().and_then(|r| {
        read_velocities(
            r,
            n_params,
            &free_shape,
            "problem.reference_model",
            "cell",
            dir,
            issues,
        )
    });
    let n_data = sources.as_ref().map_or(0, Vec::len) * receivers.as_ref().map_or(0, Vec::len) * nt;
    let data = check_wave_data(raw.data.as_ref(), n_data, dir, issues);
    let n_shots = sources.as_ref().map_or(0, Vec::len);
    if let Some(k) = raw.shots_per_iteration {
        issues.check(
            k >= 1 && (n_shots == 0 || k <= n_shots),
            "problem.shots_per_iteration",
            || format!("must be between 1 and the number of shots ({n_shots}), got {k}"),
        );
    }
    if !order_ok {
        return None;
    }
    let (wavelet, peak_frequency) = wavelet?;
    Some(FwiSpec {
        grid,
        order,
        cpml,
        dt: raw.dt,
        steps: raw.steps,
        wavelet,
        peak_frequency,
        sources: sources?,
        receivers: receivers?,
        fixed_rows,
        fixed_velocity,
        v_max: raw.v_max.unwrap_or(f64::NAN),
        data: data?,
        reference_model,
        shots_per_iteration: raw.shots_per_iteration,
    })
}

fn check_wave_data(
    raw: Option<&RawWaveData>,
    n_data: usize,
    dir: &Path,
    issues: &mut Issues,
) -> Option<DataSpec> {
    let default = RawWaveData::default();
    let raw = raw.unwrap_or(&default);
    let sigma = match raw.sigma {
        Some(s) => issues.positive(s, "problem.data.sigma").then_some(s)?,
        None if raw.file.is_some() => {
            issues.add(
                "problem.data.sigma",
                "required with waveform data (one σ for every sample, in the data's units)",
            );
            return None;
        }
        None => f64::NAN,
    };
    let observed = match &raw.file {
        None => None,
        Some(file) => {
            let path = resolve(dir, file);
            match read_array(&path) {
                Ok(a) => {
                    if !issues.check(a.values.len() == n_data, "problem.data.file", || {
                        format!(
                            "{}: has {} values, the shots × receivers × samples are {n_data}",
                            path.display(),
                            a.values.len()
                        )
                    }) {
                        return None;
                    }
                    if let Some(i) = a.values.iter().position(|v| !v.is_finite()) {
                        issues.add(
                            "problem.data.file",
                            format!(
                                "{}: value {i} is not finite ({})",
                                path.display(),
                                a.values[i]
                            ),
                        );
                        return None;
                    }
                    Some(Array1::from(a.values))
                }
                Err(e) => {
                    issues.file_error("problem.data.file", e);
                    return None;
                }
            }
        }
    };
    Some(DataSpec {
        sigma: Array1::from_elem(n_data, sigma),
        observed,
    })
}

/// The checks that need the prior too: the largest velocity members may take (`v_max`, else
/// the prior's largest upper bound, else the reference model's largest value) against the
/// stability limit of `dt`, and the smallest (fixed cells included) against the sampling rule
/// f_max = 2.5 f0 with the order's minimum points per wavelength. Fills in `v_max`.
pub(super) fn check_fwi_velocities(
    spec: &mut FwiSpec,
    prior: Option<&PriorSpec>,
    issues: &mut Issues,
) {
    let bounds = |values: &Array1<f64>| {
        values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (mut v_min, mut v_max_prior) = match prior.map(|p| &p.marginals) {
        Some(Marginals::Uniform { lower, upper }) => (bounds(lower).0, bounds(upper).1),
        Some(Marginals::Gaussian { mean, std }) => {
            let (lo, hi) = mean
                .iter()
                .zip(std)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (m, s)| {
                    (lo.min(m - 3.0 * s), hi.max(m + 3.0 * s))
                });
            (lo, hi)
        }
        None => spec
            .reference_model
            .as_ref()
            .map(bounds)
            .unwrap_or((f64::NAN, f64::NAN)),
    };
    if spec.fixed_rows > 0 {
        v_min = v_min.min(spec.fixed_velocity);
        v_max_prior = v_max_prior.max(spec.fixed_velocity);
    }
    let v_max = if spec.v_max.is_finite() {
        spec.v_max
    } else {
        v_max_prior
    };
    if !v_max.is_finite() {
        issues.add("problem.v_max", "required without a prior or a reference model: the largest velocity members may take (km/s), for the stability check and the CPML");
        return;
    }
    spec.v_max = v_max;
    let dims = spec.grid.dims();
    let h = spec.grid.spacing[0];
    let order = SpaceOrder::from_order(spec.order).expect("validated order");
    let dt_max = order.max_time_step(h, v_max, dims);
    issues.check(spec.dt <= dt_max, "problem.dt", || {
        format!("{} s is above the stability limit {dt_max:.4e} s of order {} at h = {h} km for v_max = {v_max} km/s (the largest velocity members may take); use dt ≤ {dt_max:.4e} s", spec.dt, spec.order)
    });
    if v_min.is_finite() && v_min > 0.0 {
        let f_max = 2.5 * spec.peak_frequency;
        let points = v_min / (f_max * h);
        let needed = order.min_points_per_wavelength();
        issues.check(points >= needed * (1.0 - 1e-9), "problem.grid.spacing", || {
            format!("{h} km gives {points:.2} points per shortest wavelength (v_min {v_min} km/s at f_max = 2.5 × {} Hz); order {} needs ≥ {needed}: use h ≤ {:.4} km, a higher order or a lower frequency", spec.peak_frequency, spec.order, v_min / (f_max * needed))
        });
    }
}
