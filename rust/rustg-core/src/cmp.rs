//! Comparisons.

use crate::option::Option::{self, None, Some};

#[lang = "eq"]
pub trait PartialEq<Rhs: ?Sized = Self> {
    fn eq(&self, other: &Rhs) -> bool;

    #[inline(always)]
    fn ne(&self, other: &Rhs) -> bool {
        !self.eq(other)
    }
}

/// `#[derive(PartialEq)]`.
#[rustc_builtin_macro]
pub macro PartialEq($item:item) {
    /* compiler built-in */
}

pub trait Eq: PartialEq<Self> {
    /// What `#[derive(Eq)]` implements (a compile-time check of the fields).
    #[doc(hidden)]
    #[inline(always)]
    fn assert_fields_are_eq(&self) {}
}

/// `#[derive(Eq)]`.
#[rustc_builtin_macro]
#[allow_internal_unstable(coverage_attribute)]
pub macro Eq($item:item) {
    /* compiler built-in */
}

/// A field-type check `#[derive(Eq)]` expands to.
pub struct AssertParamIsEq<T: Eq + ?crate::marker::Sized> {
    _field: crate::marker::PhantomData<T>,
}

#[lang = "Ordering"]
#[derive(Clone, Copy, PartialEq)]
#[repr(i8)]
pub enum Ordering {
    Less = -1,
    Equal = 0,
    Greater = 1,
}

impl Eq for Ordering {}

impl Ordering {
    #[inline(always)]
    pub const fn is_eq(self) -> bool {
        matches_ordering(self, 0)
    }
    #[inline(always)]
    pub const fn is_ne(self) -> bool {
        !matches_ordering(self, 0)
    }
    #[inline(always)]
    pub const fn is_lt(self) -> bool {
        matches_ordering(self, -1)
    }
    #[inline(always)]
    pub const fn is_gt(self) -> bool {
        matches_ordering(self, 1)
    }
    #[inline(always)]
    pub const fn is_le(self) -> bool {
        !matches_ordering(self, 1)
    }
    #[inline(always)]
    pub const fn is_ge(self) -> bool {
        !matches_ordering(self, -1)
    }
    #[inline(always)]
    pub const fn reverse(self) -> Ordering {
        match self {
            Ordering::Less => Ordering::Greater,
            Ordering::Equal => Ordering::Equal,
            Ordering::Greater => Ordering::Less,
        }
    }
}

#[inline(always)]
const fn matches_ordering(o: Ordering, v: i8) -> bool {
    (o as i8) == v
}

#[lang = "partial_ord"]
pub trait PartialOrd<Rhs: ?Sized = Self>: PartialEq<Rhs> {
    fn partial_cmp(&self, other: &Rhs) -> Option<Ordering>;

    #[inline(always)]
    fn lt(&self, other: &Rhs) -> bool {
        match self.partial_cmp(other) {
            Some(Ordering::Less) => true,
            _ => false,
        }
    }
    #[inline(always)]
    fn le(&self, other: &Rhs) -> bool {
        match self.partial_cmp(other) {
            Some(Ordering::Less | Ordering::Equal) => true,
            _ => false,
        }
    }
    #[inline(always)]
    fn gt(&self, other: &Rhs) -> bool {
        match self.partial_cmp(other) {
            Some(Ordering::Greater) => true,
            _ => false,
        }
    }
    #[inline(always)]
    fn ge(&self, other: &Rhs) -> bool {
        match self.partial_cmp(other) {
            Some(Ordering::Greater | Ordering::Equal) => true,
            _ => false,
        }
    }
}

pub trait Ord: Eq + PartialOrd<Self> {
    fn cmp(&self, other: &Self) -> Ordering;

    #[inline(always)]
    fn max(self, other: Self) -> Self
    where
        Self: crate::marker::Sized,
    {
        if other < self {
            self
        } else {
            other
        }
    }

