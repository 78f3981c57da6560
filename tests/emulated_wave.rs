//! The wave kernels of kernels/ without a GPU: wave_step.cu, wave_step_adjoint.cu and
//! wave_modelling.cu compiled as C++ and run on the CPU (tests/emulation/wave_driver.cpp, which
//! launches them in the order of src/gpu/wave.rs and src/gpu/wave/shots.rs), against the CPU
//! propagator. Both sides compute in f32 with different summation orders (the CPU's row kernels
//! are vectorised), so agreement is to single-precision round-off grown over the steps; the
//! bound is the GPU tests' 1e-4 relative (max norm).
#![cfg(feature = "cuda")]

mod common;

use std::fmt::Write as _;

use common::*;
use geobayes::physics::wave::wavelet::ricker;
use geobayes::physics::wave::{
    AdjointWork, Propagator, Shot, SpaceOrder, WaveGrid, WaveSolver, WaveState,
};
use rand::{RngExt, SeedableRng};

const FILES: [&str; 3] = ["wave_step.cu", "wave_step_adjoint.cu", "wave_modelling.cu"];

fn numbers(out: &mut String, values: impl IntoIterator<Item = f64>) {
    for v in values {
        let _ = write!(out, "{v:e} ");
    }
    out.push('\n');
}

/// The driver's header: the geometry, the stencil, the CPML coefficients and w.
fn header(prop: &Propagator<f32>, w: &[f32]) -> String {
    let g = prop.gpu_geometry();
    let mut s = String::new();
    let ints = [
        g.shape[0],
        g.shape[1],
        g.shape[2],
        g.halo[0],
        g.halo[1],
        g.halo[2],
        g.strides[0],
        g.strides[1],
        g.npml,
        g.ndim,
        g.len(),
    ];
    numbers(&mut s, ints.iter().map(|&v| v as f64));
    numbers(&mut s, g.c1.iter().map(|&v| v as f64));
    numbers(&mut s, g.c2.iter().map(|&v| v as f64));
    for d in 0..3 {
        let (a, b) = if g.a[d].is_empty() {
            (vec![0.0f32], vec![0.0f32])
        } else {
            (g.a[d].clone(), g.b[d].clone())
        };
        numbers(&mut s, [a.len() as f64]);
        numbers(&mut s, a.iter().map(|&v| v as f64));
        numbers(&mut s, b.iter().map(|&v| v as f64));
    }
    numbers(&mut s, w.iter().map(|&v| v as f64));
    s
}

fn parse(out: &str) -> Vec<f64> {
    out.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

fn case(ndim: usize) -> (WaveGrid, Propagator<f32>, Vec<f32>) {
    let shape = if ndim == 3 { [14, 12, 16] } else { [30, 1, 36] };
    let grid = WaveGrid::new(ndim, shape, 0.02, 6);
    let dt = 2e-3;
    let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, 8.0);
    let model: Vec<f64> = (0..grid.n_model())
        .map(|i| 2.0 + 0.3 * ((i as f64) * 0.05).sin())
        .collect();
    let w: Vec<f32> = grid
        .extend(&model)
        .iter()
        .map(|v| (dt * dt * v * v) as f32)
        .collect();
    (grid, prop, w)
}

/// Random values on the grid points where `mask` holds (zero in the halo).
fn random_field(
    grid: &WaveGrid,
    rng: &mut impl rand::Rng,
    mask: &dyn Fn(usize) -> bool,
) -> Vec<f32> {
    let on_grid = grid.extend(&vec![1.0f32; grid.n_model()]);
    (0..grid.len())
        .map(|i| {
            if on_grid[i] != 0.0 && mask(i) {
                rng.random_range(-1.0..1.0)
            } else {
                0.0
            }
        })
        .collect()
}

fn as_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[test]
fn emulated_wave_step_matches_the_cpu_step() {
    for ndim in [2, 3] {
        let (grid, prop, w) = case(ndim);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut state = WaveState::<f32>::zeros(&grid);
        state.cur = random_field(&grid, &mut rng, &|_| true);
        state.prev = random_field(&grid, &mut rng, &|_| true);
        let steps = 15;
        let mut input = header(&prop, &w);
        numbers(&mut input, [0.0, steps as f64]);
        numbers(&mut input, as_f64(&state.cur));
        numbers(&mut input, as_f64(&state.prev));
        let got = parse(&run_kernels_on_host(&FILES, "wave_driver.cpp", &input));
        for _ in 0..steps {
            prop.step(&w, &mut state, None);
        }
        let err = relative_max_error(&got, &as_f64(&state.cur));
        println!("{ndim}D step (emulated kernels): relative max error {err:.2e}");
        assert!(err <= 1e-4, "{ndim}D: {err}");
    }
}

