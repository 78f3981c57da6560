//! The linear layer y = μ + L z with L lower triangular, diag(L) = exp(ω) > 0: mean-field ADVI
//! (diagonal L), full-rank ADVI (dense lower L) and PSVI (L with entries only between grid
//! neighbours inside a template, Zhao & Curtis's physically structured VI). The strictly lower
//! entries are stored row by row (columns ascending), O(P × band) memory and time; a template
//! that covers every axis gives exactly the full structure, entry for entry and in the same
//! summation order. log|det| = Σ ω.

use ndarray::{ArrayView1, ArrayViewMut1};

use super::Layer;

/// Which entries of L are free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Structure {
    Diagonal,
    Full,
    /// Entries between nodes of the grid `shape` (x first) whose offsets lie inside the
    /// template (odd widths per axis).
    Banded {
        template: Vec<usize>,
        shape: Vec<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct Linear {
    dim: usize,
    /// Row i's strictly lower entries are `cols[row_start[i]..row_start[i + 1]]`, ascending.
    row_start: Vec<usize>,
    cols: Vec<u32>,
}

impl Linear {
    /// The layer over `dim` parameters (the identity at initialisation).
    pub fn new(structure: &Structure, dim: usize) -> Self {
        let mut row_start = Vec::with_capacity(dim + 1);
        let mut cols = Vec::new();
        row_start.push(0);
        for i in 0..dim {
            match structure {
                Structure::Diagonal => {}
                Structure::Full => cols.extend((0..i).map(|j| j as u32)),
                Structure::Banded { template, shape } => {
                    lower_neighbours(i, template, shape, &mut cols)
                }
            }
            row_start.push(cols.len());
        }
        Linear {
            dim,
            row_start,
            cols,
        }
    }

    /// The strictly lower entries.
    pub fn n_entries(&self) -> usize {
        self.cols.len()
    }

    /// (μ, L) of the Gaussian q = N(μ, L Lᵀ) this layer makes of z ~ N(0, I), L dense.
    pub fn mean_and_factor(&self, theta: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let d = self.dim;
        let mut l = vec![vec![0.0; d]; d];
        for i in 0..d {
            l[i][i] = theta[d + i].exp();
            for k in self.row_start[i]..self.row_start[i + 1] {
                l[i][self.cols[k] as usize] = theta[2 * d + k];
            }
        }
        (theta[..d].to_vec(), l)
    }
}

/// Appends the nodes j < i of the grid `shape` (x first, x fastest) within the template of i,
/// in ascending order.
fn lower_neighbours(i: usize, template: &[usize], shape: &[usize], cols: &mut Vec<u32>) {
    let axes = shape.len();
    let mut coord = [0usize; 3];
    let mut stride = [0usize; 3];
    let mut s = 1;
    for a in 0..axes {
        coord[a] = (i / s) % shape[a];
        stride[a] = s;
        s *= shape[a];
    }
    let half: Vec<isize> = template.iter().map(|&w| (w as isize - 1) / 2).collect();
    let h = |a: usize| if a < axes { half[a] } else { 0 };
    // Offsets in lexicographic order of (z, y, x): ascending node index.
    for dz in -h(2)..=h(2) {
        for dy in -h(1)..=h(1) {
            for dx in -h(0)..=h(0) {
                let offset = [dx, dy, dz];
                let mut j = 0isize;
                let mut inside = true;
                for a in 0..axes {
                    let c = coord[a] as isize + offset[a];
                    inside &= c >= 0 && c < shape[a] as isize;
                    j += c * stride[a] as isize;
                }
                if inside && (j as usize) < i {
                    cols.push(j as u32);
                }
            }
        }
    }
}

impl Layer for Linear {
    fn kind(&self) -> &'static str {
        "linear"
    }

    fn n_params(&self) -> usize {
        2 * self.dim + self.cols.len()
    }

    fn init(&self, theta: &mut [f64]) {
        theta.fill(0.0);
    }

    fn place(&self, theta: &mut [f64], mean: &[f64], scale: &[f64]) -> bool {
        let d = self.dim;
        theta[..d].copy_from_slice(mean);
        for i in 0..d {
            theta[d + i] = scale[i].ln();
        }
        true
    }

    fn forward(&self, theta: &[f64], z: ArrayView1<f64>, mut y: ArrayViewMut1<f64>) -> f64 {
        let d = self.dim;
        let mut log_det = 0.0;
        for i in 0..d {
            let mut s = theta[i] + theta[d + i].exp() * z[i];
            for k in self.row_start[i]..self.row_start[i + 1] {
                s += theta[2 * d + k] * z[self.cols[k] as usize];
            }
            y[i] = s;
            log_det += theta[d + i];
        }
        log_det
    }

    fn backward(
        &self,
        theta: &[f64],
        z: ArrayView1<f64>,
        y_bar: ArrayView1<f64>,
        log_det_bar: f64,
        mut z_bar: ArrayViewMut1<f64>,
        theta_bar: &mut [f64],
    ) {
        let d = self.dim;
        for i in 0..d {
            let scale = theta[d + i].exp();
            z_bar[i] = scale * y_bar[i];
            theta_bar[i] += y_bar[i];
            theta_bar[d + i] += y_bar[i] * scale * z[i] + log_det_bar;
        }
        for i in 0..d {
            for k in self.row_start[i]..self.row_start[i + 1] {
                let j = self.cols[k] as usize;
                z_bar[j] += theta[2 * d + k] * y_bar[i];
                theta_bar[2 * d + k] += y_bar[i] * z[j];
            }
        }
    }

    fn inverse(&self, theta: &[f64], y: ArrayView1<f64>, mut z: ArrayViewMut1<f64>) {
        let d = self.dim;
        for i in 0..d {
            let mut s = y[i] - theta[i];
            for k in self.row_start[i]..self.row_start[i + 1] {
                s -= theta[2 * d + k] * z[self.cols[k] as usize];
            }
            z[i] = s / theta[d + i].exp();
        }
    }

    fn push_score(
        &self,
        theta: &[f64],
        _z: ArrayView1<f64>,
        score: ArrayView1<f64>,
        mut out: ArrayViewMut1<f64>,
    ) {
        // log|det| is constant: solve Lᵀ out = s by back substitution, rows from the last,
        // each row's lower entries moved to the right-hand side once its value is known.
        let d = self.dim;
        out.assign(&score);
        for i in (0..d).rev() {
            let v = out[i] / theta[d + i].exp();
            out[i] = v;
            for k in self.row_start[i]..self.row_start[i + 1] {
                out[self.cols[k] as usize] -= theta[2 * d + k] * v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;
    use crate::inference::flows::check;

    fn random_theta(layer: &Linear, seed: u64) -> Vec<f64> {
        (0..layer.n_params())
            .map(|k| ((k as f64 + 1.0) * 0.618 + seed as f64).sin() * 0.4)
            .collect()
    }

    #[test]
    fn every_structure_passes_the_layer_checks() {
        let z = Array1::from_iter((0..6).map(|i| (i as f64 * 1.3).cos() * 1.5));
        let structures = [
            Structure::Diagonal,
            Structure::Full,
            Structure::Banded {
                template: vec![3, 3],
                shape: vec![3, 2],
            },
        ];
        for s in &structures {
            let layer = Linear::new(s, 6);
            check::layer(&layer, &random_theta(&layer, 1), &z);
        }
    }

    #[test]
    fn the_initial_layer_is_the_identity_for_a_standard_start() {
        let layer = Linear::new(&Structure::Full, 4);
        let mut theta = vec![1.0; layer.n_params()];
        layer.init(&mut theta);
        let z = Array1::from(vec![0.3, -1.0, 2.0, 0.1]);
        let mut y = Array1::zeros(4);
        let log_det = layer.forward(&theta, z.view(), y.view_mut());
        assert_eq!(log_det, 0.0);
        for i in 0..4 {
            assert!((y[i] - z[i]).abs() <= 1e-12);
        }
    }

    #[test]
    fn a_template_over_whole_axes_is_the_full_structure() {
        let shape = vec![4, 3];
        let full = Linear::new(&Structure::Full, 12);
        let banded = Linear::new(
            &Structure::Banded {
                template: vec![7, 5],
                shape,
            },
            12,
        );
        assert_eq!(banded.row_start, full.row_start);
        assert_eq!(banded.cols, full.cols);
    }

    #[test]
    fn a_banded_row_holds_its_lower_template_neighbours() {
        // 5 × 5 template on a 10 × 10 grid: 12 lower neighbours for an interior node.
        let layer = Linear::new(
            &Structure::Banded {
                template: vec![5, 5],
                shape: vec![10, 10],
            },
            100,
        );
        let i = 5 * 10 + 5;
        let row: Vec<u32> = layer.cols[layer.row_start[i]..layer.row_start[i + 1]].to_vec();
        assert_eq!(row.len(), 12);
        assert_eq!(row[0], (3 * 10 + 3) as u32);
        assert_eq!(*row.last().unwrap(), (5 * 10 + 4) as u32);
        // 3-D: a 3 × 3 × 3 template, 13 lower neighbours inside.
        let layer = Linear::new(
            &Structure::Banded {
                template: vec![3, 3, 3],
                shape: vec![4, 4, 4],
            },
            64,
        );
        let i = 16 + 4 + 1;
        assert_eq!(layer.row_start[i + 1] - layer.row_start[i], 13);
    }
}
