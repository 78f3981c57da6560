//! Gaussian likelihood with per-datum σ: ln L = −½ Σ ((d − d_obs)/σ)² − Σ ln σ − (N/2) ln 2π.

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

#[derive(Debug, Clone)]
pub struct GaussianLikelihood {
    observed: Array1<f64>,
    sigma: Array1<f64>,
    normalisation: f64,
}

impl GaussianLikelihood {
    pub fn new(observed: Array1<f64>, sigma: Array1<f64>) -> Self {
        assert_eq!(observed.len(), sigma.len());
        let n = observed.len() as f64;
        let normalisation = -sigma.iter().map(|s| s.ln()).sum::<f64>()
            - 0.5 * n * (2.0 * std::f64::consts::PI).ln();
        GaussianLikelihood {
            observed,
            sigma,
            normalisation,
        }
    }

    pub fn observed(&self) -> &Array1<f64> {
        &self.observed
    }

    pub fn sigma(&self) -> &Array1<f64> {
        &self.sigma
    }

    pub fn n_data(&self) -> usize {
        self.observed.len()
    }

    /// χ² = Σ ((d − d_obs)/σ)².
    pub fn chi2(&self, predicted: ArrayView1<f64>) -> f64 {
        let mut chi2 = 0.0;
        for i in 0..predicted.len() {
            let r = (predicted[i] - self.observed[i]) / self.sigma[i];
            chi2 += r * r;
        }
        chi2
    }

    /// Σ w_i ((d − d_obs)/σ)² over the data with w_i > 0 (the others may be unspecified).
    pub fn chi2_weighted(&self, predicted: ArrayView1<f64>, weights: ArrayView1<f64>) -> f64 {
        let mut chi2 = 0.0;
        for i in 0..predicted.len() {
            if weights[i] > 0.0 {
                let r = (predicted[i] - self.observed[i]) / self.sigma[i];
                chi2 += weights[i] * r * r;
            }
        }
        chi2
    }

    /// −w (d − d_obs)/σ², zero where w = 0, into `out`.
    pub fn gradient_weighted_into(
        &self,
        predicted: ArrayView1<f64>,
        weights: ArrayView1<f64>,
        mut out: ArrayViewMut1<f64>,
    ) {
        for i in 0..predicted.len() {
            out[i] = if weights[i] > 0.0 {
                -weights[i] * (predicted[i] - self.observed[i]) / (self.sigma[i] * self.sigma[i])
            } else {
                0.0
            };
        }
    }

    /// The normalisation −Σ ln σ − (N/2) ln 2π.
    pub fn normalisation(&self) -> f64 {
        self.normalisation
    }

    pub fn log_likelihood(&self, predicted: ArrayView1<f64>) -> f64 {
        -0.5 * self.chi2(predicted) + self.normalisation
    }

    /// ∂ ln L / ∂d = −(d − d_obs)/σ², into `out`.
    pub fn gradient_into(&self, predicted: ArrayView1<f64>, mut out: ArrayViewMut1<f64>) {
        for i in 0..predicted.len() {
            out[i] = -(predicted[i] - self.observed[i]) / (self.sigma[i] * self.sigma[i]);
        }
    }
}
