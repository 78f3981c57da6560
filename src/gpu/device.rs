//! The CUDA side of the gpu layer (feature `cuda`): probing, NVRTC compilation and the device
//! context of a rank.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaStream};
use cudarc::nvrtc::{CompileOptions, Ptx};

use super::{GpuError, KERNELS, KernelSource};

pub(super) fn probe() -> Result<(), GpuError> {
    // SAFETY: these only try to dlopen the libraries; they neither call into them nor panic.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(GpuError::NoDriver);
    }
    nvrtc_present()
}

fn nvrtc_present() -> Result<(), GpuError> {
    // SAFETY: as above, a dlopen probe only.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(GpuError::NoNvrtc)
    }
}

/// Compiles one kernel file to PTX for `arch` (e.g. "compute_90"). Needs NVRTC only, no GPU.
pub fn compile_ptx(kernel: &KernelSource, arch: &'static str) -> Result<Ptx, GpuError> {
    nvrtc_present()?;
    let opts = CompileOptions {
        arch: Some(arch),
        // The CPU computes without fused multiply-adds; keep the GPU's rounding close to it.
        fmad: Some(false),
        name: Some(kernel.file.to_string()),
        ..Default::default()
    };
    cudarc::nvrtc::compile_ptx_with_opts(kernel.source, opts).map_err(|e| GpuError::Compile {
        file: kernel.file,
        log: e.to_string(),
    })
}

/// A rank's device: its context, a stream, and the kernels compiled for its architecture.
pub struct Gpu {
    pub context: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    pub ordinal: usize,
    pub name: String,
}

impl Gpu {
    /// Opens the device of this rank: the node-local rank's entry of `devices` (default: every
    /// device the driver sees), after probing; compiles nothing yet.
    pub fn open(devices: Option<&[usize]>) -> Result<Self, GpuError> {
        probe()?;
        let count = CudaContext::device_count().map_err(|e| GpuError::Driver(e.to_string()))?;
        let all: Vec<usize> = (0..count.max(0) as usize).collect();
        let usable: Vec<usize> = match devices {
            Some(list) => list.iter().copied().filter(|d| all.contains(d)).collect(),
            None => all,
        };
        let ordinal = super::choose_device(super::node_local_rank(), &usable)?;
        let context = CudaContext::new(ordinal).map_err(|e| GpuError::Driver(e.to_string()))?;
        let name = context
            .name()
            .map_err(|e| GpuError::Driver(e.to_string()))?;
        let stream = context.default_stream();
        Ok(Self {
            context,
            stream,
            ordinal,
            name,
        })
    }

    /// The PTX architecture of this device ("compute_90" on an H100/H200).
    pub fn arch(&self) -> Result<&'static str, GpuError> {
        let (major, minor) = self
            .context
            .compute_capability()
            .map_err(|e| GpuError::Driver(e.to_string()))?;
        Ok(match (major, minor) {
            (9, _) => "compute_90",
            (8, 9) => "compute_89",
            (8, 6) => "compute_86",
            (8, _) => "compute_80",
            (7, 5) => "compute_75",
            _ => "compute_70",
        })
    }

    /// Every kernel file compiled for this device, in [`KERNELS`] order.
    pub fn compile_all(&self) -> Result<Vec<Ptx>, GpuError> {
        let arch = self.arch()?;
        KERNELS.iter().map(|k| compile_ptx(k, arch)).collect()
    }
}
