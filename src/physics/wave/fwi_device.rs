//! The shots of an FWI member on the GPU (feature `cuda`, `gpu: {enabled: true}`): every active
//! shot of the member is one field of a batch (w shared), stepped, injected and recorded by the
//! kernels of `kernels/wave_*.cu`; the gradient is their checkpointed adjoint on the device
//! (`gpu::wave::ShotTape`, memory formula there), summed over shots in shot order in f64 as on
//! the CPU. Members share the rank's device one at a time (a lock), so that the device memory
//! in use is one member's.

use std::sync::{Arc, Mutex};

use super::modelling::{Shot, Traces, WaveSolver};
use crate::gpu::GpuError;
use crate::gpu::wave::{ShotPoints, ShotTape, WaveGeometry, WaveKernels, WaveStep};
use crate::physics::PhysicsError;

pub(super) struct FwiDevice {
    kernels: Arc<WaveKernels>,
    geometry: WaveGeometry,
    lock: Mutex<()>,
}

/// A member's shots run on the device with their checkpoints kept there.
pub(super) struct DeviceRun {
    step: WaveStep,
    tape: ShotTape,
    /// The shots in the batch, in shot order.
    shots: Vec<usize>,
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
        let points = ShotPoints {
            sources: on.iter().map(|&s| shots[s].source.clone()).collect(),
            receivers: shots[on[0]].receivers.clone(),
        };
        let cell_volume = solver.prop.grid.spacing.powi(solver.prop.grid.ndim as i32);
        let _device = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let step = WaveStep::new(&self.kernels, self.geometry.clone(), on.len(), w)
            .map_err(device_error)?;
        let (all, tape) = step
            .forward_checkpointed(
                &points,
                &solver.wavelet,
                cell_volume,
                interval.unwrap_or(usize::MAX),
            )
            .map_err(device_error)?;
        let per_shot = all.len() / on.len();
        for (k, &s) in on.iter().enumerate() {
            traces[s] = Some(all[k * per_shot..(k + 1) * per_shot].to_vec());
        }
        let run = interval.map(|_| DeviceRun {
            step,
            tape,
            shots: on,
        });
        Ok((traces, run))
    }

    /// ∂L/∂w on the padded grid for the cotangent `cot` of all shots' traces (shot-major), summed
    /// over the run's shots in shot order.
    pub(super) fn gradient(&self, run: &DeviceRun, cot: &[f64], per_shot: usize) -> Vec<f64> {
        let batch_cot: Vec<f64> = run
            .shots
            .iter()
            .flat_map(|&s| cot[s * per_shot..(s + 1) * per_shot].iter().copied())
            .collect();
        let _device = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        // A driver failure here (after the forward run succeeded on the same device) leaves no
        // gradient to return: the run stops with the driver's message.
        let per_field = run
            .step
            .adjoint_shots(&run.tape, &batch_cot)
            .unwrap_or_else(|e| panic!("the GPU adjoint failed: {e}"));
        let n = self.geometry.len();
        let mut grad = vec![0.0; n];
        for field in per_field.chunks(n) {
            for (total, v) in grad.iter_mut().zip(field) {
                *total += v;
            }
        }
        grad
    }
}
