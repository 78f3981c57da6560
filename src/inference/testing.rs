//! Test support for the methods' unit tests: a posterior known in closed form and a bare run
//! loop (one process, no observers) that drives a method through the `Method` trait.

use ndarray::{Array1, Array2};

use crate::core::config::spec::{Marginals, PriorSpec};
use crate::core::parallel::{Par, SingleProcess};
use crate::inference::{Method, MethodOutput, RunContext};
use crate::physics::linear::LinearForward;
use crate::posterior::{GaussianLikelihood, Posterior, Prior};

/// Prior N(0, 1) on each of `dim` parameters and one datum y_j = m_j + e, σ = ½, per
/// parameter: posterior N(4y/5, 1/5) independently.
pub fn gaussian_posterior(y: &[f64]) -> Posterior {
    let dim = y.len();
    let prior = Prior::new(&PriorSpec {
        marginals: Marginals::Gaussian {
            mean: Array1::zeros(dim),
            std: Array1::ones(dim),
        },
        smoothing: None,
        smoothing_blocks: vec![vec![dim]],
    });
    let likelihood = GaussianLikelihood::new(Array1::from(y.to_vec()), Array1::from_elem(dim, 0.5));
    Posterior::new(
        prior,
        Some(likelihood),
        Box::new(LinearForward::new(Array2::eye(dim))),
    )
}

/// Runs `method` from `initial` for `iterations` on one process and returns its output.
pub fn run(
    method: &mut dyn Method,
    posterior: &Posterior,
    seed: u64,
    iterations: usize,
    initial: Array2<f64>,
) -> MethodOutput {
    let comm = SingleProcess;
    let mut ctx = RunContext::new(posterior, &comm, Par::Seq, seed, initial);
    method.init(&mut ctx).expect("init");
    for t in 0..iterations {
        ctx.set_iteration(t);
        method.step(&mut ctx).expect("step");
    }
    method.finish(&mut ctx).expect("finish");
    method.output()
}

/// Runs a fresh method from `make` for `cut` iterations, restores its checkpoint into another
/// fresh one and continues that to `iterations`: the method to compare with an uninterrupted
/// [`run`].
pub fn run_cut_and_resumed<M: Method>(
    make: impl Fn() -> M,
    posterior: &Posterior,
    seed: u64,
    iterations: usize,
    cut: usize,
    initial: Array2<f64>,
) -> M {
    let comm = SingleProcess;
    let mut ctx = RunContext::new(posterior, &comm, Par::Seq, seed, initial);
    let mut first = make();
    first.init(&mut ctx).expect("init");
    for t in 0..cut {
        ctx.set_iteration(t);
        first.step(&mut ctx).expect("step");
    }
    let mut second = make();
    second.restore(&first.checkpoint()).expect("restore");
    for t in cut..iterations {
        ctx.set_iteration(t);
        second.step(&mut ctx).expect("step");
    }
    second.finish(&mut ctx).expect("finish");
    second
}
