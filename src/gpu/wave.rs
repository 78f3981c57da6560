//! The batched acoustic step and its transpose on the device (`kernels/wave_step.cu`,
//! `kernels/wave_step_adjoint.cu`): `batch` independent wavefields (shots × members) in the
//! CPU's storage layout, stepped by the same passes as `physics::wave::Propagator::step` and
//! `step_adjoint`, in single precision.

use std::sync::Arc;

use cudarc::driver::{
    CudaFunction, CudaModule, CudaSlice, CudaViewMut, DeviceRepr, LaunchConfig, PushKernelArg,
};

use super::{Gpu, GpuError, KERNELS};

mod shots;
use shots::ShotFunctions;
pub use shots::{ShotPoints, ShotTape, bytes as shots_bytes};

/// What the kernels need of a propagator (filled in by the physics): grid points and halo per
/// axis (z, y, x), storage strides, CPML width, dimensions, stencil weights already divided by
/// h (first derivative) and h² (second), and the CPML coefficients per axis by storage
/// coordinate (empty for a missing axis).
#[derive(Debug, Clone)]
pub struct WaveGeometry {
    pub shape: [usize; 3],
    pub halo: [usize; 3],
    pub strides: [usize; 3],
    pub npml: usize,
    pub ndim: usize,
    pub c1: Vec<f32>,
    pub c2: Vec<f32>,
    pub a: [Vec<f32>; 3],
    pub b: [Vec<f32>; 3],
}

