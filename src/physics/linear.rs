//! The linear forward model d = G m: the analytic test problem of every method (closed-form
//! posterior with a Gaussian prior). Products are sequential per row, so a member's bits do not
//! depend on the batch.

use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1};

use super::{ForwardModel, Linearization, PhysicsError, check_model};
use crate::core::linalg::{mat_t_vec_into, mat_vec_into};

pub struct LinearForward {
    /// (n_data, n_params).
    matrix: Array2<f64>,
}

impl LinearForward {
    pub fn new(matrix: Array2<f64>) -> Self {
        LinearForward { matrix }
    }

    pub fn matrix(&self) -> &Array2<f64> {
        &self.matrix
    }
}

struct LinearTape<'a> {
    matrix: &'a Array2<f64>,
    data: Array1<f64>,
}

impl Linearization for LinearTape<'_> {
    fn data(&self) -> ArrayView1<'_, f64> {
        self.data.view()
    }
    fn vjp_into(&self, cotangent: ArrayView1<f64>, grad: ArrayViewMut1<f64>) {
        mat_t_vec_into(self.matrix.view(), cotangent, grad);
    }
}

impl ForwardModel for LinearForward {
    fn n_params(&self) -> usize {
        self.matrix.ncols()
    }
    fn n_data(&self) -> usize {
        self.matrix.nrows()
    }
    fn forward_into(&self, m: ArrayView1<f64>, d: ArrayViewMut1<f64>) -> Result<(), PhysicsError> {
        check_model(m, self.n_params())?;
        mat_vec_into(self.matrix.view(), m, d);
        Ok(())
    }
    fn linearize(&self, m: ArrayView1<f64>) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        let mut data = Array1::zeros(self.n_data());
        self.forward_into(m, data.view_mut())?;
        Ok(Box::new(LinearTape {
            matrix: &self.matrix,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn transpose_passes_the_dot_product_test() {
        let g = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin());
        let f = LinearForward::new(g);
        let m = Array1::from(vec![0.3, -1.2, 2.0]);
        let c = Array1::from(vec![1.0, -0.5, 0.25, 2.0, -1.0]);
        let lin = f.linearize(m.view()).unwrap();
        let mut gt_c = Array1::zeros(3);
        lin.vjp_into(c.view(), gt_c.view_mut());
        let lhs = lin.data().dot(&c);
        let rhs = m.dot(&gt_c);
        assert!((lhs - rhs).abs() < 1e-14 * lhs.abs().max(1.0));
    }
}
