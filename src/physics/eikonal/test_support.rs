//! Shared test helpers: smooth random models, station pairs, and the gradient check (central
//! differences and Taylor test) of the travel-time misfit used by every geometry's tests.

use ndarray::Array1;

use crate::physics::ForwardModel;

/// All station pairs i < j, i the outer loop.
pub(crate) fn all_pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect()
}

/// ½ Σ ((T − d)/σ)² and its gradient by the discrete adjoint, against central differences, on
/// three smooth models; and the Taylor remainder's second-order decay.
pub(crate) fn check_misfit_gradient(
    model: &dyn ForwardModel,
    models: &[Array1<f64>],
    d_obs: &Array1<f64>,
    eps: f64,
) {
    let sigma = 0.05;
    let misfit = |m: &Array1<f64>| {
        let mut d = Array1::zeros(model.n_data());
        model.forward_into(m.view(), d.view_mut()).unwrap();
        0.5 * d
            .iter()
            .zip(d_obs)
            .map(|(a, b)| ((a - b) / sigma).powi(2))
            .sum::<f64>()
    };
    let gradient = |m: &Array1<f64>| {
        let lin = model.linearize(m.view()).unwrap();
        let cot = (&lin.data() - d_obs) / (sigma * sigma);
        let mut g = Array1::zeros(model.n_params());
        lin.vjp_into(cot.view(), g.view_mut());
        g
    };
    for (k, m) in models.iter().enumerate() {
        let g = gradient(m);
        let g_fd = Array1::from_iter((0..m.len()).map(|j| {
            let (mut mp, mut mm) = (m.clone(), m.clone());
            mp[j] += eps;
            mm[j] -= eps;
            (misfit(&mp) - misfit(&mm)) / (2.0 * eps)
        }));
        let rel = (&g - &g_fd).mapv(|x| x * x).sum().sqrt() / g_fd.mapv(|x| x * x).sum().sqrt();
        println!(
            "model {k}: misfit {:.4e}, ‖g − g_fd‖/‖g_fd‖ = {rel:.2e}",
            misfit(m)
        );
        assert!(rel < 1e-6, "model {k}: relative gradient error {rel:e}");
    }
    let m = &models[0];
    let direction = models[1].mapv(|v| v.sin());
    let (f0, slope) = (misfit(m), gradient(m).dot(&direction));
    let mut previous: Option<f64> = None;
    for k in 0..5 {
        let e = 1e-2 / 2f64.powi(k);
        let remainder = (misfit(&(m + &(e * &direction))) - f0 - e * slope).abs();
        if let Some(p) = previous {
            println!("ε = {e:.2e}: remainder ratio {:.3}", p / remainder);
            assert!(
                (p / remainder - 4.0).abs() < 0.4,
                "Taylor ratio {} at ε = {e}",
                p / remainder
            );
        }
        previous = Some(remainder);
    }
}

pub(crate) fn bumps(positions: &[Vec<f64>], seed: u64, base: f64, scale: &[f64]) -> Array1<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let dims = scale.len();
    let centres: Vec<(Vec<f64>, f64, f64)> = (0..4)
        .map(|_| {
            (
                (0..dims).map(|a| uniform() * scale[a]).collect(),
                0.5 + uniform(),
                (uniform() - 0.5) * 0.6,
            )
        })
        .collect();
    Array1::from_iter(positions.iter().map(|p| {
        base + centres
            .iter()
            .map(|(c, w, a)| {
                a * (-(0..dims)
                    .map(|d| ((p[d] - c[d]) / scale[d] * 4.0).powi(2))
                    .sum::<f64>()
                    / (w * w))
                    .exp()
            })
            .sum::<f64>()
    }))
}
