//! The kernelised Stein discrepancy of a particle set (Liu, Lee & Jordan 2016; Gorham & Mackey
//! 2017) with the inverse multiquadric kernel k(x, y) = (1 + ‖x − y‖²)^(−1/2), as the unbiased
//! U-statistic KSD² = Σ_{i≠j} u(x_i, x_j) / (n(n − 1)) of the Stein kernel
//!
//! ```text
//!   u(x, y) = s(x)ᵀ s(y) k + s(x)ᵀ ∇_y k + s(y)ᵀ ∇_x k + tr ∇_x ∇_y k,   s = ∇ log p,
//! ```
//!
//! which needs only the scores (the normalising constant drops out). Its expectation is 0 when
//! the particles are independent draws of p; it measures how far interacting particles (SVGD)
//! are from p, where R-hat does not apply.

use ndarray::ArrayView2;

/// Σ_{j ∈ ok, j ≠ i} u(x_i, x_j): particle i's row of the U-statistic, summed in `ok` order.
pub fn ksd_row(x: ArrayView2<f64>, score: ArrayView2<f64>, ok: &[usize], i: usize) -> f64 {
    let d = x.ncols() as f64;
    let (xi, si) = (x.row(i), score.row(i));
    let mut sum = 0.0;
    for &j in ok.iter().filter(|&&j| j != i) {
        let (xj, sj) = (x.row(j), score.row(j));
        let (mut r2, mut ss, mut si_r, mut sj_r) = (0.0, 0.0, 0.0, 0.0);
        for c in 0..xi.len() {
            let r = xi[c] - xj[c];
            r2 += r * r;
            ss += si[c] * sj[c];
            si_r += si[c] * r;
            sj_r += sj[c] * r;
        }
        // k = q^β with q = 1 + r², β = −½: ∇_x k = 2β q^(β−1) r = −∇_y k,
        // tr ∇_x∇_y k = −2β (d q^(β−1) + 2(β − 1) q^(β−2) r²).
        let q = 1.0 + r2;
        let k = q.powf(-0.5);
        let dk = -k / q; // 2β q^(β−1)
        let trace = k / q * (d - 3.0 * r2 / q); // −2β q^(β−1) (d − 3 r²/q)
        sum += ss * k - si_r * dk + sj_r * dk + trace;
    }
    sum
}

/// KSD² of the particles `ok` from their rows' sums (in any order of rows: they are added in
/// `ok` order); NaN with fewer than two particles.
pub fn ksd_squared(row_sums: impl Iterator<Item = f64>, n_ok: usize) -> f64 {
    if n_ok < 2 {
        return f64::NAN;
    }
    row_sums.sum::<f64>() / (n_ok * (n_ok - 1)) as f64
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    use super::*;
    use crate::core::parallel::rng::{Purpose, member_rng};

    /// The Stein kernel of a standard normal by finite differences of its definition,
    /// u(x, y) = Σ_c ∂²[p(x) k(x, y) p(y)]/∂x_c∂y_c / (p(x) p(y)).
    fn stein_kernel_by_differences(x: &Array1<f64>, y: &Array1<f64>) -> f64 {
        let g = |x: &Array1<f64>, y: &Array1<f64>| {
            let r2: f64 = x.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum();
            let log_p = |v: &Array1<f64>| -0.5 * v.dot(v);
            (log_p(x) + log_p(y)).exp() * (1.0 + r2).powf(-0.5)
        };
        let h = 1e-4;
        let mut sum = 0.0;
        for c in 0..x.len() {
            let shift = |v: &Array1<f64>, s: f64| {
                let mut w = v.clone();
                w[c] += s;
                w
            };
            sum += (g(&shift(x, h), &shift(y, h))
                - g(&shift(x, h), &shift(y, -h))
                - g(&shift(x, -h), &shift(y, h))
                + g(&shift(x, -h), &shift(y, -h)))
                / (4.0 * h * h);
        }
        sum / (-0.5 * x.dot(x) - 0.5 * y.dot(y)).exp()
    }

    #[test]
    fn the_stein_kernel_is_its_definition() {
        let x = Array2::from_shape_vec((2, 3), vec![0.3, -1.1, 0.8, 1.4, 0.2, -0.5]).unwrap();
        let score = x.mapv(|v| -v);
        let got = ksd_row(x.view(), score.view(), &[0, 1], 0);
        let want = stein_kernel_by_differences(&x.row(0).to_owned(), &x.row(1).to_owned());
        assert!(
            (got - want).abs() < 1e-6 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }

    #[test]
    fn draws_of_the_target_have_zero_expected_ksd_and_shifted_ones_do_not() {
        // 200 replicates of 50 standard normal draws in 4-D: the mean of the U-statistic is
        // within 4 standard errors of 0; draws shifted by 0.5 give a clearly positive KSD².
        let (n, d, reps) = (50, 4, 200);
        let ok: Vec<usize> = (0..n).collect();
        let mut values = Vec::new();
        let mut shifted = Vec::new();
        for rep in 0..reps {
            let mut rng = member_rng(7, Purpose::Proposal, rep as u64, 0);
            let x = Array2::from_shape_fn((n, d), |_| rng.sample::<f64, _>(StandardNormal));
            let score = x.mapv(|v| -v);
            values.push(ksd_squared(
                ok.iter().map(|&i| ksd_row(x.view(), score.view(), &ok, i)),
                n,
            ));
            let moved = x.mapv(|v| v + 0.5);
            let moved_score = moved.mapv(|v| -v);
            shifted.push(ksd_squared(
                ok.iter()
                    .map(|&i| ksd_row(moved.view(), moved_score.view(), &ok, i)),
                n,
            ));
        }
        let mean = values.iter().sum::<f64>() / reps as f64;
        let sd =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
        let se = sd / (reps as f64).sqrt();
        let shifted_mean = shifted.iter().sum::<f64>() / reps as f64;
        assert!(mean.abs() < 4.0 * se, "mean KSD² {mean} ± {se}");
        assert!(
            shifted_mean > 10.0 * se + mean,
            "shifted KSD² {shifted_mean} vs {mean} ± {se}"
        );
    }
}
