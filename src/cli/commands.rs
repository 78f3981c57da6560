//! The commands behind the CLI.

use std::path::Path;

use ndarray::Array1;
use rand_distr::StandardNormal;

use super::{Command, Failure, Phase};
use crate::core::config::spec::RunSpec;
use crate::core::config::{self, Mode};
use crate::core::error::{Error, Result};
use crate::core::io::arrays::{read_array, write_values};
use crate::core::parallel::Comm;
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::driver::{RunOptions, run};
use crate::posterior::build_forward_model;

pub(crate) fn dispatch(command: Command, comm: &dyn Comm) -> Result<(), Failure> {
    match command {
        Command::Run {
            config,
            resume,
            overwrite,
            overrides,
            hypothesis,
        } => {
            let spec = load(&config, &overrides, Mode::Run)?;
            let spec = match (hypothesis, spec.hypotheses.is_empty()) {
                (None, _) => spec,
                (Some(name), false) => match spec
                    .hypotheses
                    .iter()
                    .find(|h| h.name == name)
                    .or_else(|| name.parse::<usize>().ok().and_then(|i| spec.hypotheses.get(i)))
                {
                    Some(h) => h.spec.clone(),
                    None => {
                        let names: Vec<&str> = spec.hypotheses.iter().map(|h| h.name.as_str()).collect();
                        return Err(Error::Usage(format!("--hypothesis {name}: the config's hypotheses are {}", names.join(", "))).into());
                    }
                },
                (Some(name), true) => {
                    return Err(Error::Usage(format!("--hypothesis {name}: {} has no `hypotheses`", config.display())).into());
                }
            };
            run_command(&spec, comm, resume, overwrite)
        }
        Command::Evidence {
            file,
            combine,
            out,
            estimators,
            samples,
        } => {
            if !combine.is_empty() {
                let out = out.expect("clap requires --out with --combine");
                let (rows, fingerprint) = crate::driver::hypotheses::combine(&combine)?;
                if comm.is_root() {
                    crate::driver::hypotheses::write_table(&out, "combined", &rows, &fingerprint)?;
                    print!("{}", super::evidence::format_hypotheses(&rows));
                }
                return Ok(());
            }
            let file = file.expect("clap requires a file without --combine");
            let rows = super::evidence::evidence(&file, &estimators, samples, comm)?;
            if comm.is_root() {
                print!("{}", super::evidence::format_rows(&rows));
            }
            Ok(())
        }
        Command::Reweight { file, prior, out } => {
            // No collective: the root alone reads, reweights and writes.
            if comm.is_root() {
                let (path, r) = super::reweight::reweight_command(&file, &prior, out.as_deref())?;
                let flag = r.note.as_deref().map_or(String::new(), |n| format!("  UNRELIABLE: {n}"));
                println!(
                    "log Z_new − log Z_old = {:.4} ± {:.4}   k̂ {:.3}   ESS {:.0}{flag}\nwrote {}",
                    r.log_ratio,
                    r.error,
                    r.khat,
                    r.ess,
                    path.display()
                );
            }
            Ok(())
        }
        Command::Validate { config, overrides } => {
            let spec = load(&config, &overrides, Mode::Run)?;
            if comm.is_root() {
                println!("{}", describe(&spec));
            }
            Ok(())
        }
        Command::Bench {
            which:
                super::BenchKind::Eikonal {
                    python,
                    reps_2d,
                    reps_3d,
                },
        } => {
            if comm.is_root() {
                print!(
                    "{}",
                    super::bench::eikonal(&python, reps_2d.max(1), reps_3d.max(1))?
                );
            }
            Ok(())
        }
        Command::Bench {
            which: super::BenchKind::Dispersion { python, reps },
        } => {
            if comm.is_root() {
                print!(
                    "{}",
                    super::bench_dispersion::dispersion(&python, reps.max(1))?
                );
            }
            Ok(())
        }
        Command::Bench {
            which:
                super::BenchKind::Wave {
                    python,
                    steps_3d,
                    steps_2d,
                },
        } => {
            if comm.is_root() {
                print!(
                    "{}",
                    super::bench_wave::wave(&python, steps_3d.max(1), steps_2d.max(1))?
                );
            }
            Ok(())
        }
        Command::Bench {
            which: super::BenchKind::Gpu { steps },
        } => {
            #[cfg(feature = "cuda")]
            {
                if comm.is_root() {
                    print!("{}", super::bench_gpu::gpu(steps.max(1))?);
                }
                Ok(())
            }
            #[cfg(not(feature = "cuda"))]
            {
                let _ = steps;
                Err(Error::Usage(format!("bench gpu: {}", crate::gpu::GpuError::NotBuilt)).into())
            }
        }
        Command::Inspect { file } => {
            if comm.is_root() {
                print!("{}", super::inspect::report(&file)?);
            }
            Ok(())
        }
        Command::Forward {
            config,
            model,
            out,
            noise_seed,
            overrides,
        } => {
            let spec = load(&config, &overrides, Mode::Forward)?;
            if comm.is_root() {
                forward(&spec, model.as_deref(), &out, noise_seed)?;
            }
            Ok(())
        }
    }
}

