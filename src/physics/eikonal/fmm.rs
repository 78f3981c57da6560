//! Second-order fast marching for the factored eikonal equation, on any `Geometry`.
//!
//! With T = T₀ τ and T₀ the distance from the source, |∇T|² = s² becomes
//! Σ_k (τ ∂_kT₀ + T₀ ∂_kτ)² = s² (derivatives per unit arc length along the grid axes). At a node
//! i each axis k enters as a term D'_k = A_k τ_i − B_k, with B_k linear in accepted τ's:
//!
//! - **one-sided** (an accepted neighbour j₁ on side `dir`, and j₂ beyond it for second order):
//!   A_k = −dir ∂_kT₀ + T₀ c₁/h_k, B_k = T₀ (c₂ τ_j₁ − c₃ τ_j₂)/h_k, with (c₁, c₂, c₃) = (1, 1, 0)
//!   or (3/2, 2, 1/2); second order when j₂ is accepted and T(j₂) ≤ T(j₁). Causal when D'_k ≥ 0.
//! - **estimated** (no one-sided difference available): ∂_kτ is taken at the upwind neighbour j
//!   of another axis by a difference of τ at j's accepted neighbours along k (extrapolated to i
//!   with the node beyond j when possible): A_k = ∂_kT₀, B_k = −T₀ (∂_kτ)_i. Near the grid lines
//!   through an off-grid source (and along the curves where ∂_kT = 0) no neighbour along k is
//!   accepted yet, but the term is not negligible there; dropping it (the Godunov choice) makes
//!   the point source first order.
//! - **unused** when an available axis is left out of a candidate, or not even an estimate
//!   exists.
//!
//! Σ_k D'_k² = s_i² is solved for its larger root for the subsets of the axes with a one-sided
//! difference, larger subsets first; the first size with a causal candidate gives the node its
//! smallest causal candidate of that size. A trial node is recomputed from scratch whenever a
//! face neighbour (or, while it has an estimated axis, an edge neighbour) is accepted, and the
//! latest value replaces the earlier one: with estimated terms, candidates from fewer accepted
//! neighbours are not upper bounds. Nodes of a box around the source cell (at least two of the
//! largest spacings on every side) start from the straight-ray trapezoid τ = (s_src + s_i)/2,
//! exact in a homogeneous medium and O(r²) nearby. Each node records the rule of every axis for
//! its final value, and the acceptance order is kept, so that `adjoint` can transpose the solve.
//!
//! The workspace is allocated once per mesh and reused for every source.

use super::geometry::Geometry;
use super::heap::TrialHeap;
use super::mesh::{Mesh, Stencil};
use crate::physics::PhysicsError;

/// A point source: position (grid coordinates) and the slowness there (s/km).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointSource<const D: usize> {
    pub position: [f64; D],
    pub slowness: f64,
}

const FAR: u8 = 0;
const TRIAL: u8 = 1;
const KNOWN: u8 = 2;

// Rule of one axis, one byte: 0 unused; 1..=4 one-sided (minus/plus × first/second order);
// 0x80 | via << 4 | plus << 3 | extrapolated << 2 | diagonal (1 both, 2 plus, 3 minus) for an
// estimate; INITIAL on axis 0 for the trapezoid box.
pub(crate) const UNUSED: u8 = 0;
const MINUS_FIRST: u8 = 1;
const MINUS_SECOND: u8 = 2;
const PLUS_FIRST: u8 = 3;
const PLUS_SECOND: u8 = 4;
const ESTIMATED: u8 = 0x80;
const DIAG_BOTH: u8 = 1;
const DIAG_PLUS: u8 = 2;
const DIAG_MINUS: u8 = 3;
pub(crate) const INITIAL: u8 = 0xFF;

#[inline]
fn is_one_sided(code: u8) -> bool {
    (MINUS_FIRST..=PLUS_SECOND).contains(&code)
}

#[inline]
fn one_sided_code(dir: i8, second: bool) -> u8 {
    match (dir < 0, second) {
        (true, false) => MINUS_FIRST,
        (true, true) => MINUS_SECOND,
        (false, false) => PLUS_FIRST,
        (false, true) => PLUS_SECOND,
    }
}

#[inline]
fn step(i: usize, stride: usize, dir: i8) -> usize {
    if dir < 0 { i - stride } else { i + stride }
}

#[inline]
fn shifted<const D: usize>(c: &[usize; D], axis: usize, dir: i8) -> [usize; D] {
    let mut s = *c;
    if dir < 0 {
        s[axis] -= 1;
    } else {
        s[axis] += 1;
    }
    s
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

    #[inline]
    pub fn b(&self, tau: &[f64]) -> f64 {
        let mut b = 0.0;
        for &(n, w) in &self.deps[..self.n_deps] {
            b += w * tau[n];
        }
        b
    }
}

