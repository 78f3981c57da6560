//! Travel-time tomography forward models: velocities on a parameter grid, interpolated
//! multilinearly to a forward grid refined `refine` times, fast marching from every source
//! station, and times at the receivers as T₀ times the interpolated τ. The vector-Jacobian
//! product runs the exact adjoint per source (skipping sources whose data all have a zero
//! cotangent) and chains through s = 1/v, the source slowness and the prolongation.
//!
//! Generic over the grid's geometry: Cartesian 2D and 3D (km), and the spherical (longitude,
//! latitude) grid in degrees. With a GPU ([`TravelTime::with_gpu`], feature `cuda`, Cartesian
//! grids) the (member, source) pairs of a block of members are one batch of
//! kernels/eikonal_fim.cu (`traveltime_device`).

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

use super::adjoint::adjoint_into;
use super::fmm::{FmmWorkspace, PointSource, travel_time_at};
use super::geometry::{Cartesian, Geometry, Spherical};
use super::mesh::{Mesh, Prolongation, Stencil};
use crate::physics::{ForwardModel, Linearization, PhysicsError, check_model};

/// One source station and the data it produces.
#[derive(Debug, Clone)]
pub(super) struct Shot<const D: usize> {
    pub(super) position: [f64; D],
    /// Interpolation of the velocity at the source, on the forward mesh.
    pub(super) source_stencil: Stencil,
    /// (datum index, receiver position).
    pub(super) receivers: Vec<(usize, [f64; D])>,
}

/// A travel-time forward model. Parameters are velocities (km/s) on the parameter grid in C
/// order (x fastest); data are times (s) in the order of `pairs`.
pub struct TravelTime<const D: usize, G: Geometry<D>> {
    prolongation: Prolongation<D>,
    geometry: G,
    n_params: usize,
    pub(super) n_data: usize,
    pub(super) shots: Vec<Shot<D>>,
    /// The device's kernels (Cartesian grids only, [`TravelTime::with_gpu`]).
    #[cfg(feature = "cuda")]
    pub(super) device: Option<std::sync::Arc<crate::gpu::traveltime::TravelTimeKernels>>,
}

pub type TravelTime2d = TravelTime<2, Cartesian<2>>;
pub type TravelTime3d = TravelTime<3, Cartesian<3>>;
pub type SphericalTravelTime = TravelTime<2, Spherical>;

impl<const D: usize> TravelTime<D, Cartesian<D>> {
    /// `grid` is the parameter grid (km), `refine` the forward-grid refinement, `stations` their
    /// positions (inside the grid) and `pairs` the (source, receiver) station indices per datum.
    pub fn new(
        grid: Mesh<D>,
        refine: usize,
        stations: &[[f64; D]],
        pairs: &[(usize, usize)],
    ) -> Self {
        let prolongation = Prolongation::new(grid, refine);
        let geometry = Cartesian::new(*prolongation.fine());
        Self::with_geometry(prolongation, geometry, stations, pairs)
    }
}

impl TravelTime<2, Spherical> {
    /// `grid` is the parameter grid in degrees (longitude, latitude), `radius` the sphere's (km).
    pub fn spherical(
        grid: Mesh<2>,
        refine: usize,
        radius: f64,
        stations: &[[f64; 2]],
        pairs: &[(usize, usize)],
    ) -> Self {
        let prolongation = Prolongation::new(grid, refine);
        let geometry = Spherical::new(*prolongation.fine(), radius);
        Self::with_geometry(prolongation, geometry, stations, pairs)
    }
}

impl<const D: usize, G: Geometry<D>> TravelTime<D, G> {
    fn with_geometry(
        prolongation: Prolongation<D>,
        geometry: G,
        stations: &[[f64; D]],
        pairs: &[(usize, usize)],
    ) -> Self {
        let fine = *prolongation.fine();
        let mut shots: Vec<(usize, Shot<D>)> = Vec::new();
        for (datum, &(src, rcv)) in pairs.iter().enumerate() {
            assert!(
                fine.contains(stations[src]) && fine.contains(stations[rcv]),
                "stations must lie inside the grid"
            );
            let k = match shots.iter().position(|(s, _)| *s == src) {
                Some(k) => k,
                None => {
                    shots.push((
                        src,
                        Shot {
                            position: stations[src],
                            source_stencil: fine.stencil(stations[src]),
                            receivers: Vec::new(),
                        },
                    ));
                    shots.len() - 1
                }
            };
            shots[k].1.receivers.push((datum, stations[rcv]));
        }
        TravelTime {
            n_params: prolongation.coarse().n_nodes(),
            prolongation,
            geometry,
            n_data: pairs.len(),
            shots: shots.into_iter().map(|(_, s)| s).collect(),
            #[cfg(feature = "cuda")]
            device: None,
        }
    }

