//! Accuracy and discrete-adjoint checks of the fast marching in 3D Cartesian grids and on the
//! sphere (the 2D Cartesian ones are in `tests`).

use ndarray::Array1;

use super::fmm::FmmWorkspace;
use super::geometry::{Cartesian, Geometry, Spherical, central_angle, unit_vector};
use super::mesh::Mesh;
use super::solve_for_velocity;
use super::test_support::{all_pairs, bumps, check_misfit_gradient};
use super::traveltime::{SphericalTravelTime, TravelTime3d};
use crate::physics::ForwardModel;

fn order(coarse: f64, fine: f64) -> f64 {
    (coarse / fine).ln() / 2f64.ln()
}

fn print_table(label: &str, rows: &[(f64, f64, f64)], unit: &str) {
    println!("\n{label}");
    println!(
        "{:>9} {:>11} {:>11} {:>7} {:>7}",
        format!("h ({unit})"),
        "max (s)",
        "rms (s)",
        "p max",
        "p rms"
    );
    for (j, &(h, max, rms)) in rows.iter().enumerate() {
        let (pm, pr) = if j == 0 {
            (f64::NAN, f64::NAN)
        } else {
            (order(rows[j - 1].1, max), order(rows[j - 1].2, rms))
        };
        println!("{h:>9.4} {max:>11.2e} {rms:>11.2e} {pm:>7.2} {pr:>7.2}");
    }
}

/// Errors over the nodes of the cube [0, 6]³ (spacing h) for an off-grid source in
/// v = v0 + k z, against t = arccosh(1 + k² r² / (2 v_s v_r)) / k (r / v0 when k = 0).
fn cube_errors(h: f64, v0: f64, k: f64) -> (f64, f64, f64) {
    let n = (6.0 / h).round() as usize + 1;
    let mesh = Mesh::new([0.0; 3], [h; 3], [n; 3]);
    let velocity = |p: [f64; 3]| v0 + k * p[2];
    let source = [2.13, 2.71, 1.93];
    let ws = solve_for_velocity(&Cartesian::new(mesh), velocity, source);
    let (mut max, mut sum2) = (0.0f64, 0.0);
    for i in 0..mesh.n_nodes() {
        let p = mesh.position(i);
        let r = (0..3)
            .map(|a| (p[a] - source[a]).powi(2))
            .sum::<f64>()
            .sqrt();
        let exact = if k == 0.0 {
            r / v0
        } else {
            (1.0 + k * k * r * r / (2.0 * velocity(source) * velocity(p))).acosh() / k
        };
        let e = (ws.time(i) - exact).abs();
        max = max.max(e);
        sum2 += e * e;
    }
    (h, max, (sum2 / mesh.n_nodes() as f64).sqrt())
}

#[test]
fn cartesian_3d_homogeneous_is_exact() {
    let rows: Vec<_> = [0.2, 0.1]
        .iter()
        .map(|&h| cube_errors(h, 2.0, 0.0))
        .collect();
    print_table(
        "3D homogeneous v = 2, source (2.13, 2.71, 1.93), cube [0, 6]³",
        &rows,
        "km",
    );
    for (_, max, _) in rows {
        assert!(max < 1e-10, "max error {max:e}");
    }
}

#[test]
fn cartesian_3d_gradient_medium_converges_at_second_order() {
    let rows: Vec<_> = [0.2, 0.1, 0.05]
        .iter()
        .map(|&h| cube_errors(h, 2.0, 0.15))
        .collect();
    print_table(
        "3D v = 2 + 0.15 z, source (2.13, 2.71, 1.93), cube [0, 6]³",
        &rows,
        "km",
    );
    for j in 1..rows.len() {
        assert!(
            order(rows[j - 1].2, rows[j].2) > 1.8,
            "RMS order at h = {}",
            rows[j].0
        );
        assert!(
            order(rows[j - 1].1, rows[j].1) > 1.6,
            "max order at h = {}",
            rows[j].0
        );
    }
    for &(h, max, _) in &rows {
        assert!(max < 1e-3 * h / 2.0, "max error {max:e} at h = {h}");
    }
}

const RADIUS: f64 = 6371.0;

/// A 6° × 5° (longitude × latitude) grid at 50–55° N with spacing h degrees.
fn sphere_mesh(h: f64) -> Mesh<2> {
    let (nx, ny) = (
        (6.0 / h).round() as usize + 1,
        (5.0 / h).round() as usize + 1,
    );
    Mesh::new([-4.0, 50.0], [h, h], [nx, ny])
}

const SPHERE_SOURCE: [f64; 2] = [-1.537, 52.211]; // (lon, lat), off-grid

fn sphere_solve(h: f64, velocity: impl Fn([f64; 2]) -> f64) -> (Mesh<2>, FmmWorkspace<2>) {
    let mesh = sphere_mesh(h);
    let ws = solve_for_velocity(&Spherical::new(mesh, RADIUS), velocity, SPHERE_SOURCE);
    (mesh, ws)
}

