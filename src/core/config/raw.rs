//! The configuration as written: serde structs with `deny_unknown_fields`. These are the
//! unchecked types; `check` turns them into the checked `spec` types that the rest of geobayes
//! requires. Optional keys are `Option`s here; `check` fills in the defaults (and the resolved
//! config written to the result file shows them).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Read by `config::parse` (dispatched on `kind`), not by the derived deserializer.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub problem: Option<RawProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior: Option<RawPrior>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likelihood: Option<LikelihoodKind>,
    /// The `method` block as written: the method registry of `inference` checks it (each
    /// method owns its config); `check` writes the resolved block (defaults filled in) back.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub method: Option<serde_yaml_ng::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel: Option<RawParallel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<RawOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<RawGpu>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<RawEvidence>,
    /// Several priors in one job, ranked by their evidence (replaces `prior`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypotheses: Option<Vec<RawHypothesis>>,
    /// Where each key path is written in the file (for messages).
    #[serde(skip)]
    pub lines: super::KeyLines,
}

/// `evidence: {estimators: [ss, ti], samples: 4000}`: log-evidence estimates that `run` adds at
/// the end (`samples`: the proposal samples of importance sampling).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    pub estimators: Vec<Estimator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
}

/// One prior hypothesis: `{name: smooth, prior: {...}, prior_odds: 1.0}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHypothesis {
    pub name: String,
    pub prior: RawPrior,
    /// The hypothesis's prior odds (relative; default 1: equal odds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_odds: Option<f64>,
}

/// The log-evidence estimators (`evidence.estimators`, `geobayes evidence --estimator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Stepping-stone over a parallel-tempering ladder.
    Ss,
    /// Thermodynamic integration over a parallel-tempering ladder.
    Ti,
    /// Importance sampling with the fitted variational density as the proposal (PSIS k̂).
    Is,
    /// The evidence lower bound of the fitted variational density (a bound, not an estimate).
    Elbo,
}

impl Estimator {
    pub const ALL: [Estimator; 4] = [Estimator::Ss, Estimator::Ti, Estimator::Is, Estimator::Elbo];

    pub fn name(self) -> &'static str {
        match self {
            Estimator::Ss => "ss",
            Estimator::Ti => "ti",
            Estimator::Is => "is",
            Estimator::Elbo => "elbo",
        }
    }

    /// The estimator of a name (`ss`, `ti`, `is`, `elbo`).
    pub fn from_name(name: &str) -> Option<Estimator> {
        Estimator::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Needs the per-β log-likelihood series of a temperature ladder (else a variational q).
    pub fn needs_ladder(self) -> bool {
        matches!(self, Estimator::Ss | Estimator::Ti)
    }
}

/// `gpu: {enabled: true, devices: [0, 1]}`: run the physics' CUDA kernels on this node's GPUs
/// (one rank per device; `devices` limits the usable ones). Without the block the CPU runs.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGpu {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<usize>>,
}

crate::tagged_registry! {
    /// The problem kinds (`problem.kind`).
    pub enum RawProblem {
        /// d = G m with G from a `.npy` file.
        "linear" => Linear(RawLinear),
        /// 2D travel-time tomography (fast marching with a factored point source), Cartesian
        /// or on the sphere.
        "traveltime2d" => Traveltime2d(RawTravelTime),
        /// 3D Cartesian travel-time tomography.
        "traveltime3d" => Traveltime3d(RawTravelTime),
        /// Surface-wave dispersion curves of a layered model.
        "dispersion" => Dispersion(RawDispersion),
        /// 2D acoustic full-waveform inversion (x, z section).
        "fwi2d" => Fwi2d(RawFwi),
        /// 3D acoustic full-waveform inversion.
        "fwi3d" => Fwi3d(RawFwi),
        /// An analytic log-likelihood of the parameters (test targets with known posteriors
        /// and evidences).
        "analytic" => Analytic(RawAnalytic),
    }
}

/// `grid: {shape: [...]}`: the parameters of a problem without a physical grid arranged as one
/// (x first, x fastest), for banded layers, smoothing and Voronoi cells.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawShape {
    pub shape: Vec<usize>,
}

/// `problem: {kind: analytic, target: {kind: ...}, dim: D, grid: {shape: [...]}}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnalytic {
    /// The log-likelihood, a tagged block (`RawTarget`), read by the check so that its errors
    /// keep their key path.
    pub target: serde_yaml_ng::Value,
    pub dim: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<RawShape>,
}

