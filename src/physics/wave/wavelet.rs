//! Source wavelets.

/// The Ricker wavelet of peak frequency `f0` (Hz) delayed by `delay` (s), sampled at
/// t_n = n dt for n < nt: (1 − 2 π² f0² τ²) exp(−π² f0² τ²), τ = t − delay.
pub fn ricker(f0: f64, delay: f64, dt: f64, nt: usize) -> Vec<f64> {
    (0..nt)
        .map(|n| {
            let a = (std::f64::consts::PI * f0 * (n as f64 * dt - delay)).powi(2);
            (1.0 - 2.0 * a) * (-a).exp()
        })
        .collect()
}

/// The highest frequency a Ricker wavelet of peak `f0` carries for sampling purposes
/// (its amplitude spectrum there is 3 % of the peak).
pub fn ricker_max_frequency(f0: f64) -> f64 {
    2.5 * f0
}
