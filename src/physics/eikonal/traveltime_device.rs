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

/// What a batched solver of (member, source) pairs gives: τ per (pair, node), and for a
/// cotangent on τ, ∂L/∂s per (pair, node) and ∂L/∂s_src per pair. The device's is
/// [`DevicePairs`]; the tests use the CPU's fast marching per pair.
pub(super) trait PairSolver {
    fn solve(
        &mut self,
        grid: &EikonalGrid,
        slowness: &[f64],
        pairs: &[PairSource],
    ) -> Result<Vec<f64>, PhysicsError>;
    fn gradient(&mut self, tau_bar: &[f64]) -> Result<(Vec<f64>, Vec<f64>), PhysicsError>;
}

/// The pairs on the device: kernels/eikonal_fim.cu's solve, kept for its gradient.
pub(super) struct DevicePairs<'a> {
    kernels: &'a TravelTimeKernels,
    max_sweeps: usize,
    solution: Option<crate::gpu::traveltime::TravelTimeSolution>,
}

impl<'a> DevicePairs<'a> {
    pub(super) fn new(kernels: &'a TravelTimeKernels, mesh_shape: &[usize]) -> Self {
        Self {
            kernels,
            // The fixed point is reached within a few grid diameters.
            max_sweeps: 10 * mesh_shape.iter().sum::<usize>() + 100,
            solution: None,
        }
    }
}

fn device(e: crate::gpu::GpuError) -> PhysicsError {
    PhysicsError::Device(e.to_string())
}

impl PairSolver for DevicePairs<'_> {
    fn solve(
        &mut self,
        grid: &EikonalGrid,
        slowness: &[f64],
        pairs: &[PairSource],
    ) -> Result<Vec<f64>, PhysicsError> {
        let solution = self
            .kernels
            .solve(grid, slowness, pairs, self.max_sweeps)
            .map_err(device)?;
        let tau = solution.tau.clone();
        self.solution = Some(solution);
        Ok(tau)
    }

    fn gradient(&mut self, tau_bar: &[f64]) -> Result<(Vec<f64>, Vec<f64>), PhysicsError> {
        let solution = self.solution.as_ref().expect("solved first");
        let g = self
            .kernels
            .gradient(solution, tau_bar, self.max_sweeps)
            .map_err(device)?;
        Ok((g.slowness, g.source))
    }
}

fn pad<const D: usize>(v: [f64; D], fill: f64) -> [f64; 3] {
    std::array::from_fn(|a| if a < D { v[a] } else { fill })
}

