//! One time step of the acoustic wave equation (1/c²) u_tt − Δu = f with the CPML, and its exact
//! transpose.
//!
//! With w = dt² c² on the padded grid, the forward step n → n + 1 is
//!
//! ```text
//!   (1) ψ_d ← b_d ψ_d + a_d D1_d uⁿ                          on the layer of axis d
//!   (2) ζ_d ← b_d ζ_d + a_d (D2_d uⁿ + D1_d ψ_d)              on the layer of axis d
//!   (3) uⁿ⁺¹ = 2 uⁿ − uⁿ⁻¹ + w ⊙ Gⁿ,  Gⁿ = Σ_d D2_d uⁿ + Σ_d M_d (D1_d ψ_d + ζ_d) + sⁿ
//! ```
//!
//! where D1_d, D2_d are the central stencils with zero extension beyond the grid, M_d keeps the
//! points of axis d's layer, ψ_d and ζ_d live on that layer only (zero elsewhere) and sⁿ is the
//! injected source (added by the caller). Every operation is linear in (u, ψ, ζ), so the adjoint
//! step applies the transposes in reverse order (D1ᵀ = −D1, D2ᵀ = D2 with zero extension):
//!
//! ```text
//!   q = w ⊙ ūⁿ⁺¹
//!   ūⁿ += 2 ūⁿ⁺¹ + Σ_d D2_d q,   ūⁿ⁻¹ = −ūⁿ⁺¹
//!   ψ̄_d += D1_dᵀ (M_d q),   ζ̄_d += M_d q
//!   ūⁿ += D2_dᵀ (a_d ζ̄_d),  ψ̄_d += D1_dᵀ (a_d ζ̄_d),  ζ̄_d ← b_d ζ̄_d          (transpose of 2)
//!   ūⁿ += D1_dᵀ (a_d ψ̄_d),  ψ̄_d ← b_d ψ̄_d                                   (transpose of 1)
//! ```
//!
//! and the gradient with respect to w is Σₙ ūⁿ⁺¹ ⊙ Gⁿ. Each step is parallel over z-planes;
//! every point is computed by the same expression whatever the thread count, so results are
//! bit-identical.

use rayon::prelude::*;

use super::cpml::Cpml;
use super::float::WaveFloat;
use super::grid::{WaveGrid, X, Y, Z};
use super::stencil::SpaceOrder;

/// The wavefield state before a step: (uⁿ, uⁿ⁻¹) and the memory variables per axis (full-size
/// arrays for active axes, empty otherwise). The adjoint state has the same shape:
/// (ūⁿ⁺¹, ūⁿ, ψ̄, ζ̄).
#[derive(Debug, Clone)]
pub struct WaveState<T> {
    pub cur: Vec<T>,
    pub prev: Vec<T>,
    pub psi: [Vec<T>; 3],
    pub zeta: [Vec<T>; 3],
}

impl<T: WaveFloat> WaveState<T> {
    pub fn zeros(grid: &WaveGrid) -> Self {
        let n = grid.len();
        let field = |d: usize| {
            if grid.is_active(d) {
                vec![T::ZERO; n]
            } else {
                Vec::new()
            }
        };
        Self {
            cur: vec![T::ZERO; n],
            prev: vec![T::ZERO; n],
            psi: std::array::from_fn(field),
            zeta: std::array::from_fn(field),
        }
    }

    /// Bytes held (the unit of the checkpoint memory formula).
    pub fn bytes(&self) -> usize {
        let fields = 2 + self.psi.iter().filter(|p| !p.is_empty()).count() * 2;
        fields * self.cur.len() * std::mem::size_of::<T>()
    }
}

/// The discrete operator: grid, stencil weights (scaled by the spacing) and CPML coefficients.
#[derive(Debug, Clone)]
pub struct Propagator<T> {
    pub grid: WaveGrid,
    pub order: SpaceOrder,
    pub dt: f64,
    shape: [usize; 3],
    strides: [usize; 3],
    /// Second-derivative weights / h².
    c2: Vec<T>,
    /// First-derivative weights / h.
    c1: Vec<T>,
    cpml: Cpml<T>,
}

