//! `Clone`, and what `#[derive(Clone)]` expands to.

#[lang = "clone"]
pub trait Clone: crate::marker::Sized {
    fn clone(&self) -> Self;
}

/// `#[derive(Clone)]`.
#[rustc_builtin_macro]
pub macro Clone($item:item) {
    /* compiler built-in */
}

/// What `#[derive(Clone)]` implements next to `Clone` for a `Copy` type.
pub unsafe trait TrivialClone: Clone {}

/// A field-type check `#[derive(Clone)]` expands to.
pub struct AssertParamIsClone<T: Clone + ?crate::marker::Sized> {
    _field: crate::marker::PhantomData<T>,
}

/// A field-type check `#[derive(Clone)]` expands to.
pub struct AssertParamIsCopy<T: crate::marker::Copy + ?crate::marker::Sized> {
    _field: crate::marker::PhantomData<T>,
}
