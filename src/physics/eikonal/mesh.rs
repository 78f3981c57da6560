//! Regular grids in D dimensions (node index = x fastest, `shape[0]` is x), multilinear
//! interpolation at points, and the prolongation of a coarse grid to a refined one (with its
//! transpose for gradients).

/// A regular grid: `origin` is the first node, `spacing` > 0, `shape` ≥ 2 nodes per axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mesh<const D: usize> {
    pub origin: [f64; D],
    pub spacing: [f64; D],
    pub shape: [usize; D],
}

/// Nodes and weights of a multilinear interpolation at a point (2^D corners at most).
#[derive(Debug, Clone, Copy)]
pub struct Stencil {
    pub nodes: [usize; 8],
    pub weights: [f64; 8],
    pub len: usize,
}

impl Stencil {
    pub fn apply(&self, field: &[f64]) -> f64 {
        let mut v = 0.0;
        for k in 0..self.len {
            v += self.weights[k] * field[self.nodes[k]];
        }
        v
    }

    /// field[node] += scale · weight for each corner (the transpose of `apply`).
    pub fn scatter(&self, scale: f64, field: &mut [f64]) {
        for k in 0..self.len {
            field[self.nodes[k]] += scale * self.weights[k];
        }
    }
}

impl<const D: usize> Mesh<D> {
    pub fn new(origin: [f64; D], spacing: [f64; D], shape: [usize; D]) -> Self {
        assert!(D <= 3, "meshes have at most 3 dimensions");
        assert!(
            shape.iter().all(|&n| n >= 2),
            "a mesh needs ≥ 2 nodes per axis"
        );
        assert!(spacing.iter().all(|&h| h > 0.0), "mesh spacing must be > 0");
        Mesh {
            origin,
            spacing,
            shape,
        }
    }

    pub fn n_nodes(&self) -> usize {
        self.shape.iter().product()
    }

    /// Index step along each axis.
    pub fn strides(&self) -> [usize; D] {
        let mut s = [1; D];
        for a in 1..D {
            s[a] = s[a - 1] * self.shape[a - 1];
        }
        s
    }

    pub fn coords(&self, mut index: usize) -> [usize; D] {
        let mut c = [0; D];
        for a in 0..D {
            c[a] = index % self.shape[a];
            index /= self.shape[a];
        }
        c
    }

    pub fn index(&self, coords: [usize; D]) -> usize {
        let strides = self.strides();
        (0..D).map(|a| coords[a] * strides[a]).sum()
    }

    pub fn position(&self, index: usize) -> [f64; D] {
        let c = self.coords(index);
        std::array::from_fn(|a| self.origin[a] + self.spacing[a] * c[a] as f64)
    }

    pub fn end(&self, axis: usize) -> f64 {
        self.origin[axis] + self.spacing[axis] * (self.shape[axis] - 1) as f64
    }

    pub fn contains(&self, p: [f64; D]) -> bool {
        (0..D).all(|a| p[a] >= self.origin[a] && p[a] <= self.end(a))
    }

    /// The cell holding `p` along each axis (clamped so that points on the far edge belong to
    /// the last cell) and the fractional position in it.
    pub fn cell_of(&self, p: [f64; D]) -> ([usize; D], [f64; D]) {
        let mut cell = [0; D];
        let mut frac = [0.0; D];
        for a in 0..D {
            let u = (p[a] - self.origin[a]) / self.spacing[a];
            let i = (u.floor().max(0.0) as usize).min(self.shape[a] - 2);
            cell[a] = i;
            frac[a] = u - i as f64;
        }
        (cell, frac)
    }

    /// Multilinear interpolation stencil at `p` (which must lie inside the mesh).
    pub fn stencil(&self, p: [f64; D]) -> Stencil {
        debug_assert!(self.contains(p), "interpolation point outside the mesh");
        let (cell, frac) = self.cell_of(p);
        let strides = self.strides();
        let mut st = Stencil {
            nodes: [0; 8],
            weights: [0.0; 8],
            len: 1 << D,
        };
        for corner in 0..(1usize << D) {
            let mut node = 0;
            let mut w = 1.0;
            for a in 0..D {
                let up = (corner >> a) & 1;
                node += (cell[a] + up) * strides[a];
                w *= if up == 1 { frac[a] } else { 1.0 - frac[a] };
            }
            st.nodes[corner] = node;
            st.weights[corner] = w;
        }
        st
    }

