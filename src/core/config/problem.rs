//! Validation of the `problem` block: the linear problem and the travel-time problems
//! (Cartesian 2D/3D, spherical 2D), with their stations, picks and models.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{Array1, Array2};

use super::check::{Issues, check_data_values, read_values, read_velocities, resolve, table_lines};
use super::raw::*;
use super::spec::*;
use crate::core::io::arrays::{ArrayFile, parse_number, read_array, read_table};

/// Sphere radius when `problem.radius` is not given (km).
pub const EARTH_RADIUS_KM: f64 = 6371.0;

pub(super) fn check_problem(
    raw: &RawProblem,
    dir: &Path,
    issues: &mut Issues,
) -> Option<ProblemSpec> {
    match raw {
        RawProblem::Linear(l) => check_linear(l, dir, issues).map(ProblemSpec::Linear),
        RawProblem::Traveltime2d(t) => {
            check_traveltime(t, 2, dir, issues).map(ProblemSpec::TravelTime)
        }
        RawProblem::Dispersion(d) => {
            super::dispersion::check_dispersion(d, dir, issues).map(ProblemSpec::Dispersion)
        }
        RawProblem::Traveltime3d(t) => {
            check_traveltime(t, 3, dir, issues).map(ProblemSpec::TravelTime)
        }
        RawProblem::Fwi2d(f) => super::fwi::check_fwi(f, 2, dir, issues).map(ProblemSpec::Fwi),
        RawProblem::Fwi3d(f) => super::fwi::check_fwi(f, 3, dir, issues).map(ProblemSpec::Fwi),
        RawProblem::Analytic(a) => issues.within("problem", |issues| {
            super::analytic::check_analytic(a, dir, issues).map(ProblemSpec::Analytic)
        }),
    }
}

fn check_linear(raw: &RawLinear, dir: &Path, issues: &mut Issues) -> Option<LinearSpec> {
    let path = resolve(dir, &raw.matrix.file);
    let matrix = match read_array(&path) {
        Ok(ArrayFile {
            values,
            shape: Some(shape),
        }) if shape.len() == 2 => Array2::from_shape_vec((shape[0], shape[1]), values)
            .expect("npy shape matches its values"),
        Ok(_) => {
            issues.add(
                "problem.matrix.file",
                format!(
                    "{}: must be a 2-D .npy array (n_data, n_params)",
                    path.display()
                ),
            );
            return None;
        }
        Err(e) => {
            issues.file_error("problem.matrix.file", e);
            return None;
        }
    };
    if !issues.check(
        matrix.iter().all(|v| v.is_finite()),
        "problem.matrix.file",
        || format!("{}: holds non-finite values", path.display()),
    ) {
        return None;
    }
    let (n_data, n_params) = matrix.dim();
    let data = check_value_data(raw.data.as_ref(), n_data, dir, issues, "the matrix has");
    let reference_model = raw.reference_model.as_ref().and_then(|r| {
        read_values(
            r,
            n_params,
            &[n_params],
            "problem.reference_model",
            dir,
            issues,
        )
    });
    let shape = issues.within("problem", |issues| {
        super::analytic::check_shape(
            raw.grid.as_ref(),
            n_params,
            "the matrix has columns:",
            issues,
        )
    });
    Some(LinearSpec {
        matrix,
        shape: shape?,
        gridded: raw.grid.is_some(),
        data: data?,
        reference_model,
    })
}