/// Coordinate ranges of the points within `width` of either end of an axis of `n` points
/// (the second range is empty when the two ends overlap).
fn edge_ranges(n: usize, width: usize) -> [std::ops::Range<usize>; 2] {
    if 2 * width >= n {
        [0..n, n..n]
    } else {
        [0..width, n - width..n]
    }
}

impl<T: WaveFloat> Propagator<T> {
    /// `v_ref` (km/s) sets the CPML damping and `f0` (Hz) its frequency shift.
    pub fn new(grid: WaveGrid, order: SpaceOrder, dt: f64, v_ref: f64, f0: f64) -> Self {
        assert!(
            grid.npml >= order.radius(),
            "the CPML must be at least as wide as the stencil radius"
        );
        let h = grid.spacing;
        let c2 = order
            .second_derivative()
            .iter()
            .map(|c| T::from_f64(c / (h * h)))
            .collect();
        let c1 = order
            .first_derivative()
            .iter()
            .map(|c| T::from_f64(c / h))
            .collect();
        let cpml = Cpml::new(&grid, dt, v_ref, f0);
        Self {
            shape: grid.shape(),
            strides: grid.strides(),
            grid,
            order,
            dt,
            c2,
            c1,
            cpml,
        }
    }

    fn radius(&self) -> usize {
        self.c1.len()
    }

    fn in_pml(&self, d: usize, j: usize) -> bool {
        self.grid.in_pml(d, j)
    }

    /// Σ_k c1_k (f(j + k) − f(j − k)) along axis d at index i (coordinate j), where `f(idx, jj)`
    /// gives the value at index idx with axis coordinate jj; zero beyond the grid.
    #[inline(always)]
    fn d1_by(&self, i: usize, j: usize, d: usize, f: impl Fn(usize, usize) -> T) -> T {
        let (s, n) = (self.strides[d], self.shape[d]);
        let mut acc = T::ZERO;
        for k in 1..=self.radius() {
            let plus = if j + k < n {
                f(i + k * s, j + k)
            } else {
                T::ZERO
            };
            let minus = if j >= k { f(i - k * s, j - k) } else { T::ZERO };
            acc += self.c1[k - 1] * (plus - minus);
        }
        acc
    }

    /// c2_0 f(j) + Σ_k c2_k (f(j + k) + f(j − k)) along axis d; zero beyond the grid.
    #[inline(always)]
    fn d2_by(&self, i: usize, j: usize, d: usize, f: impl Fn(usize, usize) -> T) -> T {
        let (s, n) = (self.strides[d], self.shape[d]);
        let mut acc = self.c2[0] * f(i, j);
        for k in 1..=self.radius() {
            let plus = if j + k < n {
                f(i + k * s, j + k)
            } else {
                T::ZERO
            };
            let minus = if j >= k { f(i - k * s, j - k) } else { T::ZERO };
            acc += self.c2[k] * (plus + minus);
        }
        acc
    }

    /// Calls `f(plane_z, plane)` in parallel for every z-plane of `data` whose z passes `keep`.
    fn planes_mut(
        &self,
        data: &mut [T],
        keep: impl Fn(usize) -> bool + Sync,
        f: impl Fn(usize, &mut [T]) + Sync,
    ) {
        data.par_chunks_mut(self.strides[Z])
            .enumerate()
            .filter(|(z, _)| keep(*z))
            .for_each(|(z, plane)| f(z, plane));
    }

    /// Calls `f(i, [z, y, x])` for every point of plane z whose coordinate along axis d is
    /// within `width` of either end (all points of the plane when d = Z).
    fn for_edge_points_in_plane(
        &self,
        z: usize,
        d: usize,
        width: usize,
        mut f: impl FnMut(usize, [usize; 3]),
    ) {
        let all = |n: usize| [0..n, n..n];
        let ys = if d == Y {
            edge_ranges(self.shape[Y], width)
        } else {
            all(self.shape[Y])
        };
        let xs = if d == X {
            edge_ranges(self.shape[X], width)
        } else {
            all(self.shape[X])
        };
        for yr in &ys {
            for y in yr.clone() {
                for xr in &xs {
                    for x in xr.clone() {
                        let i = z * self.strides[Z] + y * self.strides[Y] + x;
                        f(i, [z, y, x]);
                    }
                }
            }
        }
    }

