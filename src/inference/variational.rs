//! What the methods that fit a variational density q (`vi`, `boosting_vi`) share: the random
//! pieces of their Monte-Carlo estimates (standard normal latents, the likelihood tempering of
//! an anneal), the flow placed where q starts, the draws of a fitted q for the result (rejecting
//! models whose forward model fails), the kept `variational/` group and the fitted q read back
//! from it (the evidence's importance-sampling proposal).

use std::borrow::Cow;

use ndarray::{Array1, Array2, Array3, ArrayD, ArrayViewMut1, Axis, IxDyn};
use rand_distr::StandardNormal;

use crate::core::error::Result;
use crate::core::io::hdf5_util::AttrValue;
use crate::core::io::names::{group, var};
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::flows::Flow;
use crate::inference::{DrawValues, KeptGroup, RunContext};
use crate::posterior::Evaluation;

/// The flow's parameters in the kept `variational/` group.
pub const THETA: &str = "theta";

/// One Monte-Carlo sample per block of the blocked sum: any rank count sums the same rows in
/// the same order.
pub const BLOCK: usize = 1;

/// A standard normal vector from `rng`.
pub fn standard_normal(rng: &mut rand_chacha::ChaCha8Rng, dim: usize) -> Array1<f64> {
    Array1::from_iter((0..dim).map(|_| rand::RngExt::sample(rng, StandardNormal)))
}

/// Rounds of candidates [`draw_from_q`] evaluates at most.
const MAX_DRAW_ROUNDS: usize = 20;

/// The `variational/` attribute counting the candidates of q rejected for the draws.
pub const REJECTED_DRAWS: &str = "rejected_draws";

/// Draws of a fitted q for the result, with their evaluations.
pub struct QDraws {
    pub x: Array2<f64>,
    pub log_q: Array1<f64>,
    /// A per-draw value of the sampler (the mixture component).
    pub extra: Array1<f64>,
    pub lp: Array1<f64>,
    pub log_likelihood: Array1<f64>,
    pub failed: Vec<bool>,
    pub rejected: usize,
}

impl QDraws {
    /// No draws yet (before `finish`).
    pub fn none(d: usize) -> Self {
        QDraws {
            x: Array2::zeros((0, d)),
            log_q: Array1::zeros(0),
            extra: Array1::zeros(0),
            lp: Array1::zeros(0),
            log_likelihood: Array1::zeros(0),
            failed: Vec::new(),
            rejected: 0,
        }
    }

    /// The draws as one chain, (1, draw, param).
    pub fn chain(&self) -> Array3<f64> {
        let (n, d) = self.x.dim();
        self.x
            .clone()
            .into_shape_with_order((1, n, d))
            .expect("draws reshape")
    }

    /// Their `sample_stats/` (chain = 1).
    pub fn stats(&self) -> Vec<(&'static str, DrawValues)> {
        let n = self.lp.len();
        let row = |a: &Array1<f64>| DrawValues::F64(a.clone().insert_axis(Axis(0)));
        vec![
            (var::LP, row(&self.lp)),
            (var::LOG_LIKELIHOOD, row(&self.log_likelihood)),
            (
                var::N_FAILED,
                DrawValues::I64(Array2::from_shape_fn((1, n), |(_, i)| {
                    i64::from(self.failed[i])
                })),
            ),
            (var::LOG_Q, row(&self.log_q)),
        ]
    }

    /// Their attributes of the kept `variational/` group.
    pub fn attrs(&self) -> Vec<(String, AttrValue)> {
        vec![(REJECTED_DRAWS.into(), AttrValue::Int(self.rejected as i64))]
    }
}