impl<const D: usize, G: Geometry<D>> TravelTime<D, G> {
    /// The device's pair solver for this model's forward mesh, when it has one.
    pub(super) fn device_pairs(&self) -> Option<DevicePairs<'_>> {
        let kernels = self.device.as_deref()?;
        Some(DevicePairs::new(kernels, &self.forward_mesh().shape))
    }

    /// Data (and with `cotangent`, gradients) of every member of `m` in one batch of `solver`
    /// (the device's: [`DevicePairs`]); per member, why it failed.
    pub(super) fn pairs_block(
        &self,
        solver: &mut impl PairSolver,
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
        let outcome = (|| -> Result<Vec<Vec<f64>>, PhysicsError> {
            let all_tau = solver.solve(&grid, &slowness, &pairs)?;
            let n_shots = self.shots.len();
            let tau = |pair: usize| &all_tau[pair * n..(pair + 1) * n];
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
            let (pair_slowness, pair_source) = solver.gradient(&tau_bar)?;
            Ok((0..valid.len())
                .map(|k| {
                    // The member's pairs summed in shot order, as the CPU path accumulates.
                    let mut grad_slowness = vec![0.0; n];
                    for s in 0..n_shots {
                        let pair = k * n_shots + s;
                        for (total, v) in grad_slowness
                            .iter_mut()
                            .zip(&pair_slowness[pair * n..(pair + 1) * n])
                        {
                            *total += v;
                        }
                    }
                    let mut flat = grad_slowness;
                    flat.extend_from_slice(&pair_source[k * n_shots..(k + 1) * n_shots]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parallel::Par;
    use crate::physics::eikonal::adjoint::adjoint_into;
    use crate::physics::eikonal::{FmmWorkspace, Mesh, PointSource};
    use crate::physics::{ForwardModel, value_and_vjp_rows};
    use rand::{RngExt, SeedableRng};

    /// The pairs solved one by one by the CPU's fast marching and adjoint: what the device
    /// computes (tests/emulated_traveltime.rs shows the kernels agree with these to the last bit
    /// in τ), without a device.
    struct CpuPairs<const D: usize> {
        geometry: Cartesian<D>,
        solves: Vec<(PointSource<D>, Vec<f64>, FmmWorkspace<D>)>,
    }

    impl<const D: usize> PairSolver for CpuPairs<D> {
        fn solve(
            &mut self,
            grid: &EikonalGrid,
            slowness: &[f64],
            pairs: &[PairSource],
        ) -> Result<Vec<f64>, PhysicsError> {
            let n = grid.n_nodes();
            let mut tau = Vec::new();
            for p in pairs {
                let s = slowness[p.member * n..(p.member + 1) * n].to_vec();
                let source = PointSource {
                    position: std::array::from_fn(|a| p.position[a]),
                    slowness: p.slowness,
                };
                let mut ws = FmmWorkspace::new(self.geometry.mesh());
                ws.solve(&self.geometry, &s, &source)?;
                tau.extend_from_slice(&ws.tau);
                self.solves.push((source, s, ws));
            }
            Ok(tau)
        }

        fn gradient(&mut self, tau_bar: &[f64]) -> Result<(Vec<f64>, Vec<f64>), PhysicsError> {
            let n = self.geometry.mesh().n_nodes();
            let (mut slowness, mut source) = (Vec::new(), Vec::new());
            for (k, (src, s, ws)) in self.solves.iter().enumerate() {
                let mut bar = tau_bar[k * n..(k + 1) * n].to_vec();
                let mut g = vec![0.0; n];
                source.push(adjoint_into(&self.geometry, s, src, ws, &mut bar, &mut g));
                slowness.extend(g);
            }
            Ok((slowness, source))
        }
    }

    /// The batched path's bookkeeping (pairs of members × source stations, receivers, the
    /// source slowness and the prolongation chained on the host) against the per-member CPU path,
    /// in 2D and 3D with four members: data bit-identical, gradients equal up to the order in
    /// which the shots' contributions are summed (≤ 1e-12 relative).
    fn batched_pairs_match_the_member_path<const D: usize>(model: TravelTime<D, Cartesian<D>>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let m =
            ndarray::Array2::from_shape_fn((4, model.n_params()), |_| rng.random_range(2.0..4.0));
        let observed: Vec<f64> = (0..model.n_data()).map(|i| 1.0 + 0.1 * i as f64).collect();
        let misfit = |d: ArrayView1<f64>, mut c: ArrayViewMut1<f64>| {
            for i in 0..d.len() {
                c[i] = d[i] - observed[i];
            }
        };
        let (nm, nd, np) = (m.nrows(), model.n_data(), model.n_params());
        let (mut d_cpu, mut g_cpu) = (
            ndarray::Array2::zeros((nm, nd)),
            ndarray::Array2::zeros((nm, np)),
        );
        let ok = value_and_vjp_rows(
            &model,
            m.view(),
            &misfit,
            d_cpu.view_mut(),
            g_cpu.view_mut(),
            Par::Seq,
        );
        assert!(ok.iter().all(Result::is_ok));
        let mut pairs = CpuPairs {
            geometry: *model.geometry(),
            solves: Vec::new(),
        };
        let (mut d, mut g) = (
            ndarray::Array2::zeros((nm, nd)),
            ndarray::Array2::zeros((nm, np)),
        );
        let ok = model.pairs_block(
            &mut pairs,
            m.view(),
            Some(&misfit),
            d.view_mut(),
            Some(g.view_mut()),
        );
        assert!(ok.iter().all(Result::is_ok));
        assert_eq!(pairs.solves.len(), nm * model.n_sources());
        assert!(
            d.iter()
                .zip(&d_cpu)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        for i in 0..nm {
            let scale = g_cpu.row(i).iter().fold(0.0f64, |s, v| s.max(v.abs()));
            let err = g
                .row(i)
                .iter()
                .zip(g_cpu.row(i))
                .fold(0.0f64, |e, (a, b)| e.max((a - b).abs()));
            assert!(err <= 1e-12 * scale, "{D}D member {i}: {err} vs {scale}");
        }
    }

    #[test]
    fn batched_pairs_match_the_member_path_2d_and_3d() {
        let stations2 = [[0.3, 0.4], [3.1, 2.2], [1.7, 3.3], [2.6, 0.9]];
        let pairs2 = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 0)];
        batched_pairs_match_the_member_path(TravelTime::<2, Cartesian<2>>::new(
            Mesh::new([0.0, 0.0], [0.5, 0.5], [8, 8]),
            2,
            &stations2,
            &pairs2,
        ));
        let stations3 = [[0.3, 0.4, 0.2], [2.1, 1.2, 1.3], [1.7, 2.3, 0.6]];
        let pairs3 = [(0, 1), (0, 2), (1, 2), (2, 0)];
        batched_pairs_match_the_member_path(TravelTime::<3, Cartesian<3>>::new(
            Mesh::new([0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [6, 6, 4]),
            2,
            &stations3,
            &pairs3,
        ));
    }
}
