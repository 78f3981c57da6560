//! Tests of the acoustic solver against analytic Green's functions, a large-domain reference
//! for the CPML, dot-product tests of the forward and Born operators against their adjoints,
//! and finite differences of the misfit.

use super::WaveFloat;
use super::grid::WaveGrid;
use super::modelling::{Shot, WaveSolver};
use super::propagator::Propagator;
use super::wavelet::ricker;
use crate::core::stencil::SpaceOrder;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A solver on `grid` for a wavelet of peak f0 delayed by 1/f0.
fn solver<T: WaveFloat>(
    grid: WaveGrid,
    order: SpaceOrder,
    dt: f64,
    nt: usize,
    f0: f64,
    v_ref: f64,
) -> WaveSolver<T> {
    let prop = Propagator::new(grid, order, dt, v_ref, f0);
    WaveSolver::new(prop, nt, ricker(f0, 1.0 / f0, dt, nt))
}

/// A shot with source and receivers at positions (z, y, x) in km.
fn shot(grid: &WaveGrid, source: [f64; 3], receivers: &[[f64; 3]]) -> Shot {
    Shot {
        source: grid.point_weights(source).expect("source inside"),
        receivers: receivers
            .iter()
            .map(|&r| grid.point_weights(r).expect("receiver inside"))
            .collect(),
    }
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

fn ricker_at(f0: f64, t: f64) -> f64 {
    let a = (std::f64::consts::PI * f0 * (t - 1.0 / f0)).powi(2);
    (1.0 - 2.0 * a) * (-a).exp()
}

/// The analytic trace of a point source of wavelet f in a homogeneous medium of velocity c:
/// 3D, f(t − r/c) / (4π r); 2D, (1/2π) ∫₀^∞ f(t − (r/c) cosh η) dη (the line source).
fn analytic(ndim: usize, c: f64, r: f64, f0: f64, t: f64) -> f64 {
    if ndim == 3 {
        return ricker_at(f0, t - r / c) / (4.0 * std::f64::consts::PI * r);
    }
    let a = r / c;
    if t <= a - 2.0 / f0 {
        // The wavelet has not started at the retarded time (it is < 1e-15 before t = 0).
        return 0.0;
    }
    let eta_max = ((t + 1.0) / a).acosh() + 1.0;
    let n = 20_000;
    let d = eta_max / n as f64;
    let sum: f64 = (0..=n)
        .map(|j| {
            let weight = if j == 0 || j == n { 0.5 } else { 1.0 };
            weight * ricker_at(f0, t - a * (j as f64 * d).cosh())
        })
        .sum();
    sum * d / (2.0 * std::f64::consts::PI)
}

/// Relative L2 error of the traces of a homogeneous point-source run against the analytic
/// solution, for receiver offsets (in grid steps of the coarsest grid) and `refine` = 1, 2.
fn point_source_error(ndim: usize, refine: usize, offsets: &[[f64; 3]]) -> Vec<f64> {
    let (c, f0) = (2.0, 16.0);
    let h = 0.01 / refine as f64;
    let dt = 1e-3 / refine as f64;
    // The CPML's inner edge is 0.25 km from the source: its reflections reach the receivers
    // after (0.5 km − r)/c ≥ 0.19 s (r ≤ 0.12 km), after the recording ends: the direct
    // wavelet has passed every receiver by r/c + 2/f0 ≤ t_end = 0.185 s.
    let half = 25 * refine;
    let n_model = 2 * half + 1;
    let shape = if ndim == 3 {
        [n_model, n_model, n_model]
    } else {
        [n_model, 1, n_model]
    };
    let grid = WaveGrid::new(ndim, shape, h, 10 * refine);
    let t_end = 0.06 + 2.0 / f0;
    let nt = (t_end / dt).round() as usize + 1;
    let s = solver::<f64>(grid.clone(), SpaceOrder::Eight, dt, nt, f0, c);
    let centre = half as f64 * h;
    let src = [centre, if ndim == 3 { centre } else { 0.0 }, centre];
    let h0 = 0.01;
    let recs: Vec<[f64; 3]> = offsets
        .iter()
        .map(|o| {
            std::array::from_fn(|d| {
                if grid.is_active(d) {
                    src[d] + o[d] * h0
                } else {
                    0.0
                }
            })
        })
        .collect();
    let w = s.squared_slowness_weight(&vec![c; grid.len()]);
    let traces = s.forward(&w, &shot(&grid, src, &recs));
    offsets
        .iter()
        .enumerate()
        .map(|(r, o)| {
            let dist = (0..3)
                .filter(|&d| grid.is_active(d))
                .map(|d| (o[d] * h0).powi(2))
                .sum::<f64>()
                .sqrt();
            let got = &traces[r * nt..(r + 1) * nt];
            let exact: Vec<f64> = (0..nt)
                .map(|n| analytic(ndim, c, dist, f0, n as f64 * dt))
                .collect();
            let diff: Vec<f64> = got.iter().zip(&exact).map(|(a, b)| a - b).collect();
            rms(&diff) / rms(&exact)
        })
        .collect()
}

/// 5 points per shortest wavelength (c = 2 km/s, f_max = 2.5 f0 = 40 Hz, h = 10 m), receivers
/// 10 h or more from the source: relative L2 error < 1 %, and ≈ 4× smaller when h and dt are
/// halved together (second order in time dominates the order-8 stencil).
#[test]
fn point_sources_match_the_analytic_greens_functions() {
    for (ndim, offsets) in [
        (
            2usize,
            vec![[10.0, 0.0, 0.0], [6.0, 0.0, 8.0], [-5.0, 0.0, 12.0]],
        ),
        (3, vec![[10.0, 0.0, 0.0], [6.0, 8.0, 0.0], [2.0, -6.0, 9.0]]),
    ] {
        let coarse = point_source_error(ndim, 1, &offsets);
        let fine = point_source_error(ndim, 2, &offsets);
        for (r, (e1, e2)) in coarse.iter().zip(&fine).enumerate() {
            let order = (e1 / e2).log2();
            eprintln!(
                "{ndim}D receiver {r}: relative L2 error {e1:.3e} (h) {e2:.3e} (h/2), order {order:.2}"
            );
            assert!(*e1 < 0.01, "{ndim}D receiver {r}: error {e1}");
            assert!(
                (1.8..2.3).contains(&order),
                "{ndim}D receiver {r}: order {order}"
            );
        }
    }
}

/// A smooth random velocity (km/s) on the model grid: 2 + a few random cosines, in [1.5, 2.5].
fn random_velocity(grid: &WaveGrid, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let m = grid.model_shape;
    let waves: Vec<([f64; 3], f64)> = (0..4)
        .map(|_| {
            (
                std::array::from_fn(|_| rng.random_range(0.5..3.0)),
                rng.random_range(0.0..6.3),
            )
        })
        .collect();
    let mut v = Vec::with_capacity(grid.n_model());
    for z in 0..m[0] {
        for y in 0..m[1] {
            for x in 0..m[2] {
                let p = [z as f64, y as f64, x as f64].map(|c| c * grid.spacing);
                let s: f64 = waves
                    .iter()
                    .map(|(k, phase)| {
                        (k[0] * p[0] * 10.0 + k[1] * p[1] * 10.0 + k[2] * p[2] * 10.0 + phase).cos()
                    })
                    .sum();
                v.push(2.0 + 0.12 * s);
            }
        }
    }
    v
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Small 2D and 3D set-ups for the adjoint tests: a heterogeneous model, CPML of 5 points,
/// order 8, sources and receivers off the grid, a checkpoint interval that does not divide
/// the step count.
fn small_setups(order: SpaceOrder) -> Vec<(WaveSolver<f64>, Shot, Vec<f64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut out = Vec::new();
    for (ndim, shape) in [(2usize, [14usize, 1, 17]), (3, [9, 8, 10])] {
        let grid = WaveGrid::new(ndim, shape, 0.01, 5);
        let (dt, nt, f0) = (1e-3, 90, 25.0);
        let s = solver::<f64>(grid.clone(), order, dt, nt, f0, 2.5);
        let y = |v: f64| if ndim == 3 { v } else { 0.0 };
        let sh = shot(
            &grid,
            [0.023, y(0.031), 0.047],
            &[
                [0.071, y(0.012), 0.015],
                [0.005, y(0.066), 0.088],
                [0.08, y(0.04), 0.06],
            ],
        );
        let v = random_velocity(&grid, &mut rng);
        out.push((s, sh, v));
    }
    out
}

/// ⟨F f, d⟩ = ⟨f, Fᵀ d⟩ for the map from the wavelet to the traces (linear in f), with the
/// adjoint propagation through the CPML and checkpoint segments.
#[test]
fn forward_operator_passes_the_dot_product_test() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (mut s, sh, v) in small_setups(SpaceOrder::Eight) {
        let f: Vec<f64> = (0..s.nt).map(|_| rng.random_range(-1.0..1.0)).collect();
        s.wavelet = f.clone();
        let w = s.squared_slowness_weight(&s.prop.grid.extend(&v));
        let interval = 7;
        let (traces, checkpoints) = s.forward_with_checkpoints(&w, &sh, interval);
        let d: Vec<f64> = (0..traces.len())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let (_, f_adj) = s.adjoint(&w, &sh, &d, &checkpoints, interval);
        let (lhs, rhs) = (dot(&traces, &d), dot(&f, &f_adj));
        let mismatch = (lhs - rhs).abs() / lhs.abs().max(rhs.abs());
        eprintln!(
            "{}D: <F f, d> = {lhs:.15e}, <f, F^T d> = {rhs:.15e}, mismatch {mismatch:.2e}",
            s.prop.grid.ndim
        );
        assert!(mismatch < 1e-10, "mismatch {mismatch}");
    }
}

/// ⟨J δw, δd⟩ = ⟨δw, Jᵀ δd⟩ for the Born operator (derivative of the traces in w = dt² v²)
/// and the adjoint-state gradient, for stencil orders 2, 4 and 8.
#[test]
fn born_operator_passes_the_dot_product_test() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (s, sh, v) in [SpaceOrder::Two, SpaceOrder::Four, SpaceOrder::Eight]
        .into_iter()
        .flat_map(small_setups)
    {
        let grid = s.prop.grid.clone();
        let w = s.squared_slowness_weight(&grid.extend(&v));
        let dw: Vec<f64> = (0..grid.len())
            .map(|_| rng.random_range(-1.0..1.0) * 1e-6)
            .collect();
        let born = s.born(&w, &dw, &sh);
        let dd: Vec<f64> = (0..born.len())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        for interval in [4, 13, s.default_interval()] {
            let (_, checkpoints) = s.forward_with_checkpoints(&w, &sh, interval);
            let (grad_w, _) = s.adjoint(&w, &sh, &dd, &checkpoints, interval);
            let (lhs, rhs) = (dot(&born, &dd), dot(&dw, &grad_w));
            let mismatch = (lhs - rhs).abs() / lhs.abs().max(rhs.abs());
            eprintln!(
                "{}D order {} interval {interval}: <J dw, dd> = {lhs:.15e}, <dw, J^T dd> = {rhs:.15e}, mismatch {mismatch:.2e}",
                grid.ndim, s.prop.order
            );
            assert!(mismatch < 1e-10, "mismatch {mismatch}");
        }
    }
}

