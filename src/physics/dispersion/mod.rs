//! Surface-wave dispersion in layered isotropic media: phase and group velocities of Love (and,
//! to come, Rayleigh) modes, with exact derivatives from dual numbers. Pure numerics: periods in
//! s, thickness in km, velocities in km/s, density in g/cm³; the last layer is the half-space.

pub mod dual;
pub mod love;
pub mod scalar;

#[cfg(test)]
mod tests;
