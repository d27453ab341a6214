//! Atomics, host side: the same traits and functions as rustg-core's, on `std::sync::atomic`.
//!
//! Relaxed ordering, as PTX's `atom` without a `.sem` qualifier (what CUDA's `atomicAdd` and
//! friends are): each operation is indivisible, and `sync_threads` orders them within a block.
//! Floats use a compare-exchange loop on their bits, which is what a GPU without a native float
//! atomic does too.

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Types with atomic add/sub: `u32 i32 u64 i64 f32 f64`.
pub trait AtomicAdd: Copy {
    /// # Safety
    /// `ptr` must be valid for reads and writes and aligned, and accessed only atomically
    /// while other threads may access it.
    unsafe fn atomic_add(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_sub(ptr: *mut Self, value: Self) -> Self;
}

/// Types with atomic min/max: `u32 i32 u64 i64`.
pub trait AtomicMinMax: Copy {
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_min(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_max(ptr: *mut Self, value: Self) -> Self;
}

/// Types with atomic exchange and compare-and-swap: `u32 i32 u64 i64 f32 f64`.
pub trait AtomicExchange: Copy {
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_exchange(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_cas(ptr: *mut Self, current: Self, new: Self) -> Self;
}

/// Types with atomic and/or/xor: `u32 i32 u64 i64`.
pub trait AtomicBitwise: Copy {
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_and(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_or(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// As [`AtomicAdd::atomic_add`].
    unsafe fn atomic_xor(ptr: *mut Self, value: Self) -> Self;
}

macro_rules! int_atomics {
    ($($t:ty => $atomic:ty),*) => {$(
        impl AtomicAdd for $t {
            unsafe fn atomic_add(ptr: *mut $t, value: $t) -> $t {
                // Safety: the caller's contract is from_ptr's.
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_add(value, Relaxed)
            }
            unsafe fn atomic_sub(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_sub(value, Relaxed)
            }
        }
        impl AtomicMinMax for $t {
            unsafe fn atomic_min(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_min(value, Relaxed)
            }
            unsafe fn atomic_max(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_max(value, Relaxed)
            }
        }
        impl AtomicExchange for $t {
            unsafe fn atomic_exchange(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.swap(value, Relaxed)
            }
            unsafe fn atomic_cas(ptr: *mut $t, current: $t, new: $t) -> $t {
                match unsafe { <$atomic>::from_ptr(ptr) }.compare_exchange(current, new, Relaxed, Relaxed) {
                    Ok(old) | Err(old) => old,
                }
            }
        }
        impl AtomicBitwise for $t {
            unsafe fn atomic_and(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_and(value, Relaxed)
            }
            unsafe fn atomic_or(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_or(value, Relaxed)
            }
            unsafe fn atomic_xor(ptr: *mut $t, value: $t) -> $t {
                unsafe { <$atomic>::from_ptr(ptr) }.fetch_xor(value, Relaxed)
            }
        }
    )*};
}
int_atomics! { u32 => AtomicU32, i32 => AtomicI32, u64 => AtomicU64, i64 => AtomicI64 }

macro_rules! float_atomics {
    ($($t:ty => $atomic:ty),*) => {$(
        impl AtomicAdd for $t {
            unsafe fn atomic_add(ptr: *mut $t, value: $t) -> $t {
                // Safety: f32/f64 have the size and alignment of u32/u64.
                let bits = unsafe { <$atomic>::from_ptr(ptr.cast()) };
                let mut old = bits.load(Relaxed);
                loop {
                    let new = (<$t>::from_bits(old) + value).to_bits();
                    match bits.compare_exchange_weak(old, new, Relaxed, Relaxed) {
                        Ok(_) => return <$t>::from_bits(old),
                        Err(seen) => old = seen,
                    }
                }
            }
            unsafe fn atomic_sub(ptr: *mut $t, value: $t) -> $t {
                unsafe { Self::atomic_add(ptr, -value) }
            }
        }
        impl AtomicExchange for $t {
            unsafe fn atomic_exchange(ptr: *mut $t, value: $t) -> $t {
                <$t>::from_bits(unsafe { <$atomic>::from_ptr(ptr.cast()) }.swap(value.to_bits(), Relaxed))
            }
            unsafe fn atomic_cas(ptr: *mut $t, current: $t, new: $t) -> $t {
                let bits = unsafe { <$atomic>::from_ptr(ptr.cast()) };
                match bits.compare_exchange(current.to_bits(), new.to_bits(), Relaxed, Relaxed) {
                    Ok(old) | Err(old) => <$t>::from_bits(old),
                }
            }
        }
    )*};
}
float_atomics! { f32 => AtomicU32, f64 => AtomicU64 }

/// Atomically `*ptr += value`; returns the previous value.
///
/// # Safety
/// `ptr` must be valid and aligned, and only accessed atomically while other threads may access
/// it (the kernel contract of [`launch`](crate::launch)).
pub unsafe fn atomic_add<T: AtomicAdd>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_add(ptr, value) }
}

/// Atomically `*ptr -= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_sub<T: AtomicAdd>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_sub(ptr, value) }
}

/// Atomically `*ptr = min(*ptr, value)`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_min<T: AtomicMinMax>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_min(ptr, value) }
}

/// Atomically `*ptr = max(*ptr, value)`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_max<T: AtomicMinMax>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_max(ptr, value) }
}

/// Atomically `*ptr = value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_exchange<T: AtomicExchange>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_exchange(ptr, value) }
}

/// Atomically: if `*ptr == current` (bitwise) then `*ptr = new`. Returns the previous value,
/// equal to `current` exactly when the swap happened (CUDA's `atomicCAS`).
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_cas<T: AtomicExchange>(ptr: *mut T, current: T, new: T) -> T {
    unsafe { T::atomic_cas(ptr, current, new) }
}

/// Atomically `*ptr &= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_and<T: AtomicBitwise>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_and(ptr, value) }
}

/// Atomically `*ptr |= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_or<T: AtomicBitwise>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_or(ptr, value) }
}

/// Atomically `*ptr ^= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
pub unsafe fn atomic_xor<T: AtomicBitwise>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_xor(ptr, value) }
}
