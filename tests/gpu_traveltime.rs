//! The travel-time kernels (kernels/eikonal_fim.cu through src/gpu/traveltime.rs) on a GPU
//! against the CPU's fast marching and its adjoint: 2D and 3D Cartesian grids, smooth
//! heterogeneous slowness, off-grid sources, several (member, source) pairs in one batch.
//! Bound: 1e-5 relative (times max |ΔT|/T; gradients max |Δg| / max |g|). Skips without a GPU.
#![cfg(feature = "cuda")]

use std::sync::Arc;

use geobayes::gpu::Gpu;
use geobayes::gpu::traveltime::{EikonalGrid, PairSource, TravelTimeKernels};
use geobayes::physics::eikonal::adjoint::adjoint_into;
use geobayes::physics::eikonal::{Cartesian, FmmWorkspace, Mesh, PointSource};

const TOLERANCE: f64 = 1e-5;

fn kernels() -> Option<Arc<TravelTimeKernels>> {
    match Gpu::open(None) {
        Ok(g) => Some(TravelTimeKernels::compile(Arc::new(g)).expect("eikonal_fim.cu compiles")),
        Err(e) => {
            println!("skipped: {e}");
            None
        }
    }
}

/// Smooth velocity 2–4 km/s: a gradient and two plane waves, different per member.
fn slowness_field<const D: usize>(mesh: &Mesh<D>, member: usize) -> Vec<f64> {
    let m = member as f64;
    (0..mesh.n_nodes())
        .map(|i| {
            let p = mesh.position(i);
            let mut v = 3.0 + 0.02 * (1.0 + m) * p[0];
            let a: f64 = (0..D)
                .map(|k| (0.13 + 0.05 * k as f64 + 0.03 * m) * p[k])
                .sum();
            let b: f64 = (0..D).map(|k| (0.21 - 0.07 * k as f64) * p[k]).sum();
            v += 0.25 * (a + m).sin() + 0.15 * (b + 1.3).cos();
            1.0 / v
        })
        .collect()
}

fn check<const D: usize>(
    k: &TravelTimeKernels,
    mesh: Mesh<D>,
    members: usize,
    sources: &[(usize, [f64; D])],
) {
    let n = mesh.n_nodes();
    let fields: Vec<Vec<f64>> = (0..members).map(|m| slowness_field(&mesh, m)).collect();
    let geo = Cartesian::new(mesh);
    let grid = EikonalGrid {
        ndim: D,
        shape: std::array::from_fn(|a| if a < D { mesh.shape[a] } else { 1 }),
        spacing: std::array::from_fn(|a| if a < D { mesh.spacing[a] } else { 1.0 }),
        origin: std::array::from_fn(|a| if a < D { mesh.origin[a] } else { 0.0 }),
    };
    let pairs: Vec<PairSource> = sources
        .iter()
        .map(|&(m, x)| PairSource {
            member: m,
            position: std::array::from_fn(|a| if a < D { x[a] } else { 0.0 }),
            slowness: mesh.stencil(x).apply(&fields[m]),
        })
        .collect();
    let flat: Vec<f64> = fields.concat();
    let sol = k.solve(&grid, &flat, &pairs, 100_000).unwrap();
    let tau_bar: Vec<f64> = (0..pairs.len() * n)
        .map(|i| ((i as f64) * 0.618_033_988_75).fract() - 0.5)
        .collect();
    let grad = k.gradient(&sol, &tau_bar, 100_000).unwrap();
    for (p, pair) in pairs.iter().enumerate() {
        let source = PointSource::<D> {
            position: sources[p].1,
            slowness: pair.slowness,
        };
        let s = &fields[pair.member];
        let mut ws = FmmWorkspace::new(&mesh);
        ws.solve(&geo, s, &source).unwrap();
        let err_t = (0..n)
            .filter(|&i| ws.time(i) > 0.0)
            .map(|i| (sol.time[p * n + i] - ws.time(i)).abs() / ws.time(i))
            .fold(0.0, f64::max);
        let mut tb = tau_bar[p * n..(p + 1) * n].to_vec();
        let mut g = vec![0.0; n];
        let g_src = adjoint_into(&geo, s, &source, &ws, &mut tb, &mut g);
        let scale = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err_g = (0..n)
            .map(|i| (grad.slowness[p * n + i] - g[i]).abs())
            .fold(0.0, f64::max)
            / scale;
        let err_src = (grad.source[p] - g_src).abs() / g_src.abs().max(scale);
        println!(
            "{D}D pair {p}: times {err_t:.2e}, gradient {err_g:.2e}, source gradient {err_src:.2e} ({} + {} sweeps)",
            sol.sweeps, grad.sweeps
        );
        assert!(err_t <= TOLERANCE && err_g <= TOLERANCE && err_src <= TOLERANCE);
    }
}

#[test]
fn gpu_travel_times_and_gradients_match_fast_marching() {
    let Some(k) = kernels() else { return };
    check(
        &k,
        Mesh::new([0.0, -1.0], [0.5, 0.4], [61, 47]),
        2,
        &[
            (0, [7.33, 4.71]),
            (1, [21.9, 12.37]),
            (0, [0.21, 17.0]),
            (1, [13.05, 0.33]),
        ],
    );
    check(
        &k,
        Mesh::new([0.0, 0.0, -2.0], [0.6, 0.5, 0.45], [23, 21, 19]),
        2,
        &[
            (0, [4.07, 5.13, 1.91]),
            (1, [10.9, 2.2, 4.33]),
            (1, [0.5, 9.71, -1.6]),
        ],
    );
}
