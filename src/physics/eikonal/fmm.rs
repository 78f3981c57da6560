//! Second-order fast marching for the factored eikonal equation.
//!
//! With T = T₀ τ and T₀(x) = |x − x_s|, |∇T|² = s² becomes Σ_k (τ ∂_kT₀ + T₀ ∂_kτ)² = s². At a
//! node i each axis k enters as a term D'_k = A_k τ_i − B_k, with B_k linear in accepted τ's:
//!
//! - **one-sided** (an accepted neighbour j₁ on side `dir`, and j₂ beyond it for second order):
//!   A_k = −dir ∂_kT₀ + T₀ c₁/h_k, B_k = T₀ (c₂ τ_j₁ − c₃ τ_j₂)/h_k, with (c₁, c₂, c₃) = (1, 1, 0)
//!   or (3/2, 2, 1/2); second order when j₂ is accepted and T(j₂) ≤ T(j₁). Causal when D'_k ≥ 0.
//! - **estimated** (no one-sided difference in this candidate): ∂_kτ is taken at the upwind
//!   neighbour j of another axis, by a difference of τ at j's accepted neighbours along k:
//!   A_k = ∂_kT₀, B_k = −T₀ (∂_kτ)_j. Near the grid lines through an off-grid source (and along
//!   the curves where ∂_kT = 0) no neighbour along k is accepted yet, but the term is not
//!   negligible there; dropping it (the Godunov choice) makes the point source first order.
//! - **unused** when not even an estimate is available.
//!
//! Σ_k D'_k² = s_i² is solved for its larger root for every non-empty subset of the axes with a
//! one-sided difference (available axes left out of a subset are dropped, the Godunov choice;
//! unavailable ones are estimated); the node takes the smallest causal candidate. A trial node is
//! recomputed from scratch whenever a face or edge neighbour is accepted, and the latest value
//! replaces the earlier one: with estimated terms, candidates from fewer accepted neighbours are
//! not upper bounds, so the usual keep-the-minimum rule would keep first-order values.
//! Nodes of the 4^D box around the source cell start from the straight-ray trapezoid
//! τ = (s_src + s_i)/2 (exact in a homogeneous medium, O(r²) nearby), and every other node is at
//! least two spacings from the source. Each node records the rule of every axis for its final
//! value, and the acceptance order is kept, so that `adjoint` can transpose the solve exactly.
//!
//! The workspace is allocated once per mesh and reused for every source.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::mesh::{Mesh, Stencil};
use crate::physics::PhysicsError;

/// A point source: position (km) and the slowness there (s/km).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointSource<const D: usize> {
    pub position: [f64; D],
    pub slowness: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Far,
    Trial,
    Known,
}

/// Which accepted neighbours of j along k estimate (∂_kτ)_j.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Diagonal {
    /// Central difference (τ_{j+e_k} − τ_{j−e_k}) / 2h.
    Both,
    /// (τ_{j+e_k} − τ_j) / h.
    Plus,
    /// (τ_j − τ_{j−e_k}) / h.
    Minus,
}

/// How one axis enters a node's local equation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AxisRule {
    Unused,
    OneSided {
        dir: i8,
        second: bool,
    },
    /// `extrapolated`: central differences at j and at j₂ beyond it, combined as 2 (∂_kτ)_j −
    /// (∂_kτ)_j₂ (second order at i); otherwise the difference at j alone.
    Estimated {
        via: u8,
        via_dir: i8,
        diagonal: Diagonal,
        extrapolated: bool,
    },
}

/// The recorded local equation of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeRule<const D: usize> {
    /// Trapezoid value in the box around the source.
    Initial,
    Marched([AxisRule; D]),
}

impl<const D: usize> NodeRule<D> {
    /// Whether some axis is estimated or missing (so that newly accepted diagonal nodes may
    /// improve the value).
    fn has_estimated_or_missing_axis(&self) -> bool {
        match self {
            NodeRule::Initial => false,
            NodeRule::Marched(rules) => rules
                .iter()
                .any(|r| !matches!(r, AxisRule::OneSided { .. })),
        }
    }
}

/// One axis term: A (coefficient of τ_i) and B = Σ w τ_n over up to four accepted nodes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Term {
    pub a: f64,
    pub deps: [(usize, f64); 4],
    pub n_deps: usize,
}

