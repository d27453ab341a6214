//! Inherent methods and constants of the integer types (the subset of `core`'s that kernels use).

use crate::intrinsics;
use crate::option::Option::{self, None, Some};

macro_rules! int_common {
    ($($t:ty, $u:ty, $bits:literal, $min:expr;)*) => {$(
        impl $t {
            pub const BITS: u32 = $bits;
            pub const MIN: $t = $min;
            pub const MAX: $t = !Self::MIN;

            #[inline(always)]
            pub const fn wrapping_add(self, rhs: $t) -> $t {
                intrinsics::wrapping_add(self, rhs)
            }
            #[inline(always)]
            pub const fn wrapping_sub(self, rhs: $t) -> $t {
                intrinsics::wrapping_sub(self, rhs)
            }
            #[inline(always)]
            pub const fn wrapping_mul(self, rhs: $t) -> $t {
                intrinsics::wrapping_mul(self, rhs)
            }
            #[inline(always)]
            pub const fn wrapping_neg(self) -> $t {
                intrinsics::wrapping_sub(0, self)
            }
            #[inline(always)]
            pub const fn saturating_add(self, rhs: $t) -> $t {
                intrinsics::saturating_add(self, rhs)
            }
            #[inline(always)]
            pub const fn saturating_sub(self, rhs: $t) -> $t {
                intrinsics::saturating_sub(self, rhs)
            }
            #[inline(always)]
            pub const fn overflowing_add(self, rhs: $t) -> ($t, bool) {
                intrinsics::add_with_overflow(self, rhs)
            }
            #[inline(always)]
            pub const fn overflowing_sub(self, rhs: $t) -> ($t, bool) {
                intrinsics::sub_with_overflow(self, rhs)
            }
            #[inline(always)]
            pub const fn overflowing_mul(self, rhs: $t) -> ($t, bool) {
                intrinsics::mul_with_overflow(self, rhs)
            }
            #[inline(always)]
            pub const fn checked_add(self, rhs: $t) -> Option<$t> {
                let (v, o) = intrinsics::add_with_overflow(self, rhs);
                if o { None } else { Some(v) }
            }
            #[inline(always)]
            pub const fn checked_sub(self, rhs: $t) -> Option<$t> {
                let (v, o) = intrinsics::sub_with_overflow(self, rhs);
                if o { None } else { Some(v) }
            }
            #[inline(always)]
            pub const fn checked_mul(self, rhs: $t) -> Option<$t> {
                let (v, o) = intrinsics::mul_with_overflow(self, rhs);
                if o { None } else { Some(v) }
            }
            #[inline(always)]
            pub const fn count_ones(self) -> u32 {
                intrinsics::ctpop(self)
            }
            #[inline(always)]
            pub const fn count_zeros(self) -> u32 {
                intrinsics::ctpop(!self)
            }
            #[inline(always)]
            pub const fn leading_zeros(self) -> u32 {
                intrinsics::ctlz(self as $u)
            }
            #[inline(always)]
            pub const fn trailing_zeros(self) -> u32 {
                intrinsics::cttz(self)
            }
            #[inline(always)]
            pub const fn rotate_left(self, n: u32) -> $t {
                let n = n % $bits;
                let x = self as $u;
                (if n == 0 { x } else { (x << n) | (x >> ($bits - n)) }) as $t
            }
            #[inline(always)]
            pub const fn rotate_right(self, n: u32) -> $t {
                let n = n % $bits;
                let x = self as $u;
                (if n == 0 { x } else { (x >> n) | (x << ($bits - n)) }) as $t
            }
            #[inline(always)]
            pub const fn swap_bytes(self) -> $t {
                intrinsics::bswap(self as $u) as $t
            }
            #[inline(always)]
            pub const fn reverse_bits(self) -> $t {
                intrinsics::bitreverse(self as $u) as $t
            }
            /// `self` to the power `exp` (by squaring; overflow wraps in release builds).
            #[inline(always)]
            pub const fn pow(self, mut exp: u32) -> $t {
                let mut base = self;
                let mut acc: $t = 1;
                while exp > 0 {
                    if exp & 1 == 1 {
                        acc = acc * base;
                    }
                    exp = exp >> 1;
                    if exp > 0 {
                        base = base * base;
                    }
                }
                acc
            }
            #[inline(always)]
            pub const fn min_value() -> $t {
                Self::MIN
            }
            #[inline(always)]
            pub const fn max_value() -> $t {
                Self::MAX
            }
        }
    )*};
}
int_common! {
    u8, u8, 8, 0; u16, u16, 16, 0; u32, u32, 32, 0; u64, u64, 64, 0; usize, usize, 64, 0;
    i8, u8, 8, (1u8 << 7) as i8; i16, u16, 16, (1u16 << 15) as i16;
    i32, u32, 32, (1u32 << 31) as i32; i64, u64, 64, (1u64 << 63) as i64;
    isize, usize, 64, (1usize << 63) as isize;
}

macro_rules! int_unsigned {
    ($($t:ty)*) => {$(
        impl $t {
            #[inline(always)]
            pub const fn is_power_of_two(self) -> bool {
                self != 0 && (self & (self - 1)) == 0
            }
            /// `ceil(self / rhs)`.
            #[inline(always)]
            pub const fn div_ceil(self, rhs: $t) -> $t {
                let d = self / rhs;
                if self % rhs > 0 { d + 1 } else { d }
            }
            #[inline(always)]
            pub const fn abs_diff(self, other: $t) -> $t {
                if self > other { self - other } else { other - self }
            }
            #[inline(always)]
            pub const fn next_multiple_of(self, rhs: $t) -> $t {
                match self % rhs {
                    0 => self,
                    r => self + (rhs - r),
                }
            }
        }
    )*};
}
int_unsigned! { u8 u16 u32 u64 usize }

macro_rules! int_signed {
    ($($t:ty, $u:ty;)*) => {$(
        impl $t {
            #[inline(always)]
            pub const fn abs(self) -> $t {
                if self < 0 { -self } else { self }
            }
            #[inline(always)]
            pub const fn unsigned_abs(self) -> $u {
                if self < 0 { (self as $u).wrapping_neg() } else { self as $u }
            }
            #[inline(always)]
            pub const fn signum(self) -> $t {
                if self < 0 {
                    -1
                } else if self == 0 {
                    0
                } else {
                    1
                }
            }
            #[inline(always)]
            pub const fn is_negative(self) -> bool {
                self < 0
            }
            #[inline(always)]
            pub const fn is_positive(self) -> bool {
                self > 0
            }
            #[inline(always)]
            pub const fn abs_diff(self, other: $t) -> $u {
                if self > other {
                    (self as $u).wrapping_sub(other as $u)
                } else {
                    (other as $u).wrapping_sub(self as $u)
                }
            }
            #[inline(always)]
            pub const fn rem_euclid(self, rhs: $t) -> $t {
                let r = self % rhs;
                if r < 0 { if rhs < 0 { r - rhs } else { r + rhs } } else { r }
            }
        }
    )*};
}
int_signed! { i8, u8; i16, u16; i32, u32; i64, u64; isize, usize; }
