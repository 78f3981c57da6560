//! The full-waveform forward model: shots of a point source with a wavelet, recorded by one
//! receiver spread, through a velocity model whose free cells are the parameters (fixed cells,
//! such as a water layer, keep their values). Data are the traces of every shot, shot-major,
//! then receiver, then time (t_n = n dt). Wavefields are f32; the gradient is the
//! adjoint-state gradient of the f32 discrete solver, accumulated in f64. Shots run in
//! parallel within a rank; their gradients are summed in shot order (bit-identical for any
//! thread count). With a GPU ([`FwiForward::with_gpu`], feature `cuda`) a member's active shots
//! run as one batch on the device instead (`fwi_device`), the same discrete equations.

use ndarray::{ArrayView1, ArrayViewMut1};
use rayon::prelude::*;

use super::grid::WaveGrid;
use super::modelling::{Shot, Traces, WaveSolver};
use super::propagator::{Propagator, WaveState};
use crate::core::stencil::SpaceOrder;
use crate::physics::{ForwardModel, Linearization, PhysicsError, check_model};

/// Everything of an FWI problem but the model.
#[derive(Debug, Clone)]
pub struct FwiSetup {
    pub grid: WaveGrid,
    pub order: SpaceOrder,
    pub dt: f64,
    /// Time samples per trace (steps + 1, from t = 0).
    pub nt: usize,
    /// Source time function at t_n = n dt.
    pub wavelet: Vec<f64>,
    /// Peak frequency (Hz): the CPML's frequency shift.
    pub f0: f64,
    /// The largest velocity members may take (km/s): the CPML's damping and the stability
    /// limit.
    pub v_max: f64,
    /// Source positions (z, y, x) in km from the first model point (y = 0 in 2D).
    pub sources: Vec<[f64; 3]>,
    /// Receiver positions, the same for every shot.
    pub receivers: Vec<[f64; 3]>,
    /// The velocity of every model cell; the free ones are overwritten by the parameters.
    pub base_velocity: Vec<f64>,
    /// Model-grid indices of the free cells, in parameter order.
    pub free: Vec<usize>,
}

pub struct FwiForward {
    setup: FwiSetup,
    solver: WaveSolver<f32>,
    shots: Vec<Shot>,
    /// dt × v_max-stable: the largest velocity the time step allows.
    v_stable: f64,
    #[cfg(feature = "cuda")]
    device: Option<super::fwi_device::FwiDevice>,
}

impl FwiForward {
    /// Panics if a source or receiver lies outside the model (validation refuses that first).
    pub fn new(setup: FwiSetup) -> Self {
        let prop = Propagator::new(
            setup.grid.clone(),
            setup.order,
            setup.dt,
            setup.v_max,
            setup.f0,
        );
        let solver = WaveSolver::new(prop, setup.nt, setup.wavelet.clone());
        let receivers: Vec<Vec<(usize, f64)>> = setup
            .receivers
            .iter()
            .map(|&r| {
                setup
                    .grid
                    .point_weights(r)
                    .expect("validated receiver position")
            })
            .collect();
        let shots = setup
            .sources
            .iter()
            .map(|&s| Shot {
                source: setup
                    .grid
                    .point_weights(s)
                    .expect("validated source position"),
                receivers: receivers.clone(),
            })
            .collect();
        let v_stable = setup
            .order
            .max_time_step(setup.grid.spacing, 1.0, setup.grid.ndim)
            / setup.dt;
        Self {
            setup,
            solver,
            shots,
            v_stable,
            #[cfg(feature = "cuda")]
            device: None,
        }
    }

    /// Runs the shots on the GPU of `kernels` from now on.
    #[cfg(feature = "cuda")]
    pub fn with_gpu(mut self, kernels: std::sync::Arc<crate::gpu::wave::WaveKernels>) -> Self {
        self.device = Some(super::fwi_device::FwiDevice::new(kernels, &self.solver));
        self
    }

    /// The traces of the active shots (None for the others) and, with `interval`, their
    /// checkpoints for the gradient: on the device when there is one, else shots in parallel.
    fn run_shots(
        &self,
        w: &[f32],
        active: &[bool],
        interval: Option<usize>,
    ) -> Result<(Vec<Option<Traces>>, Checkpoints), PhysicsError> {
        #[cfg(feature = "cuda")]
        if let Some(device) = &self.device {
            let (traces, run) = device.forward(&self.solver, &self.shots, active, w, interval)?;
            return Ok((traces, Checkpoints::Device(run.map(Box::new))));
        }
        let runs: Vec<Option<(Traces, Vec<WaveState<f32>>)>> = self
            .shots
            .par_iter()
            .zip(active)
            .map(|(shot, &on)| {
                on.then(|| match interval {
                    Some(k) => self.solver.forward_with_checkpoints(w, shot, k),
                    None => (self.solver.forward(w, shot), Vec::new()),
                })
            })
            .collect();
        let (traces, states) = runs
            .into_iter()
            .map(|run| match run {
                Some((t, c)) => (Some(t), Some(c)),
                None => (None, None),
            })
            .unzip();
        Ok((traces, Checkpoints::Host(states)))
    }

    pub fn setup(&self) -> &FwiSetup {
        &self.setup
    }

    fn traces_per_shot(&self) -> usize {
        self.setup.receivers.len() * self.setup.nt
    }

