//! RJ-McMC's moves on labelled Voronoi cells (Green 1995; Bodin & Sambridge 2009) and their
//! proposal ratios ln q(s | s') − ln q(s' | s). Each iteration picks one move uniformly among
//! birth, death, move, value (and noise with hierarchical noise), so the move-choice
//! probabilities cancel. A birth inserts its nucleus at a uniform position among the k + 1
//! labels and a death removes a uniform label, so births and deaths pair one to one:
//!
//! - birth from the prior: ln q-ratio = −ln q_place(k) − ln p(v) (so α = likelihood ratio);
//! - birth from the neighbour, v = v_nn + σ_b u: ln q-ratio = −ln q_place(k) − ln N(v; v_nn, σ_b)
//!   (the Jacobian |∂v/∂u| = σ_b is in the density of v), nn the nucleus nearest to the new one;
//! - death: the reverse of either, with q_place(k − 1) and nn the nearest remaining nucleus;
//! - move a nucleus (a Gaussian step, rounded to whole nodes with `nuclei: nodes`) and perturb
//!   a value or λ (Gaussian steps): symmetric, ratio 0.
//!
//! A proposal outside the support (k beyond [min, max], a nucleus outside the box or on an
//! occupied node, λ outside its prior) is rejected without a forward solve.

use rand::RngExt;
use rand_distr::StandardNormal;

use super::config::{BirthKind, NucleiKind, Spec};
use super::voronoi::{Cells, Geometry, log_normal};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    Birth,
    Death,
    Move,
    Value,
    Noise,
}

impl MoveKind {
    pub const ALL: [MoveKind; 5] = [
        MoveKind::Birth,
        MoveKind::Death,
        MoveKind::Move,
        MoveKind::Value,
        MoveKind::Noise,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the move changes the model (and so needs a forward solve).
    pub fn changes_model(self) -> bool {
        self != MoveKind::Noise
    }
}

/// A chain's state: its cells and noise scale.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub cells: Cells,
    pub lambda: f64,
}

/// A proposed state and ln q(s | s') − ln q(s' | s).
#[derive(Debug, Clone)]
pub struct Proposal {
    pub state: State,
    pub log_q_ratio: f64,
}

/// What the moves need: the grid, the priors and the steps.
pub struct Moves<'a> {
    pub spec: &'a Spec,
    pub geometry: &'a Geometry,
}

