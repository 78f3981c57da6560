//! Forward-mode dual numbers with N partial derivatives, enough arithmetic for the secular
//! functions (+, −, ×, ÷, sqrt, sin, cos, sinh, cosh), so that one evaluation gives a function
//! and its exact partial derivatives (no finite differences).

use std::ops::{Add, Div, Mul, Neg, Sub};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<const N: usize> {
    pub v: f64,
    pub d: [f64; N],
}

impl<const N: usize> Dual<N> {
    pub fn constant(v: f64) -> Self {
        Dual { v, d: [0.0; N] }
    }

    /// The variable number `k` (its derivative with respect to itself is one).
    pub fn variable(v: f64, k: usize) -> Self {
        let mut d = [0.0; N];
        d[k] = 1.0;
        Dual { v, d }
    }

    /// Applies a scalar function with value `f` and derivative `df` at `self.v`.
    #[inline]
    fn chain(self, f: f64, df: f64) -> Self {
        let mut d = self.d;
        for x in &mut d {
            *x *= df;
        }
        Dual { v: f, d }
    }

    pub fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        self.chain(s, 0.5 / s)
    }
    pub fn sin(self) -> Self {
        let (s, c) = self.v.sin_cos();
        self.chain(s, c)
    }
    pub fn cos(self) -> Self {
        let (s, c) = self.v.sin_cos();
        self.chain(c, -s)
    }
    pub fn sinh(self) -> Self {
        self.chain(self.v.sinh(), self.v.cosh())
    }
    pub fn cosh(self) -> Self {
        self.chain(self.v.cosh(), self.v.sinh())
    }
    pub fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    pub fn scale(self, s: f64) -> Self {
        self.chain(self.v * s, s)
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(mut self, o: Self) -> Self {
        self.v += o.v;
        for k in 0..N {
            self.d[k] += o.d[k];
        }
        self
    }
}

impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, o: Self) -> Self {
        self.v -= o.v;
        for k in 0..N {
            self.d[k] -= o.d[k];
        }
        self
    }
}

impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0)
    }
}

impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        let mut d = [0.0; N];
        for k in 0..N {
            d[k] = self.d[k] * o.v + self.v * o.d[k];
        }
        Dual { v: self.v * o.v, d }
    }
}

impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let v = self.v * inv;
        let mut d = [0.0; N];
        for k in 0..N {
            d[k] = (self.d[k] - v * o.d[k]) * inv;
        }
        Dual { v, d }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_closed_forms() {
        let x = Dual::<2>::variable(0.7, 0);
        let y = Dual::<2>::variable(1.3, 1);
        let f = (x * y).sin() / (x + y).sqrt() - (x / y).cosh() + y.sinh();
        let (xv, yv) = (0.7f64, 1.3f64);
        let s = (xv + yv).sqrt();
        let dfdx =
            (xv * yv).cos() * yv / s - 0.5 * (xv * yv).sin() / (s * s * s) - (xv / yv).sinh() / yv;
        let dfdy = (xv * yv).cos() * xv / s - 0.5 * (xv * yv).sin() / (s * s * s)
            + (xv / yv).sinh() * xv / (yv * yv)
            + yv.cosh();
        assert!((f.d[0] - dfdx).abs() < 1e-14);
        assert!((f.d[1] - dfdy).abs() < 1e-14);
    }
}
