//! Normalizing flows: a variational density q is a chain of bijections applied to z ~ N(0, I),
//! each with its log-determinant (GeoPVI's composition: mean-field ADVI, full-rank ADVI and
//! PSVI are one linear layer with three structures). The bounded prior's transform is applied
//! after the flow by the posterior, so q lives in the unconstrained space.
//!
//! Layers work row by row (one member at a time, no batched BLAS), so a member's bits never
//! depend on the batch it is in; the parameters of all layers are one flat vector θ, each layer
//! owning a contiguous slice. Gradients are hand-written backward passes, checked against
//! finite differences in each layer's tests.

pub mod config;
pub mod coupling;
pub mod elementwise;
pub mod linear;
pub mod mlp;
pub mod planar;
pub mod spline;

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

/// One bijection y = f_θ(z) of a flow.
pub trait Layer: Send + Sync + std::fmt::Debug {
    /// The layer's `kind`, for the kept `variational/` group.
    fn kind(&self) -> &'static str;
    fn n_params(&self) -> usize;
    /// The initial parameters: the identity map.
    fn init(&self, theta: &mut [f64]);
    /// Makes the layer map N(0, I) to N(mean, diag(scale²)) where it can (a linear layer);
    /// returns whether it did.
    fn place(&self, _theta: &mut [f64], _mean: &[f64], _scale: &[f64]) -> bool {
        false
    }
    /// y = f(z); returns log|det ∂y/∂z|.
    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, y: ArrayViewMut1<f64>) -> f64;
    /// The backward pass of `forward` at z: given ȳ = ∂L/∂y and ∂L/∂(log-det), writes
    /// z̄ = ∂L/∂z and adds ∂L/∂θ to `theta_bar`.
    fn backward(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        y_bar: ArrayView1<f64>,
        log_det_bar: f64,
        z_bar: ArrayViewMut1<f64>,
        theta_bar: &mut [f64],
    );
    /// z = f⁻¹(y).
    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, z: ArrayViewMut1<f64>);
    /// The score pushed through the layer: if z has a density with score s = ∇_z log p(z),
    /// y = f(z) has ∇_y log p(y) = J⁻ᵀ (s − ∇_z log|det J|), J = ∂y/∂z at z; written to
    /// `out`. (A mixture of flows needs each component's ∇_x log q(x).)
    fn push_score(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        out: ArrayViewMut1<f64>,
    );
}

/// ∇_z log|det J| of a layer, from its backward pass.
pub(crate) fn log_det_gradient(
    layer: &dyn Layer,
    theta: &[f64],
    z: ArrayView1<f64>,
) -> Array1<f64> {
    let mut grad = Array1::zeros(z.len());
    let mut scratch = vec![0.0; layer.n_params()];
    layer.backward(
        theta,
        z,
        Array1::zeros(z.len()).view(),
        1.0,
        grad.view_mut(),
        &mut scratch,
    );
    grad
}

/// log N(z; 0, I).
pub fn standard_normal_log_density(z: ArrayView1<f64>) -> f64 {
    let d = z.len() as f64;
    -0.5 * z.dot(&z) - 0.5 * d * (2.0 * std::f64::consts::PI).ln()
}

/// A chain of layers over `dim` parameters, applied in order to z.
#[derive(Debug)]
pub struct Flow {
    dim: usize,
    layers: Vec<Box<dyn Layer>>,
    /// Start of each layer's parameters in θ (and the total at the end).
    offsets: Vec<usize>,
}