/// The term of axis `k` at node `i` (coordinates `c`) under rule `code`, with T₀ = `t0` and
/// ∇T₀ = `g`.
#[inline]
#[allow(clippy::too_many_arguments)]
pub(crate) fn axis_term<const D: usize, G: Geometry<D>>(
    geo: &G,
    strides: &[usize; D],
    c: &[usize; D],
    i: usize,
    k: usize,
    code: u8,
    t0: f64,
    g: &[f64; D],
) -> Term {
    if code == UNUSED {
        return Term::NONE;
    }
    if is_one_sided(code) {
        let dir: i8 = if code <= MINUS_SECOND { -1 } else { 1 };
        let h = geo.spacing(c, k);
        let j1 = step(i, strides[k], dir);
        let a0 = -f64::from(dir) * g[k];
        return if code == MINUS_SECOND || code == PLUS_SECOND {
            let j2 = step(j1, strides[k], dir);
            Term {
                a: a0 + t0 * 1.5 / h,
                deps: [(j1, t0 * 2.0 / h), (j2, -t0 * 0.5 / h), (0, 0.0), (0, 0.0)],
                n_deps: 2,
            }
        } else {
            Term {
                a: a0 + t0 / h,
                deps: [(j1, t0 / h), (0, 0.0), (0, 0.0), (0, 0.0)],
                n_deps: 1,
            }
        };
    }
    debug_assert!(code & ESTIMATED != 0);
    let via = usize::from((code >> 4) & 0x3);
    let via_dir: i8 = if code & 0x08 != 0 { 1 } else { -1 };
    let extrapolated = code & 0x04 != 0;
    let diagonal = code & 0x03;
    let j = step(i, strides[via], via_dir);
    let cj = shifted(c, via, via_dir);
    let sk = strides[k];
    let w = t0 / geo.spacing(&cj, k);
    // B = −T₀ (∂_kτ)_i.
    if extrapolated {
        let j2 = step(j, strides[via], via_dir);
        let w2 = t0 / geo.spacing(&shifted(&cj, via, via_dir), k);
        return Term {
            a: g[k],
            deps: [
                (j + sk, -w),
                (j - sk, w),
                (j2 + sk, 0.5 * w2),
                (j2 - sk, -0.5 * w2),
            ],
            n_deps: 4,
        };
    }
    let deps = match diagonal {
        DIAG_BOTH => [(j + sk, -0.5 * w), (j - sk, 0.5 * w)],
        DIAG_PLUS => [(j + sk, -w), (j, w)],
        _ => [(j, -w), (j - sk, w)],
    };
    Term {
        a: g[k],
        deps: [deps[0], deps[1], (0, 0.0), (0, 0.0)],
        n_deps: 2,
    }
}

/// Fast-marching state for one mesh: the solution τ, each node's rules and the acceptance order
/// (what the adjoint needs), and the scratch of the march.
pub struct FmmWorkspace<const D: usize> {
    /// τ = T / T₀ at every node.
    pub tau: Vec<f64>,
    time: Vec<f64>,
    state: Vec<u8>,
    pub(crate) rules: Vec<[u8; D]>,
    pub(crate) accepted: Vec<u32>,
    heap: TrialHeap,
}

