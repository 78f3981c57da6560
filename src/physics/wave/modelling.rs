//! Shots: a point source with a wavelet, recorded at receivers, through the propagator; the
//! adjoint-state gradient with checkpointing; the Born (linearised) modelling for tests.
//!
//! Source normalisation: the equation is (1/c²) u_tt − Δu = f(t) δ(x − x_s), so a source of
//! wavelet f gives u = f(t − r/c) / (4π r) in a 3D homogeneous medium (a line source in 2D); the
//! point δ is spread by the multilinear weights divided by the cell volume h^ndim. Data are u at
//! the receivers (multilinear interpolation), sampled at t_n = n dt, n < nt.
//!
//! Memory of the gradient of one shot: checkpoints every k steps hold the whole state (uⁿ, uⁿ⁻¹,
//! ψ, ζ: S = 2 + 2 ndim fields of N stored points), and one segment of k brackets Gⁿ is
//! recomputed at a time, so
//!
//! ```text
//!   bytes = (⌈(nt − 1) / k⌉ S + k + 2 S + 1 + ndim) · N · sizeof(T) + 8 N,
//! ```
//!
//! (the last terms: the forward and adjoint working states, the adjoint's scratch q and one
//! field per axis, and the f64 gradient), smallest near k = √((nt − 1) S), the default; the cost
//! is one extra forward propagation. The FWI forward model keeps the checkpoints of every shot
//! of a member between its forward and its gradient (⌈(nt − 1)/k⌉ S N sizeof(T) per shot).

use super::float::WaveFloat;
use super::propagator::{AdjointWork, Propagator, WaveState};

/// A shot: source interpolation weights and, per receiver, its weights (padded-grid indices).
#[derive(Debug, Clone)]
pub struct Shot {
    pub source: Vec<(usize, f64)>,
    pub receivers: Vec<Vec<(usize, f64)>>,
}

/// A propagator with a time axis and a source wavelet.
#[derive(Debug, Clone)]
pub struct WaveSolver<T> {
    pub prop: Propagator<T>,
    pub nt: usize,
    /// Source time function at t_n = n dt.
    pub wavelet: Vec<f64>,
}

/// Traces of one shot, receiver-major: trace r at [r nt, (r + 1) nt).
pub type Traces = Vec<f64>;

impl<T: WaveFloat> WaveSolver<T> {
    pub fn new(prop: Propagator<T>, nt: usize, wavelet: Vec<f64>) -> Self {
        assert_eq!(wavelet.len(), nt, "one wavelet sample per time step");
        Self { prop, nt, wavelet }
    }

    fn cell_volume(&self) -> f64 {
        self.prop.grid.spacing.powi(self.prop.grid.ndim as i32)
    }

    /// dt² v² on the padded grid from velocities on it.
    pub fn squared_slowness_weight(&self, velocity_padded: &[f64]) -> Vec<T> {
        let dt2 = self.prop.dt * self.prop.dt;
        velocity_padded
            .iter()
            .map(|v| T::from_f64(dt2 * v * v))
            .collect()
    }

    /// ∂L/∂v on the model grid from ∂L/∂w on the padded grid, for w = dt² v² and the model
    /// extended into the CPML ([`WaveGrid::extend`](super::WaveGrid::extend)).
    pub fn velocity_gradient(&self, velocity_model: &[f64], grad_w: &[f64]) -> Vec<f64> {
        let dt2 = self.prop.dt * self.prop.dt;
        let summed = self.prop.grid.extend_transpose(grad_w);
        summed
            .iter()
            .zip(velocity_model)
            .map(|(g, v)| 2.0 * dt2 * v * g)
            .collect()
    }

    /// The default checkpoint interval k = ⌈√((nt − 1)(2 + 2 ndim))⌉ (see the module docs).
    pub fn default_interval(&self) -> usize {
        let fields = 2 + 2 * self.prop.grid.ndim;
        (((self.nt - 1) * fields) as f64).sqrt().ceil().max(1.0) as usize
    }

    fn record(&self, u: &[T], shot: &Shot, n: usize, traces: &mut [f64]) {
        for (r, weights) in shot.receivers.iter().enumerate() {
            traces[r * self.nt + n] = weights.iter().map(|&(i, wt)| wt * u[i].to_f64()).sum();
        }
    }

    fn inject(
        &self,
        w: &[T],
        shot: &Shot,
        amplitude: f64,
        state: &mut WaveState<T>,
        bracket: Option<&mut [T]>,
    ) {
        let scale = amplitude / self.cell_volume();
        if scale == 0.0 {
            return;
        }
        let mut bracket = bracket;
        for &(i, wt) in &shot.source {
            let s = T::from_f64(wt * scale);
            state.cur[i] += w[i] * s;
            if let Some(br) = bracket.as_deref_mut() {
                br[i] += s;
            }
        }
    }

