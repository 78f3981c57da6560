//! `geobayes bench gpu` (feature `cuda`, needs a GPU): the kernels' throughput on this device
//! against its own measured copy bandwidth and against the CPU path on all cores of this
//! machine, one table (ms per step or per batch, Gpts/s = grid points × fields × steps per
//! second; the FWI gradient counts three propagations: forward, recomputation, adjoint).
//!
//! The bytes-per-point model of the order-8 wave step (f32): the leapfrog reads u once (its 24
//! neighbours from cache), reads w and reads and writes uⁿ⁻¹: 16 B per point and field. The
//! CPML passes add theirs on the layer points only; they are left out of the model but not of
//! the time, so the GB/s reported is a lower bound of the traffic achieved.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use crate::core::error::{Error, Result};
use crate::gpu::Gpu;
use crate::gpu::wave::{WaveKernels, WaveStep};
use crate::physics::wave::{Propagator, SpaceOrder, WaveGrid, WaveState};

fn gpu_error(e: crate::gpu::GpuError) -> Error {
    Error::Usage(format!("bench gpu: {e}"))
}

/// GB/s of a device-to-device copy of 1 GiB (read + write counted).
fn copy_bandwidth(gpu: &Gpu) -> Result<f64> {
    let n = 1usize << 28;
    let s = &gpu.stream;
    let src = s
        .alloc_zeros::<f32>(n)
        .map_err(|e| Error::Run(e.to_string()))?;
    let mut dst = s
        .alloc_zeros::<f32>(n)
        .map_err(|e| Error::Run(e.to_string()))?;
    s.memcpy_dtod(&src, &mut dst)
        .map_err(|e| Error::Run(e.to_string()))?;
    s.synchronize().map_err(|e| Error::Run(e.to_string()))?;
    let reps = 10;
    let t = Instant::now();
    for _ in 0..reps {
        s.memcpy_dtod(&src, &mut dst)
            .map_err(|e| Error::Run(e.to_string()))?;
    }
    s.synchronize().map_err(|e| Error::Run(e.to_string()))?;
    Ok(2.0 * 4.0 * n as f64 * reps as f64 / t.elapsed().as_secs_f64() / 1e9)
}

/// One row of the table: a kernel (sequence) timed on the device and the CPU path on the same
/// work; `bytes_per_point` where a bandwidth model applies.
struct Row {
    label: String,
    batch: usize,
    seconds: f64,
    /// What is counted per second: grid points (× fields × steps) or solves.
    points: f64,
    unit: Unit,
    bytes_per_point: Option<f64>,
    cpu_seconds: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    /// Grid-point updates, reported in Gpts/s.
    GridPoints,
    /// Independent solves (a curve, a travel-time field), reported per second.
    Solves,
}

fn timed<T>(mut f: impl FnMut() -> Result<T>) -> Result<(T, f64)> {
    let t = Instant::now();
    let value = f()?;
    Ok((value, t.elapsed().as_secs_f64()))
}

