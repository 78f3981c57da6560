//! The rational-quadratic spline coupling layer (Durkan et al. 2019, neural spline flows): the
//! transformed half goes through monotone rational-quadratic splines on [−B, B] with K bins,
//! whose widths, heights and interior knot derivatives come from an MLP of the conditioning
//! half; outside [−B, B] the layer is the identity (the boundary derivatives are 1, so the map
//! is C¹ there). Widths and heights are bounded below (a softmax mixed with a floor), the
//! derivatives too (a floor plus a scaled softplus), so nothing divides by zero and no branch
//! that is masked away can produce a NaN: every value is computed only on the side of the bound
//! it belongs to. With the MLP's output layer at zero every bin is equal and every derivative
//! 1: the spline is the identity.
//!
//! The spline is written once, generic over the scalar: f64 for the forward pass and the
//! inverse, forward-mode dual numbers for the backward pass (the derivatives with respect to
//! the 3K − 1 logits and the input in one evaluation).

use ndarray::{ArrayView1, ArrayViewMut1};

use super::Layer;
use super::mlp::{Mlp, Tape};
use crate::physics::dispersion::dual::Dual;
use crate::physics::dispersion::scalar::Scalar;

/// The most bins a spline may have (the dual numbers carry 3 × this many tangents).
pub const MAX_BINS: usize = 16;
const TANGENTS: usize = 3 * MAX_BINS;
const MIN_WIDTH: f64 = 1e-3;
const MIN_HEIGHT: f64 = 1e-3;
const MIN_DERIVATIVE: f64 = 1e-3;

/// What the spline needs beyond `Scalar`.
trait SplineScalar: Scalar {
    fn ln(self) -> Self;
    /// ln(1 + eˣ).
    fn softplus(self) -> Self;
}

impl SplineScalar for f64 {
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn softplus(self) -> Self {
        if self > 30.0 {
            self
        } else {
            self.exp().ln_1p()
        }
    }
}

impl<const N: usize> SplineScalar for Dual<f64, N> {
    fn ln(self) -> Self {
        let mut d = self.d;
        for v in &mut d {
            *v /= self.v;
        }
        Dual { v: self.v.ln(), d }
    }
    fn softplus(self) -> Self {
        let slope = 1.0 / (1.0 + (-self.v).exp());
        let mut d = self.d;
        for v in &mut d {
            *v *= slope;
        }
        Dual {
            v: SplineScalar::softplus(self.v),
            d,
        }
    }
}

/// Bin sizes from logits: floor + (1 − K floor) softmax, scaled to the interval 2B.
fn bin_sizes<T: SplineScalar>(logits: &[T], floor: f64, bound: f64) -> Vec<T> {
    let k = logits.len();
    let top = logits
        .iter()
        .map(|l| l.value())
        .fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<T> = logits
        .iter()
        .map(|&l| (l - T::constant(top)).exp())
        .collect();
    let mut total = T::constant(0.0);
    for &v in &e {
        total = total + v;
    }
    e.into_iter()
        .map(|v| {
            ((v / total).scale(1.0 - k as f64 * floor) + T::constant(floor)).scale(2.0 * bound)
        })
        .collect()
}

/// Knot positions from bin sizes: −B, then cumulative sums, the last exactly B.
fn knots<T: SplineScalar>(sizes: &[T], bound: f64) -> Vec<T> {
    let mut out = Vec::with_capacity(sizes.len() + 1);
    let mut at = T::constant(-bound);
    out.push(at);
    for &s in &sizes[..sizes.len() - 1] {
        at = at + s;
        out.push(at);
    }
    out.push(T::constant(bound));
    out
}

/// Knot derivatives: 1 at both ends, floor + (1 − floor) softplus(l)/ln 2 inside (1 at l = 0).
fn derivatives<T: SplineScalar>(logits: &[T]) -> Vec<T> {
    let mut d = vec![T::constant(1.0)];
    for &l in logits {
        d.push(
            l.softplus()
                .scale((1.0 - MIN_DERIVATIVE) / std::f64::consts::LN_2)
                + T::constant(MIN_DERIVATIVE),
        );
    }
    d.push(T::constant(1.0));
    d
}

/// The knots (x, y) and derivatives of a spline with `bins` from its 3K − 1 logits.
fn spline_knots<T: SplineScalar>(
    logits: &[T],
    bins: usize,
    bound: f64,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let xs = knots(&bin_sizes(&logits[..bins], MIN_WIDTH, bound), bound);
    let ys = knots(
        &bin_sizes(&logits[bins..2 * bins], MIN_HEIGHT, bound),
        bound,
    );
    (xs, ys, derivatives(&logits[2 * bins..]))
}

/// The bin of `x` (inside the bound).
fn bin_of<T: SplineScalar>(xs: &[T], x: f64) -> usize {
    let bins = xs.len() - 1;
    (0..bins)
        .find(|&k| x < xs[k + 1].value())
        .unwrap_or(bins - 1)
}