/// ½ Σ (d(v) − d_obs)² and its gradient in velocity on the model grid.
fn misfit_and_gradient(
    s: &WaveSolver<f64>,
    sh: &Shot,
    v: &[f64],
    d_obs: &[f64],
) -> (f64, Vec<f64>) {
    let w = s.squared_slowness_weight(&s.prop.grid.extend(v));
    let interval = s.default_interval();
    let (d, checkpoints) = s.forward_with_checkpoints(&w, sh, interval);
    let residual: Vec<f64> = d.iter().zip(d_obs).map(|(a, b)| a - b).collect();
    let (grad_w, _) = s.adjoint(&w, sh, &residual, &checkpoints, interval);
    (
        0.5 * dot(&residual, &residual),
        s.velocity_gradient(v, &grad_w),
    )
}

fn misfit(s: &WaveSolver<f64>, sh: &Shot, v: &[f64], d_obs: &[f64]) -> f64 {
    let d = s.forward(&s.squared_slowness_weight(&s.prop.grid.extend(v)), sh);
    0.5 * d
        .iter()
        .zip(d_obs)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
}

/// The adjoint-state gradient of the misfit in velocity against central differences along
/// random directions (relative error < 1e-6; the O(ε²) truncation is ~1e-9 at ε = 1e-4 km/s),
/// and a Taylor test: the remainder Φ(v + ε δ) − Φ(v) − ε gᵀδ shrinks 4× per halving of ε.
#[test]
fn misfit_gradient_matches_finite_differences_and_the_taylor_test() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (s, sh, v) in small_setups(SpaceOrder::Eight) {
        let v_true = random_velocity(&s.prop.grid, &mut rng);
        let d_obs = s.forward(
            &s.squared_slowness_weight(&s.prop.grid.extend(&v_true)),
            &sh,
        );
        let (phi, g) = misfit_and_gradient(&s, &sh, &v, &d_obs);
        for trial in 0..3 {
            let dir: Vec<f64> = (0..v.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
            let eps = 1e-4;
            let shifted =
                |e: f64| -> Vec<f64> { v.iter().zip(&dir).map(|(a, b)| a + e * b).collect() };
            let fd = (misfit(&s, &sh, &shifted(eps), &d_obs)
                - misfit(&s, &sh, &shifted(-eps), &d_obs))
                / (2.0 * eps);
            let adj = dot(&g, &dir);
            let rel = (fd - adj).abs() / adj.abs();
            eprintln!(
                "{}D direction {trial}: adjoint {adj:.12e}, central difference {fd:.12e}, relative error {rel:.2e}",
                s.prop.grid.ndim
            );
            assert!(rel < 1e-6, "relative error {rel}");
            if trial == 0 {
                let remainders: Vec<f64> = [0.02, 0.01, 0.005, 0.0025]
                    .iter()
                    .map(|&e| (misfit(&s, &sh, &shifted(e), &d_obs) - phi - e * adj).abs())
                    .collect();
                for pair in remainders.windows(2) {
                    let ratio = pair[0] / pair[1];
                    eprintln!("{}D Taylor remainder ratio {ratio:.3}", s.prop.grid.ndim);
                    assert!((3.5..4.5).contains(&ratio), "Taylor ratio {ratio}");
                }
            }
        }
    }
}

