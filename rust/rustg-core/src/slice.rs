//! Kernel views of memory: [`Slice`] / [`SliceMut`] (a pointer and a length, the kernel
//! parameter type for arrays) and [`SharedArray`] (block-shared memory from `shared_array!`).
//!
//! All three are `#[repr(C)]` and `Copy`. As kernel parameters `Slice<T>`/`SliceMut<T>` travel as
//! one 16-byte struct `{ ptr: u64, len: u64 }` (PTX `.param .align 8 .b8 name[16]`). Indexing is
//! bounds-checked (a failed check traps, as a host panic would); `get_unchecked` is not.

use crate::device::{AtomicAdd, AtomicBitwise, AtomicExchange, AtomicMinMax};
use crate::marker::{Copy, PhantomData};
use crate::ops::{Index, IndexMut};
use crate::option::Option::{self, None, Some};
use crate::panicking::panic_trap;

/// A read-only view of `len` elements at `ptr` (device memory on the GPU).
#[repr(C)]
pub struct Slice<T> {
    ptr: *const T,
    len: usize,
}

/// A read-write view of `len` elements at `ptr` (device memory on the GPU).
#[repr(C)]
pub struct SliceMut<T> {
    ptr: *mut T,
    len: usize,
}

/// `N` elements of block-shared memory (see `shared_array!`).
#[repr(C)]
pub struct SharedArray<T, const N: usize> {
    ptr: *mut T,
    _marker: PhantomData<T>,
}

impl<T> Copy for Slice<T> {}
impl<T> crate::clone::Clone for Slice<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SliceMut<T> {}
impl<T> crate::clone::Clone for SliceMut<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, const N: usize> Copy for SharedArray<T, N> {}
impl<T, const N: usize> crate::clone::Clone for SharedArray<T, N> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

#[inline(always)]
fn check(index: usize, len: usize) {
    if index >= len {
        panic_trap();
    }
}

impl<T: Copy> Slice<T> {
    /// A view of `len` elements at `ptr`.
    ///
    /// # Safety
    /// `ptr` must be valid for reads of `len` elements for as long as the view is used.
    #[inline(always)]
    pub const unsafe fn from_raw_parts(ptr: *const T, len: usize) -> Self {
        Slice { ptr, len }
    }

    #[inline(always)]
    pub const fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    pub const fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// The element at `index`, or `None` past the end.
    #[inline(always)]
    pub fn get(&self, index: usize) -> Option<T> {
        if index < self.len {
            Some(unsafe { *self.ptr.add(index) })
        } else {
            None
        }
    }

    /// # Safety
    /// `index < self.len()`.
    #[inline(always)]
    pub unsafe fn get_unchecked(&self, index: usize) -> T {
        unsafe { *self.ptr.add(index) }
    }
}

impl<T: Copy> Index<usize> for Slice<T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, index: usize) -> &T {
        check(index, self.len);
        unsafe { &*self.ptr.add(index) }
    }
}

impl<T: Copy> SliceMut<T> {
    /// A view of `len` elements at `ptr`.
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `len` elements for as long as the view is
    /// used.
    #[inline(always)]
    pub const unsafe fn from_raw_parts(ptr: *mut T, len: usize) -> Self {
        SliceMut { ptr, len }
    }

    #[inline(always)]
    pub const fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    pub const fn as_ptr(&self) -> *const T {
        self.ptr as *const T
    }

    #[inline(always)]
    pub const fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The same memory, read-only.
    #[inline(always)]
    pub const fn as_slice(&self) -> Slice<T> {
        Slice {
            ptr: self.ptr as *const T,
            len: self.len,
        }
    }

    /// The element at `index`, or `None` past the end.
    #[inline(always)]
    pub fn get(&self, index: usize) -> Option<T> {
        if index < self.len {
            Some(unsafe { *self.ptr.add(index) })
        } else {
            None
        }
    }

    /// Stores `value` at `index` (bounds-checked).
    #[inline(always)]
    pub fn set(&mut self, index: usize, value: T) {
        check(index, self.len);
        unsafe { *self.ptr.add(index) = value }
    }

    /// # Safety
    /// `index < self.len()`.
    #[inline(always)]
    pub unsafe fn get_unchecked(&self, index: usize) -> T {
        unsafe { *self.ptr.add(index) }
    }

    /// # Safety
    /// `index < self.len()`.
    #[inline(always)]
    pub unsafe fn set_unchecked(&mut self, index: usize, value: T) {
        unsafe { *self.ptr.add(index) = value }
    }
}

impl<T: Copy> Index<usize> for SliceMut<T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, index: usize) -> &T {
        check(index, self.len);
        unsafe { &*self.ptr.add(index) }
    }
}

