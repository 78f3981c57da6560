//! Markov chain Monte Carlo samplers.

pub mod mh;
