//! The dispersion forward model: several curves (wave, phase or group, mode, periods) of a
//! layered model whose free parameters are the layers' Vs (Vp and density following from
//! rules) or every property. Data are the curves' values in order; a period where a mode does
//! not exist gives NaN (and a member whose model lacks a mode that the data have fails).
//! With a GPU ([`DispersionForward::with_gpu`], feature `cuda`) the curves of a block of members
//! are one batch of kernels/dispersion_curves.cu (`forward_device`), the same algorithm.

use ndarray::{Array1, ArrayView1, ArrayViewMut1};

use super::curves::{Wave, group_velocity_gradient, phase_velocity_gradient};
use super::model::{LayerSensitivity, LayeredModel, RHO, THICKNESS, VP, VS};
use crate::physics::{ForwardModel, Linearization, PhysicsError, check_model};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VelocityKind {
    Phase,
    Group,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub wave: Wave,
    pub velocity: VelocityKind,
    pub mode: usize,
    pub periods: Vec<f64>,
}

/// How Vp follows Vs when only Vs is free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VpRule {
    /// Vp = a Vs + b (B5: a = 1.16, b = 1.36).
    Linear { a: f64, b: f64 },
    /// Vp = r Vs.
    Ratio(f64),
    /// The reference model's Vp.
    Fixed,
}

/// How density follows when only Vs is free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RhoRule {
    /// ρ = a Vp^b (B5: a = 1.74, b = 0.25).
    PowerOfVp { a: f64, b: f64 },
    /// ρ = r Vp.
    RatioToVp(f64),
    /// The reference model's density.
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameterization {
    /// One Vs per layer, top down.
    Vs { vp: VpRule, rho: RhoRule },
    /// Every property: thickness of the layers above the half-space, then Vp, Vs and density of
    /// every layer, each block top down.
    All,
}

/// (dVp/dVs, dρ/dVs) per layer.
pub(super) type RuleChain = Vec<(f64, f64)>;

pub struct DispersionForward {
    reference: LayeredModel,
    curves: Vec<Curve>,
    parameterization: Parameterization,
    n_data: usize,
    #[cfg(feature = "cuda")]
    device: Option<std::sync::Arc<crate::gpu::dispersion::DispersionKernels>>,
}

/// A member's data (NaN where a mode does not exist) and, when asked, each datum's sensitivities.
pub(super) type Evaluation = (Array1<f64>, Vec<Option<Vec<LayerSensitivity>>>);

impl DispersionForward {
    pub fn new(
        reference: LayeredModel,
        curves: Vec<Curve>,
        parameterization: Parameterization,
    ) -> Self {
        let n_data = curves.iter().map(|c| c.periods.len()).sum();
        DispersionForward {
            reference,
            curves,
            parameterization,
            n_data,
            #[cfg(feature = "cuda")]
            device: None,
        }
    }

    /// Evaluates the curves on the GPU of `kernels` from now on.
    #[cfg(feature = "cuda")]
    pub fn with_gpu(
        mut self,
        kernels: std::sync::Arc<crate::gpu::dispersion::DispersionKernels>,
    ) -> Self {
        self.device = Some(kernels);
        self
    }

    #[cfg(feature = "cuda")]
    pub(super) fn curves(&self) -> &[Curve] {
        &self.curves
    }
    /// The layered model of a parameter vector, and d(property)/d(vs) per layer for the Vs
    /// parameterisation (None for `All`).
    pub(super) fn model(
        &self,
        m: ArrayView1<f64>,
    ) -> Result<(LayeredModel, Option<RuleChain>), PhysicsError> {
        check_model(m, self.n_params())?;
        let r = &self.reference;
        let n = r.n_layers();
        match self.parameterization {
            Parameterization::All => {
                let mut thickness = m.slice(ndarray::s![..n - 1]).to_vec();
                thickness.push(0.0);
                let block = |k: usize| {
                    m.slice(ndarray::s![n - 1 + k * n..n - 1 + (k + 1) * n])
                        .to_vec()
                };
                Ok((
                    LayeredModel::new(thickness, block(0), block(1), block(2))?,
                    None,
                ))
            }
            Parameterization::Vs { vp, rho } => {
                let vs = m.to_vec();
                let (mut vps, mut rhos, mut chain) = (
                    Vec::with_capacity(n),
                    Vec::with_capacity(n),
                    Vec::with_capacity(n),
                );
                for i in 0..n {
                    let (p, dp) = match vp {
                        VpRule::Linear { a, b } => (a * vs[i] + b, a),
                        VpRule::Ratio(k) => (k * vs[i], k),
                        VpRule::Fixed => (r.vp[i], 0.0),
                    };
                    let (d, dd_dp) = match rho {
                        RhoRule::PowerOfVp { a, b } => (a * p.powf(b), a * b * p.powf(b - 1.0)),
                        RhoRule::RatioToVp(k) => (k * p, k),
                        RhoRule::Fixed => (r.rho[i], 0.0),
                    };
                    vps.push(p);
                    rhos.push(d);
                    chain.push((dp, dd_dp * dp));
                }
                Ok((
                    LayeredModel::new(r.thickness.clone(), vps, vs, rhos)?,
                    Some(chain),
                ))
            }
        }
    }

