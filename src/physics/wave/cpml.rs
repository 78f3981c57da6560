//! Convolutional PML (Komatitsch & Martin 2007, in the second-order form of Pasalic & McGarry
//! 2010) with κ = 1: inside the layer of axis d each ∂_d becomes ∂_d + ψ_d and ∂_dd becomes
//! ∂_dd + ∂_d ψ_d + ζ_d, where the memory variables follow the recursions
//!
//! ```text
//!   ψ_d ← b ψ_d + a ∂_d u,        ζ_d ← b ζ_d + a (∂_dd u + ∂_d ψ_d),
//!   b = exp(−(d + α) dt),         a = d (b − 1) / (d + α),
//! ```
//!
//! with damping d(x) = d₀ x² and frequency shift α(x) = π f₀ (1 − x) at normalised depth x ∈ (0, 1]
//! into the layer, d₀ = −3 v_ref ln R / (2 L) for a layer of width L and a target reflection
//! coefficient R (10⁻³ at 10 points, one decade more for every 5 points more). `v_ref` is a fixed
//! velocity (the largest the prior allows), so the layer does not depend on the model.

use super::float::WaveFloat;
use super::grid::WaveGrid;

/// The recursion coefficients along each axis, indexed by storage coordinate (halo included;
/// empty for inactive axes; a = 0 and b = 1 outside the layer).
#[derive(Debug, Clone)]
pub struct Cpml<T> {
    pub a: [Vec<T>; 3],
    pub b: [Vec<T>; 3],
}

/// The reflection coefficient targeted by a layer of `npml` points.
pub fn target_reflection(npml: usize) -> f64 {
    10f64.powf(-(1.0 + npml as f64 / 5.0))
}

impl<T: WaveFloat> Cpml<T> {
    pub fn new(grid: &WaveGrid, dt: f64, v_ref: f64, f0: f64) -> Self {
        let n = grid.shape();
        let width = grid.npml as f64 * grid.spacing;
        let d0 = -3.0 * v_ref * target_reflection(grid.npml).ln() / (2.0 * width);
        let alpha_max = std::f64::consts::PI * f0;
        let mut a: [Vec<T>; 3] = Default::default();
        let mut b: [Vec<T>; 3] = Default::default();
        for d in grid.axes() {
            let halo = grid.halo(d);
            for stored in 0..n[d] + 2 * halo {
                if stored < halo || stored >= n[d] + halo {
                    a[d].push(T::ZERO);
                    b[d].push(T::from_f64(1.0));
                    continue;
                }
                let j = stored - halo;
                let depth = if j < grid.npml {
                    (grid.npml - j) as f64
                } else if j + grid.npml >= n[d] {
                    (j + grid.npml + 1 - n[d]) as f64
                } else {
                    0.0
                };
                let x = depth / grid.npml.max(1) as f64;
                let (aj, bj) = if x > 0.0 {
                    let damping = d0 * x * x;
                    let alpha = alpha_max * (1.0 - x);
                    let bj = (-(damping + alpha) * dt).exp();
                    (damping * (bj - 1.0) / (damping + alpha), bj)
                } else {
                    (0.0, 1.0)
                };
                a[d].push(T::from_f64(aj));
                b[d].push(T::from_f64(bj));
            }
        }
        Self { a, b }
    }
}
