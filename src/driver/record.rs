//! Turning a method's samples into the result record: physical units, per-parameter summaries,
//! convergence diagnostics for chains, predicted data and ray coverage at the posterior mean.

use ndarray::{Array1, Array3, Axis};

use crate::core::config::spec::{ProblemSpec, RunSpec};
use crate::core::io::names::var;
use crate::core::io::output::{History, Provenance, RunRecord, Status, Summary};
use crate::core::state::MethodState;
use crate::inference::diagnostics::convergence::{Convergence, convergence};
use crate::inference::diagnostics::stats::{mean_std, quantile_sorted};
use crate::inference::{MethodOutput, Space};
use crate::posterior::{Posterior, param_coordinates};

pub struct RecordInputs<'a> {
    pub spec: &'a RunSpec,
    pub posterior: &'a Posterior,
    pub output: MethodOutput,
    pub history: &'a History,
    pub status: Status,
    pub iterations_done: usize,
    /// Why the loop stopped (empty in a checkpoint).
    pub termination: &'static str,
    /// Forward and adjoint solves so far, all ranks.
    pub solves: (u64, u64),
    pub n_ranks: usize,
    pub wall_seconds: f64,
    pub checkpoint: Option<(usize, MethodState)>,
}

/// Per-parameter mean, std and quantiles over every (chain, draw), physical units.
fn summarise(m: &Array3<f64>) -> Summary {
    let (chains, draws, p) = m.dim();
    let n = chains * draws;
    let flat = m.to_shape((n, p)).expect("contiguous draws");
    let mut s = Summary {
        mean: Array1::from_elem(p, f64::NAN),
        std: Array1::from_elem(p, f64::NAN),
        q05: Array1::from_elem(p, f64::NAN),
        q50: Array1::from_elem(p, f64::NAN),
        q95: Array1::from_elem(p, f64::NAN),
        n_samples: n,
        extra: Vec::new(),
    };
    if n == 0 {
        return s;
    }
    for j in 0..p {
        let mut column: Vec<f64> = flat.column(j).to_vec();
        let (mean, std) = mean_std(&column);
        s.mean[j] = mean;
        s.std[j] = std;
        column.sort_by(f64::total_cmp);
        s.q05[j] = quantile_sorted(&column, 0.05);
        s.q50[j] = quantile_sorted(&column, 0.5);
        s.q95[j] = quantile_sorted(&column, 0.95);
    }
    s
}

pub fn build_record(input: &RecordInputs) -> RunRecord {
    let output = &input.output;
    let (chains, draws, p) = output.draws.dim();
    let m = match output.space {
        Space::Physical => output.draws.clone(),
        Space::Unconstrained => {
            let flat = output
                .draws
                .to_shape((chains * draws, p))
                .expect("contiguous draws")
                .to_owned();
            input
                .posterior
                .to_physical(flat.view())
                .into_shape_with_order((chains, draws, p))
                .expect("same size")
        }
    };
    let mut summary = summarise(&m);

    if output.independent_chains && chains >= 2 && draws >= 4 {
        let diagnostics: Vec<Convergence> = (0..p)
            .map(|j| convergence(m.index_axis(Axis(2), j)))
            .collect();
        let column =
            |f: fn(&Convergence) -> f64| diagnostics.iter().map(f).collect::<Array1<f64>>();
        summary.extra.extend([
            (var::RHAT, column(|c| c.rhat)),
            (var::RHAT_BULK, column(|c| c.rhat_bulk)),
            (var::RHAT_TAIL, column(|c| c.rhat_tail)),
            (var::ESS_BULK, column(|c| c.ess_bulk)),
            (var::ESS_TAIL, column(|c| c.ess_tail)),
            (var::MCSE_MEAN, column(|c| c.mcse_mean)),
            (var::MCSE_SD, column(|c| c.mcse_sd)),
            (var::MCSE_Q05, column(|c| c.mcse_quantiles[0])),
            (var::MCSE_Q50, column(|c| c.mcse_quantiles[1])),
            (var::MCSE_Q95, column(|c| c.mcse_quantiles[2])),
        ]);
    }

    let final_record = input.status == Status::Complete;
    let forward = input.posterior.forward_model();
    let mean_model = summary.mean.clone();
    let mean_ok =
        summary.n_samples > 0 && forward.n_data() > 0 && mean_model.iter().all(|v| v.is_finite());
    let predictive_mean = (final_record && mean_ok)
        .then(|| {
            let mut d = Array1::zeros(forward.n_data());
            forward
                .forward_into(mean_model.view(), d.view_mut())
                .ok()
                .map(|()| d)
        })
        .flatten();
    if final_record
        && mean_ok
        && matches!(input.spec.problem, ProblemSpec::TravelTime(_))
        && let Ok(coverage) = forward.coverage(mean_model.view())
    {
        summary.extra.push((var::COVERAGE, coverage));
    }

    let spec = input.spec;
    RunRecord {
        status: input.status,
        provenance: Provenance {
            name: spec.name.clone(),
            method: spec
                .method
                .as_ref()
                .map(|m| m.kind().to_string())
                .unwrap_or_default(),
            problem: spec.problem.kind_name().to_string(),
            n_ranks: input.n_ranks,
            seed: spec.seed,
            config_hash: spec.source.hash.clone(),
            n_members: spec.method.as_ref().map(|m| m.members().n).unwrap_or(0),
            iterations: spec.method.as_ref().map(|m| m.iterations()).unwrap_or(0),
            iterations_done: input.iterations_done,
            wall_seconds: input.wall_seconds,
            termination: input.termination.to_string(),
            forward_calls: input.solves.0,
            adjoint_calls: input.solves.1,
            config_resolved: spec.source.resolved.clone(),
            config_source: spec.source.text.clone(),
            config_path: std::path::absolute(&spec.source.path)
                .unwrap_or_else(|_| spec.source.path.clone())
                .display()
                .to_string(),
            data_fingerprint: spec.source.data_fingerprint.clone(),
            hypothesis: spec.hypothesis.as_ref().map(|h| h.name.clone()).unwrap_or_default(),
            prior_odds: spec.hypothesis.as_ref().map_or(1.0, |h| h.prior_odds),
        },
        m,
        param_coords: param_coordinates(&spec.problem),
        draw_stats: output.draw_stats.clone(),
        chain_stats: output.chain_stats.clone(),
        kept: output.kept.clone(),
        evidence: output.evidence.clone(),
        observed: input
            .posterior
            .likelihood()
            .map(|l| (l.observed().clone(), l.sigma().clone())),
        predictive_mean,
        summary,
        history: input.history.clone(),
        checkpoint: input.checkpoint.clone(),
    }
}
