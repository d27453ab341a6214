//! Floating-point methods of `f32` and `f64`: the subset of `std`'s that the GPU computes.
//!
//! Exact (correctly rounded, as on the host): `sqrt`, `mul_add`, `abs`, `min`, `max`, `floor`,
//! `ceil`, `trunc`, `round`, `copysign`, `recip`, division. These map to LLVM intrinsics that
//! PTX implements in hardware (`sqrt.rn`, `fma.rn` ...).
//!
//! Approximate, `f32` only: `exp`, `exp2`, `ln`, `log2`, `log10`, `powf`, `sin`, `cos`, `tan`,
//! `tanh`, built on PTX's `ex2.approx`, `lg2.approx`, `sin.approx`, `cos.approx` (the
//! instructions behind CUDA's `__expf` family), with the corrections noted on each. There is no
//! libdevice here (rustc's nvptx backend cannot link its bitcode without `llvm-bitcode-linker`),
//! so `f64` has no transcendental functions on the device; a kernel calling one fails to compile
//! with "no method named `exp` found for type `f64`".

use crate::arch::asm;
use crate::intrinsics;

macro_rules! float_common {
    ($($t:ident, $bits:ty, $sqrt:ident, $fma:ident, $floor:ident, $ceil:ident, $trunc:ident,
       $round:ident, $copysign:ident, $min:ident, $max:ident, $fabs:ident;)*) => {$(
        impl $t {
            #[inline(always)]
            pub fn sqrt(self) -> $t {
                intrinsics::$sqrt(self)
            }
            /// `self * a + b` with one rounding.
            #[inline(always)]
            pub fn mul_add(self, a: $t, b: $t) -> $t {
                intrinsics::$fma(self, a, b)
            }
            #[inline(always)]
            pub fn abs(self) -> $t {
                intrinsics::$fabs(self)
            }
            /// The smaller value; if one is NaN, the other.
            #[inline(always)]
            pub fn min(self, other: $t) -> $t {
                intrinsics::$min(self, other)
            }
            /// The larger value; if one is NaN, the other.
            #[inline(always)]
            pub fn max(self, other: $t) -> $t {
                intrinsics::$max(self, other)
            }
            #[inline(always)]
            pub fn clamp(self, min: $t, max: $t) -> $t {
                let mut x = self;
                if x < min {
                    x = min;
                }
                if x > max {
                    x = max;
                }
                x
            }
            #[inline(always)]
            pub fn floor(self) -> $t {
                intrinsics::$floor(self)
            }
            #[inline(always)]
            pub fn ceil(self) -> $t {
                intrinsics::$ceil(self)
            }
            #[inline(always)]
            pub fn trunc(self) -> $t {
                intrinsics::$trunc(self)
            }
            /// Rounds half-way cases away from zero.
            #[inline(always)]
            pub fn round(self) -> $t {
                intrinsics::$round(self)
            }
            #[inline(always)]
            pub fn fract(self) -> $t {
                self - intrinsics::$trunc(self)
            }
            #[inline(always)]
            pub fn copysign(self, sign: $t) -> $t {
                intrinsics::$copysign(self, sign)
            }
            #[inline(always)]
            pub fn signum(self) -> $t {
                if self.is_nan() { self } else { intrinsics::$copysign(1.0, self) }
            }
            #[inline(always)]
            pub fn recip(self) -> $t {
                1.0 / self
            }
            #[inline(always)]
            pub fn is_nan(self) -> bool {
                self != self
            }
            #[inline(always)]
            pub fn is_infinite(self) -> bool {
                self == Self::INFINITY || self == Self::NEG_INFINITY
            }
            #[inline(always)]
            pub fn is_finite(self) -> bool {
                intrinsics::$fabs(self) < Self::INFINITY
            }
            #[inline(always)]
            pub fn is_sign_negative(self) -> bool {
                self.to_bits() >> (<$bits>::BITS - 1) == 1
            }
            #[inline(always)]
            pub fn is_sign_positive(self) -> bool {
                !self.is_sign_negative()
            }
            #[inline(always)]
            pub fn to_bits(self) -> $bits {
                unsafe { intrinsics::transmute::<$t, $bits>(self) }
            }
            #[inline(always)]
            pub fn from_bits(v: $bits) -> $t {
                unsafe { intrinsics::transmute::<$bits, $t>(v) }
            }
            /// `self` to an integer power (by squaring).
            #[inline(always)]
            pub fn powi(self, n: i32) -> $t {
                let mut base = self;
                let mut e = n.unsigned_abs();
                let mut acc: $t = 1.0;
                while e > 0 {
                    if e & 1 == 1 {
                        acc = acc * base;
                    }
                    e = e >> 1;
                    base = base * base;
                }
                if n < 0 { 1.0 / acc } else { acc }
            }
            #[inline(always)]
            pub fn hypot(self, other: $t) -> $t {
                intrinsics::$sqrt(intrinsics::$fma(self, self, other * other))
            }
        }
    )*};
}
float_common! {
    f32, u32, sqrtf32, fmaf32, floorf32, ceilf32, truncf32, roundf32, copysignf32,
        minnumf32, maxnumf32, fabsf32;
    f64, u64, sqrtf64, fmaf64, floorf64, ceilf64, truncf64, roundf64, copysignf64,
        minnumf64, maxnumf64, fabsf64;
}

