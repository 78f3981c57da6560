//! The dispersion curves of a block of members on the GPU (feature `cuda`): every member's
//! data are one batch of kernels/dispersion_curves.cu (one thread per member and datum), phase
//! or group velocity by curve, with their sensitivities when a gradient is asked for; the same
//! algorithm as the CPU path in double precision. `forward_batch` and `value_and_vjp_batch` hand
//! the whole block to one batch, so the members of a rank share the launches.

use std::sync::Arc;

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

use super::curves::Wave;
use super::forward::{DispersionForward, Evaluation, Tape, VelocityKind};
use super::model::{LayerSensitivity, LayeredModel};
use crate::gpu::dispersion::{DispersionKernels, LOVE, RAYLEIGH, Want};
use crate::physics::{Linearization, PhysicsError};

impl DispersionForward {
    /// Every datum's values (and sensitivities) for each of `models`, in one device batch.
    pub(super) fn evaluate_on_device(
        &self,
        kernels: &Arc<DispersionKernels>,
        models: &[LayeredModel],
        with_gradient: bool,
    ) -> Result<Vec<Evaluation>, PhysicsError> {
        let curves = self.curves();
        let queries: Vec<(u8, f64, u32)> = curves
            .iter()
            .flat_map(|c| {
                let wave = match c.wave {
                    Wave::Love => LOVE,
                    Wave::Rayleigh => RAYLEIGH,
                };
                c.periods.iter().map(move |&p| (wave, p, c.mode as u32))
            })
            .collect();
        let group: Vec<bool> = curves
            .iter()
            .flat_map(|c| c.periods.iter().map(|_| c.velocity == VelocityKind::Group))
            .collect();
        let any_group = group.iter().any(|&g| g);
        let want = Want {
            group: any_group && !with_gradient,
            phase_gradient: with_gradient && group.iter().any(|&g| !g),
            group_gradient: with_gradient && any_group,
        };
        let layers = models.first().map_or(0, LayeredModel::n_layers);
        let rows: Vec<f64> = models
            .iter()
            .flat_map(|m| m.rows::<f64>().into_iter().flatten())
            .collect();
        let batch = kernels
            .curves(&rows, layers, &queries, want)
            .map_err(|e| PhysicsError::Device(e.to_string()))?;
        let sensitivities = |gradient: &[f64], m: usize, k: usize| -> Vec<LayerSensitivity> {
            batch
                .gradient_of(gradient, m, k)
                .chunks(4)
                .map(|g| {
                    let mut s = LayerSensitivity::default();
                    for (p, &v) in g.iter().enumerate() {
                        s.set(p, v);
                    }
                    s
                })
                .collect()
        };
        Ok((0..models.len())
            .map(|m| {
                let mut values = Array1::from_elem(queries.len(), f64::NAN);
                let mut sens = Vec::new();
                for (k, &is_group) in group.iter().enumerate() {
                    let at = batch.at(m, k);
                    let value = if is_group {
                        batch.group[at]
                    } else {
                        batch.phase[at]
                    };
                    values[k] = value;
                    if with_gradient {
                        let gradient = if is_group {
                            &batch.group_gradient
                        } else {
                            &batch.phase_gradient
                        };
                        sens.push(value.is_finite().then(|| sensitivities(gradient, m, k)));
                    }
                }
                (values, sens)
            })
            .collect())
    }

    /// The members of `m` whose models are valid evaluated in one device batch; per member its
    /// evaluation, its rule chain, or why it failed.
    fn device_block(
        &self,
        kernels: &Arc<DispersionKernels>,
        m: ArrayView2<f64>,
        with_gradient: bool,
    ) -> Vec<Result<(Evaluation, Option<super::forward::RuleChain>), PhysicsError>> {
        let parsed: Vec<_> = m.axis_iter(Axis(0)).map(|row| self.model(row)).collect();
        let valid: Vec<LayeredModel> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(model, _)| model.clone()))
            .collect();
        let mut evaluations = match self.evaluate_on_device(kernels, &valid, with_gradient) {
            Ok(e) => e.into_iter(),
            Err(e) => return parsed.iter().map(|_| Err(e.clone())).collect(),
        };
        parsed
            .into_iter()
            .map(|p| {
                let (_, chain) = p?;
                Ok((evaluations.next().expect("one per valid member"), chain))
            })
            .collect()
    }

    /// `forward_batch` on the device.
    pub(super) fn forward_block(
        &self,
        kernels: &Arc<DispersionKernels>,
        m: ArrayView2<f64>,
        mut d: ArrayViewMut2<f64>,
    ) -> Vec<Result<(), PhysicsError>> {
        self.device_block(kernels, m, false)
            .into_iter()
            .zip(d.axis_iter_mut(Axis(0)))
            .map(|(r, mut di)| {
                let ((values, _), _) = r?;
                di.assign(&values);
                Ok(())
            })
            .collect()
    }

    /// `value_and_vjp_batch` on the device.
    pub(super) fn value_and_vjp_block(
        &self,
        kernels: &Arc<DispersionKernels>,
        m: ArrayView2<f64>,
        cotangent: &(dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) + Sync),
        mut d: ArrayViewMut2<f64>,
        mut grad: ArrayViewMut2<f64>,
    ) -> Vec<Result<(), PhysicsError>> {
        self.device_block(kernels, m, true)
            .into_iter()
            .zip(d.axis_iter_mut(Axis(0)).zip(grad.axis_iter_mut(Axis(0))))
            .map(|(r, (mut di, gi))| {
                let ((data, sensitivities), chain) = r?;
                di.assign(&data);
                let mut cot = Array1::zeros(data.len());
                cotangent(di.view(), cot.view_mut());
                let tape = Tape {
                    forward: self,
                    chain,
                    data,
                    sensitivities,
                };
                tape.vjp_into(cot.view(), gi);
                Ok(())
            })
            .collect()
    }
}