    #[inline(always)]
    fn min(self, other: Self) -> Self
    where
        Self: crate::marker::Sized,
    {
        if other < self {
            other
        } else {
            self
        }
    }

    #[inline(always)]
    fn clamp(self, min: Self, max: Self) -> Self
    where
        Self: crate::marker::Sized,
    {
        if self < min {
            min
        } else if self > max {
            max
        } else {
            self
        }
    }
}

/// The smaller of two values (`core::cmp::min`).
#[inline(always)]
pub fn min<T: Ord>(a: T, b: T) -> T {
    a.min(b)
}

/// The larger of two values (`core::cmp::max`).
#[inline(always)]
pub fn max<T: Ord>(a: T, b: T) -> T {
    a.max(b)
}

macro_rules! int_cmp {
    ($($t:ty)*) => {$(
        impl PartialEq for $t {
            #[inline(always)]
            fn eq(&self, other: &$t) -> bool {
                *self == *other
            }
            #[inline(always)]
            fn ne(&self, other: &$t) -> bool {
                *self != *other
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            #[inline(always)]
            fn partial_cmp(&self, other: &$t) -> Option<Ordering> {
                Some(self.cmp(other))
            }
            #[inline(always)]
            fn lt(&self, other: &$t) -> bool {
                *self < *other
            }
            #[inline(always)]
            fn le(&self, other: &$t) -> bool {
                *self <= *other
            }
            #[inline(always)]
            fn gt(&self, other: &$t) -> bool {
                *self > *other
            }
            #[inline(always)]
            fn ge(&self, other: &$t) -> bool {
                *self >= *other
            }
        }
        impl Ord for $t {
            #[inline(always)]
            fn cmp(&self, other: &$t) -> Ordering {
                if *self < *other {
                    Ordering::Less
                } else if *self == *other {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
        }
    )*};
}
int_cmp! { bool char u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize }

macro_rules! float_cmp {
    ($($t:ty)*) => {$(
        impl PartialEq for $t {
            #[inline(always)]
            fn eq(&self, other: &$t) -> bool {
                *self == *other
            }
            #[inline(always)]
            fn ne(&self, other: &$t) -> bool {
                *self != *other
            }
        }
        impl PartialOrd for $t {
            #[inline(always)]
            fn partial_cmp(&self, other: &$t) -> Option<Ordering> {
                if *self < *other {
                    Some(Ordering::Less)
                } else if *self > *other {
                    Some(Ordering::Greater)
                } else if *self == *other {
                    Some(Ordering::Equal)
                } else {
                    None
                }
            }
            #[inline(always)]
            fn lt(&self, other: &$t) -> bool {
                *self < *other
            }
            #[inline(always)]
            fn le(&self, other: &$t) -> bool {
                *self <= *other
            }
            #[inline(always)]
            fn gt(&self, other: &$t) -> bool {
                *self > *other
            }
            #[inline(always)]
            fn ge(&self, other: &$t) -> bool {
                *self >= *other
            }
        }
    )*};
}
float_cmp! { f32 f64 }

impl PartialEq for () {
    #[inline(always)]
    fn eq(&self, _other: &()) -> bool {
        true
    }
}

impl<T> PartialEq for *const T {
    #[inline(always)]
    fn eq(&self, other: &*const T) -> bool {
        *self == *other
    }
}

impl<T> PartialEq for *mut T {
    #[inline(always)]
    fn eq(&self, other: &*mut T) -> bool {
        *self == *other
    }
}

impl<A: ?Sized + PartialEq<B>, B: ?Sized> PartialEq<&B> for &A {
    #[inline(always)]
    fn eq(&self, other: &&B) -> bool {
        PartialEq::eq(*self, *other)
    }
}

impl<A: ?Sized + PartialOrd<B>, B: ?Sized> PartialOrd<&B> for &A {
    #[inline(always)]
    fn partial_cmp(&self, other: &&B) -> Option<Ordering> {
        PartialOrd::partial_cmp(*self, *other)
    }
}
