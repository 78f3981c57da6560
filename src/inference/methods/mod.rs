//! The methods, one folder each, and the registry: the only list of methods. Adding a method
//! is its folder (config, check, build, step, tests) and one line here.

crate::method_registry! {
    /// Stein variational gradient descent.
    "svgd" => Svgd(svgd),
    /// Adaptive random-walk Metropolis–Hastings.
    "mh" => Mh(mh),
    /// Stochastic SVGD: SVGD's flow with the kernel's noise, a sampler (optionally
    /// Metropolis-adjusted).
    "ssvgd" => Ssvgd(ssvgd),
    /// Parallel tempering: non-reversible swaps on an adaptive ladder of MH chains.
    "pt" => Pt(pt),
    /// Reversible-jump McMC on Voronoi cells of the parameter grid.
    "rjmcmc" => Rjmcmc(rjmcmc),
    /// Variational inference with a flow (ADVI, PSVI, normalizing flows).
    "vi" => Vi(vi),
    /// Boosting variational inference: a mixture of flows, one component at a time.
    "boosting_vi" => BoostingVi(boosting_vi),
}
