//! Batched travel times and their gradient on the device (`kernels/eikonal_fim.cu`): the
//! discrete equations of `physics::eikonal::fmm` (second-order factored fast marching, Cartesian
//! 2D and 3D grids; the spherical geometry is not ported) solved by parallel Jacobi sweeps until
//! no node changes, and `physics::eikonal::adjoint::adjoint_into` by Jacobi sweeps of the
//! transposed system. Plain arrays in and out: this layer does not know the physics' types.
//!
//! Each (member, source) pair is one field: the member's slowness on the grid's nodes and a
//! point source. Fast marching's acceptance order is read from the converged values (the box
//! first, face neighbours by their values without each other, other nodes by time), and each
//! node replays fast marching's last recomputation of it (triggered by the latest face or edge
//! neighbour accepted before it, seeing the nodes accepted up to then); see the kernel file.

use std::sync::Arc;

use cudarc::driver::{
    CudaFunction, CudaModule, CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg,
};

use super::{Gpu, GpuError, KERNELS};

const SLOTS: usize = 12;
const BLOCK: u32 = 128;

fn driver(e: impl std::fmt::Display) -> GpuError {
    GpuError::Driver(e.to_string())
}

/// A Cartesian grid (km) of `ndim` (2 or 3) axes, x fastest; the kernel's `EikonalGrid`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EikonalGrid {
    pub ndim: usize,
    pub shape: [usize; 3],
    pub spacing: [f64; 3],
    pub origin: [f64; 3],
}

impl EikonalGrid {
    pub fn n_nodes(&self) -> usize {
        self.shape[..self.ndim].iter().product()
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct GridArg {
    ndim: i32,
    shape: [i32; 3],
    spacing: [f64; 3],
    origin: [f64; 3],
}

// SAFETY: a plain #[repr(C)] struct with the field order, types and alignment of
// `struct EikonalGrid` in kernels/eikonal_fim.cu (4 ints, then 6 doubles).
unsafe impl DeviceRepr for GridArg {}

/// One (member, source) pair: the member's slowness field, the source's position (grid units,
/// km; unused axes 0) and the slowness at the source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairSource {
    pub member: usize,
    pub position: [f64; 3],
    pub slowness: f64,
}

/// The converged solve of a batch, kept on the device for [`TravelTimeKernels::gradient`].
pub struct TravelTimeSolution {
    grid: EikonalGrid,
    pairs: Vec<PairSource>,
    /// τ = T/T₀ per (pair, node), pair-major.
    pub tau: Vec<f64>,
    /// T per (pair, node), pair-major.
    pub time: Vec<f64>,
    /// Forward sweeps until no node changed.
    pub sweeps: usize,
    member: CudaSlice<i32>,
    slowness: CudaSlice<f64>,
    src_pos: CudaSlice<f64>,
    box_mask: CudaSlice<i32>,
    tau_dev: CudaSlice<f64>,
    rules: CudaSlice<i32>,
}

/// ∂L/∂s per (pair, node) (pair-major; sum the pairs of a member for its gradient) and
/// ∂L/∂s_src per pair.
#[derive(Debug, Clone)]
pub struct TravelTimeGradient {
    pub slowness: Vec<f64>,
    pub source: Vec<f64>,
    /// Adjoint sweeps until λ stopped changing.
    pub sweeps: usize,
}

/// kernels/eikonal_fim.cu compiled for one device.
pub struct TravelTimeKernels {
    gpu: Arc<Gpu>,
    _module: Arc<CudaModule>,
    init: CudaFunction,
    sweep: CudaFunction,
    coefficients: CudaFunction,
    adjoint_sweep: CudaFunction,
    gradient: CudaFunction,
    source_gradient: CudaFunction,
}

impl TravelTimeKernels {
    /// Compiles kernels/eikonal_fim.cu with NVRTC for the device's architecture and loads it.
    pub fn compile(gpu: Arc<Gpu>) -> Result<Arc<Self>, GpuError> {
        let source = KERNELS
            .iter()
            .find(|k| k.file == "eikonal_fim.cu")
            .expect("embedded kernel file");
        let ptx = super::compile_ptx(source, gpu.arch()?)?;
        let module = gpu.context.load_module(ptx).map_err(driver)?;
        let f = |name: &str| module.load_function(name).map_err(driver);
        Ok(Arc::new(Self {
            init: f("eikonal_init")?,
            sweep: f("eikonal_sweep")?,
            coefficients: f("eikonal_adjoint_coefficients")?,
            adjoint_sweep: f("eikonal_adjoint_sweep")?,
            gradient: f("eikonal_adjoint_gradient")?,
            source_gradient: f("eikonal_source_gradient")?,
            _module: module,
            gpu,
        }))
    }

