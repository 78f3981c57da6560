//! A stack of isotropic elastic layers over a half-space, top down: thickness (km; the last
//! layer is the half-space and its thickness is ignored), Vp and Vs (km/s), density (g/cm³).

use crate::physics::PhysicsError;

#[derive(Debug, Clone, PartialEq)]
pub struct LayeredModel {
    pub thickness: Vec<f64>,
    pub vp: Vec<f64>,
    pub vs: Vec<f64>,
    pub rho: Vec<f64>,
}

/// The four properties of a layer, in the order of `LayerSensitivity` and of the scalar rows
/// the secular functions take.
pub const THICKNESS: usize = 0;
pub const VP: usize = 1;
pub const VS: usize = 2;
pub const RHO: usize = 3;

/// ∂(velocity)/∂(thickness, vp, vs, rho) of one layer (the half-space's thickness entry is 0).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LayerSensitivity {
    pub thickness: f64,
    pub vp: f64,
    pub vs: f64,
    pub rho: f64,
}

impl LayerSensitivity {
    pub fn get(&self, property: usize) -> f64 {
        [self.thickness, self.vp, self.vs, self.rho][property]
    }
    pub(crate) fn set(&mut self, property: usize, value: f64) {
        match property {
            THICKNESS => self.thickness = value,
            VP => self.vp = value,
            VS => self.vs = value,
            _ => self.rho = value,
        }
    }
}

impl LayeredModel {
    /// Checks the shapes and values: at least one layer over the half-space, every value finite,
    /// thickness > 0 above the half-space, 0 < Vs < Vp, ρ > 0. A fluid layer (Vs = 0) is refused.
    pub fn new(
        thickness: Vec<f64>,
        vp: Vec<f64>,
        vs: Vec<f64>,
        rho: Vec<f64>,
    ) -> Result<Self, PhysicsError> {
        let n = vs.len();
        let bad = |layer: usize, what: &str, value: f64| {
            Err(PhysicsError::BadLayer {
                layer,
                what: what.to_string(),
                value,
            })
        };
        if n < 2 || thickness.len() != n || vp.len() != n || rho.len() != n {
            return Err(PhysicsError::WrongModelLength {
                got: n,
                expected: thickness.len().max(2),
            });
        }
        for i in 0..n {
            if vs[i] == 0.0 {
                return bad(i, "Vs = 0 (fluid layers are not supported)", vs[i]);
            }
            if !(vs[i] > 0.0 && vs[i].is_finite()) {
                return bad(i, "Vs", vs[i]);
            }
            if !(vp[i] > vs[i] && vp[i].is_finite()) {
                return bad(i, "Vp (must exceed Vs)", vp[i]);
            }
            if !(rho[i] > 0.0 && rho[i].is_finite()) {
                return bad(i, "density", rho[i]);
            }
            if i + 1 < n && !(thickness[i] > 0.0 && thickness[i].is_finite()) {
                return bad(i, "thickness", thickness[i]);
            }
        }
        Ok(LayeredModel {
            thickness,
            vp,
            vs,
            rho,
        })
    }

    pub fn n_layers(&self) -> usize {
        self.vs.len()
    }

    /// Rows (thickness, vp, vs, rho) as constants of the scalar type.
    pub(crate) fn rows<S: super::scalar::Scalar>(&self) -> Vec<[S; 4]> {
        (0..self.n_layers())
            .map(|i| [self.thickness[i], self.vp[i], self.vs[i], self.rho[i]].map(S::constant))
            .collect()
    }
}
