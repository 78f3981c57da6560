//! The adjoint step: the literal transpose of [`Propagator::step`] (see the parent module's
//! docs for the operations), with the scratch fields it needs.

use rayon::prelude::*;

use super::super::float::WaveFloat;
use super::super::grid::{WaveGrid, X, Y, Z};
use super::super::rows::{self, Shifted};
use super::{Propagator, Region, WaveState};
use crate::core::simd::dispatch;
use crate::core::stencil::SpaceOrder;

/// Scratch fields of the adjoint step: q = w ⊙ ū and one field per axis for the products
/// a_d ⊙ ζ̄_d, a_d ⊙ ψ̄_d and M_d q (written on that axis' layer only, zero elsewhere).
#[derive(Debug, Clone)]
pub struct AdjointWork<T> {
    pub q: Vec<T>,
    scratch: [Vec<T>; 3],
}

impl<T: WaveFloat> AdjointWork<T> {
    pub fn new(grid: &WaveGrid) -> Self {
        let n = grid.len();
        Self {
            q: vec![T::ZERO; n],
            scratch: std::array::from_fn(|d| {
                if grid.is_active(d) {
                    vec![T::ZERO; n]
                } else {
                    Vec::new()
                }
            }),
        }
    }
}

impl<T: WaveFloat> Propagator<T> {
    /// One adjoint step: state (ūⁿ⁺¹, ūⁿ, ψ̄, ζ̄) becomes (ūⁿ, ūⁿ⁻¹, ψ̄, ζ̄) of the step before.
    /// `work.q` receives w ⊙ ūⁿ⁺¹ (the adjoint of the injected source term). The caller adds
    /// the receivers' adjoint sources to `state.cur` and accumulates the gradient Σ ūⁿ⁺¹ ⊙ Gⁿ
    /// before calling.
    pub fn step_adjoint(&self, w: &[T], state: &mut WaveState<T>, work: &mut AdjointWork<T>) {
        match self.order {
            SpaceOrder::Two => self.step_adjoint_radius::<1>(w, state, work),
            SpaceOrder::Four => self.step_adjoint_radius::<2>(w, state, work),
            SpaceOrder::Eight => self.step_adjoint_radius::<4>(w, state, work),
        }
    }

    fn step_adjoint_radius<const R: usize>(
        &self,
        w: &[T],
        state: &mut WaveState<T>,
        work: &mut AdjointWork<T>,
    ) {
        let n = self.grid.len();
        assert!(w.len() == n && state.cur.len() == n && work.q.len() == n);
        let npml = self.grid.npml;
        let axes: Vec<usize> = self.grid.axes().collect();
        let c1: [T; R] = std::array::from_fn(|k| self.c1[k]);
        let c2: [T; R] = std::array::from_fn(|k| self.c2[k + 1]);
        let c0 = self.c2[0] * T::from_f64(axes.len() as f64);
        let minus_one = T::from_f64(-1.0);
        let AdjointWork { q, scratch } = work;
        let sz = self.strides[Z];
        q.par_chunks_mut(sz)
            .zip(state.cur.par_chunks(sz))
            .zip(w.par_chunks(sz))
            .for_each(|((q, a), w)| {
                dispatch(
                    #[inline(always)]
                    || {
                        for ((q, a), w) in q.iter_mut().zip(a).zip(w) {
                            *q = *w * *a;
                        }
                    },
                )
            });
        let q: &[T] = q;
        // ūⁿ += 2 ūⁿ⁺¹ + L q, and ūⁿ⁺¹ becomes −ūⁿ⁺¹ (the start of ūⁿ⁻¹): nothing below reads it.
        self.rows_mut2(
            (&mut state.prev, &mut state.cur),
            Region::All,
            #[inline(always)]
            |run, out, a| {
                let (start, len) = (run.start, run.len);
                let shifted = |d: usize| Shifted::new(q, start, len, self.strides[d]);
                let qc = &q[start..start + len];
                if axes.len() == 3 {
                    let s = [shifted(Z), shifted(Y), shifted(X)];
                    rows::adjoint_leapfrog(c0, &c2, a, qc, &s, out);
                } else {
                    let s = [shifted(Z), shifted(X)];
                    rows::adjoint_leapfrog(c0, &c2, a, qc, &s, out);
                }
            },
        );
        for &d in &axes {
            let stride = self.strides[d];
            let layer = Region::Edges {
                axis: d,
                width: npml,
            };
            let reach = Region::Edges {
                axis: d,
                width: npml + R,
            };
            // The scratch field of axis d is written on its layer only (zero elsewhere).
            let s = &mut scratch[d];
            // ψ̄ −= D1 t on the layer.
            let psi_minus_d1 = |psi: &mut [T], t: &[T]| {
                self.rows_mut(
                    psi,
                    layer,
                    #[inline(always)]
                    |run, p| {
                        rows::add_d1(
                            &c1,
                            minus_one,
                            &Shifted::new(t, run.start, run.len, stride),
                            p,
                        )
                    },
                )
            };
            // ψ̄ += D1ᵀ (M q) = −D1 (M q), with M q formed in the scratch field.
            self.rows_mut(
                s,
                layer,
                #[inline(always)]
                |run, t| t.copy_from_slice(&q[run.start..run.start + run.len]),
            );
            let t: &[T] = s;
            psi_minus_d1(&mut state.psi[d], t);
            // ζ̄ += M q; then the transpose of (2): t = a ζ̄, ζ̄ ← b ζ̄, ūⁿ += D2 t, ψ̄ −= D1 t.
            self.rows_mut2(
                (&mut state.zeta[d], s),
                layer,
                #[inline(always)]
                |run, zeta, t| {
                    let (a, b) = self.coefficients(d, run);
                    let qr = &q[run.start..run.start + run.len];
                    for j in 0..zeta.len() {
                        let z = zeta[j] + qr[j];
                        t[j] = a[j] * z;
                        zeta[j] = b[j] * z;
                    }
                },
            );
            let t: &[T] = s;
            self.rows_mut(
                &mut state.prev,
                reach,
                #[inline(always)]
                |run, out| {
                    let (start, len) = (run.start, run.len);
                    let tn = Shifted::new(t, start, len, stride);
                    rows::add_d2((self.c2[0], &c2), &t[start..start + len], &tn, out);
                },
            );
            psi_minus_d1(&mut state.psi[d], t);
            // Transpose of (1): t = a ψ̄, ψ̄ ← b ψ̄, ūⁿ −= D1 t.
            self.rows_mut2(
                (&mut state.psi[d], s),
                layer,
                #[inline(always)]
                |run, psi, t| {
                    let (a, b) = self.coefficients(d, run);
                    for j in 0..psi.len() {
                        t[j] = a[j] * psi[j];
                        psi[j] *= b[j];
                    }
                },
            );
            let t: &[T] = s;
            self.rows_mut(
                &mut state.prev,
                reach,
                #[inline(always)]
                |run, out| {
                    rows::add_d1(
                        &c1,
                        minus_one,
                        &Shifted::new(t, run.start, run.len, stride),
                        out,
                    )
                },
            );
        }
        std::mem::swap(&mut state.cur, &mut state.prev);
    }
}