impl WaveGeometry {
    /// Stored values per field.
    pub fn len(&self) -> usize {
        let alloc: Vec<usize> = (0..3).map(|d| self.shape[d] + 2 * self.halo[d]).collect();
        alloc.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The kernels' `Grid` argument (kernels/wave_step.cu), passed by value.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct GridArg {
    nz: i32,
    ny: i32,
    nx: i32,
    hz: i32,
    hy: i32,
    hx: i32,
    sz: i64,
    sy: i64,
    npml: i32,
}

// SAFETY: a plain #[repr(C)] struct of integers with the field order, types and alignment of
// `struct Grid` in kernels/wave_step.cu.
unsafe impl DeviceRepr for GridArg {}

/// One field's host state, in the CPU's storage layout.
pub struct HostFields<'a> {
    pub cur: &'a [f32],
    pub prev: &'a [f32],
    pub psi: [&'a [f32]; 3],
    pub zeta: [&'a [f32]; 3],
}

/// Device fields of a batch: (uⁿ, uⁿ⁻¹) and ψ, ζ per axis, `batch` fields one after another.
pub struct WaveFields {
    pub cur: CudaSlice<f32>,
    pub prev: CudaSlice<f32>,
    pub psi: Vec<CudaSlice<f32>>,
    pub zeta: Vec<CudaSlice<f32>>,
}

/// Device scratch of the adjoint step: q = w ⊙ ū and one field per axis (written on that axis'
/// layer only).
pub struct AdjointScratch {
    pub q: CudaSlice<f32>,
    t: Vec<CudaSlice<f32>>,
}

/// The forward step's kernels (kernels/wave_step.cu).
struct StepFunctions {
    _module: Arc<CudaModule>,
    psi: CudaFunction,
    leapfrog: CudaFunction,
    zeta: CudaFunction,
}

/// The adjoint kernels (kernels/wave_step_adjoint.cu).
struct AdjointFunctions {
    _module: Arc<CudaModule>,
    q: CudaFunction,
    leapfrog: CudaFunction,
    copy: CudaFunction,
    d1: CudaFunction,
    d2: CudaFunction,
    zeta: CudaFunction,
    psi: CudaFunction,
}

/// The wave kernels compiled for one device, once per run; shared by every [`WaveStep`].
pub struct WaveKernels {
    gpu: Arc<Gpu>,
    step: StepFunctions,
    adjoint: AdjointFunctions,
    shots: ShotFunctions,
}

impl WaveKernels {
    /// Compiles kernels/wave_step.cu, wave_step_adjoint.cu and wave_modelling.cu with NVRTC for
    /// the device's architecture and loads them.
    pub fn compile(gpu: Arc<Gpu>) -> Result<Arc<Self>, GpuError> {
        let load = |file: &str| -> Result<Arc<CudaModule>, GpuError> {
            let source = KERNELS
                .iter()
                .find(|k| k.file == file)
                .expect("embedded kernel file");
            let ptx = super::compile_ptx(source, gpu.arch()?)?;
            gpu.context.load_module(ptx).map_err(driver)
        };
        let module = load("wave_step.cu")?;
        let function = |name: &str| module.load_function(name).map_err(driver);
        let step = StepFunctions {
            psi: function("wave_psi")?,
            leapfrog: function("wave_leapfrog")?,
            zeta: function("wave_zeta")?,
            _module: module.clone(),
        };
        let adjoint_module = load("wave_step_adjoint.cu")?;
        let function = |name: &str| adjoint_module.load_function(name).map_err(driver);
        let adjoint = AdjointFunctions {
            q: function("wave_adjoint_q")?,
            leapfrog: function("wave_adjoint_leapfrog")?,
            copy: function("wave_adjoint_copy")?,
            d1: function("wave_adjoint_d1")?,
            d2: function("wave_adjoint_d2")?,
            zeta: function("wave_adjoint_zeta")?,
            psi: function("wave_adjoint_psi")?,
            _module: adjoint_module.clone(),
        };
        let shots = ShotFunctions::load(load("wave_modelling.cu")?)?;
        Ok(Arc::new(Self {
            gpu,
            step,
            adjoint,
            shots,
        }))
    }

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }
}

/// The step of one geometry for a batch of fields on one device.
pub struct WaveStep {
    kernels: Arc<WaveKernels>,
    gpu: Arc<Gpu>,
    grid: GridArg,
    geometry: WaveGeometry,
    batch: usize,
    c1: CudaSlice<f32>,
    c2: CudaSlice<f32>,
    a: Vec<CudaSlice<f32>>,
    b: Vec<CudaSlice<f32>>,
    /// w = dt² v²: one field shared by the batch (`w_stride` 0) or one per field.
    w: CudaSlice<f32>,
    w_stride: i64,
}

fn driver(e: impl std::fmt::Display) -> GpuError {
    GpuError::Driver(e.to_string())
}

impl WaveStep {
    /// Uploads the geometry and `w` (the storage length for a shared w, `batch` times it for
    /// one per field) for the compiled `kernels`.
    pub fn new(
        kernels: &Arc<WaveKernels>,
        geometry: WaveGeometry,
        batch: usize,
        w: &[f32],
    ) -> Result<Self, GpuError> {
        let gpu = kernels.gpu.clone();
        let s = &gpu.stream;
        let upload = |v: &[f32]| -> Result<CudaSlice<f32>, GpuError> {
            // A missing axis gets a one-value buffer: no pass runs on that axis.
            if v.is_empty() {
                s.alloc_zeros::<f32>(1).map_err(driver)
            } else {
                s.clone_htod(v).map_err(driver)
            }
        };
        let grid = GridArg {
            nz: geometry.shape[0] as i32,
            ny: geometry.shape[1] as i32,
            nx: geometry.shape[2] as i32,
            hz: geometry.halo[0] as i32,
            hy: geometry.halo[1] as i32,
            hx: geometry.halo[2] as i32,
            sz: geometry.strides[0] as i64,
            sy: geometry.strides[1] as i64,
            npml: geometry.npml as i32,
        };
        let mut step = Self {
            c1: upload(&geometry.c1)?,
            c2: upload(&geometry.c2)?,
            a: geometry
                .a
                .iter()
                .map(|v| upload(v))
                .collect::<Result<_, _>>()?,
            b: geometry
                .b
                .iter()
                .map(|v| upload(v))
                .collect::<Result<_, _>>()?,
            w: upload(&[0.0])?,
            w_stride: 0,
            kernels: kernels.clone(),
            grid,
            geometry,
            batch,
            gpu: gpu.clone(),
        };
        step.set_weights(w)?;
        Ok(step)
    }

    /// Replaces w = dt² v²: the storage length (shared by the batch) or `batch` times it.
    pub fn set_weights(&mut self, w: &[f32]) -> Result<(), GpuError> {
        let n = self.geometry.len();
        self.w_stride = if w.len() == n {
            0
        } else if w.len() == n * self.batch {
            n as i64
        } else {
            return Err(GpuError::Driver(format!(
                "w has {} values: expected {n} (shared) or {} (one per field)",
                w.len(),
                n * self.batch
            )));
        };
        let s = &self.gpu.stream;
        if self.w.len() == w.len() {
            s.memcpy_htod(w, &mut self.w).map_err(driver)
        } else {
            self.w = s.clone_htod(w).map_err(driver)?;
            Ok(())
        }
    }