/// `run` of one config: its result (or, for a `hypotheses:` config, every hypothesis's result
/// and their evidence table), refusing to overwrite without --overwrite.
fn run_command(spec: &RunSpec, comm: &dyn Comm, resume: bool, overwrite: bool) -> Result<(), Failure> {
    let device = open_gpu(spec, comm.is_root())?;
    let mut outputs = vec![&spec.output.as_ref().expect("validated for run").path];
    outputs.extend(spec.hypotheses.iter().map(|h| &h.spec.output.as_ref().expect("validated for run").path));
    if !resume
        && !overwrite
        && let Some(existing) = outputs.iter().find(|p| p.exists())
    {
        return Err(Error::Usage(format!(
            "{}: the result file exists; use --resume to continue its checkpoint or --overwrite to replace it",
            existing.display()
        ))
        .into());
    }
    if resume && spec.hypotheses.is_empty() && !outputs[0].exists() {
        return Err(Error::input(outputs[0], "no result file to resume from (run without --resume first)").into());
    }
    if spec.parallel.threads > 0 {
        // Before any parallel work; the pool is global to the process (one rank).
        rayon::ThreadPoolBuilder::new()
            .num_threads(spec.parallel.threads)
            .build_global()
            .map_err(|e| Error::Run(format!("cannot start {} threads (parallel.threads): {e}", spec.parallel.threads)))?;
    }
    let as_run_failure = |error| Failure { error, phase: Phase::Run };
    let options = RunOptions { resume, device };
    if !spec.hypotheses.is_empty() {
        let rows = crate::driver::hypotheses::run_hypotheses(spec, comm, options).map_err(as_run_failure)?;
        if comm.is_root() {
            print!("{}", super::evidence::format_hypotheses(&rows));
            eprintln!("wrote {} and the {} hypotheses' results", outputs[0].display(), rows.len());
        }
        return Ok(());
    }
    let outcome = run(spec, comm, options).map_err(as_run_failure)?;
    if comm.is_root() {
        eprintln!(
            "wrote {} ({} iterations, {:.1} s on {} rank{})",
            outcome.output.display(),
            outcome.iterations,
            outcome.wall_seconds,
            comm.size(),
            if comm.size() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

fn load(path: &Path, overrides: &[String], mode: Mode) -> Result<RunSpec> {
    let (raw, text) = config::load(path, overrides)?;
    crate::inference::validate(&raw, path, &text, mode)
}

fn describe(spec: &RunSpec) -> String {
    let p = &spec.problem;
    let mut text = format!(
        "ok: {} — problem {} ({} parameters, {} data)",
        spec.name,
        p.kind_name(),
        p.n_params(),
        p.data().sigma.len()
    );
    if let Some(m) = &spec.method {
        text.push_str(&format!(", method {} ({})", m.kind(), m.describe()));
    }
    if let Some(o) = &spec.output {
        text.push_str(&format!(", output {}", o.path.display()));
    }
    text
}

/// Predicted data for a model file or the reference model, optionally with noise.
fn forward(
    spec: &RunSpec,
    model: Option<&Path>,
    out: &Path,
    noise_seed: Option<u64>,
) -> Result<()> {
    if spec.problem.is_analytic() {
        return Err(Error::Usage(
            "an analytic problem has no data to predict: `forward` needs a physics problem (linear, traveltime, dispersion, fwi)".into(),
        ));
    }
    let n = spec.problem.n_params();
    let m = match model {
        Some(path) => {
            let file = read_array(path)?;
            if file.values.len() != n {
                return Err(Error::input(path, format!("has {} values, the problem has {n} parameters (C order, x fastest)", file.values.len())));
            }
            if let Some(i) = file.values.iter().position(|v| !v.is_finite()) {
                return Err(Error::input(path, format!("value {i} is not finite")));
            }
            Array1::from(file.values)
        }
        None => spec.problem.reference_model().cloned().ok_or_else(|| {
            Error::Usage("forward needs a model: give --model FILE or set problem.reference_model in the config".into())
        })?,
    };
    let device = open_gpu(spec, true)?;
    let forward = build_forward_model(&spec.problem, device.as_ref());
    let mut d = Array1::zeros(forward.n_data());
    forward.forward_into(m.view(), d.view_mut())?;
    if let Some(seed) = noise_seed {
        let sigma = &spec.problem.data().sigma;
        if sigma.iter().any(|s| !s.is_finite()) {
            return Err(Error::Usage("--noise-seed needs the data σ: set problem.data.sigma (or give a data file with a σ column)".into()));
        }
        let mut rng = member_rng(seed, Purpose::Noise, 0, 0);
        for (di, si) in d.iter_mut().zip(sigma) {
            let z: f64 = rand::RngExt::sample(&mut rng, StandardNormal);
            *di += si * z;
        }
    }
    write_values(out, d.view())
}

/// This rank's GPU with its kernels compiled when the config enables one (`gpu:`), or why not
/// (exit 2); `None` without the block.
fn open_gpu(
    spec: &RunSpec,
    root: bool,
) -> Result<Option<std::sync::Arc<crate::gpu::Device>>, Error> {
    if !spec.gpu.enabled {
        return Ok(None);
    }
    use crate::core::config::spec::ProblemSpec;
    use crate::gpu::Family;
    let (families, on_device): (&[Family], &str) = match spec.problem {
        ProblemSpec::Fwi(_) => (&[Family::Wave], "the shots run on it"),
        ProblemSpec::Dispersion(_) => (&[Family::Dispersion], "the curves run on it"),
        ProblemSpec::TravelTime(ref t)
            if t.geometry == crate::core::config::spec::GeometrySpec::Cartesian =>
        {
            (&[Family::TravelTime], "the travel times run on it")
        }
        _ => (
            &[],
            "this problem's physics has no kernels wired in and runs on the CPU",
        ),
    };
    let device = crate::gpu::Device::open(spec.gpu.devices.as_deref(), families)
        .map_err(|e| Error::Usage(format!("gpu.enabled: {e}")))?;
    if root {
        eprintln!("gpu: {}: {on_device}", device.describe());
    }
    Ok(Some(device))
}