/// What a local update needs to know about the node and the geometry.
struct Site<'a, const D: usize, G: Geometry<D>> {
    geo: &'a G,
    strides: [usize; D],
    shape: [usize; D],
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
            state: vec![FAR; n],
            rules: vec![[UNUSED; D]; n],
            accepted: Vec::with_capacity(n),
            heap: TrialHeap::new(n),
        }
    }

    /// Travel time T = T₀ τ at node `i` for the last solve.
    pub fn time(&self, i: usize) -> f64 {
        self.time[i]
    }

    /// Solves for the travel-time field of `source` on `geo` with nodal `slowness`.
    pub fn solve<G: Geometry<D>>(
        &mut self,
        geo: &G,
        slowness: &[f64],
        source: &PointSource<D>,
    ) -> Result<(), PhysicsError> {
        let mesh = geo.mesh();
        let n = mesh.n_nodes();
        assert_eq!(slowness.len(), n);
        assert_eq!(self.tau.len(), n, "workspace built for another mesh");
        self.tau.fill(f64::INFINITY);
        self.time.fill(f64::INFINITY);
        self.state.fill(FAR);
        self.accepted.clear();
        self.heap.clear();

        let site = Site {
            geo,
            strides: mesh.strides(),
            shape: mesh.shape,
        };
        let frame = geo.frame(source.position);
        let initial = initial_box(geo, source.position);
        for &i in &initial {
            let (t0, _) = geo.node_factor(&mesh.coords(i), &frame);
            self.tau[i] = 0.5 * (source.slowness + slowness[i]);
            self.time[i] = t0 * self.tau[i];
            self.state[i] = KNOWN;
            self.rules[i] = [INITIAL; D];
            self.accepted.push(i as u32);
        }
        for &i in &initial {
            self.update_neighbours(&site, slowness, &frame, i);
        }
        while let Some(node) = self.heap.pop() {
            let i = node as usize;
            self.state[i] = KNOWN;
            self.accepted.push(node);
            self.update_neighbours(&site, slowness, &frame, i);
        }
        if self.accepted.len() != n {
            let node = self
                .state
                .iter()
                .position(|&s| s != KNOWN)
                .expect("some node is not accepted");
            return Err(PhysicsError::Unreached { node });
        }
        Ok(())
    }

    /// Updates the face neighbours of a newly accepted node, and those of its edge diagonals that
    /// hold a trial value with an estimated or missing axis in the plane of the diagonal (only
    /// there can the new node enter an estimate).
    fn update_neighbours<G: Geometry<D>>(
        &mut self,
        site: &Site<D, G>,
        slowness: &[f64],
        frame: &G::Frame,
        i: usize,
    ) {
        let c = site.geo.mesh().coords(i);
        for a in 0..D {
            for dir in [-1i8, 1] {
                if (dir < 0 && c[a] == 0) || (dir > 0 && c[a] + 1 == site.shape[a]) {
                    continue;
                }
                let ca = shifted(&c, a, dir);
                let ja = step(i, site.strides[a], dir);
                self.try_update(site, slowness, frame, ja, &ca);
                for b in a + 1..D {
                    for dir_b in [-1i8, 1] {
                        if (dir_b < 0 && ca[b] == 0) || (dir_b > 0 && ca[b] + 1 == site.shape[b]) {
                            continue;
                        }
                        let jb = step(ja, site.strides[b], dir_b);
                        if self.state[jb] == TRIAL
                            && (!is_one_sided(self.rules[jb][a])
                                || !is_one_sided(self.rules[jb][b]))
                        {
                            self.try_update(site, slowness, frame, jb, &shifted(&ca, b, dir_b));
                        }
                    }
                }
            }
        }
    }

    fn try_update<G: Geometry<D>>(
        &mut self,
        site: &Site<D, G>,
        slowness: &[f64],
        frame: &G::Frame,
        i: usize,
        c: &[usize; D],
    ) {
        if self.state[i] == KNOWN {
            return;
        }
        let (t0, g) = site.geo.node_factor(c, frame);
        if let Some((tau, rules)) = self.local_update(site, c, i, slowness[i], t0, &g) {
            self.tau[i] = tau;
            self.time[i] = t0 * tau;
            self.rules[i] = rules;
            self.state[i] = TRIAL;
            self.heap.upsert(self.time[i], i as u32);
        }
    }

    /// The smallest causal candidate for node `i` from its accepted neighbours.
    fn local_update<G: Geometry<D>>(
        &self,
        site: &Site<D, G>,
        c: &[usize; D],
        i: usize,
        s: f64,
        t0: f64,
        g: &[f64; D],
    ) -> Option<(f64, [u8; D])> {
        // One-sided term of every available axis, computed once for all candidates.
        let mut sided = [UNUSED; D];
        let mut j1 = [0usize; D];
        let mut a_sided = [0.0; D];
        let mut b_sided = [0.0; D];
        let mut available = 0usize;
        for k in 0..D {
            let st = site.strides[k];
            let minus = c[k] > 0 && self.state[i - st] == KNOWN;
            let plus = c[k] + 1 < site.shape[k] && self.state[i + st] == KNOWN;
            let dir: i8 = match (minus, plus) {
                (true, true) => {
                    if self.time[i + st] < self.time[i - st] {
                        1
                    } else {
                        -1
                    }
                }
                (true, false) => -1,
                (false, true) => 1,
                (false, false) => continue,
            };
            let n1 = step(i, st, dir);
            let has_j2 = if dir < 0 {
                c[k] >= 2
            } else {
                c[k] + 2 < site.shape[k]
            };
            let second = has_j2 && {
                let n2 = step(n1, st, dir);
                self.state[n2] == KNOWN && self.time[n2] <= self.time[n1]
            };
            sided[k] = one_sided_code(dir, second);
            j1[k] = n1;
            let term = axis_term(site.geo, &site.strides, c, i, k, sided[k], t0, g);
            a_sided[k] = term.a;
            b_sided[k] = term.b(&self.tau);
            available |= 1 << k;
        }
        if available == 0 {
            return None;
        }
        let unavailable = !available & ((1usize << D) - 1);
        let mut best: Option<(f64, [u8; D])> = None;
        for size in (1..=available.count_ones()).rev() {
            for subset in 1..(1usize << D) {
                if subset & !available != 0 || subset.count_ones() != size {
                    continue;
                }
                // Estimates go through the subset's earliest upwind neighbour.
                let mut via = usize::MAX;
                for k in 0..D {
                    if subset >> k & 1 == 1
                        && (via == usize::MAX || self.time[j1[k]] < self.time[j1[via]])
                    {
                        via = k;
                    }
                }
                let mut rules = [UNUSED; D];
                let (mut qa, mut qb, mut qc) = (0.0, 0.0, -s * s);
                for k in 0..D {
                    let (a, b) = if subset >> k & 1 == 1 {
                        rules[k] = sided[k];
                        (a_sided[k], b_sided[k])
                    } else if unavailable >> k & 1 == 1 {
                        rules[k] = self.estimate(site, c, j1[via], via, sided[via], k);
                        let term = axis_term(site.geo, &site.strides, c, i, k, rules[k], t0, g);
                        (term.a, term.b(&self.tau))
                    } else {
                        continue; // left out of this candidate: the Godunov choice
                    };
                    qa += a * a;
                    qb += a * b;
                    qc += b * b;
                }
                let disc = qb * qb - qa * qc;
                if disc < 0.0 || qa <= 0.0 {
                    continue;
                }
                let tau = (qb + disc.sqrt()) / qa;
                let causal =
                    (0..D).all(|k| subset >> k & 1 == 0 || a_sided[k] * tau - b_sided[k] >= 0.0);
                if causal && best.is_none_or(|(t, _)| tau < t) {
                    best = Some((tau, rules));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best
    }

    /// The estimate rule of axis k through the accepted node j (the neighbour of i along `via`,
    /// on the side of `via_code`): which of j's neighbours along k are accepted, and whether the
    /// node j₂ beyond j has both of its own, for the second-order extrapolation.
    fn estimate<G: Geometry<D>>(
        &self,
        site: &Site<D, G>,
        c: &[usize; D],
        j: usize,
        via: usize,
        via_code: u8,
        k: usize,
    ) -> u8 {
        let st = site.strides[k];
        let (has_minus, has_plus) = (c[k] > 0, c[k] + 1 < site.shape[k]); // j shares i's coordinate along k
        let plus = has_plus && self.state[j + st] == KNOWN;
        let minus = has_minus && self.state[j - st] == KNOWN;
        let diagonal = match (plus, minus) {
            (true, true) => DIAG_BOTH,
            (true, false) => DIAG_PLUS,
            (false, true) => DIAG_MINUS,
            (false, false) => return UNUSED,
        };
        let via_dir: i8 = if via_code <= MINUS_SECOND { -1 } else { 1 };
        let j2_exists = if via_dir < 0 {
            c[via] >= 2
        } else {
            c[via] + 2 < site.shape[via]
        };
        let extrapolated = diagonal == DIAG_BOTH && j2_exists && {
            let j2 = step(j, site.strides[via], via_dir);
            self.state[j2 + st] == KNOWN && self.state[j2 - st] == KNOWN
        };
        ESTIMATED
            | (via as u8) << 4
            | u8::from(via_dir > 0) << 3
            | u8::from(extrapolated) << 2
            | diagonal
    }
}

/// Nodes of the initial box around the cell holding the source (clipped to the mesh), in index
/// order: along axis k, w_k nodes on either side with w_k h_k ≥ 2 max_l h_l, so that every
/// other node is at least two of the largest spacings from the source.
pub(crate) fn initial_box<const D: usize, G: Geometry<D>>(geo: &G, source: [f64; D]) -> Vec<usize> {
    let mesh = geo.mesh();
    let (cell, _) = mesh.cell_of(source);
    let h: [f64; D] = std::array::from_fn(|k| geo.spacing(&cell, k));
    let h_max = h.iter().copied().fold(0.0, f64::max);
    let w: [usize; D] = std::array::from_fn(|k| ((2.0 * h_max / h[k]).ceil() as usize).max(2));
    let lo: [usize; D] = std::array::from_fn(|a| cell[a].saturating_sub(w[a] - 1));
    let hi: [usize; D] = std::array::from_fn(|a| (cell[a] + w[a]).min(mesh.shape[a] - 1));
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
pub fn travel_time_at<const D: usize, G: Geometry<D>>(
    geo: &G,
    tau: &[f64],
    frame: &G::Frame,
    p: [f64; D],
) -> (f64, Stencil, f64) {
    let st = geo.mesh().stencil(p);
    let t0 = geo.distance(p, frame);
    (t0 * st.apply(tau), st, t0)
}
