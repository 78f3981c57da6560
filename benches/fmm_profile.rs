//! A single 2D or 3D fast-marching workload for profilers (`valgrind --tool=callgrind`,
//! `perf`): `cargo bench --bench fmm_profile -- 2 301` or `-- 3 61`. `geobayes bench eikonal`
//! is the comparison with peers.
use geobayes::physics::eikonal::{Cartesian, FmmWorkspace, Mesh, PointSource};
use std::time::Instant;

fn run<const D: usize>(n: usize, extent: f64, reps: usize) {
    let h = extent / (n - 1) as f64;
    let mesh = Mesh::new([0.0; D], [h; D], [n; D]);
    let velocity = |p: [f64; D]| 2.0 + 0.15 * p[D - 1];
    let slowness: Vec<f64> = (0..mesh.n_nodes())
        .map(|i| 1.0 / velocity(mesh.position(i)))
        .collect();
    let source: [f64; D] = std::array::from_fn(|a| 0.337 * extent + 0.01 * a as f64);
    let point = PointSource {
        position: source,
        slowness: 1.0 / velocity(source),
    };
    let geo = Cartesian::new(mesh);
    let mut ws = FmmWorkspace::new(&mesh);
    let t = Instant::now();
    for _ in 0..reps {
        ws.solve(&geo, &slowness, &point)
            .expect("positive velocities");
    }
    println!(
        "{D}D {n}^{D}: {:.3} ms per solve",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with('-')).collect();
    let dims: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let n: usize = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(if dims == 2 { 301 } else { 61 });
    let reps: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(5);
    match dims {
        2 => run::<2>(n, 10.0, reps),
        _ => run::<3>(n, 6.0, reps),
    }
}
