//! The dispersion kernel on the GPU (needs a device; skipped with the reason printed otherwise):
//! `gpu::dispersion::DispersionKernels::curves` against `physics::dispersion`'s phase_velocity,
//! group_velocity, phase_velocity_gradient and group_velocity_gradient on random physical
//! layered models (each with a low-velocity layer), Love and Rayleigh, periods 2–60 s, modes
//! 0–2. Same f64 algorithm as the CPU (tests/emulated_dispersion.rs shows the two agree to the
//! last bit when compiled on the host), here with the device's math library and compiler, so the
//! bounds are the GPU issue's: |Δc|, |ΔU| ≤ 1e-5 km/s and gradients ≤ 1e-5 relative to the
//! largest entry of their curve's gradient; mode existence must match, and a member's results
//! must be bit-identical alone and in a batch.
#![cfg(feature = "cuda")]

mod common;

use std::sync::Arc;

use common::dispersion_cases::*;
use geobayes::gpu::Gpu;
use geobayes::gpu::dispersion::{DispersionBatch, DispersionKernels, LOVE, RAYLEIGH, Want};
use geobayes::physics::dispersion::{
    LayeredModel, Wave, group_velocity, group_velocity_gradient, phase_velocity,
    phase_velocity_gradient,
};

fn kernels() -> Option<DispersionKernels> {
    match Gpu::open(None) {
        Ok(g) => {
            Some(DispersionKernels::compile(Arc::new(g)).expect("the dispersion kernels compile"))
        }
        Err(e) => {
            println!("skipped: {e}");
            None
        }
    }
}

/// The models as the kernel takes them (LayeredModel::rows, members one after another).
fn rows(models: &[LayeredModel]) -> Vec<f64> {
    models
        .iter()
        .flat_map(|m| {
            (0..m.n_layers()).flat_map(move |i| [m.thickness[i], m.vp[i], m.vs[i], m.rho[i]])
        })
        .collect()
}

fn device_queries(queries: &[(Wave, f64, usize)]) -> Vec<(u8, f64, u32)> {
    queries
        .iter()
        .map(|&(wave, period, mode)| {
            let w = match wave {
                Wave::Love => LOVE,
                Wave::Rayleigh => RAYLEIGH,
            };
            (w, period, mode as u32)
        })
        .collect()
}

const ALL: Want = Want {
    group: true,
    phase_gradient: true,
    group_gradient: true,
};

#[test]
fn dispersion_kernel_matches_the_cpu_on_the_gpu() {
    let Some(k) = kernels() else {
        return;
    };
    let models = random_models(16, 5, 29);
    let queries = queries();
    let layers = models[0].n_layers();
    let b = k
        .curves(&rows(&models), layers, &device_queries(&queries), ALL)
        .unwrap();
    // U from dispersion_group_gradient, compared with the CPU's group_velocity_gradient.
    let u_of_gradient = k
        .curves(
            &rows(&models),
            layers,
            &device_queries(&queries),
            Want {
                group_gradient: true,
                ..Want::default()
            },
        )
        .unwrap()
        .group;
    let (mut max_c, mut max_u, mut max_dc, mut max_du) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut existing, mut missing) = (0, 0);
    for (m, model) in models.iter().enumerate() {
        for (q, &(wave, period, mode)) in queries.iter().enumerate() {
            let at = b.at(m, q);
            let what = format!("member {m}, {wave:?} T = {period} s, mode {mode}");
            let Some(c) = phase_velocity(model, wave, period, mode) else {
                assert!(
                    b.phase[at].is_nan(),
                    "{what}: GPU found c = {}",
                    b.phase[at]
                );
                assert!(b.group[at].is_nan(), "{what}");
                assert!(
                    b.gradient_of(&b.phase_gradient, m, q)
                        .iter()
                        .all(|v| v.is_nan())
                );
                assert!(
                    b.gradient_of(&b.group_gradient, m, q)
                        .iter()
                        .all(|v| v.is_nan())
                );
                missing += 1;
                continue;
            };
            existing += 1;
            max_c = max_c.max((b.phase[at] - c).abs());
            let u = group_velocity(model, wave, period, mode).unwrap();
            max_u = max_u.max((b.group[at] - u).abs());
            let (_, dc) = phase_velocity_gradient(model, wave, period, mode).unwrap();
            max_dc = max_dc.max(relative_error(
                b.gradient_of(&b.phase_gradient, m, q),
                &flat(&dc),
            ));
            let (u2, du) = group_velocity_gradient(model, wave, period, mode).unwrap();
            max_u = max_u.max((u_of_gradient[at] - u2).abs());
            max_du = max_du.max(relative_error(
                b.gradient_of(&b.group_gradient, m, q),
                &flat(&du),
            ));
            assert!(
                max_c <= 1e-5 && max_u <= 1e-5 && max_dc <= 1e-5 && max_du <= 1e-5,
                "{what}: c {} vs {c}, U {} vs {u}; max errors so far c {max_c:e}, U {max_u:e}, ∂c {max_dc:e}, ∂U {max_du:e}",
                b.phase[at],
                b.group[at]
            );
        }
    }
    println!(
        "{existing} curves ({missing} missing modes): max |Δc| {max_c:e} km/s, max |ΔU| {max_u:e} km/s, max relative Δ∂c {max_dc:e}, Δ∂U {max_du:e}"
    );
    assert!(existing >= 200, "only {existing} modes exist");
    assert!(missing >= 1, "no missing mode was checked");
}

#[test]
fn dispersion_batch_invariance_on_the_gpu() {
    let Some(k) = kernels() else {
        return;
    };
    let models = random_models(40, 4, 41);
    let queries = device_queries(&queries());
    let layers = models[0].n_layers();
    let batched = k.curves(&rows(&models), layers, &queries, ALL).unwrap();
    let same = |a: &[f64], b: &[f64]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    };
    for m in [0, 17, 39] {
        let alone: DispersionBatch = k
            .curves(&rows(&models[m..m + 1]), layers, &queries, ALL)
            .unwrap();
        let nq = queries.len();
        let values = m * nq..(m + 1) * nq;
        let g = 4 * layers * nq;
        let gradients = m * g..(m + 1) * g;
        assert!(
            same(&alone.phase, &batched.phase[values.clone()]),
            "member {m}: c"
        );
        assert!(same(&alone.group, &batched.group[values]), "member {m}: U");
        assert!(
            same(
                &alone.phase_gradient,
                &batched.phase_gradient[gradients.clone()]
            ),
            "member {m}: ∂c"
        );
        assert!(
            same(&alone.group_gradient, &batched.group_gradient[gradients]),
            "member {m}: ∂U"
        );
    }
}