impl<T: Copy> IndexMut<usize> for SliceMut<T> {
    #[inline(always)]
    fn index_mut(&mut self, index: usize) -> &mut T {
        check(index, self.len);
        unsafe { &mut *self.ptr.add(index) }
    }
}

impl<T: Copy, const N: usize> SharedArray<T, N> {
    #[doc(hidden)]
    #[inline(always)]
    pub const unsafe fn __from_ptr(ptr: *mut T) -> Self {
        SharedArray {
            ptr,
            _marker: PhantomData,
        }
    }

    #[inline(always)]
    pub const fn len(&self) -> usize {
        N
    }

    #[inline(always)]
    pub const fn is_empty(&self) -> bool {
        N == 0
    }

    #[inline(always)]
    pub const fn as_ptr(&self) -> *const T {
        self.ptr as *const T
    }

    #[inline(always)]
    pub const fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The whole array as a [`SliceMut`].
    #[inline(always)]
    pub const fn as_slice_mut(&self) -> SliceMut<T> {
        SliceMut {
            ptr: self.ptr,
            len: N,
        }
    }
}

impl<T: Copy, const N: usize> Index<usize> for SharedArray<T, N> {
    type Output = T;
    #[inline(always)]
    fn index(&self, index: usize) -> &T {
        check(index, N);
        unsafe { &*self.ptr.add(index) }
    }
}

impl<T: Copy, const N: usize> IndexMut<usize> for SharedArray<T, N> {
    #[inline(always)]
    fn index_mut(&mut self, index: usize) -> &mut T {
        check(index, N);
        unsafe { &mut *self.ptr.add(index) }
    }
}

// Element atomics, bounds-checked: `bins.atomic_add(b, 1)`. Each returns the previous value.
macro_rules! element_atomics {
    ($ty:ident $(, $n:ident)?) => {
        impl<T: Copy $(, const $n: usize)?> $ty<T $(, $n)?> {
            #[inline(always)]
            pub fn atomic_add(&self, index: usize, value: T) -> T
            where
                T: AtomicAdd,
            {
                check(index, self.len());
                unsafe { T::atomic_add(self.as_mut_ptr().add(index), value) }
            }

            #[inline(always)]
            pub fn atomic_sub(&self, index: usize, value: T) -> T
            where
                T: AtomicAdd,
            {
                check(index, self.len());
                unsafe { T::atomic_sub(self.as_mut_ptr().add(index), value) }
            }

            #[inline(always)]
            pub fn atomic_min(&self, index: usize, value: T) -> T
            where
                T: AtomicMinMax,
            {
                check(index, self.len());
                unsafe { T::atomic_min(self.as_mut_ptr().add(index), value) }
            }

            #[inline(always)]
            pub fn atomic_max(&self, index: usize, value: T) -> T
            where
                T: AtomicMinMax,
            {
                check(index, self.len());
                unsafe { T::atomic_max(self.as_mut_ptr().add(index), value) }
            }

            #[inline(always)]
            pub fn atomic_exchange(&self, index: usize, value: T) -> T
            where
                T: AtomicExchange,
            {
                check(index, self.len());
                unsafe { T::atomic_exchange(self.as_mut_ptr().add(index), value) }
            }

            /// Stores `new` if the element equals `current` (bitwise); returns the old value.
            #[inline(always)]
            pub fn atomic_cas(&self, index: usize, current: T, new: T) -> T
            where
                T: AtomicExchange,
            {
                check(index, self.len());
                unsafe { T::atomic_cas(self.as_mut_ptr().add(index), current, new) }
            }

            #[inline(always)]
            pub fn atomic_or(&self, index: usize, value: T) -> T
            where
                T: AtomicBitwise,
            {
                check(index, self.len());
                unsafe { T::atomic_or(self.as_mut_ptr().add(index), value) }
            }

            #[inline(always)]
            pub fn atomic_and(&self, index: usize, value: T) -> T
            where
                T: AtomicBitwise,
            {
                check(index, self.len());
                unsafe { T::atomic_and(self.as_mut_ptr().add(index), value) }
            }

            #[inline(always)]
            pub fn atomic_xor(&self, index: usize, value: T) -> T
            where
                T: AtomicBitwise,
            {
                check(index, self.len());
                unsafe { T::atomic_xor(self.as_mut_ptr().add(index), value) }
            }
        }
    };
}
element_atomics!(SliceMut);
element_atomics!(SharedArray, N);

impl<T, const N: usize> [T; N] {
    #[inline(always)]
    pub const fn len(&self) -> usize {
        N
    }

    #[inline(always)]
    pub const fn is_empty(&self) -> bool {
        N == 0
    }
}