/// The order-8 step (3D and 2D with their CPML, and the 3D stencil alone: no CPML) and its
/// adjoint, per step.
fn wave_steps(kernels: &Arc<WaveKernels>, steps: usize, rows: &mut Vec<Row>) -> Result<()> {
    for (ndim, n, batch, npml) in [
        (3usize, 400usize, 1usize, 0usize),
        (3, 200, 1, 20),
        (3, 200, 4, 20),
        (2, 1000, 16, 20),
    ] {
        let shape = if ndim == 3 { [n; 3] } else { [n, 1, n] };
        let grid = WaveGrid::new(ndim, shape, 0.01, npml);
        let dt = 0.4 * 0.01 / 3.0;
        let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, 10.0);
        let w = vec![(dt * dt * 9.0) as f32; grid.len()];
        let step = WaveStep::new(kernels, prop.gpu_geometry(), batch, &w).map_err(gpu_error)?;
        let mut fields = step.zero_fields().map_err(gpu_error)?;
        let mut scratch = step.adjoint_scratch().map_err(gpu_error)?;
        let points = (grid.n_points() * batch) as f64;
        let size = if ndim == 3 {
            format!("{n}^3")
        } else {
            format!("{n}^2")
        };
        for adjoint in [false, true] {
            let mut advance = || -> Result<()> {
                if adjoint {
                    step.step_adjoint(&mut fields, &mut scratch)
                } else {
                    step.step(&mut fields)
                }
                .map_err(gpu_error)
            };
            advance()?;
            step.synchronize().map_err(gpu_error)?;
            let ((), secs) = timed(|| {
                for _ in 0..steps {
                    advance()?;
                }
                step.synchronize().map_err(gpu_error)
            })?;
            // The CPU path on every core of this machine, the batch one field after another.
            let mut state = WaveState::<f32>::zeros(&grid);
            let mut work = crate::physics::wave::AdjointWork::new(&grid);
            let cpu_steps = steps.clamp(1, 5);
            let ((), cpu) = timed(|| {
                for _ in 0..cpu_steps {
                    if adjoint {
                        prop.step_adjoint(&w, &mut state, &mut work);
                    } else {
                        prop.step(&w, &mut state, None);
                    }
                }
                Ok(())
            })?;
            rows.push(Row {
                label: format!(
                    "wave_{} {ndim}D {size}{}",
                    if adjoint { "adjoint" } else { "step" },
                    if npml > 0 { "+CPML" } else { " stencil" }
                ),
                batch,
                seconds: secs / steps as f64,
                points,
                unit: Unit::GridPoints,
                bytes_per_point: (!adjoint).then_some(16.0),
                cpu_seconds: cpu / cpu_steps as f64 * batch as f64,
            });
        }
    }
    Ok(())
}

/// A batch of FWI shots: forward with checkpoints and the adjoint (the gradient), per batch.
fn shot_gradient(kernels: &Arc<WaveKernels>, rows: &mut Vec<Row>) -> Result<()> {
    use crate::gpu::wave::ShotPoints;
    use crate::physics::wave::{Shot, WaveSolver, wavelet::ricker};
    let (n, shots, nt, f0) = (400usize, 8usize, 400usize, 10.0);
    let grid = WaveGrid::new(2, [n, 1, n], 0.01, 20);
    let dt = 0.4 * 0.01 / 3.0;
    let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, f0);
    let solver = WaveSolver::new(prop.clone(), nt, ricker(f0, 1.0 / f0, dt, nt));
    let w = vec![(dt * dt * 4.0) as f32; grid.len()];
    let extent = (n - 1) as f64 * 0.01;
    let receivers: Vec<Vec<(usize, f64)>> = (0..100)
        .map(|r| {
            grid.point_weights([0.02, 0.0, extent * r as f64 / 99.0])
                .expect("inside")
        })
        .collect();
    let sources: Vec<Vec<(usize, f64)>> = (0..shots)
        .map(|s| {
            grid.point_weights([0.02, 0.0, extent * (s as f64 + 0.5) / shots as f64])
                .expect("inside")
        })
        .collect();
    let points = ShotPoints {
        sources: sources.clone(),
        receivers: receivers.clone(),
    };
    let interval = solver.default_interval();
    let step = WaveStep::new(kernels, prop.gpu_geometry(), shots, &w).map_err(gpu_error)?;
    let cell = 0.01f64.powi(2);
    let cot = vec![1e-3; shots * receivers.len() * nt];
    let gradient = || -> Result<Vec<f64>> {
        let (_, tape) = step
            .forward_checkpointed(&points, &solver.wavelet, cell, interval)
            .map_err(gpu_error)?;
        step.adjoint_shots(&tape, &cot).map_err(gpu_error)
    };
    gradient()?;
    let (_, secs) = timed(gradient)?;
    let shot = Shot {
        source: sources[0].clone(),
        receivers,
    };
    let per_shot = shot.receivers.len() * nt;
    let ((), cpu) = timed(|| {
        use rayon::prelude::*;
        (0..shots).into_par_iter().for_each(|_| {
            let (_, checkpoints) = solver.forward_with_checkpoints(&w, &shot, interval);
            solver.adjoint(&w, &shot, &cot[..per_shot], &checkpoints, interval);
        });
        Ok(())
    })?;
    rows.push(Row {
        label: format!("FWI gradient 2D {n}^2 nt {nt}"),
        batch: shots,
        seconds: secs,
        points: (grid.n_points() * shots * (nt - 1) * 3) as f64,
        unit: Unit::GridPoints,
        bytes_per_point: None,
        cpu_seconds: cpu,
    });
    Ok(())
}

