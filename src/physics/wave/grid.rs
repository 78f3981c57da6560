//! The computational grid: the model grid (nz, ny, nx; ny = 1 in 2D) padded by the CPML on
//! every side of every active axis, C-ordered with x fastest; point sources and receivers by
//! multilinear interpolation weights.
//!
//! Fields are stored with a halo of [`HALO`] zeros around the grid on every active axis, so that
//! every stencil (radius ≤ 4) reads inside the allocation: the zero extension of the operators
//! beyond the grid costs no branch. Indices of fields are indices into that allocation.

/// Axis numbers in (z, y, x) order.
pub const Z: usize = 0;
pub const Y: usize = 1;
pub const X: usize = 2;

/// Zero points stored beyond the grid on each side of each active axis (the largest stencil
/// radius).
pub const HALO: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct WaveGrid {
    /// 2 (z, x) or 3 (z, y, x).
    pub ndim: usize,
    /// Model-grid points per axis (z, y, x); y is 1 in 2D.
    pub model_shape: [usize; 3],
    /// Grid spacing (km), the same on every axis.
    pub spacing: f64,
    /// CPML width in points on each side of each active axis.
    pub npml: usize,
}

impl WaveGrid {
    pub fn new(ndim: usize, model_shape: [usize; 3], spacing: f64, npml: usize) -> Self {
        assert!(ndim == 2 || ndim == 3, "2D or 3D grids only");
        assert!(ndim == 3 || model_shape[Y] == 1, "a 2D grid has ny = 1");
        Self {
            ndim,
            model_shape,
            spacing,
            npml,
        }
    }

    /// Whether axis `d` is a spatial axis of this grid (y is not in 2D).
    pub fn is_active(&self, d: usize) -> bool {
        self.ndim == 3 || d != Y
    }