impl Term {
    const NONE: Term = Term {
        a: 0.0,
        deps: [(0, 0.0); 4],
        n_deps: 0,
    };

    pub fn b(&self, tau: &[f64]) -> f64 {
        let mut b = 0.0;
        for &(n, w) in &self.deps[..self.n_deps] {
            b += w * tau[n];
        }
        b
    }
}

#[inline]
fn step(i: usize, stride: usize, dir: i8) -> usize {
    if dir < 0 { i - stride } else { i + stride }
}

/// The term of axis `k` at node `i` under `rule`, with T₀ = `t0` and ∇T₀ = `g`.
#[inline]
pub(crate) fn axis_term<const D: usize>(
    mesh: &Mesh<D>,
    strides: &[usize; D],
    i: usize,
    k: usize,
    rule: AxisRule,
    t0: f64,
    g: &[f64; D],
) -> Term {
    let h = mesh.spacing[k];
    match rule {
        AxisRule::Unused => Term::NONE,
        AxisRule::OneSided { dir, second } => {
            let j1 = step(i, strides[k], dir);
            let mut t = Term {
                a: -f64::from(dir) * g[k],
                deps: [(j1, 0.0), (0, 0.0), (0, 0.0), (0, 0.0)],
                n_deps: 1,
            };
            if second {
                t.a += t0 * 1.5 / h;
                t.deps[0].1 = t0 * 2.0 / h;
                t.deps[1] = (step(j1, strides[k], dir), -t0 * 0.5 / h);
                t.n_deps = 2;
            } else {
                t.a += t0 / h;
                t.deps[0].1 = t0 / h;
            }
            t
        }
        AxisRule::Estimated {
            via,
            via_dir,
            diagonal,
            extrapolated,
        } => {
            let j = step(i, strides[via as usize], via_dir);
            let sk = strides[k];
            // B = −T₀ (∂_kτ)_i.
            if extrapolated {
                let j2 = step(j, strides[via as usize], via_dir);
                let w = t0 / h;
                return Term {
                    a: g[k],
                    deps: [
                        (j + sk, -w),
                        (j - sk, w),
                        (j2 + sk, 0.5 * w),
                        (j2 - sk, -0.5 * w),
                    ],
                    n_deps: 4,
                };
            }
            let deps = match diagonal {
                Diagonal::Both => [(j + sk, -0.5 * t0 / h), (j - sk, 0.5 * t0 / h)],
                Diagonal::Plus => [(j + sk, -t0 / h), (j, t0 / h)],
                Diagonal::Minus => [(j, -t0 / h), (j - sk, t0 / h)],
            };
            Term {
                a: g[k],
                deps: [deps[0], deps[1], (0, 0.0), (0, 0.0)],
                n_deps: 2,
            }
        }
    }
}

/// T₀ = |x − x_s| and its gradient (zero at the source itself).
#[inline]
pub(crate) fn source_factor<const D: usize>(x: [f64; D], source: [f64; D]) -> (f64, [f64; D]) {
    let diff: [f64; D] = std::array::from_fn(|a| x[a] - source[a]);
    let r = diff.iter().map(|d| d * d).sum::<f64>().sqrt();
    let g = if r > 0.0 {
        std::array::from_fn(|a| diff[a] / r)
    } else {
        [0.0; D]
    };
    (r, g)
}

/// The larger root τ of Σ_k (A_k τ − B_k)² = s², if real.
#[inline]
fn larger_root<const D: usize>(terms: &[Term; D], b: &[f64; D], s: f64) -> Option<f64> {
    let (mut qa, mut qb, mut qc) = (0.0, 0.0, -s * s);
    for k in 0..D {
        qa += terms[k].a * terms[k].a;
        qb += terms[k].a * b[k];
        qc += b[k] * b[k];
    }
    let disc = qb * qb - qa * qc;
    (disc >= 0.0 && qa > 0.0).then(|| (qb + disc.sqrt()) / qa)
}

#[derive(Debug, Clone, Copy)]
struct HeapEntry {
    time: f64,
    node: u32,
}

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for HeapEntry {}
impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapEntry {
    /// Reversed, so that `BinaryHeap` pops the smallest time; ties go to the smaller node index.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .total_cmp(&self.time)
            .then_with(|| other.node.cmp(&self.node))
    }
}