    /// Whether plane z holds points within `width` of either end of axis d.
    fn plane_has_edge(&self, z: usize, d: usize, width: usize) -> bool {
        d != Z || z < width || z + width >= self.shape[Z]
    }

    /// One forward step: state (uⁿ, uⁿ⁻¹, ψ, ζ) becomes (uⁿ⁺¹, uⁿ, ψ', ζ'). When `bracket` is
    /// given, Gⁿ without the source term is written to it. The caller adds w ⊙ sⁿ to
    /// `state.cur` (and sⁿ to the bracket) afterwards.
    pub fn step(&self, w: &[T], state: &mut WaveState<T>, bracket: Option<&mut [T]>) {
        let n = self.grid.len();
        assert!(w.len() == n && state.cur.len() == n && state.prev.len() == n);
        let npml = self.grid.npml;
        let axes: Vec<usize> = self.grid.axes().collect();
        // (1) ψ_d ← b ψ_d + a D1_d u.
        for &d in &axes {
            let (a, b) = (&self.cpml.a[d], &self.cpml.b[d]);
            let u = &state.cur;
            self.planes_mut(
                &mut state.psi[d],
                |z| self.plane_has_edge(z, d, npml),
                |z, plane| {
                    let base = z * self.strides[Z];
                    self.for_edge_points_in_plane(z, d, npml, |i, c| {
                        let j = c[d];
                        let du = self.d1_by(i, j, d, |k, _| u[k]);
                        plane[i - base] = b[j] * plane[i - base] + a[j] * du;
                    });
                },
            );
        }
        // (2) ζ_d ← b ζ_d + a (D2_d u + D1_d ψ_d).
        for &d in &axes {
            let (a, b) = (&self.cpml.a[d], &self.cpml.b[d]);
            let (u, psi) = (&state.cur, &state.psi[d]);
            self.planes_mut(
                &mut state.zeta[d],
                |z| self.plane_has_edge(z, d, npml),
                |z, plane| {
                    let base = z * self.strides[Z];
                    self.for_edge_points_in_plane(z, d, npml, |i, c| {
                        let j = c[d];
                        let term =
                            self.d2_by(i, j, d, |k, _| u[k]) + self.d1_by(i, j, d, |k, _| psi[k]);
                        plane[i - base] = b[j] * plane[i - base] + a[j] * term;
                    });
                },
            );
        }
        // (3) uⁿ⁺¹ = 2 uⁿ − uⁿ⁻¹ + w Gⁿ, written over uⁿ⁻¹.
        let (u, psi, zeta) = (&state.cur, &state.psi, &state.zeta);
        let sz = self.strides[Z];
        let update = |z: usize, out: &mut [T], mut bracket: Option<&mut [T]>| {
            for y in 0..self.shape[Y] {
                let row = y * self.strides[Y];
                let edge_row = self.in_pml(Z, z) || self.in_pml(Y, y);
                let mut general = |x: usize| {
                    let i = z * sz + row + x;
                    let c = [z, y, x];
                    let mut g = T::ZERO;
                    for &d in &axes {
                        g += self.d2_by(i, c[d], d, |k, _| u[k]);
                        if self.in_pml(d, c[d]) {
                            g += self.d1_by(i, c[d], d, |k, _| psi[d][k]) + zeta[d][i];
                        }
                    }
                    let o = row + x;
                    out[o] = u[i] + u[i] - out[o] + w[i] * g;
                    if let Some(br) = bracket.as_deref_mut() {
                        br[o] = g;
                    }
                };
                if edge_row {
                    (0..self.shape[X]).for_each(&mut general);
                    continue;
                }
                (0..npml).for_each(&mut general);
                (self.shape[X] - npml..self.shape[X]).for_each(&mut general);
                let (x0, len) = (npml, self.shape[X] - 2 * npml);
                let i0 = z * sz + row + x0;
                let out_row = &mut out[row + x0..row + x0 + len];
                let br_row = bracket
                    .as_deref_mut()
                    .map(|b| &mut b[row + x0..row + x0 + len]);
                match (self.order, self.grid.ndim) {
                    (SpaceOrder::Two, 2) => self.interior::<1, false>(u, w, i0, out_row, br_row),
                    (SpaceOrder::Four, 2) => self.interior::<2, false>(u, w, i0, out_row, br_row),
                    (SpaceOrder::Eight, 2) => self.interior::<4, false>(u, w, i0, out_row, br_row),
                    (SpaceOrder::Two, _) => self.interior::<1, true>(u, w, i0, out_row, br_row),
                    (SpaceOrder::Four, _) => self.interior::<2, true>(u, w, i0, out_row, br_row),
                    (SpaceOrder::Eight, _) => self.interior::<4, true>(u, w, i0, out_row, br_row),
                }
            }
        };
        match bracket {
            Some(br) => state
                .prev
                .par_chunks_mut(sz)
                .zip(br.par_chunks_mut(sz))
                .enumerate()
                .for_each(|(z, (out, br))| update(z, out, Some(br))),
            None => state
                .prev
                .par_chunks_mut(sz)
                .enumerate()
                .for_each(|(z, out)| update(z, out, None)),
        }
        std::mem::swap(&mut state.cur, &mut state.prev);
    }