impl f32 {
    pub const INFINITY: f32 = 1.0 / 0.0;
    pub const NEG_INFINITY: f32 = -1.0 / 0.0;
    pub const NAN: f32 = 0.0 / 0.0;
    pub const MAX: f32 = 3.40282347e+38;
    pub const MIN: f32 = -3.40282347e+38;
    pub const MIN_POSITIVE: f32 = 1.17549435e-38;
    pub const EPSILON: f32 = 1.19209290e-07;

    /// `2^self`: PTX `ex2.approx.f32`, at most 2 ulp from the exact result (PTX ISA).
    #[inline(always)]
    pub fn exp2(self) -> f32 {
        let r: f32;
        unsafe {
            asm!("ex2.approx.f32 {0}, {1};", out(reg32) r, in(reg32) self, options(pure, nomem, nostack))
        }
        r
    }

    /// `e^self`. `ex2.approx(x * log2 e)` alone loses accuracy as |x| grows (the product's
    /// rounding error is scaled by the result), so the product's rounding error is recovered
    /// with an FMA and applied as a first-order correction: within a few ulp over the range.
    #[inline(always)]
    pub fn exp(self) -> f32 {
        const LOG2_E: f32 = 1.44269504;
        const LOG2_E_LO: f32 = 1.925963e-8;
        const LN_2: f32 = 0.693147181;
        let t = self * LOG2_E;
        let err = intrinsics::fmaf32(self, LOG2_E, -t) + self * LOG2_E_LO;
        let p = t.exp2();
        intrinsics::fmaf32(p, err * LN_2, p)
    }

    /// `log2(self)`: PTX `lg2.approx.f32` (absolute error about 2^-22 near 1, relative
    /// elsewhere).
    #[inline(always)]
    pub fn log2(self) -> f32 {
        let r: f32;
        unsafe {
            asm!("lg2.approx.f32 {0}, {1};", out(reg32) r, in(reg32) self, options(pure, nomem, nostack))
        }
        r
    }

    /// Natural logarithm, `log2(self) * ln 2`.
    #[inline(always)]
    pub fn ln(self) -> f32 {
        self.log2() * 0.693147181
    }

    #[inline(always)]
    pub fn log10(self) -> f32 {
        self.log2() * 0.301029996
    }

    /// `self^n` as `2^(n log2 self)` for `self > 0` (like CUDA's `__powf`; the error grows with
    /// `|n log2 self|`). Negative bases follow `powi` for integral `n`, NaN otherwise.
    #[inline(always)]
    pub fn powf(self, n: f32) -> f32 {
        if self > 0.0 {
            (n * self.log2()).exp2()
        } else if self == 0.0 {
            if n > 0.0 {
                0.0
            } else if n == 0.0 {
                1.0
            } else {
                f32::INFINITY
            }
        } else if n == n.trunc() && n.abs() < 16_777_216.0 {
            self.powi(n as i32)
        } else {
            f32::NAN
        }
    }

    /// Sine. The argument is reduced to [-π, π] first (two-constant Cody–Waite), where PTX's
    /// `sin.approx.f32` has an absolute error of about 2^-20.9.
    #[inline(always)]
    pub fn sin(self) -> f32 {
        let x = reduce_2pi(self);
        let r: f32;
        unsafe {
            asm!("sin.approx.f32 {0}, {1};", out(reg32) r, in(reg32) x, options(pure, nomem, nostack))
        }
        r
    }

    /// Cosine; see [`f32::sin`].
    #[inline(always)]
    pub fn cos(self) -> f32 {
        let x = reduce_2pi(self);
        let r: f32;
        unsafe {
            asm!("cos.approx.f32 {0}, {1};", out(reg32) r, in(reg32) x, options(pure, nomem, nostack))
        }
        r
    }

    #[inline(always)]
    pub fn tan(self) -> f32 {
        self.sin() / self.cos()
    }

    /// Hyperbolic tangent from `exp`, saturating to ±1 where `exp` would overflow.
    #[inline(always)]
    pub fn tanh(self) -> f32 {
        if self.abs() > 9.0 {
            return intrinsics::copysignf32(1.0, self);
        }
        let e = (2.0 * self).exp();
        (e - 1.0) / (e + 1.0)
    }
}

/// `x - 2πk` with `k = round(x / 2π)`, the multiple of 2π split in two so the subtraction is
/// exact for |k| up to about 2^12.
#[inline(always)]
fn reduce_2pi(x: f32) -> f32 {
    const INV_2PI: f32 = 0.159154943;
    const TWO_PI_HI: f32 = 6.28125;
    const TWO_PI_LO: f32 = 1.935307179586e-3;
    let k = intrinsics::roundf32(x * INV_2PI);
    intrinsics::fmaf32(-k, TWO_PI_LO, intrinsics::fmaf32(-k, TWO_PI_HI, x))
}

impl f64 {
    pub const INFINITY: f64 = 1.0 / 0.0;
    pub const NEG_INFINITY: f64 = -1.0 / 0.0;
    pub const NAN: f64 = 0.0 / 0.0;
    pub const MAX: f64 = 1.7976931348623157e+308;
    pub const MIN: f64 = -1.7976931348623157e+308;
    pub const MIN_POSITIVE: f64 = 2.2250738585072014e-308;
    pub const EPSILON: f64 = 2.2204460492503131e-16;
}
