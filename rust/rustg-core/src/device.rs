//! The device API on the GPU: the same names and signatures as the host crate `rustg`, mapped to
//! NVVM special-register intrinsics, `bar.sync`, and PTX atomics.

use crate::arch::asm;
use crate::marker::Copy;

unsafe extern "C" {
    #[link_name = "llvm.nvvm.read.ptx.sreg.tid.x"]
    fn sreg_tid_x() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.tid.y"]
    fn sreg_tid_y() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.tid.z"]
    fn sreg_tid_z() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.ctaid.x"]
    fn sreg_ctaid_x() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.ctaid.y"]
    fn sreg_ctaid_y() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.ctaid.z"]
    fn sreg_ctaid_z() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.ntid.x"]
    fn sreg_ntid_x() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.ntid.y"]
    fn sreg_ntid_y() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.ntid.z"]
    fn sreg_ntid_z() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.nctaid.x"]
    fn sreg_nctaid_x() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.nctaid.y"]
    fn sreg_nctaid_y() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.nctaid.z"]
    fn sreg_nctaid_z() -> u32;
    #[link_name = "llvm.nvvm.read.ptx.sreg.laneid"]
    fn sreg_laneid() -> u32;
    // LLVM knows this one as convergent, which keeps optimisations from moving code across it or
    // making it conditional; inline asm would not carry that guarantee.
    #[link_name = "llvm.nvvm.barrier0"]
    fn barrier0();
}

/// Threads per warp.
pub const WARP_SIZE: u32 = 32;

/// Three extents or coordinates (CUDA's `dim3`/`uint3`).
#[repr(C)]
#[derive(Clone, Copy, PartialEq)]
pub struct Dim3 {
    pub x: u32,
    pub y: u32,
    pub z: u32,
}

impl crate::cmp::Eq for Dim3 {}

macro_rules! sreg_fns {
    ($($name:ident => $sreg:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[inline(always)]
        pub fn $name() -> u32 {
            unsafe { $sreg() }
        }
    )*};
}

sreg_fns! {
    thread_idx_x => sreg_tid_x, "This thread's index in its block, x (`threadIdx.x`).";
    thread_idx_y => sreg_tid_y, "This thread's index in its block, y (`threadIdx.y`).";
    thread_idx_z => sreg_tid_z, "This thread's index in its block, z (`threadIdx.z`).";
    block_idx_x => sreg_ctaid_x, "This block's index in the grid, x (`blockIdx.x`).";
    block_idx_y => sreg_ctaid_y, "This block's index in the grid, y (`blockIdx.y`).";
    block_idx_z => sreg_ctaid_z, "This block's index in the grid, z (`blockIdx.z`).";
    block_dim_x => sreg_ntid_x, "Threads per block, x (`blockDim.x`).";
    block_dim_y => sreg_ntid_y, "Threads per block, y (`blockDim.y`).";
    block_dim_z => sreg_ntid_z, "Threads per block, z (`blockDim.z`).";
    grid_dim_x => sreg_nctaid_x, "Blocks in the grid, x (`gridDim.x`).";
    grid_dim_y => sreg_nctaid_y, "Blocks in the grid, y (`gridDim.y`).";
    grid_dim_z => sreg_nctaid_z, "Blocks in the grid, z (`gridDim.z`).";
    lane_id => sreg_laneid, "This thread's lane in its warp (0..32).";
}

#[inline(always)]
pub fn thread_idx() -> Dim3 {
    Dim3 {
        x: thread_idx_x(),
        y: thread_idx_y(),
        z: thread_idx_z(),
    }
}

#[inline(always)]
pub fn block_idx() -> Dim3 {
    Dim3 {
        x: block_idx_x(),
        y: block_idx_y(),
        z: block_idx_z(),
    }
}

#[inline(always)]
pub fn block_dim() -> Dim3 {
    Dim3 {
        x: block_dim_x(),
        y: block_dim_y(),
        z: block_dim_z(),
    }
}

#[inline(always)]
pub fn grid_dim() -> Dim3 {
    Dim3 {
        x: grid_dim_x(),
        y: grid_dim_y(),
        z: grid_dim_z(),
    }
}

