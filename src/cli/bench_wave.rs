//! `geobayes bench wave`: acoustic propagation throughput against Devito in one invocation —
//! 3D 200³ and 2D 1000² models (plus a 20-point absorbing layer on every side: 240³ and
//! 1040² grid points), order 8, float32, on one thread and on all threads: million grid-point
//! updates per second (points × steps / time) and the ratio. geobayes runs its CPML; Devito
//! (`scripts/bench_devito.py`, from `scripts/install_bench_peers.sh`) runs its usual damping
//! layer on the same grid.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::core::error::{Error, Result};
use crate::physics::wave::{Propagator, SpaceOrder, WaveGrid, WaveState};

struct Case {
    label: &'static str,
    ndim: usize,
    n: usize,
    steps: usize,
}

const NPML: usize = 20;

/// Mpts/s of `steps` forward steps (after one untimed step) with `threads` threads.
fn geobayes_mpts(case: &Case, threads: usize) -> Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Run(e.to_string()))?;
    let shape = if case.ndim == 3 {
        [case.n; 3]
    } else {
        [case.n, 1, case.n]
    };
    let h = 0.01;
    let grid = WaveGrid::new(case.ndim, shape, h, NPML);
    let (v, dt) = (3.0, 0.4 * h / 3.0);
    let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, v, 10.0);
    let w = vec![(dt * dt * v * v) as f32; grid.len()];
    let mut state = WaveState::<f32>::zeros(&grid);
    let centre = grid.index(grid.shape().map(|s| s / 2));
    state.cur[centre] = 1.0;
    Ok(pool.install(|| {
        prop.step(&w, &mut state, None);
        let started = Instant::now();
        for _ in 0..case.steps {
            prop.step(&w, &mut state, None);
        }
        grid.n_points() as f64 * case.steps as f64 / started.elapsed().as_secs_f64() / 1e6
    }))
}

pub fn wave(python: &Path, steps_3d: usize, steps_2d: usize) -> Result<String> {
    let all = rayon::current_num_threads();
    let cases = [
        Case {
            label: "3D 200^3 + CPML",
            ndim: 3,
            n: 200,
            steps: steps_3d,
        },
        Case {
            label: "2D 1000^2 + CPML",
            ndim: 2,
            n: 1000,
            steps: steps_2d,
        },
    ];
    let threads: Vec<usize> = if all > 1 { vec![1, all] } else { vec![1] };
    let input = format!(
        "[{}]",
        cases
            .iter()
            .flat_map(|c| threads.iter().map(move |t| format!(
                r#"{{"ndim": {}, "n": {}, "nbl": {NPML}, "steps": {}, "threads": {t}}}"#,
                c.ndim,
                c.n + 2 * NPML,
                c.steps
            )))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let devito = super::peers::run_script(python, "bench_devito.py", &input);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Acoustic propagation, order 8, float32: million grid-point updates per second (grid points including the absorbing layers)."
    );
    if let Err(why) = &devito {
        let _ = writeln!(report, "Devito skipped: {why}");
    }
    let _ = writeln!(
        report,
        "\n{:<18} {:>8} {:>14} {:>14} {:>9}",
        "case", "threads", "geobayes", "Devito", "ratio"
    );
    let mut k = 0;
    for case in &cases {
        for &t in &threads {
            let ours = geobayes_mpts(case, t)?;
            let peer = devito
                .as_ref()
                .ok()
                .and_then(|rows| rows.get(k))
                .and_then(|r| r.get("mpts").and_then(|v| v.as_f64()));
            let (peer_text, ratio) = match peer {
                Some(p) => (format!("{p:.0}"), format!("{:.2}", ours / p)),
                None => ("-".into(), "-".into()),
            };
            let _ = writeln!(
                report,
                "{:<18} {t:>8} {ours:>14.0} {peer_text:>14} {ratio:>9}",
                case.label
            );
            k += 1;
        }
    }
    Ok(report)
}
