//! A small multilayer perceptron with tanh hidden units and a linear output, over one input
//! row at a time (sequential sums, so a row's bits never depend on a batch), with its
//! hand-written backward pass: the conditioner of the coupling layers. Parameters are one flat
//! slice, layer by layer: the weights (out × in, row-major) then the biases. Hidden weights
//! start at a fixed deterministic pseudo-random draw of Glorot scale; the output layer starts
//! at zero, so that a coupling layer is the identity at initialisation.

/// Layer sizes: input, hidden..., output.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
}

/// What the backward pass needs of a forward pass: every layer's activations.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    /// acts[0] is the input, acts[k] the output of layer k (tanh applied for hidden layers).
    acts: Vec<Vec<f64>>,
}

impl Mlp {
    pub fn new(input: usize, hidden: &[usize], output: usize) -> Self {
        let mut sizes = vec![input];
        sizes.extend_from_slice(hidden);
        sizes.push(output);
        Mlp { sizes }
    }

    pub fn n_params(&self) -> usize {
        self.sizes.windows(2).map(|w| w[1] * w[0] + w[1]).sum()
    }

    pub fn output_len(&self) -> usize {
        *self.sizes.last().expect("an output layer")
    }

    fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// (weights offset, biases offset, in, out) of layer k.
    fn layout(&self, k: usize) -> (usize, usize, usize, usize) {
        let offset: usize = self.sizes[..k + 1]
            .windows(2)
            .map(|w| w[1] * w[0] + w[1])
            .sum();
        let (n_in, n_out) = (self.sizes[k], self.sizes[k + 1]);
        (offset, offset + n_out * n_in, n_in, n_out)
    }

    pub fn init(&self, theta: &mut [f64]) {
        theta.fill(0.0);
        for k in 0..self.n_layers() - 1 {
            let (w, _, n_in, n_out) = self.layout(k);
            let scale = (6.0 / (n_in + n_out) as f64).sqrt();
            for i in 0..n_out * n_in {
                // A fixed, well-spread sequence in (−1, 1): the fractional part of a Weyl
                // sequence, so that every run starts from the same network.
                let u =
                    ((i + 1) as f64 * 0.618_033_988_749_894_9 + k as f64 * 0.414_213_562).fract();
                theta[w + i] = scale * (2.0 * u - 1.0);
            }
        }
    }

    /// The output for input `x`, recording the activations in `tape`.
    pub fn forward(&self, theta: &[f64], x: &[f64], tape: &mut Tape) -> Vec<f64> {
        tape.acts.clear();
        tape.acts.push(x.to_vec());
        for k in 0..self.n_layers() {
            let (w, b, n_in, n_out) = self.layout(k);
            let input = &tape.acts[k];
            let last = k + 1 == self.n_layers();
            let out: Vec<f64> = (0..n_out)
                .map(|o| {
                    let mut s = theta[b + o];
                    for i in 0..n_in {
                        s += theta[w + o * n_in + i] * input[i];
                    }
                    if last { s } else { s.tanh() }
                })
                .collect();
            tape.acts.push(out);
        }
        tape.acts.last().expect("an output").clone()
    }

    /// Given ∂L/∂output of the forward pass recorded in `tape`, adds ∂L/∂θ to `theta_bar` and
    /// returns ∂L/∂input.
    pub fn backward(
        &self,
        theta: &[f64],
        tape: &Tape,
        out_bar: &[f64],
        theta_bar: &mut [f64],
    ) -> Vec<f64> {
        let mut bar = out_bar.to_vec();
        for k in (0..self.n_layers()).rev() {
            let (w, b, n_in, n_out) = self.layout(k);
            if k + 1 < self.n_layers() {
                // Through tanh: d tanh = 1 − tanh².
                for (o, v) in bar.iter_mut().enumerate() {
                    let a = tape.acts[k + 1][o];
                    *v *= 1.0 - a * a;
                }
            }
            let input = &tape.acts[k];
            let mut below = vec![0.0; n_in];
            for o in 0..n_out {
                theta_bar[b + o] += bar[o];
                for i in 0..n_in {
                    theta_bar[w + o * n_in + i] += bar[o] * input[i];
                    below[i] += theta[w + o * n_in + i] * bar[o];
                }
            }
            bar = below;
        }
        bar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_matches_central_differences() {
        let net = Mlp::new(3, &[5, 4], 2);
        let mut theta = vec![0.0; net.n_params()];
        net.init(&mut theta);
        // A non-zero output layer, so that every weight matters.
        for (k, t) in theta.iter_mut().enumerate() {
            *t += 0.05 * ((k as f64) * 1.7).sin();
        }
        let x = [0.4, -1.1, 0.8];
        let c = [0.7, -1.3];
        let objective = |theta: &[f64], x: &[f64]| {
            let y = net.forward(theta, x, &mut Tape::default());
            c[0] * y[0] + c[1] * y[1]
        };
        let mut tape = Tape::default();
        net.forward(&theta, &x, &mut tape);
        let mut theta_bar = vec![0.0; theta.len()];
        let x_bar = net.backward(&theta, &tape, &c, &mut theta_bar);
        let eps = 1e-6;
        for k in 0..theta.len() {
            let (mut p, mut m) = (theta.clone(), theta.clone());
            p[k] += eps;
            m[k] -= eps;
            let fd = (objective(&p, &x) - objective(&m, &x)) / (2.0 * eps);
            assert!(
                (fd - theta_bar[k]).abs() < 1e-8,
                "θ {k}: {fd} vs {}",
                theta_bar[k]
            );
        }
        for i in 0..3 {
            let (mut p, mut m) = (x, x);
            p[i] += eps;
            m[i] -= eps;
            let fd = (objective(&theta, &p) - objective(&theta, &m)) / (2.0 * eps);
            assert!((fd - x_bar[i]).abs() < 1e-8, "x {i}: {fd} vs {}", x_bar[i]);
        }
    }

    #[test]
    fn the_initial_network_outputs_zero() {
        let net = Mlp::new(4, &[8, 8], 3);
        let mut theta = vec![1.0; net.n_params()];
        net.init(&mut theta);
        let y = net.forward(&theta, &[1.0, -2.0, 0.5, 3.0], &mut Tape::default());
        assert_eq!(y, vec![0.0; 3]);
    }
}