/// `block_idx_x() * block_dim_x() + thread_idx_x()`, widened to `usize` before multiplying.
#[inline(always)]
pub fn global_idx_x() -> usize {
    (block_idx_x() as usize) * (block_dim_x() as usize) + (thread_idx_x() as usize)
}

/// `block_dim_x() * grid_dim_x()`: the step of a grid-stride loop over x.
#[inline(always)]
pub fn grid_stride_x() -> usize {
    (block_dim_x() as usize) * (grid_dim_x() as usize)
}

/// Waits until every thread of the block has reached this call, and makes their writes to
/// shared and global memory visible to each other (CUDA's `__syncthreads()`). Every thread of
/// the block must reach the same sequence of calls (not inside divergent control flow).
#[inline(always)]
pub fn sync_threads() {
    unsafe { barrier0() }
}

/// Orders this thread's memory accesses as seen by all threads of the GPU (`__threadfence()`).
#[inline(always)]
pub fn thread_fence() {
    unsafe { asm!("membar.gl;", options(nostack, preserves_flags)) }
}

/// Orders this thread's memory accesses as seen by the threads of its block.
#[inline(always)]
pub fn thread_fence_block() {
    unsafe { asm!("membar.cta;", options(nostack, preserves_flags)) }
}

/// Orders this thread's memory accesses as seen by the GPU and the host.
#[inline(always)]
pub fn thread_fence_system() {
    unsafe { asm!("membar.sys;", options(nostack, preserves_flags)) }
}

/// Bytes of dynamic shared memory this launch gave each block.
#[inline(always)]
pub fn dynamic_shared_memory_bytes() -> u32 {
    let n: u32;
    unsafe { asm!("mov.u32 {0}, %dynamic_smem_size;", out(reg32) n, options(pure, nomem, nostack)) }
    n
}

// --- atomics ---------------------------------------------------------------------------------
//
// PTX `atom` with generic addressing, so the pointer may be global or shared memory. No `.sem`
// and no `.scope` means relaxed at GPU scope (PTX ISA, "atom"), which is what CUDA's atomicAdd
// and friends are. Inline asm rather than LLVM's atomicrmw: `core::intrinsics::atomic_*` take
// their ordering as a const-generic enum that needs `adt_const_params` machinery, and LLVM has
// renamed its NVVM atomic intrinsics between releases; the PTX instructions have not changed.

