//! The `vi` config block and its checked spec.

use serde::{Deserialize, Serialize};

use ndarray::Array1;

use crate::core::config::raw::{FileRef, InitKind, RawValues, default_max_failed_fraction};
use crate::core::config::spec::{CheckedMethod, EvidenceInputs, InitSpec, Marginals, MembersSpec};
use crate::core::config::{MethodCheck, read_values};
use crate::core::io::hdf5_util::H5Reader;
use crate::core::io::names::group;
use crate::inference::flows::config::{LayerSpec, build_flow, check_flow};
use crate::inference::optim::{AdamKeys, DecayKeys, OptimizerKind, OptimizerSpec, SgdKeys, check_optimizer};
use crate::inference::{Method, MethodConfig};

/// `method: {kind: vi, flow: [...], ...}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The layers, applied in order to z ~ N(0, I) (`flows::config::LayerKeys`).
    pub flow: Vec<serde_yaml_ng::Value>,
    /// Monte-Carlo samples of the ELBO gradient per iteration.
    #[serde(default = "five")]
    pub samples_per_iteration: usize,
    pub iterations: usize,
    pub step_size: f64,
    #[serde(default)]
    pub optimizer: OptimizerKind,
    #[serde(default)]
    pub adam: AdamKeys,
    #[serde(default)]
    pub sgd: SgdKeys,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<DecayKeys>,
    /// Likelihood tempering early on: the gradient of E_q[log prior + β log L] + H[q] with β
    /// rising geometrically from `start` to 1 over `iterations` (a q started broad keeps every
    /// mode the data allow instead of settling on the first it finds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anneal: Option<AnnealKeys>,
    /// Draws from the final q written as `posterior/m`.
    #[serde(default = "thousand")]
    pub draws: usize,
    #[serde(default)]
    pub init: VariationalInit,
    #[serde(default = "default_max_failed_fraction")]
    pub max_failed_fraction: f64,
    /// Mixture components, for `kind: boosting_vi` (which reads these same keys): each
    /// component is this flow, fitted for `iterations` with its weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<usize>,
}

fn five() -> usize {
    5
}

fn thousand() -> usize {
    1000
}

/// `anneal: {start, iterations}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnnealKeys {
    pub start: f64,
    pub iterations: usize,
}

/// Where q starts: `prior` (the prior's unconstrained mean and scale), `{file: q.h5}` (the
/// `variational/` group of an earlier result with the same flow) or `{model: ..., spread: s}`
/// (a starting model in physical units, with s times the prior's scale).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(
    untagged,
    expecting = "`prior`, {file: PATH} (a result file with a variational/ group) or {model: VALUES, spread: S}"
)]
pub enum VariationalInit {
    Kind(InitKind),
    File(FileRef),
    Model(ModelInit),
}

/// `init: {model, spread}`: q starts centred at a model (a number, a list or a file of one
/// value per parameter, physical units, strictly inside the prior's bounds), with the prior's
/// unconstrained scale times `spread`: the variational counterpart of starting chains or
/// particles at a reference model.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInit {
    pub model: RawValues,
    #[serde(default = "one")]
    pub spread: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for VariationalInit {
    fn default() -> Self {
        VariationalInit::Kind(InitKind::Prior)
    }
}

/// A checked `vi` block.
#[derive(Debug, Clone)]
pub struct Spec {
    pub members: MembersSpec,
    pub iterations: usize,
    pub optimizer: OptimizerSpec,
    pub layers: Vec<LayerSpec>,
    pub draws: usize,
    /// (β₀, iterations) of the likelihood tempering, if any.
    pub anneal: Option<(f64, usize)>,
    /// The flow's parameters from `init: {file}`.
    pub initial_theta: Option<Vec<f64>>,
    /// The starting model (physical units) and spread from `init: {model, spread}`.
    pub initial_model: Option<(Array1<f64>, f64)>,
    /// The `flow:` list as written (kept with the parameters).
    pub flow_text: String,
}

