//! Kernel views of memory, host side: [`Slice`], [`SliceMut`] and [`SharedArray`]. The same
//! types with the same methods exist in rustg-core for the GPU; both are `#[repr(C)]` so a slice
//! parameter is one 16-byte `{ ptr, len }` struct on either side.
//!
//! They hold raw pointers, not borrows: every thread of a launch holds a copy, which a `&mut [T]`
//! could not be. What keeps the memory alive is the launch (emulated launches borrow the host
//! slices they were given; GPU launches use device buffers), and the launch's safety contract
//! (see [`launch`](crate::launch)) is what makes element access from many threads sound.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use crate::atomic::{AtomicAdd, AtomicBitwise, AtomicExchange, AtomicMinMax};

/// A read-only view of `len` elements at `ptr`.
#[repr(C)]
pub struct Slice<T> {
    ptr: *const T,
    len: usize,
}

/// A read-write view of `len` elements at `ptr`.
#[repr(C)]
pub struct SliceMut<T> {
    ptr: *mut T,
    len: usize,
}

/// `N` elements of block-shared memory, from [`shared_array!`](crate::shared_array).
#[repr(C)]
pub struct SharedArray<T, const N: usize> {
    ptr: *mut T,
    _marker: PhantomData<T>,
}

impl<T> Clone for Slice<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Slice<T> {}
impl<T> Clone for SliceMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SliceMut<T> {}
impl<T, const N: usize> Clone for SharedArray<T, N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, const N: usize> Copy for SharedArray<T, N> {}

impl<T> fmt::Debug for Slice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slice")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}
impl<T> fmt::Debug for SliceMut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SliceMut")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}
impl<T, const N: usize> fmt::Debug for SharedArray<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedArray")
            .field("ptr", &self.ptr)
            .field("len", &N)
            .finish()
    }
}

#[inline]
#[track_caller]
fn check(index: usize, len: usize) {
    if index >= len {
        panic!("index out of bounds: the len is {len} but the index is {index}");
    }
}

impl<T: Copy> Slice<T> {
    /// A view of `len` elements at `ptr`.
    ///
    /// # Safety
    /// `ptr` must be valid for reads of `len` elements for as long as the view is used.
    pub const unsafe fn from_raw_parts(ptr: *const T, len: usize) -> Self {
        Slice { ptr, len }
    }

    pub const fn len(&self) -> usize {
        self.len
    }

    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub const fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// The element at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<T> {
        // Safety: in bounds, and the launch keeps the memory valid.
        (index < self.len).then(|| unsafe { *self.ptr.add(index) })
    }

    /// # Safety
    /// `index < self.len()`.
    pub unsafe fn get_unchecked(&self, index: usize) -> T {
        unsafe { *self.ptr.add(index) }
    }
}

impl<T: Copy> Index<usize> for Slice<T> {
    type Output = T;
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        check(index, self.len);
        // Safety: in bounds, and the launch keeps the memory valid.
        unsafe { &*self.ptr.add(index) }
    }
}

impl<T: Copy> SliceMut<T> {
    /// A view of `len` elements at `ptr`.
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `len` elements for as long as the view is
    /// used.
    pub const unsafe fn from_raw_parts(ptr: *mut T, len: usize) -> Self {
        SliceMut { ptr, len }
    }

    pub const fn len(&self) -> usize {
        self.len
    }

    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub const fn as_ptr(&self) -> *const T {
        self.ptr as *const T
    }

    pub const fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The same memory, read-only.
    pub const fn as_slice(&self) -> Slice<T> {
        Slice {
            ptr: self.ptr as *const T,
            len: self.len,
        }
    }

    /// The element at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<T> {
        // Safety: in bounds, and the launch keeps the memory valid.
        (index < self.len).then(|| unsafe { *self.ptr.add(index) })
    }

    /// Stores `value` at `index` (bounds-checked).
    #[track_caller]
    pub fn set(&mut self, index: usize, value: T) {
        check(index, self.len);
        // Safety: in bounds, and the launch keeps the memory valid.
        unsafe { *self.ptr.add(index) = value }
    }

    /// # Safety
    /// `index < self.len()`.
    pub unsafe fn get_unchecked(&self, index: usize) -> T {
        unsafe { *self.ptr.add(index) }
    }

    /// # Safety
    /// `index < self.len()`.
    pub unsafe fn set_unchecked(&mut self, index: usize, value: T) {
        unsafe { *self.ptr.add(index) = value }
    }
}