    /// The interior of a row (no CPML, every neighbour inside the grid): out = 2u − out + w G
    /// for `out.len()` points from index i0, G the Laplacian of radius R (3D when D3).
    #[inline(always)]
    fn interior<const R: usize, const D3: bool>(
        &self,
        u: &[T],
        w: &[T],
        i0: usize,
        out: &mut [T],
        bracket: Option<&mut [T]>,
    ) {
        let len = out.len();
        let (sy, sz) = (self.strides[Y], self.strides[Z]);
        let ndim = if D3 { 3.0 } else { 2.0 };
        let c0 = self.c2[0] * T::from_f64(ndim);
        let c: [T; R] = std::array::from_fn(|k| self.c2[k + 1]);
        let row = |offset: isize| {
            let start = (i0 as isize + offset) as usize;
            &u[start..start + len]
        };
        let center = row(0);
        let xm: [&[T]; R] = std::array::from_fn(|k| row(-(k as isize + 1)));
        let xp: [&[T]; R] = std::array::from_fn(|k| row(k as isize + 1));
        let zm: [&[T]; R] = std::array::from_fn(|k| row(-(((k + 1) * sz) as isize)));
        let zp: [&[T]; R] = std::array::from_fn(|k| row(((k + 1) * sz) as isize));
        let (ym, yp): ([&[T]; R], [&[T]; R]) = if D3 {
            (
                std::array::from_fn(|k| row(-(((k + 1) * sy) as isize))),
                std::array::from_fn(|k| row(((k + 1) * sy) as isize)),
            )
        } else {
            (xm, xp)
        };
        let w = &w[i0..i0 + len];
        let laplacian = |j: usize| {
            let mut g = c0 * center[j];
            for k in 0..R {
                let mut s = (xm[k][j] + xp[k][j]) + (zm[k][j] + zp[k][j]);
                if D3 {
                    s += ym[k][j] + yp[k][j];
                }
                g += c[k] * s;
            }
            g
        };
        match bracket {
            Some(br) => {
                let br = &mut br[..len];
                for j in 0..len {
                    let g = laplacian(j);
                    out[j] = center[j] + center[j] - out[j] + w[j] * g;
                    br[j] = g;
                }
            }
            None => {
                for j in 0..len {
                    let g = laplacian(j);
                    out[j] = center[j] + center[j] - out[j] + w[j] * g;
                }
            }
        }
    }

