//! The travel-time kernels of kernels/eikonal_fim.cu without a GPU: compiled as C++ and run on the
//! CPU (tests/emulation/traveltime_driver.cpp, the launch sequence of src/gpu/traveltime.rs),
//! against the CPU's fast marching (`FmmWorkspace::solve`) and its adjoint (`adjoint_into`) on
//! 2D and 3D Cartesian grids with smooth heterogeneous slowness, off-grid sources and several
//! (member, source) pairs per batch. Both solve the same discrete equations in the same
//! acceptance order (the kernel replays fast marching's last update of every node; see the
//! kernel), and agree bit for bit in the times as measured; the bound is 1e-5 relative: times as
//! max |ΔT|/T over the nodes, gradients as max |Δg| / max |g|.

mod common;

use std::fmt::Write as _;

use common::*;
use geobayes::physics::eikonal::adjoint::adjoint_into;
use geobayes::physics::eikonal::{Cartesian, FmmWorkspace, Mesh, PointSource};

const TOLERANCE: f64 = 1e-5;

/// A small deterministic generator (xorshift64*), uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A grid with its smooth random slowness fields, and the (member, source) pairs of a batch.
struct Case<const D: usize> {
    mesh: Mesh<D>,
    slowness: Vec<Vec<f64>>,
    pairs: Vec<(usize, [f64; D])>,
}

impl<const D: usize> Case<D> {
    fn new(mesh: Mesh<D>, members: usize, pairs: &[(usize, [f64; D])], seed: u64) -> Self {
        let mut rng = Rng(seed);
        let slowness = (0..members)
            .map(|_| {
                // Velocity 2–4 km/s: a gradient plus three random plane waves.
                let waves: Vec<([f64; D], f64, f64)> = (0..3)
                    .map(|_| {
                        let k: [f64; D] = std::array::from_fn(|_| 0.6 * (rng.uniform() - 0.5));
                        (k, 6.3 * rng.uniform(), 0.3 * rng.uniform())
                    })
                    .collect();
                let grad: [f64; D] = std::array::from_fn(|_| 0.05 * (rng.uniform() - 0.5));
                (0..mesh.n_nodes())
                    .map(|i| {
                        let p = mesh.position(i);
                        let mut v = 3.0;
                        for a in 0..D {
                            v += grad[a] * p[a];
                        }
                        for (k, phase, amp) in &waves {
                            let arg: f64 = (0..D).map(|a| k[a] * p[a]).sum::<f64>() + phase;
                            v += amp * arg.sin();
                        }
                        1.0 / v
                    })
                    .collect()
            })
            .collect();
        Case {
            mesh,
            slowness,
            pairs: pairs.to_vec(),
        }
    }

    fn source(&self, p: usize) -> PointSource<D> {
        let (m, position) = self.pairs[p];
        // The slowness at the source: multilinear interpolation of the member's field.
        let slowness = self.mesh.stencil(position).apply(&self.slowness[m]);
        PointSource { position, slowness }
    }

    /// A cotangent τ̄ on every node of pair `p` (seeded by the pair).
    fn tau_bar(&self, p: usize) -> Vec<f64> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((p as u64 + 1) * 7919));
        (0..self.mesh.n_nodes())
            .map(|_| rng.uniform() - 0.5)
            .collect()
    }
}

/// The emulated kernels' results for the pairs `which` of `case`.
struct Emulated {
    sweeps: f64,
    adjoint_sweeps: f64,
    tau: Vec<Vec<f64>>,
    time: Vec<Vec<f64>>,
    grad: Vec<Vec<f64>>,
    grad_source: Vec<f64>,
}

fn numbers(out: &mut String, values: impl IntoIterator<Item = f64>) {
    for v in values {
        let _ = write!(out, "{v:e} ");
    }
    out.push('\n');
}