    /// The mesh refined `factor` times along every axis (same extent).
    pub fn refined(&self, factor: usize) -> Self {
        Mesh {
            origin: self.origin,
            spacing: std::array::from_fn(|a| self.spacing[a] / factor as f64),
            shape: std::array::from_fn(|a| (self.shape[a] - 1) * factor + 1),
        }
    }
}

/// Multilinear prolongation from a coarse mesh to the mesh refined `factor` times: every fine
/// node takes the multilinear interpolant of the coarse values (exact at coinciding nodes).
#[derive(Debug, Clone)]
pub struct Prolongation<const D: usize> {
    coarse: Mesh<D>,
    fine: Mesh<D>,
    factor: usize,
}

impl<const D: usize> Prolongation<D> {
    pub fn new(coarse: Mesh<D>, factor: usize) -> Self {
        assert!(factor >= 1);
        Prolongation {
            coarse,
            fine: coarse.refined(factor),
            factor,
        }
    }

    pub fn fine(&self) -> &Mesh<D> {
        &self.fine
    }

    pub fn coarse(&self) -> &Mesh<D> {
        &self.coarse
    }

    /// Coarse node and weight pairs along one axis for fine index `i`.
    fn axis_weights(&self, axis: usize, i: usize) -> [(usize, f64); 2] {
        let lo = i / self.factor;
        let r = i % self.factor;
        if r == 0 {
            [(lo, 1.0), (lo, 0.0)]
        } else {
            let f = r as f64 / self.factor as f64;
            debug_assert!(lo + 1 < self.coarse.shape[axis]);
            [(lo, 1.0 - f), (lo + 1, f)]
        }
    }

    fn for_each_pair(&self, mut visit: impl FnMut(usize, usize, f64)) {
        let cs = self.coarse.strides();
        for fine_index in 0..self.fine.n_nodes() {
            let c = self.fine.coords(fine_index);
            let w: [[(usize, f64); 2]; D] = std::array::from_fn(|a| self.axis_weights(a, c[a]));
            for corner in 0..(1usize << D) {
                let mut node = 0;
                let mut weight = 1.0;
                for a in 0..D {
                    let (n, wa) = w[a][(corner >> a) & 1];
                    node += n * cs[a];
                    weight *= wa;
                }
                if weight != 0.0 {
                    visit(fine_index, node, weight);
                }
            }
        }
    }

    /// fine = P coarse.
    pub fn apply(&self, coarse: &[f64], fine: &mut [f64]) {
        fine.fill(0.0);
        self.for_each_pair(|f, c, w| fine[f] += w * coarse[c]);
    }

    /// coarse = Pᵀ fine (accumulated in fine-node order).
    pub fn transpose(&self, fine: &[f64], coarse: &mut [f64]) {
        coarse.fill(0.0);
        self.for_each_pair(|f, c, w| coarse[c] += w * fine[f]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prolongation_is_exact_for_bilinear_fields_and_transpose_is_adjoint() {
        let coarse = Mesh::new([-1.0, 2.0], [0.5, 0.25], [4, 3]);
        let p = Prolongation::new(coarse, 3);
        let f = |x: [f64; 2]| 1.0 + 2.0 * x[0] - 0.5 * x[1] + 0.3 * x[0] * x[1];
        let cv: Vec<f64> = (0..coarse.n_nodes())
            .map(|i| f(coarse.position(i)))
            .collect();
        let mut fv = vec![0.0; p.fine().n_nodes()];
        p.apply(&cv, &mut fv);
        for (i, v) in fv.iter().enumerate() {
            assert!((v - f(p.fine().position(i))).abs() < 1e-13);
        }
        // <P c, y> = <c, Pᵀ y>
        let y: Vec<f64> = (0..fv.len()).map(|i| (i as f64 * 0.7).cos()).collect();
        let mut pty = vec![0.0; cv.len()];
        p.transpose(&y, &mut pty);
        let lhs: f64 = fv.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f64 = cv.iter().zip(&pty).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12 * lhs.abs());
    }

    #[test]
    fn stencil_interpolates_bilinear_fields_exactly_including_far_edges() {
        let mesh = Mesh::new([0.0, 0.0], [1.0, 2.0], [5, 4]);
        let f = |x: [f64; 2]| 3.0 - x[0] + 0.25 * x[1] + 0.1 * x[0] * x[1];
        let field: Vec<f64> = (0..mesh.n_nodes()).map(|i| f(mesh.position(i))).collect();
        for p in [[0.3, 0.7], [4.0, 6.0], [0.0, 0.0], [2.5, 6.0]] {
            assert!((mesh.stencil(p).apply(&field) - f(p)).abs() < 1e-13);
        }
    }
}