/// Fast-marching state for one mesh: the solution τ, each node's rule and the acceptance order
/// (what the adjoint needs), and the scratch of the march.
pub struct FmmWorkspace<const D: usize> {
    /// τ = T / T₀ at every node.
    pub tau: Vec<f64>,
    time: Vec<f64>,
    status: Vec<Status>,
    pub(crate) rules: Vec<NodeRule<D>>,
    pub(crate) accepted: Vec<u32>,
    heap: BinaryHeap<HeapEntry>,
}

impl<const D: usize> FmmWorkspace<D> {
    pub fn new(mesh: &Mesh<D>) -> Self {
        let n = mesh.n_nodes();
        assert!(
            n < u32::MAX as usize,
            "mesh too large for 32-bit node indices"
        );
        FmmWorkspace {
            tau: vec![f64::INFINITY; n],
            time: vec![f64::INFINITY; n],
            status: vec![Status::Far; n],
            rules: vec![NodeRule::Marched([AxisRule::Unused; D]); n],
            accepted: Vec::with_capacity(n),
            heap: BinaryHeap::with_capacity(n),
        }
    }

    /// Travel time T = T₀ τ at node `i` for the last solve.
    pub fn time(&self, i: usize) -> f64 {
        self.time[i]
    }

    /// Solves for the travel-time field of `source` on `mesh` with nodal `slowness`.
    pub fn solve(
        &mut self,
        mesh: &Mesh<D>,
        slowness: &[f64],
        source: &PointSource<D>,
    ) -> Result<(), PhysicsError> {
        let n = mesh.n_nodes();
        assert_eq!(slowness.len(), n);
        assert_eq!(self.tau.len(), n, "workspace built for another mesh");
        self.tau.fill(f64::INFINITY);
        self.time.fill(f64::INFINITY);
        self.status.fill(Status::Far);
        self.accepted.clear();
        self.heap.clear();

        let strides = mesh.strides();
        let initial = initial_box(mesh, source.position);
        for &i in &initial {
            let (t0, _) = source_factor(mesh.position(i), source.position);
            self.tau[i] = 0.5 * (source.slowness + slowness[i]);
            self.time[i] = t0 * self.tau[i];
            self.status[i] = Status::Known;
            self.rules[i] = NodeRule::Initial;
            self.accepted.push(i as u32);
        }
        for &i in &initial {
            self.update_neighbours(mesh, &strides, slowness, source, i);
        }
        while let Some(HeapEntry { time, node }) = self.heap.pop() {
            let i = node as usize;
            if self.status[i] == Status::Known || time != self.time[i] {
                continue; // stale entry
            }
            self.status[i] = Status::Known;
            self.accepted.push(node);
            self.update_neighbours(mesh, &strides, slowness, source, i);
        }
        if self.accepted.len() != n {
            let node = self
                .status
                .iter()
                .position(|&s| s != Status::Known)
                .expect("some node is not accepted");
            return Err(PhysicsError::Unreached { node });
        }
        Ok(())
    }

    /// Updates the face neighbours of a newly accepted node, and those of its edge diagonals that
    /// already hold a trial value (their estimated terms may use it, see `estimate`).
    fn update_neighbours(
        &mut self,
        mesh: &Mesh<D>,
        strides: &[usize; D],
        slowness: &[f64],
        source: &PointSource<D>,
        i: usize,
    ) {
        let c = mesh.coords(i);
        for a in 0..D {
            for dir in [-1i8, 1] {
                let Some(ca) = shifted(mesh, &c, a, dir) else {
                    continue;
                };
                let ja = step(i, strides[a], dir);
                self.try_update(mesh, strides, slowness, source, ja, &ca);
                for b in a + 1..D {
                    for dir_b in [-1i8, 1] {
                        let Some(cb) = shifted(mesh, &ca, b, dir_b) else {
                            continue;
                        };
                        let jb = step(ja, strides[b], dir_b);
                        if self.status[jb] == Status::Trial
                            && self.rules[jb].has_estimated_or_missing_axis()
                        {
                            self.try_update(mesh, strides, slowness, source, jb, &cb);
                        }
                    }
                }
            }
        }
    }

    fn known(&self, i: usize) -> bool {
        self.status[i] == Status::Known
    }