    /// Zero fields for the batch.
    pub fn zero_fields(&self) -> Result<WaveFields, GpuError> {
        let len = self.geometry.len() * self.batch;
        let zeros = || self.gpu.stream.alloc_zeros::<f32>(len).map_err(driver);
        let per_axis =
            || -> Result<Vec<CudaSlice<f32>>, GpuError> { (0..3).map(|_| zeros()).collect() };
        Ok(WaveFields {
            cur: zeros()?,
            prev: zeros()?,
            psi: per_axis()?,
            zeta: per_axis()?,
        })
    }

    fn config(&self) -> LaunchConfig {
        let [nz, ny, nx] = self.geometry.shape;
        LaunchConfig {
            grid_dim: (
                nx.div_ceil(32) as u32,
                ny.div_ceil(4) as u32,
                (nz * self.batch) as u32,
            ),
            block_dim: (32, 4, 1),
            shared_mem_bytes: 0,
        }
    }

    /// The launch of a pass over the points within `width` of both ends of `axis` only (the
    /// kernels' `slab_point`): min(2 width, n) coordinates along that axis.
    fn slab_config(&self, axis: i32, width: i32) -> LaunchConfig {
        let [nz, ny, nx] = self.geometry.shape;
        let width = width.max(0) as usize;
        let slab = |n: usize| if 2 * width < n { 2 * width } else { n };
        let (ez, ey, ex) = match axis {
            0 => (slab(nz), ny, nx),
            1 => (nz, slab(ny), nx),
            _ => (nz, ny, slab(nx)),
        };
        LaunchConfig {
            grid_dim: (
                ex.div_ceil(32) as u32,
                ey.div_ceil(4) as u32,
                (ez * self.batch) as u32,
            ),
            block_dim: (32, 4, 1),
            shared_mem_bytes: 0,
        }
    }

    /// The axes with CPML passes: every axis of the grid, none without a layer (npml 0: the
    /// passes would change nothing).
    fn axes(&self) -> Vec<i32> {
        (0..3i32)
            .filter(|&d| self.geometry.npml > 0 && (self.geometry.ndim == 3 || d != 1))
            .collect()
    }

    /// One step of every field of the batch: (uⁿ, uⁿ⁻¹) becomes (uⁿ⁺¹, uⁿ).
    pub fn step(&self, f: &mut WaveFields) -> Result<(), GpuError> {
        self.step_with(f, None)
    }

    /// [`step`](Self::step), and with `bracket` (batch × n values) the bracket Gⁿ of
    /// `Propagator::step` (the Laplacian with its CPML terms, before the source) written into it.
    pub fn step_with(
        &self,
        f: &mut WaveFields,
        mut bracket: Option<&mut CudaViewMut<f32>>,
    ) -> Result<(), GpuError> {
        let s = &self.gpu.stream;
        let k = &self.kernels.step;
        let cfg = self.config();
        let n = self.geometry.len() as i64;
        let batch = self.batch as i32;
        let ndim = self.geometry.ndim as i32;
        let npml = self.geometry.npml as i32;
        let null = 0u64;
        for axis in self.axes() {
            let d = axis as usize;
            let mut launch = s.launch_builder(&k.psi);
            launch
                .arg(&self.grid)
                .arg(&axis)
                .arg(&n)
                .arg(&batch)
                .arg(&self.c1)
                .arg(&self.a[d])
                .arg(&self.b[d])
                .arg(&f.cur)
                .arg(&mut f.psi[d]);
            // SAFETY: the arguments follow wave_psi's signature in kernels/wave_step.cu; every
            // buffer holds `batch` fields of `n` values (a and b one value per storage coordinate
            // of the axis), and the kernel reads within the halo of each field.
            unsafe { launch.launch(self.slab_config(axis, npml)) }.map_err(driver)?;
        }
        let mut launch = s.launch_builder(&k.leapfrog);
        launch
            .arg(&self.grid)
            .arg(&ndim)
            .arg(&n)
            .arg(&batch)
            .arg(&self.c2)
            .arg(&self.w_stride)
            .arg(&self.w)
            .arg(&f.cur)
            .arg(&mut f.prev);
        match bracket.as_deref_mut() {
            Some(b) => launch.arg(b),
            None => launch.arg(&null),
        };
        // SAFETY: wave_leapfrog's signature; the bracket is batch × n values or a null pointer.
        unsafe { launch.launch(cfg) }.map_err(driver)?;
        for axis in self.axes() {
            let d = axis as usize;
            let mut launch = s.launch_builder(&k.zeta);
            launch
                .arg(&self.grid)
                .arg(&axis)
                .arg(&n)
                .arg(&batch)
                .arg(&self.c1)
                .arg(&self.c2)
                .arg(&self.a[d])
                .arg(&self.b[d])
                .arg(&self.w_stride)
                .arg(&self.w)
                .arg(&f.cur)
                .arg(&f.psi[d])
                .arg(&mut f.zeta[d])
                .arg(&mut f.prev);
            match bracket.as_deref_mut() {
                Some(b) => launch.arg(b),
                None => launch.arg(&null),
            };
            // SAFETY: wave_zeta's signature, buffers as for wave_psi and wave_leapfrog.
            unsafe { launch.launch(self.slab_config(axis, npml)) }.map_err(driver)?;
        }
        std::mem::swap(&mut f.cur, &mut f.prev);
        Ok(())
    }