/// Per receiver, max |u − u_big| / max |u_big| between a model of `n_model` points per axis
/// with a 20-point CPML and the same model inside a domain `extra` points larger on every side
/// (whose own boundary reflections cannot arrive within the recording).
struct CpmlCase<'a> {
    ndim: usize,
    h: f64,
    f0: f64,
    dt: f64,
    nt: usize,
    n_model: usize,
    extra: usize,
    source: [f64; 3],
    receivers: &'a [[f64; 3]],
}

fn cpml_errors(case: CpmlCase) -> Vec<f64> {
    let CpmlCase {
        ndim,
        h,
        f0,
        dt,
        nt,
        n_model,
        extra,
        source,
        receivers,
    } = case;
    let c = 2.0;
    let run = |pad: usize| {
        let n = n_model + 2 * pad;
        let shape = if ndim == 3 { [n; 3] } else { [n, 1, n] };
        let grid = WaveGrid::new(ndim, shape, h, 20);
        let s = solver::<f64>(grid.clone(), SpaceOrder::Eight, dt, nt, f0, c);
        let offset = pad as f64 * h;
        let shift = |p: [f64; 3]| {
            std::array::from_fn(|d| {
                if grid.is_active(d) {
                    p[d] + offset
                } else {
                    0.0
                }
            })
        };
        let recs: Vec<[f64; 3]> = receivers.iter().map(|&r| shift(r)).collect();
        let w = s.squared_slowness_weight(&vec![c; grid.len()]);
        s.forward(&w, &shot(&grid, shift(source), &recs))
    };
    let (small, big) = (run(0), run(extra));
    (0..receivers.len())
        .map(|r| {
            let range = r * nt..(r + 1) * nt;
            let peak = big[range.clone()]
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let diff = small[range.clone()]
                .iter()
                .zip(&big[range])
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            diff / peak
        })
        .collect()
}

