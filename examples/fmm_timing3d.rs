//! Times the 3D fast marching (development aid; `geobayes bench` is the bench).
use geobayes::physics::eikonal::{Cartesian, FmmWorkspace, Mesh, PointSource};
use std::time::Instant;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(61);
    let reps: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let h = 6.0 / (n - 1) as f64;
    let mesh = Mesh::new([0.0; 3], [h; 3], [n; 3]);
    let s: Vec<f64> = (0..mesh.n_nodes())
        .map(|i| 1.0 / (2.0 + 0.15 * mesh.position(i)[2]))
        .collect();
    let mut ws = FmmWorkspace::new(&mesh);
    let src = PointSource {
        position: [2.0, 2.5, 1.9],
        slowness: 1.0 / (2.0 + 0.15 * 1.9),
    };
    let geo = Cartesian::new(mesh);
    let t = Instant::now();
    for _ in 0..reps {
        ws.solve(&geo, &s, &src).unwrap();
    }
    println!(
        "{n}^3: {:.3} ms per solve",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
}