    /// Zero adjoint scratch for the batch.
    pub fn adjoint_scratch(&self) -> Result<AdjointScratch, GpuError> {
        let len = self.geometry.len() * self.batch;
        let zeros = || self.gpu.stream.alloc_zeros::<f32>(len).map_err(driver);
        Ok(AdjointScratch {
            q: zeros()?,
            t: (0..3).map(|_| zeros()).collect::<Result<_, _>>()?,
        })
    }

    /// One adjoint step of every field: (ūⁿ⁺¹, ūⁿ, ψ̄, ζ̄) becomes (ūⁿ, ūⁿ⁻¹, ψ̄, ζ̄) of the step
    /// before; `scratch.q` holds w ⊙ ūⁿ⁺¹ afterwards.
    pub fn step_adjoint(
        &self,
        f: &mut WaveFields,
        scratch: &mut AdjointScratch,
    ) -> Result<(), GpuError> {
        let s = &self.gpu.stream;
        let cfg = self.config();
        let n = self.geometry.len() as i64;
        let batch = self.batch as i32;
        let ndim = self.geometry.ndim as i32;
        let npml = self.geometry.npml as i32;
        let reach = npml + 4;
        let k = &self.kernels.adjoint;
        let mut launch = s.launch_builder(&k.q);
        launch
            .arg(&self.grid)
            .arg(&n)
            .arg(&batch)
            .arg(&self.w_stride)
            .arg(&self.w)
            .arg(&f.cur)
            .arg(&mut scratch.q);
        // SAFETY: wave_adjoint_q's signature; every buffer holds `batch` fields of `n` values.
        unsafe { launch.launch(cfg) }.map_err(driver)?;
        let mut launch = s.launch_builder(&k.leapfrog);
        launch
            .arg(&self.grid)
            .arg(&ndim)
            .arg(&n)
            .arg(&batch)
            .arg(&self.c2)
            .arg(&scratch.q)
            .arg(&mut f.cur)
            .arg(&mut f.prev);
        // SAFETY: wave_adjoint_leapfrog's signature; q is complete (same stream, previous launch).
        unsafe { launch.launch(cfg) }.map_err(driver)?;
        for axis in self.axes() {
            let d = axis as usize;
            let t = &mut scratch.t[d];
            let mut launch = s.launch_builder(&k.copy);
            launch
                .arg(&self.grid)
                .arg(&axis)
                .arg(&n)
                .arg(&batch)
                .arg(&scratch.q)
                .arg(&mut *t);
            // SAFETY: wave_adjoint_copy's signature; t has the batch's length.
            unsafe { launch.launch(self.slab_config(axis, npml)) }.map_err(driver)?;
            self.minus_d1(axis, npml, t, &mut f.psi[d])?;
            let mut launch = s.launch_builder(&k.zeta);
            launch
                .arg(&self.grid)
                .arg(&axis)
                .arg(&n)
                .arg(&batch)
                .arg(&self.a[d])
                .arg(&self.b[d])
                .arg(&scratch.q)
                .arg(&mut f.zeta[d])
                .arg(&mut *t);
            // SAFETY: wave_adjoint_zeta's signature; a and b hold one value per storage coordinate.
            unsafe { launch.launch(self.slab_config(axis, npml)) }.map_err(driver)?;
            let mut launch = s.launch_builder(&k.d2);
            launch
                .arg(&self.grid)
                .arg(&axis)
                .arg(&reach)
                .arg(&n)
                .arg(&batch)
                .arg(&self.c2)
                .arg(&*t)
                .arg(&mut f.prev);
            // SAFETY: wave_adjoint_d2's signature.
            unsafe { launch.launch(self.slab_config(axis, reach)) }.map_err(driver)?;
            self.minus_d1(axis, npml, t, &mut f.psi[d])?;
            let mut launch = s.launch_builder(&k.psi);
            launch
                .arg(&self.grid)
                .arg(&axis)
                .arg(&n)
                .arg(&batch)
                .arg(&self.a[d])
                .arg(&self.b[d])
                .arg(&mut f.psi[d])
                .arg(&mut *t);
            // SAFETY: wave_adjoint_psi's signature.
            unsafe { launch.launch(self.slab_config(axis, npml)) }.map_err(driver)?;
            self.minus_d1(axis, reach, t, &mut f.prev)?;
        }
        std::mem::swap(&mut f.cur, &mut f.prev);
        Ok(())
    }

