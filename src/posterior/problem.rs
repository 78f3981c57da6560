//! From a checked problem spec to its forward model, and the coordinates of its parameters.

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

use crate::core::config::spec::{
    DispersionParameters, DispersionSpec, FwiSpec, GeometrySpec, GridSpec, ProblemSpec,
    RhoRuleSpec, TargetSpec, TravelTimeSpec, VelocityKindSpec, VpRuleSpec, WaveKind, WaveletSpec,
};
use crate::core::io::names::var;
use crate::core::stencil::SpaceOrder;
use crate::physics::ForwardModel;
use crate::physics::dispersion::forward::{
    Curve, DispersionForward, Parameterization, RhoRule, VelocityKind, VpRule,
};
use crate::physics::dispersion::{LayeredModel, Wave};
use crate::physics::eikonal::{Mesh, SphericalTravelTime, TravelTime2d, TravelTime3d};
use crate::physics::linear::LinearForward;
use crate::physics::wave::WaveGrid;
use crate::physics::wave::fwi::{FwiForward, FwiSetup};
use crate::physics::wave::wavelet::ricker;

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

/// The wave physics' set-up of a checked FWI problem: grid axes (x[, y], z) become (z, y, x)
/// with positions relative to the first model point; the fixed top rows keep their velocity.
fn fwi(f: &FwiSpec) -> FwiForward {
    let dims = f.grid.dims();
    let shape = &f.grid.shape;
    let (nx, nz) = (shape[0], shape[dims - 1]);
    let ny = if dims == 3 { shape[1] } else { 1 };
    let h = f.grid.spacing[0];
    let grid = WaveGrid::new(dims, [nz, ny, nx], h, f.cpml);
    let to_zyx = |p: &Vec<f64>| -> [f64; 3] {
        let rel = |a: usize| p[a] - f.grid.origin[a];
        if dims == 3 {
            [rel(2), rel(1), rel(0)]
        } else {
            [rel(1), 0.0, rel(0)]
        }
    };
    let nt = f.steps + 1;
    let wavelet = match &f.wavelet {
        WaveletSpec::Ricker(f0) => ricker(*f0, 1.0 / f0, f.dt, nt),
        WaveletSpec::Samples(s) => s.clone(),
    };
    let row = nx * ny;
    let base_velocity = vec![f.fixed_velocity; grid.n_model()];
    let free = (f.fixed_rows * row..grid.n_model()).collect();
    FwiForward::new(FwiSetup {
        grid,
        order: SpaceOrder::from_order(f.order).expect("validated order"),
        dt: f.dt,
        nt,
        wavelet,
        f0: f.peak_frequency,
        v_max: f.v_max,
        sources: f.sources.iter().map(to_zyx).collect(),
        receivers: f.receivers.iter().map(to_zyx).collect(),
        base_velocity,
        free,
    })
}

/// A Cartesian travel-time model, on `device` when it has the travel-time kernels.
fn cartesian_on<const D: usize>(
    forward: crate::physics::eikonal::traveltime::TravelTime<
        D,
        crate::physics::eikonal::Cartesian<D>,
    >,
    device: Option<&std::sync::Arc<crate::gpu::Device>>,
) -> Box<dyn ForwardModel> {
    #[cfg(feature = "cuda")]
    if let Some(kernels) = device.and_then(|d| d.traveltime.clone()) {
        return Box::new(forward.with_gpu(kernels));
    }
    #[cfg(not(feature = "cuda"))]
    let _ = device;
    Box::new(forward)
}