    /// Values (NaN where a mode does not exist) and, when asked, each datum's sensitivities: on
    /// the device when there is one.
    fn evaluate(
        &self,
        model: &LayeredModel,
        with_gradient: bool,
    ) -> Result<Evaluation, PhysicsError> {
        #[cfg(feature = "cuda")]
        if let Some(kernels) = &self.device {
            let mut one =
                self.evaluate_on_device(kernels, std::slice::from_ref(model), with_gradient)?;
            return Ok(one.pop().expect("one member"));
        }
        Ok(self.evaluate_on_cpu(model, with_gradient))
    }

    pub(super) fn evaluate_on_cpu(&self, model: &LayeredModel, with_gradient: bool) -> Evaluation {
        let mut values = Array1::from_elem(self.n_data, f64::NAN);
        let mut sens = Vec::with_capacity(if with_gradient { self.n_data } else { 0 });
        let mut k = 0;
        for curve in &self.curves {
            for &period in &curve.periods {
                if with_gradient {
                    let result = match curve.velocity {
                        VelocityKind::Phase => {
                            phase_velocity_gradient(model, curve.wave, period, curve.mode)
                        }
                        VelocityKind::Group => {
                            group_velocity_gradient(model, curve.wave, period, curve.mode)
                        }
                    };
                    if let Some((v, g)) = result {
                        values[k] = v;
                        sens.push(Some(g));
                    } else {
                        sens.push(None);
                    }
                } else {
                    let v = match curve.velocity {
                        VelocityKind::Phase => {
                            super::curves::phase_velocity(model, curve.wave, period, curve.mode)
                        }
                        VelocityKind::Group => {
                            super::curves::group_velocity(model, curve.wave, period, curve.mode)
                        }
                    };
                    values[k] = v.unwrap_or(f64::NAN);
                }
                k += 1;
            }
        }
        (values, sens)
    }
}

pub(super) struct Tape<'a> {
    pub(super) forward: &'a DispersionForward,
    pub(super) chain: Option<RuleChain>,
    pub(super) data: Array1<f64>,
    pub(super) sensitivities: Vec<Option<Vec<LayerSensitivity>>>,
}

impl Linearization for Tape<'_> {
    fn data(&self) -> ArrayView1<'_, f64> {
        self.data.view()
    }

    fn vjp_into(&self, cotangent: ArrayView1<f64>, mut grad: ArrayViewMut1<f64>) {
        grad.fill(0.0);
        let n = self.forward.reference.n_layers();
        for (k, sens) in self.sensitivities.iter().enumerate() {
            let (Some(sens), w) = (sens, cotangent[k]) else {
                continue;
            };
            if w == 0.0 {
                continue;
            }
            for (i, s) in sens.iter().enumerate() {
                match &self.chain {
                    Some(chain) => {
                        let (dvp, drho) = chain[i];
                        grad[i] += w * (s.get(VS) + s.get(VP) * dvp + s.get(RHO) * drho);
                    }
                    None => {
                        if i + 1 < n {
                            grad[i] += w * s.get(THICKNESS);
                        }
                        grad[n - 1 + i] += w * s.get(VP);
                        grad[2 * n - 1 + i] += w * s.get(VS);
                        grad[3 * n - 1 + i] += w * s.get(RHO);
                    }
                }
            }
        }
    }
}

impl ForwardModel for DispersionForward {
    fn n_params(&self) -> usize {
        let n = self.reference.n_layers();
        match self.parameterization {
            Parameterization::Vs { .. } => n,
            Parameterization::All => 4 * n - 1,
        }
    }

    fn n_data(&self) -> usize {
        self.n_data
    }

    fn forward_into(
        &self,
        m: ArrayView1<f64>,
        mut d: ArrayViewMut1<f64>,
    ) -> Result<(), PhysicsError> {
        let (model, _) = self.model(m)?;
        d.assign(&self.evaluate(&model, false)?.0);
        Ok(())
    }

