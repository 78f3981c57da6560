//! The checked configuration: every value validated, defaults filled in, files read. Built only
//! by `check::validate`; the rest of geobayes takes these types, never the raw ones.

use std::path::PathBuf;

use ndarray::{Array1, Array2};

pub use super::method::{CheckedMethod, EvidenceInputs};
pub use super::raw::{Estimator, LikelihoodKind, ProgressMode};

#[derive(Debug, Clone)]
pub struct RunSpec {
    pub name: String,
    pub seed: u64,
    pub problem: ProblemSpec,
    /// Present when the config was validated for `run` (or has the block).
    pub prior: Option<PriorSpec>,
    pub likelihood: LikelihoodKind,
    pub method: Option<MethodSpec>,
    pub parallel: ParallelSpec,
    pub output: Option<OutputSpec>,
    pub gpu: GpuSpec,
    /// The log-evidence estimates `run` adds at the end (`evidence:`).
    pub evidence: Option<EvidenceSpec>,
    /// The prior hypotheses of a `hypotheses:` config, each a whole run of its own; `output` is
    /// then the path of their evidence table. Empty for a plain run.
    pub hypotheses: Vec<Hypothesis>,
    /// The hypothesis this run is, within a `hypotheses:` config.
    pub hypothesis: Option<HypothesisLabel>,
    pub source: ConfigSource,
}

/// What a run of a `hypotheses:` config is: the hypothesis's name and prior odds.
#[derive(Debug, Clone, PartialEq)]
pub struct HypothesisLabel {
    pub name: String,
    pub prior_odds: f64,
}

/// One prior hypothesis of a `hypotheses:` config: its name, prior odds and run (whose prior
/// is the hypothesis's and whose output is `<output stem>.<name>.h5`).
#[derive(Debug, Clone)]
pub struct Hypothesis {
    pub name: String,
    pub prior_odds: f64,
    pub spec: RunSpec,
}

/// The checked `evidence` block: estimators in the order given, and the proposal samples of
/// importance sampling.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceSpec {
    pub estimators: Vec<Estimator>,
    pub samples: usize,
}

/// Importance sampling's proposal samples unless `evidence.samples` says otherwise.
pub const DEFAULT_EVIDENCE_SAMPLES: usize = 4000;
/// Fewer samples leave too short a tail for the Pareto fit of PSIS.
pub const MIN_EVIDENCE_SAMPLES: usize = 100;

/// The `gpu` block: off unless `enabled: true`; `devices` limits the usable devices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuSpec {
    pub enabled: bool,
    pub devices: Option<Vec<usize>>,
}

/// Where the config came from, for provenance and resume checks.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    pub path: PathBuf,
    pub text: String,
    /// The config with defaults filled in, as YAML.
    pub resolved: String,
    /// FNV-1a 64 of the resolved text, hex; a resume must match it.
    pub hash: String,
    /// FNV-1a 64 of the problem block (resolved) and the observed data and σ: results of
    /// different data are not combined into one evidence table.
    pub data_fingerprint: String,
}

#[derive(Debug, Clone)]
pub enum ProblemSpec {
    Linear(LinearSpec),
    TravelTime(TravelTimeSpec),
    Dispersion(DispersionSpec),
    Fwi(FwiSpec),
    Analytic(AnalyticSpec),
}

/// A checked analytic log-likelihood (`physics::analytic` evaluates it).
#[derive(Debug, Clone)]
pub enum TargetSpec {
    Gaussian {
        mean: Array1<f64>,
        std: Array1<f64>,
        rho: f64,
        normalised: bool,
    },
    Mixture {
        weights: Vec<f64>,
        /// (components, dim).
        means: Array2<f64>,
        stds: Vec<f64>,
    },
    Banana {
        a: f64,
        b: f64,
        s1: f64,
        s2: f64,
    },
    Shells {
        /// (centres, dim).
        centres: Array2<f64>,
        radius: f64,
        width: f64,
    },
    Eggbox,
}

/// A checked analytic problem: the target is the likelihood, there are no data.
#[derive(Debug, Clone)]
pub struct AnalyticSpec {
    pub target: TargetSpec,
    /// The parameters' grid (x first); its size is the dimension.
    pub shape: Vec<usize>,
    /// Whether `grid` was given (else `shape` is one axis over the parameters).
    pub gridded: bool,
    /// Empty: an analytic problem has no data.
    pub data: DataSpec,
}

