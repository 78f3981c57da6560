//! Reversible-jump McMC on Voronoi cells (Green 1995; Bodin & Sambridge 2009; the grid trick
//! of MCTomo and bayes-bay): a model is k nuclei with values, projected onto the problem's
//! parameter grid by nearest nucleus (`voronoi`), moved by birth, death, nucleus moves, value
//! perturbations and, with hierarchical noise, the data-noise scale λ (σ_data × λ) (`moves`).
//!
//! The log-likelihood at λ comes from the one at λ = 1 and χ²:
//! ℓ(λ) = ℓ(1) + (χ²/2)(1 − 1/λ²) − N ln λ, so λ moves need no forward solve. With
//! `tempering:` the chains are the slots of parallel tempering's ladders (`tempering`), each
//! targeting p(s) p(d | s)^β, and swaps exchange whole (variable-size) states.
//!
//! Every slot draws its move, its proposal and its accept uniform from the stream (seed,
//! proposal, slot, iteration); each rank moves and solves its own slots and the states are
//! gathered as fixed-width rows (k_max cells), so the chains are the same bits for any number
//! of ranks. Draws: the projected physical models of the β = 1 chains in `posterior/m`, with
//! `sample_stats/n_cells` and `noise_scale`, and their cells in the kept `cells/` group
//! (`offsets` (chain, draw) into `nuclei` (total, dims) and `values`).

mod config;
mod moves;
mod voronoi;

use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand::RngExt;

pub use config::{Config, Spec};
use moves::{MoveKind, Moves, Proposal, State};
use voronoi::{Cells, Geometry};

use crate::core::error::{Error, Result};
use crate::core::io::names::{group, var};
use crate::core::parallel::rng::{Purpose, member_rng};
use crate::inference::mcmc::{ChainDraws, after_burn_in, keeps_draw};
use crate::inference::tempering::Tempering;
use crate::inference::{
    DrawValues, KeptGroup, Method, MethodOutput, MethodState, RunContext, Space, StepStats, Trace,
    mean_over_ok,
};

/// A state's likelihood at λ = 1: ℓ(1) and χ² (NaN without data).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fit {
    log_likelihood: f64,
    chi2: f64,
}

/// Values per packed slot row before its cells: accepted, move, failed, ℓ(1), χ², λ, k.
const HEAD: usize = 7;

pub struct ReversibleJump {
    spec: Spec,
    geometry: Geometry,
    states: Vec<State>,
    fits: Vec<Fit>,
    /// The number of data (0 without a likelihood): ℓ(λ)'s −N ln λ.
    n_data: usize,
    tempering: Option<Tempering>,
    /// Per move kind over all slots and iterations: chosen and accepted.
    tried: [f64; 5],
    accepted: [f64; 5],
    accepted_after_burn_in: Array1<f64>,
    draws: ChainDraws,
    draw_n_cells: Vec<f64>,
    draw_noise: Vec<f64>,
    /// The retained cells, draw by draw and chain by chain: counts, nuclei and values.
    kept_counts: Vec<f64>,
    kept_nuclei: Vec<f64>,
    kept_values: Vec<f64>,
}

impl ReversibleJump {
    pub fn new(spec: Spec) -> Self {
        let geometry = Geometry::new(spec.grid.clone(), spec.nuclei);
        let tempering = spec.tempering.clone().map(Tempering::new);
        let slots = spec.members.n;
        let chains = tempering
            .as_ref()
            .map_or(slots, |t| t.posterior_slots().len());
        let n_nodes = geometry.n_nodes();
        ReversibleJump {
            states: Vec::new(),
            fits: Vec::new(),
            n_data: 0,
            tempering,
            tried: [0.0; 5],
            accepted: [0.0; 5],
            accepted_after_burn_in: Array1::zeros(slots),
            draws: ChainDraws::new(chains, n_nodes),
            draw_n_cells: Vec::new(),
            draw_noise: Vec::new(),
            kept_counts: Vec::new(),
            kept_nuclei: Vec::new(),
            kept_values: Vec::new(),
            geometry,
            spec,
        }
    }

