//! The one door to CUDA (DESIGN: the `gpu` layer, feature `cuda`): the kernel sources of
//! `kernels/*.cu` (embedded in the binary), their compilation to PTX with NVRTC for the device's
//! architecture, device probing and selection (one rank per GPU), and typed errors. Probing never
//! panics: cudarc's libraries are loaded at run time, and their presence is checked first.
//! Without the `cuda` feature every entry point returns [`GpuError::NotBuilt`].

use std::fmt;

#[cfg(feature = "cuda")]
mod device;
#[cfg(feature = "cuda")]
pub mod dispersion;
#[cfg(feature = "cuda")]
pub mod traveltime;
#[cfg(feature = "cuda")]
pub mod wave;
#[cfg(feature = "cuda")]
pub use device::{Gpu, compile_ptx};

/// The kernel families a run may compile (each a group of files of `kernels/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The acoustic step, its adjoint and the shots (FWI).
    Wave,
    /// The dispersion curves.
    Dispersion,
    /// Travel times on Cartesian grids.
    TravelTime,
}

/// A rank's device with the kernel families its problem needs compiled, as the physics takes
/// it: opened once per run (`gpu: {enabled: true}`). Without the `cuda` feature the type has no
/// values.
#[cfg(feature = "cuda")]
pub struct Device {
    pub gpu: std::sync::Arc<Gpu>,
    pub wave: Option<std::sync::Arc<wave::WaveKernels>>,
    pub dispersion: Option<std::sync::Arc<dispersion::DispersionKernels>>,
    pub traveltime: Option<std::sync::Arc<traveltime::TravelTimeKernels>>,
}

#[cfg(not(feature = "cuda"))]
pub enum Device {}

impl Device {
    /// Opens this rank's device (the node-local rank's entry of `devices`, default all) and
    /// compiles the kernel `families` for it.
    pub fn open(
        devices: Option<&[usize]>,
        families: &[Family],
    ) -> Result<std::sync::Arc<Self>, GpuError> {
        #[cfg(feature = "cuda")]
        {
            let gpu = std::sync::Arc::new(Gpu::open(devices)?);
            let wave = if families.contains(&Family::Wave) {
                Some(wave::WaveKernels::compile(gpu.clone())?)
            } else {
                None
            };
            let dispersion = if families.contains(&Family::Dispersion) {
                Some(std::sync::Arc::new(dispersion::DispersionKernels::compile(
                    gpu.clone(),
                )?))
            } else {
                None
            };
            let traveltime = if families.contains(&Family::TravelTime) {
                Some(traveltime::TravelTimeKernels::compile(gpu.clone())?)
            } else {
                None
            };
            Ok(std::sync::Arc::new(Self {
                gpu,
                wave,
                dispersion,
                traveltime,
            }))
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = (devices, families);
            Err(GpuError::NotBuilt)
        }
    }

    /// "device N (name)".
    pub fn describe(&self) -> String {
        #[cfg(feature = "cuda")]
        {
            format!("device {} ({})", self.gpu.ordinal, self.gpu.name)
        }
        #[cfg(not(feature = "cuda"))]
        match *self {}
    }
}

/// A kernel source file of `kernels/`, named after the Rust function it ports; its `source` is
/// what NVRTC compiles (the file, after the shared `*.cuh` text it needs).
#[derive(Debug, Clone, Copy)]
pub struct KernelSource {
    pub file: &'static str,
    pub source: &'static str,
    /// The `extern "C"` entry points the file defines.
    pub functions: &'static [&'static str],
}

/// Every kernel of `kernels/`, embedded at build time.
pub const KERNELS: &[KernelSource] = &[
    KernelSource {
        file: "wave_step.cu",
        source: concat!(
            include_str!("../../kernels/wave_grid.cuh"),
            include_str!("../../kernels/wave_step.cu")
        ),
        functions: &["wave_psi", "wave_leapfrog", "wave_zeta"],
    },
    KernelSource {
        file: "wave_modelling.cu",
        source: include_str!("../../kernels/wave_modelling.cu"),
        functions: &[
            "wave_inject",
            "wave_record",
            "wave_inject_adjoint",
            "wave_gradient_accumulate",
        ],
    },
    KernelSource {
        file: "wave_step_adjoint.cu",
        source: concat!(
            include_str!("../../kernels/wave_grid.cuh"),
            include_str!("../../kernels/wave_step_adjoint.cu")
        ),
        functions: &[
            "wave_adjoint_q",
            "wave_adjoint_leapfrog",
            "wave_adjoint_copy",
            "wave_adjoint_d1",
            "wave_adjoint_d2",
            "wave_adjoint_zeta",
            "wave_adjoint_psi",
        ],
    },
    KernelSource {
        file: "dispersion_curves.cu",
        source: include_str!("../../kernels/dispersion_curves.cu"),
        functions: &[
            "dispersion_phase",
            "dispersion_group",
            "dispersion_phase_gradient",
            "dispersion_group_gradient",
        ],
    },
    KernelSource {
        file: "eikonal_fim.cu",
        source: include_str!("../../kernels/eikonal_fim.cu"),
        functions: &[
            "eikonal_init",
            "eikonal_sweep",
            "eikonal_adjoint_coefficients",
            "eikonal_adjoint_sweep",
            "eikonal_adjoint_gradient",
            "eikonal_source_gradient",
        ],
    },
];

