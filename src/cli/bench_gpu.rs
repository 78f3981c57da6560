//! `geobayes bench gpu` (feature `cuda`, needs a GPU): the kernels' throughput on this device
//! against its own measured copy bandwidth and against the CPU path on all cores of this
//! machine, one table. The bytes-per-point model of the order-8 wave step (f32): the leapfrog
//! reads u once (neighbours from cache), reads w (shared by a batch, so not counted) and reads
//! and writes uⁿ⁻¹: 12 B per point; the CPML passes add theirs on the layer points only (left
//! out: the model is the bulk stencil's).

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

pub fn gpu(steps: usize) -> Result<String> {
    let gpu = Arc::new(Gpu::open(None).map_err(gpu_error)?);
    let copy = copy_bandwidth(&gpu)?;
    let kernels = WaveKernels::compile(gpu.clone()).map_err(gpu_error)?;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "device {} ({}): copy bandwidth {copy:.0} GB/s",
        gpu.ordinal, gpu.name
    );
    let _ = writeln!(
        report,
        "{:<28} {:>6} {:>10} {:>8} {:>8} {:>9} {:>10}",
        "kernel", "batch", "ms/step", "Gpts/s", "GB/s", "of copy", "vs CPU"
    );
    for (label, ndim, n, batch) in [
        ("wave_step 3D 200^3+CPML", 3usize, 200usize, 1usize),
        ("wave_step 3D 200^3+CPML", 3, 200, 4),
        ("wave_step 2D 1000^2+CPML", 2, 1000, 16),
    ] {
        let shape = if ndim == 3 { [n; 3] } else { [n, 1, n] };
        let grid = WaveGrid::new(ndim, shape, 0.01, 20);
        let dt = 0.4 * 0.01 / 3.0;
        let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 3.0, 10.0);
        let w = vec![(dt * dt * 9.0) as f32; grid.len()];
        let step = WaveStep::new(&kernels, prop.gpu_geometry(), batch, &w).map_err(gpu_error)?;
        let mut fields = step.zero_fields().map_err(gpu_error)?;
        step.step(&mut fields).map_err(gpu_error)?;
        step.synchronize().map_err(gpu_error)?;
        let t = Instant::now();
        for _ in 0..steps {
            step.step(&mut fields).map_err(gpu_error)?;
        }
        step.synchronize().map_err(gpu_error)?;
        let secs = t.elapsed().as_secs_f64() / steps as f64;
        let points = (grid.n_points() * batch) as f64;
        let gpts = points / secs / 1e9;
        let gbs = 12.0 * points / secs / 1e9;
        // The CPU path on every core of this machine, the same batch one field after another.
        let mut state = WaveState::<f32>::zeros(&grid);
        prop.step(&w, &mut state, None);
        let cpu_steps = steps.clamp(1, 5);
        let t = Instant::now();
        for _ in 0..cpu_steps {
            prop.step(&w, &mut state, None);
        }
        let cpu = t.elapsed().as_secs_f64() / cpu_steps as f64 * batch as f64;
        let _ = writeln!(
            report,
            "{label:<28} {batch:>6} {:>10.3} {gpts:>8.2} {gbs:>8.0} {:>8.0}% {:>9.1}x",
            secs * 1e3,
            100.0 * gbs / copy,
            cpu / secs
        );
    }
    Ok(report)
}