/// y and log dy/dx of the spline at x, identity outside [−B, B].
fn spline<T: SplineScalar>(x: T, logits: &[T], bins: usize, bound: f64) -> (T, T) {
    if x.value() <= -bound || x.value() >= bound {
        return (x, T::constant(0.0));
    }
    let (xs, ys, d) = spline_knots(logits, bins, bound);
    let k = bin_of(&xs, x.value());
    let (w, h) = (xs[k + 1] - xs[k], ys[k + 1] - ys[k]);
    let s = h / w;
    let xi = (x - xs[k]) / w;
    let one = T::constant(1.0);
    let t = xi * (one - xi);
    let den = s + (d[k + 1] + d[k] - s.scale(2.0)) * t;
    let y = ys[k] + h * (s * xi * xi + d[k] * t) / den;
    let slope = s * s * (d[k + 1] * xi * xi + s.scale(2.0) * t + d[k] * (one - xi) * (one - xi))
        / (den * den);
    (y, slope.ln())
}

/// x for y (inside the bound; identity outside), by the quadratic of the bin.
fn spline_inverse(y: f64, logits: &[f64], bins: usize, bound: f64) -> f64 {
    if y <= -bound || y >= bound {
        return y;
    }
    let (xs, ys, d) = spline_knots(logits, bins, bound);
    let k = bin_of(&ys, y);
    let (w, h) = (xs[k + 1] - xs[k], ys[k + 1] - ys[k]);
    let s = h / w;
    let delta = y - ys[k];
    let c2 = d[k + 1] + d[k] - 2.0 * s;
    let a = h * (s - d[k]) + delta * c2;
    let b = h * d[k] - delta * c2;
    let c = -s * delta;
    let disc = (b * b - 4.0 * a * c).max(0.0);
    let xi = (2.0 * c) / (-b - disc.sqrt());
    xs[k] + xi.clamp(0.0, 1.0) * w
}

#[derive(Debug, Clone)]
pub struct SplineCoupling {
    dim: usize,
    cond: Vec<usize>,
    trans: Vec<usize>,
    bins: usize,
    bound: f64,
    net: Mlp,
}

impl SplineCoupling {
    /// Over `dim ≥ 2` parameters; indices with `i % 2 == parity` condition; 2 ≤ bins ≤ 16.
    pub fn new(dim: usize, hidden: &[usize], parity: usize, bins: usize, bound: f64) -> Self {
        assert!(dim >= 2 && (2..=MAX_BINS).contains(&bins) && bound > 0.0);
        let (cond, trans): (Vec<usize>, Vec<usize>) = (0..dim).partition(|i| i % 2 == parity % 2);
        let net = Mlp::new(cond.len(), hidden, trans.len() * (3 * bins - 1));
        SplineCoupling {
            dim,
            cond,
            trans,
            bins,
            bound,
            net,
        }
    }

    fn per_dim(&self) -> usize {
        3 * self.bins - 1
    }

    fn logits(&self, theta: &[f64], z: ArrayView1<f64>, tape: &mut Tape) -> Vec<f64> {
        let x: Vec<f64> = self.cond.iter().map(|&i| z[i]).collect();
        self.net.forward(theta, &x, tape)
    }
}