/// `n` draws of q in the unconstrained space: candidate i from the stream (seed, draw, i, 0)
/// by `sample` (writes x, returns log q(x) and a per-draw value), evaluated in rounds of n over
/// the ranks. A candidate whose forward model fails is a model the data rule out (p = 0 there),
/// so it is rejected: the draws come from q restricted to the models the forward model accepts,
/// the first n accepted in index order (rank-count independent). After
/// `MAX_DRAW_ROUNDS` rounds the rest are rejected candidates, flagged in `n_failed`.
pub fn draw_from_q(
    ctx: &RunContext,
    n: usize,
    d: usize,
    sample: impl Fn(&mut rand_chacha::ChaCha8Rng, ArrayViewMut1<f64>) -> (f64, f64),
) -> Result<QDraws> {
    let mut draws = QDraws::none(d);
    let (mut accepted, mut spare) = (Vec::new(), Vec::new());
    for round in 0..MAX_DRAW_ROUNDS {
        let owned = ctx.owned(n);
        let mut x = Array2::zeros((owned.len(), d));
        let mut values = vec![0.0; 2 * owned.len()];
        for (r, k) in owned.enumerate() {
            let mut rng = member_rng(ctx.seed(), Purpose::Draw, (round * n + k) as u64, 0);
            let (log_q, extra) = sample(&mut rng, x.row_mut(r));
            values[2 * r] = log_q;
            values[2 * r + 1] = extra;
        }
        let eval = ctx.evaluate(x.view(), false)?;
        let all = ctx.gather_evaluation(n, &eval);
        let xs = ctx.gather_rows(n, d, x.as_slice().expect("standard layout"));
        let values = ctx.gather_rows(n, 2, &values);
        for k in 0..n {
            if accepted.len() == n {
                break;
            }
            let candidate = Candidate {
                x: xs.row(k).to_owned(),
                log_q: values[[k, 0]],
                extra: values[[k, 1]],
                lp: all.log_prob[k],
                log_likelihood: all.log_likelihood[k],
            };
            if !all.failed[k] {
                accepted.push(candidate);
            } else {
                draws.rejected += 1;
                if spare.len() < n {
                    spare.push(candidate);
                }
            }
        }
        if accepted.len() == n {
            break;
        }
    }
    draws.failed = (0..n).map(|k| k >= accepted.len()).collect();
    let fill = n - accepted.len();
    accepted.extend(spare.into_iter().take(fill));
    draws.x = Array2::zeros((n, d));
    for (k, c) in accepted.iter().enumerate() {
        draws.x.row_mut(k).assign(&c.x);
    }
    draws.log_q = accepted.iter().map(|c| c.log_q).collect();
    draws.extra = accepted.iter().map(|c| c.extra).collect();
    draws.lp = accepted.iter().map(|c| c.lp).collect();
    draws.log_likelihood = accepted.iter().map(|c| c.log_likelihood).collect();
    Ok(draws)
}

/// A candidate draw of q with its values.
struct Candidate {
    x: Array1<f64>,
    log_q: f64,
    extra: f64,
    lp: f64,
    log_likelihood: f64,
}

/// The likelihood's weight β at iteration t of an anneal (β₀, T): β₀^(1 − t/T) while
/// annealing, then 1.
pub fn anneal_beta(anneal: Option<(f64, usize)>, t: usize) -> f64 {
    match anneal {
        Some((start, iterations)) if t < iterations => {
            start.powf(1.0 - t as f64 / iterations as f64)
        }
        _ => 1.0,
    }
}

/// ∇ log prior + β ∇ log L of evaluated members (the full gradient, bit for bit, at β = 1).
pub fn tempered_gradient(eval: &Evaluation, beta: f64) -> Cow<'_, Array2<f64>> {
    if beta < 1.0 {
        let prior = eval
            .grad_log_prior
            .as_ref()
            .expect("asked for the gradient");
        let likelihood = eval
            .grad_log_likelihood
            .as_ref()
            .expect("asked for the gradient");
        Cow::Owned(prior + &(likelihood * beta))
    } else {
        Cow::Borrowed(eval.grad.as_ref().expect("asked for the gradient"))
    }
}

/// log prior + β log L of member r (log p itself, bit for bit, at β = 1).
pub fn tempered_log_prob(eval: &Evaluation, r: usize, beta: f64) -> f64 {
    if beta < 1.0 {
        eval.log_prior[r] + beta * eval.log_likelihood[r]
    } else {
        eval.log_prob[r]
    }
}

/// The kept `variational/` group of a flow's parameters `theta` (one vector, or one row per
/// mixture component), with each layer's offset and the flow as written.
pub fn variational_group(
    flow: &Flow,
    flow_text: &str,
    theta: ArrayD<f64>,
    mut arrays: Vec<(String, ArrayD<f64>)>,
    mut attrs: Vec<(String, AttrValue)>,
) -> KeptGroup {
    let offsets: Vec<f64> = (0..flow.layers().len())
        .map(|k| flow.range(k).start as f64)
        .chain(std::iter::once(flow.n_params() as f64))
        .collect();
    let kinds: Vec<&str> = flow.layers().iter().map(|l| l.kind()).collect();
    arrays.insert(0, (THETA.to_string(), theta));
    arrays.insert(
        1,
        (
            "layer_offsets".to_string(),
            ArrayD::from_shape_vec(IxDyn(&[offsets.len()]), offsets).expect("1-D"),
        ),
    );
    attrs.splice(
        0..0,
        [
            ("flow".into(), AttrValue::Text(flow_text.to_string())),
            ("dim".into(), AttrValue::Int(flow.dim() as i64)),
            ("layers".into(), AttrValue::Text(kinds.join(" "))),
        ],
    );
    KeptGroup {
        name: group::VARIATIONAL,
        attrs,
        arrays,
    }
}