impl Moves<'_> {
    /// The moves on offer (noise only with hierarchical noise).
    pub fn kinds(&self) -> &'static [MoveKind] {
        if self.spec.noise.is_some() {
            &MoveKind::ALL
        } else {
            &MoveKind::ALL[..4]
        }
    }

    /// ln of the prior density of a state (−∞ outside the support).
    pub fn log_prior(&self, state: &State) -> f64 {
        let k = state.cells.len();
        if k < self.spec.k_min || k > self.spec.k_max {
            return f64::NEG_INFINITY;
        }
        let mut lp = -((self.spec.k_max - self.spec.k_min + 1) as f64).ln()
            + self.geometry.log_nuclei_prior(k);
        for j in 0..k {
            lp += self
                .spec
                .values
                .log_density(state.cells.nodes[j], state.cells.values[j]);
        }
        if let Some((lower, upper, _)) = self.spec.noise {
            lp += if (lower..=upper).contains(&state.lambda) {
                -(upper - lower).ln()
            } else {
                f64::NEG_INFINITY
            };
        }
        lp
    }

    /// ln density of a new cell's value (the birth kernel), the nucleus at `position` among
    /// `cells` (the others).
    fn log_birth_value(&self, cells: &Cells, position: &[f64], node: usize, v: f64) -> f64 {
        match self.spec.birth {
            BirthKind::Prior => self.spec.values.log_density(node, v),
            BirthKind::Neighbour => {
                let nn = cells.nearest(position, self.geometry.dims());
                log_normal(v, cells.values[nn], self.spec.birth_step)
            }
        }
    }

    /// Proposes `kind` from `state`; `None` where the move leaves the support.
    pub fn propose(
        &self,
        kind: MoveKind,
        state: &State,
        rng: &mut impl rand::Rng,
    ) -> Option<Proposal> {
        let dims = self.geometry.dims();
        let k = state.cells.len();
        let mut next = state.clone();
        let log_q_ratio = match kind {
            MoveKind::Birth => {
                if k >= self.spec.k_max {
                    return None;
                }
                let (position, node) = self.geometry.place(&state.cells, rng);
                let value = match self.spec.birth {
                    BirthKind::Prior => self.spec.values.draw(node, rng),
                    BirthKind::Neighbour => {
                        let nn = state.cells.nearest(&position, dims);
                        let u: f64 = rng.sample(StandardNormal);
                        state.cells.values[nn] + self.spec.birth_step * u
                    }
                };
                let at = rng.random_range(0..=k);
                next.cells.insert(at, &position, node, value);
                -self.geometry.log_placement(k)
                    - self.log_birth_value(&state.cells, &position, node, value)
            }
            MoveKind::Death => {
                if k <= self.spec.k_min {
                    return None;
                }
                let j = rng.random_range(0..k);
                let (position, node, value) = next.cells.remove(j, dims);
                self.geometry.log_placement(k - 1)
                    + self.log_birth_value(&next.cells, &position, node, value)
            }
            MoveKind::Move => {
                let j = rng.random_range(0..k);
                let step = self.spec.position_step;
                let old = state.cells.position(j, dims).to_vec();
                let (position, node) = match self.geometry.nuclei {
                    NucleiKind::Continuous => {
                        let p: Vec<f64> = old
                            .iter()
                            .map(|&x| x + step * rng.sample::<f64, _>(StandardNormal))
                            .collect();
                        if !self.geometry.contains(&p) {
                            return None;
                        }
                        let node = self.geometry.nearest_node(&p);
                        (p, node)
                    }
                    NucleiKind::Nodes => {
                        let index = self.geometry.multi_index(state.cells.nodes[j]);
                        let moved: Vec<i64> = (0..dims)
                            .map(|a| {
                                let z: f64 = rng.sample(StandardNormal);
                                index[a] as i64
                                    + (step * z / self.geometry.grid.spacing[a]).round() as i64
                            })
                            .collect();
                        let node = self.geometry.node_at(&moved)?;
                        if node != state.cells.nodes[j] && state.cells.nodes.contains(&node) {
                            return None;
                        }
                        (self.geometry.coordinates(node).to_vec(), node)
                    }
                };
                next.cells.positions[j * dims..(j + 1) * dims].copy_from_slice(&position);
                next.cells.nodes[j] = node;
                0.0
            }
            MoveKind::Value => {
                let j = rng.random_range(0..k);
                let z: f64 = rng.sample(StandardNormal);
                next.cells.values[j] += self.spec.value_step * z;
                0.0
            }
            MoveKind::Noise => {
                let (_, _, step) = self
                    .spec
                    .noise
                    .expect("noise moves need hierarchical noise");
                let z: f64 = rng.sample(StandardNormal);
                next.lambda += step * z;
                0.0
            }
        };
        Some(Proposal {
            state: next,
            log_q_ratio,
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::core::config::spec::{GridSpec, InitSpec, Marginals, MembersSpec};
    use crate::inference::methods::rjmcmc::config::ValuePrior;

    fn spec(nuclei: NucleiKind, birth: BirthKind) -> Spec {
        let n = 12;
        Spec {
            members: MembersSpec {
                n: 1,
                init: InitSpec::ByMethod,
                max_failed_fraction: 0.5,
            },
            iterations: 10,
            burn_in: 1,
            thin: 1,
            grid: GridSpec {
                origin: vec![0.0, 0.0],
                spacing: vec![1.0, 0.5],
                shape: vec![4, 3],
            },
            k_min: 1,
            k_max: 6,
            nuclei,
            birth,
            // Per-node bounds: the value's prior depends on its nucleus's node.
            values: ValuePrior(Marginals::Uniform {
                lower: Array1::from_iter((0..n).map(|i| 1.0 + 0.01 * i as f64)),
                upper: Array1::from_iter((0..n).map(|i| 4.0 + 0.02 * i as f64)),
            }),
            value_step: 0.3,
            position_step: 0.7,
            birth_step: 0.4,
            noise: Some((0.5, 3.0, 0.1)),
            tempering: None,
        }
    }

    /// The test spec and its geometry.
    fn setup(nuclei: NucleiKind, birth: BirthKind) -> (Spec, Geometry) {
        let spec = spec(nuclei, birth);
        let geometry = Geometry::new(spec.grid.clone(), nuclei);
        (spec, geometry)
    }

    fn state(geometry: &Geometry) -> State {
        let mut cells = Cells::default();
        for (j, node) in [5usize, 0, 10].into_iter().enumerate() {
            cells.insert(j, geometry.coordinates(node), node, 2.0 + 0.3 * j as f64);
        }
        State { cells, lambda: 1.2 }
    }

    /// The transition density of `kind` from `a` to `b`, by enumerating every label the move
    /// could insert or remove and every way it could produce `b` (brute force, from the
    /// move's definition: uniform labels, uniform placement, value from the birth kernel via
    /// u with its Jacobian 1/σ_b).
    fn transition_density(moves: &Moves, kind: MoveKind, a: &State, b: &State) -> f64 {
        let g = moves.geometry;
        let dims = g.dims();
        let (ka, kb) = (a.cells.len(), b.cells.len());
        let mut total = 0.0;
        match kind {
            MoveKind::Birth if kb == ka + 1 => {
                for at in 0..=ka {
                    let mut trial = a.cells.clone();
                    let (p, node, v) = b.cells.clone().remove(at, dims);
                    trial.insert(at, &p, node, v);
                    if trial != b.cells {
                        continue;
                    }
                    let place = match g.nuclei {
                        NucleiKind::Continuous => 1.0 / g.log_volume().exp(),
                        NucleiKind::Nodes => 1.0 / (g.n_nodes() - ka) as f64,
                    };
                    let value = match moves.spec.birth {
                        BirthKind::Prior => moves.spec.values.log_density(node, v).exp(),
                        BirthKind::Neighbour => {
                            let nn = a.cells.nearest(&p, dims);
                            let u = (v - a.cells.values[nn]) / moves.spec.birth_step;
                            (-0.5 * u * u).exp()
                                / (2.0 * std::f64::consts::PI).sqrt()
                                / moves.spec.birth_step
                        }
                    };
                    total += place * value / (ka + 1) as f64;
                }
            }
            MoveKind::Death if kb + 1 == ka => {
                for j in 0..ka {
                    let mut trial = a.cells.clone();
                    trial.remove(j, dims);
                    if trial == b.cells {
                        total += 1.0 / ka as f64;
                    }
                }
            }
            _ => unreachable!("births and deaths only"),
        }
        total
    }

    fn check_birth_and_death(nuclei: NucleiKind, birth: BirthKind) {
        let (spec, geometry) = setup(nuclei, birth);
        let moves = Moves {
            spec: &spec,
            geometry: &geometry,
        };
        let s = state(&geometry);
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for (kind, reverse) in [
                (MoveKind::Birth, MoveKind::Death),
                (MoveKind::Death, MoveKind::Birth),
            ] {
                let Some(p) = moves.propose(kind, &s, &mut rng) else {
                    continue;
                };
                let brute = transition_density(&moves, reverse, &p.state, &s).ln()
                    - transition_density(&moves, kind, &s, &p.state).ln();
                if brute.is_finite() || p.log_q_ratio.is_finite() {
                    assert!(
                        (p.log_q_ratio - brute).abs() < 1e-12,
                        "{nuclei:?} {birth:?} {kind:?} seed {seed}: {} vs brute force {brute}",
                        p.log_q_ratio
                    );
                }
                // The prior ratio from an independent count: k uniform, ordered nuclei,
                // values from the per-node marginals.
                let independent = |st: &State| {
                    let k = st.cells.len();
                    let nuclei_part = match nuclei {
                        NucleiKind::Continuous => -(k as f64) * geometry.log_volume(),
                        NucleiKind::Nodes => -(0..k).map(|i| ((12 - i) as f64).ln()).sum::<f64>(),
                    };
                    let values: f64 = (0..k)
                        .map(|j| {
                            spec.values
                                .log_density(st.cells.nodes[j], st.cells.values[j])
                        })
                        .sum();
                    -(6f64).ln() + nuclei_part + values - (2.5f64).ln()
                };
                for st in [&s, &p.state] {
                    let (a, b) = (moves.log_prior(st), independent(st));
                    assert!(a == b || (a - b).abs() < 1e-12, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn birth_and_death_ratios_match_brute_force_transition_densities() {
        for nuclei in [NucleiKind::Continuous, NucleiKind::Nodes] {
            for birth in [BirthKind::Prior, BirthKind::Neighbour] {
                check_birth_and_death(nuclei, birth);
            }
        }
    }

    #[test]
    fn a_prior_birth_is_accepted_on_the_likelihood_ratio_alone() {
        // Green's ratio for a birth from the prior: the prior ratio × the proposal ratio is 1.
        for nuclei in [NucleiKind::Continuous, NucleiKind::Nodes] {
            let (spec, geometry) = setup(nuclei, BirthKind::Prior);
            let moves = Moves {
                spec: &spec,
                geometry: &geometry,
            };
            let s = state(&geometry);
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let p = moves.propose(MoveKind::Birth, &s, &mut rng).unwrap();
            let log_ratio = moves.log_prior(&p.state) - moves.log_prior(&s) + p.log_q_ratio;
            assert!(log_ratio.abs() < 1e-12, "{nuclei:?}: {log_ratio}");
        }
    }

    #[test]
    fn moves_of_nuclei_are_symmetric_and_stay_in_the_support() {
        // Continuous: a Gaussian step, its density the same both ways. Nodes: the chance of an
        // index offset Δ is Π_a P(round(σ z / h_a) = Δ_a), the same for −Δ (rounding is odd);
        // checked by counting offsets over many draws.
        let spec = spec(NucleiKind::Nodes, BirthKind::Prior);
        let geometry = Geometry::new(
            GridSpec {
                origin: vec![0.0, 0.0],
                spacing: vec![1.0, 0.5],
                shape: vec![40, 40],
            },
            NucleiKind::Nodes,
        );
        let spec = Spec {
            grid: geometry.grid.clone(),
            k_max: 2,
            ..spec
        };
        let moves = Moves {
            spec: &spec,
            geometry: &geometry,
        };
        let centre = geometry.node_at(&[20, 20]).unwrap();
        let mut cells = Cells::default();
        cells.insert(0, geometry.coordinates(centre), centre, 2.0);
        let s = State { cells, lambda: 1.0 };
        let mut counts = std::collections::HashMap::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let draws = 200_000;
        for _ in 0..draws {
            let p = moves.propose(MoveKind::Move, &s, &mut rng).unwrap();
            assert_eq!(p.log_q_ratio, 0.0);
            let index = geometry.multi_index(p.state.cells.nodes[0]);
            *counts
                .entry((index[0] as i64 - 20, index[1] as i64 - 20))
                .or_insert(0usize) += 1;
        }
        for (&(dx, dy), &n) in &counts {
            let mirrored = counts.get(&(-dx, -dy)).copied().unwrap_or(0);
            let (a, b) = (n as f64, mirrored as f64);
            // Two counts of one multinomial cell each: |a − b| within 5 √(a + b).
            assert!(
                (a - b).abs() <= 5.0 * (a + b).sqrt() + 1.0,
                "offset ({dx}, {dy}): {n} vs {mirrored}"
            );
        }
        assert!(counts.len() > 9, "the step reaches several nodes");
    }
}
