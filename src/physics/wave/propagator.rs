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
//! and the gradient with respect to w is Σₙ ūⁿ⁺¹ ⊙ Gⁿ (the adjoint forms a_d ⊙ ζ̄_d, a_d ⊙ ψ̄_d
//! and M_d q in a scratch field first, so that every pass is a plain stencil). Each pass runs
//! over rows of grid points (the zero halo of the storage stands for the zero extension), in
//! parallel over z-planes; every point is computed by the same expression whatever the thread
//! count, so results are bit-identical.

use rayon::prelude::*;

use super::cpml::Cpml;
use super::float::WaveFloat;
use super::grid::{WaveGrid, X, Y, Z};
use super::rows::{self, Shifted};
use crate::core::simd::dispatch;
use crate::core::stencil::SpaceOrder;

mod adjoint;
pub use adjoint::AdjointWork;

/// The wavefield state before a step: (uⁿ, uⁿ⁻¹) and the memory variables per axis (full-size
/// fields for active axes, empty otherwise). The adjoint state has the same shape:
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

#[cfg(feature = "cuda")]
impl Propagator<f32> {
    /// What the CUDA kernels need of this propagator (`kernels/wave_step.cu`): the same grid,
    /// storage, stencil weights and CPML coefficients.
    pub fn gpu_geometry(&self) -> crate::gpu::wave::WaveGeometry {
        crate::gpu::wave::WaveGeometry {
            shape: self.shape,
            halo: self.halo,
            strides: self.strides,
            npml: self.grid.npml,
            ndim: self.grid.ndim,
            c1: self.c1.clone(),
            c2: self.c2.clone(),
            a: self.cpml.a.clone(),
            b: self.cpml.b.clone(),
        }
    }
}

/// Which grid points a pass visits.
#[derive(Debug, Clone, Copy)]
enum Region {
    /// Every grid point.
    All,
    /// The points within `width` of either end of axis `axis`.
    Edges { axis: usize, width: usize },
}

/// A run of grid points along x: the storage index of its first point, its length, and the
/// storage coordinate along the pass' axis (of the whole row for z and y; of the first point
/// for x).
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    len: usize,
    coord: usize,
}

/// Rows `first_row..` (storage rows) of one storage plane of the output (and bracket).
struct Piece<'a, T> {
    plane: usize,
    first_row: usize,
    out: &'a mut [T],
    psi_x: &'a mut [T],
    zeta_x: &'a mut [T],
    bracket: Option<&'a mut [T]>,
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