    fn moves(&self) -> Moves<'_> {
        Moves {
            spec: &self.spec,
            geometry: &self.geometry,
        }
    }

    fn n_slots(&self) -> usize {
        self.spec.members.n
    }

    fn beta(&self, slot: usize) -> f64 {
        self.tempering.as_ref().map_or(1.0, |t| t.beta(slot))
    }

    fn posterior_slots(&self) -> Vec<usize> {
        match &self.tempering {
            Some(t) => t.posterior_slots(),
            None => (0..self.n_slots()).collect(),
        }
    }

    /// ℓ at the state's λ.
    fn log_likelihood(&self, fit: Fit, lambda: f64) -> f64 {
        if self.spec.noise.is_none() {
            return fit.log_likelihood;
        }
        fit.log_likelihood + 0.5 * fit.chi2 * (1.0 - 1.0 / (lambda * lambda))
            - self.n_data as f64 * lambda.ln()
    }

    /// Forward solves of the projected models of `cells` on the rank's pool.
    fn fit(&self, ctx: &RunContext, cells: &[&Cells]) -> Vec<(Fit, bool)> {
        let mut models = Array2::zeros((cells.len(), self.geometry.n_nodes()));
        for (row, c) in models.axis_iter_mut(Axis(0)).zip(cells) {
            c.project(&self.geometry, row);
        }
        ctx.posterior()
            .fit_models(models.view(), ctx.par())
            .into_iter()
            .map(|f| {
                (
                    Fit {
                        log_likelihood: f.log_likelihood,
                        chi2: f.chi2,
                    },
                    f.failed,
                )
            })
            .collect()
    }

    fn width(&self) -> usize {
        HEAD + self.spec.k_max * (self.geometry.dims() + 2)
    }

    /// A slot's row: [accepted, move, failed, ℓ(1), χ², λ, k, (position, node, value) × k_max].
    fn pack(&self, row: &mut [f64], head: [f64; 3], state: &State, fit: Fit) {
        let dims = self.geometry.dims();
        row[..HEAD].copy_from_slice(&[
            head[0],
            head[1],
            head[2],
            fit.log_likelihood,
            fit.chi2,
            state.lambda,
            state.cells.len() as f64,
        ]);
        for j in 0..state.cells.len() {
            let at = HEAD + j * (dims + 2);
            row[at..at + dims].copy_from_slice(state.cells.position(j, dims));
            row[at + dims] = state.cells.nodes[j] as f64;
            row[at + dims + 1] = state.cells.values[j];
        }
    }

    fn unpack(&self, row: ArrayView1<f64>) -> (State, Fit) {
        let dims = self.geometry.dims();
        let k = row[6] as usize;
        let mut cells = Cells::default();
        for j in 0..k {
            let at = HEAD + j * (dims + 2);
            let position: Vec<f64> = (0..dims).map(|a| row[at + a]).collect();
            cells.insert(j, &position, row[at + dims] as usize, row[at + dims + 1]);
        }
        (
            State {
                cells,
                lambda: row[5],
            },
            Fit {
                log_likelihood: row[3],
                chi2: row[4],
            },
        )
    }

    /// Every slot's state from the gathered rows.
    fn adopt(&mut self, rows: &Array2<f64>) {
        let (states, fits) = rows.axis_iter(Axis(0)).map(|r| self.unpack(r)).unzip();
        self.states = states;
        self.fits = fits;
    }

    /// A prior draw of a state for `slot`.
    fn initial_state(&self, seed: u64, slot: usize) -> State {
        let mut rng = member_rng(seed, Purpose::Init, slot as u64, 0);
        let k = rng.random_range(self.spec.k_min..=self.spec.k_max);
        let mut cells = Cells::default();
        for j in 0..k {
            let (position, node) = self.geometry.place(&cells, &mut rng);
            let value = self.spec.values.draw(node, &mut rng);
            cells.insert(j, &position, node, value);
        }
        let lambda = self
            .spec
            .noise
            .map_or(1.0, |(lo, hi, _)| 1.0f64.clamp(lo, hi));
        State { cells, lambda }
    }

    /// Appends the β = 1 chains' current states to the retained draws.
    fn keep_draws(&mut self, accepted: &[f64], failed: &[f64]) {
        let top = self.posterior_slots();
        let mut models = Array2::zeros((top.len(), self.geometry.n_nodes()));
        let mut lp = Vec::with_capacity(top.len());
        let mut ll = Vec::with_capacity(top.len());
        for (r, &s) in top.iter().enumerate() {
            let state = &self.states[s];
            state.cells.project(&self.geometry, models.row_mut(r));
            let l = self.log_likelihood(self.fits[s], state.lambda);
            lp.push(self.moves().log_prior(state) + l);
            ll.push(l);
            self.draw_n_cells.push(state.cells.len() as f64);
            self.draw_noise.push(state.lambda);
            self.kept_counts.push(state.cells.len() as f64);
            self.kept_nuclei.extend_from_slice(&state.cells.positions);
            self.kept_values.extend_from_slice(&state.cells.values);
        }
        let pick = |v: &[f64]| Array1::from_iter(top.iter().map(|&s| v[s]));
        self.draws.push(
            models.view(),
            Array1::from(lp).view(),
            Array1::from(ll).view(),
            pick(accepted).view(),
            pick(failed).view(),
        );
    }

    /// A per-draw statistic (draw, chain) flat as (chain, draw).
    fn per_chain(&self, values: &[f64]) -> Array2<f64> {
        let chains = self.posterior_slots().len();
        let draws = values.len() / chains.max(1);
        Array2::from_shape_fn((chains, draws), |(c, k)| values[k * chains + c])
    }

    fn cells_group(&self) -> KeptGroup {
        let dims = self.geometry.dims();
        let mut offsets = Vec::with_capacity(self.kept_counts.len());
        let mut start = 0.0;
        for &k in &self.kept_counts {
            offsets.push(start);
            start += k;
        }
        let total = self.kept_values.len();
        KeptGroup {
            name: group::CELLS,
            attrs: vec![(
                "note".into(),
                crate::core::io::output::AttrValue::Text(
                    "draw (chain c, draw j) has n_cells[c, j] cells from offsets[c, j] on: nuclei rows (grid units, x first) and values".into(),
                ),
            )],
            arrays: vec![
                (var::OFFSETS.into(), self.per_chain(&offsets).into_dyn()),
                (var::N_CELLS.into(), self.per_chain(&self.kept_counts).into_dyn()),
                (
                    var::NUCLEI.into(),
                    Array2::from_shape_vec((total, dims), self.kept_nuclei.clone())
                        .expect("dims per nucleus")
                        .into_dyn(),
                ),
                (var::VALUES.into(), Array1::from(self.kept_values.clone()).into_dyn()),
            ],
        }
    }

    fn explorer_acceptance(&self, tempering: &Tempering) -> Array1<f64> {
        let after = after_burn_in(self.spec.iterations, self.spec.burn_in);
        let temperatures = tempering.betas().len();
        Array1::from_iter((0..temperatures).map(|i| {
            let slots = tempering.slots_at(i);
            slots
                .iter()
                .map(|&s| self.accepted_after_burn_in[s])
                .sum::<f64>()
                / (after * slots.len() as f64)
        }))
    }
}

