//! Batched surface-wave dispersion curves on the device (`kernels/dispersion_curves.cu`, the
//! port of `physics::dispersion::curves` with its Love and Rayleigh secular functions, root
//! brackets, Brent refinement and dual-number derivatives): one thread per (member, query), a
//! query being (wave, period, mode), in double precision. Plain arrays in and out: the gpu layer
//! sits below the physics, whose `LayeredModel::rows` give the model layout.

use std::sync::Arc;

use cudarc::driver::{
    CudaFunction, CudaModule, CudaSlice, LaunchArgs, LaunchConfig, PushKernelArg,
};

use super::{Gpu, GpuError, KERNELS};

/// The wave of a query: Love.
pub const LOVE: u8 = 0;
/// The wave of a query: Rayleigh.
pub const RAYLEIGH: u8 = 1;
/// The most layers (half-space included) a model may have (`MAX_LAYERS` of the kernel file).
pub const MAX_LAYERS: usize = 64;

/// What a batch computes besides the phase velocities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// Group velocities U.
    pub group: bool,
    /// ∂c/∂(thickness, vp, vs, rho) of every layer.
    pub phase_gradient: bool,
    /// ∂U/∂(thickness, vp, vs, rho) of every layer (and U, as `group`).
    pub group_gradient: bool,
}

/// The results of a batch, member-major: value `[m * queries + q]`, gradient
/// `[((m * queries + q) * layers + i) * 4 + p]` with p in LayerSensitivity order (thickness, vp,
/// vs, rho; the half-space's thickness entry is 0). NaN where the mode does not exist. A vector
/// not asked for is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct DispersionBatch {
    pub members: usize,
    pub queries: usize,
    pub layers: usize,
    pub phase: Vec<f64>,
    pub group: Vec<f64>,
    pub phase_gradient: Vec<f64>,
    pub group_gradient: Vec<f64>,
}

impl DispersionBatch {
    /// A batch of `members` × `queries` for models of `layers` layers, nothing computed yet.
    pub fn new(members: usize, queries: usize, layers: usize) -> Self {
        Self {
            members,
            queries,
            layers,
            phase: Vec::new(),
            group: Vec::new(),
            phase_gradient: Vec::new(),
            group_gradient: Vec::new(),
        }
    }

    /// Index of (member, query) in the value arrays.
    pub fn at(&self, member: usize, query: usize) -> usize {
        member * self.queries + query
    }

    /// The 4 × layers gradient entries of (member, query) in `gradient` (one of the two).
    pub fn gradient_of<'a>(&self, gradient: &'a [f64], member: usize, query: usize) -> &'a [f64] {
        let n = 4 * self.layers;
        let start = self.at(member, query) * n;
        &gradient[start..start + n]
    }
}

/// The arguments every entry point starts with: the models, their layer and member counts, and
/// the queries' waves and periods.
struct BatchInputs {
    models: CudaSlice<f64>,
    layers: i32,
    members: i32,
    waves: CudaSlice<i32>,
    periods: CudaSlice<f64>,
}

/// Pushes the arguments every entry point of kernels/dispersion_curves.cu starts with.
fn batch_args<'a, 'b>(
    launch: &'b mut LaunchArgs<'a>,
    inputs: &'a BatchInputs,
) -> &'b mut LaunchArgs<'a> {
    launch
        .arg(&inputs.models)
        .arg(&inputs.layers)
        .arg(&inputs.members)
        .arg(&inputs.waves)
        .arg(&inputs.periods)
}

/// The dispersion kernels compiled for one device, once per run.
pub struct DispersionKernels {
    gpu: Arc<Gpu>,
    _module: Arc<CudaModule>,
    phase: CudaFunction,
    group: CudaFunction,
    phase_gradient: CudaFunction,
    group_gradient: CudaFunction,
}

fn driver(e: impl std::fmt::Display) -> GpuError {
    GpuError::Driver(e.to_string())
}

impl DispersionKernels {
    /// Compiles kernels/dispersion_curves.cu with NVRTC for the device's architecture and loads
    /// its entry points.
    pub fn compile(gpu: Arc<Gpu>) -> Result<Self, GpuError> {
        let source = KERNELS
            .iter()
            .find(|k| k.file == "dispersion_curves.cu")
            .expect("embedded kernel file");
        let ptx = super::compile_ptx(source, gpu.arch()?)?;
        let module = gpu.context.load_module(ptx).map_err(driver)?;
        let function = |name: &str| module.load_function(name).map_err(driver);
        Ok(Self {
            phase: function("dispersion_phase")?,
            group: function("dispersion_group")?,
            phase_gradient: function("dispersion_phase_gradient")?,
            group_gradient: function("dispersion_group_gradient")?,
            _module: module.clone(),
            gpu,
        })
    }

