//! Variational and particle methods.

pub mod svgd;
