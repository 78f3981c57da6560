//! `geobayes forward`: model files in DESIGN.md's array convention against analytic travel times
//! (an asymmetric model catches any transposition between files and grid), the committed B1
//! data reproduced bit for bit from its recipe, and batch invariance of the posterior.

mod common;

use geobayes::core::config::{Mode, load};
use geobayes::core::parallel::Par;
use geobayes::inference::validate;
use geobayes::posterior::{LogDensity, Posterior};
use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt;

use common::*;

/// Time between two points in v = v0 + k x (straight-line distance r, velocities at the ends).
fn analytic_time(k: f64, r: f64, v_s: f64, v_r: f64) -> f64 {
    (1.0 + k * k * r * r / (2.0 * v_s * v_r)).acosh() / k
}

#[test]
fn asymmetric_model_files_give_analytic_times() {
    let dir = tempfile::tempdir().unwrap();
    // 41 nodes along x, 31 along y: a transposed file would not even have the right shape
    // unless flattened, and a transposed grid would put the gradient along y.
    let (nx, ny, h) = (41usize, 31usize, 0.25);
    let v = Array2::from_shape_fn((ny, nx), |(_, ix)| 2.0 + 0.1 * (ix as f64 * h));
    v.write_npy(std::fs::File::create(dir.path().join("model.npy")).unwrap())
        .unwrap();
    let flat: String = v.iter().map(|x| format!("{x:?}\n")).collect();
    write(dir.path(), "model.txt", &flat);
    let stations: [[f64; 2]; 5] = [[0.3, 0.4], [9.7, 0.9], [9.2, 7.3], [0.6, 7.1], [5.05, 3.85]];
    let mut text = String::new();
    for (i, s) in stations.iter().enumerate() {
        text.push_str(&format!("S{i} {} {}\n", s[0], s[1]));
    }
    write(dir.path(), "stations.txt", &text);
    let config = write(
        dir.path(),
        "forward.yaml",
        "problem:\n  kind: traveltime2d\n  grid: {origin: [0.0, 0.0], spacing: [0.25, 0.25], shape: [41, 31]}\n  forward_refine: 4\n  stations: {file: stations.txt}\n",
    );
    for model in ["model.npy", "model.txt"] {
        let out = dir.path().join(format!("{model}.out.txt"));
        run_ok(
            geobayes()
                .arg("forward")
                .arg(&config)
                .args(["--model", model, "--out"])
                .arg(&out)
                .current_dir(dir.path()),
        );
        let times: Vec<f64> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let mut k = 0;
        let mut worst: f64 = 0.0;
        for i in 0..stations.len() {
            for j in i + 1..stations.len() {
                let (a, b) = (stations[i], stations[j]);
                let r = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
                let exact = analytic_time(0.1, r, 2.0 + 0.1 * a[0], 2.0 + 0.1 * b[0]);
                worst = worst.max((times[k] - exact).abs());
                k += 1;
            }
        }
        // Second-order marching: ≈ 1.3e-3 h² s/km² here (the convergence table of
        // physics::eikonal::tests), h = 0.0625 km → ≈ 5e-6 s; a transposition errs by > 0.1 s.
        println!("{model}: max |T − T_exact| = {worst:.2e} s over {k} pairs");
        assert!(worst < 2e-5, "{model}: max error {worst:e} s");
    }
}

#[test]
fn committed_synthetic_data_are_reproduced_from_their_recipes() {
    // (truth config, noise seed, data file, column of the values)
    for (truth, seed, data, column) in [
        (
            "configs/b1/truth.yaml",
            "2026",
            "configs/b1/traveltimes.txt",
            2,
        ),
        ("configs/b2/truth.yaml", "61", "configs/b2/picks.txt", 2),
        (
            "configs/tomo3d/truth.yaml",
            "24",
            "configs/tomo3d/picks.txt",
            2,
        ),
        ("configs/b5/truth.yaml", "5", "configs/b5/data.txt", 0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("times.txt");
        run_ok(
            geobayes()
                .arg("forward")
                .arg(repo().join(truth))
                .args(["--noise-seed", seed, "--out"])
                .arg(&out),
        );
        let made: Vec<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let committed: Vec<String> = std::fs::read_to_string(repo().join(data))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().nth(column).unwrap().to_owned())
            .collect();
        assert_eq!(made, committed, "{data}");
    }
}

#[test]
fn a_member_gets_the_same_bits_alone_and_in_any_block() {
    let path = repo().join("configs/quickstart.yaml");
    let (raw, text) = load(&path, &["problem.forward_refine=1".into()]).unwrap();
    let spec = validate(&raw, &path, &text, Mode::Run).unwrap();
    let posterior = Posterior::from_spec(&spec).unwrap();
    let n = 9;
    let x = posterior.initial_members(&geobayes::core::config::spec::InitSpec::Prior, 5, n);
    let whole = posterior.evaluate_par(x.view(), true, Par::Rayon);
    let sequential = posterior.evaluate_par(x.view(), true, Par::Seq);
    for block in [1usize, 7] {
        for start in (0..n).step_by(block) {
            let end = (start + block).min(n);
            let part = posterior
                .evaluate(x.slice(ndarray::s![start..end, ..]), true)
                .unwrap();
            for (r, i) in (start..end).enumerate() {
                assert_eq!(
                    part.log_prob[r].to_bits(),
                    whole.log_prob[i].to_bits(),
                    "member {i} in blocks of {block}"
                );
                let (a, b) = (
                    part.grad.as_ref().unwrap().row(r),
                    whole.grad.as_ref().unwrap().row(i),
                );
                assert!(
                    a.iter()
                        .zip(b.iter())
                        .all(|(p, q)| p.to_bits() == q.to_bits()),
                    "gradient of member {i} in blocks of {block}"
                );
            }
        }
    }
    assert_eq!(
        whole.log_prob.mapv(f64::to_bits),
        sequential.log_prob.mapv(f64::to_bits)
    );
    let lp: Array1<f64> = whole.log_prob.clone();
    assert!(lp.iter().all(|v| v.is_finite()));
}