impl ProblemSpec {
    pub fn kind_name(&self) -> &'static str {
        match self {
            ProblemSpec::Linear(_) => "linear",
            ProblemSpec::TravelTime(t) if t.grid.dims() == 3 => "traveltime3d",
            ProblemSpec::TravelTime(_) => "traveltime2d",
            ProblemSpec::Dispersion(_) => "dispersion",
            ProblemSpec::Fwi(f) if f.grid.dims() == 3 => "fwi3d",
            ProblemSpec::Fwi(_) => "fwi2d",
            ProblemSpec::Analytic(_) => "analytic",
        }
    }

    pub fn n_params(&self) -> usize {
        match self {
            ProblemSpec::Linear(l) => l.matrix.ncols(),
            ProblemSpec::TravelTime(t) => t.grid.n_nodes(),
            ProblemSpec::Dispersion(d) => d.n_params(),
            ProblemSpec::Fwi(f) => f.n_params(),
            ProblemSpec::Analytic(a) => a.shape.iter().product(),
        }
    }

    pub fn data(&self) -> &DataSpec {
        match self {
            ProblemSpec::Linear(l) => &l.data,
            ProblemSpec::TravelTime(t) => &t.data,
            ProblemSpec::Dispersion(d) => &d.data,
            ProblemSpec::Fwi(f) => &f.data,
            ProblemSpec::Analytic(a) => &a.data,
        }
    }

    /// Whether the likelihood is an analytic target rather than data and a forward model.
    pub fn is_analytic(&self) -> bool {
        matches!(self, ProblemSpec::Analytic(_))
    }

    pub fn reference_model(&self) -> Option<&Array1<f64>> {
        match self {
            ProblemSpec::Linear(l) => l.reference_model.as_ref(),
            ProblemSpec::TravelTime(t) => t.reference_model.as_ref(),
            ProblemSpec::Dispersion(d) => Some(&d.reference_model),
            ProblemSpec::Fwi(f) => f.reference_model.as_ref(),
            ProblemSpec::Analytic(_) => None,
        }
    }

    /// Data groups (shots) per mini-batch of a stochastic-gradient method, when asked for.
    pub fn batch_size(&self) -> Option<usize> {
        match self {
            ProblemSpec::Fwi(f) => f.shots_per_iteration,
            _ => None,
        }
    }

    /// The blocks of the parameter vector that smoothing acts on, each with its grid shape
    /// (x first), in parameter order: one grid for grid problems; for a dispersion problem
    /// with every property the thickness, Vp, Vs and density profiles separately (smoothing
    /// never couples the last thickness to the first Vp).
    pub fn smoothing_blocks(&self) -> Vec<Vec<usize>> {
        match self {
            ProblemSpec::Dispersion(d) if d.parameters == DispersionParameters::All => {
                let n = d.model.vs.len();
                vec![vec![n - 1], vec![n], vec![n], vec![n]]
            }
            _ => vec![self.axes_shape()],
        }
    }

    /// The parameters' grid shape (x first), for files of per-parameter values; a linear
    /// problem is one axis over the parameter index.
    pub fn axes_shape(&self) -> Vec<usize> {
        match self {
            ProblemSpec::Linear(l) => l.shape.clone(),
            ProblemSpec::TravelTime(t) => t.grid.shape.clone(),
            ProblemSpec::Dispersion(d) => vec![d.n_params()],
            ProblemSpec::Fwi(f) => f.free_shape(),
            ProblemSpec::Analytic(a) => a.shape.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum WaveletSpec {
    /// A Ricker wavelet of this peak frequency (Hz), delayed by 1/f0.
    Ricker(f64),
    /// Given samples, one per trace sample (steps + 1) from t = 0.
    Samples(Vec<f64>),
}

/// A checked FWI problem. Positions are in km in grid axis order (x, z) or (x, y, z).
#[derive(Debug, Clone)]
pub struct FwiSpec {
    pub grid: GridSpec,
    pub order: usize,
    pub cpml: usize,
    pub dt: f64,
    pub steps: usize,
    pub wavelet: WaveletSpec,
    /// Peak frequency (Hz): the sampling check (f_max = 2.5 f0) and the CPML's shift.
    pub peak_frequency: f64,
    pub sources: Vec<Vec<f64>>,
    pub receivers: Vec<Vec<f64>>,
    /// Top depth levels that are not parameters, and their velocity.
    pub fixed_rows: usize,
    pub fixed_velocity: f64,
    /// The largest velocity members may take (resolved from the prior when not given).
    pub v_max: f64,
    pub data: DataSpec,
    pub reference_model: Option<Array1<f64>>,
    /// Shots per iteration of SVGD (random mini-batches); `None`: every shot.
    pub shots_per_iteration: Option<usize>,
}

impl FwiSpec {
    /// The grid of the free cells (x first): the model grid without its fixed top rows.
    pub fn free_shape(&self) -> Vec<usize> {
        let mut shape = self.grid.shape.clone();
        let last = shape.len() - 1;
        shape[last] -= self.fixed_rows;
        shape
    }

    pub fn n_params(&self) -> usize {
        self.free_shape().iter().product()
    }

    pub fn n_data(&self) -> usize {
        self.sources.len() * self.receivers.len() * (self.steps + 1)
    }
}

/// The data of a problem: σ per datum always, observed values when a data file was given.
#[derive(Debug, Clone)]
pub struct DataSpec {
    pub sigma: Array1<f64>,
    pub observed: Option<Array1<f64>>,
}

#[derive(Debug, Clone)]
pub struct LinearSpec {
    /// (n_data, n_params).
    pub matrix: Array2<f64>,
    /// The parameters' grid (x first; default one axis of n_params).
    pub shape: Vec<usize>,
    /// Whether `grid` was given.
    pub gridded: bool,
    pub data: DataSpec,
    pub reference_model: Option<Array1<f64>>,
}

/// A regular grid in 2 or 3 dimensions, axis 0 (x) first; nodes in C order with x fastest
/// (index = (iz · ny + iy) · nx + ix). Cartesian grids are in km; a spherical grid is
/// (longitude, latitude) in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    pub origin: Vec<f64>,
    pub spacing: Vec<f64>,
    pub shape: Vec<usize>,
}

impl GridSpec {
    pub fn dims(&self) -> usize {
        self.shape.len()
    }
    pub fn n_nodes(&self) -> usize {
        self.shape.iter().product()
    }
    /// Coordinate of the last node along `axis`.
    pub fn end(&self, axis: usize) -> f64 {
        self.origin[axis] + self.spacing[axis] * (self.shape[axis] - 1) as f64
    }
    pub fn contains(&self, p: &[f64]) -> bool {
        (0..self.dims()).all(|a| p[a] >= self.origin[a] && p[a] <= self.end(a))
    }
}

/// The metric of a travel-time grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeometrySpec {
    Cartesian,
    /// (longitude, latitude) in degrees on a sphere of this radius (km), geocentric latitude.
    Spherical {
        radius: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub name: String,
    /// Grid coordinates: (x, y[, z]) km, or (longitude, latitude) degrees.
    pub position: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct TravelTimeSpec {
    pub geometry: GeometrySpec,
    pub grid: GridSpec,
    pub forward_refine: usize,
    pub stations: Vec<Station>,
    /// (source, receiver) station indices, in data order.
    pub pairs: Vec<(usize, usize)>,
    pub data: DataSpec,
    pub reference_model: Option<Array1<f64>>,
}

pub use super::raw::{
    DispersionParameters, RawRhoRule as RhoRuleSpec, RawVpRule as VpRuleSpec,
    VelocityKindRaw as VelocityKindSpec, WaveKind,
};

/// A layered model, top down, the last layer the half-space.
#[derive(Debug, Clone, PartialEq)]
pub struct LayersSpec {
    pub thickness: Vec<f64>,
    pub vp: Vec<f64>,
    pub vs: Vec<f64>,
    pub rho: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CurveSpec {
    pub wave: WaveKind,
    pub velocity: VelocityKindSpec,
    pub mode: usize,
    pub periods: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct DispersionSpec {
    pub model: LayersSpec,
    pub curves: Vec<CurveSpec>,
    pub parameters: DispersionParameters,
    pub vp: VpRuleSpec,
    pub rho: RhoRuleSpec,
    pub data: DataSpec,
    /// The parameter vector of `model` (Vs per layer, or thickness, Vp, Vs, density blocks).
    pub reference_model: Array1<f64>,
}

impl DispersionSpec {
    pub fn n_params(&self) -> usize {
        let n = self.model.vs.len();
        match self.parameters {
            DispersionParameters::Vs => n,
            DispersionParameters::All => 4 * n - 1,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Marginals {
    Uniform {
        lower: Array1<f64>,
        upper: Array1<f64>,
    },
    Gaussian {
        mean: Array1<f64>,
        std: Array1<f64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothingSpec {
    /// 1: first differences, 2: second differences.
    pub order: u8,
    pub sigma: f64,
}

#[derive(Debug, Clone)]
pub struct PriorSpec {
    pub marginals: Marginals,
    pub smoothing: Option<SmoothingSpec>,
    /// The blocks smoothing acts on, each a grid shape (x first), in parameter order
    /// ([`ProblemSpec::smoothing_blocks`]).
    pub smoothing_blocks: Vec<Vec<usize>>,
}

#[derive(Debug, Clone)]
pub enum InitSpec {
    /// The method draws its own members (a variational method's Monte-Carlo samples).
    ByMethod,
    Prior,
    /// (members × params) in physical units.
    Members(Array2<f64>),
}

/// A checked method (its own spec type lives with the method in `inference`).
pub type MethodSpec = std::sync::Arc<dyn CheckedMethod>;

/// How the run policy counts failed members against `max_failed_fraction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCount {
    /// Within each step (a population method: too many members failing at once).
    PerStep,
    /// Over the whole run, from iteration `after` on (chains, whose single proposals fail
    /// now and then).
    Cumulative { after: usize },
}

/// The keys every method shares: the ensemble's size, where it starts, and how many of its
/// members may fail before the run stops.
#[derive(Debug, Clone)]
pub struct MembersSpec {
    pub n: usize,
    pub init: InitSpec,
    pub max_failed_fraction: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelSpec {
    /// Threads per rank; 0 lets rayon choose.
    pub threads: usize,
}

#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub path: PathBuf,
    pub checkpoint_every: usize,
    pub progress: ProgressMode,
}