impl Flow {
    pub fn new(dim: usize, layers: Vec<Box<dyn Layer>>) -> Self {
        let mut offsets = vec![0];
        for layer in &layers {
            offsets.push(offsets.last().unwrap() + layer.n_params());
        }
        Flow {
            dim,
            layers,
            offsets,
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn n_params(&self) -> usize {
        *self.offsets.last().expect("offsets start at 0")
    }

    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// The parameter range of layer k.
    pub fn range(&self, k: usize) -> std::ops::Range<usize> {
        self.offsets[k]..self.offsets[k + 1]
    }

    /// The initial parameters: every layer the identity, then the first layer that can
    /// (a linear one) placed at N(mean, diag(scale²)), so that q starts there.
    pub fn init_params(&self, mean: &[f64], scale: &[f64]) -> Vec<f64> {
        let mut theta = vec![0.0; self.n_params()];
        for (k, layer) in self.layers.iter().enumerate() {
            layer.init(&mut theta[self.range(k)]);
        }
        for (k, layer) in self.layers.iter().enumerate() {
            if layer.place(&mut theta[self.range(k)], mean, scale) {
                break;
            }
        }
        theta
    }

    /// x = T(z) through every layer; returns log|det ∂x/∂z|.
    pub fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut x: ArrayViewMut1<f64>) -> f64 {
        let mut current = z.to_owned();
        let mut next = Array1::zeros(self.dim);
        let mut log_det = 0.0;
        for (k, layer) in self.layers.iter().enumerate() {
            log_det += layer.forward(&theta[self.range(k)], current.view(), next.view_mut());
            std::mem::swap(&mut current, &mut next);
        }
        x.assign(&current);
        log_det
    }

    /// The gradient of L(x(z), log-det(z)) w.r.t. θ, added to `theta_bar`, given
    /// x̄ = ∂L/∂x and ∂L/∂(log-det); returns z̄ = ∂L/∂z.
    pub fn backward(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        x_bar: ArrayView1<f64>,
        log_det_bar: f64,
        theta_bar: &mut [f64],
    ) -> Array1<f64> {
        // The inputs of every layer, recomputed.
        let mut inputs = Vec::with_capacity(self.layers.len());
        let mut current = z.to_owned();
        for (k, layer) in self.layers.iter().enumerate() {
            let mut next = Array1::zeros(self.dim);
            layer.forward(&theta[self.range(k)], current.view(), next.view_mut());
            inputs.push(std::mem::replace(&mut current, next));
        }
        let mut bar = x_bar.to_owned();
        let mut below = Array1::zeros(self.dim);
        for (k, layer) in self.layers.iter().enumerate().rev() {
            let range = self.range(k);
            layer.backward(
                &theta[range.clone()],
                inputs[k].view(),
                bar.view(),
                log_det_bar,
                below.view_mut(),
                &mut theta_bar[range],
            );
            std::mem::swap(&mut bar, &mut below);
        }
        bar
    }

    /// z = T⁻¹(x).
    pub fn inverse(&self, theta: &[f64], x: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        let mut current = x.to_owned();
        let mut next = Array1::zeros(self.dim);
        for (k, layer) in self.layers.iter().enumerate().rev() {
            layer.inverse(&theta[self.range(k)], current.view(), next.view_mut());
            std::mem::swap(&mut current, &mut next);
        }
        z.assign(&current);
    }

    /// log q(x) = log N(T⁻¹(x)) − log|det ∂x/∂z|.
    pub fn log_density(&self, theta: &[f64], x: ArrayView1<f64>) -> f64 {
        let mut z = Array1::zeros(self.dim);
        self.inverse(theta, x, z.view_mut());
        let mut y = Array1::zeros(self.dim);
        let log_det = self.forward(theta, z.view(), y.view_mut());
        standard_normal_log_density(z.view()) - log_det
    }

    /// (x, log q(x), ∇_x log q(x)) at x = T(z): the score pushed through every layer from
    /// ∇_z log N(z) = −z.
    pub fn density_at_latent(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
    ) -> (Array1<f64>, f64, Array1<f64>) {
        let mut current = z.to_owned();
        let mut score = z.mapv(|v| -v);
        let mut log_q = standard_normal_log_density(z);
        let (mut next, mut next_score) = (Array1::zeros(self.dim), Array1::zeros(self.dim));
        for (k, layer) in self.layers.iter().enumerate() {
            let theta = &theta[self.range(k)];
            log_q -= layer.forward(theta, current.view(), next.view_mut());
            layer.push_score(theta, current.view(), score.view(), next_score.view_mut());
            std::mem::swap(&mut current, &mut next);
            std::mem::swap(&mut score, &mut next_score);
        }
        (current, log_q, score)
    }

    /// (log q(x), ∇_x log q(x)).
    pub fn log_density_and_score(&self, theta: &[f64], x: ArrayView1<f64>) -> (f64, Array1<f64>) {
        let mut z = Array1::zeros(self.dim);
        self.inverse(theta, x, z.view_mut());
        let (_, log_q, score) = self.density_at_latent(theta, z.view());
        (log_q, score)
    }
}

/// Checks shared by every layer's tests: round trip, log-determinant against the
/// finite-difference Jacobian, and the backward pass against finite differences.
#[cfg(test)]
pub(crate) mod check {
    use ndarray::{Array1, Array2};