    fn try_update(
        &mut self,
        mesh: &Mesh<D>,
        strides: &[usize; D],
        slowness: &[f64],
        source: &PointSource<D>,
        i: usize,
        coords: &[usize; D],
    ) {
        if self.known(i) {
            return;
        }
        let x: [f64; D] =
            std::array::from_fn(|a| mesh.origin[a] + mesh.spacing[a] * coords[a] as f64);
        let (t0, g) = source_factor(x, source.position);
        if let Some((tau, rules)) = self.local_update(mesh, strides, coords, i, slowness[i], t0, &g)
        {
            let time = t0 * tau;
            self.tau[i] = tau;
            self.time[i] = time;
            self.rules[i] = NodeRule::Marched(rules);
            self.status[i] = Status::Trial;
            self.heap.push(HeapEntry {
                time,
                node: i as u32,
            });
        }
    }

    /// The one-sided rule of axis k at node i, and its neighbour j₁, if an accepted neighbour
    /// exists (the one with the smaller time when both are).
    fn one_sided(
        &self,
        mesh: &Mesh<D>,
        strides: &[usize; D],
        coords: &[usize; D],
        i: usize,
        k: usize,
    ) -> Option<(AxisRule, usize)> {
        let st = strides[k];
        let minus = (coords[k] > 0 && self.known(i - st)).then(|| i - st);
        let plus = (coords[k] + 1 < mesh.shape[k] && self.known(i + st)).then(|| i + st);
        let (j1, dir) = match (minus, plus) {
            (Some(m), Some(p)) => {
                if self.time[p] < self.time[m] {
                    (p, 1i8)
                } else {
                    (m, -1)
                }
            }
            (Some(m), None) => (m, -1),
            (None, Some(p)) => (p, 1),
            (None, None) => return None,
        };
        let j2 = if dir < 0 {
            (coords[k] >= 2).then(|| i - 2 * st)
        } else {
            (coords[k] + 2 < mesh.shape[k]).then(|| i + 2 * st)
        };
        let second = j2.is_some_and(|j2| self.known(j2) && self.time[j2] <= self.time[j1]);
        Some((AxisRule::OneSided { dir, second }, j1))
    }

    /// The estimate rule of axis k through the accepted node j (the neighbour of i, at `coords`,
    /// along `via` on side `via_dir`): which of j's neighbours along k are accepted, and whether
    /// the node j₂ beyond j has both of its own, for the second-order extrapolation.
    #[allow(clippy::too_many_arguments)]
    fn estimate(
        &self,
        mesh: &Mesh<D>,
        strides: &[usize; D],
        coords: &[usize; D],
        j: usize,
        via: usize,
        via_dir: i8,
        k: usize,
    ) -> AxisRule {
        let st = strides[k];
        let ck = coords[k]; // j and j₂ share i's coordinate along k
        let has_plus = ck + 1 < mesh.shape[k];
        let has_minus = ck > 0;
        let plus = has_plus && self.known(j + st);
        let minus = has_minus && self.known(j - st);
        let diagonal = match (plus, minus) {
            (true, true) => Diagonal::Both,
            (true, false) => Diagonal::Plus,
            (false, true) => Diagonal::Minus,
            (false, false) => return AxisRule::Unused,
        };
        let cj = shifted(mesh, coords, via, via_dir).expect("j exists");
        let extrapolated =
            diagonal == Diagonal::Both && shifted(mesh, &cj, via, via_dir).is_some() && {
                let j2 = step(j, strides[via], via_dir);
                self.known(j2 + st) && self.known(j2 - st)
            };
        AxisRule::Estimated {
            via: via as u8,
            via_dir,
            diagonal,
            extrapolated,
        }
    }

