//! Small dense linear algebra on `ndarray`, written out so that results are the same bits for
//! every batch size and thread count (no BLAS kernels whose path depends on the shape):
//! Cholesky factorisation and triangular solves, used by McMC proposals and closed-form checks.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1};

/// Error of a Cholesky factorisation: the matrix is not (numerically) positive definite.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("matrix is not positive definite: pivot {index} is {pivot:e}")]
pub struct NotPositiveDefinite {
    pub index: usize,
    pub pivot: f64,
}

/// Lower Cholesky factor L with A = L Lᵀ. Reads the lower triangle of `a` only.
pub fn cholesky(a: ArrayView2<f64>) -> Result<Array2<f64>, NotPositiveDefinite> {
    let n = a.nrows();
    assert_eq!(a.ncols(), n, "cholesky needs a square matrix");
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        if d.is_nan() || d <= 0.0 || d.is_infinite() {
            return Err(NotPositiveDefinite { index: j, pivot: d });
        }
        let djj = d.sqrt();
        l[[j, j]] = djj;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / djj;
        }
    }
    Ok(l)
}

/// y = L x for lower-triangular L (only the lower triangle is read), into `y`.
pub fn lower_mul_into(l: ArrayView2<f64>, x: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) {
    let n = l.nrows();
    for i in 0..n {
        let row = l.row(i);
        let mut s = 0.0;
        for k in 0..=i {
            s += row[k] * x[k];
        }
        y[i] = s;
    }
}

/// Solves L x = b (forward substitution).
pub fn solve_lower(l: ArrayView2<f64>, b: ArrayView1<f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut x = b.to_owned();
    for i in 0..n {
        let mut s = x[i];
        for k in 0..i {
            s -= l[[i, k]] * x[k];
        }
        x[i] = s / l[[i, i]];
    }
    x
}

/// Solves Lᵀ x = b (backward substitution with the lower factor).
pub fn solve_lower_transpose(l: ArrayView2<f64>, b: ArrayView1<f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut x = b.to_owned();
    for i in (0..n).rev() {
        let mut s = x[i];
        for k in i + 1..n {
            s -= l[[k, i]] * x[k];
        }
        x[i] = s / l[[i, i]];
    }
    x
}

/// A⁻¹ from its Cholesky factor.
pub fn inverse_from_cholesky(l: ArrayView2<f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut inv = Array2::zeros((n, n));
    let mut e = Array1::zeros(n);
    for j in 0..n {
        e.fill(0.0);
        e[j] = 1.0;
        let y = solve_lower(l, e.view());
        let x = solve_lower_transpose(l, y.view());
        inv.column_mut(j).assign(&x);
    }
    inv
}

/// y = A x with a sequential dot product per row (bit-identical whatever the batch).
pub fn mat_vec_into(a: ArrayView2<f64>, x: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) {
    for (i, row) in a.rows().into_iter().enumerate() {
        let mut s = 0.0;
        for (aij, xj) in row.iter().zip(x.iter()) {
            s += aij * xj;
        }
        y[i] = s;
    }
}

/// y = Aᵀ x, accumulated column by column in row order.
pub fn mat_t_vec_into(a: ArrayView2<f64>, x: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) {
    y.fill(0.0);
    for (row, xi) in a.rows().into_iter().zip(x.iter()) {
        for (yj, aij) in y.iter_mut().zip(row.iter()) {
            *yj += aij * xi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_reconstructs_and_inverts() {
        let a = array![[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]];
        let l = cholesky(a.view()).unwrap();
        let back = l.dot(&l.t());
        assert!((&back - &a).iter().all(|d| d.abs() < 1e-14));
        let inv = inverse_from_cholesky(l.view());
        let eye = a.dot(&inv);
        for i in 0..3 {
            for j in 0..3 {
                assert!((eye[[i, j]] - f64::from(u8::from(i == j))).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn cholesky_names_the_failing_pivot() {
        let a = array![[1.0, 2.0], [2.0, 1.0]];
        let err = cholesky(a.view()).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.pivot < 0.0);
    }
}