    use super::Layer;

    /// log|det A| by Gaussian elimination with partial pivoting.
    pub fn log_abs_det(mut a: Array2<f64>) -> f64 {
        let n = a.nrows();
        let mut log_det = 0.0;
        for c in 0..n {
            let p = (c..n)
                .max_by(|&i, &j| a[[i, c]].abs().total_cmp(&a[[j, c]].abs()))
                .unwrap();
            for k in 0..n {
                a.swap([c, k], [p, k]);
            }
            let pivot = a[[c, c]];
            log_det += pivot.abs().ln();
            for r in c + 1..n {
                let f = a[[r, c]] / pivot;
                for k in c..n {
                    a[[r, k]] -= f * a[[c, k]];
                }
            }
        }
        log_det
    }

    /// Runs the three checks on `layer` with parameters `theta` at input `z`.
    pub fn layer(layer: &dyn Layer, theta: &[f64], z: &Array1<f64>) {
        let d = z.len();
        let mut y = Array1::zeros(d);
        let log_det = layer.forward(theta, z.view(), y.view_mut());
        // Round trip.
        let mut back = Array1::zeros(d);
        layer.inverse(theta, y.view(), back.view_mut());
        for j in 0..d {
            assert!(
                (back[j] - z[j]).abs() <= 1e-10 * (1.0 + z[j].abs()),
                "round trip {j}: {} vs {}",
                back[j],
                z[j]
            );
        }
        // log|det J| against central differences of the Jacobian.
        let eps = 1e-6;
        let mut jac = Array2::zeros((d, d));
        let (mut yp, mut ym) = (Array1::zeros(d), Array1::zeros(d));
        for j in 0..d {
            let (mut zp, mut zm) = (z.clone(), z.clone());
            zp[j] += eps;
            zm[j] -= eps;
            layer.forward(theta, zp.view(), yp.view_mut());
            layer.forward(theta, zm.view(), ym.view_mut());
            for i in 0..d {
                jac[[i, j]] = (yp[i] - ym[i]) / (2.0 * eps);
            }
        }
        let fd = log_abs_det(jac.clone());
        assert!(
            (fd - log_det).abs() <= 1e-7 * (1.0 + log_det.abs()),
            "log det {log_det} vs {fd}"
        );
        // Backward against finite differences of L = c·y + a log-det in z and θ.
        let c = Array1::from_iter((0..d).map(|i| 0.3 + ((i * 7) % 5) as f64 * 0.2 - 0.5));
        let a = 0.7;
        let objective = |theta: &[f64], z: &Array1<f64>| {
            let mut y = Array1::zeros(d);
            let ld = layer.forward(theta, z.view(), y.view_mut());
            c.dot(&y) + a * ld
        };
        let mut z_bar = Array1::zeros(d);
        let mut theta_bar = vec![0.0; theta.len()];
        layer.backward(
            theta,
            z.view(),
            c.view(),
            a,
            z_bar.view_mut(),
            &mut theta_bar,
        );
        for j in 0..d {
            let (mut zp, mut zm) = (z.clone(), z.clone());
            zp[j] += eps;
            zm[j] -= eps;
            let fd = (objective(theta, &zp) - objective(theta, &zm)) / (2.0 * eps);
            assert!(
                (fd - z_bar[j]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "z̄ {j}: {} vs {fd}",
                z_bar[j]
            );
        }
        // The pushed score: Jᵀ out = s − ∇_z log|det J| (finite-difference J and log-det).
        let score = Array1::from_iter((0..d).map(|i| 0.9 - ((i * 5) % 7) as f64 * 0.3));
        let mut out = Array1::zeros(d);
        layer.push_score(theta, z.view(), score.view(), out.view_mut());
        let mut scratch = Array1::zeros(d);
        for j in 0..d {
            let (mut zp, mut zm) = (z.clone(), z.clone());
            zp[j] += eps;
            zm[j] -= eps;
            let ld_grad = (layer.forward(theta, zp.view(), scratch.view_mut())
                - layer.forward(theta, zm.view(), scratch.view_mut()))
                / (2.0 * eps);
            let jt_out = jac.column(j).dot(&out);
            let want = score[j] - ld_grad;
            assert!(
                (jt_out - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "pushed score {j}: Jᵀ out = {jt_out} vs {want}"
            );
        }
        for k in 0..theta.len() {
            let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
            tp[k] += eps;
            tm[k] -= eps;
            let fd = (objective(&tp, z) - objective(&tm, z)) / (2.0 * eps);
            assert!(
                (fd - theta_bar[k]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "θ̄ {k}: {} vs {fd}",
                theta_bar[k]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;

    /// A flow with every layer kind, its parameters moved off the identity.
    fn every_layer(dim: usize) -> (Flow, Vec<f64>) {
        let layers: Vec<Box<dyn Layer>> = vec![
            Box::new(linear::Linear::new(&linear::Structure::Full, dim)),
            Box::new(coupling::AffineCoupling::new(dim, &[6], 0)),
            Box::new(coupling::AffineCoupling::new(dim, &[6], 1)),
            Box::new(elementwise::Reverse { dim }),
            Box::new(spline::SplineCoupling::new(dim, &[5], 1, 4, 3.0)),
            Box::new(planar::Planar { dim }),
            Box::new(planar::Radial { dim }),
            Box::new(elementwise::ActNorm { dim }),
        ];
        let flow = Flow::new(dim, layers);
        let mean = vec![0.2; dim];
        let scale = vec![0.8; dim];
        let mut theta = flow.init_params(&mean, &scale);
        for (k, t) in theta.iter_mut().enumerate() {
            *t += 0.15 * ((k as f64) * 0.61 + 0.3).sin();
        }
        (flow, theta)
    }

    #[test]
    fn the_score_is_the_gradient_of_the_log_density() {
        let dim = 4;
        let (flow, theta) = every_layer(dim);
        let x = Array1::from(vec![0.4, -0.9, 1.3, 0.1]);
        let (log_q, score) = flow.log_density_and_score(&theta, x.view());
        assert!((log_q - flow.log_density(&theta, x.view())).abs() <= 1e-10);
        let eps = 1e-5;
        for j in 0..dim {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[j] += eps;
            xm[j] -= eps;
            let fd = (flow.log_density(&theta, xp.view()) - flow.log_density(&theta, xm.view()))
                / (2.0 * eps);
            assert!(
                (fd - score[j]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "∂/∂x{j}: {} vs {fd}",
                score[j]
            );
        }
        // From the latent side: the same point, density and score.
        let mut z = Array1::zeros(dim);
        flow.inverse(&theta, x.view(), z.view_mut());
        let (x2, log_q2, score2) = flow.density_at_latent(&theta, z.view());
        for j in 0..dim {
            assert!((x2[j] - x[j]).abs() <= 1e-10 && (score2[j] - score[j]).abs() <= 1e-10);
        }
        assert!((log_q2 - log_q).abs() <= 1e-10);
    }
}