impl<T: Copy> Index<usize> for SliceMut<T> {
    type Output = T;
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        check(index, self.len);
        // Safety: in bounds, and the launch keeps the memory valid.
        unsafe { &*self.ptr.add(index) }
    }
}

impl<T: Copy> IndexMut<usize> for SliceMut<T> {
    #[track_caller]
    fn index_mut(&mut self, index: usize) -> &mut T {
        check(index, self.len);
        // Safety: in bounds; distinct threads writing one element is the data race the launch
        // contract rules out.
        unsafe { &mut *self.ptr.add(index) }
    }
}

impl<T: Copy, const N: usize> SharedArray<T, N> {
    #[doc(hidden)]
    pub const unsafe fn __from_ptr(ptr: *mut T) -> Self {
        SharedArray {
            ptr,
            _marker: PhantomData,
        }
    }

    pub const fn len(&self) -> usize {
        N
    }

    pub const fn is_empty(&self) -> bool {
        N == 0
    }

    pub const fn as_ptr(&self) -> *const T {
        self.ptr as *const T
    }

    pub const fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The whole array as a [`SliceMut`].
    pub const fn as_slice_mut(&self) -> SliceMut<T> {
        SliceMut {
            ptr: self.ptr,
            len: N,
        }
    }
}

impl<T: Copy, const N: usize> Index<usize> for SharedArray<T, N> {
    type Output = T;
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        check(index, N);
        // Safety: in bounds of the block's allocation, which outlives the block's threads.
        unsafe { &*self.ptr.add(index) }
    }
}

impl<T: Copy, const N: usize> IndexMut<usize> for SharedArray<T, N> {
    #[track_caller]
    fn index_mut(&mut self, index: usize) -> &mut T {
        check(index, N);
        // Safety: as `index`; races are the launch contract's business.
        unsafe { &mut *self.ptr.add(index) }
    }
}

macro_rules! element_atomics {
    ($ty:ident $(, $n:ident)?) => {
        impl<T: Copy $(, const $n: usize)?> $ty<T $(, $n)?> {
            /// Atomically adds `value` to the element; returns the previous value.
            #[track_caller]
            pub fn atomic_add(&self, index: usize, value: T) -> T
            where
                T: AtomicAdd,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_add(self.as_mut_ptr().add(index), value) }
            }

            /// Atomically subtracts `value` from the element; returns the previous value.
            #[track_caller]
            pub fn atomic_sub(&self, index: usize, value: T) -> T
            where
                T: AtomicAdd,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_sub(self.as_mut_ptr().add(index), value) }
            }

            /// Atomically stores the minimum; returns the previous value.
            #[track_caller]
            pub fn atomic_min(&self, index: usize, value: T) -> T
            where
                T: AtomicMinMax,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_min(self.as_mut_ptr().add(index), value) }
            }

            /// Atomically stores the maximum; returns the previous value.
            #[track_caller]
            pub fn atomic_max(&self, index: usize, value: T) -> T
            where
                T: AtomicMinMax,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_max(self.as_mut_ptr().add(index), value) }
            }

            /// Atomically replaces the element; returns the previous value.
            #[track_caller]
            pub fn atomic_exchange(&self, index: usize, value: T) -> T
            where
                T: AtomicExchange,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_exchange(self.as_mut_ptr().add(index), value) }
            }

            /// Stores `new` if the element equals `current` (bitwise); returns the old value.
            #[track_caller]
            pub fn atomic_cas(&self, index: usize, current: T, new: T) -> T
            where
                T: AtomicExchange,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_cas(self.as_mut_ptr().add(index), current, new) }
            }

            /// Atomically ors `value` into the element; returns the previous value.
            #[track_caller]
            pub fn atomic_or(&self, index: usize, value: T) -> T
            where
                T: AtomicBitwise,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_or(self.as_mut_ptr().add(index), value) }
            }

            /// Atomically ands `value` into the element; returns the previous value.
            #[track_caller]
            pub fn atomic_and(&self, index: usize, value: T) -> T
            where
                T: AtomicBitwise,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_and(self.as_mut_ptr().add(index), value) }
            }

            /// Atomically xors `value` into the element; returns the previous value.
            #[track_caller]
            pub fn atomic_xor(&self, index: usize, value: T) -> T
            where
                T: AtomicBitwise,
            {
                check(index, self.len());
                // Safety: in bounds and valid for the launch.
                unsafe { T::atomic_xor(self.as_mut_ptr().add(index), value) }
            }
        }
    };
}
element_atomics!(SliceMut);
element_atomics!(SharedArray, N);