impl Layer for SplineCoupling {
    fn kind(&self) -> &'static str {
        "spline_coupling"
    }

    fn n_params(&self) -> usize {
        self.net.n_params()
    }

    fn init(&self, theta: &mut [f64]) {
        self.net.init(theta);
    }

    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        let logits = self.logits(theta, z, &mut Tape::default());
        for &i in &self.cond {
            y[i] = z[i];
        }
        let m = self.per_dim();
        let mut log_det = 0.0;
        for (j, &i) in self.trans.iter().enumerate() {
            let (v, ld) = spline(z[i], &logits[j * m..(j + 1) * m], self.bins, self.bound);
            y[i] = v;
            log_det += ld;
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
        let logits = self.logits(theta, z, &mut tape);
        let m = self.per_dim();
        let mut logits_bar = vec![0.0; logits.len()];
        for (j, &i) in self.trans.iter().enumerate() {
            // Tangents: the m logits of this dimension, then the input.
            let seeded: Vec<Dual<f64, TANGENTS>> = (0..m)
                .map(|k| Dual::variable(logits[j * m + k], k))
                .collect();
            let x = Dual::variable(z[i], m);
            let (v, ld) = spline(x, &seeded, self.bins, self.bound);
            for k in 0..m {
                logits_bar[j * m + k] = y_bar[i] * v.d[k] + log_det_bar * ld.d[k];
            }
            z_bar[i] = y_bar[i] * v.d[m] + log_det_bar * ld.d[m];
        }
        let x_bar = self.net.backward(theta, &tape, &logits_bar, theta_bar);
        for (k, &i) in self.cond.iter().enumerate() {
            z_bar[i] = y_bar[i] + x_bar[k];
        }
    }

    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        let logits = self.logits(theta, y, &mut Tape::default());
        let m = self.per_dim();
        for &i in &self.cond {
            z[i] = y[i];
        }
        for (j, &i) in self.trans.iter().enumerate() {
            z[i] = spline_inverse(y[i], &logits[j * m..(j + 1) * m], self.bins, self.bound);
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
        super::coupling::coupling_push_score(self, &self.trans, theta, z, score, out);
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;
    use crate::inference::flows::check;

    fn layer_with_random_params(dim: usize, bins: usize) -> (SplineCoupling, Vec<f64>) {
        let layer = SplineCoupling::new(dim, &[8], 0, bins, 3.0);
        let mut theta = vec![0.0; layer.n_params()];
        layer.init(&mut theta);
        for (k, t) in theta.iter_mut().enumerate() {
            *t += 0.5 * ((k as f64) * 0.91 + 0.3).sin();
        }
        (layer, theta)
    }

    #[test]
    fn splines_pass_the_layer_checks_inside_the_bound() {
        for (dim, bins) in [(2, 4), (4, 8), (5, 16)] {
            let (layer, theta) = layer_with_random_params(dim, bins);
            let z = Array1::from_iter((0..dim).map(|i| (i as f64 * 1.7).sin() * 2.2));
            check::layer(&layer, &theta, &z);
        }
    }

    #[test]
    fn at_and_beyond_the_bound_the_spline_is_the_identity_and_finite() {
        let (layer, theta) = layer_with_random_params(4, 8);
        // All-tail rows: every transformed value at or beyond ±B, one far out.
        for z in [
            Array1::from(vec![0.2, 3.0, -0.4, -3.0]),
            Array1::from(vec![1.0, 7.5, 2.0, -1e6]),
        ] {
            let mut y = Array1::zeros(4);
            let log_det = layer.forward(&theta, z.view(), y.view_mut());
            assert_eq!(log_det, 0.0);
            for i in [1, 3] {
                assert_eq!(y[i], z[i]);
            }
            let mut z_bar = Array1::zeros(4);
            let mut theta_bar = vec![0.0; theta.len()];
            let y_bar = Array1::from(vec![0.3, -0.7, 1.1, 0.5]);
            layer.backward(
                &theta,
                z.view(),
                y_bar.view(),
                1.0,
                z_bar.view_mut(),
                &mut theta_bar,
            );
            assert!(z_bar.iter().chain(&theta_bar).all(|v| v.is_finite()));
            assert_eq!(z_bar[1], y_bar[1]);
            let mut back = Array1::zeros(4);
            layer.inverse(&theta, y.view(), back.view_mut());
            assert_eq!(back, z);
        }
        // Just inside the bound: finite, and the round trip holds.
        let z = Array1::from(vec![0.2, 3.0 - 1e-9, -0.4, -3.0 + 1e-9]);
        let mut y = Array1::zeros(4);
        assert!(layer.forward(&theta, z.view(), y.view_mut()).is_finite());
        let mut back = Array1::zeros(4);
        layer.inverse(&theta, y.view(), back.view_mut());
        assert!((&back - &z).iter().all(|d| d.abs() < 1e-10));
        // Near the bound (the finite differences staying inside: the log-determinant's slope
        // jumps at the bound, where the spline's curvature meets the identity's), the checks.
        let z = Array1::from(vec![0.2, 3.0 - 1e-4, -0.4, -3.0 + 1e-4]);
        check::layer(&layer, &theta, &z);
    }

    #[test]
    fn extreme_logits_stay_finite() {
        let logits: Vec<f64> = (0..23)
            .map(|k| if k % 2 == 0 { 80.0 } else { -80.0 })
            .collect();
        for x in [-2.999, -1.0, 0.0, 0.37, 2.999] {
            let (y, ld) = spline(x, &logits, 8, 3.0);
            assert!(y.is_finite() && ld.is_finite(), "x {x}: {y} {ld}");
            let back = spline_inverse(y, &logits, 8, 3.0);
            assert!((back - x).abs() < 1e-9, "x {x}: back {back}");
        }
    }

    #[test]
    fn a_fresh_spline_is_the_identity() {
        let layer = SplineCoupling::new(3, &[8, 8], 1, 8, 5.0);
        let mut theta = vec![0.0; layer.n_params()];
        layer.init(&mut theta);
        let z = Array1::from(vec![0.3, -2.0, 4.5]);
        let mut y = Array1::zeros(3);
        let log_det = layer.forward(&theta, z.view(), y.view_mut());
        assert!(log_det.abs() <= 1e-12, "{log_det}");
        for i in 0..3 {
            assert!((y[i] - z[i]).abs() <= 1e-12, "{i}: {} vs {}", y[i], z[i]);
        }
    }
}