crate::tagged_registry! {
    /// The analytic targets (`problem.target.kind`).
    pub enum RawTarget {
        /// exp(−½ Σ ((mᵢ − μᵢ)/sᵢ)²) with an optional AR(1) correlation; unnormalised unless
        /// `normalised: true`.
        "gaussian" => Gaussian(RawGaussianTarget),
        /// A normalised mixture of isotropic Gaussians.
        "mixture" => Mixture(RawMixtureTarget),
        /// A normalised 2-D banana.
        "banana" => Banana(RawBananaTarget),
        /// Gaussian shells (Feroz & Hobson 2008).
        "shells" => Shells(RawShellsTarget),
        /// The 2-D egg box, log L = (2 + cos(x/2) cos(y/2))⁵.
        "eggbox" => Eggbox(RawEggboxTarget),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGaussianTarget {
    pub mean: RawValues,
    pub std: RawValues,
    /// AR(1) correlation ρ^|i−j| along the parameter index.
    #[serde(default)]
    pub rho: f64,
    #[serde(default)]
    pub normalised: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMixtureTarget {
    pub weights: Vec<f64>,
    /// One mean per component: D values, or one for every parameter.
    pub means: Vec<Vec<f64>>,
    /// One (isotropic) std per component.
    pub stds: Vec<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBananaTarget {
    #[serde(default)]
    pub a: f64,
    #[serde(default = "one_f64")]
    pub b: f64,
    #[serde(default = "one_f64")]
    pub s1: f64,
    #[serde(default = "one_f64")]
    pub s2: f64,
}

fn one_f64() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawShellsTarget {
    #[serde(default = "shell_radius")]
    pub radius: f64,
    #[serde(default = "shell_width")]
    pub width: f64,
    /// Default (±3.5, 0, …, 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centres: Option<Vec<Vec<f64>>>,
}

fn shell_radius() -> f64 {
    2.0
}

fn shell_width() -> f64 {
    0.1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEggboxTarget {}

/// A file reference: `{file: path}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub file: PathBuf,
}

/// Per-parameter values: one number for all, a list, or a file (`.npy` or text).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged, expecting = "a number, a list of numbers, or {file: PATH}")]
pub enum RawValues {
    Scalar(f64),
    List(Vec<f64>),
    File(FileRef),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLinear {
    /// G, shape (n_data, n_params), `.npy`.
    pub matrix: FileRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<RawData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_model: Option<RawValues>,
    /// The parameters as a grid (default: one axis over the parameter index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<RawShape>,
}

/// Observed data: a file (rows = data order), and/or one σ for every datum.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrid {
    /// Coordinates of the first node, km (x, y[, z]).
    pub origin: Vec<f64>,
    /// Node spacing, km (x, y[, z]).
    pub spacing: Vec<f64>,
    /// Number of nodes (x, y[, z]).
    pub shape: Vec<usize>,
}

/// Stations: `{file: stations.txt}` (`name x y [z]` per line; `name lat lon` on the sphere) or
/// inline `[[x, y], ...]` (`[lat, lon]` on the sphere).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged, expecting = "{file: PATH} or a list of coordinate lists")]
pub enum RawStations {
    File(FileRef),
    Inline(Vec<Vec<f64>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GeometryKind {
    /// x, y (z) in km.
    Cartesian,
    /// Longitude, latitude in degrees on a sphere (geocentric latitude); stations `name lat lon`.
    Spherical,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTravelTime {
    pub grid: RawGrid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<GeometryKind>,
    /// Sphere radius (km) for `geometry: spherical`; default 6371.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_refine: Option<usize>,
    pub stations: RawStations,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<RawData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_model: Option<RawValues>,
}

/// A layered model, top down; the last layer is the half-space (its thickness is ignored).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayers {
    /// km
    pub thickness: Vec<f64>,
    /// km/s
    pub vp: Vec<f64>,
    /// km/s
    pub vs: Vec<f64>,
    /// g/cm³
    pub rho: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaveKind {
    Rayleigh,
    Love,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VelocityKindRaw {
    Phase,
    Group,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCurve {
    pub wave: WaveKind,
    pub velocity: VelocityKindRaw,
    pub mode: usize,
    /// s
    pub periods: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DispersionParameters {
    /// One Vs per layer; Vp and density follow `vp` and `rho`.
    Vs,
    /// Thickness (above the half-space), Vp, Vs and density of every layer.
    All,
}

/// Vp with Vs-only parameters: `fixed` (the model's), `{linear: [a, b]}` (a Vs + b) or
/// `{ratio: r}` (r Vs).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawVpRule {
    Fixed,
    Linear([f64; 2]),
    Ratio(f64),
}

/// Density with Vs-only parameters: `fixed`, `{power_of_vp: [a, b]}` (a Vp^b) or
/// `{ratio_to_vp: r}` (r Vp).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawRhoRule {
    Fixed,
    PowerOfVp([f64; 2]),
    RatioToVp(f64),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDispersion {
    /// The reference (or true) model; `forward` uses it without --model.
    pub model: RawLayers,
    pub curves: Vec<RawCurve>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<DispersionParameters>,
    /// (As a one-key map both ways: the resolved config parses back.)
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_yaml_ng::with::singleton_map")]
    pub vp: Option<RawVpRule>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_yaml_ng::with::singleton_map")]
    pub rho: Option<RawRhoRule>,
    /// Observed values in curve order, `value [sigma]` per line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<RawData>,
}

/// The source time function: `{ricker: f0}` (peak frequency, Hz; delayed by 1/f0) or
/// `{file: w.txt, peak_frequency: f0}` (one sample per time step from t = 0).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWavelet {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ricker: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_frequency: Option<f64>,
}

/// Cells that are not parameters: the top `top_rows` depth levels (rows counted from 1, as
/// the water layer of B3) take `velocity`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFixed {
    pub top_rows: usize,
    pub velocity: f64,
}

/// Waveform data: an `.npy` (or text) file of the traces, shots × receivers × time samples
/// (C order, time fastest), with one σ for all.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaveData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFwi {
    /// The model grid: origin, spacing (equal on every axis) and shape, x first
    /// ((x, z) in 2D, (x, y, z) in 3D; z is depth, positive down).
    pub grid: RawGrid,
    /// Spatial order of the stencil: 2, 4 or 8 (default 8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<usize>,
    /// CPML width in points on every side (default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpml: Option<usize>,
    /// Time step (s).
    pub dt: f64,
    /// Number of time steps; traces have steps + 1 samples from t = 0.
    pub steps: usize,
    pub wavelet: RawWavelet,
    /// Source positions in km, grid axis order: `[[x, z], ...]` or `{file: PATH}`.
    pub sources: RawStations,
    /// Receiver positions, the same for every shot.
    pub receivers: RawStations,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<RawFixed>,
    /// The largest velocity members may take (km/s), for the stability check and the CPML;
    /// default: the prior's largest upper bound (or the reference model's largest value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v_max: Option<f64>,
    /// Shots per iteration for SVGD: random mini-batches keyed by (seed, iteration), the same
    /// for every member, the likelihood scaled by shots / batch; default every shot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shots_per_iteration: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<RawWaveData>,
    /// Velocities of the free cells (km/s), grid order with x fastest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_model: Option<RawValues>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriorKind {
    Uniform,
    Gaussian,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrior {
    pub kind: PriorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower: Option<RawValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper: Option<RawValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<RawValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<RawValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoothing: Option<RawSmoothing>,
}

/// -½ ‖D m‖² / σ² with D the first or second differences along every grid axis.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmoothing {
    pub order: u8,
    pub sigma: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LikelihoodKind {
    /// Independent Gaussian errors with the data's σ.
    Gaussian,
    /// No data term: the run samples the prior.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InitKind {
    /// Member-keyed draws from the prior's marginals.
    Prior,
}

/// Initial members: `prior` or `{file: init.npy}` (members × params, physical units).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged, expecting = "`prior` or {file: PATH}")]
pub enum RawInit {
    Kind(InitKind),
    File(FileRef),
}

impl Default for RawInit {
    fn default() -> Self {
        RawInit::Kind(InitKind::Prior)
    }
}

/// `max_failed_fraction` when not given: a run stops when more than half its members fail.
pub fn default_max_failed_fraction() -> f64 {
    0.5
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawParallel {
    /// Threads per rank (0: all the cores rayon sees).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressMode {
    /// A bar on a terminal, heartbeat lines otherwise.
    Auto,
    Bar,
    Lines,
    Off,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// The result file (`.h5`), relative to the config file.
    pub path: PathBuf,
    /// Write a checkpoint every k iterations (0: only the final result).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressMode>,
}