    fn config(threads: usize) -> LaunchConfig {
        LaunchConfig {
            grid_dim: ((threads as u32).div_ceil(BLOCK).max(1), 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    /// Travel times of every pair: `slowness` holds the members' fields one after another
    /// (members × nodes). Sweeps until no node changes, at most `max_sweeps`
    /// ([`GpuError::NotConverged`] beyond).
    pub fn solve(
        &self,
        grid: &EikonalGrid,
        slowness: &[f64],
        pairs: &[PairSource],
        max_sweeps: usize,
    ) -> Result<TravelTimeSolution, GpuError> {
        let n = grid.n_nodes();
        if !(grid.ndim == 2 || grid.ndim == 3) || !slowness.len().is_multiple_of(n) {
            return Err(GpuError::Driver(format!(
                "eikonal: {}-D grid with {n} nodes and {} slowness values",
                grid.ndim,
                slowness.len()
            )));
        }
        let members = slowness.len() / n;
        if let Some(p) = pairs.iter().find(|p| p.member >= members) {
            return Err(GpuError::Driver(format!(
                "eikonal: pair of member {} with {members} members",
                p.member
            )));
        }
        let arg = GridArg {
            ndim: grid.ndim as i32,
            shape: std::array::from_fn(|a| {
                if a < grid.ndim {
                    grid.shape[a] as i32
                } else {
                    1
                }
            }),
            spacing: std::array::from_fn(|a| if a < grid.ndim { grid.spacing[a] } else { 1.0 }),
            origin: std::array::from_fn(|a| if a < grid.ndim { grid.origin[a] } else { 0.0 }),
        };
        let s = &self.gpu.stream;
        let total = pairs.len() * n;
        let np = pairs.len() as i32;
        let member_h: Vec<i32> = pairs.iter().map(|p| p.member as i32).collect();
        let pos_h: Vec<f64> = pairs
            .iter()
            .flat_map(|p| (0..3).map(move |a| if a < grid.ndim { p.position[a] } else { 0.0 }))
            .collect();
        let src_s_h: Vec<f64> = pairs.iter().map(|p| p.slowness).collect();
        let member = s.clone_htod(&member_h).map_err(driver)?;
        let slowness_d = s.clone_htod(slowness).map_err(driver)?;
        let src_pos = s.clone_htod(&pos_h).map_err(driver)?;
        let src_s = s.clone_htod(&src_s_h).map_err(driver)?;
        let zeros = |len: usize| s.alloc_zeros::<f64>(len.max(1)).map_err(driver);
        let (mut tau, mut time, mut excl) = (
            [zeros(total)?, zeros(total)?],
            [zeros(total)?, zeros(total)?],
            [zeros(6 * total)?, zeros(6 * total)?],
        );
        let mut rules = s.alloc_zeros::<i32>(total.max(1)).map_err(driver)?;
        let mut box_mask = s.alloc_zeros::<i32>(total.max(1)).map_err(driver)?;
        let mut changed = s.alloc_zeros::<i32>(1).map_err(driver)?;
        let cfg = Self::config(total);
        {
            let mut launch = s.launch_builder(&self.init);
            launch
                .arg(&arg)
                .arg(&np)
                .arg(&member)
                .arg(&slowness_d)
                .arg(&src_pos)
                .arg(&src_s)
                .arg(&mut tau[0])
                .arg(&mut time[0])
                .arg(&mut excl[0])
                .arg(&mut rules)
                .arg(&mut box_mask);
            // SAFETY: every buffer holds pairs × nodes values (excl 6 per node) of the types of
            // eikonal_init's parameters; threads beyond pairs × nodes return at once.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
        }
        let mut cur = 0;
        let mut sweeps = None;
        for it in 1..=max_sweeps {
            s.memset_zeros(&mut changed).map_err(driver)?;
            let (old_tau, new_tau) = split(&mut tau, cur);
            let (old_time, new_time) = split(&mut time, cur);
            let (old_excl, new_excl) = split(&mut excl, cur);
            let mut launch = s.launch_builder(&self.sweep);
            launch
                .arg(&arg)
                .arg(&np)
                .arg(&member)
                .arg(&slowness_d)
                .arg(&src_pos)
                .arg(&box_mask)
                .arg(old_tau)
                .arg(old_time)
                .arg(old_excl)
                .arg(new_tau)
                .arg(new_time)
                .arg(new_excl)
                .arg(&mut rules)
                .arg(&mut changed);
            // SAFETY: as for eikonal_init; the old and new buffers are distinct allocations, so
            // no thread reads what another writes within the launch.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
            cur = 1 - cur;
            if s.clone_dtoh(&changed).map_err(driver)?[0] == 0 {
                sweeps = Some(it);
                break;
            }
        }
        let sweeps = sweeps.ok_or(GpuError::NotConverged {
            kernel: "eikonal_sweep",
            sweeps: max_sweeps,
        })?;
        let [t0, t1] = tau;
        let tau_dev = if cur == 0 { t0 } else { t1 };
        let tau_h = s.clone_dtoh(&tau_dev).map_err(driver)?;
        let time_h = s.clone_dtoh(&time[cur]).map_err(driver)?;
        Ok(TravelTimeSolution {
            grid: *grid,
            pairs: pairs.to_vec(),
            tau: tau_h[..total].to_vec(),
            time: time_h[..total].to_vec(),
            sweeps,
            member,
            slowness: slowness_d,
            src_pos,
            box_mask,
            tau_dev,
            rules,
        })
    }

    /// ∂L/∂s for the cotangent `tau_bar` = ∂L/∂τ per (pair, node) (what `adjoint_into` takes;
    /// for receivers, scatter T₀(x_r) × the interpolation weights × ∂L/∂T_r), by sweeps of the
    /// transposed converged system until λ stops changing (at most `max_sweeps`).
    pub fn gradient(
        &self,
        solution: &TravelTimeSolution,
        tau_bar: &[f64],
        max_sweeps: usize,
    ) -> Result<TravelTimeGradient, GpuError> {
        let grid = &solution.grid;
        let n = grid.n_nodes();
        let total = solution.pairs.len() * n;
        if tau_bar.len() != total {
            return Err(GpuError::Driver(format!(
                "eikonal: {} cotangent values for {total}",
                tau_bar.len()
            )));
        }
        let arg = GridArg {
            ndim: grid.ndim as i32,
            shape: std::array::from_fn(|a| {
                if a < grid.ndim {
                    grid.shape[a] as i32
                } else {
                    1
                }
            }),
            spacing: std::array::from_fn(|a| if a < grid.ndim { grid.spacing[a] } else { 1.0 }),
            origin: std::array::from_fn(|a| if a < grid.ndim { grid.origin[a] } else { 0.0 }),
        };
        let s = &self.gpu.stream;
        let np = solution.pairs.len() as i32;
        let mut dep = s
            .alloc_zeros::<i64>((SLOTS * total).max(1))
            .map_err(driver)?;
        let mut coef = s
            .alloc_zeros::<f64>((SLOTS * total).max(1))
            .map_err(driver)?;
        let mut s_coef = s.alloc_zeros::<f64>(total.max(1)).map_err(driver)?;
        let cfg = Self::config(total);
        {
            let mut launch = s.launch_builder(&self.coefficients);
            launch
                .arg(&arg)
                .arg(&np)
                .arg(&solution.member)
                .arg(&solution.slowness)
                .arg(&solution.src_pos)
                .arg(&solution.box_mask)
                .arg(&solution.tau_dev)
                .arg(&solution.rules)
                .arg(&mut dep)
                .arg(&mut coef)
                .arg(&mut s_coef);
            // SAFETY: the solve's buffers (pairs × nodes) and SLOTS values per node in dep/coef.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
        }
        let r = s.clone_htod(tau_bar).map_err(driver)?;
        let mut lambda = [
            s.clone_htod(tau_bar).map_err(driver)?,
            s.alloc_zeros::<f64>(total.max(1)).map_err(driver)?,
        ];
        let mut changed = s.alloc_zeros::<i32>(1).map_err(driver)?;
        let mut cur = 0;
        let mut sweeps = None;
        for it in 1..=max_sweeps {
            s.memset_zeros(&mut changed).map_err(driver)?;
            let (old, new) = split(&mut lambda, cur);
            let mut launch = s.launch_builder(&self.adjoint_sweep);
            launch
                .arg(&arg)
                .arg(&np)
                .arg(&r)
                .arg(&dep)
                .arg(&coef)
                .arg(old)
                .arg(new)
                .arg(&mut changed);
            // SAFETY: pairs × nodes values each; the old and new λ are distinct allocations.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
            cur = 1 - cur;
            if s.clone_dtoh(&changed).map_err(driver)?[0] == 0 {
                sweeps = Some(it);
                break;
            }
        }
        let sweeps = sweeps.ok_or(GpuError::NotConverged {
            kernel: "eikonal_adjoint_sweep",
            sweeps: max_sweeps,
        })?;
        let mut grad = s.alloc_zeros::<f64>(total.max(1)).map_err(driver)?;
        let mut grad_src = s
            .alloc_zeros::<f64>(solution.pairs.len().max(1))
            .map_err(driver)?;
        {
            let mut launch = s.launch_builder(&self.gradient);
            launch
                .arg(&arg)
                .arg(&np)
                .arg(&lambda[cur])
                .arg(&s_coef)
                .arg(&mut grad);
            // SAFETY: pairs × nodes values each.
            unsafe { launch.launch(cfg) }.map_err(driver)?;
        }
        {
            let mut launch = s.launch_builder(&self.source_gradient);
            launch
                .arg(&arg)
                .arg(&np)
                .arg(&solution.src_pos)
                .arg(&lambda[cur])
                .arg(&mut grad_src);
            // SAFETY: one thread per pair, reading its box of λ (pairs × nodes) and 3 position
            // values per pair.
            unsafe { launch.launch(Self::config(solution.pairs.len())) }.map_err(driver)?;
        }
        let g = s.clone_dtoh(&grad).map_err(driver)?;
        let gs = s.clone_dtoh(&grad_src).map_err(driver)?;
        Ok(TravelTimeGradient {
            slowness: g[..total].to_vec(),
            source: gs[..solution.pairs.len()].to_vec(),
            sweeps,
        })
    }
}

/// The (old, new) buffers of a double-buffered pair: `cur` is the old one.
fn split<T>(pair: &mut [CudaSlice<T>; 2], cur: usize) -> (&CudaSlice<T>, &mut CudaSlice<T>) {
    let (a, b) = pair.split_at_mut(1);
    if cur == 0 {
        (&a[0], &mut b[0])
    } else {
        (&b[0], &mut a[0])
    }
}
