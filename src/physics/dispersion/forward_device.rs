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
use crate::gpu::dispersion::{DispersionBatch, DispersionKernels, LOVE, RAYLEIGH, Want};
use crate::physics::{Linearization, PhysicsError};

impl DispersionForward {
    /// Every datum's (wave, period, mode) query of the kernel, and whether it is a group
    /// velocity.
    fn device_queries(&self) -> (Vec<(u8, f64, u32)>, Vec<bool>) {
        self.curves()
            .iter()
            .flat_map(|c| {
                let wave = match c.wave {
                    Wave::Love => LOVE,
                    Wave::Rayleigh => RAYLEIGH,
                };
                let group = c.velocity == VelocityKind::Group;
                c.periods
                    .iter()
                    .map(move |&p| ((wave, p, c.mode as u32), group))
            })
            .unzip()
    }

    /// Every datum's values (and sensitivities) for each of `models`, in one device batch.
    pub(super) fn evaluate_on_device(
        &self,
        kernels: &Arc<DispersionKernels>,
        models: &[LayeredModel],
        with_gradient: bool,
    ) -> Result<Vec<Evaluation>, PhysicsError> {
        let (queries, group) = self.device_queries();
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
        Ok(assemble(&batch, &group, with_gradient))
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

/// Each member's data from a device batch: datum k is the phase or group velocity of query k
/// (`group[k]`), with its sensitivities where it exists (when `with_gradient`).
fn assemble(batch: &DispersionBatch, group: &[bool], with_gradient: bool) -> Vec<Evaluation> {
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
    (0..batch.members)
        .map(|m| {
            let mut values = Array1::from_elem(group.len(), f64::NAN);
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
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::dispersion::curves::{group_velocity_gradient, phase_velocity_gradient};
    use crate::physics::dispersion::forward::{Curve, Parameterization};

    /// The device path's bookkeeping without a device: a batch laid out as the kernels write it
    /// (member-major values, (query, layer, property) gradients, NaN for a missing mode), filled
    /// from the CPU's curves, assembles into exactly the CPU path's data and sensitivities. (The
    /// kernels' own numbers are checked by tests/emulated_dispersion.rs.)
    #[test]
    fn a_device_batch_assembles_into_the_cpu_evaluation() {
        let model = |s: f64| {
            let vs = vec![0.4 * s, 0.5 * s, 0.65 * s, 0.55 * s, 1.0];
            let vp = vs.iter().map(|v| 1.16 * v + 1.36).collect();
            LayeredModel::new(vec![0.1, 0.1, 0.1, 0.1, 0.0], vp, vs, vec![2.0; 5]).unwrap()
        };
        let models = [model(1.0), model(1.1)];
        let curves = vec![
            Curve {
                wave: Wave::Rayleigh,
                velocity: VelocityKind::Phase,
                mode: 0,
                periods: vec![0.2, 0.5, 1.0],
            },
            Curve {
                wave: Wave::Love,
                velocity: VelocityKind::Group,
                mode: 0,
                periods: vec![0.3, 0.8],
            },
            // A mode that does not exist at long periods: NaN and no sensitivities.
            Curve {
                wave: Wave::Rayleigh,
                velocity: VelocityKind::Phase,
                mode: 2,
                periods: vec![0.05, 2.0],
            },
        ];
        let forward = DispersionForward::new(models[0].clone(), curves, Parameterization::All);
        let (queries, group) = forward.device_queries();
        let layers = models[0].n_layers();
        let mut batch = DispersionBatch::new(models.len(), queries.len(), layers);
        for m in &models {
            for &(w, period, mode) in &queries {
                let wave = if w == LOVE {
                    Wave::Love
                } else {
                    Wave::Rayleigh
                };
                let flat = |r: Option<(f64, Vec<LayerSensitivity>)>| match r {
                    Some((v, g)) => (v, g.iter().flat_map(|s| (0..4).map(|p| s.get(p))).collect()),
                    None => (f64::NAN, vec![f64::NAN; 4 * layers]),
                };
                let (c, dc) = flat(phase_velocity_gradient(m, wave, period, mode as usize));
                let (u, du) = flat(group_velocity_gradient(m, wave, period, mode as usize));
                batch.phase.push(c);
                batch.group.push(u);
                batch.phase_gradient.extend(dc);
                batch.group_gradient.extend(du);
            }
        }
        let assembled = assemble(&batch, &group, true);
        for (m, (values, sens)) in models.iter().zip(&assembled) {
            let (cpu_values, cpu_sens) = forward.evaluate_on_cpu(m, true);
            assert!(
                values
                    .iter()
                    .zip(&cpu_values)
                    .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())),
                "{values} vs {cpu_values}"
            );
            assert_eq!(sens, &cpu_sens);
            assert!(
                sens.iter().any(Option::is_none),
                "the missing mode is tested"
            );
        }
    }
}
