//! The GPU path without a GPU (feature `cuda`): every kernel in kernels/ compiles to PTX with
//! NVRTC (from the PyPI wheel `nvidia-cuda-nvrtc-cu12`, which scripts/setup.sh installs and
//! scripts/test.sh puts on LD_LIBRARY_PATH) for compute_90 and an older architecture, and a run
//! that asks for a GPU on a machine without a driver stops with a clear error (exit 2).
#![cfg(feature = "cuda")]

mod common;

use common::*;
use std::sync::Arc;

use geobayes::gpu::wave::WaveKernels;
use geobayes::gpu::{Gpu, GpuError, KERNELS, compile_ptx, probe};

/// The wave kernels compiled for this machine's GPU, or `None` with the reason printed (the
/// GPU tests skip without a device).
fn wave_kernels() -> Option<Arc<WaveKernels>> {
    match Gpu::open(None) {
        Ok(g) => Some(WaveKernels::compile(Arc::new(g)).expect("the wave kernels compile")),
        Err(e) => {
            println!("skipped: {e}");
            None
        }
    }
}

#[test]
fn every_kernel_compiles_to_ptx_for_two_architectures() {
    for arch in ["compute_90", "compute_75"] {
        for kernel in KERNELS {
            let ptx = match compile_ptx(kernel, arch) {
                Ok(p) => p.to_src(),
                Err(GpuError::NoNvrtc) => panic!(
                    "NVRTC is not loadable: run scripts/setup.sh (installs nvidia-cuda-nvrtc-cu12 into .venv) and scripts/test.sh (puts it on LD_LIBRARY_PATH)"
                ),
                Err(e) => panic!("{e}"),
            };
            for f in kernel.functions {
                assert!(
                    ptx.contains(&format!(".entry {f}(")),
                    "{} {arch}: no entry {f}",
                    kernel.file
                );
            }
            println!(
                "kernels/{} → PTX for {arch}: {} bytes",
                kernel.file,
                ptx.len()
            );
        }
    }
}

#[test]
fn asking_for_a_gpu_without_a_driver_is_a_clear_error() {
    if probe() != Err(GpuError::NoDriver) {
        println!("skipped: this machine has a CUDA driver (the GPU tests cover it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_in(
        dir.path(),
        &["configs/linear/G.npy", "configs/linear/data.txt"],
    );
    let config = write(
        dir.path(),
        "config.yaml",
        "problem: {kind: linear, matrix: {file: G.npy}, data: {file: data.txt}}\nprior: {kind: gaussian, mean: 0.0, std: 1.0}\nmethod: {kind: mh, n_chains: 2, iterations: 20, burn_in: 10}\noutput: {path: out.h5}\ngpu: {enabled: true}\n",
    );
    let out = geobayes().arg("run").arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("gpu.enabled: no CUDA driver found"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.path().join("out.h5").exists());
}

/// The GPU step against the CPU step (needs a GPU; skipped with the reason otherwise): a 3D
/// grid with its CPML, three different random fields stepped 40 times in one batch and one of
/// them alone: max |u_gpu − u_cpu| ≤ 1e-4 × max |u_cpu| (single precision on both, different
/// summation order), and the batch invariance of the GPU path (bit-identical alone or batched).
#[test]
fn wave_step_matches_the_cpu_path() {
    use geobayes::gpu::wave::WaveStep;
    use geobayes::physics::wave::{Propagator, SpaceOrder, WaveGrid, WaveState};
    use rand::{RngExt, SeedableRng};
    let Some(kernels) = wave_kernels() else {
        return;
    };
    let grid = WaveGrid::new(3, [30, 26, 34], 0.01, 10);
    let (dt, v) = (1e-3, 2.5);
    let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, 15.0);
    let w = vec![(dt * dt * v * v) as f32; grid.len()];
    let n = grid.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let interior = grid.extend(&vec![1.0f32; grid.n_model()]);
    let mut fields: Vec<WaveState<f32>> = (0..3)
        .map(|_| {
            let mut s = WaveState::<f32>::zeros(&grid);
            for i in 0..n {
                if interior[i] != 0.0 {
                    s.cur[i] = rng.random_range(-1.0..1.0);
                    s.prev[i] = rng.random_range(-1.0..1.0);
                }
            }
            s
        })
        .collect();
    let cat = |f: &[WaveState<f32>], pick: fn(&WaveState<f32>) -> &Vec<f32>| -> Vec<f32> {
        f.iter().flat_map(|s| pick(s).iter().copied()).collect()
    };
    let step = WaveStep::new(&kernels, prop.gpu_geometry(), 3, &w).unwrap();
    let mut dev = step.zero_fields().unwrap();
    step.upload(
        &mut dev,
        &cat(&fields, |s| &s.cur),
        &cat(&fields, |s| &s.prev),
    )
    .unwrap();
    let single = WaveStep::new(&kernels, prop.gpu_geometry(), 1, &w).unwrap();
    let mut alone = single.zero_fields().unwrap();
    single
        .upload(&mut alone, &fields[1].cur, &fields[1].prev)
        .unwrap();
    for _ in 0..40 {
        step.step(&mut dev).unwrap();
        single.step(&mut alone).unwrap();
        for f in fields.iter_mut() {
            prop.step(&w, f, None);
        }
    }
    let got = step.download_cur(&dev).unwrap();
    let got_alone = single.download_cur(&alone).unwrap();
    assert!(
        got_alone
            .iter()
            .zip(&got[n..2 * n])
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "batch invariance"
    );
    for (k, f) in fields.iter().enumerate() {
        let scale = f.cur.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let err = f
            .cur
            .iter()
            .zip(&got[k * n..(k + 1) * n])
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        println!(
            "field {k}: max |u_gpu - u_cpu| / max |u_cpu| = {:.2e}",
            err / scale
        );
        assert!(err <= 1e-4 * scale, "field {k}: {err} vs {scale}");
    }
}