    /// The smallest causal candidate for node `i` (at `coords`) from its accepted neighbours.
    #[allow(clippy::too_many_arguments)]
    fn local_update(
        &self,
        mesh: &Mesh<D>,
        strides: &[usize; D],
        coords: &[usize; D],
        i: usize,
        s: f64,
        t0: f64,
        g: &[f64; D],
    ) -> Option<(f64, [AxisRule; D])> {
        let mut sided: [Option<(AxisRule, usize)>; D] = [None; D];
        let mut available = 0usize;
        for k in 0..D {
            sided[k] = self.one_sided(mesh, strides, coords, i, k);
            if sided[k].is_some() {
                available |= 1 << k;
            }
        }
        // Larger subsets first; the first size with a causal candidate decides (the smallest
        // candidate of that size), as in the usual fast-marching update.
        let mut best: Option<(f64, [AxisRule; D])> = None;
        for size in (1..=available.count_ones()).rev() {
            for subset in 1..(1usize << D) {
                if subset & !available != 0 || subset.count_ones() != size {
                    continue;
                }
                if let Some((tau, rules)) = self.candidate(
                    mesh, strides, coords, i, s, t0, g, &sided, available, subset,
                ) && best.is_none_or(|(t, _)| tau < t)
                {
                    best = Some((tau, rules));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best
    }

    /// The causal root for one subset of the axes with a one-sided difference, if any.
    #[allow(clippy::too_many_arguments)]
    fn candidate(
        &self,
        mesh: &Mesh<D>,
        strides: &[usize; D],
        coords: &[usize; D],
        i: usize,
        s: f64,
        t0: f64,
        g: &[f64; D],
        sided: &[Option<(AxisRule, usize)>; D],
        available: usize,
        subset: usize,
    ) -> Option<(f64, [AxisRule; D])> {
        // Estimates go through the subset's earliest upwind neighbour.
        let mut via = usize::MAX;
        for k in 0..D {
            if subset >> k & 1 == 1
                && (via == usize::MAX
                    || self.time[sided[k].expect("in subset").1]
                        < self.time[sided[via].expect("in subset").1])
            {
                via = k;
            }
        }
        let (via_rule, j) = sided[via].expect("in subset");
        let AxisRule::OneSided { dir: via_dir, .. } = via_rule else {
            unreachable!("one-sided rule")
        };
        let rules: [AxisRule; D] = std::array::from_fn(|k| {
            if subset >> k & 1 == 1 {
                sided[k].expect("in subset").0
            } else if available >> k & 1 == 1 {
                AxisRule::Unused // left out of this candidate: the Godunov choice
            } else {
                self.estimate(mesh, strides, coords, j, via, via_dir, k)
            }
        });
        let terms: [Term; D] =
            std::array::from_fn(|k| axis_term(mesh, strides, i, k, rules[k], t0, g));
        let b: [f64; D] = std::array::from_fn(|k| terms[k].b(&self.tau));
        let tau = larger_root(&terms, &b, s)?;
        let causal = (0..D).all(|k| subset >> k & 1 == 0 || terms[k].a * tau - b[k] >= 0.0);
        causal.then_some((tau, rules))
    }
}

/// `coords` moved one node along `axis` in direction `dir`, if still inside the mesh.
#[inline]
fn shifted<const D: usize>(
    mesh: &Mesh<D>,
    coords: &[usize; D],
    axis: usize,
    dir: i8,
) -> Option<[usize; D]> {
    let mut c = *coords;
    if dir < 0 {
        c[axis] = c[axis].checked_sub(1)?;
    } else {
        c[axis] += 1;
        if c[axis] >= mesh.shape[axis] {
            return None;
        }
    }
    Some(c)
}

/// Nodes of the initial box: 4 nodes per axis around the cell holding the source (clipped to the
/// mesh), in index order. Every other node is then at least two spacings from the source.
pub(crate) fn initial_box<const D: usize>(mesh: &Mesh<D>, source: [f64; D]) -> Vec<usize> {
    let (cell, _) = mesh.cell_of(source);
    let lo: [usize; D] = std::array::from_fn(|a| cell[a].saturating_sub(1));
    let hi: [usize; D] = std::array::from_fn(|a| (cell[a] + 2).min(mesh.shape[a] - 1));
    let count: usize = (0..D).map(|a| hi[a] - lo[a] + 1).product();
    let mut nodes = Vec::with_capacity(count);
    for k in 0..count {
        let mut rest = k;
        let mut c = [0; D];
        for a in 0..D {
            let len = hi[a] - lo[a] + 1;
            c[a] = lo[a] + rest % len;
            rest /= len;
        }
        nodes.push(mesh.index(c));
    }
    nodes
}

/// Travel time at an arbitrary point: T₀(p) times τ interpolated multilinearly (τ is smooth at
/// the source, T is not); also returns the stencil and T₀(p) for the adjoint.
pub fn travel_time_at<const D: usize>(
    mesh: &Mesh<D>,
    tau: &[f64],
    source: [f64; D],
    p: [f64; D],
) -> (f64, Stencil, f64) {
    let st = mesh.stencil(p);
    let (t0, _) = source_factor(p, source);
    (t0 * st.apply(tau), st, t0)
}
