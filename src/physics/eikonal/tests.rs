//! Accuracy of the factored fast marching against analytic travel times, and the exactness of
//! its discrete adjoint (finite differences and a Taylor test).

use ndarray::Array1;

use super::fmm::travel_time_at;
use super::geometry::Cartesian;
use super::mesh::Mesh;
use super::solve_for_velocity;
use super::test_support::{all_pairs, bumps, check_misfit_gradient};
use super::traveltime::TravelTime2d;
use crate::physics::ForwardModel;

/// Analytic time in v = v0 + k z between points with velocities v_s and v_r at distance r.
fn gradient_medium_time(k: f64, r: f64, v_s: f64, v_r: f64) -> f64 {
    if k == 0.0 {
        return r / v_s;
    }
    (1.0 + k * k * r * r / (2.0 * v_s * v_r)).acosh() / k
}

/// Errors of T over the nodes of a 10 km square for a source in v = v0 + k·(coordinate `axis`):
/// max and RMS over all nodes, and RMS over the nodes more than one cell away from the two grid
/// lines through the source (where no neighbour on the source's side is accepted in time).
const OFF_GRID_SOURCE: [f64; 2] = [3.37, 4.21]; // off-grid for every spacing used

struct NodeErrors {
    h: f64,
    max: f64,
    rms: f64,
    rms_off_lines: f64,
}

fn node_errors(h: f64, v0: f64, k: f64, axis: usize, source: [f64; 2]) -> NodeErrors {
    let n = (10.0 / h).round() as usize + 1;
    let mesh = Mesh::new([0.0, 0.0], [h, h], [n, n]);
    let velocity = |p: [f64; 2]| v0 + k * p[axis];
    let ws = solve_for_velocity(&Cartesian::new(mesh), velocity, source);
    let (mut max, mut sum2, mut sum2_off, mut n_off) = (0.0f64, 0.0, 0.0, 0);
    for i in 0..mesh.n_nodes() {
        let p = mesh.position(i);
        let r = ((p[0] - source[0]).powi(2) + (p[1] - source[1]).powi(2)).sqrt();
        let exact = gradient_medium_time(k, r, velocity(source), velocity(p));
        let err = (ws.time(i) - exact).abs();
        max = max.max(err);
        sum2 += err * err;
        if (p[0] - source[0]).abs() > h && (p[1] - source[1]).abs() > h {
            sum2_off += err * err;
            n_off += 1;
        }
    }
    NodeErrors {
        h,
        max,
        rms: (sum2 / mesh.n_nodes() as f64).sqrt(),
        rms_off_lines: (sum2_off / n_off as f64).sqrt(),
    }
}

fn order(coarse: f64, fine: f64) -> f64 {
    (coarse / fine).ln() / 2f64.ln()
}

fn convergence_table(
    label: &str,
    v0: f64,
    k: f64,
    axis: usize,
    source: [f64; 2],
) -> Vec<NodeErrors> {
    let rows: Vec<NodeErrors> = [0.2, 0.1, 0.05, 0.025]
        .iter()
        .map(|&h| node_errors(h, v0, k, axis, source))
        .collect();
    println!("\n{label}: source {source:?}, domain [0,10]² km, errors of T in s");
    println!(
        "{:>7} {:>10} {:>10} {:>12} {:>6} {:>6} {:>6} {:>12}",
        "h (km)", "max", "rms", "rms off-line", "p max", "p rms", "p off", "max/(h/v0)"
    );
    for (j, e) in rows.iter().enumerate() {
        let p = |f: fn(&NodeErrors) -> f64| {
            if j == 0 {
                f64::NAN
            } else {
                order(f(&rows[j - 1]), f(e))
            }
        };
        println!(
            "{:>7.3} {:>10.2e} {:>10.2e} {:>12.2e} {:>6.2} {:>6.2} {:>6.2} {:>12.2e}",
            e.h,
            e.max,
            e.rms,
            e.rms_off_lines,
            p(|e| e.max),
            p(|e| e.rms),
            p(|e| e.rms_off_lines),
            e.max / (e.h / v0)
        );
    }
    rows
}