/// The GPU adjoint step against the CPU's (needs a GPU; skipped otherwise): random adjoint
/// states (ψ̄, ζ̄ on their layers), 20 steps, max |ū_gpu − ū_cpu| ≤ 1e-4 × max |ū_cpu| and the
/// same for q = w ⊙ ū.
#[test]
fn wave_adjoint_step_matches_the_cpu_path() {
    use geobayes::gpu::wave::{HostFields, WaveStep};
    use geobayes::physics::wave::{AdjointWork, Propagator, SpaceOrder, WaveGrid, WaveState};
    use rand::{RngExt, SeedableRng};
    let Some(kernels) = wave_kernels() else {
        return;
    };
    for (ndim, shape) in [(3usize, [28usize, 24, 30]), (2, [60, 1, 70])] {
        let grid = WaveGrid::new(ndim, shape, 0.01, 10);
        let dt = 1e-3;
        let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, 15.0);
        let w = vec![(dt * dt * 6.25) as f32; grid.len()];
        let n = grid.len();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
        let on_grid = grid.extend(&vec![1.0f32; grid.n_model()]);
        let mut random = |mask: &dyn Fn(usize) -> bool| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    if on_grid[i] != 0.0 && mask(i) {
                        rng.random_range(-1.0..1.0)
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let st = grid.strides();
        let shape_p = grid.shape();
        let coord = |i: usize, d: usize| (i / st[d]) % grid.alloc_shape()[d] - grid.halo(d);
        let in_layer = |i: usize, d: usize| {
            let j = coord(i, d);
            j < grid.npml || j + grid.npml >= shape_p[d]
        };
        let mut cpu = WaveState::<f32>::zeros(&grid);
        cpu.cur = random(&|_| true);
        cpu.prev = random(&|_| true);
        for d in grid.axes().collect::<Vec<_>>() {
            cpu.psi[d] = random(&|i| in_layer(i, d));
            cpu.zeta[d] = random(&|i| in_layer(i, d));
        }
        let step = WaveStep::new(&kernels, prop.gpu_geometry(), 1, &w).unwrap();
        let mut dev = step.zero_fields().unwrap();
        let host = HostFields {
            cur: &cpu.cur,
            prev: &cpu.prev,
            psi: std::array::from_fn(|d| cpu.psi[d].as_slice()),
            zeta: std::array::from_fn(|d| cpu.zeta[d].as_slice()),
        };
        step.upload_all(&mut dev, &[host]).unwrap();
        let mut scratch = step.adjoint_scratch().unwrap();
        let mut work = AdjointWork::new(&grid);
        for _ in 0..20 {
            prop.step_adjoint(&w, &mut cpu, &mut work);
            step.step_adjoint(&mut dev, &mut scratch).unwrap();
        }
        let got = step.download_cur(&dev).unwrap();
        let scale = cpu.cur.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let err = cpu
            .cur
            .iter()
            .zip(&got)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        println!(
            "{ndim}D adjoint: max |u_gpu - u_cpu| / max |u_cpu| = {:.2e}",
            err / scale
        );
        assert!(err <= 1e-4 * scale, "{ndim}D: {err} vs {scale}");
    }
}