/// Dispersion curves of a block of members (B5-like five-layer models): phase and group
/// velocities of the fundamental Rayleigh and Love modes at 30 periods with their gradients.
fn dispersion(gpu: &Arc<Gpu>, rows: &mut Vec<Row>) -> Result<()> {
    use crate::gpu::dispersion::{DispersionKernels, LOVE, RAYLEIGH, Want};
    use crate::physics::dispersion::{
        LayeredModel, Wave, group_velocity_gradient, phase_velocity_gradient,
    };
    let kernels = DispersionKernels::compile(gpu.clone()).map_err(gpu_error)?;
    let members = 512usize;
    let models: Vec<LayeredModel> = (0..members)
        .map(|m| {
            let s = 1.0 + 0.1 * (m as f64 * 0.37).sin();
            let vs = vec![0.4 * s, 0.5 * s, 0.65 * s, 0.55 * s, 1.0];
            let vp = vs.iter().map(|v| 1.16 * v + 1.36).collect();
            LayeredModel::new(vec![0.1, 0.1, 0.1, 0.1, 0.0], vp, vs, vec![2.0; 5])
                .map_err(|e| Error::Run(e.to_string()))
        })
        .collect::<Result<_>>()?;
    let periods: Vec<f64> = (0..30).map(|k| 0.1 * 1.1f64.powi(k)).collect();
    let queries: Vec<(u8, f64, u32)> = [RAYLEIGH, LOVE]
        .iter()
        .flat_map(|&w| periods.iter().map(move |&p| (w, p, 0)))
        .collect();
    let flat: Vec<f64> = models
        .iter()
        .flat_map(|m| m.rows::<f64>().into_iter().flatten())
        .collect();
    let want = Want {
        group: false,
        phase_gradient: true,
        group_gradient: true,
    };
    kernels
        .curves(&flat, 5, &queries, want)
        .map_err(gpu_error)?;
    let (_, secs) = timed(|| kernels.curves(&flat, 5, &queries, want).map_err(gpu_error))?;
    let ((), cpu) = timed(|| {
        use rayon::prelude::*;
        models.par_iter().for_each(|m| {
            for &(w, p, mode) in &queries {
                let wave = if w == LOVE {
                    Wave::Love
                } else {
                    Wave::Rayleigh
                };
                phase_velocity_gradient(m, wave, p, mode as usize);
                group_velocity_gradient(m, wave, p, mode as usize);
            }
        });
        Ok(())
    })?;
    rows.push(Row {
        label: "dispersion c, U + gradients".into(),
        batch: members,
        seconds: secs,
        points: (members * queries.len()) as f64,
        unit: Unit::Solves,
        bytes_per_point: None,
        cpu_seconds: cpu,
    });
    Ok(())
}