    pub fn forward_mesh(&self) -> &Mesh<D> {
        self.prolongation.fine()
    }

    pub fn geometry(&self) -> &G {
        &self.geometry
    }

    pub fn n_sources(&self) -> usize {
        self.shots.len()
    }

    /// Velocity and slowness on the forward mesh, checked positive.
    pub(super) fn slowness(
        &self,
        m: ArrayView1<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>), PhysicsError> {
        check_model(m, self.n_params)?;
        let m = m.as_standard_layout();
        let mut velocity = vec![0.0; self.forward_mesh().n_nodes()];
        self.prolongation
            .apply(m.as_slice().expect("standard layout"), &mut velocity);
        if let Some(node) = velocity.iter().position(|&v| !(v > 0.0 && v.is_finite())) {
            return Err(PhysicsError::NonPositiveVelocity {
                node,
                value: velocity[node],
            });
        }
        let slowness = velocity.iter().map(|v| 1.0 / v).collect();
        Ok((velocity, slowness))
    }

    pub(super) fn point_source(&self, shot: &Shot<D>, velocity: &[f64]) -> PointSource<D> {
        PointSource {
            position: shot.position,
            slowness: 1.0 / shot.source_stencil.apply(velocity),
        }
    }

    /// ∂L/∂τ of a shot's receivers: the cotangent of each datum times T₀ spread over the
    /// interpolation weights of its receiver, added into `tau_bar`.
    pub(super) fn receiver_cotangent(
        &self,
        shot: &Shot<D>,
        tau: &[f64],
        source: &PointSource<D>,
        cotangent: ArrayView1<f64>,
        tau_bar: &mut [f64],
    ) {
        let frame = self.geometry.frame(source.position);
        for &(datum, p) in &shot.receivers {
            let (_, st, t0) = travel_time_at(&self.geometry, tau, &frame, p);
            st.scatter(cotangent[datum] * t0, tau_bar);
        }
    }

    /// The data of a shot from its τ field.
    pub(super) fn shot_data(
        &self,
        shot: &Shot<D>,
        tau: &[f64],
        source: &PointSource<D>,
        mut d: ArrayViewMut1<f64>,
    ) {
        let frame = self.geometry.frame(source.position);
        for &(datum, p) in &shot.receivers {
            d[datum] = travel_time_at(&self.geometry, tau, &frame, p).0;
        }
    }

    /// ∂L/∂(parameters) from ∂L/∂s on the forward mesh and ∂L/∂s_src per shot: s = 1/v, the
    /// source slowness s_src = 1/(Σ w v), then the prolongation's transpose.
    pub(super) fn parameter_gradient(
        &self,
        velocity: &[f64],
        slowness: &[f64],
        grad_slowness: &[f64],
        grad_sources: &[f64],
        mut grad: ArrayViewMut1<f64>,
    ) {
        let n = self.forward_mesh().n_nodes();
        let mut grad_velocity = vec![0.0; n];
        for (shot, &g) in self.shots.iter().zip(grad_sources) {
            let s_src = self.point_source(shot, velocity).slowness;
            // ∂s_src/∂v_node = −s_src² w.
            shot.source_stencil
                .scatter(-g * s_src * s_src, &mut grad_velocity);
        }
        for i in 0..n {
            grad_velocity[i] -= grad_slowness[i] * slowness[i] * slowness[i];
        }
        let mut g = vec![0.0; self.n_params];
        self.prolongation.transpose(&grad_velocity, &mut g);
        grad.assign(&ArrayView1::from(&g));
    }