    /// target −= D1 t along `axis` within `width` of its ends (wave_adjoint_d1).
    fn minus_d1(
        &self,
        axis: i32,
        width: i32,
        t: &CudaSlice<f32>,
        target: &mut CudaSlice<f32>,
    ) -> Result<(), GpuError> {
        let (n, batch, minus) = (self.geometry.len() as i64, self.batch as i32, -1.0f32);
        let mut launch = self.gpu.stream.launch_builder(&self.kernels.adjoint.d1);
        launch
            .arg(&self.grid)
            .arg(&axis)
            .arg(&width)
            .arg(&minus)
            .arg(&n)
            .arg(&batch)
            .arg(&self.c1)
            .arg(t)
            .arg(target);
        // SAFETY: wave_adjoint_d1's signature; t and target hold `batch` fields of `n` values,
        // and the kernel reads t within each field's halo.
        unsafe { launch.launch(self.slab_config(axis, width)) }.map_err(driver)?;
        Ok(())
    }

    /// Copies the host state of every field of the batch to the device, ψ and ζ included
    /// (empty slices for a missing axis).
    pub fn upload_all<'a>(
        &self,
        f: &mut WaveFields,
        host: &[HostFields<'a>],
    ) -> Result<(), GpuError> {
        let s = &self.gpu.stream;
        let n = self.geometry.len();
        let cat = |pick: &dyn Fn(&HostFields<'a>) -> &'a [f32]| -> Vec<f32> {
            host.iter()
                .flat_map(|h| {
                    let v = pick(h);
                    if v.is_empty() {
                        vec![0.0; n]
                    } else {
                        v.to_vec()
                    }
                })
                .collect()
        };
        s.memcpy_htod(&cat(&|h| h.cur), &mut f.cur)
            .map_err(driver)?;
        s.memcpy_htod(&cat(&|h| h.prev), &mut f.prev)
            .map_err(driver)?;
        for d in 0..3 {
            s.memcpy_htod(&cat(&|h| h.psi[d]), &mut f.psi[d])
                .map_err(driver)?;
            s.memcpy_htod(&cat(&|h| h.zeta[d]), &mut f.zeta[d])
                .map_err(driver)?;
        }
        Ok(())
    }

    /// Copies host fields (`batch` × n values each) to the device.
    pub fn upload(&self, f: &mut WaveFields, cur: &[f32], prev: &[f32]) -> Result<(), GpuError> {
        let s = &self.gpu.stream;
        s.memcpy_htod(cur, &mut f.cur).map_err(driver)?;
        s.memcpy_htod(prev, &mut f.prev).map_err(driver)
    }

    /// uⁿ of every field (batch × n values).
    pub fn download_cur(&self, f: &WaveFields) -> Result<Vec<f32>, GpuError> {
        self.gpu.stream.clone_dtoh(&f.cur).map_err(driver)
    }

    /// Waits for the stream.
    pub fn synchronize(&self) -> Result<(), GpuError> {
        self.gpu.stream.synchronize().map_err(driver)
    }
}
