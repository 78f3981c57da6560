//! Surface-wave dispersion in layered isotropic media: phase and group velocities of Love and
//! Rayleigh modes, with exact derivatives from dual numbers. Pure numerics: periods in s,
//! thickness in km, velocities in km/s, density in g/cm³; the last layer is the half-space.
//!
//! - `model`: the layered medium and its checks;
//! - `love`, `rayleigh`: the secular functions and how each wave brackets mode n;
//! - `curves`: phase and group velocities and their gradients, for either wave;
//! - `forward`: the forward model (free parameters → curves), `forward_device` its GPU batch;
//! - `dual`, `scalar`: the number types the secular functions are written over.

pub mod curves;
pub mod dual;
pub mod forward;
#[cfg(feature = "cuda")]
mod forward_device;
pub mod love;
pub mod model;
pub mod rayleigh;
pub mod scalar;

pub use curves::{
    Wave, group_velocity, group_velocity_gradient, phase_velocity, phase_velocity_gradient,
};
pub use model::{LayerSensitivity, LayeredModel};

#[cfg(test)]
mod tests;