    fn solve_all(
        &self,
        m: ArrayView1<f64>,
        mut d: ArrayViewMut1<f64>,
        keep: bool,
    ) -> Result<Option<Tape<'_, D, G>>, PhysicsError> {
        let (velocity, slowness) = self.slowness(m)?;
        let mesh = self.forward_mesh();
        let mut solves = Vec::with_capacity(if keep { self.shots.len() } else { 0 });
        let mut scratch = (!keep).then(|| FmmWorkspace::new(mesh));
        for shot in &self.shots {
            let mut kept = None;
            let ws = match &mut scratch {
                Some(ws) => ws,
                None => kept.insert(FmmWorkspace::new(mesh)),
            };
            let source = self.point_source(shot, &velocity);
            ws.solve(&self.geometry, &slowness, &source)?;
            self.shot_data(shot, &ws.tau, &source, d.view_mut());
            solves.extend(kept);
        }
        Ok(keep.then(|| Tape {
            model: self,
            velocity,
            slowness,
            solves,
            data: d.to_owned(),
        }))
    }
}

/// Forward state kept for the adjoint: fields on the forward mesh and one solve per source.
struct Tape<'a, const D: usize, G: Geometry<D>> {
    model: &'a TravelTime<D, G>,
    velocity: Vec<f64>,
    slowness: Vec<f64>,
    solves: Vec<FmmWorkspace<D>>,
    data: Array1<f64>,
}

impl<const D: usize, G: Geometry<D>> Linearization for Tape<'_, D, G> {
    fn data(&self) -> ArrayView1<'_, f64> {
        self.data.view()
    }

    fn vjp_into(&self, cotangent: ArrayView1<f64>, grad: ArrayViewMut1<f64>) {
        let model = self.model;
        let n = model.forward_mesh().n_nodes();
        let mut grad_slowness = vec![0.0; n];
        let mut grad_sources = vec![0.0; model.shots.len()];
        let mut tau_bar = vec![0.0; n];
        for ((shot, ws), grad_source) in model.shots.iter().zip(&self.solves).zip(&mut grad_sources)
        {
            if shot
                .receivers
                .iter()
                .all(|&(datum, _)| cotangent[datum] == 0.0)
            {
                continue;
            }
            let source = model.point_source(shot, &self.velocity);
            tau_bar.fill(0.0);
            model.receiver_cotangent(shot, &ws.tau, &source, cotangent, &mut tau_bar);
            *grad_source = adjoint_into(
                &model.geometry,
                &self.slowness,
                &source,
                ws,
                &mut tau_bar,
                &mut grad_slowness,
            );
        }
        model.parameter_gradient(
            &self.velocity,
            &self.slowness,
            &grad_slowness,
            &grad_sources,
            grad,
        );
    }
}

impl<const D: usize, G: Geometry<D>> ForwardModel for TravelTime<D, G> {
    fn n_params(&self) -> usize {
        self.n_params
    }

    fn n_data(&self) -> usize {
        self.n_data
    }

    fn forward_into(&self, m: ArrayView1<f64>, d: ArrayViewMut1<f64>) -> Result<(), PhysicsError> {
        self.solve_all(m, d, false).map(|_| ())
    }

    #[cfg(feature = "cuda")]
    fn forward_batch(
        &self,
        m: ndarray::ArrayView2<f64>,
        d: ndarray::ArrayViewMut2<f64>,
        par: crate::core::parallel::Par,
    ) -> Vec<Result<(), PhysicsError>> {
        match self.device_pairs() {
            Some(mut pairs) => self.pairs_block(&mut pairs, m, None, d, None),
            None => crate::physics::forward_rows(self, m, d, par),
        }
    }

    #[cfg(feature = "cuda")]
    fn value_and_vjp_batch(
        &self,
        m: ndarray::ArrayView2<f64>,
        cotangent: &(dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) + Sync),
        d: ndarray::ArrayViewMut2<f64>,
        grad: ndarray::ArrayViewMut2<f64>,
        par: crate::core::parallel::Par,
    ) -> Vec<Result<(), PhysicsError>> {
        match self.device_pairs() {
            Some(mut pairs) => self.pairs_block(&mut pairs, m, Some(cotangent), d, Some(grad)),
            None => crate::physics::value_and_vjp_rows(self, m, cotangent, d, grad, par),
        }
    }

    fn linearize(&self, m: ArrayView1<f64>) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        let mut d = Array1::zeros(self.n_data);
        let tape = self.solve_all(m, d.view_mut(), true)?.expect("kept");
        Ok(Box::new(tape))
    }
}
