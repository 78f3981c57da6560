//! Voronoi cells on a problem's parameter grid: nuclei with values, projected onto the grid
//! by nearest nucleus (ties to the lower nucleus index), and the trans-dimensional prior of
//! Bodin & Sambridge (2009) on labelled nuclei: k uniform on [min, max]; nuclei uniform in the
//! grid's box (density 1/V each) or on distinct nodes ((N − k)!/N! for the ordered k-tuple);
//! each value from the config's prior marginal at its nucleus's node (the nearest node, ties to
//! the lower index).

use ndarray::ArrayViewMut1;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::config::{NucleiKind, ValuePrior};
use crate::core::config::spec::{GridSpec, Marginals};

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// The grid's nodes (their coordinates computed once: projections read them for every
/// proposal) and box.
#[derive(Debug, Clone)]
pub struct Geometry {
    pub grid: GridSpec,
    pub nuclei: NucleiKind,
    /// n_nodes × dims.
    coordinates: Vec<f64>,
}

impl Geometry {
    pub fn new(grid: GridSpec, nuclei: NucleiKind) -> Self {
        let mut geometry = Geometry {
            grid,
            nuclei,
            coordinates: Vec::new(),
        };
        geometry.coordinates = (0..geometry.n_nodes())
            .flat_map(|node| {
                let index = geometry.multi_index(node);
                let grid = &geometry.grid;
                (0..grid.dims())
                    .map(move |a| grid.origin[a] + grid.spacing[a] * index[a] as f64)
                    .collect::<Vec<f64>>()
            })
            .collect();
        geometry
    }

    pub fn dims(&self) -> usize {
        self.grid.dims()
    }

    pub fn n_nodes(&self) -> usize {
        self.grid.n_nodes()
    }

    /// The grid index of `node` along each axis (x fastest).
    pub fn multi_index(&self, node: usize) -> Vec<usize> {
        let mut rest = node;
        self.grid
            .shape
            .iter()
            .map(|&n| {
                let i = rest % n;
                rest /= n;
                i
            })
            .collect()
    }

    /// The node at a grid index, if inside the grid.
    pub fn node_at(&self, index: &[i64]) -> Option<usize> {
        let mut node = 0usize;
        for a in (0..self.dims()).rev() {
            let n = self.grid.shape[a] as i64;
            if index[a] < 0 || index[a] >= n {
                return None;
            }
            node = node * n as usize + index[a] as usize;
        }
        Some(node)
    }

    pub fn coordinates(&self, node: usize) -> &[f64] {
        let dims = self.dims();
        &self.coordinates[node * dims..(node + 1) * dims]
    }

    /// The node nearest to a point of the box (per axis; a point halfway goes to the lower).
    pub fn nearest_node(&self, point: &[f64]) -> usize {
        let index: Vec<i64> = (0..self.dims())
            .map(|a| {
                let t = (point[a] - self.grid.origin[a]) / self.grid.spacing[a];
                let f = t.floor();
                let i = if t - f > 0.5 { f + 1.0 } else { f };
                (i as i64).clamp(0, self.grid.shape[a] as i64 - 1)
            })
            .collect();
        self.node_at(&index).expect("clamped into the grid")
    }

    pub fn contains(&self, point: &[f64]) -> bool {
        (0..self.dims()).all(|a| point[a] >= self.grid.origin[a] && point[a] <= self.grid.end(a))
    }

    /// ln V of the box the nuclei lie in.
    pub fn log_volume(&self) -> f64 {
        (0..self.dims())
            .map(|a| (self.grid.end(a) - self.grid.origin[a]).ln())
            .sum()
    }

    /// ln of the density of one more nucleus placed uniformly among the `k` present ones:
    /// −ln V, or −ln(N − k) on the free nodes.
    pub fn log_placement(&self, k: usize) -> f64 {
        match self.nuclei {
            NucleiKind::Continuous => -self.log_volume(),
            NucleiKind::Nodes => -((self.n_nodes() - k) as f64).ln(),
        }
    }

    /// ln p(nuclei | k) of k labelled nuclei: Σ_{i<k} [`log_placement`](Self::log_placement)(i).
    pub fn log_nuclei_prior(&self, k: usize) -> f64 {
        (0..k).map(|i| self.log_placement(i)).sum()
    }

    /// A uniform placement among the `cells`' nuclei: a point of the box, or a free node.
    pub fn place(&self, cells: &Cells, rng: &mut impl rand::Rng) -> (Vec<f64>, usize) {
        match self.nuclei {
            NucleiKind::Continuous => {
                let point: Vec<f64> = (0..self.dims())
                    .map(|a| {
                        let u: f64 = rng.random();
                        self.grid.origin[a] + u * (self.grid.end(a) - self.grid.origin[a])
                    })
                    .collect();
                let node = self.nearest_node(&point);
                (point, node)
            }
            NucleiKind::Nodes => {
                let free = self.n_nodes() - cells.len();
                let mut r = rng.random_range(0..free);
                let node = (0..self.n_nodes())
                    .find(|node| {
                        if cells.nodes.contains(node) {
                            return false;
                        }
                        if r == 0 {
                            return true;
                        }
                        r -= 1;
                        false
                    })
                    .expect("a free node");
                (self.coordinates(node).to_vec(), node)
            }
        }
    }
}

/// Labelled nuclei with their nodes and values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cells {
    /// k × dims coordinates.
    pub positions: Vec<f64>,
    pub nodes: Vec<usize>,
    pub values: Vec<f64>,
}

impl Cells {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn position(&self, j: usize, dims: usize) -> &[f64] {
        &self.positions[j * dims..(j + 1) * dims]
    }