/// Why the GPU path is not available or failed.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    /// The binary was built without `--features cuda`.
    NotBuilt,
    /// libcuda (the driver) could not be loaded: no GPU driver on this machine.
    NoDriver,
    /// libnvrtc could not be loaded (needed to compile the kernels).
    NoNvrtc,
    /// The driver sees no device, or fewer than the ranks on this node need.
    NoDevice {
        local_rank: usize,
        devices: Vec<usize>,
    },
    /// A kernel failed to compile (the NVRTC log).
    Compile { file: &'static str, log: String },
    /// A driver call failed.
    Driver(String),
    /// An iterative kernel (repeated sweeps until nothing changes) hit its sweep limit.
    NotConverged { kernel: &'static str, sweeps: usize },
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NotBuilt => write!(
                f,
                "this geobayes was built without the `cuda` feature (rebuild with `cargo build --release --features cuda`)"
            ),
            GpuError::NoDriver => write!(
                f,
                "no CUDA driver found (libcuda.so could not be loaded): run on a GPU node or set `gpu: {{enabled: false}}`"
            ),
            GpuError::NoNvrtc => write!(
                f,
                "NVRTC (libnvrtc.so) could not be loaded: install the CUDA runtime compiler (e.g. pip install nvidia-cuda-nvrtc-cu12) and put its lib folder on LD_LIBRARY_PATH"
            ),
            GpuError::NoDevice {
                local_rank,
                devices,
            } => write!(
                f,
                "rank {local_rank} on this node has no GPU of its own (usable devices: {devices:?}): start one rank per GPU"
            ),
            GpuError::Compile { file, log } => write!(f, "kernels/{file} failed to compile: {log}"),
            GpuError::Driver(e) => write!(f, "CUDA driver error: {e}"),
            GpuError::NotConverged { kernel, sweeps } => {
                write!(f, "{kernel} did not converge in {sweeps} sweeps")
            }
        }
    }
}

impl std::error::Error for GpuError {}

/// The device of a rank: one rank per GPU, the `local_rank`-th of the usable `devices` on its
/// node (never rank modulo device count, which would put two ranks on one GPU silently).
pub fn choose_device(local_rank: usize, devices: &[usize]) -> Result<usize, GpuError> {
    devices
        .get(local_rank)
        .copied()
        .ok_or_else(|| GpuError::NoDevice {
            local_rank,
            devices: devices.to_vec(),
        })
}

/// The rank's index among the ranks of its node, from the launcher's environment (OpenMPI,
/// Slurm, MPICH), 0 when started alone.
pub fn node_local_rank() -> usize {
    [
        "OMPI_COMM_WORLD_LOCAL_RANK",
        "SLURM_LOCALID",
        "MPI_LOCALRANKID",
        "PMI_LOCAL_RANK",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok()?.parse().ok())
    .unwrap_or(0)
}

/// Whether the driver and NVRTC libraries can be loaded (never panics).
pub fn probe() -> Result<(), GpuError> {
    #[cfg(feature = "cuda")]
    {
        device::probe()
    }
    #[cfg(not(feature = "cuda"))]
    {
        Err(GpuError::NotBuilt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rank_per_gpu_never_modulo() {
        assert_eq!(choose_device(0, &[0, 1]), Ok(0));
        assert_eq!(choose_device(1, &[2, 3]), Ok(3));
        assert_eq!(
            choose_device(2, &[0, 1]),
            Err(GpuError::NoDevice {
                local_rank: 2,
                devices: vec![0, 1]
            })
        );
        assert!(choose_device(0, &[]).is_err());
    }

    #[test]
    fn every_kernel_file_is_embedded_with_its_entry_points() {
        let files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.ends_with(".cu").then_some(name)
            })
            .collect();
        assert_eq!(files.len(), KERNELS.len(), "{files:?}");
        for k in KERNELS {
            assert!(files.contains(&k.file.to_string()), "{}", k.file);
            for f in k.functions {
                assert!(
                    k.source.contains(&format!("__global__ void {f}(")),
                    "{}: {f}",
                    k.file
                );
            }
        }
    }
}
