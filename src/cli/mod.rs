//! Command-line interface: `run`, `validate`, `inspect`, `forward`. `main` parses the arguments,
//! starts MPI (feature `mpi`), runs the command and turns an error into one message on rank 0
//! and an exit code (2 for user mistakes). Errors found while setting up (configuration, files)
//! are met identically by every rank, which all exit normally; an error in the middle of a run
//! on several ranks ends them all (MPI_Abort), so that no rank waits in a collective.

mod bench;
mod bench_dispersion;
#[cfg(feature = "cuda")]
mod bench_gpu;
mod bench_wave;
mod commands;
mod evidence;
mod inspect;
mod peers;
mod reweight;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::core::error::Error;
use crate::core::parallel::Comm;

#[derive(Debug, Parser)]
#[command(
    name = "geobayes",
    version,
    about = "Bayesian geophysical inversion: posterior ensembles for travel times, dispersion and waveforms"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the inference a config describes and write its result file.
    Run {
        config: PathBuf,
        /// Continue from the checkpoint in the output file.
        #[arg(long)]
        resume: bool,
        /// Replace an existing result file (otherwise an existing file is an error).
        #[arg(long, conflicts_with = "resume")]
        overwrite: bool,
        /// Override a config key, e.g. --set method.iterations=100 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Run only this hypothesis of a `hypotheses:` config, by name or 0-based index (one
        /// task of a job array; then `geobayes evidence --combine` makes the table).
        #[arg(long)]
        hypothesis: Option<String>,
    },
    /// Check a config (and the files it names) and report every problem at once.
    Validate {
        config: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Show a result file's method, status, summary and diagnostics on one screen.
    Inspect { file: PathBuf },
    /// Log-evidence estimates of a finished result (stepping-stone, thermodynamic integration,
    /// importance sampling with its fitted q, the ELBO bound), added to its evidence/ table.
    Evidence {
        /// The result to estimate the evidence of (not with --combine).
        #[arg(required_unless_present = "combine")]
        file: Option<PathBuf>,
        /// Rank the hypotheses of these results (their evidence tables) into one table.
        #[arg(long, num_args = 1.., conflicts_with = "file", requires = "out")]
        combine: Vec<PathBuf>,
        /// The table file of --combine.
        #[arg(long)]
        out: Option<PathBuf>,
        /// ss, ti, is or elbo (repeatable); default: every estimator the result allows.
        #[arg(long = "estimator", value_parser = parse_estimator)]
        estimators: Vec<crate::core::config::spec::Estimator>,
        /// Proposal samples of importance sampling (each one forward solve).
        #[arg(long, default_value_t = crate::core::config::spec::DEFAULT_EVIDENCE_SAMPLES)]
        samples: usize,
    },
    /// Prior replacement: reweight a result's posterior draws to another prior (no forward
    /// solve), writing a copy with the reweighted summary and the evidence ratio.
    Reweight {
        file: PathBuf,
        /// A YAML file with the new `prior:` block (of the same problem).
        #[arg(long)]
        prior: PathBuf,
        /// The reweighted result (default: <stem>.reweighted.h5 beside the result).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Speed and accuracy against peer codes, measured in one invocation (not part of CI).
    Bench {
        #[command(subcommand)]
        which: BenchKind,
    },
    /// Predicted data for a model (needs only the config's `problem` block).
    Forward {
        config: PathBuf,
        /// Model file (.npy or text, C order with x fastest); default: problem.reference_model.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output file: .npy, or text with one value per line.
        #[arg(long)]
        out: PathBuf,
        /// Add Gaussian noise of the data σ, reproducibly from this seed.
        #[arg(long)]
        noise_seed: Option<u64>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// Point-source travel times vs scikit-fmm (order 2) and pykonal: 2D 301², 3D 61³.
    Eikonal {
        /// Python with the peers installed (scripts/install_bench_peers.sh).
        #[arg(long, default_value = ".venv-bench/bin/python")]
        python: PathBuf,
        /// Timed repeats per 2D and per 3D case.
        #[arg(long, default_value_t = 10)]
        reps_2d: usize,
        #[arg(long, default_value_t = 5)]
        reps_3d: usize,
    },
    /// Dispersion curves vs disba: 3 and 20 layers, Rayleigh and Love, phase and group, modes 0
    /// and 2, 40 periods.
    Dispersion {
        /// Python with disba installed (scripts/install_bench_peers.sh).
        #[arg(long, default_value = ".venv-bench/bin/python")]
        python: PathBuf,
        /// Timed repeats per curve.
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
    /// The CUDA kernels on this machine's GPU: throughput, share of the measured copy
    /// bandwidth and speed-up over the CPU path (needs `--features cuda` and a GPU).
    Gpu {
        /// Timed steps per case.
        #[arg(long, default_value_t = 50)]
        steps: usize,
    },
    /// Acoustic propagation vs Devito: 3D 200³ and 2D 1000², order 8, float32, one thread and
    /// all threads (Mpts/s).
    Wave {
        /// Python with Devito installed (scripts/install_bench_peers.sh).
        #[arg(long, default_value = ".venv-bench/bin/python")]
        python: PathBuf,
        /// Timed steps of the 3D and the 2D case.
        #[arg(long, default_value_t = 20)]
        steps_3d: usize,
        #[arg(long, default_value_t = 200)]
        steps_2d: usize,
    },
}

fn parse_estimator(name: &str) -> Result<crate::core::config::spec::Estimator, String> {
    crate::core::config::spec::Estimator::from_name(name)
        .ok_or_else(|| format!("`{name}` is not an estimator (ss, ti, is, elbo)"))
}

/// Where an error happened: during set-up every rank meets it the same way.
pub(crate) enum Phase {
    Setup,
    Run,
}

pub(crate) struct Failure {
    pub error: Error,
    pub phase: Phase,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            phase: Phase::Setup,
        }
    }
}

#[cfg(feature = "mpi")]
fn world() -> Result<Box<dyn Comm>, Error> {
    let comm = crate::core::parallel::MpiComm::initialize().ok_or_else(|| {
        Error::Run("MPI could not be initialised (was it initialised twice?)".into())
    })?;
    if comm.size() > 1 {
        crate::core::parallel::abort_all_ranks_on_panic();
    }
    Ok(Box::new(comm))
}

#[cfg(not(feature = "mpi"))]
fn world() -> Result<Box<dyn Comm>, Error> {
    Ok(Box::new(crate::core::parallel::SingleProcess))
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let comm = match world() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    let code = match commands::dispatch(cli.command, comm.as_ref()) {
        Ok(()) => 0,
        Err(Failure { error, phase }) => {
            let code = error.exit_code();
            match phase {
                Phase::Setup => {
                    if comm.is_root() {
                        eprintln!("error: {error}");
                    }
                }
                Phase::Run => {
                    if comm.size() > 1 {
                        eprintln!("error (rank {}): {error}", comm.rank());
                        comm.abort(code);
                    }
                    eprintln!("error: {error}");
                }
            }
            code
        }
    };
    drop(comm); // finalises MPI before exiting
    code
}