    /// The full velocity model of parameters m, checked: positive and within the stability
    /// limit of the time step.
    fn velocity(&self, m: ArrayView1<f64>) -> Result<Vec<f64>, PhysicsError> {
        check_model(m, self.setup.free.len())?;
        let mut v = self.setup.base_velocity.clone();
        for (&cell, &value) in self.setup.free.iter().zip(m.iter()) {
            v[cell] = value;
        }
        for (node, &value) in v.iter().enumerate() {
            if value <= 0.0 {
                return Err(PhysicsError::NonPositiveVelocity { node, value });
            }
            if value > self.v_stable {
                return Err(PhysicsError::Unstable {
                    node,
                    value,
                    limit: self.v_stable,
                });
            }
        }
        Ok(v)
    }

    fn weights(&self, velocity: &[f64]) -> Vec<f32> {
        self.solver
            .squared_slowness_weight(&self.setup.grid.extend(velocity))
    }
}

/// The forward states the adjoint restarts from.
enum Checkpoints {
    /// Per shot: its checkpoints, or `None` for a shot left out of the batch.
    Host(Vec<Option<Vec<WaveState<f32>>>>),
    /// The member's shots run on the device (None when no shot was active).
    #[cfg(feature = "cuda")]
    Device(Option<Box<super::fwi_device::DeviceRun>>),
}

/// What the gradient needs: the model, the data and the checkpoints of every shot run.
struct FwiTape<'a> {
    forward: &'a FwiForward,
    velocity: Vec<f64>,
    w: Vec<f32>,
    data: ndarray::Array1<f64>,
    checkpoints: Checkpoints,
    interval: usize,
}

impl FwiTape<'_> {
    /// ∂L/∂w on the padded grid, summed over the shots in shot order.
    // Without `cuda` the match below has one arm.
    #[allow(clippy::infallible_destructuring_match)]
    fn gradient_w(&self, cot: &[f64]) -> Vec<f64> {
        let f = self.forward;
        let per_shot = f.traces_per_shot();
        let checkpoints = match &self.checkpoints {
            Checkpoints::Host(c) => c,
            #[cfg(feature = "cuda")]
            Checkpoints::Device(run) => {
                let device = f.device.as_ref().expect("a device run has its device");
                return match run {
                    Some(run) => device.gradient(run, cot, per_shot),
                    None => vec![0.0; f.setup.grid.len()],
                };
            }
        };
        let shot_grads: Vec<Vec<f64>> = f
            .shots
            .par_iter()
            .zip(checkpoints)
            .enumerate()
            .filter_map(|(s, (shot, checkpoints))| {
                let c = &cot[s * per_shot..(s + 1) * per_shot];
                let checkpoints = checkpoints.as_ref()?;
                Some(
                    f.solver
                        .adjoint(&self.w, shot, c, checkpoints, self.interval)
                        .0,
                )
            })
            .collect();
        let mut grad_w = vec![0.0; f.setup.grid.len()];
        for g in &shot_grads {
            for (total, v) in grad_w.iter_mut().zip(g) {
                *total += v;
            }
        }
        grad_w
    }
}

impl Linearization for FwiTape<'_> {
    fn data(&self) -> ArrayView1<'_, f64> {
        self.data.view()
    }

    fn vjp_into(&self, cotangent: ArrayView1<f64>, mut grad: ArrayViewMut1<f64>) {
        let f = self.forward;
        let grad_w = self.gradient_w(&cotangent.to_vec());
        let grad_v = f.solver.velocity_gradient(&self.velocity, &grad_w);
        for (out, &cell) in grad.iter_mut().zip(&f.setup.free) {
            *out = grad_v[cell];
        }
    }
}

impl ForwardModel for FwiForward {
    fn n_params(&self) -> usize {
        self.setup.free.len()
    }

    fn n_data(&self) -> usize {
        self.shots.len() * self.traces_per_shot()
    }

    fn forward_into(&self, m: ArrayView1<f64>, d: ArrayViewMut1<f64>) -> Result<(), PhysicsError> {
        self.forward_groups_into(m, &vec![true; self.shots.len()], d)
    }

    fn linearize(&self, m: ArrayView1<f64>) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        self.linearize_groups(m, &vec![true; self.shots.len()])
    }

    fn data_groups(&self) -> Vec<std::ops::Range<usize>> {
        let per_shot = self.traces_per_shot();
        (0..self.shots.len())
            .map(|s| s * per_shot..(s + 1) * per_shot)
            .collect()
    }

    fn forward_groups_into(
        &self,
        m: ArrayView1<f64>,
        active: &[bool],
        mut d: ArrayViewMut1<f64>,
    ) -> Result<(), PhysicsError> {
        let w = self.weights(&self.velocity(m)?);
        let (traces, _) = self.run_shots(&w, active, None)?;
        let per_shot = self.traces_per_shot();
        for (s, t) in traces.iter().enumerate() {
            let mut block = d.slice_mut(ndarray::s![s * per_shot..(s + 1) * per_shot]);
            match t {
                Some(t) => block.iter_mut().zip(t).for_each(|(o, v)| *o = *v),
                None => block.fill(f64::NAN),
            }
        }
        Ok(())
    }

    fn linearize_groups(
        &self,
        m: ArrayView1<f64>,
        active: &[bool],
    ) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        let velocity = self.velocity(m)?;
        let w = self.weights(&velocity);
        let interval = self.solver.default_interval();
        let (traces, checkpoints) = self.run_shots(&w, active, Some(interval))?;
        let per_shot = self.traces_per_shot();
        let mut data = ndarray::Array1::from_elem(self.n_data(), f64::NAN);
        for (s, t) in traces.iter().enumerate() {
            if let Some(t) = t {
                data.slice_mut(ndarray::s![s * per_shot..(s + 1) * per_shot])
                    .iter_mut()
                    .zip(t)
                    .for_each(|(o, v)| *o = *v);
            }
        }
        Ok(Box::new(FwiTape {
            forward: self,
            velocity,
            w,
            data,
            checkpoints,
            interval,
        }))
    }
}
