//! Marker traits the compiler knows by lang item.

#[lang = "pointee_sized"]
pub trait PointeeSized {}

#[lang = "meta_sized"]
pub trait MetaSized: PointeeSized {}

#[lang = "sized"]
#[fundamental]
pub trait Sized: MetaSized {}

#[lang = "copy"]
pub trait Copy: crate::clone::Clone {}

/// `#[derive(Copy)]`.
#[rustc_builtin_macro]
pub macro Copy($item:item) {
    /* compiler built-in */
}

#[lang = "sync"]
pub unsafe auto trait Sync {}

pub unsafe auto trait Send {}

#[lang = "freeze"]
pub unsafe auto trait Freeze {}

#[lang = "unpin"]
pub auto trait Unpin {}

#[lang = "phantom_data"]
pub struct PhantomData<T: ?Sized>;

#[lang = "structural_peq"]
pub trait StructuralPartialEq {}

#[lang = "unsize"]
pub trait Unsize<T: ?Sized> {}

#[lang = "tuple_trait"]
pub trait Tuple {}

#[lang = "legacy_receiver"]
pub trait LegacyReceiver {}
impl<T: ?Sized> LegacyReceiver for &T {}
impl<T: ?Sized> LegacyReceiver for &mut T {}

#[lang = "destruct"]
pub trait Destruct {}

#[lang = "bikeshed_guaranteed_no_drop"]
pub trait BikeshedGuaranteedNoDrop {}

impl<T: ?Sized> Copy for PhantomData<T> {}
impl<T: ?Sized> crate::clone::Clone for PhantomData<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

macro_rules! copy_impls {
    ($($t:ty)*) => {$(
        impl Copy for $t {}
        impl crate::clone::Clone for $t {
            #[inline(always)]
            fn clone(&self) -> Self {
                *self
            }
        }
        unsafe impl crate::clone::TrivialClone for $t {}
    )*};
}
copy_impls! { bool char u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 }

impl<T: ?Sized> Copy for *const T {}
impl<T: ?Sized> Copy for *mut T {}
impl<T: ?Sized> Copy for &T {}
impl<T: ?Sized> crate::clone::Clone for *const T {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> crate::clone::Clone for *mut T {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> crate::clone::Clone for &T {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Copy, const N: usize> Copy for [T; N] {}
impl<T: Copy, const N: usize> crate::clone::Clone for [T; N] {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

#[lang = "discriminant_kind"]
pub trait DiscriminantKind {
    #[lang = "discriminant_type"]
    type Discriminant: Copy + crate::cmp::PartialEq + crate::cmp::Eq;
}

#[lang = "unsafe_unpin"]
pub unsafe auto trait UnsafeUnpin {}
