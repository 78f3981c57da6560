//! From a checked problem spec to its forward model, and the coordinates of its parameters.

use ndarray::Array1;

use crate::core::config::spec::{
    DispersionParameters, DispersionSpec, GeometrySpec, GridSpec, ProblemSpec, RhoRuleSpec,
    TravelTimeSpec, VelocityKindSpec, VpRuleSpec, WaveKind,
};
use crate::core::io::names::var;
use crate::physics::ForwardModel;
use crate::physics::dispersion::forward::{
    Curve, DispersionForward, Parameterization, RhoRule, VelocityKind, VpRule,
};
use crate::physics::dispersion::{LayeredModel, Wave};
use crate::physics::eikonal::{Mesh, SphericalTravelTime, TravelTime2d, TravelTime3d};
use crate::physics::linear::LinearForward;

fn mesh<const D: usize>(grid: &GridSpec) -> Mesh<D> {
    Mesh::new(
        std::array::from_fn(|a| grid.origin[a]),
        std::array::from_fn(|a| grid.spacing[a]),
        std::array::from_fn(|a| grid.shape[a]),
    )
}

fn stations<const D: usize>(t: &TravelTimeSpec) -> Vec<[f64; D]> {
    t.stations
        .iter()
        .map(|s| std::array::from_fn(|a| s.position[a]))
        .collect()
}

fn dispersion(d: &DispersionSpec) -> DispersionForward {
    let m = &d.model;
    let reference = LayeredModel::new(
        m.thickness.clone(),
        m.vp.clone(),
        m.vs.clone(),
        m.rho.clone(),
    )
    .expect("validated layers");
    let curves = d
        .curves
        .iter()
        .map(|c| Curve {
            wave: match c.wave {
                WaveKind::Rayleigh => Wave::Rayleigh,
                WaveKind::Love => Wave::Love,
            },
            velocity: match c.velocity {
                VelocityKindSpec::Phase => VelocityKind::Phase,
                VelocityKindSpec::Group => VelocityKind::Group,
            },
            mode: c.mode,
            periods: c.periods.clone(),
        })
        .collect();
    let parameterization = match d.parameters {
        DispersionParameters::All => Parameterization::All,
        DispersionParameters::Vs => Parameterization::Vs {
            vp: match d.vp {
                VpRuleSpec::Fixed => VpRule::Fixed,
                VpRuleSpec::Linear([a, b]) => VpRule::Linear { a, b },
                VpRuleSpec::Ratio(r) => VpRule::Ratio(r),
            },
            rho: match d.rho {
                RhoRuleSpec::Fixed => RhoRule::Fixed,
                RhoRuleSpec::PowerOfVp([a, b]) => RhoRule::PowerOfVp { a, b },
                RhoRuleSpec::RatioToVp(r) => RhoRule::RatioToVp(r),
            },
        },
    };
    DispersionForward::new(reference, curves, parameterization)
}

pub fn build_forward_model(spec: &ProblemSpec) -> Box<dyn ForwardModel> {
    match spec {
        ProblemSpec::Dispersion(d) => Box::new(dispersion(d)),
        ProblemSpec::Linear(l) => Box::new(LinearForward::new(l.matrix.clone())),
        ProblemSpec::TravelTime(t) => match (t.grid.dims(), t.geometry) {
            (2, GeometrySpec::Cartesian) => Box::new(TravelTime2d::new(
                mesh(&t.grid),
                t.forward_refine,
                &stations(t),
                &t.pairs,
            )),
            (3, GeometrySpec::Cartesian) => Box::new(TravelTime3d::new(
                mesh(&t.grid),
                t.forward_refine,
                &stations(t),
                &t.pairs,
            )),
            (2, GeometrySpec::Spherical { radius }) => Box::new(SphericalTravelTime::spherical(
                mesh(&t.grid),
                t.forward_refine,
                radius,
                &stations(t),
                &t.pairs,
            )),
            (dims, geometry) => {
                unreachable!("validation admits no {dims}-D {geometry:?} travel-time grid")
            }
        },
    }
}

/// Grid coordinates of every parameter of a grid problem (`param_x`, `param_y`[, `param_z`])
/// with their units; none for a linear one.
pub fn param_coordinates(spec: &ProblemSpec) -> Vec<(&'static str, Array1<f64>, &'static str)> {
    let ProblemSpec::TravelTime(t) = spec else {
        return Vec::new();
    };
    let g = &t.grid;
    let units: [&str; 3] = match t.geometry {
        GeometrySpec::Cartesian => ["km", "km", "km"],
        GeometrySpec::Spherical { .. } => ["degrees_east", "degrees_north", ""],
    };
    let names = [var::PARAM_X, var::PARAM_Y, var::PARAM_Z];
    (0..g.dims())
        .map(|a| {
            let stride: usize = g.shape[..a].iter().product();
            let values = Array1::from_iter(
                (0..g.n_nodes())
                    .map(|i| g.origin[a] + g.spacing[a] * ((i / stride) % g.shape[a]) as f64),
            );
            (names[a], values, units[a])
        })
        .collect()
}
