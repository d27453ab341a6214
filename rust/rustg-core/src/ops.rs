//! Operator traits (the compiler lowers `a + b` on primitives itself, but type-checks it through
//! these lang items), ranges, indexing and the closure traits.

use crate::marker::Tuple;

macro_rules! binary_trait {
    ($($lang:literal $trait:ident $method:ident, $alang:literal $atrait:ident $amethod:ident;)*) => {$(
        #[lang = $lang]
        pub trait $trait<Rhs = Self> {
            type Output;
            fn $method(self, rhs: Rhs) -> Self::Output;
        }
        #[lang = $alang]
        pub trait $atrait<Rhs = Self> {
            fn $amethod(&mut self, rhs: Rhs);
        }
    )*};
}
binary_trait! {
    "add" Add add, "add_assign" AddAssign add_assign;
    "sub" Sub sub, "sub_assign" SubAssign sub_assign;
    "mul" Mul mul, "mul_assign" MulAssign mul_assign;
    "div" Div div, "div_assign" DivAssign div_assign;
    "rem" Rem rem, "rem_assign" RemAssign rem_assign;
    "bitand" BitAnd bitand, "bitand_assign" BitAndAssign bitand_assign;
    "bitor" BitOr bitor, "bitor_assign" BitOrAssign bitor_assign;
    "bitxor" BitXor bitxor, "bitxor_assign" BitXorAssign bitxor_assign;
    "shl" Shl shl, "shl_assign" ShlAssign shl_assign;
    "shr" Shr shr, "shr_assign" ShrAssign shr_assign;
}

#[lang = "neg"]
pub trait Neg {
    type Output;
    fn neg(self) -> Self::Output;
}

#[lang = "not"]
pub trait Not {
    type Output;
    fn not(self) -> Self::Output;
}

macro_rules! binary_impls {
    ($trait:ident $method:ident $atrait:ident $amethod:ident $op:tt; $($t:ty)*) => {$(
        impl $trait for $t {
            type Output = $t;
            #[inline(always)]
            fn $method(self, rhs: $t) -> $t {
                self $op rhs
            }
        }
        impl $trait<&$t> for $t {
            type Output = $t;
            #[inline(always)]
            fn $method(self, rhs: &$t) -> $t {
                self $op *rhs
            }
        }
        impl $trait<$t> for &$t {
            type Output = $t;
            #[inline(always)]
            fn $method(self, rhs: $t) -> $t {
                *self $op rhs
            }
        }
        impl $trait<&$t> for &$t {
            type Output = $t;
            #[inline(always)]
            fn $method(self, rhs: &$t) -> $t {
                *self $op *rhs
            }
        }
        impl $atrait for $t {
            #[inline(always)]
            fn $amethod(&mut self, rhs: $t) {
                *self = *self $op rhs;
            }
        }
        impl $atrait<&$t> for $t {
            #[inline(always)]
            fn $amethod(&mut self, rhs: &$t) {
                *self = *self $op *rhs;
            }
        }
    )*};
}

macro_rules! arith {
    ($($t:ty)*) => {
        binary_impls! { Add add AddAssign add_assign +; $($t)* }
        binary_impls! { Sub sub SubAssign sub_assign -; $($t)* }
        binary_impls! { Mul mul MulAssign mul_assign *; $($t)* }
        binary_impls! { Div div DivAssign div_assign /; $($t)* }
        binary_impls! { Rem rem RemAssign rem_assign %; $($t)* }
    };
}
arith! { u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 }

macro_rules! bits {
    ($($t:ty)*) => {
        binary_impls! { BitAnd bitand BitAndAssign bitand_assign &; $($t)* }
        binary_impls! { BitOr bitor BitOrAssign bitor_assign |; $($t)* }
        binary_impls! { BitXor bitxor BitXorAssign bitxor_assign ^; $($t)* }
    };
}
bits! { bool u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize }

// Shifts take any integer type on the right, as in `core`.
macro_rules! shift_rhs {
    ($t:ty; $($r:ty)*) => {$(
        impl Shl<$r> for $t {
            type Output = $t;
            #[inline(always)]
            fn shl(self, rhs: $r) -> $t {
                self << rhs
            }
        }
        impl Shr<$r> for $t {
            type Output = $t;
            #[inline(always)]
            fn shr(self, rhs: $r) -> $t {
                self >> rhs
            }
        }
        impl ShlAssign<$r> for $t {
            #[inline(always)]
            fn shl_assign(&mut self, rhs: $r) {
                *self = *self << rhs;
            }
        }
        impl ShrAssign<$r> for $t {
            #[inline(always)]
            fn shr_assign(&mut self, rhs: $r) {
                *self = *self >> rhs;
            }
        }
    )*};
}
macro_rules! shifts {
    ($($t:ty)*) => {$(
        shift_rhs! { $t; u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize }
    )*};
}
shifts! { u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize }

macro_rules! neg_impls {
    ($($t:ty)*) => {$(
        impl Neg for $t {
            type Output = $t;
            #[inline(always)]
            fn neg(self) -> $t {
                -self
            }
        }
        impl Neg for &$t {
            type Output = $t;
            #[inline(always)]
            fn neg(self) -> $t {
                -*self
            }
        }
    )*};
}
neg_impls! { i8 i16 i32 i64 i128 isize f32 f64 }

macro_rules! not_impls {
    ($($t:ty)*) => {$(
        impl Not for $t {
            type Output = $t;
            #[inline(always)]
            fn not(self) -> $t {
                !self
            }
        }
        impl Not for &$t {
            type Output = $t;
            #[inline(always)]
            fn not(self) -> $t {
                !*self
            }
        }
    )*};
}
not_impls! { bool u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize }

