//! Shots on the device (`kernels/wave_modelling.cu`): a batch of shots, one field each, stepped,
//! injected and recorded as `physics::wave::WaveSolver::forward` does per shot, and their
//! checkpointed adjoint as `WaveSolver::adjoint` (∂L/∂w per field).
//!
//! Device memory of a batch of B fields of N stored points, interval k, S = 8 fields per state
//! (uⁿ, uⁿ⁻¹, ψ and ζ for three axes, allocated in 2D too):
//!
//! ```text
//!   forward with checkpoints:  (⌈(nt − 1) / k⌉ S + S + 1) · 4 N B  (+ the traces, 8 B R nt)
//!   adjoint:                   (k + 2 S + 4) · 4 N B + 8 N B
//! ```
//!
//! (checkpoints, the working state and w; in the adjoint one segment of k brackets, the
//! recomputed and the adjoint state, the scratch q and one field per axis, and the f64
//! gradient); [`tape`] and [`adjoint`] evaluate them per field.

use std::sync::Arc;

use cudarc::driver::{
    CudaFunction, CudaModule, CudaSlice, CudaViewMut, LaunchConfig, PushKernelArg,
};

use super::{GpuError, WaveFields, WaveStep, driver};

/// Device bytes per field of N stored points: a tape of `segments` checkpoints (its forward run
/// included), and the adjoint's working fields for interval k.
pub mod bytes {
    const STATE: usize = 8;

    pub fn tape(n: usize, segments: usize) -> usize {
        (segments * STATE + STATE + 1) * 4 * n
    }

    pub fn adjoint(n: usize, interval: usize) -> usize {
        (interval + 2 * STATE + 4) * 4 * n + 8 * n
    }
}

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
    inject_adjoint: CudaFunction,
    gradient: CudaFunction,
}

impl ShotFunctions {
    pub(super) fn load(module: Arc<CudaModule>) -> Result<Self, GpuError> {
        Ok(Self {
            inject: module.load_function("wave_inject").map_err(driver)?,
            record: module.load_function("wave_record").map_err(driver)?,
            inject_adjoint: module
                .load_function("wave_inject_adjoint")
                .map_err(driver)?,
            gradient: module
                .load_function("wave_gradient_accumulate")
                .map_err(driver)?,
            _module: module,
        })
    }
}

/// A batch's source and receiver points on the device; sources padded with zero weights to the
/// same count per field.
struct DevicePoints {
    src_idx: CudaSlice<i64>,
    src_w: CudaSlice<f32>,
    per_source: usize,
    /// Receiver r owns rec_idx[first[r]..first[r + 1]].
    first: CudaSlice<i32>,
    rec_idx: CudaSlice<i64>,
    rec_w: CudaSlice<f32>,
    receivers: usize,
    /// The transpose of the receivers, by grid point: point p (storage index adj_idx[p]) takes
    /// adj_weight[j] × cotangent of receiver adj_receiver[j] for j in adj_first[p]..adj_first[p + 1].
    adj_first: CudaSlice<i32>,
    adj_idx: CudaSlice<i64>,
    adj_receiver: CudaSlice<i32>,
    adj_weight: CudaSlice<f32>,
    adj_points: usize,
}

/// What the adjoint of a batch of shots needs: the points, the wavelet and the states before
/// steps 0, k, 2k, … (k = `interval`) on the device.
pub struct ShotTape {
    points: DevicePoints,
    wavelet: Vec<f64>,
    cell_volume: f64,
    checkpoints: Vec<WaveFields>,
    interval: usize,
}

impl WaveStep {
    fn upload_points(&self, points: &ShotPoints) -> Result<DevicePoints, GpuError> {
        assert_eq!(points.sources.len(), self.batch, "one shot per field");
        let s = &self.gpu.stream;
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
        // The receivers' points grouped by grid point, contributions in receiver order.
        let mut by_point: std::collections::BTreeMap<usize, Vec<(i32, f32)>> = Default::default();
        for (r, weights) in points.receivers.iter().enumerate() {
            for &(i, w) in weights {
                by_point.entry(i).or_default().push((r as i32, w as f32));
            }
        }
        let mut adj_first = vec![0i32];
        let (mut adj_idx, mut adj_receiver, mut adj_weight) = (Vec::new(), Vec::new(), Vec::new());
        for (&i, contributions) in &by_point {
            adj_idx.push(i as i64);
            for &(r, w) in contributions {
                adj_receiver.push(r);
                adj_weight.push(w);
            }
            adj_first.push(adj_receiver.len() as i32);
        }
        // A one-value buffer where a list is empty (a zero-length allocation is refused).
        let pad_i = |v: &mut Vec<i64>| v.is_empty().then(|| v.push(0));
        let pad_f = |v: &mut Vec<f32>| v.is_empty().then(|| v.push(0.0));
        pad_i(&mut src_idx);
        pad_f(&mut src_w);
        pad_i(&mut rec_idx);
        pad_f(&mut rec_w);
        pad_i(&mut adj_idx);
        pad_f(&mut adj_weight);
        if adj_receiver.is_empty() {
            adj_receiver.push(0);
        }
        Ok(DevicePoints {
            adj_points: by_point.len(),
            adj_first: s.clone_htod(&adj_first).map_err(driver)?,
            adj_idx: s.clone_htod(&adj_idx).map_err(driver)?,
            adj_receiver: s.clone_htod(&adj_receiver).map_err(driver)?,
            adj_weight: s.clone_htod(&adj_weight).map_err(driver)?,
            src_idx: s.clone_htod(&src_idx).map_err(driver)?,
            src_w: s.clone_htod(&src_w).map_err(driver)?,
            per_source,
            first: s.clone_htod(&first).map_err(driver)?,
            rec_idx: s.clone_htod(&rec_idx).map_err(driver)?,
            rec_w: s.clone_htod(&rec_w).map_err(driver)?,
            receivers: points.receivers.len(),
        })
    }