/// Travel times of a block of members through the B1-like 2D model's forward grid (101²): one
/// source per member, the solve and its gradient, against the CPU's fast marching and adjoint.
fn travel_times(gpu: &Arc<Gpu>, rows: &mut Vec<Row>) -> Result<()> {
    use crate::gpu::traveltime::{EikonalGrid, PairSource, TravelTimeKernels};
    use crate::physics::eikonal::adjoint::adjoint_into;
    use crate::physics::eikonal::{Cartesian, FmmWorkspace, Mesh, PointSource};
    let kernels = TravelTimeKernels::compile(gpu.clone()).map_err(gpu_error)?;
    let (members, n) = (64usize, 101usize);
    let mesh = Mesh::new([-5.0, -5.0], [0.1, 0.1], [n, n]);
    let geometry = Cartesian::new(mesh);
    let slowness: Vec<Vec<f64>> = (0..members)
        .map(|m| {
            (0..mesh.n_nodes())
                .map(|i| {
                    let [x, y] = mesh.position(i);
                    1.0 / (3.0 + 0.3 * (x * 0.7 + m as f64 * 0.1).sin() * (y * 0.5).cos())
                })
                .collect()
        })
        .collect();
    let sources: Vec<PointSource<2>> = (0..members)
        .map(|m| {
            let position = [-3.03 + 0.09 * m as f64, 1.17];
            let cell = mesh.stencil(position);
            PointSource {
                position,
                slowness: cell.apply(&slowness[m]),
            }
        })
        .collect();
    let grid = EikonalGrid {
        ndim: 2,
        shape: [n, n, 1],
        spacing: [0.1, 0.1, 1.0],
        origin: [-5.0, -5.0, 0.0],
    };
    let pairs: Vec<PairSource> = sources
        .iter()
        .enumerate()
        .map(|(member, s)| PairSource {
            member,
            position: [s.position[0], s.position[1], 0.0],
            slowness: s.slowness,
        })
        .collect();
    let flat: Vec<f64> = slowness.concat();
    let tau_bar = vec![1e-3; members * mesh.n_nodes()];
    let sweeps = 20 * n + 100;
    let solve_and_gradient = || -> Result<()> {
        let solution = kernels
            .solve(&grid, &flat, &pairs, sweeps)
            .map_err(gpu_error)?;
        kernels
            .gradient(&solution, &tau_bar, sweeps)
            .map_err(gpu_error)?;
        Ok(())
    };
    solve_and_gradient()?;
    let ((), secs) = timed(solve_and_gradient)?;
    let ((), cpu) = timed(|| {
        use rayon::prelude::*;
        (0..members).into_par_iter().for_each(|m| {
            let mut ws = FmmWorkspace::new(&mesh);
            if ws.solve(&geometry, &slowness[m], &sources[m]).is_ok() {
                let mut bar = vec![1e-3; mesh.n_nodes()];
                let mut grad = vec![0.0; mesh.n_nodes()];
                adjoint_into(
                    &geometry,
                    &slowness[m],
                    &sources[m],
                    &ws,
                    &mut bar,
                    &mut grad,
                );
            }
        });
        Ok(())
    })?;
    rows.push(Row {
        label: format!("travel time + gradient 2D {n}^2"),
        batch: members,
        seconds: secs,
        points: members as f64,
        unit: Unit::Solves,
        bytes_per_point: None,
        cpu_seconds: cpu,
    });
    Ok(())
}

pub fn gpu(steps: usize) -> Result<String> {
    let gpu = Arc::new(Gpu::open(None).map_err(gpu_error)?);
    let copy = copy_bandwidth(&gpu)?;
    let kernels = WaveKernels::compile(gpu.clone()).map_err(gpu_error)?;
    let mut rows = Vec::new();
    wave_steps(&kernels, steps, &mut rows)?;
    shot_gradient(&kernels, &mut rows)?;
    dispersion(&gpu, &mut rows)?;
    travel_times(&gpu, &mut rows)?;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "device {} ({}): copy bandwidth {copy:.0} GB/s; CPU path: {} threads",
        gpu.ordinal,
        gpu.name,
        rayon::current_num_threads()
    );
    let _ = writeln!(
        report,
        "{:<34} {:>6} {:>10} {:>13} {:>8} {:>8} {:>9}",
        "kernel", "batch", "ms", "rate", "GB/s", "of copy", "vs CPU"
    );
    for r in &rows {
        let rate = match r.unit {
            Unit::GridPoints => format!("{:.2} Gpts/s", r.points / r.seconds / 1e9),
            Unit::Solves => format!("{:.3e}/s", r.points / r.seconds),
        };
        let (gbs, share) = match r.bytes_per_point {
            Some(b) => {
                let gbs = b * r.points / r.seconds / 1e9;
                (format!("{gbs:.0}"), format!("{:.0}%", 100.0 * gbs / copy))
            }
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            report,
            "{:<34} {:>6} {:>10.3} {rate:>13} {gbs:>8} {share:>8} {:>8.1}x",
            r.label,
            r.batch,
            r.seconds * 1e3,
            r.cpu_seconds / r.seconds
        );
    }
    Ok(report)
}
