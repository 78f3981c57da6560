//! Forward-mode dual numbers with N partial derivatives over any `Scalar` (so duals nest:
//! `Dual<Dual<f64, N>, N>` carries second derivatives), with enough arithmetic for the secular
//! functions (+, −, ×, ÷, sqrt, sin, cos, sinh, cosh, exp): one evaluation gives a function and
//! its exact partial derivatives, no finite differences.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::scalar::Scalar;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<T, const N: usize> {
    pub v: T,
    pub d: [T; N],
}

impl<T: Scalar, const N: usize> Dual<T, N> {
    pub fn constant_of(v: T) -> Self {
        Dual {
            v,
            d: [T::constant(0.0); N],
        }
    }

    /// The variable number `k` with value `v` (its derivative with respect to itself is one).
    pub fn variable(v: T, k: usize) -> Self {
        let mut d = [T::constant(0.0); N];
        d[k] = T::constant(1.0);
        Dual { v, d }
    }

    /// Applies a scalar function with value `f` and derivative `df` at `self.v`.
    #[inline]
    fn chain(self, f: T, df: T) -> Self {
        let mut d = self.d;
        for x in &mut d {
            *x = *x * df;
        }
        Dual { v: f, d }
    }
}

/// Seeds a second-order variable: `Dual<Dual<f64, N>, N>` whose first and second derivatives
/// come out as `r.d[a].v` and `r.d[a].d[b]`.
pub fn hyper_variable<const N: usize>(v: f64, k: usize) -> Dual<Dual<f64, N>, N> {
    let inner = Dual::<f64, N>::variable(v, k);
    let mut d = [Dual::<f64, N>::constant(0.0); N];
    d[k] = Dual::constant(1.0);
    Dual { v: inner, d }
}

impl<T: Scalar, const N: usize> Add for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn add(mut self, o: Self) -> Self {
        self.v = self.v + o.v;
        for k in 0..N {
            self.d[k] = self.d[k] + o.d[k];
        }
        self
    }
}

impl<T: Scalar, const N: usize> Sub for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, o: Self) -> Self {
        self.v = self.v - o.v;
        for k in 0..N {
            self.d[k] = self.d[k] - o.d[k];
        }
        self
    }
}

impl<T: Scalar, const N: usize> Neg for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.chain(-self.v, T::constant(-1.0))
    }
}

impl<T: Scalar, const N: usize> Mul for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        let mut d = self.d;
        for k in 0..N {
            d[k] = self.d[k] * o.v + self.v * o.d[k];
        }
        Dual { v: self.v * o.v, d }
    }
}

impl<T: Scalar, const N: usize> Div for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let v = self.v / o.v;
        let mut d = self.d;
        for k in 0..N {
            d[k] = (self.d[k] - v * o.d[k]) / o.v;
        }
        Dual { v, d }
    }
}

impl<T: Scalar, const N: usize> Scalar for Dual<T, N> {
    fn constant(v: f64) -> Self {
        Dual::constant_of(T::constant(v))
    }
    fn value(self) -> f64 {
        self.v.value()
    }
    fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        self.chain(s, T::constant(0.5) / s)
    }
    fn sin(self) -> Self {
        self.chain(self.v.sin(), self.v.cos())
    }
    fn cos(self) -> Self {
        self.chain(self.v.cos(), -self.v.sin())
    }
    fn sinh(self) -> Self {
        self.chain(self.v.sinh(), self.v.cosh())
    }
    fn cosh(self) -> Self {
        self.chain(self.v.cosh(), self.v.sinh())
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    fn scale(self, s: f64) -> Self {
        self.chain(self.v.scale(s), T::constant(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_second_derivatives_match_closed_forms() {
        // f(x, y) = sin(x y) / sqrt(x + y)
        let f = |x: Dual<Dual<f64, 2>, 2>, y: Dual<Dual<f64, 2>, 2>| (x * y).sin() / (x + y).sqrt();
        let (xv, yv) = (0.7f64, 1.3f64);
        let r = f(hyper_variable(xv, 0), hyper_variable(yv, 1));
        let h = 1e-4;
        let g = |x: f64, y: f64| (x * y).sin() / (x + y).sqrt();
        let fx = (g(xv + h, yv) - g(xv - h, yv)) / (2.0 * h);
        let fxy = (g(xv + h, yv + h) - g(xv + h, yv - h) - g(xv - h, yv + h) + g(xv - h, yv - h))
            / (4.0 * h * h);
        let fxx = (g(xv + h, yv) - 2.0 * g(xv, yv) + g(xv - h, yv)) / (h * h);
        assert!((r.v.v - g(xv, yv)).abs() < 1e-15);
        assert!((r.d[0].v - fx).abs() < 1e-8 && (r.v.d[0] - fx).abs() < 1e-8);
        assert!((r.d[0].d[1] - fxy).abs() < 1e-6, "{} vs {fxy}", r.d[0].d[1]);
        assert!((r.d[0].d[0] - fxx).abs() < 1e-6, "{} vs {fxx}", r.d[0].d[0]);
        let s = Dual::<f64, 1>::variable(2.0, 0);
        let e = (s.sinh() * s.cosh() - s.exp().scale(0.5)).cos();
        let sv = 2.0f64;
        let inner = sv.sinh() * sv.cosh() - 0.5 * sv.exp();
        let d_inner = sv.cosh() * sv.cosh() + sv.sinh() * sv.sinh() - 0.5 * sv.exp();
        assert!((e.d[0] + inner.sin() * d_inner).abs() < 1e-12);
    }
}
