//! Shots on the device (`kernels/wave_modelling.cu`): a batch of shots, one field each, stepped,
//! injected and recorded as `physics::wave::WaveSolver::forward` does per shot.

use std::sync::Arc;

use cudarc::driver::{CudaFunction, CudaModule, LaunchConfig, PushKernelArg};

use super::{GpuError, WaveStep, driver};

/// The shots of a batch (one field each): every shot's source points and the shared receivers'
/// points, as (storage index, interpolation weight).
#[derive(Debug, Clone)]
pub struct ShotPoints {
    pub sources: Vec<Vec<(usize, f64)>>,
    pub receivers: Vec<Vec<(usize, f64)>>,
}

/// The shot kernels (kernels/wave_modelling.cu).
pub(super) struct ShotFunctions {
    _module: Arc<CudaModule>,
    inject: CudaFunction,
    record: CudaFunction,
}

impl ShotFunctions {
    pub(super) fn load(module: Arc<CudaModule>) -> Result<Self, GpuError> {
        Ok(Self {
            inject: module.load_function("wave_inject").map_err(driver)?,
            record: module.load_function("wave_record").map_err(driver)?,
            _module: module,
        })
    }
}

impl WaveStep {
    /// The traces of every shot of the batch (field k is shot k, started from rest): the
    /// source wavelet injected with weight/`cell_volume` after each step, the receivers recorded
    /// at t_n = n dt for n < `wavelet.len()`; shot-major, then receiver, then time, as the CPU's
    /// `WaveSolver::forward` per shot.
    pub fn forward_shots(
        &self,
        points: &ShotPoints,
        wavelet: &[f64],
        cell_volume: f64,
    ) -> Result<Vec<f64>, GpuError> {
        assert_eq!(points.sources.len(), self.batch, "one shot per field");
        let s = &self.gpu.stream;
        let nt = wavelet.len();
        let per_source = points.sources.iter().map(Vec::len).max().unwrap_or(0);
        let (mut src_idx, mut src_w) = (Vec::new(), Vec::new());
        for shot in &points.sources {
            for j in 0..per_source {
                let (i, w) = shot.get(j).copied().unwrap_or((shot[0].0, 0.0));
                src_idx.push(i as i64);
                src_w.push(w as f32);
            }
        }
        let mut first = vec![0i32];
        let (mut rec_idx, mut rec_w) = (Vec::new(), Vec::new());
        for r in &points.receivers {
            for &(i, w) in r {
                rec_idx.push(i as i64);
                rec_w.push(w as f32);
            }
            first.push(rec_idx.len() as i32);
        }
        let upload_i64 = |v: &[i64]| s.clone_htod(v).map_err(driver);
        let upload_f32 = |v: &[f32]| s.clone_htod(v).map_err(driver);
        let (src_idx, src_w) = (upload_i64(&src_idx)?, upload_f32(&src_w)?);
        let (rec_idx, rec_w) = (upload_i64(&rec_idx)?, upload_f32(&rec_w)?);
        let first = s.clone_htod(&first).map_err(driver)?;
        let n_rec = points.receivers.len() as i32;
        let mut traces = s
            .alloc_zeros::<f64>(self.batch * points.receivers.len() * nt)
            .map_err(driver)?;
        let mut fields = self.zero_fields()?;
        let (n, batch, points_per, nt_i) = (
            self.geometry.len() as i64,
            self.batch as i32,
            per_source as i32,
            nt as i32,
        );
        let inject_cfg = LaunchConfig {
            grid_dim: (1, self.batch as u32, 1),
            block_dim: (per_source.max(1) as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        let record_cfg = LaunchConfig {
            grid_dim: (
                (points.receivers.len().div_ceil(64)) as u32,
                self.batch as u32,
                1,
            ),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        };
        for step in 0..nt.saturating_sub(1) {
            self.step(&mut fields)?;
            let amplitude = (wavelet[step] / cell_volume) as f32;
            let mut launch = s.launch_builder(&self.shots.inject);
            launch
                .arg(&n)
                .arg(&batch)
                .arg(&points_per)
                .arg(&self.w_stride)
                .arg(&amplitude)
                .arg(&src_idx)
                .arg(&src_w)
                .arg(&self.w)
                .arg(&mut fields.cur);
            // SAFETY: wave_inject's signature; idx/weight hold `batch` × `points` entries, every
            // index a stored point of the field.
            unsafe { launch.launch(inject_cfg) }.map_err(driver)?;
            let recorded = (step + 1) as i32;
            let mut launch = s.launch_builder(&self.shots.record);
            launch
                .arg(&n)
                .arg(&batch)
                .arg(&n_rec)
                .arg(&nt_i)
                .arg(&recorded)
                .arg(&first)
                .arg(&rec_idx)
                .arg(&rec_w)
                .arg(&fields.cur)
                .arg(&mut traces);
            // SAFETY: wave_record's signature; `first` has receivers + 1 offsets into idx/weight,
            // traces holds batch × receivers × nt values.
            unsafe { launch.launch(record_cfg) }.map_err(driver)?;
        }
        s.clone_dtoh(&traces).map_err(driver)
    }
}