fn emulate<const D: usize>(case: &Case<D>, which: &[usize]) -> Emulated {
    let n = case.mesh.n_nodes();
    let mut input = String::new();
    let shape: [f64; 3] = std::array::from_fn(|a| {
        if a < D {
            case.mesh.shape[a] as f64
        } else {
            1.0
        }
    });
    let spacing: [f64; 3] = std::array::from_fn(|a| if a < D { case.mesh.spacing[a] } else { 1.0 });
    let origin: [f64; 3] = std::array::from_fn(|a| if a < D { case.mesh.origin[a] } else { 0.0 });
    numbers(&mut input, [D as f64]);
    numbers(&mut input, shape);
    numbers(&mut input, spacing);
    numbers(&mut input, origin);
    numbers(
        &mut input,
        [which.len() as f64, case.slowness.len() as f64, 10_000.0],
    );
    numbers(&mut input, which.iter().map(|&p| case.pairs[p].0 as f64));
    for &p in which {
        let pos = case.pairs[p].1;
        numbers(&mut input, (0..3).map(|a| if a < D { pos[a] } else { 0.0 }));
    }
    numbers(&mut input, which.iter().map(|&p| case.source(p).slowness));
    for s in &case.slowness {
        numbers(&mut input, s.iter().copied());
    }
    for &p in which {
        numbers(&mut input, case.tau_bar(p));
    }
    let out = run_kernel_on_host("eikonal_fim.cu", "traveltime_driver.cpp", &input);
    let v: Vec<f64> = out.split_whitespace().map(|t| t.parse().unwrap()).collect();
    let k = which.len();
    assert_eq!(v.len(), 2 + 3 * k * n + k, "driver output length");
    let block = |b: usize| -> Vec<Vec<f64>> {
        (0..k)
            .map(|p| v[2 + b * k * n + p * n..2 + b * k * n + (p + 1) * n].to_vec())
            .collect()
    };
    Emulated {
        sweeps: v[0],
        adjoint_sweeps: v[1],
        tau: block(0),
        time: block(1),
        grad: block(2),
        grad_source: v[2 + 3 * k * n..].to_vec(),
    }
}

/// Max errors of the emulated kernels against the CPU for every pair of `case` in one batch, and
/// with `invariance` the last pair alone (batch invariance: bit-identical).
fn check<const D: usize>(name: &str, case: &Case<D>, invariance: bool) {
    let geo = Cartesian::new(case.mesh);
    let n = case.mesh.n_nodes();
    let all: Vec<usize> = (0..case.pairs.len()).collect();
    let batch = emulate(case, &all);
    assert!(
        batch.sweeps > 0.0 && batch.adjoint_sweeps > 0.0,
        "{name}: no convergence ({} forward, {} adjoint sweeps)",
        batch.sweeps,
        batch.adjoint_sweeps
    );
    let (mut worst_t, mut worst_g, mut worst_src) = (0.0f64, 0.0f64, 0.0f64);
    let mut differing = 0usize;
    for p in 0..case.pairs.len() {
        let source = case.source(p);
        let slowness = &case.slowness[case.pairs[p].0];
        let mut ws = FmmWorkspace::new(&case.mesh);
        ws.solve(&geo, slowness, &source).unwrap();
        let mut err_t = 0.0f64;
        for i in 0..n {
            let t = ws.time(i);
            if t > 0.0 {
                let e = (batch.time[p][i] - t).abs() / t;
                err_t = err_t.max(e);
                if e > 1e-13 {
                    differing += 1;
                }
            }
        }
        let mut tau_bar = case.tau_bar(p);
        let mut grad = vec![0.0; n];
        let grad_src = adjoint_into(&geo, slowness, &source, &ws, &mut tau_bar, &mut grad);
        let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let err_g = grad
            .iter()
            .zip(&batch.grad[p])
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
            / scale;
        let err_src = (grad_src - batch.grad_source[p]).abs() / grad_src.abs().max(scale);
        println!(
            "{name} pair {p}: max |ΔT|/T = {err_t:.2e}, max |Δ∂L/∂s| / max |∂L/∂s| = {err_g:.2e}, ∂L/∂s_src rel. {err_src:.2e}"
        );
        worst_t = worst_t.max(err_t);
        worst_g = worst_g.max(err_g);
        worst_src = worst_src.max(err_src);
        // τ is T/T₀ with the CPU's rounding.
        assert_eq!(batch.tau[p].len(), n);
    }
    println!(
        "{name}: {} forward sweeps, {} adjoint sweeps; worst: times {worst_t:.2e}, gradient {worst_g:.2e}, source gradient {worst_src:.2e}; {differing} of {} node times differ by > 1e-13 relative",
        batch.sweeps,
        batch.adjoint_sweeps,
        n * case.pairs.len()
    );
    assert!(worst_t <= TOLERANCE, "{name}: times {worst_t:e}");
    assert!(worst_g <= TOLERANCE, "{name}: gradient {worst_g:e}");
    assert!(
        worst_src <= TOLERANCE,
        "{name}: source gradient {worst_src:e}"
    );

    if !invariance {
        return;
    }
    // Batch invariance: the last pair alone gives the same bits as in the batch.
    let last = case.pairs.len() - 1;
    let alone = emulate(case, &[last]);
    for (a, b) in [
        (&alone.time[0], &batch.time[last]),
        (&alone.grad[0], &batch.grad[last]),
    ] {
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name}: pair {last} differs alone and in the batch"
        );
    }
    assert_eq!(
        alone.grad_source[0].to_bits(),
        batch.grad_source[last].to_bits()
    );
}