/// 20-point CPML: the largest difference from a large-domain reference over the whole
/// recording (all reflections included), relative to each receiver's peak direct-wave
/// amplitude, is below 1 % — for receivers near the source's corner, across the model, and
/// grazing (along the boundary nearest to the source, far from it).
#[test]
fn cpml_reflections_are_below_one_percent_of_the_direct_wave() {
    // 2D: 0.8 km square, source 0.1 km from two sides, 0.8 s (the wave crosses the model twice).
    let receivers = [
        [0.1, 0.0, 0.7],
        [0.02, 0.0, 0.5],
        [0.7, 0.0, 0.7],
        [0.4, 0.0, 0.3],
    ];
    let errors = cpml_errors(CpmlCase {
        ndim: 2,
        h: 0.01,
        f0: 16.0,
        dt: 1e-3,
        nt: 800,
        n_model: 81,
        extra: 90,
        source: [0.1, 0.0, 0.1],
        receivers: &receivers,
    });
    for (r, e) in errors.iter().enumerate() {
        eprintln!(
            "2D receiver {:?}: max |u - u_big| / peak = {e:.2e}",
            receivers[r]
        );
        assert!(*e < 0.01, "receiver {r}: {e}");
    }
    // 3D: 0.6 km cube at 20 m (5 points per wavelength at f0 = 8 Hz), source 0.1 km from three
    // faces, 0.6 s; the large domain is 30 points wider on every side.
    let receivers = [
        [0.1, 0.1, 0.5],
        [0.04, 0.5, 0.5],
        [0.5, 0.5, 0.5],
        [0.3, 0.2, 0.1],
    ];
    let errors = cpml_errors(CpmlCase {
        ndim: 3,
        h: 0.02,
        f0: 8.0,
        dt: 2e-3,
        nt: 300,
        n_model: 31,
        extra: 30,
        source: [0.1, 0.1, 0.1],
        receivers: &receivers,
    });
    for (r, e) in errors.iter().enumerate() {
        eprintln!(
            "3D receiver {:?}: max |u - u_big| / peak = {e:.2e}",
            receivers[r]
        );
        assert!(*e < 0.01, "receiver {r}: {e}");
    }
}
