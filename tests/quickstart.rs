//! The README's quickstart inversion (a reduced B1) recovers the slow disc: the mean over nodes
//! with r < 1.5 km is ≤ 1.4 km/s and over 2.5 < r < 3.5 km within 0.25 of 2.0 km/s.

mod common;

use common::*;

#[test]
fn quickstart_recovers_the_slow_disc() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quickstart.h5");
    let started = std::time::Instant::now();
    run_ok(
        geobayes()
            .arg("run")
            .arg(repo().join("configs/quickstart.yaml"))
            .args([
                "--set",
                "output.progress=off",
                "--set",
                &format!("output.path={}", out.display()),
            ]),
    );
    let wall = started.elapsed().as_secs_f64();
    let (mean, std) = (f64s(&out, "summary/mean"), f64s(&out, "summary/std"));
    let (x, y) = (f64s(&out, "summary/param_x"), f64s(&out, "summary/param_y"));
    let region = |lo: f64, hi: f64| -> f64 {
        let v: Vec<f64> = (0..mean.len())
            .filter(|&i| (lo..hi).contains(&x[i].hypot(y[i])))
            .map(|i| mean[i])
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (inner, ring) = (region(0.0, 1.5), region(2.5, 3.5));
    let covered: Vec<f64> = (0..std.len())
        .filter(|&i| x[i].hypot(y[i]) < 4.0)
        .map(|i| std[i])
        .collect();
    let (smin, smax) = covered
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &s| (a.min(s), b.max(s)));
    println!(
        "quickstart: mean(r < 1.5) = {inner:.3} km/s, mean(2.5 < r < 3.5) = {ring:.3} km/s, std inside r < 4: [{smin:.3}, {smax:.3}] km/s, wall {wall:.1} s"
    );
    assert!(inner <= 1.4, "mean inside the disc {inner}");
    assert!((ring - 2.0).abs() <= 0.25, "mean of the ring {ring}");
}
