//! Row kernels of the forward step: contiguous runs of points along x whose stencils stay
//! inside the grid, written over slices of equal length so that the loops vectorise (see
//! `core::simd::dispatch`). The neighbours along an axis are the same slices shifted by ±k
//! strides. Per-point coefficients come as slices of the row's length.

use super::float::WaveFloat;

/// The neighbour slices of a row: `minus[k]` and `plus[k]` start (k + 1) strides before and
/// after the row's first point.
pub struct Shifted<'a, T, const R: usize> {
    pub minus: [&'a [T]; R],
    pub plus: [&'a [T]; R],
}

impl<'a, T, const R: usize> Shifted<'a, T, R> {
    /// The neighbours of `len` points from `start` in `field` along a stride.
    #[inline(always)]
    pub fn new(field: &'a [T], start: usize, len: usize, stride: usize) -> Self {
        Self {
            minus: std::array::from_fn(|k| {
                let s = start - (k + 1) * stride;
                &field[s..s + len]
            }),
            plus: std::array::from_fn(|k| {
                let s = start + (k + 1) * stride;
                &field[s..s + len]
            }),
        }
    }
}

/// The Laplacian at point j of a row: c0 u + Σ_k c_k Σ_axes (u₋ + u₊).
#[inline(always)]
fn laplacian<T: WaveFloat, const R: usize, const D: usize>(
    c0: T,
    c: &[T; R],
    u: &[T],
    axes: &[Shifted<'_, T, R>; D],
    j: usize,
) -> T {
    let mut g = c0 * u[j];
    for k in 0..R {
        let mut s = T::ZERO;
        for a in axes {
            s += a.minus[k][j] + a.plus[k][j];
        }
        g += c[k] * s;
    }
    g
}

/// out = 2 u − out + w g with g the Laplacian (c0 already multiplied by the number of axes);
/// `bracket` receives g.
#[inline(always)]
pub fn leapfrog<T: WaveFloat, const R: usize, const D: usize>(
    c0: T,
    c: &[T; R],
    u: &[T],
    axes: &[Shifted<'_, T, R>; D],
    w: &[T],
    out: &mut [T],
    bracket: Option<&mut [T]>,
) {
    let len = out.len();
    let (u, w) = (&u[..len], &w[..len]);
    match bracket {
        Some(br) => {
            let br = &mut br[..len];
            for j in 0..len {
                let g = laplacian(c0, c, u, axes, j);
                out[j] = u[j] + u[j] - out[j] + w[j] * g;
                br[j] = g;
            }
        }
        None => {
            for j in 0..len {
                let g = laplacian(c0, c, u, axes, j);
                out[j] = u[j] + u[j] - out[j] + w[j] * g;
            }
        }
    }
}

/// out += 2 a + L q (the adjoint of the leapfrog update, L symmetric), then a ← −a.
#[inline(always)]
pub fn adjoint_leapfrog<T: WaveFloat, const R: usize, const D: usize>(
    c0: T,
    c: &[T; R],
    a: &mut [T],
    q: &[T],
    axes: &[Shifted<'_, T, R>; D],
    out: &mut [T],
) {
    let len = out.len();
    let (a, q) = (&mut a[..len], &q[..len]);
    for j in 0..len {
        out[j] += a[j] + a[j] + laplacian(c0, c, q, axes, j);
        a[j] = -a[j];
    }
}

/// out += sign · Σ_k c1_k (f₊ − f₋) (the first derivative along the shifts' axis).
#[inline(always)]
pub fn add_d1<T: WaveFloat, const R: usize>(
    c1: &[T; R],
    sign: T,
    f: &Shifted<'_, T, R>,
    out: &mut [T],
) {
    for j in 0..out.len() {
        let mut d = T::ZERO;
        for k in 0..R {
            d += c1[k] * (f.plus[k][j] - f.minus[k][j]);
        }
        out[j] += sign * d;
    }
}

/// out += c2_0 f + Σ_k c2_k (f₊ + f₋) (the second derivative along the shifts' axis).
#[inline(always)]
pub fn add_d2<T: WaveFloat, const R: usize>(
    (c2_0, c2): (T, &[T; R]),
    fc: &[T],
    f: &Shifted<'_, T, R>,
    out: &mut [T],
) {
    let fc = &fc[..out.len()];
    for j in 0..out.len() {
        let mut d = c2_0 * fc[j];
        for k in 0..R {
            d += c2[k] * (f.plus[k][j] + f.minus[k][j]);
        }
        out[j] += d;
    }
}

/// ψ ← b ψ + a D1 u along one axis: D1 u = Σ_k c1_k (u₊ − u₋).
#[inline(always)]
pub fn psi_update<T: WaveFloat, const R: usize>(
    c1: &[T; R],
    u: &Shifted<'_, T, R>,
    a: &[T],
    b: &[T],
    psi: &mut [T],
) {
    let len = psi.len();
    let (a, b) = (&a[..len], &b[..len]);
    for j in 0..len {
        let mut d = T::ZERO;
        for k in 0..R {
            d += c1[k] * (u.plus[k][j] - u.minus[k][j]);
        }
        psi[j] = b[j] * psi[j] + a[j] * d;
    }
}

/// The CPML terms of one axis: with t = D1 ψ and l = D2 u along that axis,
/// ζ ← b ζ + a (l + t), then out += w (t + ζ) and bracket += t + ζ.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn zeta_update<T: WaveFloat, const R: usize>(
    (c2_0, c2): (T, &[T; R]),
    c1: &[T; R],
    (uc, un): (&[T], &Shifted<'_, T, R>),
    psi: &Shifted<'_, T, R>,
    a: &[T],
    b: &[T],
    w: &[T],
    zeta: &mut [T],
    out: &mut [T],
    bracket: Option<&mut [T]>,
) {
    let len = out.len();
    let (uc, w, a, b, zeta) = (
        &uc[..len],
        &w[..len],
        &a[..len],
        &b[..len],
        &mut zeta[..len],
    );
    match bracket {
        Some(br) => {
            let br = &mut br[..len];
            for j in 0..len {
                let (t, l) = d1_and_d2((c2_0, c2), c1, (uc, un), psi, j);
                let z = b[j] * zeta[j] + a[j] * (l + t);
                zeta[j] = z;
                out[j] += w[j] * (t + z);
                br[j] += t + z;
            }
        }
        None => {
            for j in 0..len {
                let (t, l) = d1_and_d2((c2_0, c2), c1, (uc, un), psi, j);
                let z = b[j] * zeta[j] + a[j] * (l + t);
                zeta[j] = z;
                out[j] += w[j] * (t + z);
            }
        }
    }
}

/// (D1 ψ, D2 u) at point j of a row.
#[inline(always)]
fn d1_and_d2<T: WaveFloat, const R: usize>(
    (c2_0, c2): (T, &[T; R]),
    c1: &[T; R],
    (uc, un): (&[T], &Shifted<'_, T, R>),
    psi: &Shifted<'_, T, R>,
    j: usize,
) -> (T, T) {
    let mut t = T::ZERO;
    let mut l = c2_0 * uc[j];
    for k in 0..R {
        t += c1[k] * (psi.plus[k][j] - psi.minus[k][j]);
        l += c2[k] * (un.plus[k][j] + un.minus[k][j]);
    }
    (t, l)
}