impl Method for ReversibleJump {
    fn init(&mut self, ctx: &mut RunContext) -> Result<()> {
        let n = self.n_slots();
        self.n_data = ctx.likelihood().map_or(0, |l| l.n_data());
        let owned = ctx.owned(n);
        let states: Vec<State> = owned
            .clone()
            .map(|s| self.initial_state(ctx.seed(), s))
            .collect();
        let fits = self.fit(ctx, &states.iter().map(|s| &s.cells).collect::<Vec<_>>());
        let width = self.width();
        let mut local = vec![0.0; owned.len() * width];
        for (r, (state, (fit, failed))) in states.iter().zip(&fits).enumerate() {
            let head = [0.0, 0.0, f64::from(u8::from(*failed))];
            self.pack(&mut local[r * width..(r + 1) * width], head, state, *fit);
        }
        let rows = ctx.gather_rows(n, width, &local);
        if let Some(s) = (0..n).find(|&s| rows[[s, 2]] > 0.5) {
            return Err(Error::Run(format!(
                "chain {s} starts where the forward model fails (its initial cells were drawn from the prior); check the prior's bounds"
            )));
        }
        self.adopt(&rows);
        Ok(())
    }

    fn step(&mut self, ctx: &mut RunContext) -> Result<StepStats> {
        let (n, t) = (self.n_slots(), ctx.iteration());
        let owned = ctx.owned(n);
        let moves = self.moves();
        let kinds = moves.kinds();

        // Each owned slot's move, proposal and accept uniform from its own stream.
        let mut proposed: Vec<(MoveKind, Option<Proposal>, f64)> = Vec::with_capacity(owned.len());
        for s in owned.clone() {
            let mut rng = member_rng(ctx.seed(), Purpose::Proposal, s as u64, t as u64);
            let kind = kinds[rng.random_range(0..kinds.len())];
            let proposal = moves.propose(kind, &self.states[s], &mut rng);
            let log_u = rng.random::<f64>().ln();
            proposed.push((kind, proposal, log_u));
        }
        let to_solve: Vec<&Cells> = proposed
            .iter()
            .filter(|(kind, p, _)| kind.changes_model() && p.is_some())
            .map(|(_, p, _)| &p.as_ref().expect("filtered").state.cells)
            .collect();
        let n_solved = to_solve.len();
        let mut solved = self.fit(ctx, &to_solve).into_iter();

        // Accept or reject; gather every slot's row.
        let width = self.width();
        let mut local = vec![0.0; owned.len() * width];
        for (r, (s, (kind, proposal, log_u))) in owned.clone().zip(proposed).enumerate() {
            let current = &self.states[s];
            let (mut state, mut fit) = (current, self.fits[s]);
            let (mut accepted, mut failed) = (false, false);
            if let Some(p) = &proposal {
                let new_fit = if kind.changes_model() {
                    let (f, bad) = solved.next().expect("one fit per model-changing proposal");
                    failed = bad;
                    f
                } else {
                    fit
                };
                if !failed {
                    let beta = self.beta(s);
                    let log_alpha = moves.log_prior(&p.state) - moves.log_prior(current)
                        + beta
                            * (self.log_likelihood(new_fit, p.state.lambda)
                                - self.log_likelihood(fit, current.lambda))
                        + p.log_q_ratio;
                    accepted = log_u < log_alpha;
                }
                if accepted {
                    state = &p.state;
                    fit = new_fit;
                }
            }
            let head = [
                f64::from(u8::from(accepted)),
                kind.index() as f64,
                f64::from(u8::from(failed)),
            ];
            self.pack(&mut local[r * width..(r + 1) * width], head, state, fit);
        }
        let rows = ctx.gather_rows(n, width, &local);
        self.adopt(&rows);
        let accepted: Vec<f64> = rows.column(0).to_vec();
        let failed: Vec<f64> = rows.column(2).to_vec();
        for s in 0..n {
            let kind = rows[[s, 1]] as usize;
            self.tried[kind] += 1.0;
            self.accepted[kind] += accepted[s];
        }
        if t >= self.spec.burn_in {
            self.accepted_after_burn_in += &Array1::from(accepted.clone());
        }

        // Swaps of whole states between neighbouring temperatures, the same on every rank.
        let mut traces = Vec::new();
        let tempered_ll = self.tempering.is_some().then(|| {
            (0..n)
                .map(|s| self.log_likelihood(self.fits[s], self.states[s].lambda))
                .collect::<Vec<f64>>()
        });
        if let (Some(tempering), Some(mut ll)) = (&mut self.tempering, tempered_ll) {
            for (a, b) in tempering.swap(ctx.seed(), t, &mut ll) {
                self.states.swap(a, b);
                self.fits.swap(a, b);
            }
            tempering.end_iteration(t, &ll);
            traces.extend(tempering.traces());
        }
        if keeps_draw(t, self.spec.burn_in, self.spec.thin) {
            self.keep_draws(&accepted, &failed);
        }

        let rate = |k: MoveKind| self.accepted[k.index()] / self.tried[k.index()].max(1.0);
        traces.extend([
            (Trace::BirthAcceptance, rate(MoveKind::Birth)),
            (Trace::DeathAcceptance, rate(MoveKind::Death)),
            (Trace::MoveAcceptance, rate(MoveKind::Move)),
            (Trace::ValueAcceptance, rate(MoveKind::Value)),
        ]);
        if self.spec.noise.is_some() {
            traces.push((Trace::NoiseAcceptance, rate(MoveKind::Noise)));
        }
        traces.push((Trace::Acceptance, accepted.iter().sum::<f64>() / n as f64));
        let top = self.posterior_slots();
        let no_failures = vec![false; top.len()];
        let n_data = self.n_data.max(1) as f64;
        Ok(StepStats {
            misfit: mean_over_ok(
                top.iter().map(|&s| self.fits[s].chi2 / n_data),
                &no_failures,
            ),
            lp_mean: mean_over_ok(
                top.iter().map(|&s| {
                    let st = &self.states[s];
                    self.moves().log_prior(st) + self.log_likelihood(self.fits[s], st.lambda)
                }),
                &no_failures,
            ),
            n_evaluated: n_solved.max(1),
            n_failed: failed.iter().sum::<f64>() as usize,
            traces,
            converged: false,
        })
    }