#[test]
fn homogeneous_medium_is_exact() {
    let rows = convergence_table("homogeneous v = 2", 2.0, 0.0, 1, OFF_GRID_SOURCE);
    for NodeErrors { max, .. } in rows {
        assert!(
            max < 1e-10,
            "factored fast marching is exact in a homogeneous medium up to round-off (max error {max:e})"
        );
    }
}

/// Second-order convergence in a gradient medium, with the source on a node and off the grid,
/// and with the gradient along y and along x (which catches any transposition of axes).
#[test]
fn gradient_medium_converges_at_second_order() {
    for (axis, source, label) in [
        (1, OFF_GRID_SOURCE, "v = 2 + 0.15 y"),
        (0, OFF_GRID_SOURCE, "v = 2 + 0.15 x"),
        (1, [3.4, 4.2], "v = 2 + 0.15 y, source on a node"),
    ] {
        let rows = convergence_table(label, 2.0, 0.15, axis, source);
        for j in 1..rows.len() {
            let (c, f) = (&rows[j - 1], &rows[j]);
            assert!(
                order(c.rms, f.rms) > 1.8,
                "{label}: RMS order {:.2} at h = {}",
                order(c.rms, f.rms),
                f.h
            );
            assert!(
                order(c.max, f.max) > 1.8,
                "{label}: max order {:.2} at h = {}",
                order(c.max, f.max),
                f.h
            );
        }
        // Plain second-order marching from a single source node errs by ≈ 0.2 h/v.
        for e in &rows {
            assert!(
                e.max < 1e-3 * e.h / 2.0,
                "{label}: max error {:e} at h = {}",
                e.max,
                e.h
            );
        }
    }
}

#[test]
fn receiver_times_use_interpolated_tau_near_the_source() {
    let h = 0.1;
    let mesh = Mesh::new([0.0, 0.0], [h, h], [41, 41]);
    let velocity = |p: [f64; 2]| 2.0 + 0.15 * p[1];
    let source = [2.03, 1.97];
    let ws = solve_for_velocity(&Cartesian::new(mesh), velocity, source);
    for p in [[2.08, 1.99], [2.31, 2.26], [3.55, 0.42]] {
        let r = ((p[0] - source[0]).powi(2) + (p[1] - source[1]).powi(2)).sqrt();
        let exact = gradient_medium_time(0.15, r, velocity(source), velocity(p));
        let (t, _, _) = travel_time_at(&Cartesian::new(mesh), &ws.tau, &source, p);
        // Relative accuracy stays at the O(h²) level even a fraction of a cell from the source.
        assert!((t - exact).abs() / exact < 1e-4, "at {p:?}: {t} vs {exact}");
    }
}

fn tomography_model() -> (TravelTime2d, Vec<Vec<f64>>) {
    let grid = Mesh::new([0.0, 0.0], [0.5, 0.5], [11, 11]);
    let stations = [
        [0.37, 0.61],
        [4.62, 0.23],
        [4.41, 4.77],
        [0.52, 4.18],
        [2.33, 2.71],
        [1.07, 2.49],
        [3.81, 2.06],
    ];
    let model = TravelTime2d::new(grid, 3, &stations, &all_pairs(stations.len()));
    let positions = (0..grid.n_nodes())
        .map(|i| grid.position(i).to_vec())
        .collect();
    (model, positions)
}

/// The exact gradient of the discrete solver: ½ Σ ((T − d)/σ)² against central differences on
/// three smooth random models, and the Taylor remainder's second-order decay.
#[test]
fn discrete_adjoint_is_exact() {
    let (model, positions) = tomography_model();
    let truth = bumps(&positions, 99, 2.0, &[5.0, 5.0]);
    let mut d_obs = Array1::zeros(model.n_data());
    model.forward_into(truth.view(), d_obs.view_mut()).unwrap();
    let models: Vec<_> = [1, 2, 3]
        .iter()
        .map(|&s| bumps(&positions, s, 2.1, &[5.0, 5.0]))
        .collect();
    check_misfit_gradient(&model, &models, &d_obs, 1e-5);
}