impl CheckedMethod for Spec {
    fn kind(&self) -> &'static str {
        "vi"
    }
    fn members(&self) -> &MembersSpec {
        &self.members
    }
    fn iterations(&self) -> usize {
        self.iterations
    }
    fn takes_stochastic_gradients(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!(
            "{} layer{}, {} samples × {} iterations, {} draws",
            self.layers.len(),
            if self.layers.len() == 1 { "" } else { "s" },
            self.members.n,
            self.iterations,
            self.draws
        )
    }
    fn evidence_inputs(&self) -> EvidenceInputs {
        EvidenceInputs { ladder: false, density: true }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl MethodConfig for Config {
    type Spec = Spec;

    fn check(&self, cx: &mut MethodCheck) -> Option<Spec> {
        let single = cx.issues.check(self.components.is_none(), "components", || {
            "a mixture of flows is `kind: boosting_vi`; `vi` fits one flow (remove the key)".into()
        });
        let spec = self.check_fit(cx);
        spec.filter(|_| single)
    }

    fn build(spec: &Spec, dim: usize) -> Box<dyn Method> {
        Box::new(super::Vi::new(spec.clone(), dim))
    }
}

impl Config {
    /// Checks the keys of one flow fit (all but `components`).
    pub fn check_fit(&self, cx: &mut MethodCheck) -> Option<Spec> {
        let mut ok = cx.issues.at_least(self.iterations, 1, "iterations");
        ok &= cx.issues.at_least(self.samples_per_iteration, 1, "samples_per_iteration");
        ok &= cx.issues.at_least(self.draws, 1, "draws");
        ok &= cx.issues.in_range(self.max_failed_fraction, 0.0, 1.0, "max_failed_fraction", "[0, 1]");
        let optimizer = check_optimizer(
            self.step_size,
            self.optimizer,
            &self.adam,
            &self.sgd,
            self.decay.as_ref(),
            cx.issues,
        );
        let anneal = self.anneal.map(|a| {
            ok &= cx.issues.in_range(a.start, f64::MIN_POSITIVE, 1.0, "anneal.start", "(0, 1]");
            ok &= cx.issues.check(a.iterations >= 1 && a.iterations <= self.iterations, "anneal.iterations", || {
                format!("must be in [1, iterations = {}] (got {})", self.iterations, a.iterations)
            });
            (a.start, a.iterations)
        });
        let problem = cx.problem?;
        let (dim, shape) = (problem.n_params(), problem.axes_shape());
        let layers = check_flow(&self.flow, dim, &shape, cx.issues)?;
        let (mut initial_theta, mut initial_model) = (None, None);
        match &self.init {
            VariationalInit::Kind(InitKind::Prior) => {}
            VariationalInit::File(f) => {
                let n = build_flow(&layers, dim).n_params();
                initial_theta = Some(read_theta(&crate::core::config::resolve(cx.dir, &f.file), n, cx)?);
            }
            VariationalInit::Model(m) => initial_model = Some(check_model(m, dim, &shape, cx)?),
        }
        let flow_text = serde_json::to_string(&self.flow).expect("YAML values serialise as JSON");
        (ok && optimizer.is_some()).then(|| Spec {
            members: MembersSpec {
                n: self.samples_per_iteration,
                init: InitSpec::ByMethod,
                max_failed_fraction: self.max_failed_fraction,
            },
            iterations: self.iterations,
            optimizer: optimizer.expect("checked"),
            layers,
            draws: self.draws,
            anneal,
            initial_theta,
            initial_model,
            flow_text,
        })
    }
}

/// The flow parameters `variational/theta` of an earlier result, of length `n`.
fn read_theta(path: &std::path::Path, n: usize, cx: &mut MethodCheck) -> Option<Vec<f64>> {
    let key = "init.file";
    let read = H5Reader::open(path)
        .and_then(|f| f.f64(&format!("{}/{}", group::VARIATIONAL, crate::inference::variational::THETA)));
    match read {
        Ok(theta) if theta.len() == n => Some(theta.iter().copied().collect()),
        Ok(theta) => {
            cx.issues.add(key, format!(
                "{}: variational/theta has {} parameters, this flow has {n}: start from a result of the same flow",
                path.display(),
                theta.len()
            ));
            None
        }
        Err(e) => {
            cx.issues.add(key, format!("{e} (a result file of a `vi` run, with its variational/ group)"));
            None
        }
    }
}

/// The model and spread of `init: {model, spread}`: one value per parameter, strictly inside
/// a uniform prior's bounds (the unconstrained space has no image of a bound).
fn check_model(m: &ModelInit, dim: usize, shape: &[usize], cx: &mut MethodCheck) -> Option<(Array1<f64>, f64)> {
    let spread_ok = cx.issues.check(m.spread > 0.0 && m.spread.is_finite(), "init.spread", || {
        format!("must be a finite number > 0 (got {})", m.spread)
    });
    let model = read_values(&m.model, dim, shape, "init.model", cx.dir, cx.issues)?;
    if let Some(Marginals::Uniform { lower, upper }) = cx.prior.map(|p| &p.marginals) {
        let outside = (0..dim).find(|&j| model[j] <= lower[j] || model[j] >= upper[j]);
        if let Some(j) = outside {
            cx.issues.add("init.model", format!(
                "parameter {j} is {}, not strictly inside the prior's bounds [{}, {}]",
                model[j], lower[j], upper[j]
            ));
            return None;
        }
    }
    spread_ok.then_some((model, m.spread))
}