    fn output(&self) -> MethodOutput {
        let after = after_burn_in(self.spec.iterations, self.spec.burn_in);
        let top = self.posterior_slots();
        let mut draw_stats = self.draws.draw_stats();
        draw_stats.push((
            var::N_CELLS,
            DrawValues::I64(self.per_chain(&self.draw_n_cells).mapv(|v| v as i64)),
        ));
        draw_stats.push((
            var::NOISE_SCALE,
            DrawValues::F64(self.per_chain(&self.draw_noise)),
        ));
        let mut kept = vec![self.cells_group()];
        if let Some(t) = &self.tempering {
            kept.push(t.kept(self.explorer_acceptance(t)));
        }
        MethodOutput {
            draws: self.draws.draws(),
            space: Space::Physical,
            draw_stats,
            chain_stats: vec![(
                var::ACCEPTANCE_RATE,
                self.accepted_after_burn_in.select(Axis(0), &top) / after,
            )],
            independent_chains: true,
            kept,
            evidence: Vec::new(),
        }
    }

    fn checkpoint(&self) -> MethodState {
        let mut state = MethodState::new();
        let (n, width) = (self.n_slots(), self.width());
        let mut rows = vec![0.0; n * width];
        for s in 0..n {
            self.pack(
                &mut rows[s * width..(s + 1) * width],
                [0.0; 3],
                &self.states[s],
                self.fits[s],
            );
        }
        state.put(
            "slots",
            Array2::from_shape_vec((n, width), rows)
                .expect("rows")
                .into_dyn(),
        );
        state.put("tried", Array1::from(self.tried.to_vec()).into_dyn());
        state.put("accepted", Array1::from(self.accepted.to_vec()).into_dyn());
        state.put(
            "accepted_after_burn_in",
            self.accepted_after_burn_in.clone().into_dyn(),
        );
        state.put(
            "n_data",
            Array1::from_elem(1, self.n_data as f64).into_dyn(),
        );
        for (name, v) in [
            ("draw_n_cells", &self.draw_n_cells),
            ("draw_noise", &self.draw_noise),
            ("kept_counts", &self.kept_counts),
            ("kept_nuclei", &self.kept_nuclei),
            ("kept_values", &self.kept_values),
        ] {
            state.put(name, Array1::from(v.clone()).into_dyn());
        }
        self.draws.checkpoint(&mut state);
        if let Some(t) = &self.tempering {
            t.checkpoint(&mut state);
        }
        state
    }

    fn restore(&mut self, state: &MethodState) -> Result<()> {
        let (n, width) = (self.n_slots(), self.width());
        let rows = state.array2("slots", [n, width])?;
        self.adopt(&rows);
        let five = |name: &str| -> Result<[f64; 5]> {
            let a = state.array1(name, 5)?;
            Ok([a[0], a[1], a[2], a[3], a[4]])
        };
        self.tried = five("tried")?;
        self.accepted = five("accepted")?;
        self.accepted_after_burn_in = state.array1("accepted_after_burn_in", n)?;
        self.n_data = state.array1("n_data", 1)?[0] as usize;
        let any = |name: &str| -> Result<Vec<f64>> {
            let len = state.len_of(name, 0)?;
            Ok(state.array1(name, len)?.to_vec())
        };
        self.draw_n_cells = any("draw_n_cells")?;
        self.draw_noise = any("draw_noise")?;
        self.kept_counts = any("kept_counts")?;
        self.kept_nuclei = any("kept_nuclei")?;
        self.kept_values = any("kept_values")?;
        self.draws.restore(state)?;
        if let Some(t) = &mut self.tempering {
            t.restore(state)?;
        }
        Ok(())
    }
}
