//! The likelihood of physical models, for methods that move in the physical space rather than
//! the prior's unconstrained one (RJ-McMC's projected Voronoi models): no transform, no prior
//! part, no gradient.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::Posterior;
use crate::core::parallel::Par;

/// The likelihood's values at one physical model ([`Posterior::fit_models`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFit {
    /// ln L (0 without a likelihood; −∞ where the forward model failed).
    pub log_likelihood: f64,
    /// Σ (d − d_obs)² / σ² (NaN without data).
    pub chi2: f64,
    pub failed: bool,
}

impl Posterior {
    /// The likelihood of physical models (rows of `m`), for methods that move in the physical
    /// space (RJ-McMC's projected Voronoi models): forward solves counted, no gradient.
    pub fn fit_models(&self, m: ArrayView2<f64>, par: Par) -> Vec<ModelFit> {
        self.count_solves(m.nrows(), false);
        let fit = |mi: ArrayView1<f64>| {
            if let Some(target) = &self.target {
                let mut unused = Array1::zeros(mi.len());
                let log_likelihood =
                    crate::posterior::problem::target_log_likelihood(target, mi, unused.view_mut());
                return ModelFit {
                    log_likelihood,
                    chi2: f64::NAN,
                    failed: !log_likelihood.is_finite(),
                };
            }
            let Some(likelihood) = &self.likelihood else {
                return ModelFit {
                    log_likelihood: 0.0,
                    chi2: f64::NAN,
                    failed: false,
                };
            };
            let mut d = Array1::zeros(self.forward.n_data());
            match self.forward.forward_into(mi, d.view_mut()) {
                Ok(()) => ModelFit {
                    log_likelihood: likelihood.log_likelihood(d.view()),
                    chi2: likelihood.chi2(d.view()),
                    failed: false,
                },
                Err(_) => ModelFit {
                    log_likelihood: f64::NEG_INFINITY,
                    chi2: f64::NAN,
                    failed: true,
                },
            }
        };
        match par {
            Par::Rayon => m.axis_iter(Axis(0)).into_par_iter().map(fit).collect(),
            Par::Seq => m.axis_iter(Axis(0)).map(fit).collect(),
        }
    }
}