    /// The source term of one step: u += w s (and bracket += s) at every field's source.
    fn inject(
        &self,
        fields: &mut WaveFields,
        p: &DevicePoints,
        amplitude: f64,
        bracket: Option<&mut CudaViewMut<f32>>,
    ) -> Result<(), GpuError> {
        if amplitude == 0.0 || p.per_source == 0 {
            return Ok(());
        }
        let (n, batch, points) = (
            self.geometry.len() as i64,
            self.batch as i32,
            p.per_source as i32,
        );
        let amplitude = amplitude as f32;
        let null = 0u64;
        let mut launch = self.gpu.stream.launch_builder(&self.kernels.shots.inject);
        launch
            .arg(&n)
            .arg(&batch)
            .arg(&points)
            .arg(&self.w_stride)
            .arg(&amplitude)
            .arg(&p.src_idx)
            .arg(&p.src_w)
            .arg(&self.w)
            .arg(&mut fields.cur);
        match bracket {
            Some(b) => launch.arg(b),
            None => launch.arg(&null),
        };
        let cfg = LaunchConfig {
            grid_dim: (1, self.batch as u32, 1),
            block_dim: (p.per_source as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: wave_inject's signature; idx/weight hold `batch` × `points` entries, every
        // index a stored point of the field; the bracket is batch × n values or null.
        unsafe { launch.launch(cfg) }.map_err(driver)?;
        Ok(())
    }

    fn receiver_config(&self, p: &DevicePoints) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (p.receivers.div_ceil(64) as u32, self.batch as u32, 1),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    /// traces[f][r][step] = the receivers' interpolated u of every field.
    fn record(
        &self,
        fields: &WaveFields,
        p: &DevicePoints,
        nt: usize,
        step: usize,
        traces: &mut CudaSlice<f64>,
    ) -> Result<(), GpuError> {
        if p.receivers == 0 {
            return Ok(());
        }
        let (n, batch, receivers, nt, step) = (
            self.geometry.len() as i64,
            self.batch as i32,
            p.receivers as i32,
            nt as i32,
            step as i32,
        );
        let mut launch = self.gpu.stream.launch_builder(&self.kernels.shots.record);
        launch
            .arg(&n)
            .arg(&batch)
            .arg(&receivers)
            .arg(&nt)
            .arg(&step)
            .arg(&p.first)
            .arg(&p.rec_idx)
            .arg(&p.rec_w)
            .arg(&fields.cur)
            .arg(traces);
        // SAFETY: wave_record's signature; `first` has receivers + 1 offsets into idx/weight,
        // traces holds batch × receivers × nt values.
        unsafe { launch.launch(self.receiver_config(p)) }.map_err(driver)?;
        Ok(())
    }

    /// The whole state of every field copied on the device.
    fn copy_fields(&self, from: &WaveFields, into: &mut WaveFields) -> Result<(), GpuError> {
        let s = &self.gpu.stream;
        s.memcpy_dtod(&from.cur, &mut into.cur).map_err(driver)?;
        s.memcpy_dtod(&from.prev, &mut into.prev).map_err(driver)?;
        for d in 0..3 {
            s.memcpy_dtod(&from.psi[d], &mut into.psi[d])
                .map_err(driver)?;
            s.memcpy_dtod(&from.zeta[d], &mut into.zeta[d])
                .map_err(driver)?;
        }
        Ok(())
    }

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
        Ok(self
            .forward_checkpointed(points, wavelet, cell_volume, usize::MAX)?
            .0)
    }

    /// [`forward_shots`](Self::forward_shots), keeping the states before steps 0, k, 2k, …
    /// (k = `interval`; none for `usize::MAX`) on the device for [`adjoint_shots`](Self::adjoint_shots).
    pub fn forward_checkpointed(
        &self,
        points: &ShotPoints,
        wavelet: &[f64],
        cell_volume: f64,
        interval: usize,
    ) -> Result<(Vec<f64>, ShotTape), GpuError> {
        let nt = wavelet.len();
        let p = self.upload_points(points)?;
        let mut traces = self
            .gpu
            .stream
            .alloc_zeros::<f64>((self.batch * p.receivers * nt).max(1))
            .map_err(driver)?;
        let mut fields = self.zero_fields()?;
        let mut checkpoints = Vec::new();
        for n in 0..nt.saturating_sub(1) {
            if interval != usize::MAX && n % interval == 0 {
                let mut saved = self.zero_fields()?;
                self.copy_fields(&fields, &mut saved)?;
                checkpoints.push(saved);
            }
            self.step(&mut fields)?;
            self.inject(&mut fields, &p, wavelet[n] / cell_volume, None)?;
            self.record(&fields, &p, nt, n + 1, &mut traces)?;
        }
        let mut traces = self.gpu.stream.clone_dtoh(&traces).map_err(driver)?;
        traces.truncate(self.batch * p.receivers * nt);
        let tape = ShotTape {
            points: p,
            wavelet: wavelet.to_vec(),
            cell_volume,
            checkpoints,
            interval,
        };
        Ok((traces, tape))
    }

    /// The adjoint of every shot of the batch for cotangent traces `cot` (∂L/∂d, laid out as
    /// the traces): ∂L/∂w per field (batch × n, f64), as `WaveSolver::adjoint` per shot — the
    /// forward states recomputed segment by segment from the tape's checkpoints.
    pub fn adjoint_shots(&self, tape: &ShotTape, cot: &[f64]) -> Result<Vec<f64>, GpuError> {
        let s = &self.gpu.stream;
        let p = &tape.points;
        let nt = tape.wavelet.len();
        assert_eq!(cot.len(), self.batch * p.receivers * nt, "cotangent length");
        assert!(tape.interval != usize::MAX, "the tape has no checkpoints");
        let len = self.geometry.len() * self.batch;
        let steps = nt - 1;
        let cot = s.clone_htod(cot).map_err(driver)?;
        let mut grad = s.alloc_zeros::<f64>(len).map_err(driver)?;
        let mut brackets = s
            .alloc_zeros::<f32>(tape.interval.min(steps).max(1) * len)
            .map_err(driver)?;
        let mut state = self.zero_fields()?;
        let mut adj = self.zero_fields()?;
        let mut scratch = self.adjoint_scratch()?;
        let (n_i, batch, adj_points, receivers, nt_i) = (
            self.geometry.len() as i64,
            self.batch as i32,
            p.adj_points as i32,
            p.receivers as i32,
            nt as i32,
        );
        let inject_cfg = LaunchConfig {
            grid_dim: (p.adj_points.div_ceil(64) as u32, self.batch as u32, 1),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        };
        let total = len as i64;
        let gradient_cfg = LaunchConfig {
            grid_dim: (len.div_ceil(256) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        for (segment, checkpoint) in tape.checkpoints.iter().enumerate().rev() {
            let start = segment * tape.interval;
            let end = (start + tape.interval).min(steps);
            self.copy_fields(checkpoint, &mut state)?;
            for n in start..end {
                let mut bracket = brackets.slice_mut((n - start) * len..(n - start + 1) * len);
                self.step_with(&mut state, Some(&mut bracket))?;
                let amplitude = tape.wavelet[n] / tape.cell_volume;
                self.inject(&mut state, p, amplitude, Some(&mut bracket))?;
            }
            for n in (start..end).rev() {
                if p.adj_points > 0 {
                    let sample = (n + 1) as i32;
                    let mut launch = s.launch_builder(&self.kernels.shots.inject_adjoint);
                    launch
                        .arg(&n_i)
                        .arg(&batch)
                        .arg(&adj_points)
                        .arg(&receivers)
                        .arg(&nt_i)
                        .arg(&sample)
                        .arg(&p.adj_first)
                        .arg(&p.adj_idx)
                        .arg(&p.adj_receiver)
                        .arg(&p.adj_weight)
                        .arg(&cot)
                        .arg(&mut adj.cur);
                    // SAFETY: wave_inject_adjoint's signature; adj_first has points + 1 offsets
                    // into adj_receiver/adj_weight, every adj_idx a stored point, every receiver
                    // index < receivers, and cot is laid out as the traces (batch × receivers × nt).
                    unsafe { launch.launch(inject_cfg) }.map_err(driver)?;
                }
                let bracket = brackets.slice((n - start) * len..(n - start + 1) * len);
                let mut launch = s.launch_builder(&self.kernels.shots.gradient);
                launch
                    .arg(&total)
                    .arg(&adj.cur)
                    .arg(&bracket)
                    .arg(&mut grad);
                // SAFETY: wave_gradient_accumulate's signature; all three hold `total` values.
                unsafe { launch.launch(gradient_cfg) }.map_err(driver)?;
                self.step_adjoint(&mut adj, &mut scratch)?;
            }
        }
        s.clone_dtoh(&grad).map_err(driver)
    }
}
