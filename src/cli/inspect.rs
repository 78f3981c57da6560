//! `geobayes inspect FILE`: a one-screen report of a result file.

use std::fmt::Write;
use std::path::Path;

use crate::core::error::Result;
use crate::core::io::hdf5_util::H5Reader;
use crate::core::io::names::{attr, group, var};
use crate::core::io::results::attr_text;

fn range(values: &[f64]) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return "-".into();
    }
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("[{min:.4}, {max:.4}]")
}

pub fn report(path: &Path) -> Result<String> {
    let file = H5Reader::open(path)?;
    let a = |name: &str| attr_text(&file, name);
    let mut out = String::new();
    let _ = writeln!(out, "{}", path.display());
    let hypotheses = crate::core::io::results::read_hypotheses_table(&file)?;
    if !hypotheses.is_empty() {
        let _ = writeln!(
            out,
            "  name {}   status {}   version {} ({})",
            a(attr::NAME),
            a(attr::STATUS),
            a(attr::VERSION),
            a(attr::GIT_COMMIT)
        );
        let _ = writeln!(
            out,
            "  evidence/hypotheses (prior hypotheses ranked by their evidence):"
        );
        for line in super::evidence::format_hypotheses(&hypotheses).lines() {
            let _ = writeln!(out, "    {line}");
        }
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "  name {}   status {}   method {}   problem {}",
        a(attr::NAME),
        a(attr::STATUS),
        a(attr::METHOD),
        a(attr::PROBLEM)
    );
    let _ = writeln!(
        out,
        "  members {}   iterations {}/{}   ranks {}   seed {}   wall {} s   version {} ({})",
        a(attr::N_MEMBERS),
        a(attr::ITERATIONS_DONE),
        a(attr::ITERATIONS),
        a(attr::N_RANKS),
        a(attr::SEED),
        a(attr::WALL_SECONDS),
        a(attr::VERSION),
        a(attr::GIT_COMMIT)
    );
    let _ = writeln!(
        out,
        "  forward solves {}   adjoint solves {}   termination {}",
        a(attr::FORWARD_CALLS),
        a(attr::ADJOINT_CALLS),
        a(attr::TERMINATION)
    );
    let m_path = format!("{}/{}", group::POSTERIOR, var::M);
    if file.has(&m_path) {
        let m = file.f64(&m_path)?;
        let _ = writeln!(out, "  posterior/m (chain, draw, param) = {:?}", m.shape());
    }
    let _ = writeln!(out, "  summary (range over parameters):");
    for name in [
        var::MEAN,
        var::STD,
        var::Q05,
        var::Q95,
        var::RHAT,
        var::RHAT_BULK,
        var::RHAT_TAIL,
        var::ESS_BULK,
        var::ESS_TAIL,
        var::MCSE_MEAN,
        var::MCSE_SD,
        var::MCSE_Q05,
        var::MCSE_Q50,
        var::MCSE_Q95,
        var::COVERAGE,
    ] {
        let p = format!("{}/{name}", group::SUMMARY);
        if file.has(&p) {
            let v: Vec<f64> = file.f64(&p)?.iter().copied().collect();
            let _ = writeln!(out, "    {name:<9} {}", range(&v));
        }
    }
    let rate = format!("{}/{}", group::SAMPLE_STATS, var::ACCEPTANCE_RATE);
    if file.has(&rate) {
        let v: Vec<f64> = file.f64(&rate)?.iter().copied().collect();
        let _ = writeln!(out, "    acceptance rate per chain {}", range(&v));
    }
    for (kept, title) in [
        (
            group::VARIATIONAL,
            "the fitted q, reusable with init: {file}",
        ),
        (
            group::TEMPERING,
            "the frozen ladder; per pair swap acceptance and rejection rate, per β the barrier Λ",
        ),
    ] {
        if !file.has_group(kept) {
            continue;
        }
        let _ = writeln!(out, "  {kept} ({title}):");
        for name in file.dataset_names(kept).unwrap_or_default() {
            if name.contains("_dim_") {
                continue;
            }
            let v: Vec<f64> = file
                .f64(&format!("{kept}/{name}"))?
                .iter()
                .copied()
                .collect();
            let _ = writeln!(out, "    {name:<19} {} values {}", v.len(), range(&v));
        }
    }
    let evidence = crate::core::io::results::read_evidence_rows(&file)?;
    if !evidence.is_empty() {
        let _ = writeln!(
            out,
            "  evidence (log Z of the normalised prior and likelihood):"
        );
        for line in super::evidence::format_rows(&evidence).lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    let _ = writeln!(out, "  diagnostics (first → last, min):");
    for name in file.dataset_names(group::DIAGNOSTICS).unwrap_or_default() {
        if name == var::WALL_TIME || name == "iteration" {
            continue;
        }
        let v: Vec<f64> = file
            .f64(&format!("{}/{name}", group::DIAGNOSTICS))?
            .iter()
            .copied()
            .collect();
        if let (Some(first), Some(last)) = (v.first(), v.last()) {
            let min = v
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::INFINITY, f64::min);
            let _ = writeln!(
                out,
                "    {name:<11} {first:.4} → {last:.4}   min {min:.4}   ({} iterations)",
                v.len()
            );
        }
    }
    Ok(out)
}
