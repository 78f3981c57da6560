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
            let shorten = shortening(&method_kind(&text), fwi, fixed_members, &text);
            run_ok(geobayes().arg("run").arg(config).args(shorten.iter().flat_map(|kv| ["--set", kv.as_str()]))
                .args([
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
            // The resolved config the result records parses back (it is what the run was).
            if let Ok(resolved) = geobayes::core::io::hdf5_util::H5Reader::open(&out).and_then(|f| f.text("provenance/config"))
                && let Err(issue) = geobayes::core::config::parse(&resolved)
            {
                panic!("{}: the recorded resolved config does not parse back: {issue}", config.display());
            }
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

/// The `kind:` of the config's `method:` block.
fn method_kind(text: &str) -> String {
    let block = text.split("\nmethod:").nth(1).expect("a method block");
    let kind = block
        .split("kind:")
        .nth(1)
        .expect("the method block names its kind");
    kind.trim_start()
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap()
        .to_string()
}

/// `--set` overrides that shorten a shipped config of this method kind to seconds, keeping
/// every key the method checks consistent (burn-in inside the iterations, tempering rounds
/// inside burn-in).
fn shortening(kind: &str, fwi: bool, fixed_members: bool, text: &str) -> Vec<String> {
    let mut set: Vec<&str> = match kind {
        // One gradient of every (mini-batch) shot and one draw of q.
        "vi" | "boosting_vi" if fwi => vec![
            "method.samples_per_iteration=1",
            "method.iterations=1",
            "method.draws=1",
        ],
        // A few Monte-Carlo samples and draws of q (and a tempering that fits).
        "vi" | "boosting_vi" => {
            let mut set = vec![
                "method.samples_per_iteration=2",
                "method.iterations=3",
                "method.draws=4",
            ];
            if text.contains("  anneal:") {
                set.push("method.anneal.iterations=2");
            }
            set
        }
        "mh" | "ssvgd" | "rjmcmc" => {
            vec!["method.iterations=30", "method.burn_in=10", "method.thin=1"]
        }
        // Two adaptation rounds of 4 and 8 iterations fit a burn-in of 12.
        "pt" => vec![
            "method.n_temperatures=4",
            "method.iterations=30",
            "method.burn_in=12",
            "method.thin=1",
            "method.swap_every=2",
            "method.schedule.rounds=2",
        ],
        // One iteration of two particles (or of the init file's) is a full gradient of every
        // shot.
        "svgd" if fwi => vec!["method.iterations=1"],
        "svgd" => vec!["method.iterations=3"],
        other => panic!("tests/configs.rs has no shortening for method kind `{other}`"),
    };
    if !fixed_members {
        match kind {
            "mh" | "rjmcmc" => set.push("method.n_chains=2"),
            "pt" => set.push("method.chains_per_temperature=2"),
            "svgd" | "ssvgd" if fwi => set.push("method.n_particles=2"),
            "svgd" | "ssvgd" => set.push("method.n_particles=4"),
            _ => {}
        }
    }
    set.into_iter().map(str::to_string).collect()
}