/// Shots through a smooth 2D or 3D model with its CPML: three off-grid sources, three shared
/// receivers, a Ricker wavelet.
struct ShotCase {
    solver: geobayes::physics::wave::WaveSolver<f32>,
    w: Vec<f32>,
    shots: Vec<geobayes::physics::wave::Shot>,
    points: geobayes::gpu::wave::ShotPoints,
    cell_volume: f64,
}

fn shot_case(ndim: usize, shape: [usize; 3]) -> ShotCase {
    use geobayes::gpu::wave::ShotPoints;
    use geobayes::physics::wave::wavelet::ricker;
    use geobayes::physics::wave::{Propagator, Shot, SpaceOrder, WaveGrid, WaveSolver};
    let grid = WaveGrid::new(ndim, shape, 0.02, 10);
    let (dt, nt, f0) = (2e-3, 150, 8.0);
    let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, f0);
    let solver = WaveSolver::new(prop, nt, ricker(f0, 1.0 / f0, dt, nt));
    let model: Vec<f64> = (0..grid.n_model())
        .map(|i| 2.0 + 0.3 * ((i as f64) * 0.01).sin())
        .collect();
    let w = solver.squared_slowness_weight(&grid.extend(&model));
    let y = |v: f64| if ndim == 3 { v } else { 0.0 };
    let receivers: Vec<Vec<(usize, f64)>> = [
        [0.05, y(0.1), 0.1],
        [0.3, y(0.2), 0.35],
        [0.11, y(0.33), 0.47],
    ]
    .iter()
    .map(|&p| grid.point_weights(p).unwrap())
    .collect();
    let shots: Vec<Shot> = [
        [0.04, y(0.05), 0.07],
        [0.2, y(0.21), 0.3],
        [0.13, y(0.3), 0.41],
    ]
    .iter()
    .map(|&p| Shot {
        source: grid.point_weights(p).unwrap(),
        receivers: receivers.clone(),
    })
    .collect();
    let points = ShotPoints {
        sources: shots.iter().map(|s| s.source.clone()).collect(),
        receivers,
    };
    ShotCase {
        cell_volume: grid.spacing.powi(ndim as i32),
        solver,
        w,
        shots,
        points,
    }
}

/// A batch of shots on the GPU against `WaveSolver::forward` of each shot on the CPU (needs a
/// GPU; skipped otherwise): 2D and 3D with CPML, three off-grid sources, shared receivers;
/// max |trace_gpu − trace_cpu| ≤ 1e-4 × max |trace_cpu|.
#[test]
fn shot_traces_match_the_cpu_path() {
    use geobayes::gpu::wave::WaveStep;
    let Some(kernels) = wave_kernels() else {
        return;
    };
    for (ndim, shape) in [(2usize, [50usize, 1, 60]), (3, [24, 22, 26])] {
        let c = shot_case(ndim, shape);
        let geometry = c.solver.prop.gpu_geometry();
        let step = WaveStep::new(&kernels, geometry, c.shots.len(), &c.w).unwrap();
        let got = step
            .forward_shots(&c.points, &c.solver.wavelet, c.cell_volume)
            .unwrap();
        let per_shot = got.len() / c.shots.len();
        for (k, shot) in c.shots.iter().enumerate() {
            let cpu = c.solver.forward(&c.w, shot);
            let err = relative_max_error(&got[k * per_shot..(k + 1) * per_shot], &cpu);
            println!("{ndim}D shot {k}: max |d_gpu - d_cpu| / max |d_cpu| = {err:.2e}");
            assert!(err <= 1e-4, "{ndim}D shot {k}: {err}");
        }
    }
}

