//! Travel times of a block of members on the GPU (feature `cuda`, Cartesian grids): every
//! (member, source station) pair is one field of a batched solve of kernels/eikonal_fim.cu, and
//! the gradient one batched adjoint; the receivers, the source slowness and the prolongation are
//! chained on the host by the same code as the CPU path (`traveltime`).

use std::sync::Arc;

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

use super::geometry::{Cartesian, Geometry};
use super::traveltime::TravelTime;
use crate::gpu::traveltime::{EikonalGrid, PairSource, TravelTimeKernels};
use crate::physics::PhysicsError;

type Cotangent<'a> = &'a (dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) + Sync);

/// A member's (velocity, slowness) on the forward mesh, or why its model is invalid.
type MemberField = Result<(Vec<f64>, Vec<f64>), PhysicsError>;

impl<const D: usize> TravelTime<D, Cartesian<D>> {
    /// Solves the (member, source) pairs of member blocks on the GPU of `kernels` from now on.
    pub fn with_gpu(mut self, kernels: Arc<TravelTimeKernels>) -> Self {
        self.device = Some(kernels);
        self
    }
}

fn pad<const D: usize>(v: [f64; D], fill: f64) -> [f64; 3] {
    std::array::from_fn(|a| if a < D { v[a] } else { fill })
}

impl<const D: usize, G: Geometry<D>> TravelTime<D, G> {
    /// The sweeps allowed: the fixed point is reached within a few grid diameters.
    fn max_sweeps(&self) -> usize {
        10 * self.forward_mesh().shape.iter().sum::<usize>() + 100
    }

    /// Data (and with `cotangent`, gradients) of every member of `m` in one device batch; per
    /// member, why it failed.
    pub(super) fn device_block(
        &self,
        kernels: &Arc<TravelTimeKernels>,
        m: ArrayView2<f64>,
        cotangent: Option<Cotangent<'_>>,
        mut d: ArrayViewMut2<f64>,
        mut grad: Option<ArrayViewMut2<f64>>,
    ) -> Vec<Result<(), PhysicsError>> {
        let mesh = *self.forward_mesh();
        let n = mesh.n_nodes();
        let fields: Vec<MemberField> = m.axis_iter(Axis(0)).map(|row| self.slowness(row)).collect();
        let valid: Vec<usize> = (0..fields.len()).filter(|&i| fields[i].is_ok()).collect();
        let field = |i: usize| fields[i].as_ref().expect("valid member");
        let mut slowness = Vec::with_capacity(valid.len() * n);
        let mut pairs = Vec::with_capacity(valid.len() * self.shots.len());
        let mut sources = Vec::with_capacity(pairs.capacity());
        for (k, &i) in valid.iter().enumerate() {
            let (velocity, s) = field(i);
            slowness.extend_from_slice(s);
            for shot in &self.shots {
                let source = self.point_source(shot, velocity);
                pairs.push(PairSource {
                    member: k,
                    position: pad(source.position, 0.0),
                    slowness: source.slowness,
                });
                sources.push(source);
            }
        }
        let grid = EikonalGrid {
            ndim: D,
            shape: std::array::from_fn(|a| if a < D { mesh.shape[a] } else { 1 }),
            spacing: pad(mesh.spacing, 1.0),
            origin: pad(mesh.origin, 0.0),
        };
        let device = |e: crate::gpu::GpuError| PhysicsError::Device(e.to_string());
        let outcome = (|| -> Result<Vec<Vec<f64>>, PhysicsError> {
            let solution = kernels
                .solve(&grid, &slowness, &pairs, self.max_sweeps())
                .map_err(device)?;
            let n_shots = self.shots.len();
            let tau = |pair: usize| &solution.tau[pair * n..(pair + 1) * n];
            for (k, &i) in valid.iter().enumerate() {
                let mut di = d.row_mut(i);
                for (s, shot) in self.shots.iter().enumerate() {
                    let pair = k * n_shots + s;
                    self.shot_data(shot, tau(pair), &sources[pair], di.view_mut());
                }
            }
            let Some(cotangent) = cotangent else {
                return Ok(Vec::new());
            };
            let mut tau_bar = vec![0.0; pairs.len() * n];
            for (k, &i) in valid.iter().enumerate() {
                let mut cot = Array1::zeros(self.n_data);
                cotangent(d.row(i), cot.view_mut());
                for (s, shot) in self.shots.iter().enumerate() {
                    let pair = k * n_shots + s;
                    let bar = &mut tau_bar[pair * n..(pair + 1) * n];
                    self.receiver_cotangent(shot, tau(pair), &sources[pair], cot.view(), bar);
                }
            }
            let gradient = kernels
                .gradient(&solution, &tau_bar, self.max_sweeps())
                .map_err(device)?;
            Ok((0..valid.len())
                .map(|k| {
                    // The member's pairs summed in shot order, as the CPU path accumulates.
                    let mut grad_slowness = vec![0.0; n];
                    for s in 0..n_shots {
                        let pair = k * n_shots + s;
                        for (total, v) in grad_slowness
                            .iter_mut()
                            .zip(&gradient.slowness[pair * n..(pair + 1) * n])
                        {
                            *total += v;
                        }
                    }
                    let mut flat = grad_slowness;
                    flat.extend_from_slice(&gradient.source[k * n_shots..(k + 1) * n_shots]);
                    flat
                })
                .collect())
        })();
        let gradients = match outcome {
            Ok(g) => g,
            Err(e) => return fields.iter().map(|_| Err(e.clone())).collect(),
        };
        if let Some(grad) = grad.as_mut() {
            for (k, &i) in valid.iter().enumerate() {
                let (velocity, s) = field(i);
                let (grad_slowness, grad_sources) = gradients[k].split_at(n);
                self.parameter_gradient(velocity, s, grad_slowness, grad_sources, grad.row_mut(i));
            }
        }
        fields.into_iter().map(|f| f.map(|_| ())).collect()
    }
}