/// The forward model of a checked problem; with a `device`, the physics whose kernels it has
/// compiled run on it (FWI shots, dispersion curves, Cartesian travel times), the others on
/// the CPU.
pub fn build_forward_model(
    spec: &ProblemSpec,
    device: Option<&std::sync::Arc<crate::gpu::Device>>,
) -> Box<dyn ForwardModel> {
    #[cfg(not(feature = "cuda"))]
    let _ = device;
    match spec {
        ProblemSpec::Fwi(f) => {
            let forward = fwi(f);
            #[cfg(feature = "cuda")]
            if let Some(kernels) = device.and_then(|d| d.wave.clone()) {
                return Box::new(forward.with_gpu(kernels));
            }
            Box::new(forward)
        }
        ProblemSpec::Dispersion(d) => {
            let forward = dispersion(d);
            #[cfg(feature = "cuda")]
            if let Some(kernels) = device.and_then(|d| d.dispersion.clone()) {
                return Box::new(forward.with_gpu(kernels));
            }
            Box::new(forward)
        }
        ProblemSpec::Linear(l) => Box::new(LinearForward::new(l.matrix.clone())),
        ProblemSpec::Analytic(a) => Box::new(crate::physics::analytic::NoData::new(
            a.shape.iter().product(),
        )),
        ProblemSpec::TravelTime(t) => match (t.grid.dims(), t.geometry) {
            (2, GeometrySpec::Cartesian) => cartesian_on(
                TravelTime2d::new(mesh(&t.grid), t.forward_refine, &stations(t), &t.pairs),
                device,
            ),
            (3, GeometrySpec::Cartesian) => cartesian_on(
                TravelTime3d::new(mesh(&t.grid), t.forward_refine, &stations(t), &t.pairs),
                device,
            ),
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

/// log L(m) of an analytic target, its gradient w.r.t. m into `grad`.
pub fn target_log_likelihood(
    target: &TargetSpec,
    m: ArrayView1<f64>,
    grad: ArrayViewMut1<f64>,
) -> f64 {
    use crate::physics::analytic as a;
    match target {
        TargetSpec::Gaussian {
            mean,
            std,
            rho,
            normalised,
        } => a::gaussian_ar1(m, mean.view(), std.view(), *rho, *normalised, grad),
        TargetSpec::Mixture {
            weights,
            means,
            stds,
        } => a::mixture(m, weights, means.view(), stds, grad),
        TargetSpec::Banana { a: x0, b, s1, s2 } => a::banana(m, *x0, *b, *s1, *s2, grad),
        TargetSpec::Shells {
            centres,
            radius,
            width,
        } => a::shells(m, centres.view(), *radius, *width, grad),
        TargetSpec::Eggbox => a::eggbox(m, grad),
    }
}

/// Grid coordinates of every parameter of a grid problem (`param_x`, `param_y`[, `param_z`])
/// with their units; none for a linear one.
pub fn param_coordinates(spec: &ProblemSpec) -> Vec<(&'static str, Array1<f64>, &'static str)> {
    if let ProblemSpec::Fwi(f) = spec {
        let g = fwi_free_grid(f);
        let dims = g.dims();
        let names = if dims == 3 {
            [var::PARAM_X, var::PARAM_Y, var::PARAM_Z]
        } else {
            [var::PARAM_X, var::PARAM_Z, var::PARAM_Z]
        };
        return grid_coordinates(&g, &names[..dims], ["km"; 3]);
    }
    let ProblemSpec::TravelTime(t) = spec else {
        return Vec::new();
    };
    let g = &t.grid;
    let units: [&str; 3] = match t.geometry {
        GeometrySpec::Cartesian => ["km", "km", "km"],
        GeometrySpec::Spherical { .. } => ["degrees_east", "degrees_north", ""],
    };
    let names = [var::PARAM_X, var::PARAM_Y, var::PARAM_Z];
    grid_coordinates(g, &names[..g.dims()], units)
}

/// The free cells of an FWI grid: the grid without its fixed top rows (the last axis is depth).
fn fwi_free_grid(f: &FwiSpec) -> GridSpec {
    let dims = f.grid.dims();
    let mut g = f.grid.clone();
    g.shape = f.free_shape();
    g.origin[dims - 1] += f.fixed_rows as f64 * g.spacing[dims - 1];
    g
}

/// The regular grid whose nodes are the parameters, for methods that parameterise a model by
/// positions (RJ-McMC's Voronoi cells): travel-time and FWI grids, linear and analytic
/// problems given a `grid` (index coordinates: origin 0, spacing 1), and a dispersion
/// problem inverting Vs of layers of one thickness h over the half-space (nodes at the layers'
/// mid-depths h/2 + i h, the half-space's at the next: Voronoi cells in depth are layers).
/// `None` for the others.
pub fn parameter_grid(spec: &ProblemSpec) -> Option<GridSpec> {
    let index_grid = |shape: &[usize]| GridSpec {
        origin: vec![0.0; shape.len()],
        spacing: vec![1.0; shape.len()],
        shape: shape.to_vec(),
    };
    match spec {
        ProblemSpec::TravelTime(t) => Some(t.grid.clone()),
        ProblemSpec::Fwi(f) => Some(fwi_free_grid(f)),
        ProblemSpec::Linear(l) if l.gridded => Some(index_grid(&l.shape)),
        ProblemSpec::Analytic(a) if a.gridded => Some(index_grid(&a.shape)),
        ProblemSpec::Dispersion(d) if d.parameters == DispersionParameters::Vs => {
            let layers = &d.model.thickness[..d.model.thickness.len().saturating_sub(1)];
            let h = *layers.first()?;
            (h > 0.0 && layers.iter().all(|&t| t == h)).then(|| GridSpec {
                origin: vec![h / 2.0],
                spacing: vec![h],
                shape: vec![d.model.vs.len()],
            })
        }
        _ => None,
    }
}

/// The coordinate of every node of `g` along each axis (x first, x fastest).
fn grid_coordinates(
    g: &GridSpec,
    names: &[&'static str],
    units: [&'static str; 3],
) -> Vec<(&'static str, Array1<f64>, &'static str)> {
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
