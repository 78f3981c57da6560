//! `MethodState`: everything a method needs to resume, as named f64 arrays. It is the boundary
//! between methods (which fill it) and the checkpoint file (which stores it as the `checkpoint`
//! group); counters are stored as exact f64 (integers below 2^53).

use ndarray::{Array1, Array2, Array3, ArrayD, Dimension, IxDyn};

use crate::core::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MethodState {
    entries: Vec<(String, ArrayD<f64>)>,
}

impl MethodState {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, name: &str, array: ArrayD<f64>) {
        assert!(
            self.entries.iter().all(|(n, _)| n != name),
            "state entry {name} stored twice"
        );
        self.entries.push((name.to_string(), array));
    }

    pub fn put_scalar(&mut self, name: &str, value: f64) {
        self.put(name, ArrayD::from_elem(IxDyn(&[]), value));
    }

    pub fn entries(&self) -> &[(String, ArrayD<f64>)] {
        &self.entries
    }

    /// The array stored under `name`; an error (a damaged or foreign checkpoint) when absent.
    pub fn get(&self, name: &str) -> Result<&ArrayD<f64>> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "the checkpoint has no `{name}`: it was written by another method or version"
                ))
            })
    }

    pub fn scalar(&self, name: &str) -> Result<f64> {
        let a = self.get(name)?;
        a.iter()
            .next()
            .copied()
            .filter(|_| a.len() == 1)
            .ok_or_else(|| Error::Usage(format!("checkpoint entry `{name}` is not a scalar")))
    }

    /// The array under `name`, checked against the expected shape.
    pub fn array(&self, name: &str, shape: &[usize]) -> Result<ArrayD<f64>> {
        let a = self.get(name)?;
        if a.shape() != shape {
            return Err(Error::Usage(format!(
                "checkpoint entry `{name}` has shape {:?}, this run needs {shape:?}: resume with the config that wrote it",
                a.shape()
            )));
        }
        Ok(a.clone())
    }

    /// [`array`](Self::array) as a vector of `len`.
    pub fn array1(&self, name: &str, len: usize) -> Result<Array1<f64>> {
        self.typed(name, &[len])
    }

    /// [`array`](Self::array) as a matrix of `shape`.
    pub fn array2(&self, name: &str, shape: [usize; 2]) -> Result<Array2<f64>> {
        self.typed(name, &shape)
    }

    /// [`array`](Self::array) as a 3-D array of `shape`.
    pub fn array3(&self, name: &str, shape: [usize; 3]) -> Result<Array3<f64>> {
        self.typed(name, &shape)
    }

    /// The size of axis `axis` of the entry `name` (a length the state itself records, such as
    /// the number of retained draws).
    pub fn len_of(&self, name: &str, axis: usize) -> Result<usize> {
        let a = self.get(name)?;
        a.shape()
            .get(axis)
            .copied()
            .ok_or_else(|| Error::Usage(format!("checkpoint entry `{name}` has no axis {axis}")))
    }

    fn typed<D: Dimension>(&self, name: &str, shape: &[usize]) -> Result<ndarray::Array<f64, D>> {
        Ok(self
            .array(name, shape)?
            .into_dimensionality()
            .expect("shape checked against the requested dimension"))
    }
}
