//! Raw pointers: `core::ptr` functions and the inherent methods of `*const T` / `*mut T`.

use crate::intrinsics;
use crate::marker::Copy;

#[inline(always)]
pub const fn null<T>() -> *const T {
    0usize as *const T
}

#[inline(always)]
pub const fn null_mut<T>() -> *mut T {
    0usize as *mut T
}

/// Reads `*src` (which must be valid and aligned).
#[inline(always)]
pub unsafe fn read<T: Copy>(src: *const T) -> T {
    unsafe { *src }
}

/// Writes `*dst = value` (which must be valid and aligned).
#[inline(always)]
pub unsafe fn write<T: Copy>(dst: *mut T, value: T) {
    unsafe { *dst = value }
}

#[inline(always)]
pub unsafe fn read_volatile<T: Copy>(src: *const T) -> T {
    unsafe { intrinsics::volatile_load(src) }
}

#[inline(always)]
pub unsafe fn write_volatile<T: Copy>(dst: *mut T, value: T) {
    unsafe { intrinsics::volatile_store(dst, value) }
}

#[inline(always)]
pub unsafe fn copy_nonoverlapping<T>(src: *const T, dst: *mut T, count: usize) {
    unsafe { intrinsics::copy_nonoverlapping(src, dst, count) }
}

#[inline(always)]
pub unsafe fn write_bytes<T>(dst: *mut T, val: u8, count: usize) {
    unsafe { intrinsics::write_bytes(dst, val, count) }
}

impl<T> *const T {
    #[inline(always)]
    pub fn is_null(self) -> bool {
        (self as usize) == 0
    }

    #[inline(always)]
    pub const unsafe fn add(self, count: usize) -> *const T {
        unsafe { intrinsics::offset(self, count) }
    }

    #[inline(always)]
    pub const unsafe fn sub(self, count: usize) -> *const T {
        unsafe { intrinsics::offset(self, 0isize - (count as isize)) }
    }

    #[inline(always)]
    pub const unsafe fn offset(self, count: isize) -> *const T {
        unsafe { intrinsics::offset(self, count) }
    }

    #[inline(always)]
    pub const fn wrapping_add(self, count: usize) -> *const T {
        unsafe { intrinsics::arith_offset(self, count as isize) }
    }

    #[inline(always)]
    pub const fn cast<U>(self) -> *const U {
        self as *const U
    }

    #[inline(always)]
    pub const fn cast_mut(self) -> *mut T {
        self as *mut T
    }

    #[inline(always)]
    pub unsafe fn read(self) -> T
    where
        T: Copy,
    {
        unsafe { *self }
    }

    #[inline(always)]
    pub unsafe fn read_volatile(self) -> T
    where
        T: Copy,
    {
        unsafe { intrinsics::volatile_load(self) }
    }
}

impl<T> *mut T {
    #[inline(always)]
    pub fn is_null(self) -> bool {
        (self as usize) == 0
    }

    #[inline(always)]
    pub const unsafe fn add(self, count: usize) -> *mut T {
        unsafe { intrinsics::offset(self, count) }
    }

    #[inline(always)]
    pub const unsafe fn sub(self, count: usize) -> *mut T {
        unsafe { intrinsics::offset(self, 0isize - (count as isize)) }
    }

    #[inline(always)]
    pub const unsafe fn offset(self, count: isize) -> *mut T {
        unsafe { intrinsics::offset(self, count) }
    }

    #[inline(always)]
    pub const fn wrapping_add(self, count: usize) -> *mut T {
        unsafe { intrinsics::arith_offset(self as *const T, count as isize) as *mut T }
    }

    #[inline(always)]
    pub const fn cast<U>(self) -> *mut U {
        self as *mut U
    }

    #[inline(always)]
    pub const fn cast_const(self) -> *const T {
        self as *const T
    }

    #[inline(always)]
    pub unsafe fn read(self) -> T
    where
        T: Copy,
    {
        unsafe { *self }
    }

    #[inline(always)]
    pub unsafe fn write(self, value: T)
    where
        T: Copy,
    {
        unsafe { *self = value }
    }

    #[inline(always)]
    pub unsafe fn read_volatile(self) -> T
    where
        T: Copy,
    {
        unsafe { intrinsics::volatile_load(self) }
    }

    #[inline(always)]
    pub unsafe fn write_volatile(self, value: T)
    where
        T: Copy,
    {
        unsafe { intrinsics::volatile_store(self, value) }
    }
}