/// The flow's initial parameters placed at a starting model (physical units) with `spread`
/// times the prior's unconstrained scale, or at the prior's unconstrained mean and scale.
pub fn placed_params(
    flow: &Flow,
    ctx: &RunContext,
    model: Option<&(Array1<f64>, f64)>,
) -> Vec<f64> {
    let (mean, scale) = match model {
        Some((model, spread)) => (
            ctx.transform().to_unconstrained(model.view()),
            ctx.prior_scale() * *spread,
        ),
        None => (ctx.prior().unconstrained_mean(), ctx.prior_scale().clone()),
    };
    flow.init_params(
        mean.as_slice().expect("contiguous"),
        scale.as_slice().expect("contiguous"),
    )
}

/// The component whose cumulative weight first exceeds u ∈ [0, 1).
pub fn pick(weights: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (j, w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            return j;
        }
    }
    weights.len() - 1
}

/// A fitted variational density rebuilt from its kept `variational/` group: one flow, or a
/// mixture of flows (boosting VI) with their weights, in the unconstrained space.
#[derive(Debug)]
pub struct FittedQ {
    flow: Flow,
    components: Vec<Vec<f64>>,
    weights: Vec<f64>,
}

impl FittedQ {
    /// q from a `variational/` group over `dim` parameters on a grid of `shape`; `file` names
    /// where the group came from in messages.
    pub fn from_group(group: &KeptGroup, dim: usize, shape: &[usize], file: &std::path::Path) -> Result<FittedQ> {
        use crate::core::error::Error;
        let bad = |what: String| Error::input(file, format!("variational/: {what} (the group a `vi` or `boosting_vi` run keeps)"));
        let flow_text = match group.attr("flow") {
            Some(AttrValue::Text(t)) => t,
            _ => return Err(bad("no `flow` attribute".into())),
        };
        let blocks: Vec<serde_yaml_ng::Value> =
            serde_yaml_ng::from_str(flow_text).map_err(|e| bad(format!("its `flow` attribute does not parse ({e})")))?;
        let mut issues = crate::core::config::Issues::new();
        let layers = crate::inference::flows::config::check_flow(&blocks, dim, shape, &mut issues);
        let layers = match (layers, issues.is_empty()) {
            (Some(layers), true) => layers,
            _ => {
                let why = issues
                    .into_error(file, &Default::default())
                    .map_or_else(|| "invalid".to_string(), |e| e.to_string());
                return Err(bad(format!("its flow does not fit this problem: {why}")));
            }
        };
        let flow = crate::inference::flows::config::build_flow(&layers, dim);
        let theta = group.array(THETA).ok_or_else(|| bad(format!("no `{THETA}`")))?;
        let p = flow.n_params();
        if theta.len() % p.max(1) != 0 || theta.is_empty() {
            return Err(bad(format!("`{THETA}` has {} values, not a multiple of the flow's {p} parameters", theta.len())));
        }
        let flat: Vec<f64> = theta.iter().copied().collect();
        let components: Vec<Vec<f64>> = flat.chunks(p).map(<[f64]>::to_vec).collect();
        let weights = match group.array(var::WEIGHTS) {
            Some(w) if w.len() == components.len() => w.iter().copied().collect(),
            Some(w) => return Err(bad(format!("{} weights for {} components", w.len(), components.len()))),
            None if components.len() == 1 => vec![1.0],
            None => return Err(bad(format!("{} components without `{}`", components.len(), var::WEIGHTS))),
        };
        Ok(FittedQ { flow, components, weights })
    }

    pub fn dim(&self) -> usize {
        self.flow.dim()
    }

    /// Draws x ~ q from `rng` into `x`; returns log q(x).
    pub fn sample(&self, rng: &mut rand_chacha::ChaCha8Rng, mut x: ArrayViewMut1<f64>) -> f64 {
        let j = if self.components.len() == 1 {
            0
        } else {
            pick(&self.weights, rand::RngExt::random::<f64>(rng))
        };
        let z = standard_normal(rng, self.dim());
        let log_det = self.flow.forward(&self.components[j], z.view(), x.view_mut());
        let own = crate::inference::flows::standard_normal_log_density(z.view()) - log_det;
        if self.components.len() == 1 {
            return own;
        }
        let terms: Vec<f64> = self
            .components
            .iter()
            .zip(&self.weights)
            .enumerate()
            .map(|(k, (theta, w))| w.ln() + if k == j { own } else { self.flow.log_density(theta, x.view()) })
            .collect();
        crate::inference::evidence::psis::log_sum_exp(&terms)
    }
}