/// Data of a linear problem: a file of `value [sigma]` lines, or σ only.
/// Observed values, `value [sigma]` per line; `expected` names what fixes their count (for the
/// message: "the matrix has", "the curves have").
pub(super) fn check_value_data(
    raw: Option<&RawData>,
    n_data: usize,
    dir: &Path,
    issues: &mut Issues,
    expected: &str,
) -> Option<DataSpec> {
    let default = RawData::default();
    let raw = raw.unwrap_or(&default);
    if let Some(s) = raw.sigma {
        issues.positive(s, "problem.data.sigma");
    }
    let Some(file) = &raw.file else {
        return Some(DataSpec {
            sigma: Array1::from_elem(n_data, raw.sigma.unwrap_or(f64::NAN)),
            observed: None,
        });
    };
    let path = resolve(dir, file);
    let table = match read_table(&path) {
        Ok(t) => t,
        Err(e) => {
            issues.file_error("problem.data.file", e);
            return None;
        }
    };
    let key = "problem.data.file";
    if !issues.check(table.rows.len() == n_data, key, || {
        format!(
            "{}: has {} data, {expected} {n_data}",
            path.display(),
            table.rows.len()
        )
    }) {
        return None;
    }
    let mut d = Vec::with_capacity(n_data);
    let mut sigma = Vec::with_capacity(n_data);
    for row in &table.rows {
        let numbers: Option<Vec<f64>> = row.words.iter().map(|w| parse_number(w)).collect();
        let Some(numbers) = numbers else {
            issues.add(
                key,
                format!(
                    "{}: line {}: expected `value [sigma]` numbers",
                    path.display(),
                    row.line
                ),
            );
            return None;
        };
        let ok = match (numbers.len(), raw.sigma) {
            (1, Some(s)) => {
                sigma.push(s);
                true
            }
            (2, None) => {
                sigma.push(numbers[1]);
                true
            }
            (2, Some(_)) => {
                issues.add(
                    "problem.data.sigma",
                    format!(
                        "{}: the file has a σ column; give σ in one place only",
                        path.display()
                    ),
                );
                return None;
            }
            _ => false,
        };
        if !issues.check(ok, key, || {
            format!(
                "{}: line {}: expected `value sigma` (or `value` with problem.data.sigma)",
                path.display(),
                row.line
            )
        }) {
            return None;
        }
        d.push(numbers[0]);
    }
    check_data_values(&d, &sigma, &path, &table_lines(&table), issues)?;
    Some(DataSpec {
        sigma: Array1::from(sigma),
        observed: Some(Array1::from(d)),
    })
}

const AXES: [&str; 3] = ["x", "y", "z"];

fn check_grid(
    raw: &RawGrid,
    dims: usize,
    geometry: GeometrySpec,
    issues: &mut Issues,
) -> Option<GridSpec> {
    let mut ok = true;
    let names = if geometry == GeometrySpec::Cartesian {
        AXES[..dims].join(", ")
    } else {
        "longitude, latitude".into()
    };
    for (name, len) in [
        ("origin", raw.origin.len()),
        ("spacing", raw.spacing.len()),
        ("shape", raw.shape.len()),
    ] {
        ok &= issues.check(len == dims, &format!("problem.grid.{name}"), || {
            format!("must have {dims} values ({names}), got {len}")
        });
    }
    if !ok {
        return None;
    }
    for a in 0..dims {
        ok &= issues.positive(raw.spacing[a], &format!("problem.grid.spacing[{a}]"));
        ok &= issues.check(
            raw.origin[a].is_finite(),
            &format!("problem.grid.origin[{a}]"),
            || "must be finite".into(),
        );
        ok &= issues.check(
            raw.shape[a] >= 2,
            &format!("problem.grid.shape[{a}]"),
            || format!("must be ≥ 2 nodes (got {})", raw.shape[a]),
        );
    }
    let grid = GridSpec {
        origin: raw.origin.clone(),
        spacing: raw.spacing.clone(),
        shape: raw.shape.clone(),
    };
    if ok && matches!(geometry, GeometrySpec::Spherical { .. }) {
        let (south, north) = (grid.origin[1], grid.end(1));
        ok &= issues.check(south > -89.0 && north < 89.0, "problem.grid", || {
            format!("latitudes must stay within (-89°, 89°) on a spherical grid (got [{south}, {north}])")
        });
        ok &= issues.check(grid.end(0) - grid.origin[0] < 360.0, "problem.grid", || {
            "the longitude range must be < 360°".into()
        });
    }
    ok.then_some(grid)
}