    /// Dispersion curves of a batch: `models` holds members × layers × 4 values, each layer's
    /// (thickness km, vp, vs km/s, rho g/cm³) top down with the half-space last, as
    /// `LayeredModel::rows` (checked models: 0 < vs < vp, rho > 0, thickness > 0 above the
    /// half-space); `queries` are (wave [`LOVE`] or [`RAYLEIGH`], period s, mode 0 = fundamental),
    /// the same for every member. Phase velocities always; the rest as `want` asks.
    pub fn curves(
        &self,
        models: &[f64],
        layers: usize,
        queries: &[(u8, f64, u32)],
        want: Want,
    ) -> Result<DispersionBatch, GpuError> {
        if !(2..=MAX_LAYERS).contains(&layers) {
            return Err(GpuError::Driver(format!(
                "dispersion: {layers} layers (the kernel takes 2 to {MAX_LAYERS}, half-space included)"
            )));
        }
        if !models.len().is_multiple_of(4 * layers) {
            return Err(GpuError::Driver(format!(
                "dispersion: {} model values are not a whole number of {layers}-layer models",
                models.len()
            )));
        }
        if let Some(q) = queries
            .iter()
            .find(|q| q.0 > RAYLEIGH || q.2 > i32::MAX as u32)
        {
            return Err(GpuError::Driver(format!(
                "dispersion: bad query {q:?} (wave 0 Love or 1 Rayleigh)"
            )));
        }
        let members = models.len() / (4 * layers);
        let n = members * queries.len();
        let mut batch = DispersionBatch::new(members, queries.len(), layers);
        if n == 0 {
            return Ok(batch);
        }
        if n > i32::MAX as usize {
            return Err(GpuError::Driver(format!(
                "dispersion: batch of {n} curves is too large"
            )));
        }
        let s = &self.gpu.stream;
        let waves: Vec<i32> = queries.iter().map(|q| i32::from(q.0)).collect();
        let periods: Vec<f64> = queries.iter().map(|q| q.1).collect();
        let modes: Vec<i32> = queries.iter().map(|q| q.2 as i32).collect();
        let d_models = s.clone_htod(models).map_err(driver)?;
        let d_waves = s.clone_htod(&waves).map_err(driver)?;
        let d_periods = s.clone_htod(&periods).map_err(driver)?;
        let d_modes = s.clone_htod(&modes).map_err(driver)?;
        let (layers_i, members_i, queries_i) =
            (layers as i32, members as i32, queries.len() as i32);
        let cfg = LaunchConfig {
            grid_dim: (n.div_ceil(64) as u32, 1, 1),
            block_dim: (64, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut phase: CudaSlice<f64> = s.alloc_zeros(n).map_err(driver)?;
        let inputs = BatchInputs {
            models: d_models,
            layers: layers_i,
            members: members_i,
            waves: d_waves,
            periods: d_periods,
        };
        let mut launch = s.launch_builder(&self.phase);
        batch_args(&mut launch, &inputs)
            .arg(&d_modes)
            .arg(&queries_i)
            .arg(&mut phase);
        // SAFETY: the arguments follow dispersion_phase's signature in
        // kernels/dispersion_curves.cu; models hold members × layers × 4 values (checked above),
        // the query arrays `queries` values, and phase members × queries; threads past the batch
        // return.
        unsafe { launch.launch(cfg) }.map_err(driver)?;
        if want.group {
            let mut group: CudaSlice<f64> = s.alloc_zeros(n).map_err(driver)?;
            let mut launch = s.launch_builder(&self.group);
            batch_args(&mut launch, &inputs)
                .arg(&queries_i)
                .arg(&phase)
                .arg(&mut group);
            // SAFETY: dispersion_group's signature; phase and group hold members × queries.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
            batch.group = s.clone_dtoh(&group).map_err(driver)?;
        }
        if want.phase_gradient {
            let mut gradient: CudaSlice<f64> = s.alloc_zeros(n * 4 * layers).map_err(driver)?;
            let mut launch = s.launch_builder(&self.phase_gradient);
            batch_args(&mut launch, &inputs)
                .arg(&queries_i)
                .arg(&phase)
                .arg(&mut gradient);
            // SAFETY: dispersion_phase_gradient's signature; gradient holds members × queries ×
            // layers × 4 values.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
            batch.phase_gradient = s.clone_dtoh(&gradient).map_err(driver)?;
        }
        if want.group_gradient {
            let mut group: CudaSlice<f64> = s.alloc_zeros(n).map_err(driver)?;
            let mut gradient: CudaSlice<f64> = s.alloc_zeros(n * 4 * layers).map_err(driver)?;
            let mut launch = s.launch_builder(&self.group_gradient);
            batch_args(&mut launch, &inputs)
                .arg(&queries_i)
                .arg(&phase)
                .arg(&mut group)
                .arg(&mut gradient);
            // SAFETY: dispersion_group_gradient's signature; group holds members × queries
            // values, gradient members × queries × layers × 4.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
            batch.group_gradient = s.clone_dtoh(&gradient).map_err(driver)?;
            if batch.group.is_empty() {
                batch.group = s.clone_dtoh(&group).map_err(driver)?;
            }
        }
        batch.phase = s.clone_dtoh(&phase).map_err(driver)?;
        Ok(batch)
    }
}
