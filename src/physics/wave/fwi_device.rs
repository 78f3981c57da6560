//! The shots of an FWI member on the GPU (feature `cuda`, `gpu: {enabled: true}`): every active
//! shot of the member is one field of a batch (w shared), stepped, injected and recorded by the
//! kernels of `kernels/wave_*.cu`; the gradient is their checkpointed adjoint on the device
//! (`gpu::wave::ShotTape`, memory formula there), summed over shots in shot order in f64 as on
//! the CPU. Members share the rank's device one at a time (a lock), so that the device memory
//! in use is one member's; a member's shots are split into as many batches as the device's free
//! memory needs (the formula of `gpu::wave::shots`).

use std::sync::{Arc, Mutex};

use super::modelling::{Shot, Traces, WaveSolver};
use crate::gpu::GpuError;
use crate::gpu::wave::{ShotPoints, ShotTape, WaveGeometry, WaveKernels, WaveStep, shots_bytes};
use crate::physics::PhysicsError;

pub(super) struct FwiDevice {
    kernels: Arc<WaveKernels>,
    geometry: WaveGeometry,
    lock: Mutex<()>,
}

/// One batch of a member's shots run on the device with their checkpoints kept there.
struct DeviceBatch {
    step: WaveStep,
    tape: ShotTape,
    /// The shots in the batch, in shot order.
    shots: Vec<usize>,
}

/// A member's shots on the device: its batches, in shot order.
pub(super) struct DeviceRun {
    batches: Vec<DeviceBatch>,
}

fn device_error(e: GpuError) -> PhysicsError {
    PhysicsError::Device(e.to_string())
}

impl FwiDevice {
    pub(super) fn new(kernels: Arc<WaveKernels>, solver: &WaveSolver<f32>) -> Self {
        Self {
            kernels,
            geometry: solver.prop.gpu_geometry(),
            lock: Mutex::new(()),
        }
    }

    /// The traces of the active shots (None for the others) and, with `interval`, the run kept
    /// for the gradient.
    pub(super) fn forward(
        &self,
        solver: &WaveSolver<f32>,
        shots: &[Shot],
        active: &[bool],
        w: &[f32],
        interval: Option<usize>,
    ) -> Result<(Vec<Option<Traces>>, Option<DeviceRun>), PhysicsError> {
        let on: Vec<usize> = (0..shots.len()).filter(|&s| active[s]).collect();
        let mut traces = vec![None; shots.len()];
        if on.is_empty() {
            return Ok((traces, None));
        }
        // Every shot has the same receivers.
        let receivers = &shots[on[0]].receivers;
        let cell_volume = solver.prop.grid.spacing.powi(solver.prop.grid.ndim as i32);
        let _device = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let per_batch = self.shots_per_batch(solver, interval, on.len())?;
        let mut batches = Vec::new();
        for chunk in on.chunks(per_batch) {
            let points = ShotPoints {
                sources: chunk.iter().map(|&s| shots[s].source.clone()).collect(),
                receivers: receivers.clone(),
            };
            let step = WaveStep::new(&self.kernels, self.geometry.clone(), chunk.len(), w)
                .map_err(device_error)?;
            let (all, tape) = step
                .forward_checkpointed(
                    &points,
                    &solver.wavelet,
                    cell_volume,
                    interval.unwrap_or(usize::MAX),
                )
                .map_err(device_error)?;
            let per_shot = all.len() / chunk.len();
            for (k, &s) in chunk.iter().enumerate() {
                traces[s] = Some(all[k * per_shot..(k + 1) * per_shot].to_vec());
            }
            if interval.is_some() {
                batches.push(DeviceBatch {
                    step,
                    tape,
                    shots: chunk.to_vec(),
                });
            }
        }
        let run = interval.map(|_| DeviceRun { batches });
        Ok((traces, run))
    }

    /// How many of `shots` shots to run at once in the device's free memory (a fifth left to
    /// the driver): for traces alone, a batch's states; for a gradient, every shot's checkpoints
    /// stay on the device until the adjoint, and a batch's adjoint needs its working fields
    /// besides.
    fn shots_per_batch(
        &self,
        solver: &WaveSolver<f32>,
        interval: Option<usize>,
        shots: usize,
    ) -> Result<usize, PhysicsError> {
        let (free, _) = self
            .kernels
            .gpu()
            .context
            .mem_get_info()
            .map_err(|e| PhysicsError::Device(e.to_string()))?;
        let usable = free / 5 * 4;
        let n = self.geometry.len();
        let (kept, per_field) = match interval {
            Some(k) => {
                let segments = (solver.nt - 1).div_ceil(k);
                (
                    shots * (shots_bytes::tape(n, segments) - shots_bytes::tape(n, 0)),
                    shots_bytes::tape(n, 0) + shots_bytes::adjoint(n, k),
                )
            }
            None => (0, shots_bytes::tape(n, 0)),
        };
        let fit = usable.saturating_sub(kept) / per_field;
        if fit == 0 {
            return Err(PhysicsError::Device(format!(
                "the shots need {:.2} GB of device memory (checkpoints {:.2} GB), {:.2} GB are free",
                (kept + per_field) as f64 / 1e9,
                kept as f64 / 1e9,
                free as f64 / 1e9
            )));
        }
        Ok(fit.min(shots))
    }

    /// ∂L/∂w on the padded grid for the cotangent `cot` of all shots' traces (shot-major), summed
    /// over the run's shots in shot order.
    pub(super) fn gradient(&self, run: &DeviceRun, cot: &[f64], per_shot: usize) -> Vec<f64> {
        let _device = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let n = self.geometry.len();
        let mut grad = vec![0.0; n];
        for batch in &run.batches {
            let batch_cot: Vec<f64> = batch
                .shots
                .iter()
                .flat_map(|&s| cot[s * per_shot..(s + 1) * per_shot].iter().copied())
                .collect();
            // A driver failure here (after the forward run succeeded on the same device) leaves
            // no gradient to return: the run stops with the driver's message.
            let per_field = batch
                .step
                .adjoint_shots(&batch.tape, &batch_cot)
                .unwrap_or_else(|e| panic!("the GPU adjoint failed: {e}"));
            for field in per_field.chunks(n) {
                for (total, v) in grad.iter_mut().zip(field) {
                    *total += v;
                }
            }
        }
        grad
    }
}