#[test]
fn travel_times_and_gradients_2d_match_fast_marching() {
    let mesh = Mesh::new([0.0, -1.0], [0.5, 0.4], [61, 47]);
    let case = Case::new(
        mesh,
        2,
        &[
            (0, [7.33, 4.71]),
            (1, [21.9, 12.37]),
            (0, [0.21, 17.0]),
            (1, [13.05, 0.33]),
        ],
        42,
    );
    check("2D 61×47", &case, true);
}

#[test]
fn travel_times_and_gradients_3d_match_fast_marching() {
    let mesh = Mesh::new([0.0, 0.0, -2.0], [0.6, 0.5, 0.45], [23, 21, 19]);
    let case = Case::new(
        mesh,
        2,
        &[
            (0, [4.07, 5.13, 1.91]),
            (1, [10.9, 2.2, 4.33]),
            (1, [0.5, 9.71, -1.6]),
        ],
        7,
    );
    check("3D 23×21×19", &case, true);
}

/// More random 2D and 3D cases (seeds 1–12; batch invariance is checked by the two tests above):
/// seeds 1–4 on a 21×20×19 and a 51×63 grid, seeds 5–12 on smaller grids to keep the test fast.
#[test]
fn more_random_cases() {
    for seed in 1..13u64 {
        let mut r = Rng(seed * 1234567);
        let (shape3, shape2) = if seed <= 4 {
            ([21, 20, 19], [51, 63])
        } else {
            ([14, 13, 12], [31, 37])
        };
        let extent3: [f64; 3] = std::array::from_fn(|a| 0.5 * (shape3[a] - 2) as f64 + 0.4);
        let mesh = Mesh::new([0.0, 0.0, 0.0], [0.5, 0.5, 0.5], shape3);
        let pairs: Vec<(usize, [f64; 3])> = (0..3)
            .map(|k| {
                (
                    k % 2,
                    [
                        extent3[0] * r.uniform(),
                        extent3[1] * r.uniform(),
                        extent3[2] * r.uniform(),
                    ],
                )
            })
            .collect();
        check(
            &format!("3D seed {seed}"),
            &Case::new(mesh, 2, &pairs, seed),
            false,
        );
        let extent2 = [
            0.5 * (shape2[0] - 2) as f64 + 0.4,
            0.3 * (shape2[1] - 2) as f64 + 0.2,
        ];
        let mesh = Mesh::new([0.0, 0.0], [0.5, 0.3], shape2);
        let pairs: Vec<(usize, [f64; 2])> = (0..4)
            .map(|k| (k % 2, [extent2[0] * r.uniform(), extent2[1] * r.uniform()]))
            .collect();
        check(
            &format!("2D seed {seed}"),
            &Case::new(mesh, 2, &pairs, seed),
            false,
        );
    }
}