fn check_traveltime(
    raw: &RawTravelTime,
    dims: usize,
    dir: &Path,
    issues: &mut Issues,
) -> Option<TravelTimeSpec> {
    let geometry = match raw.geometry.unwrap_or(GeometryKind::Cartesian) {
        GeometryKind::Cartesian => {
            issues.check(raw.radius.is_none(), "problem.radius", || {
                "applies to `geometry: spherical` only".into()
            });
            GeometrySpec::Cartesian
        }
        GeometryKind::Spherical => {
            let radius = raw.radius.unwrap_or(EARTH_RADIUS_KM);
            issues.positive(radius, "problem.radius");
            if !issues.check(dims == 2, "problem.geometry", || {
                "spherical grids are 2D (kind: traveltime2d)".into()
            }) {
                return None;
            }
            GeometrySpec::Spherical { radius }
        }
    };
    let grid = check_grid(&raw.grid, dims, geometry, issues);
    let refine = raw.forward_refine.unwrap_or(1);
    issues.check((1..=64).contains(&refine), "problem.forward_refine", || {
        format!("must be in 1..=64 (got {refine})")
    });
    let stations = check_stations(&raw.stations, dims, geometry, grid.as_ref(), dir, issues)?;
    let grid = grid?;
    let data = raw.data.clone().unwrap_or_default();
    if let Some(s) = data.sigma {
        issues.positive(s, "problem.data.sigma");
    }
    let (pairs, data_spec) = match &data.file {
        None => {
            let mut pairs = Vec::new();
            for i in 0..stations.len() {
                for j in i + 1..stations.len() {
                    pairs.push((i, j));
                }
            }
            let n = pairs.len();
            (
                pairs,
                DataSpec {
                    sigma: Array1::from_elem(n, data.sigma.unwrap_or(f64::NAN)),
                    observed: None,
                },
            )
        }
        Some(file) => read_pick_data(&resolve(dir, file), &stations, data.sigma, issues)?,
    };
    let reference_model = raw.reference_model.as_ref().and_then(|r| {
        read_velocities(
            r,
            grid.n_nodes(),
            &grid.shape,
            "problem.reference_model",
            "node",
            dir,
            issues,
        )
    });
    Some(TravelTimeSpec {
        geometry,
        grid,
        forward_refine: refine,
        stations,
        pairs,
        data: data_spec,
        reference_model,
    })
}

