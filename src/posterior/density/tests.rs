//! Unit tests of `Posterior`: the parts of log p and its gradient, finite differences, batch
//! invariance and the solve counters.

use ndarray::{Array1, Array2, Axis, s};

use super::*;
use crate::core::config::spec::{Marginals, PriorSpec, SmoothingSpec};
use crate::physics::linear::LinearForward;

/// d = G m with a uniform prior on [1, 3]⁴ and second-order smoothing, so that the
/// transform's Jacobian, the smoothing and the likelihood all take part.
fn posterior() -> Posterior {
    let g = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin());
    let prior = Prior::new(&PriorSpec {
        marginals: Marginals::Uniform {
            lower: Array1::from_elem(4, 1.0),
            upper: Array1::from_elem(4, 3.0),
        },
        smoothing: Some(SmoothingSpec {
            order: 2,
            sigma: 0.5,
        }),
        smoothing_blocks: vec![vec![4]],
    });
    let likelihood = GaussianLikelihood::new(
        Array1::from_iter((0..5).map(|i| 0.3 * i as f64)),
        Array1::from_elem(5, 0.2),
    );
    Posterior::new(prior, Some(likelihood), Box::new(LinearForward::new(g)))
}

fn members(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, 4), |(i, j)| ((i * 7 + j) as f64 * 0.91).cos() * 1.5)
}

#[test]
fn log_prob_and_its_gradient_are_the_sums_of_their_parts() {
    let p = posterior();
    let e = p.evaluate_par(members(3).view(), true, Par::Seq);
    let (g, gp, gl) = (
        e.grad.unwrap(),
        e.grad_log_prior.unwrap(),
        e.grad_log_likelihood.unwrap(),
    );
    for i in 0..3 {
        assert_eq!(e.log_prob[i], e.log_prior[i] + e.log_likelihood[i]);
        for j in 0..4 {
            assert_eq!(g[[i, j]], gp[[i, j]] + gl[[i, j]]);
        }
    }
}

#[test]
fn each_part_of_the_gradient_matches_central_differences() {
    let p = posterior();
    let x = members(2);
    let e = p.evaluate_par(x.view(), true, Par::Seq);
    let eps = 1e-6;
    for i in 0..2 {
        for j in 0..4 {
            let mut plus = x.row(i).to_owned().insert_axis(Axis(0));
            let mut minus = plus.clone();
            plus[[0, j]] += eps;
            minus[[0, j]] -= eps;
            let ep = p.evaluate_par(plus.view(), false, Par::Seq);
            let em = p.evaluate_par(minus.view(), false, Par::Seq);
            let fd_prior = (ep.log_prior[0] - em.log_prior[0]) / (2.0 * eps);
            let fd_lik = (ep.log_likelihood[0] - em.log_likelihood[0]) / (2.0 * eps);
            let gp = e.grad_log_prior.as_ref().unwrap()[[i, j]];
            let gl = e.grad_log_likelihood.as_ref().unwrap()[[i, j]];
            assert!(
                (fd_prior - gp).abs() < 1e-6 * (1.0 + gp.abs()),
                "prior {i},{j}: {fd_prior} vs {gp}"
            );
            assert!(
                (fd_lik - gl).abs() < 1e-6 * (1.0 + gl.abs()),
                "likelihood {i},{j}: {fd_lik} vs {gl}"
            );
        }
    }
}

#[test]
fn a_member_has_the_same_bits_alone_and_in_any_block() {
    let p = posterior();
    let n = 9;
    let x = members(n);
    let whole = p.evaluate_par(x.view(), true, Par::Rayon);
    for block in [1, 7, n] {
        for start in (0..n).step_by(block) {
            let end = (start + block).min(n);
            let part = p.evaluate_par(x.slice(s![start..end, ..]), true, Par::Seq);
            for (r, i) in (start..end).enumerate() {
                assert_eq!(part.log_prob[r].to_bits(), whole.log_prob[i].to_bits());
                let (a, b) = (part.grad.as_ref().unwrap(), whole.grad.as_ref().unwrap());
                for j in 0..4 {
                    assert_eq!(a[[r, j]].to_bits(), b[[i, j]].to_bits());
                }
            }
        }
    }
}

#[test]
fn solves_are_counted_per_member() {
    let p = posterior();
    p.evaluate_par(members(3).view(), false, Par::Seq);
    p.evaluate_par(members(2).view(), true, Par::Seq);
    assert_eq!(p.solve_counts(), (5, 2));
    let prior_only = Posterior::new(
        Prior::new(&PriorSpec {
            marginals: Marginals::Gaussian {
                mean: Array1::zeros(4),
                std: Array1::ones(4),
            },
            smoothing: None,
            smoothing_blocks: vec![vec![4]],
        }),
        None,
        Box::new(LinearForward::new(Array2::zeros((1, 4)))),
    );
    prior_only.evaluate_par(members(3).view(), true, Par::Seq);
    assert_eq!(prior_only.solve_counts(), (0, 0));
}
