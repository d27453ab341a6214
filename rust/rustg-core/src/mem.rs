//! `core::mem`: sizes, `swap`, `replace`, `transmute`.

pub use crate::intrinsics::transmute;
use crate::marker::Copy;

#[inline(always)]
pub const fn size_of<T>() -> usize {
    const { crate::intrinsics::size_of::<T>() }
}

#[inline(always)]
pub const fn align_of<T>() -> usize {
    const { crate::intrinsics::align_of::<T>() }
}

/// Swaps two values. Kernel data is `Copy`, so this is the plain three-move swap.
#[inline(always)]
pub fn swap<T: Copy>(a: &mut T, b: &mut T) {
    let t = *a;
    *a = *b;
    *b = t;
}

/// Replaces `*dest` with `src`, returning the old value.
#[inline(always)]
pub fn replace<T: Copy>(dest: &mut T, src: T) -> T {
    let old = *dest;
    *dest = src;
    old
}