/// The checkpointed adjoint of a batch of shots on the GPU against `WaveSolver::adjoint` per
/// shot on the CPU (needs a GPU; skipped otherwise): a random cotangent of the traces, interval
/// 7 (segments of unequal length), ∂L/∂w ≤ 1e-4 relative (max norm) per shot; the middle shot
/// alone gives the same bits as in the batch (batch invariance).
#[test]
fn shot_gradients_match_the_cpu_path() {
    use geobayes::gpu::wave::{ShotPoints, WaveStep};
    use rand::{RngExt, SeedableRng};
    let Some(kernels) = wave_kernels() else {
        return;
    };
    for (ndim, shape) in [(2usize, [50usize, 1, 60]), (3, [24, 22, 26])] {
        let c = shot_case(ndim, shape);
        let geometry = c.solver.prop.gpu_geometry();
        let n = geometry.len();
        let interval = 7;
        let step = WaveStep::new(&kernels, geometry.clone(), c.shots.len(), &c.w).unwrap();
        let (traces, tape) = step
            .forward_checkpointed(&c.points, &c.solver.wavelet, c.cell_volume, interval)
            .unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let cot: Vec<f64> = traces.iter().map(|_| rng.random_range(-1.0..1.0)).collect();
        let got = step.adjoint_shots(&tape, &cot).unwrap();
        let per_shot = cot.len() / c.shots.len();
        for (k, shot) in c.shots.iter().enumerate() {
            let (_, checkpoints) = c.solver.forward_with_checkpoints(&c.w, shot, interval);
            let cot_k = &cot[k * per_shot..(k + 1) * per_shot];
            let (cpu, _) = c.solver.adjoint(&c.w, shot, cot_k, &checkpoints, interval);
            let err = relative_max_error(&got[k * n..(k + 1) * n], &cpu);
            println!("{ndim}D shot {k}: max |g_gpu - g_cpu| / max |g_cpu| = {err:.2e}");
            assert!(err <= 1e-4, "{ndim}D shot {k}: {err}");
        }
        let alone = WaveStep::new(&kernels, geometry, 1, &c.w).unwrap();
        let one = ShotPoints {
            sources: vec![c.points.sources[1].clone()],
            receivers: c.points.receivers.clone(),
        };
        let (_, tape) = alone
            .forward_checkpointed(&one, &c.solver.wavelet, c.cell_volume, interval)
            .unwrap();
        let g1 = alone
            .adjoint_shots(&tape, &cot[per_shot..2 * per_shot])
            .unwrap();
        assert!(
            g1.iter()
                .zip(&got[n..2 * n])
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{ndim}D: batch invariance of the gradient"
        );
    }
}