    pub fn insert(&mut self, at: usize, position: &[f64], node: usize, value: f64) {
        let dims = position.len();
        let tail = self.positions.split_off(at * dims);
        self.positions.extend_from_slice(position);
        self.positions.extend(tail);
        self.nodes.insert(at, node);
        self.values.insert(at, value);
    }

    /// Removes nucleus j: its position, node and value.
    pub fn remove(&mut self, j: usize, dims: usize) -> (Vec<f64>, usize, f64) {
        let position: Vec<f64> = self.positions.drain(j * dims..(j + 1) * dims).collect();
        (position, self.nodes.remove(j), self.values.remove(j))
    }

    /// The nucleus nearest to `point` (squared distance; ties to the lower index).
    pub fn nearest(&self, point: &[f64], dims: usize) -> usize {
        let mut best = (f64::INFINITY, 0);
        for j in 0..self.len() {
            let p = self.position(j, dims);
            let d: f64 = (0..dims).map(|a| (p[a] - point[a]).powi(2)).sum();
            if d < best.0 {
                best = (d, j);
            }
        }
        best.1
    }

    /// The model on the grid: every node takes its nearest nucleus's value.
    pub fn project(&self, geometry: &Geometry, mut model: ArrayViewMut1<f64>) {
        let dims = geometry.dims();
        for node in 0..geometry.n_nodes() {
            model[node] = self.values[self.nearest(geometry.coordinates(node), dims)];
        }
    }
}

impl ValuePrior {
    /// The normalised ln density of value `v` at `node`.
    pub fn log_density(&self, node: usize, v: f64) -> f64 {
        match &self.0 {
            Marginals::Uniform { lower, upper } => {
                if v >= lower[node] && v <= upper[node] {
                    -(upper[node] - lower[node]).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Marginals::Gaussian { mean, std } => {
                let z = (v - mean[node]) / std[node];
                -0.5 * z * z - std[node].ln() - LN_SQRT_2PI
            }
        }
    }

    pub fn draw(&self, node: usize, rng: &mut impl rand::Rng) -> f64 {
        match &self.0 {
            Marginals::Uniform { lower, upper } => {
                let u: f64 = rng.random();
                lower[node] + u * (upper[node] - lower[node])
            }
            Marginals::Gaussian { mean, std } => {
                let z: f64 = rng.sample(StandardNormal);
                mean[node] + std[node] * z
            }
        }
    }

    /// A tenth of the mean range (uniform) or half the mean std (Gaussian).
    pub fn default_step(&self) -> f64 {
        match &self.0 {
            Marginals::Uniform { lower, upper } => 0.1 * (upper - lower).mean().unwrap_or(1.0),
            Marginals::Gaussian { std, .. } => 0.5 * std.mean().unwrap_or(1.0),
        }
    }
}

/// ln N(v; mean, std²).
pub fn log_normal(v: f64, mean: f64, std: f64) -> f64 {
    let z = (v - mean) / std;
    -0.5 * z * z - std.ln() - LN_SQRT_2PI
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;

    fn geometry(nuclei: NucleiKind) -> Geometry {
        Geometry::new(
            GridSpec {
                origin: vec![0.0, 10.0],
                spacing: vec![1.0, 2.0],
                shape: vec![4, 3],
            },
            nuclei,
        )
    }

    #[test]
    fn nodes_and_indices_round_trip_with_x_fastest() {
        let g = geometry(NucleiKind::Nodes);
        assert_eq!(g.multi_index(5), [1, 1]);
        assert_eq!(g.coordinates(5), [1.0, 12.0]);
        for node in 0..12 {
            let index: Vec<i64> = g.multi_index(node).iter().map(|&i| i as i64).collect();
            assert_eq!(g.node_at(&index), Some(node));
            assert_eq!(g.nearest_node(g.coordinates(node)), node);
        }
        assert_eq!(g.node_at(&[4, 0]), None);
        // Halfway between nodes 0 and 1 (x = 0.5) goes to the lower.
        assert_eq!(g.nearest_node(&[0.5, 10.0]), 0);
        assert_eq!(g.nearest_node(&[0.51, 12.9]), 5);
    }

    #[test]
    fn projection_takes_the_nearest_nucleus_and_ties_go_to_the_lower_index() {
        let g = geometry(NucleiKind::Nodes);
        let mut cells = Cells::default();
        // Nuclei at x = 3 and x = 1 on the first row: node x = 2 is equidistant.
        cells.insert(0, &[3.0, 10.0], 3, 7.0);
        cells.insert(1, &[1.0, 10.0], 1, 5.0);
        let mut m = Array1::zeros(12);
        cells.project(&g, m.view_mut());
        assert_eq!(m.slice(ndarray::s![0..4]).to_vec(), [5.0, 5.0, 7.0, 7.0]);
        // Swapping the labels moves the tie to the other nucleus.
        let mut swapped = Cells::default();
        swapped.insert(0, &[1.0, 10.0], 1, 5.0);
        swapped.insert(1, &[3.0, 10.0], 3, 7.0);
        swapped.project(&g, m.view_mut());
        assert_eq!(m[2], 5.0);
    }

    #[test]
    fn the_nuclei_prior_counts_ordered_tuples_of_distinct_nodes() {
        let g = geometry(NucleiKind::Nodes);
        // 12 · 11 · 10 ordered triples.
        assert!((g.log_nuclei_prior(3) + (1320f64).ln()).abs() < 1e-12);
        let c = geometry(NucleiKind::Continuous);
        // Box 3 × 4.
        assert!((c.log_nuclei_prior(2) + 2.0 * 12f64.ln()).abs() < 1e-12);
    }
}
