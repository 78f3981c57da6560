//! Bounded → unconstrained reparameterisation. A uniform prior on [a, b] is sampled through
//! m = a + (b − a) σ(x) (σ the logistic function), with log|dm/dx| = ln(b − a) + ln σ(x) +
//! ln(1 − σ(x)); unbounded parameters are sampled as they are.

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

#[derive(Debug, Clone)]
pub enum Transform {
    Identity,
    Logit {
        lower: Array1<f64>,
        width: Array1<f64>,
    },
}

/// ln σ(x) = −softplus(−x), evaluated without overflow.
fn log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Transform {
    pub fn logit(lower: Array1<f64>, upper: Array1<f64>) -> Self {
        let width = &upper - &lower;
        Transform::Logit { lower, width }
    }

    /// m = T(x) into `m`.
    pub fn to_physical_into(&self, x: ArrayView1<f64>, mut m: ArrayViewMut1<f64>) {
        match self {
            Transform::Identity => m.assign(&x),
            Transform::Logit { lower, width } => {
                for j in 0..x.len() {
                    m[j] = lower[j] + width[j] * sigmoid(x[j]);
                }
            }
        }
    }

    /// x = T⁻¹(m). `m` must lie strictly inside the bounds.
    pub fn to_unconstrained(&self, m: ArrayView1<f64>) -> Array1<f64> {
        match self {
            Transform::Identity => m.to_owned(),
            Transform::Logit { lower, width } => Array1::from_iter((0..m.len()).map(|j| {
                let u = (m[j] - lower[j]) / width[j];
                (u / (1.0 - u)).ln()
            })),
        }
    }

    /// log|det dm/dx|, with dm/dx and ∂ log|det| / ∂x written into the outputs.
    pub fn log_det_jacobian_into(
        &self,
        x: ArrayView1<f64>,
        mut dm_dx: ArrayViewMut1<f64>,
        mut grad_log_det: ArrayViewMut1<f64>,
    ) -> f64 {
        match self {
            Transform::Identity => {
                dm_dx.fill(1.0);
                grad_log_det.fill(0.0);
                0.0
            }
            Transform::Logit { width, .. } => {
                let mut total = 0.0;
                for j in 0..x.len() {
                    let s = sigmoid(x[j]);
                    total += width[j].ln() + log_sigmoid(x[j]) + log_sigmoid(-x[j]);
                    dm_dx[j] = width[j] * s * (1.0 - s);
                    grad_log_det[j] = 1.0 - 2.0 * s;
                }
                total
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn logit_round_trips_and_its_jacobian_matches_differences() {
        let t = Transform::logit(array![0.5, -1.0], array![3.0, 4.0]);
        let x = array![0.7, -2.3];
        let mut m = Array1::zeros(2);
        t.to_physical_into(x.view(), m.view_mut());
        let back = t.to_unconstrained(m.view());
        assert!((&back - &x).iter().all(|d| d.abs() < 1e-12));
        let (mut dm, mut gl) = (Array1::zeros(2), Array1::zeros(2));
        let ld = t.log_det_jacobian_into(x.view(), dm.view_mut(), gl.view_mut());
        let eps = 1e-6;
        for j in 0..2 {
            let mut xp = x.clone();
            xp[j] += eps;
            let mut xm = x.clone();
            xm[j] -= eps;
            let (mut mp, mut mm) = (Array1::zeros(2), Array1::zeros(2));
            t.to_physical_into(xp.view(), mp.view_mut());
            t.to_physical_into(xm.view(), mm.view_mut());
            assert!(((mp[j] - mm[j]) / (2.0 * eps) - dm[j]).abs() < 1e-8);
            let (mut d1, mut d2, mut g1, mut g2) = (
                Array1::zeros(2),
                Array1::zeros(2),
                Array1::zeros(2),
                Array1::zeros(2),
            );
            let lp = t.log_det_jacobian_into(xp.view(), d1.view_mut(), g1.view_mut());
            let lm = t.log_det_jacobian_into(xm.view(), d2.view_mut(), g2.view_mut());
            assert!(((lp - lm) / (2.0 * eps) - gl[j]).abs() < 1e-8);
        }
        assert!(ld.is_finite());
    }
}