/// The FWI forward model with its shots on the GPU against the CPU path on the small 2D problem
/// of configs/fwi_small_svgd.yaml (needs a GPU; skipped otherwise): data ≤ 1e-4 relative, and
/// the gradient of ½‖d − d_obs‖² ≤ 1e-4 relative, and with half the shots (a mini-batch).
#[test]
fn fwi_on_the_gpu_matches_the_cpu_path() {
    use geobayes::core::config::{Mode, load};
    use geobayes::gpu::{Device, Family};
    use geobayes::inference::validate;
    use geobayes::posterior::build_forward_model;
    let device = match Device::open(None, &[Family::Wave]) {
        Ok(d) => d,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let path = repo().join("configs/fwi_small_svgd.yaml");
    let (raw, text) = load(&path, &[]).unwrap();
    let spec = validate(&raw, &path, &text, Mode::Run).unwrap();
    let cpu = build_forward_model(&spec.problem, None);
    let gpu = build_forward_model(&spec.problem, Some(&device));
    let m = ndarray::Array1::from_elem(cpu.n_params(), 2.2)
        + ndarray::Array1::linspace(0.0, 0.3, cpu.n_params());
    let observed = spec.problem.data().observed.clone().unwrap();
    let groups = cpu.data_groups();
    let half: Vec<bool> = (0..groups.len()).map(|g| g % 2 == 0).collect();
    for active in [vec![true; groups.len()], half] {
        let run = |f: &dyn geobayes::physics::ForwardModel| {
            let lin = f.linearize_groups(m.view(), &active).unwrap();
            let d = lin.data().to_owned();
            let mut cot = ndarray::Array1::zeros(d.len());
            for (g, range) in groups.iter().enumerate() {
                if active[g] {
                    for i in range.clone() {
                        cot[i] = d[i] - observed[i];
                    }
                }
            }
            let mut grad = ndarray::Array1::zeros(m.len());
            lin.vjp_into(cot.view(), grad.view_mut());
            let on: Vec<f64> = groups
                .iter()
                .enumerate()
                .filter(|(g, _)| active[*g])
                .flat_map(|(_, r)| d.slice(ndarray::s![r.clone()]).to_vec())
                .collect();
            (on, grad.to_vec())
        };
        let (d_cpu, g_cpu) = run(cpu.as_ref());
        let (d_gpu, g_gpu) = run(gpu.as_ref());
        let (ed, eg) = (
            relative_max_error(&d_gpu, &d_cpu),
            relative_max_error(&g_gpu, &g_cpu),
        );
        println!(
            "FWI {} shots on the GPU: data {ed:.2e}, gradient {eg:.2e} (relative max error)",
            active.iter().filter(|a| **a).count()
        );
        assert!(ed <= 1e-4 && eg <= 1e-4, "data {ed}, gradient {eg}");
    }
}

/// A config's forward model with its physics on the GPU against the CPU path (needs a GPU;
/// skipped otherwise): data and the gradient of ½‖d − d_obs‖² for a block of 12 prior draws,
/// one device batch for the block, member by member: max |d_gpu − d_cpu| ≤ `data_tolerance`
/// (in the data's units, or relative to max |d_cpu| with `relative_data`) and the gradient ≤
/// `gradient_tolerance` relative (max norm).
fn block_matches_the_cpu_path(
    config: &str,
    family: geobayes::gpu::Family,
    (data_tolerance, relative_data): (f64, bool),
    gradient_tolerance: f64,
) {
    use geobayes::core::config::spec::InitSpec;
    use geobayes::core::config::{Mode, load};
    use geobayes::core::parallel::Par;
    use geobayes::gpu::Device;
    use geobayes::inference::validate;
    use geobayes::posterior::{Posterior, build_forward_model};
    let device = match Device::open(None, &[family]) {
        Ok(d) => d,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let path = repo().join(config);
    let (raw, text) = load(&path, &[]).unwrap();
    let spec = validate(&raw, &path, &text, Mode::Run).unwrap();
    let posterior = Posterior::from_spec(&spec).unwrap();
    let z = posterior.initial_members(&InitSpec::Prior, 7, 12);
    let m = posterior.to_physical(z.view());
    let observed = spec.problem.data().observed.clone().unwrap();
    let cpu = build_forward_model(&spec.problem, None);
    let gpu = build_forward_model(&spec.problem, Some(&device));
    let misfit = |d: ndarray::ArrayView1<f64>, mut c: ndarray::ArrayViewMut1<f64>| {
        for i in 0..d.len() {
            c[i] = if d[i].is_finite() {
                d[i] - observed[i]
            } else {
                0.0
            };
        }
    };
    let run = |f: &dyn geobayes::physics::ForwardModel| {
        let mut d = ndarray::Array2::zeros((m.nrows(), f.n_data()));
        let mut g = ndarray::Array2::zeros(m.dim());
        let ok = f.value_and_vjp_batch(m.view(), &misfit, d.view_mut(), g.view_mut(), Par::Rayon);
        (ok, d, g)
    };
    let (ok_cpu, d_cpu, g_cpu) = run(cpu.as_ref());
    let (ok_gpu, d_gpu, g_gpu) = run(gpu.as_ref());
    for i in 0..m.nrows() {
        assert_eq!(ok_cpu[i].is_ok(), ok_gpu[i].is_ok(), "{config} member {i}");
        if ok_cpu[i].is_err() {
            continue;
        }
        let dd = d_cpu
            .row(i)
            .iter()
            .zip(d_gpu.row(i))
            .filter(|(a, _)| a.is_finite())
            .fold(0.0f64, |e, (a, b)| e.max((a - b).abs()));
        let scale = if relative_data {
            d_cpu.row(i).iter().fold(0.0f64, |s, v| s.max(v.abs()))
        } else {
            1.0
        };
        let dd = dd / scale;
        let dg = relative_max_error(
            g_gpu.row(i).as_slice().unwrap(),
            g_cpu.row(i).as_slice().unwrap(),
        );
        println!("{config} member {i}: max |d_gpu - d_cpu| = {dd:.2e}, gradient {dg:.2e} relative");
        assert!(
            dd <= data_tolerance && dg <= gradient_tolerance,
            "{config} member {i}: data {dd}, gradient {dg}"
        );
    }
}

/// B5's curves on the GPU: ≤ 1e-5 km/s, gradients ≤ 1e-5 relative (the bounds).
#[test]
fn b5_dispersion_on_the_gpu_matches_the_cpu_path() {
    use geobayes::gpu::Family;
    block_matches_the_cpu_path(
        "configs/b5_svgd.yaml",
        Family::Dispersion,
        (1e-5, false),
        1e-5,
    );
}

/// B1 (2D) and the 3D tomography's travel times on the GPU: times and gradients ≤ 1e-5
/// relative (the bounds).
#[test]
fn travel_times_on_the_gpu_match_the_cpu_path() {
    use geobayes::gpu::Family;
    for config in ["configs/b1_svgd.yaml", "configs/tomo3d_svgd.yaml"] {
        block_matches_the_cpu_path(config, Family::TravelTime, (1e-5, true), 1e-5);
    }
}