#[test]
fn sphere_homogeneous_gives_great_circle_distance_over_velocity() {
    let source = unit_vector(SPHERE_SOURCE[0], SPHERE_SOURCE[1]);
    let mut rows = Vec::new();
    for h in [0.2, 0.1] {
        let (mesh, ws) = sphere_solve(h, |_| 3.2);
        let (mut max, mut sum2) = (0.0f64, 0.0);
        for i in 0..mesh.n_nodes() {
            let p = mesh.position(i);
            let exact = RADIUS * central_angle(&unit_vector(p[0], p[1]), &source) / 3.2;
            let e = (ws.time(i) - exact).abs();
            max = max.max(e);
            sum2 += e * e;
        }
        rows.push((h, max, (sum2 / mesh.n_nodes() as f64).sqrt()));
    }
    print_table(
        "sphere, homogeneous v = 3.2 km/s, R = 6371 km, source (-1.537 E, 52.211 N)",
        &rows,
        "deg",
    );
    for (_, max, _) in rows {
        assert!(max < 1e-9, "max error {max:e} s");
    }
}

/// A smooth heterogeneous medium on the sphere, against the solution on a grid 8 times finer:
/// the observed order of the error at two spacings.
#[test]
fn sphere_heterogeneous_converges_at_second_order() {
    let velocity = |p: [f64; 2]| 3.0 + 0.3 * (0.7 * p[0]).sin() + 0.2 * (p[1] - 52.0);
    let fine_h = 0.0125;
    let (fine_mesh, fine) = sphere_solve(fine_h, velocity);
    let mut rows = Vec::new();
    for h in [0.2, 0.1, 0.05] {
        let (mesh, ws) = sphere_solve(h, velocity);
        let step = (h / fine_h).round() as usize;
        let (mut max, mut sum2) = (0.0f64, 0.0);
        for i in 0..mesh.n_nodes() {
            let c = mesh.coords(i);
            let reference = fine.time(fine_mesh.index([c[0] * step, c[1] * step]));
            let e = (ws.time(i) - reference).abs();
            max = max.max(e);
            sum2 += e * e;
        }
        rows.push((h, max, (sum2 / mesh.n_nodes() as f64).sqrt()));
    }
    print_table(
        "sphere, v = 3 + 0.3 sin(0.7 lon) + 0.2 (lat − 52), against h = 0.0125°",
        &rows,
        "deg",
    );
    for j in 1..rows.len() {
        assert!(
            order(rows[j - 1].2, rows[j].2) > 1.7,
            "RMS order at h = {}",
            rows[j].0
        );
        assert!(
            order(rows[j - 1].1, rows[j].1) > 1.5,
            "max order at h = {}",
            rows[j].0
        );
    }
}

#[test]
fn cartesian_3d_discrete_adjoint_is_exact() {
    let grid = Mesh::new([0.0; 3], [0.5; 3], [6, 6, 5]);
    let stations = [
        [0.21, 0.33, 0.4],
        [2.31, 0.12, 1.7],
        [2.44, 2.38, 0.9],
        [0.5, 2.2, 1.55],
        [1.3, 1.1, 0.6],
    ];
    let pairs = all_pairs(stations.len());
    let model = TravelTime3d::new(grid, 2, &stations, &pairs);
    let positions: Vec<Vec<f64>> = (0..grid.n_nodes())
        .map(|i| grid.position(i).to_vec())
        .collect();
    let truth = bumps(&positions, 9, 2.0, &[2.5, 2.5, 2.0]);
    let mut d_obs = Array1::zeros(model.n_data());
    model.forward_into(truth.view(), d_obs.view_mut()).unwrap();
    let models: Vec<_> = [1, 2, 3]
        .iter()
        .map(|&s| bumps(&positions, s, 2.1, &[2.5, 2.5, 2.0]))
        .collect();
    check_misfit_gradient(&model, &models, &d_obs, 1e-5);
}

#[test]
fn spherical_discrete_adjoint_is_exact() {
    let grid = Mesh::new([-4.0, 50.0], [0.5, 0.5], [10, 8]);
    let stations = [
        [-3.8, 50.3],
        [-0.2, 50.6],
        [0.1, 53.2],
        [-3.1, 53.4],
        [-1.9, 51.8],
        [-1.1, 52.9],
    ];
    let pairs = all_pairs(stations.len());
    let model = SphericalTravelTime::spherical(grid, 3, RADIUS, &stations, &pairs);
    // Bumps placed relative to the grid's south-west corner.
    let positions: Vec<Vec<f64>> = (0..grid.n_nodes())
        .map(|i| {
            grid.position(i)
                .iter()
                .zip(&grid.origin)
                .map(|(p, o)| p - o)
                .collect()
        })
        .collect();
    let truth = bumps(&positions, 9, 3.0, &[4.0, 3.5]);
    let mut d_obs = Array1::zeros(model.n_data());
    model.forward_into(truth.view(), d_obs.view_mut()).unwrap();
    let models: Vec<_> = [1, 2, 3]
        .iter()
        .map(|&s| bumps(&positions, s, 3.1, &[4.0, 3.5]))
        .collect();
    check_misfit_gradient(&model, &models, &d_obs, 1e-5);
    // The grid's metric: a quarter of the way round the globe's circumference along a parallel.
    let geo = Spherical::new(grid, RADIUS);
    let lon_km = geo.spacing(&[0, 0], 0);
    assert!((lon_km - RADIUS * 50f64.to_radians().cos() * 0.5f64.to_radians()).abs() < 1e-9);
}