    /// One adjoint step: state (ūⁿ⁺¹, ūⁿ, ψ̄, ζ̄) becomes (ūⁿ, ūⁿ⁻¹, ψ̄, ζ̄) of the step before.
    /// `q` receives w ⊙ ūⁿ⁺¹ (the adjoint of the injected source term). The caller adds the
    /// receivers' adjoint sources to `state.cur` and accumulates the gradient Σ ūⁿ⁺¹ ⊙ Gⁿ before
    /// calling.
    pub fn step_adjoint(&self, w: &[T], state: &mut WaveState<T>, q: &mut [T]) {
        let n = self.grid.len();
        assert!(w.len() == n && state.cur.len() == n && q.len() == n);
        let npml = self.grid.npml;
        let r = self.radius();
        let sz = self.strides[Z];
        let axes: Vec<usize> = self.grid.axes().collect();
        q.par_iter_mut()
            .zip(state.cur.par_iter())
            .zip(w.par_iter())
            .for_each(|((q, a), w)| *q = *w * *a);
        let q: &[T] = q;
        // ūⁿ += 2 ūⁿ⁺¹ + L q.
        {
            let a = &state.cur;
            state
                .prev
                .par_chunks_mut(sz)
                .enumerate()
                .for_each(|(z, out)| {
                    for y in 0..self.shape[Y] {
                        for x in 0..self.shape[X] {
                            let i = z * sz + y * self.strides[Y] + x;
                            let c = [z, y, x];
                            let mut g = T::ZERO;
                            for &d in &axes {
                                g += self.d2_by(i, c[d], d, |k, _| q[k]);
                            }
                            let o = i - z * sz;
                            out[o] += a[i] + a[i] + g;
                        }
                    }
                });
        }
        for &d in &axes {
            let (ca, cb) = (&self.cpml.a[d], &self.cpml.b[d]);
            let in_layer = |jj: usize| self.in_pml(d, jj);
            // ψ̄ += D1ᵀ (M q) = −D1 (M q);  ζ̄ += M q.
            self.planes_mut(
                &mut state.psi[d],
                |z| self.plane_has_edge(z, d, npml),
                |z, plane| {
                    let base = z * sz;
                    self.for_edge_points_in_plane(z, d, npml, |i, c| {
                        let t = self.d1_by(
                            i,
                            c[d],
                            d,
                            |k, jj| {
                                if in_layer(jj) { q[k] } else { T::ZERO }
                            },
                        );
                        plane[i - base] -= t;
                    });
                },
            );
            self.planes_mut(
                &mut state.zeta[d],
                |z| self.plane_has_edge(z, d, npml),
                |z, plane| {
                    let base = z * sz;
                    self.for_edge_points_in_plane(z, d, npml, |i, _| plane[i - base] += q[i]);
                },
            );
            // Transpose of (2): ūⁿ += D2ᵀ (a ζ̄), ψ̄ += D1ᵀ (a ζ̄), then ζ̄ ← b ζ̄.
            let zeta = &state.zeta[d];
            self.planes_mut(
                &mut state.prev,
                |z| self.plane_has_edge(z, d, npml + r),
                |z, plane| {
                    let base = z * sz;
                    self.for_edge_points_in_plane(z, d, npml + r, |i, c| {
                        plane[i - base] += self.d2_by(i, c[d], d, |k, jj| ca[jj] * zeta[k]);
                    });
                },
            );
            self.planes_mut(
                &mut state.psi[d],
                |z| self.plane_has_edge(z, d, npml),
                |z, plane| {
                    let base = z * sz;
                    self.for_edge_points_in_plane(z, d, npml, |i, c| {
                        plane[i - base] -= self.d1_by(i, c[d], d, |k, jj| ca[jj] * zeta[k]);
                    });
                },
            );
            self.scale_layer(&mut state.zeta[d], d, cb);
            // Transpose of (1): ūⁿ += D1ᵀ (a ψ̄), then ψ̄ ← b ψ̄.
            let psi = &state.psi[d];
            self.planes_mut(
                &mut state.prev,
                |z| self.plane_has_edge(z, d, npml + r),
                |z, plane| {
                    let base = z * sz;
                    self.for_edge_points_in_plane(z, d, npml + r, |i, c| {
                        plane[i - base] -= self.d1_by(i, c[d], d, |k, jj| ca[jj] * psi[k]);
                    });
                },
            );
            self.scale_layer(&mut state.psi[d], d, cb);
        }
        // ūⁿ⁻¹ = −ūⁿ⁺¹, and shift.
        state.cur.par_iter_mut().for_each(|a| *a = -*a);
        std::mem::swap(&mut state.cur, &mut state.prev);
    }

    /// field ← b_d ⊙ field on the layer of axis d.
    fn scale_layer(&self, field: &mut [T], d: usize, b: &[T]) {
        let npml = self.grid.npml;
        self.planes_mut(
            field,
            |z| self.plane_has_edge(z, d, npml),
            |z, plane| {
                let base = z * self.strides[Z];
                self.for_edge_points_in_plane(z, d, npml, |i, c| plane[i - base] *= b[c[d]]);
            },
        );
    }
}
