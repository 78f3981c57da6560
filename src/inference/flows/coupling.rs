//! The affine coupling layer of RealNVP (Dinh et al. 2017): the parameters split into a
//! conditioning half (left unchanged) and a transformed half, y_b = z_b ⊙ exp(s) + t with
//! (s, t) from an MLP of z_a; s = tanh(raw) is bounded to (−1, 1) per layer so that a layer
//! never explodes (stacked layers compose larger scales). Halves alternate by index parity
//! (`parity` 0: even indices condition), so consecutive couplings transform each other's
//! halves. log|det| = Σ s. Identity at initialisation (the MLP's output layer starts at 0).

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

use super::Layer;
use super::mlp::{Mlp, Tape};

#[derive(Debug, Clone)]
pub struct AffineCoupling {
    dim: usize,
    cond: Vec<usize>,
    trans: Vec<usize>,
    net: Mlp,
}

impl AffineCoupling {
    /// A coupling over `dim ≥ 2` parameters; indices with `i % 2 == parity` condition.
    pub fn new(dim: usize, hidden: &[usize], parity: usize) -> Self {
        assert!(dim >= 2, "a coupling needs two parameters or more");
        let (cond, trans): (Vec<usize>, Vec<usize>) = (0..dim).partition(|i| i % 2 == parity % 2);
        let net = Mlp::new(cond.len(), hidden, 2 * trans.len());
        AffineCoupling {
            dim,
            cond,
            trans,
            net,
        }
    }

    /// (s, t) for the conditioning values of `z`, with the network's tape.
    fn shift_scale(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        tape: &mut Tape,
    ) -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = self.cond.iter().map(|&i| z[i]).collect();
        let h = self.net.forward(theta, &x, tape);
        let nb = self.trans.len();
        (h[..nb].iter().map(|v| v.tanh()).collect(), h[nb..].to_vec())
    }
}

impl Layer for AffineCoupling {
    fn kind(&self) -> &'static str {
        "affine_coupling"
    }

    fn n_params(&self) -> usize {
        self.net.n_params()
    }

    fn init(&self, theta: &mut [f64]) {
        self.net.init(theta);
    }

    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        let (s, t) = self.shift_scale(theta, z, &mut Tape::default());
        for &i in &self.cond {
            y[i] = z[i];
        }
        let mut log_det = 0.0;
        for (j, &i) in self.trans.iter().enumerate() {
            y[i] = z[i] * s[j].exp() + t[j];
            log_det += s[j];
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
        let mut tape = Tape::default();
        let (s, _) = self.shift_scale(theta, z, &mut tape);
        let nb = self.trans.len();
        let mut h_bar = vec![0.0; 2 * nb];
        for (j, &i) in self.trans.iter().enumerate() {
            let e = s[j].exp();
            z_bar[i] = y_bar[i] * e;
            h_bar[j] = (y_bar[i] * z[i] * e + log_det_bar) * (1.0 - s[j] * s[j]);
            h_bar[nb + j] = y_bar[i];
        }
        let x_bar = self.net.backward(theta, &tape, &h_bar, theta_bar);
        for (k, &i) in self.cond.iter().enumerate() {
            z_bar[i] = y_bar[i] + x_bar[k];
        }
    }

    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        let (s, t) = self.shift_scale(theta, y, &mut Tape::default());
        for &i in &self.cond {
            z[i] = y[i];
        }
        for (j, &i) in self.trans.iter().enumerate() {
            z[i] = (y[i] - t[j]) * (-s[j]).exp();
        }
        debug_assert_eq!(z.len(), self.dim);
    }

    fn push_score(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        out: ArrayViewMut1<f64>,
    ) {
        coupling_push_score(self, &self.trans, theta, z, score, out);
    }
}

/// [`Layer::push_score`] of a coupling layer (y_a = z_a, y_b = g(z_b; z_a) elementwise over
/// the `trans` indices) from its backward pass alone. J = [[I, 0], [A, D]] with
/// D = diag ∂y_b/∂z_b and A = ∂y_b/∂z_a, so J⁻ᵀ w has w_b/D on the transformed half and
/// w_a − Aᵀ (w_b/D) on the conditioning half, w = s − ∇ log|det J|.
pub(super) fn coupling_push_score(
    layer: &dyn Layer,
    trans: &[usize],
    theta: &[f64],
    z: ArrayView1<f64>,
    score: ArrayView1<f64>,
    mut out: ArrayViewMut1<f64>,
) {
    let d = z.len();
    let mut scratch = vec![0.0; layer.n_params()];
    let mut y_bar = Array1::zeros(d);
    // D: Jᵀ applied to the transformed half's ones (A's part lands on the other half).
    let mut diagonal = Array1::zeros(d);
    for &i in trans {
        y_bar[i] = 1.0;
    }
    layer.backward(
        theta,
        z,
        y_bar.view(),
        0.0,
        diagonal.view_mut(),
        &mut scratch,
    );
    // ∇ log|det J|.
    let ld_grad = super::log_det_gradient(layer, theta, z);
    y_bar.fill(0.0);
    for &i in trans {
        y_bar[i] = (score[i] - ld_grad[i]) / diagonal[i];
    }
    // Aᵀ (w_b/D) on the conditioning half (and D (w_b/D) = w_b on the other).
    let mut a_t = Array1::zeros(d);
    layer.backward(theta, z, y_bar.view(), 0.0, a_t.view_mut(), &mut scratch);
    for i in 0..d {
        out[i] = score[i] - ld_grad[i] - a_t[i];
    }
    for &i in trans {
        out[i] = y_bar[i];
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;
    use crate::inference::flows::check;

    #[test]
    fn couplings_pass_the_layer_checks() {
        for (dim, parity) in [(2, 0), (5, 1), (6, 0)] {
            let layer = AffineCoupling::new(dim, &[6, 5], parity);
            let mut theta = vec![0.0; layer.n_params()];
            layer.init(&mut theta);
            for (k, t) in theta.iter_mut().enumerate() {
                *t += 0.3 * ((k as f64) * 0.77 + dim as f64).sin();
            }
            let z = Array1::from_iter((0..dim).map(|i| (i as f64 * 1.9).cos() * 1.2));
            check::layer(&layer, &theta, &z);
        }
    }

    #[test]
    fn a_fresh_coupling_is_the_identity() {
        let layer = AffineCoupling::new(4, &[8], 1);
        let mut theta = vec![0.0; layer.n_params()];
        layer.init(&mut theta);
        let z = Array1::from(vec![0.3, -2.0, 1.5, 0.7]);
        let mut y = Array1::zeros(4);
        assert_eq!(layer.forward(&theta, z.view(), y.view_mut()), 0.0);
        for i in 0..4 {
            assert!((y[i] - z[i]).abs() <= 1e-12);
        }
    }
}