// --- indexing ----------------------------------------------------------------------------------

#[lang = "index"]
pub trait Index<Idx: ?Sized> {
    type Output: ?Sized;
    fn index(&self, index: Idx) -> &Self::Output;
}

#[lang = "index_mut"]
pub trait IndexMut<Idx: ?Sized>: Index<Idx> {
    fn index_mut(&mut self, index: Idx) -> &mut Self::Output;
}

#[lang = "deref"]
pub trait Deref {
    #[lang = "deref_target"]
    type Target: ?Sized;
    fn deref(&self) -> &Self::Target;
}

#[lang = "deref_mut"]
pub trait DerefMut: Deref {
    fn deref_mut(&mut self) -> &mut Self::Target;
}

impl<T: ?Sized> Deref for &T {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        *self
    }
}
impl<T: ?Sized> Deref for &mut T {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        *self
    }
}
impl<T: ?Sized> DerefMut for &mut T {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        *self
    }
}

// --- Drop (kernel types are `Copy`, so nothing has drop glue) --------------------------------

#[lang = "drop"]
pub trait Drop {
    fn drop(&mut self);
}

// The lang item behind drop glue was renamed between rustc 1.95 (`drop_in_place`) and the 1.97
// nightly (`drop_glue`); `cfg(version)` picks the one this compiler knows. A 1.96 nightly from
// before the rename would need the other branch.
/// The compiler replaces this body with the type's drop glue.
#[cfg(version("1.96"))]
#[lang = "drop_glue"]
#[inline]
unsafe fn drop_glue<T: ?Sized>(_: &mut T) {}

/// The compiler replaces this body with the type's drop glue.
#[cfg(not(version("1.96")))]
#[lang = "drop_in_place"]
#[allow(unconditional_recursion)]
#[inline]
pub unsafe fn drop_in_place<T: ?Sized>(to_drop: *mut T) {
    unsafe { drop_in_place(to_drop) }
}

// --- ranges --------------------------------------------------------------------------------------

/// `start..end`.
#[lang = "Range"]
#[derive(Clone, Copy, PartialEq)]
pub struct Range<Idx> {
    pub start: Idx,
    pub end: Idx,
}

/// `start..`.
#[lang = "RangeFrom"]
#[derive(Clone, Copy, PartialEq)]
pub struct RangeFrom<Idx> {
    pub start: Idx,
}

/// `..end`.
#[lang = "RangeTo"]
#[derive(Clone, Copy, PartialEq)]
pub struct RangeTo<Idx> {
    pub end: Idx,
}

/// `..`.
#[lang = "RangeFull"]
#[derive(Clone, Copy, PartialEq)]
pub struct RangeFull;

/// `..=end`.
#[lang = "RangeToInclusive"]
#[derive(Clone, Copy, PartialEq)]
pub struct RangeToInclusive<Idx> {
    pub end: Idx,
}

/// `start..=end`.
#[lang = "RangeInclusive"]
#[derive(Clone, Copy, PartialEq)]
pub struct RangeInclusive<Idx> {
    pub(crate) start: Idx,
    pub(crate) end: Idx,
    pub(crate) exhausted: bool,
}

impl<Idx> RangeInclusive<Idx> {
    #[lang = "range_inclusive_new"]
    #[inline(always)]
    pub const fn new(start: Idx, end: Idx) -> Self {
        Self {
            start,
            end,
            exhausted: false,
        }
    }

    #[inline(always)]
    pub const fn start(&self) -> &Idx {
        &self.start
    }

    #[inline(always)]
    pub const fn end(&self) -> &Idx {
        &self.end
    }
}

impl<Idx: crate::cmp::PartialOrd> Range<Idx> {
    #[inline(always)]
    pub fn contains(&self, item: &Idx) -> bool {
        *item >= self.start && *item < self.end
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        !(self.start < self.end)
    }
}

impl<Idx: crate::cmp::PartialOrd> RangeInclusive<Idx> {
    #[inline(always)]
    pub fn contains(&self, item: &Idx) -> bool {
        *item >= self.start && *item <= self.end
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.exhausted || !(self.start <= self.end)
    }
}

// --- closures ------------------------------------------------------------------------------------

#[lang = "fn_once"]
#[rustc_paren_sugar]
pub trait FnOnce<Args: Tuple> {
    #[lang = "fn_once_output"]
    type Output;
    extern "rust-call" fn call_once(self, args: Args) -> Self::Output;
}

#[lang = "fn_mut"]
#[rustc_paren_sugar]
pub trait FnMut<Args: Tuple>: FnOnce<Args> {
    extern "rust-call" fn call_mut(&mut self, args: Args) -> Self::Output;
}

#[lang = "fn"]
#[rustc_paren_sugar]
pub trait Fn<Args: Tuple>: FnMut<Args> {
    extern "rust-call" fn call(&self, args: Args) -> Self::Output;
}

// Arrays and slices index with `usize` natively (the compiler emits the bounds check and the
// access); these impls are what type-checking looks for first.
impl<T, const N: usize> Index<usize> for [T; N] {
    type Output = T;
    #[inline(always)]
    fn index(&self, index: usize) -> &T {
        &self[index]
    }
}
impl<T, const N: usize> IndexMut<usize> for [T; N] {
    #[inline(always)]
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self[index]
    }
}
impl<T> Index<usize> for [T] {
    type Output = T;
    #[inline(always)]
    fn index(&self, index: usize) -> &T {
        &self[index]
    }
}
impl<T> IndexMut<usize> for [T] {
    #[inline(always)]
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self[index]
    }
}
