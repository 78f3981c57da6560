//! Every config in configs/ runs in the tests (shortened): configs with a method through `run`,
//! data-generation configs through `forward`.

mod common;

use std::path::PathBuf;

use common::*;

fn configs() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![repo().join("configs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml") {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_shipped_config_runs_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let all = configs();
    assert!(all.len() >= 5, "{all:?}");
    for (k, config) in all.iter().enumerate() {
        let started = std::time::Instant::now();
        let text = std::fs::read_to_string(config).unwrap();
        if text.contains("\nmethod:") {
            let out = dir.path().join(format!("run{k}.h5"));
            // Fewer iterations, and fewer members unless an init file fixes their number.
            let fixed_members = text.contains("init: {file");
            let fwi = text.contains("kind: fwi");
            if fwi {
                // Waveform data too large to commit are made by scripts/make_*_data.sh, which
                // scripts/test.sh runs first.
                let data = text
                    .split("data: {file: ")
                    .nth(1)
                    .and_then(|rest| rest.split(',').next())
                    .expect("an FWI run config names its data file");
                let path = config.parent().unwrap().join(data);
                assert!(
                    path.exists(),
                    "{} is missing: run the scripts/make_*_data.sh that {} names",
                    path.display(),
                    config.display()
                );
            }
            let variational = text.contains("kind: vi") || text.contains("kind: boosting_vi");
            let annealed = text.contains("  anneal:");
            let shorten: Vec<&str> = match (text.contains("kind: mh"), fixed_members) {
                // One gradient of every (mini-batch) shot and one draw of q.
                _ if variational && fwi => vec![
                    "--set",
                    "method.samples_per_iteration=1",
                    "--set",
                    "method.iterations=1",
                    "--set",
                    "method.draws=1",
                ],
                // A few Monte-Carlo samples and draws of q (and a tempering that fits).
                _ if variational => [
                    "--set",
                    "method.samples_per_iteration=2",
                    "--set",
                    "method.iterations=3",
                    "--set",
                    "method.draws=4",
                ]
                .into_iter()
                .chain(
                    annealed
                        .then_some(["--set", "method.anneal.iterations=2"])
                        .into_iter()
                        .flatten(),
                )
                .collect(),
                // One iteration of two particles (or of the init file's) is a full gradient
                // of every shot.
                (false, false) if fwi => vec![
                    "--set",
                    "method.n_particles=2",
                    "--set",
                    "method.iterations=1",
                ],
                (false, true) if fwi => vec!["--set", "method.iterations=1"],
                (true, false) => vec![
                    "--set",
                    "method.n_chains=2",
                    "--set",
                    "method.iterations=30",
                    "--set",
                    "method.burn_in=10",
                    "--set",
                    "method.thin=1",
                ],
                (true, true) => vec![
                    "--set",
                    "method.iterations=30",
                    "--set",
                    "method.burn_in=10",
                    "--set",
                    "method.thin=1",
                ],
                (false, false) => vec![
                    "--set",
                    "method.n_particles=4",
                    "--set",
                    "method.iterations=3",
                ],
                (false, true) => vec!["--set", "method.iterations=3"],
            };
            run_ok(geobayes().arg("run").arg(config).args(&shorten).args([
                "--set",
                "output.progress=off",
                "--set",
                &format!("output.path={}", out.display()),
            ]));
            assert_eq!(
                root_text(&out, "status"),
                "complete",
                "{}",
                config.display()
            );
        } else {
            // Waveform data (millions of samples) as .npy, the rest as text.
            let npy = text.contains("kind: fwi");
            let out = dir
                .path()
                .join(format!("forward{k}.{}", if npy { "npy" } else { "txt" }));
            run_ok(geobayes().arg("forward").arg(config).arg("--out").arg(&out));
            let n = if npy {
                use ndarray_npy::ReadNpyExt;
                ndarray::ArrayD::<f64>::read_npy(std::fs::File::open(&out).unwrap())
                    .unwrap()
                    .len()
            } else {
                std::fs::read_to_string(&out).unwrap().lines().count()
            };
            assert!(n > 0, "{}", config.display());
        }
        println!(
            "ran {} ({:.1} s)",
            config.display(),
            started.elapsed().as_secs_f64()
        );
    }
}