    /// The active axes in (z, y, x) order.
    pub fn axes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..3).filter(|&d| self.is_active(d))
    }

    /// Padding on each side of axis `d`.
    pub fn pad(&self, d: usize) -> usize {
        if self.is_active(d) { self.npml } else { 0 }
    }

    /// Grid points per axis (model and CPML).
    pub fn shape(&self) -> [usize; 3] {
        std::array::from_fn(|d| self.model_shape[d] + 2 * self.pad(d))
    }

    /// Zero points beyond the grid on each side of axis `d` in the fields' storage.
    pub fn halo(&self, d: usize) -> usize {
        if self.is_active(d) { HALO } else { 0 }
    }

    /// Stored points per axis (grid and halo).
    pub fn alloc_shape(&self) -> [usize; 3] {
        let s = self.shape();
        std::array::from_fn(|d| s[d] + 2 * self.halo(d))
    }

    /// The length of a field (stored points, halo included).
    pub fn len(&self) -> usize {
        self.alloc_shape().iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Grid points (model and CPML, no halo).
    pub fn n_points(&self) -> usize {
        self.shape().iter().product()
    }

    pub fn n_model(&self) -> usize {
        self.model_shape.iter().product()
    }

    /// Strides of the fields' storage per axis.
    pub fn strides(&self) -> [usize; 3] {
        let s = self.alloc_shape();
        [s[Y] * s[X], s[X], 1]
    }

    /// Storage index of grid coordinates (z, y, x), 0-based on the padded grid.
    pub fn index(&self, c: [usize; 3]) -> usize {
        let st = self.strides();
        (0..3).map(|d| (c[d] + self.halo(d)) * st[d]).sum()
    }

    /// Whether padded coordinate `j` of axis `d` lies in that axis' CPML.
    pub fn in_pml(&self, d: usize, j: usize) -> bool {
        self.is_active(d) && (j < self.npml || j >= self.shape()[d] - self.npml)
    }

    /// Every grid point as (storage index, index of the model point it takes its value from):
    /// CPML points copy the nearest model point.
    fn extension(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let s = self.shape();
        let m = self.model_shape;
        let nearest = move |d: usize, j: usize| j.saturating_sub(self.pad(d)).min(m[d] - 1);
        (0..s[Z]).flat_map(move |z| {
            (0..s[Y]).flat_map(move |y| {
                let row = (nearest(Z, z) * m[Y] + nearest(Y, y)) * m[X];
                let start = self.index([z, y, 0]);
                (0..s[X]).map(move |x| (start + x, row + nearest(X, x)))
            })
        })
    }

    /// Model values (model-grid order) extended to a field: every CPML point takes the value of
    /// the nearest model point (the model continues into the CPML); the halo holds zeros.
    pub fn extend<T: Copy + Default>(&self, model: &[T]) -> Vec<T> {
        assert_eq!(model.len(), self.n_model());
        let mut out = vec![T::default(); self.len()];
        for (stored, from) in self.extension() {
            out[stored] = model[from];
        }
        out
    }

    /// The transpose of [`extend`](Self::extend): sums a field's grid values onto the model
    /// points they were copied from.
    pub fn extend_transpose(&self, padded: &[f64]) -> Vec<f64> {
        assert_eq!(padded.len(), self.len());
        let mut out = vec![0.0; self.n_model()];
        for (stored, from) in self.extension() {
            out[from] += padded[stored];
        }
        out
    }

    /// Multilinear interpolation weights of the point at `position` (z, y, x in km from the
    /// first model point; y ignored in 2D) as (storage index, weight), or `None` outside the
    /// model grid. A receiver reads Σ w u_i; a source injects the transpose.
    pub fn point_weights(&self, position: [f64; 3]) -> Option<Vec<(usize, f64)>> {
        let mut lower = [0usize; 3];
        let mut frac = [0.0f64; 3];
        for d in self.axes() {
            let t = position[d] / self.spacing;
            let last = (self.model_shape[d] - 1) as f64;
            if !(0.0..=last).contains(&t) {
                return None;
            }
            let j = (t.floor() as usize).min(self.model_shape[d].saturating_sub(2));
            lower[d] = j + self.pad(d);
            frac[d] = t - j as f64;
        }
        let mut weights = Vec::with_capacity(8);
        for corner in 0..8usize {
            let mut c = lower;
            let mut w = 1.0;
            let mut valid = true;
            for d in 0..3 {
                let up = corner >> d & 1 == 1;
                if !self.is_active(d) {
                    valid &= !up;
                    continue;
                }
                if up {
                    c[d] += 1;
                    w *= frac[d];
                } else {
                    w *= 1.0 - frac[d];
                }
            }
            if valid && w != 0.0 {
                weights.push((self.index(c), w));
            }
        }
        Some(weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_and_its_transpose_are_adjoint() {
        for grid in [
            WaveGrid::new(2, [4, 1, 5], 0.1, 3),
            WaveGrid::new(3, [3, 4, 2], 0.1, 2),
        ] {
            let model: Vec<f64> = (0..grid.n_model())
                .map(|i| (i as f64 * 0.7).sin())
                .collect();
            let padded: Vec<f64> = (0..grid.len()).map(|i| (i as f64 * 1.3).cos()).collect();
            // Only grid points take part: zero the halo of the test field.
            let mask = grid.extend(&vec![1.0; grid.n_model()]);
            let padded: Vec<f64> = padded.iter().zip(&mask).map(|(p, m)| p * m).collect();
            let lhs: f64 = grid
                .extend(&model)
                .iter()
                .zip(&padded)
                .map(|(a, b)| a * b)
                .sum();
            let rhs: f64 = model
                .iter()
                .zip(grid.extend_transpose(&padded))
                .map(|(a, b)| a * b)
                .sum();
            assert!((lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0));
        }
    }

    #[test]
    fn point_weights_interpolate_linear_functions_exactly() {
        let grid = WaveGrid::new(3, [5, 6, 7], 0.5, 2);
        let s = grid.shape();
        let coord = |i: usize| {
            let st = grid.strides();
            let c = [i / st[Z], i % st[Z] / st[Y], i % st[Y]];
            std::array::from_fn(|d| c[d] - grid.halo(d))
        };
        let f = |c: [usize; 3]| {
            1.0 + 2.0 * (c[Z] as f64 - 2.0) * 0.5 - 0.5 * (c[Y] as f64 - 2.0) * 0.5
                + 0.25 * (c[X] as f64 - 2.0) * 0.5
        };
        let p = [1.37, 0.12, 2.99];
        let w = grid.point_weights(p).expect("inside");
        let value: f64 = w.iter().map(|&(i, wi)| wi * f(coord(i))).sum();
        assert!((value - (1.0 + 2.0 * p[0] - 0.5 * p[1] + 0.25 * p[2])).abs() < 1e-12);
        assert!((w.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-14);
        assert!(grid.point_weights([0.0, 0.0, 3.01]).is_none());
        assert_eq!(s, [9, 10, 11]);
        // The last model point is inside.
        assert!(grid.point_weights([2.0, 2.5, 3.0]).is_some());
    }
}
