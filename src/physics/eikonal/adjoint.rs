//! The exact adjoint of `fmm`: the fast-marching solution is a sequence of local solves
//! τ_i = f_i(accepted τ's, s_i) in acceptance order (rules frozen as recorded), so its Jacobian
//! is triangular in that order and the transposed solve runs in reverse acceptance order. With
//! D'_k = A_k τ_i − B_k, B_k = Σ_n w_kn τ_n and Q = Σ_k D'_k A_k, implicit differentiation of
//! Σ_k D'_k² = s_i² gives
//!
//! ```text
//!   ∂τ_i/∂τ_n = Σ_k D'_k w_kn / Q,        ∂τ_i/∂s_i = s_i / Q,
//! ```
//!
//! and the initial box contributes τ_i = (s_src + s_i)/2.

use super::fmm::{FmmWorkspace, INITIAL, PointSource, axis_term};
use super::geometry::Geometry;

/// Back-propagates `tau_bar` (∂L/∂τ at every node; consumed) through the last solve held by
/// `ws`. Adds ∂L/∂s to `grad_slowness` and returns ∂L/∂s_src (the source's slowness).
pub fn adjoint_into<const D: usize, G: Geometry<D>>(
    geo: &G,
    slowness: &[f64],
    source: &PointSource<D>,
    ws: &FmmWorkspace<D>,
    tau_bar: &mut [f64],
    grad_slowness: &mut [f64],
) -> f64 {
    let mesh = geo.mesh();
    let strides = mesh.strides();
    let frame = geo.frame(source.position);
    let tau = &ws.tau;
    let mut grad_source = 0.0;
    for &node in ws.accepted.iter().rev() {
        let i = node as usize;
        let lambda = tau_bar[i];
        if lambda == 0.0 {
            continue;
        }
        let rules = ws.rules[i];
        if rules[0] == INITIAL {
            grad_slowness[i] += 0.5 * lambda;
            grad_source += 0.5 * lambda;
            continue;
        }
        let c = mesh.coords(i);
        let (t0, g) = geo.node_factor(&c, &frame);
        let terms: [_; D] =
            std::array::from_fn(|k| axis_term(geo, &strides, &c, i, k, rules[k], t0, &g));
        let d_prime: [f64; D] = std::array::from_fn(|k| terms[k].a * tau[i] - terms[k].b(tau));
        let q: f64 = (0..D).map(|k| d_prime[k] * terms[k].a).sum();
        grad_slowness[i] += lambda * slowness[i] / q;
        for k in 0..D {
            let scale = lambda * d_prime[k] / q;
            for &(n, w) in &terms[k].deps[..terms[k].n_deps] {
                tau_bar[n] += scale * w;
            }
        }
    }
    grad_source
}