#[test]
fn emulated_wave_adjoint_step_matches_the_cpu_adjoint() {
    for ndim in [2, 3] {
        let (grid, prop, w) = case(ndim);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let st = grid.strides();
        let coord = |i: usize, d: usize| (i / st[d]) % grid.alloc_shape()[d] - grid.halo(d);
        let shape = grid.shape();
        let in_layer = |i: usize, d: usize| {
            let j = coord(i, d);
            j < grid.npml || j + grid.npml >= shape[d]
        };
        let mut state = WaveState::<f32>::zeros(&grid);
        state.cur = random_field(&grid, &mut rng, &|_| true);
        state.prev = random_field(&grid, &mut rng, &|_| true);
        for d in grid.axes().collect::<Vec<_>>() {
            state.psi[d] = random_field(&grid, &mut rng, &|i| in_layer(i, d));
            state.zeta[d] = random_field(&grid, &mut rng, &|i| in_layer(i, d));
        }
        let steps = 10;
        let mut input = header(&prop, &w);
        numbers(&mut input, [1.0, steps as f64]);
        numbers(&mut input, as_f64(&state.cur));
        numbers(&mut input, as_f64(&state.prev));
        let zeros = vec![0.0f32; grid.len()];
        for d in 0..3 {
            let v = if state.psi[d].is_empty() {
                &zeros
            } else {
                &state.psi[d]
            };
            numbers(&mut input, as_f64(v));
        }
        for d in 0..3 {
            let v = if state.zeta[d].is_empty() {
                &zeros
            } else {
                &state.zeta[d]
            };
            numbers(&mut input, as_f64(v));
        }
        let got = parse(&run_kernels_on_host(&FILES, "wave_driver.cpp", &input));
        let mut work = AdjointWork::new(&grid);
        for _ in 0..steps {
            prop.step_adjoint(&w, &mut state, &mut work);
        }
        let err = relative_max_error(&got, &as_f64(&state.cur));
        println!("{ndim}D adjoint step (emulated kernels): relative max error {err:.2e}");
        assert!(err <= 1e-4, "{ndim}D: {err}");
    }
}

/// A shot's traces and its gradient ∂L/∂w for a random cotangent: the shot kernels (inject with
/// the bracket, record, the receivers' transpose as a gather, the gradient accumulation) against
/// `WaveSolver::forward` and `WaveSolver::adjoint`.
#[test]
fn emulated_shot_traces_and_gradient_match_the_cpu_solver() {
    for ndim in [2, 3] {
        let (grid, prop, w) = case(ndim);
        let (nt, f0, dt) = (60, 8.0, prop.dt);
        let solver = WaveSolver::new(prop.clone(), nt, ricker(f0, 1.0 / f0, dt, nt));
        let y = |v: f64| if ndim == 3 { v } else { 0.0 };
        // Two receivers close enough to share grid points (the gather's reason to exist).
        let receivers: Vec<Vec<(usize, f64)>> = [
            [0.05, y(0.1), 0.1],
            [0.06, y(0.11), 0.11],
            [0.2, y(0.15), 0.25],
        ]
        .iter()
        .map(|&p| grid.point_weights(p).unwrap())
        .collect();
        let shot = Shot {
            source: grid.point_weights([0.13, y(0.09), 0.17]).unwrap(),
            receivers: receivers.clone(),
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let cot: Vec<f64> = (0..receivers.len() * nt)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let mut input = header(&prop, &w);
        numbers(&mut input, [2.0, nt as f64]);
        numbers(&mut input, solver.wavelet.iter().copied());
        numbers(&mut input, [grid.spacing.powi(ndim as i32)]);
        let mut points = |p: &[(usize, f64)]| {
            numbers(&mut input, [p.len() as f64]);
            numbers(&mut input, p.iter().flat_map(|&(i, w)| [i as f64, w]));
        };
        points(&shot.source);
        let mut tail = String::new();
        numbers(&mut tail, [receivers.len() as f64]);
        input.push_str(&tail);
        for r in &receivers {
            numbers(&mut input, [r.len() as f64]);
            numbers(&mut input, r.iter().flat_map(|&(i, w)| [i as f64, w]));
        }
        numbers(&mut input, cot.iter().copied());
        let got = parse(&run_kernels_on_host(&FILES, "wave_driver.cpp", &input));
        let (traces, grad) = got.split_at(receivers.len() * nt);
        let (cpu_traces, checkpoints) = solver.forward_with_checkpoints(&w, &shot, nt);
        let (cpu_grad, _) = solver.adjoint(&w, &shot, &cot, &checkpoints, nt);
        let (et, eg) = (
            relative_max_error(traces, &cpu_traces),
            relative_max_error(grad, &cpu_grad),
        );
        println!("{ndim}D shot (emulated kernels): traces {et:.2e}, gradient {eg:.2e}");
        assert!(
            et <= 1e-4 && eg <= 1e-4,
            "{ndim}D: traces {et}, gradient {eg}"
        );
    }
}