/// The discrete operator: grid, stencil weights (scaled by the spacing) and CPML coefficients.
#[derive(Debug, Clone)]
pub struct Propagator<T> {
    pub grid: WaveGrid,
    pub order: SpaceOrder,
    pub dt: f64,
    /// Grid points per axis.
    shape: [usize; 3],
    halo: [usize; 3],
    strides: [usize; 3],
    /// Second-derivative weights / h².
    c2: Vec<T>,
    /// First-derivative weights / h.
    c1: Vec<T>,
    cpml: Cpml<T>,
    /// For z and y: each storage coordinate's (a, b) repeated along a row of the grid, so that
    /// every pass reads its coefficients as slices of the row's length.
    cpml_rows: [(Vec<T>, Vec<T>); 3],
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
        let nx = grid.shape()[X];
        let repeat = |values: &[T]| -> Vec<T> {
            values
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, nx))
                .collect()
        };
        let cpml_rows = std::array::from_fn(|d| {
            if d == X {
                (Vec::new(), Vec::new())
            } else {
                (repeat(&cpml.a[d]), repeat(&cpml.b[d]))
            }
        });
        Self {
            shape: grid.shape(),
            halo: std::array::from_fn(|d| grid.halo(d)),
            strides: grid.strides(),
            grid,
            order,
            dt,
            c2,
            c1,
            cpml,
            cpml_rows,
        }
    }

    /// The runs of storage plane `p` that lie in `region` (none for halo planes).
    fn runs(&self, p: usize, region: Region) -> Vec<Run> {
        let [nz, ny, nx] = self.shape;
        let [hz, hy, hx] = self.halo;
        let mut out = Vec::new();
        if p < hz || p >= hz + nz {
            return out;
        }
        let row = |y: usize| p * self.strides[Z] + (y + hy) * self.strides[Y] + hx;
        match region {
            Region::All => {
                out.extend((0..ny).map(|y| Run {
                    start: row(y),
                    len: nx,
                    coord: 0,
                }));
            }
            Region::Edges { axis: Z, width } => {
                let z = p - hz;
                if z < width || z + width >= nz {
                    out.extend((0..ny).map(|y| Run {
                        start: row(y),
                        len: nx,
                        coord: p,
                    }));
                }
            }
            Region::Edges { axis: Y, width } => {
                for range in edge_ranges(ny, width) {
                    out.extend(range.map(|y| Run {
                        start: row(y),
                        len: nx,
                        coord: y + hy,
                    }));
                }
            }
            Region::Edges { width, .. } => {
                for y in 0..ny {
                    for range in edge_ranges(nx, width) {
                        if !range.is_empty() {
                            out.push(Run {
                                start: row(y) + range.start,
                                len: range.len(),
                                coord: range.start + hx,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether storage plane `p` holds points of `region`.
    fn plane_in(&self, p: usize, region: Region) -> bool {
        let (hz, nz) = (self.halo[Z], self.shape[Z]);
        if p < hz || p >= hz + nz {
            return false;
        }
        match region {
            Region::Edges { axis: Z, width } => {
                let z = p - hz;
                z < width || z + width >= nz
            }
            _ => true,
        }
    }

    /// For every run of `region`, calls `f(run, row)` with the run's slice of `field`, in
    /// parallel over z-planes, inside the widest-SIMD dispatch.
    fn rows_mut(&self, field: &mut [T], region: Region, f: impl Fn(Run, &mut [T]) + Sync) {
        let sz = self.strides[Z];
        field
            .par_chunks_mut(sz)
            .enumerate()
            .filter(|(p, _)| self.plane_in(*p, region))
            .for_each(|(p, plane)| {
                let runs = self.runs(p, region);
                dispatch(
                    #[inline(always)]
                    || {
                        for run in runs {
                            let o = run.start - p * sz;
                            f(run, &mut plane[o..o + run.len]);
                        }
                    },
                )
            });
    }

    /// [`rows_mut`](Self::rows_mut) over two fields at once: `f(run, row_a, row_b)`.
    fn rows_mut2(
        &self,
        (field_a, field_b): (&mut [T], &mut [T]),
        region: Region,
        f: impl Fn(Run, &mut [T], &mut [T]) + Sync,
    ) {
        let sz = self.strides[Z];
        field_a
            .par_chunks_mut(sz)
            .zip(field_b.par_chunks_mut(sz))
            .enumerate()
            .filter(|(p, _)| self.plane_in(*p, region))
            .for_each(|(p, (plane_a, plane_b))| {
                let runs = self.runs(p, region);
                dispatch(
                    #[inline(always)]
                    || {
                        for run in runs {
                            let o = run.start - p * sz;
                            f(
                                run,
                                &mut plane_a[o..o + run.len],
                                &mut plane_b[o..o + run.len],
                            );
                        }
                    },
                )
            });
    }

    /// Axis d's CPML coefficients (a, b) at the points of a run: slices of the axis' values
    /// along x; the row's value repeated (precomputed) for z and y.
    #[inline(always)]
    fn coefficients(&self, d: usize, run: Run) -> (&[T], &[T]) {
        let range = if d == X {
            run.coord..run.coord + run.len
        } else {
            let start = run.coord * self.shape[X];
            start..start + run.len
        };
        let (a, b) = if d == X {
            (&self.cpml.a[d], &self.cpml.b[d])
        } else {
            (&self.cpml_rows[d].0, &self.cpml_rows[d].1)
        };
        (&a[range.clone()], &b[range])
    }

    /// Splits `out` (and `bracket`) into the pieces of the grid planes, grouped in tiles that
    /// one task updates in order: in 3D, blocks of rows through all planes (the planes a
    /// stencil of radius R reads for a block stay in cache while z advances); in 2D, single
    /// planes (rows).
    fn tiles<'a, const R: usize>(
        &self,
        (out, psi_x, zeta_x): (&'a mut [T], &'a mut [T], &'a mut [T]),
        bracket: Option<&'a mut [T]>,
    ) -> Vec<Vec<Piece<'a, T>>> {
        let (sz, sy) = (self.strides[Z], self.strides[Y]);
        let rows = self.grid.alloc_shape()[Y];
        let budget = 256 * 1024 / ((2 * R + 1) * sy * std::mem::size_of::<T>());
        let block = if self.grid.ndim == 3 {
            budget.clamp(1, rows)
        } else {
            rows
        };
        let n_planes = self.grid.alloc_shape()[Z];
        let n_tiles = if self.grid.ndim == 3 {
            rows.div_ceil(block)
        } else {
            n_planes
        };
        let mut tiles: Vec<Vec<Piece<'a, T>>> = (0..n_tiles).map(|_| Vec::new()).collect();
        let mut bracket_planes: Vec<Option<&'a mut [T]>> = match bracket {
            Some(br) => br.chunks_mut(sz).map(Some).collect(),
            None => (0..n_planes).map(|_| None).collect(),
        };
        let planes = out
            .chunks_mut(sz)
            .zip(psi_x.chunks_mut(sz))
            .zip(zeta_x.chunks_mut(sz))
            .zip(bracket_planes.drain(..));
        for (p, (((plane, psi), zeta), br)) in planes.enumerate() {
            if !self.plane_in(p, Region::All) {
                continue;
            }
            let mut br_blocks = br.map(|b| b.chunks_mut(block * sy));
            let blocks = plane
                .chunks_mut(block * sy)
                .zip(psi.chunks_mut(block * sy))
                .zip(zeta.chunks_mut(block * sy));
            for (b, ((chunk, psi_x), zeta_x)) in blocks.enumerate() {
                let tile = if self.grid.ndim == 3 { b } else { p };
                tiles[tile].push(Piece {
                    plane: p,
                    first_row: b * block,
                    out: chunk,
                    psi_x,
                    zeta_x,
                    bracket: br_blocks.as_mut().and_then(|it| it.next()),
                });
            }
        }
        tiles
    }

    /// One forward step: state (uⁿ, uⁿ⁻¹, ψ, ζ) becomes (uⁿ⁺¹, uⁿ, ψ', ζ'). When `bracket` is
    /// given, Gⁿ without the source term is written to it. The caller adds w ⊙ sⁿ to
    /// `state.cur` (and sⁿ to the bracket) afterwards.
    pub fn step(&self, w: &[T], state: &mut WaveState<T>, bracket: Option<&mut [T]>) {
        match self.order {
            SpaceOrder::Two => self.step_radius::<1>(w, state, bracket),
            SpaceOrder::Four => self.step_radius::<2>(w, state, bracket),
            SpaceOrder::Eight => self.step_radius::<4>(w, state, bracket),
        }
    }

    /// The forward step for stencil radius R: (1) ψ on the layers; the leapfrog update with
    /// the Laplacian everywhere; then, per axis, (2) ζ and the CPML terms added to the update
    /// on that axis' layer.
    fn step_radius<const R: usize>(
        &self,
        w: &[T],
        state: &mut WaveState<T>,
        bracket: Option<&mut [T]>,
    ) {
        let n = self.grid.len();
        assert!(w.len() == n && state.cur.len() == n && state.prev.len() == n);
        assert_eq!(self.c1.len(), R);
        let npml = self.grid.npml;
        let sz = self.strides[Z];
        let axes: Vec<usize> = self.grid.axes().collect();
        let c1: [T; R] = std::array::from_fn(|k| self.c1[k]);
        let c2: [T; R] = std::array::from_fn(|k| self.c2[k + 1]);
        // Axis x's CPML is updated row by row with the leapfrog; z and y have their own passes.
        let outer_axes: Vec<usize> = axes.iter().copied().filter(|&d| d != X).collect();
        // (1) ψ_d ← b ψ_d + a D1_d u.
        for &d in &outer_axes {
            let u = &state.cur;
            let layer = Region::Edges {
                axis: d,
                width: npml,
            };
            self.rows_mut(
                &mut state.psi[d],
                layer,
                #[inline(always)]
                |run, psi| {
                    let un = Shifted::new(u, run.start, run.len, self.strides[d]);
                    let (ca, cb) = self.coefficients(d, run);
                    rows::psi_update(&c1, &un, ca, cb, psi);
                },
            );
        }
        let u = &state.cur;
        let c0 = self.c2[0] * T::from_f64(axes.len() as f64);
        // uⁿ⁺¹ = 2 uⁿ − uⁿ⁻¹ + w L uⁿ, written over uⁿ⁻¹, tile by tile.
        let mut bracket = bracket;
        let [_, _, psi_x] = &mut state.psi;
        let [_, _, zeta_x] = &mut state.zeta;
        let tiles = self.tiles::<R>((&mut state.prev, psi_x, zeta_x), bracket.as_deref_mut());
        let (ax, bx) = (&self.cpml.a[X], &self.cpml.b[X]);
        let hx = self.halo[X];
        tiles.into_par_iter().for_each(|tile| {
            dispatch(
                #[inline(always)]
                || {
                    for piece in tile {
                        let Piece {
                            plane: p,
                            first_row,
                            out,
                            psi_x,
                            zeta_x,
                            mut bracket,
                        } = piece;
                        let offset = p * sz + first_row * self.strides[Y];
                        for run in self.runs(p, Region::All) {
                            let (start, len) = (run.start, run.len);
                            let o = match start.checked_sub(offset) {
                                Some(o) if o + len <= out.len() => o,
                                _ => continue,
                            };
                            let shifted = |d: usize| Shifted::new(u, start, len, self.strides[d]);
                            let (uc, wr) = (&u[start..start + len], &w[start..start + len]);
                            let orow = &mut out[o..o + len];
                            let brow = bracket.as_deref_mut().map(|b| &mut b[o..o + len]);
                            if axes.len() == 3 {
                                let s = [shifted(Z), shifted(Y), shifted(X)];
                                rows::leapfrog(c0, &c2, uc, &s, wr, orow, brow);
                            } else {
                                let s = [shifted(Z), shifted(X)];
                                rows::leapfrog(c0, &c2, uc, &s, wr, orow, brow);
                            }
                            // The CPML of axis x on this row: ψ first, then ζ (which reads ψ
                            // along the row).
                            for seg in edge_ranges(len, npml) {
                                let (s0, sl) = (start + seg.start, seg.len());
                                if sl == 0 {
                                    continue;
                                }
                                let (po, coord) = (o + seg.start, hx + seg.start);
                                let un = Shifted::new(u, s0, sl, 1);
                                let (ca, cb) = (&ax[coord..coord + sl], &bx[coord..coord + sl]);
                                rows::psi_update(&c1, &un, ca, cb, &mut psi_x[po..po + sl]);
                                let pn = Shifted::new(&*psi_x, po, sl, 1);
                                rows::zeta_update(
                                    (self.c2[0], &c2),
                                    &c1,
                                    (&u[s0..s0 + sl], &un),
                                    &pn,
                                    ca,
                                    cb,
                                    &w[s0..s0 + sl],
                                    &mut zeta_x[po..po + sl],
                                    &mut out[po..po + sl],
                                    bracket.as_deref_mut().map(|b| &mut b[po..po + sl]),
                                );
                            }
                        }
                    }
                },
            )
        });
        let mut bracket_planes: Vec<Option<&mut [T]>> = match bracket {
            Some(br) => br.chunks_mut(sz).map(Some).collect(),
            None => (0..self.grid.alloc_shape()[Z]).map(|_| None).collect(),
        };
        // (2) ζ_d ← b ζ_d + a (D2_d u + D1_d ψ_d), and the CPML terms D1_d ψ_d + ζ_d.
        for &d in &outer_axes {
            let psi = &state.psi[d];
            let layer = Region::Edges {
                axis: d,
                width: npml,
            };
            state
                .prev
                .par_chunks_mut(sz)
                .zip(state.zeta[d].par_chunks_mut(sz))
                .zip(bracket_planes.par_iter_mut())
                .enumerate()
                .filter(|(p, _)| self.plane_in(*p, layer))
                .for_each(|(p, ((out, zeta), br))| {
                    let runs = self.runs(p, layer);
                    dispatch(
                        #[inline(always)]
                        || {
                            for run in runs {
                                let (start, len, o) = (run.start, run.len, run.start - p * sz);
                                let stride = self.strides[d];
                                let un = Shifted::new(u, start, len, stride);
                                let pn = Shifted::new(psi, start, len, stride);
                                let (ca, cb) = self.coefficients(d, run);
                                rows::zeta_update(
                                    (self.c2[0], &c2),
                                    &c1,
                                    (&u[start..start + len], &un),
                                    &pn,
                                    ca,
                                    cb,
                                    &w[start..start + len],
                                    &mut zeta[o..o + len],
                                    &mut out[o..o + len],
                                    br.as_deref_mut().map(|b| &mut b[o..o + len]),
                                );
                            }
                        },
                    )
                });
        }
        std::mem::swap(&mut state.cur, &mut state.prev);
    }
}