/// Types with atomic add/sub: `u32 i32 u64 i64 f32 f64`.
pub trait AtomicAdd: Copy {
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_add(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_sub(ptr: *mut Self, value: Self) -> Self;
}

/// Types with atomic min/max: `u32 i32 u64 i64`.
pub trait AtomicMinMax: Copy {
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_min(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_max(ptr: *mut Self, value: Self) -> Self;
}

/// Types with atomic exchange and compare-and-swap: `u32 i32 u64 i64 f32 f64`.
pub trait AtomicExchange: Copy {
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_exchange(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_cas(ptr: *mut Self, current: Self, new: Self) -> Self;
}

/// Types with atomic and/or/xor: `u32 i32 u64 i64`.
pub trait AtomicBitwise: Copy {
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_and(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_or(ptr: *mut Self, value: Self) -> Self;
    /// # Safety
    /// `ptr` must be valid and aligned.
    unsafe fn atomic_xor(ptr: *mut Self, value: Self) -> Self;
}

macro_rules! atom {
    ($op:literal, $reg:ident, $ptr:expr, $value:expr) => {{
        let old;
        unsafe {
            asm!(
                $op,
                old = out($reg) old,
                ptr = in(reg64) $ptr,
                value = in($reg) $value,
                options(nostack, preserves_flags),
            );
        }
        old
    }};
}

macro_rules! atomic_add_impl {
    ($($t:ty, $reg:ident, $add:literal, $neg:expr;)*) => {$(
        impl AtomicAdd for $t {
            #[inline(always)]
            unsafe fn atomic_add(ptr: *mut $t, value: $t) -> $t {
                atom!($add, $reg, ptr, value)
            }
            #[inline(always)]
            unsafe fn atomic_sub(ptr: *mut $t, value: $t) -> $t {
                let negated: $t = $neg(value);
                atom!($add, $reg, ptr, negated)
            }
        }
    )*};
}
atomic_add_impl! {
    u32, reg32, "atom.add.u32 {old}, [{ptr}], {value};", |v: u32| v.wrapping_neg();
    i32, reg32, "atom.add.u32 {old}, [{ptr}], {value};", |v: i32| v.wrapping_neg();
    u64, reg64, "atom.add.u64 {old}, [{ptr}], {value};", |v: u64| v.wrapping_neg();
    i64, reg64, "atom.add.u64 {old}, [{ptr}], {value};", |v: i64| v.wrapping_neg();
    f32, reg32, "atom.add.f32 {old}, [{ptr}], {value};", |v: f32| -v;
    f64, reg64, "atom.add.f64 {old}, [{ptr}], {value};", |v: f64| -v;
}

macro_rules! atomic_minmax_impl {
    ($($t:ty, $reg:ident, $min:literal, $max:literal;)*) => {$(
        impl AtomicMinMax for $t {
            #[inline(always)]
            unsafe fn atomic_min(ptr: *mut $t, value: $t) -> $t {
                atom!($min, $reg, ptr, value)
            }
            #[inline(always)]
            unsafe fn atomic_max(ptr: *mut $t, value: $t) -> $t {
                atom!($max, $reg, ptr, value)
            }
        }
    )*};
}
atomic_minmax_impl! {
    u32, reg32, "atom.min.u32 {old}, [{ptr}], {value};", "atom.max.u32 {old}, [{ptr}], {value};";
    i32, reg32, "atom.min.s32 {old}, [{ptr}], {value};", "atom.max.s32 {old}, [{ptr}], {value};";
    u64, reg64, "atom.min.u64 {old}, [{ptr}], {value};", "atom.max.u64 {old}, [{ptr}], {value};";
    i64, reg64, "atom.min.s64 {old}, [{ptr}], {value};", "atom.max.s64 {old}, [{ptr}], {value};";
}

macro_rules! atomic_exchange_impl {
    ($($t:ty, $reg:ident, $exch:literal, $cas:literal;)*) => {$(
        impl AtomicExchange for $t {
            #[inline(always)]
            unsafe fn atomic_exchange(ptr: *mut $t, value: $t) -> $t {
                atom!($exch, $reg, ptr, value)
            }
            #[inline(always)]
            unsafe fn atomic_cas(ptr: *mut $t, current: $t, new: $t) -> $t {
                let old;
                unsafe {
                    asm!(
                        $cas,
                        old = out($reg) old,
                        ptr = in(reg64) ptr,
                        current = in($reg) current,
                        new = in($reg) new,
                        options(nostack, preserves_flags),
                    );
                }
                old
            }
        }
    )*};
}
atomic_exchange_impl! {
    u32, reg32, "atom.exch.b32 {old}, [{ptr}], {value};", "atom.cas.b32 {old}, [{ptr}], {current}, {new};";
    i32, reg32, "atom.exch.b32 {old}, [{ptr}], {value};", "atom.cas.b32 {old}, [{ptr}], {current}, {new};";
    u64, reg64, "atom.exch.b64 {old}, [{ptr}], {value};", "atom.cas.b64 {old}, [{ptr}], {current}, {new};";
    i64, reg64, "atom.exch.b64 {old}, [{ptr}], {value};", "atom.cas.b64 {old}, [{ptr}], {current}, {new};";
    f32, reg32, "atom.exch.b32 {old}, [{ptr}], {value};", "atom.cas.b32 {old}, [{ptr}], {current}, {new};";
    f64, reg64, "atom.exch.b64 {old}, [{ptr}], {value};", "atom.cas.b64 {old}, [{ptr}], {current}, {new};";
}

macro_rules! atomic_bitwise_impl {
    ($($t:ty, $reg:ident, $and:literal, $or:literal, $xor:literal;)*) => {$(
        impl AtomicBitwise for $t {
            #[inline(always)]
            unsafe fn atomic_and(ptr: *mut $t, value: $t) -> $t {
                atom!($and, $reg, ptr, value)
            }
            #[inline(always)]
            unsafe fn atomic_or(ptr: *mut $t, value: $t) -> $t {
                atom!($or, $reg, ptr, value)
            }
            #[inline(always)]
            unsafe fn atomic_xor(ptr: *mut $t, value: $t) -> $t {
                atom!($xor, $reg, ptr, value)
            }
        }
    )*};
}
atomic_bitwise_impl! {
    u32, reg32, "atom.and.b32 {old}, [{ptr}], {value};", "atom.or.b32 {old}, [{ptr}], {value};",
        "atom.xor.b32 {old}, [{ptr}], {value};";
    i32, reg32, "atom.and.b32 {old}, [{ptr}], {value};", "atom.or.b32 {old}, [{ptr}], {value};",
        "atom.xor.b32 {old}, [{ptr}], {value};";
    u64, reg64, "atom.and.b64 {old}, [{ptr}], {value};", "atom.or.b64 {old}, [{ptr}], {value};",
        "atom.xor.b64 {old}, [{ptr}], {value};";
    i64, reg64, "atom.and.b64 {old}, [{ptr}], {value};", "atom.or.b64 {old}, [{ptr}], {value};",
        "atom.xor.b64 {old}, [{ptr}], {value};";
}

/// Atomically `*ptr += value`; returns the previous value.
///
/// # Safety
/// `ptr` must be valid and aligned (global or shared memory).
#[inline(always)]
pub unsafe fn atomic_add<T: AtomicAdd>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_add(ptr, value) }
}

/// Atomically `*ptr -= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_sub<T: AtomicAdd>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_sub(ptr, value) }
}

/// Atomically `*ptr = min(*ptr, value)`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_min<T: AtomicMinMax>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_min(ptr, value) }
}

