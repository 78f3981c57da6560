//! Layers without coupling between parameters: `permute` (reverses the parameter order, so
//! that stacked layers see each other's halves and ends) and `actnorm` (y = exp(a) ⊙ z + b,
//! a learned per-parameter scale and shift; Kingma & Dhariwal 2018, here started at the
//! identity).

use ndarray::{ArrayView1, ArrayViewMut1};

use super::Layer;

/// y_i = z_{D−1−i}.
#[derive(Debug, Clone)]
pub struct Reverse {
    pub dim: usize,
}

impl Layer for Reverse {
    fn kind(&self) -> &'static str {
        "permute"
    }
    fn n_params(&self) -> usize {
        0
    }
    fn init(&self, _theta: &mut [f64]) {}
    fn forward(&self, _theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        for i in 0..self.dim {
            y[i] = z[self.dim - 1 - i];
        }
        0.0
    }
    fn backward(
        &self,
        _theta: &[f64],
        _z: ArrayView1<f64>,
        y_bar: ArrayView1<f64>,
        _log_det_bar: f64,
        mut z_bar: ArrayViewMut1<f64>,
        _theta_bar: &mut [f64],
    ) {
        for i in 0..self.dim {
            z_bar[self.dim - 1 - i] = y_bar[i];
        }
    }
    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, z: ArrayViewMut1<f64>) {
        self.forward(theta, y, z);
    }
    fn push_score(
        &self,
        theta: &[f64],
        _z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        out: ArrayViewMut1<f64>,
    ) {
        // J is a permutation: J⁻ᵀ = J.
        self.forward(theta, score, out);
    }
}

/// y = exp(a) ⊙ z + b; parameters (a, b).
#[derive(Debug, Clone)]
pub struct ActNorm {
    pub dim: usize,
}

impl Layer for ActNorm {
    fn kind(&self) -> &'static str {
        "actnorm"
    }
    fn n_params(&self) -> usize {
        2 * self.dim
    }
    fn init(&self, theta: &mut [f64]) {
        theta.fill(0.0);
    }
    fn place(&self, theta: &mut [f64], mean: &[f64], scale: &[f64]) -> bool {
        for i in 0..self.dim {
            theta[i] = scale[i].ln();
            theta[self.dim + i] = mean[i];
        }
        true
    }
    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        let mut log_det = 0.0;
        for i in 0..self.dim {
            y[i] = theta[i].exp() * z[i] + theta[self.dim + i];
            log_det += theta[i];
        }
        log_det
    }
    fn backward(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        y_bar: ArrayView1<f64>,
        log_det_bar: f64,
        mut z_bar: ArrayViewMut1<f64>,
        theta_bar: &mut [f64],
    ) {
        for i in 0..self.dim {
            let e = theta[i].exp();
            z_bar[i] = e * y_bar[i];
            theta_bar[i] += y_bar[i] * e * z[i] + log_det_bar;
            theta_bar[self.dim + i] += y_bar[i];
        }
    }
    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        for i in 0..self.dim {
            z[i] = (y[i] - theta[self.dim + i]) * (-theta[i]).exp();
        }
    }
    fn push_score(
        &self,
        theta: &[f64],
        _z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        mut out: ArrayViewMut1<f64>,
    ) {
        for i in 0..self.dim {
            out[i] = score[i] * (-theta[i]).exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;
    use crate::inference::flows::check;

    #[test]
    fn elementwise_layers_pass_the_layer_checks() {
        let z = Array1::from(vec![0.5, -1.5, 2.0, 0.1, -0.3]);
        check::layer(&Reverse { dim: 5 }, &[], &z);
        let theta: Vec<f64> = (0..10).map(|k| 0.2 * (k as f64).sin()).collect();
        check::layer(&ActNorm { dim: 5 }, &theta, &z);
    }
}
