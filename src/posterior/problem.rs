//! From a checked problem spec to its forward model, and the grid coordinates of its parameters.

use ndarray::Array1;

use crate::core::config::spec::ProblemSpec;
use crate::core::io::names::var;
use crate::physics::ForwardModel;
use crate::physics::eikonal::{Mesh, TravelTime2d};
use crate::physics::linear::LinearForward;

pub fn build_forward_model(spec: &ProblemSpec) -> Box<dyn ForwardModel> {
    match spec {
        ProblemSpec::Linear(l) => Box::new(LinearForward::new(l.matrix.clone())),
        ProblemSpec::TravelTime2d(t) => {
            let grid = Mesh::new(t.grid.origin, t.grid.spacing, t.grid.shape);
            let stations: Vec<[f64; 2]> = t.stations.iter().map(|s| s.position).collect();
            Box::new(TravelTime2d::new(
                grid,
                t.forward_refine,
                &stations,
                &t.pairs,
            ))
        }
    }
}

/// `param_x`, `param_y` (km) of every parameter of a grid problem; none for a linear one.
pub fn param_coordinates(spec: &ProblemSpec) -> Vec<(&'static str, Array1<f64>)> {
    match spec {
        ProblemSpec::Linear(_) => Vec::new(),
        ProblemSpec::TravelTime2d(t) => {
            let mesh = Mesh::new(t.grid.origin, t.grid.spacing, t.grid.shape);
            let pos: Vec<[f64; 2]> = (0..mesh.n_nodes()).map(|i| mesh.position(i)).collect();
            vec![
                (var::PARAM_X, pos.iter().map(|p| p[0]).collect()),
                (var::PARAM_Y, pos.iter().map(|p| p[1]).collect()),
            ]
        }
    }
}