/// Atomically `*ptr = max(*ptr, value)`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_max<T: AtomicMinMax>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_max(ptr, value) }
}

/// Atomically `*ptr = value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_exchange<T: AtomicExchange>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_exchange(ptr, value) }
}

/// Atomically: if `*ptr == current` (bitwise) then `*ptr = new`. Returns the previous value
/// (equal to `current` exactly when the swap happened), like CUDA's `atomicCAS`.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_cas<T: AtomicExchange>(ptr: *mut T, current: T, new: T) -> T {
    unsafe { T::atomic_cas(ptr, current, new) }
}

/// Atomically `*ptr &= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_and<T: AtomicBitwise>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_and(ptr, value) }
}

/// Atomically `*ptr |= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_or<T: AtomicBitwise>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_or(ptr, value) }
}

/// Atomically `*ptr ^= value`; returns the previous value.
///
/// # Safety
/// As [`atomic_add`].
#[inline(always)]
pub unsafe fn atomic_xor<T: AtomicBitwise>(ptr: *mut T, value: T) -> T {
    unsafe { T::atomic_xor(ptr, value) }
}

pub use crate::slice::{SharedArray, Slice, SliceMut};

/// The host crate's marker for types a kernel may take as parameters, so that
/// `unsafe impl rustg::KernelParam for MyParams {}` next to a kernel compiles on both sides. The
/// GPU side checks nothing with it: rustc's `improper_ctypes_definitions` lint is what flags a
/// kernel parameter without a C layout here.
pub unsafe trait KernelParam: Copy {}

macro_rules! kernel_params {
    ($($t:ty)*) => {$(
        unsafe impl KernelParam for $t {}
    )*};
}
kernel_params! { bool u8 u16 u32 u64 usize i8 i16 i32 i64 isize f32 f64 Dim3 }
unsafe impl<T> KernelParam for *const T {}
unsafe impl<T> KernelParam for *mut T {}
unsafe impl<T: Copy> KernelParam for Slice<T> {}
unsafe impl<T: Copy> KernelParam for SliceMut<T> {}