/// Stations from a file (`name x y [z]`, or `name lat lon` on the sphere; the name may be left
/// out, then it is the 0-based row) or inline, as grid coordinates.
fn check_stations(
    raw: &RawStations,
    dims: usize,
    geometry: GeometrySpec,
    grid: Option<&GridSpec>,
    dir: &Path,
    issues: &mut Issues,
) -> Option<Vec<Station>> {
    let spherical = matches!(geometry, GeometrySpec::Spherical { .. });
    let layout = if spherical {
        "lat lon".to_string()
    } else {
        AXES[..dims].join(" ")
    };
    // Stations on the sphere are written latitude first; the grid is (longitude, latitude).
    let to_grid = |v: Vec<f64>| if spherical { vec![v[1], v[0]] } else { v };
    let stations: Vec<Station> = match raw {
        RawStations::Inline(list) => {
            let mut out = Vec::new();
            for (i, p) in list.iter().enumerate() {
                if !issues.check(p.len() == dims, &format!("problem.stations[{i}]"), || {
                    format!(
                        "must be [{}] (got {} values)",
                        layout.replace(' ', ", "),
                        p.len()
                    )
                }) {
                    return None;
                }
                out.push(Station {
                    name: i.to_string(),
                    position: to_grid(p.clone()),
                });
            }
            out
        }
        RawStations::File(f) => {
            let path = resolve(dir, &f.file);
            let table = match read_table(&path) {
                Ok(t) => t,
                Err(e) => {
                    issues.file_error("problem.stations.file", e);
                    return None;
                }
            };
            let mut out = Vec::new();
            for (i, row) in table.rows.iter().enumerate() {
                let (name, coords) = match row.words.len() {
                    n if n == dims + 1 => (row.words[0].clone(), &row.words[1..]),
                    n if n == dims => (i.to_string(), &row.words[..]),
                    _ => {
                        issues.add(
                            "problem.stations.file",
                            format!(
                                "{}: line {}: expected `name {layout}`",
                                path.display(),
                                row.line
                            ),
                        );
                        return None;
                    }
                };
                let Some(values) = coords
                    .iter()
                    .map(|w| parse_number(w))
                    .collect::<Option<Vec<f64>>>()
                else {
                    issues.add(
                        "problem.stations.file",
                        format!("{}: line {}: expected `name {layout}` with numbers for the coordinates", path.display(), row.line),
                    );
                    return None;
                };
                out.push(Station {
                    name,
                    position: to_grid(values),
                });
            }
            out
        }
    };
    let key = match raw {
        RawStations::File(_) => "problem.stations.file",
        RawStations::Inline(_) => "problem.stations",
    };
    if !issues.check(stations.len() >= 2, key, || {
        format!("needs at least 2 stations (got {})", stations.len())
    }) {
        return None;
    }
    let mut seen = HashMap::new();
    for (i, s) in stations.iter().enumerate() {
        if let Some(first) = seen.insert(s.name.clone(), i) {
            issues.add(
                key,
                format!(
                    "station name `{}` is used twice (stations {first} and {i})",
                    s.name
                ),
            );
            return None;
        }
        if !issues.check(s.position.iter().all(|v| v.is_finite()), key, || {
            format!("station `{}` has a non-finite position", s.name)
        }) {
            return None;
        }
        if let Some(g) = grid {
            let extent: Vec<String> = (0..dims)
                .map(|a| format!("[{}, {}]", g.origin[a], g.end(a)))
                .collect();
            let at = if spherical {
                format!("lon {}, lat {}", s.position[0], s.position[1])
            } else {
                format!(
                    "({})",
                    s.position
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            if !issues.check(g.contains(&s.position), key, || {
                format!(
                    "station `{}` at {at} lies outside the grid {} {}; enlarge problem.grid or remove the station",
                    s.name,
                    extent.join(" × "),
                    if spherical { "(lon × lat, degrees)" } else { "km" }
                )
            }) {
                return None;
            }
        }
    }
    Some(stations)
}

/// Picks: `source receiver time [sigma]` per line, station names as in the stations file.
fn read_pick_data(
    path: &Path,
    stations: &[Station],
    sigma_all: Option<f64>,
    issues: &mut Issues,
) -> Option<(Vec<(usize, usize)>, DataSpec)> {
    let key = "problem.data.file";
    let table = match read_table(path) {
        Ok(t) => t,
        Err(e) => {
            issues.file_error(key, e);
            return None;
        }
    };
    if !issues.check(!table.rows.is_empty(), key, || {
        format!("{}: holds no data", path.display())
    }) {
        return None;
    }
    let index: HashMap<&str, usize> = stations
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let (mut pairs, mut times, mut sigma) = (Vec::new(), Vec::new(), Vec::new());
    for row in &table.rows {
        let here = format!("{}: line {}", path.display(), row.line);
        let n = row.words.len();
        if !issues.check(n == 4 || (n == 3 && sigma_all.is_some()), key, || {
            format!("{here}: expected `source receiver time sigma` (or three columns with problem.data.sigma), got {n} columns")
        }) {
            return None;
        }
        if n == 4 && sigma_all.is_some() {
            issues.add(
                "problem.data.sigma",
                format!("{here}: the file has a σ column; give σ in one place only"),
            );
            return None;
        }
        let station = |w: &str| index.get(w).copied();
        let (Some(src), Some(rcv)) = (station(&row.words[0]), station(&row.words[1])) else {
            issues.add(
                key,
                format!(
                    "{here}: unknown station `{}` (names must match the stations file)",
                    if station(&row.words[0]).is_none() {
                        &row.words[0]
                    } else {
                        &row.words[1]
                    }
                ),
            );
            return None;
        };
        if !issues.check(src != rcv, key, || {
            format!("{here}: source and receiver are the same station")
        }) {
            return None;
        }
        let Some(t) = parse_number(&row.words[2]) else {
            issues.add(
                key,
                format!("{here}: time `{}` is not a number", row.words[2]),
            );
            return None;
        };
        let s = if n == 4 {
            match parse_number(&row.words[3]) {
                Some(s) => s,
                None => {
                    issues.add(key, format!("{here}: σ `{}` is not a number", row.words[3]));
                    return None;
                }
            }
        } else {
            sigma_all.expect("checked above")
        };
        pairs.push((src, rcv));
        times.push(t);
        sigma.push(s);
    }
    check_data_values(&times, &sigma, path, &table_lines(&table), issues)?;
    Some((
        pairs,
        DataSpec {
            sigma: Array1::from(sigma),
            observed: Some(Array1::from(times)),
        },
    ))
}
