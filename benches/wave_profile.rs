//! A single acoustic propagation workload for profilers: `cargo bench --bench wave_profile --
//! NDIM N STEPS [THREADS]` (f32, order 8, 20-point CPML around an N^NDIM model). Prints the
//! time per step and the throughput in Mpts/s over the padded grid. `geobayes bench wave` is
//! the comparison with Devito.
use geobayes::physics::wave::{AdjointWork, Propagator, SpaceOrder, WaveGrid, WaveState};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (ndim, n, steps) = (
        args.first().copied().unwrap_or(3),
        args.get(1).copied().unwrap_or(200),
        args.get(2).copied().unwrap_or(20),
    );
    let threads = args.get(3).copied().unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let shape = if ndim == 3 { [n, n, n] } else { [n, 1, n] };
    let npml = std::env::var("NPML")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let grid = WaveGrid::new(ndim, shape, 0.01, npml);
    let dt = 0.4 * 0.01 / 4.0;
    let prop = Propagator::<f32>::new(grid.clone(), SpaceOrder::Eight, dt, 4.0, 10.0);
    let w = vec![(dt * dt * 9.0) as f32; grid.len()];
    let mut state = WaveState::<f32>::zeros(&grid);
    let centre = grid.len() / 2;
    state.cur[centre] = 1.0;
    pool.install(|| {
        prop.step(&w, &mut state, None);
        let t = Instant::now();
        for _ in 0..steps {
            prop.step(&w, &mut state, None);
        }
        let secs = t.elapsed().as_secs_f64() / steps as f64;
        println!(
            "{ndim}D {n}^{ndim} (+CPML: {} points), {threads} thread(s): {:.2} ms per step, {:.0} Mpts/s",
            grid.n_points(),
            secs * 1e3,
            grid.n_points() as f64 / secs / 1e6
        );
        // The adjoint step (what a gradient adds to the forward recomputation).
        let mut work = AdjointWork::new(&grid);
        prop.step_adjoint(&w, &mut state, &mut work);
        let t = Instant::now();
        for _ in 0..steps {
            prop.step_adjoint(&w, &mut state, &mut work);
        }
        let secs = t.elapsed().as_secs_f64() / steps as f64;
        println!(
            "  adjoint: {:.2} ms per step, {:.0} Mpts/s",
            secs * 1e3,
            grid.n_points() as f64 / secs / 1e6
        );
    });
}
