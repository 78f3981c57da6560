//! Central finite-difference stencils of order 2, 4 and 8, the leapfrog stability limit and
//! the sampling rule (points per shortest wavelength) that each order needs: the table that the
//! wave physics computes with and the config checks refuse bad set-ups with.

use std::fmt;

/// The spatial order of the Laplacian (and of the first derivatives in the CPML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceOrder {
    Two,
    Four,
    Eight,
}

impl SpaceOrder {
    pub fn from_order(order: usize) -> Option<Self> {
        match order {
            2 => Some(Self::Two),
            4 => Some(Self::Four),
            8 => Some(Self::Eight),
            _ => None,
        }
    }

    pub fn order(self) -> usize {
        match self {
            Self::Two => 2,
            Self::Four => 4,
            Self::Eight => 8,
        }
    }

    /// The stencil's half-width r (points on each side).
    pub fn radius(self) -> usize {
        self.order() / 2
    }

    /// Second-derivative weights [c0, c1, …, c_r]: u'' ≈ (c0 u_i + Σ c_k (u_{i+k} + u_{i−k})) / h².
    pub fn second_derivative(self) -> &'static [f64] {
        match self {
            Self::Two => &[-2.0, 1.0],
            Self::Four => &[-5.0 / 2.0, 4.0 / 3.0, -1.0 / 12.0],
            Self::Eight => &[
                -205.0 / 72.0,
                8.0 / 5.0,
                -1.0 / 5.0,
                8.0 / 315.0,
                -1.0 / 560.0,
            ],
        }
    }

    /// First-derivative weights [d1, …, d_r]: u' ≈ Σ d_k (u_{i+k} − u_{i−k}) / h.
    pub fn first_derivative(self) -> &'static [f64] {
        match self {
            Self::Two => &[1.0 / 2.0],
            Self::Four => &[2.0 / 3.0, -1.0 / 12.0],
            Self::Eight => &[4.0 / 5.0, -1.0 / 5.0, 4.0 / 105.0, -1.0 / 280.0],
        }
    }

    /// The minimum number of grid points per shortest wavelength (at f_max) for this order.
    pub fn min_points_per_wavelength(self) -> f64 {
        match self {
            Self::Two => 10.0,
            Self::Four => 5.0,
            Self::Eight => 3.0,
        }
    }

    /// The largest eigenvalue of −h² Δ per axis: the symbol of the stencil at the Nyquist
    /// wavenumber, −(c0 + 2 Σ c_k (−1)^k).
    pub fn nyquist_symbol(self) -> f64 {
        let c = self.second_derivative();
        let alternating: f64 = c[1..]
            .iter()
            .enumerate()
            .map(|(k, ck)| if k % 2 == 0 { -ck } else { *ck })
            .sum();
        -(c[0] + 2.0 * alternating)
    }

    /// The largest stable leapfrog time step for velocity `v_max` on a grid of spacing `h` in
    /// `ndim` dimensions: dt² v² λ_max(−Δ_h) ≤ 4, i.e. dt ≤ 2 h / (v √(ndim · symbol)).
    pub fn max_time_step(self, h: f64, v_max: f64, ndim: usize) -> f64 {
        2.0 * h / (v_max * (ndim as f64 * self.nyquist_symbol()).sqrt())
    }
}

impl fmt::Display for SpaceOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.order())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each stencil is exact on polynomials up to its order: u = x^p, p ≤ order + 1 for the
    /// second derivative (symmetric stencils gain one), p ≤ order for the first.
    #[test]
    fn stencils_are_exact_on_polynomials_of_their_order() {
        for order in [SpaceOrder::Two, SpaceOrder::Four, SpaceOrder::Eight] {
            let (c2, c1) = (order.second_derivative(), order.first_derivative());
            let x0 = 0.3f64;
            for p in 0..=order.order() + 1 {
                let u = |x: f64| x.powi(p as i32);
                let second = c2[0] * u(x0)
                    + (1..c2.len())
                        .map(|k| c2[k] * (u(x0 + k as f64) + u(x0 - k as f64)))
                        .sum::<f64>();
                let exact2 = if p >= 2 {
                    (p * (p - 1)) as f64 * x0.powi(p as i32 - 2)
                } else {
                    0.0
                };
                assert!(
                    (second - exact2).abs() < 1e-9 * (1.0 + exact2.abs()),
                    "{order} p={p}"
                );
                if p <= order.order() {
                    let first: f64 = (0..c1.len())
                        .map(|k| c1[k] * (u(x0 + (k + 1) as f64) - u(x0 - (k + 1) as f64)))
                        .sum();
                    let exact1 = if p >= 1 {
                        p as f64 * x0.powi(p as i32 - 1)
                    } else {
                        0.0
                    };
                    assert!(
                        (first - exact1).abs() < 1e-9 * (1.0 + exact1.abs()),
                        "{order} p={p}"
                    );
                }
            }
        }
    }

    /// The Nyquist symbol equals the maximum of the stencil's symbol over all wavenumbers.
    #[test]
    fn nyquist_symbol_is_the_largest_eigenvalue() {
        for order in [SpaceOrder::Two, SpaceOrder::Four, SpaceOrder::Eight] {
            let c = order.second_derivative();
            let max = (0..=1000)
                .map(|j| {
                    let theta = std::f64::consts::PI * j as f64 / 1000.0;
                    -(c[0]
                        + 2.0
                            * (1..c.len())
                                .map(|k| c[k] * (k as f64 * theta).cos())
                                .sum::<f64>())
                })
                .fold(f64::NEG_INFINITY, f64::max);
            assert!((max - order.nyquist_symbol()).abs() < 1e-12, "{order}");
        }
        assert_eq!(SpaceOrder::Two.nyquist_symbol(), 4.0);
    }
}