    /// One forward step including the source injection of step n.
    fn advance(
        &self,
        w: &[T],
        shot: &Shot,
        n: usize,
        state: &mut WaveState<T>,
        bracket: Option<&mut [T]>,
    ) {
        let mut bracket = bracket;
        self.prop.step(w, state, bracket.as_deref_mut());
        self.inject(w, shot, self.wavelet[n], state, bracket);
    }

    /// The traces of a shot for w = dt² v² (padded grid).
    pub fn forward(&self, w: &[T], shot: &Shot) -> Traces {
        self.forward_with_checkpoints(w, shot, usize::MAX).0
    }

    /// The traces, and the states before steps 0, k, 2k, … (k = `interval`).
    pub fn forward_with_checkpoints(
        &self,
        w: &[T],
        shot: &Shot,
        interval: usize,
    ) -> (Traces, Vec<WaveState<T>>) {
        let mut traces = vec![0.0; shot.receivers.len() * self.nt];
        let mut state = WaveState::zeros(&self.prop.grid);
        let mut checkpoints = Vec::new();
        self.record(&state.cur, shot, 0, &mut traces);
        for n in 0..self.nt - 1 {
            if interval != usize::MAX && n % interval == 0 {
                checkpoints.push(state.clone());
            }
            self.advance(w, shot, n, &mut state, None);
            self.record(&state.cur, shot, n + 1, &mut traces);
        }
        (traces, checkpoints)
    }

    /// The adjoint of the whole shot for cotangent traces `cot` (∂L/∂d, receiver-major):
    /// ∂L/∂w on the padded grid (f64) and ∂L/∂f, the wavelet's cotangent. The forward states
    /// come from `checkpoints` (every `interval` steps), segments recomputed as needed.
    pub fn adjoint(
        &self,
        w: &[T],
        shot: &Shot,
        cot: &[f64],
        checkpoints: &[WaveState<T>],
        interval: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let grid = &self.prop.grid;
        let n_points = grid.len();
        let mut grad = vec![0.0f64; n_points];
        let mut wavelet_cot = vec![0.0f64; self.nt];
        let mut adj = WaveState::<T>::zeros(grid);
        let mut work = AdjointWork::new(grid);
        let mut brackets: Vec<Vec<T>> = Vec::new();
        let steps = self.nt - 1;
        let inv_volume = 1.0 / self.cell_volume();
        for (segment, checkpoint) in checkpoints.iter().enumerate().rev() {
            let start = segment * interval;
            let end = (start + interval).min(steps);
            // Recompute the brackets Gⁿ of this segment.
            let mut state = checkpoint.clone();
            brackets.resize_with(end - start, || vec![T::ZERO; n_points]);
            for (n, bracket) in (start..end).zip(brackets.iter_mut()) {
                self.advance(w, shot, n, &mut state, Some(bracket));
            }
            for n in (start..end).rev() {
                // ūⁿ⁺¹ += Pᵀ c^{n+1}.
                for (r, weights) in shot.receivers.iter().enumerate() {
                    let c = cot[r * self.nt + n + 1];
                    for &(i, wt) in weights {
                        adj.cur[i] += T::from_f64(wt * c);
                    }
                }
                let bracket = &brackets[n - start];
                use rayon::prelude::*;
                grad.par_iter_mut()
                    .zip(adj.cur.par_iter())
                    .zip(bracket.par_iter())
                    .for_each(|((g, a), b): ((&mut f64, &T), &T)| *g += a.to_f64() * b.to_f64());
                self.prop.step_adjoint(w, &mut adj, &mut work);
                wavelet_cot[n] = shot
                    .source
                    .iter()
                    .map(|&(i, wt)| wt * inv_volume * work.q[i].to_f64())
                    .sum();
            }
        }
        (grad, wavelet_cot)
    }

    /// Born modelling: the traces' derivative along δw, J δw, by propagating the perturbation
    /// with the secondary source δw ⊙ Gⁿ.
    pub fn born(&self, w: &[T], dw: &[T], shot: &Shot) -> Traces {
        let grid = &self.prop.grid;
        let mut traces = vec![0.0; shot.receivers.len() * self.nt];
        let mut state = WaveState::zeros(grid);
        let mut pert = WaveState::zeros(grid);
        let mut bracket = vec![T::ZERO; grid.len()];
        for n in 0..self.nt - 1 {
            self.advance(w, shot, n, &mut state, Some(&mut bracket));
            self.prop.step(w, &mut pert, None);
            for ((p, d), b) in pert.cur.iter_mut().zip(dw).zip(&bracket) {
                *p += *d * *b;
            }
            self.record(&pert.cur, shot, n + 1, &mut traces);
        }
        traces
    }
}