    #[cfg(feature = "cuda")]
    fn forward_batch(
        &self,
        m: ndarray::ArrayView2<f64>,
        d: ndarray::ArrayViewMut2<f64>,
        par: crate::core::parallel::Par,
    ) -> Vec<Result<(), PhysicsError>> {
        match &self.device {
            Some(kernels) => self.forward_block(kernels, m, d),
            None => crate::physics::forward_rows(self, m, d, par),
        }
    }

    #[cfg(feature = "cuda")]
    fn value_and_vjp_batch(
        &self,
        m: ndarray::ArrayView2<f64>,
        cotangent: &(dyn Fn(ArrayView1<f64>, ArrayViewMut1<f64>) + Sync),
        d: ndarray::ArrayViewMut2<f64>,
        grad: ndarray::ArrayViewMut2<f64>,
        par: crate::core::parallel::Par,
    ) -> Vec<Result<(), PhysicsError>> {
        match &self.device {
            Some(kernels) => self.value_and_vjp_block(kernels, m, cotangent, d, grad),
            None => crate::physics::value_and_vjp_rows(self, m, cotangent, d, grad, par),
        }
    }

    fn linearize(&self, m: ArrayView1<f64>) -> Result<Box<dyn Linearization + '_>, PhysicsError> {
        let (model, chain) = self.model(m)?;
        let (data, sensitivities) = self.evaluate(&model, true)?;
        Ok(Box::new(Tape {
            forward: self,
            chain,
            data,
            sensitivities,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b5_like() -> DispersionForward {
        let vs = vec![0.4, 0.5, 0.65, 0.55, 1.0];
        let reference = LayeredModel::new(
            vec![0.1, 0.1, 0.1, 0.1, 0.0],
            vec![2.0; 5],
            vs.clone(),
            vec![2.0; 5],
        )
        .unwrap();
        let curves = vec![
            Curve {
                wave: Wave::Rayleigh,
                velocity: VelocityKind::Phase,
                mode: 0,
                periods: vec![0.2, 0.5, 1.0],
            },
            Curve {
                wave: Wave::Love,
                velocity: VelocityKind::Group,
                mode: 0,
                periods: vec![0.3, 0.8],
            },
        ];
        DispersionForward::new(
            reference,
            curves,
            Parameterization::Vs {
                vp: VpRule::Linear { a: 1.16, b: 1.36 },
                rho: RhoRule::PowerOfVp { a: 1.74, b: 0.25 },
            },
        )
    }

    /// The VJP against central differences of ½ Σ (d − d_obs)² for both parameterisations.
    #[test]
    fn vector_jacobian_products_match_central_differences() {
        let vs_model = b5_like();
        let all_model = DispersionForward::new(
            vs_model.reference.clone(),
            vs_model.curves.clone(),
            Parameterization::All,
        );
        let vs = Array1::from(vec![0.42, 0.51, 0.66, 0.57, 1.02]);
        let (full, _) = vs_model.model(vs.view()).unwrap();
        let mut all = full.thickness[..4].to_vec();
        all.extend(&full.vp);
        all.extend(&full.vs);
        all.extend(&full.rho);
        for (f, m) in [(&vs_model, vs), (&all_model, Array1::from(all))] {
            let d_obs = Array1::from_iter((0..f.n_data()).map(|i| 0.5 + 0.01 * i as f64));
            let misfit = |m: &Array1<f64>| {
                let mut d = Array1::zeros(f.n_data());
                f.forward_into(m.view(), d.view_mut()).unwrap();
                0.5 * (&d - &d_obs).mapv(|x| x * x).sum()
            };
            let lin = f.linearize(m.view()).unwrap();
            let mut g = Array1::zeros(f.n_params());
            lin.vjp_into((&lin.data() - &d_obs).view(), g.view_mut());
            let g_fd = Array1::from_iter((0..m.len()).map(|j| {
                let eps = 1e-6 * m[j];
                let (mut a, mut b) = (m.clone(), m.clone());
                a[j] += eps;
                b[j] -= eps;
                (misfit(&a) - misfit(&b)) / (2.0 * eps)
            }));
            let rel = (&g - &g_fd).mapv(|x| x * x).sum().sqrt() / g_fd.mapv(|x| x * x).sum().sqrt();
            assert!(
                rel < 1e-6,
                "relative VJP error {rel:e} ({} parameters)",
                m.len()
            );
        }
    }
}
