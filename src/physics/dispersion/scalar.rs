//! The number type the secular functions are written over: `f64`, or `Dual` (possibly nested)
//! for exact derivatives from the same code.

use std::ops::{Add, Div, Mul, Neg, Sub};

pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    fn constant(v: f64) -> Self;
    fn value(self) -> f64;
    fn sqrt(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn exp(self) -> Self;
    /// Multiplies by a constant (no derivative of its own).
    fn scale(self, s: f64) -> Self;
    /// (cosh, sinh) together (f64: from one exponential).
    fn cosh_sinh(self) -> (Self, Self) {
        (self.cosh(), self.sinh())
    }
    /// (cos, sin) together.
    fn cos_sin(self) -> (Self, Self) {
        (self.cos(), self.sin())
    }
}

impl Scalar for f64 {
    fn constant(v: f64) -> Self {
        v
    }
    fn value(self) -> f64 {
        self
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn sinh(self) -> Self {
        f64::sinh(self)
    }
    fn cosh(self) -> Self {
        f64::cosh(self)
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn scale(self, s: f64) -> Self {
        self * s
    }
    fn cosh_sinh(self) -> (Self, Self) {
        // Used for arguments above 0.03, where (e − 1/e)/2 loses at most a few ulps.
        let e = self.exp();
        let inv = 1.0 / e;
        (0.5 * (e + inv), 0.5 * (e - inv))
    }
    fn cos_sin(self) -> (Self, Self) {
        let (s, c) = self.sin_cos();
        (c, s)
    }
}

/// C(x) = cosh √x (cos √−x for x < 0) and S(x) = sinh √x / √x (sin √−x / √−x), entire
/// functions of x, evaluated without a square root of zero (series near x = 0). For √x > 20
/// both come multiplied by the positive constant e^{−√x} (value part), returned as its
/// logarithm, so that thick evanescent layers cannot overflow; callers rescale what they
/// combine with them by the same constant.
pub fn cosh_sinhc_scaled<S: Scalar>(x: S) -> (S, S, f64) {
    let xv = x.value();
    if xv > 400.0 {
        let r = x.sqrt();
        let r0 = r.value();
        let (up, down) = ((r - S::constant(r0)).exp(), (-r - S::constant(r0)).exp());
        ((up + down).scale(0.5), (up - down).scale(0.5) / r, r0)
    } else {
        let (c, s) = cosh_sinhc(x);
        (c, s, 0.0)
    }
}

/// C(x) and S(x) as in `cosh_sinhc_scaled`, unscaled below √x = 20 and scaled above: for
/// callers where a common positive factor of C and S does not matter.
pub fn cosh_sinhc<S: Scalar>(x: S) -> (S, S) {
    let xv = x.value();
    if xv > 400.0 {
        let (c, s, _) = cosh_sinhc_scaled(x);
        (c, s)
    } else if xv > 1e-3 {
        let r = x.sqrt();
        let (ch, sh) = r.cosh_sinh();
        (ch, sh / r)
    } else if xv < -1e-3 {
        let r = (-x).sqrt();
        let (c, s) = r.cos_sin();
        (c, s / r)
    } else {
        // Taylor series to x^5: the next terms are below 1e-18 relative for |x| ≤ 1e-3.
        let one = S::constant(1.0);
        let c = one
            + x.scale(1.0 / 2.0)
                * (one
                    + x.scale(1.0 / 12.0)
                        * (one
                            + x.scale(1.0 / 30.0)
                                * (one + x.scale(1.0 / 56.0) * (one + x.scale(1.0 / 90.0)))));
        let s = one
            + x.scale(1.0 / 6.0)
                * (one
                    + x.scale(1.0 / 20.0)
                        * (one
                            + x.scale(1.0 / 42.0)
                                * (one + x.scale(1.0 / 72.0) * (one + x.scale(1.0 / 110.0)))));
        (c, s)
    }
}
