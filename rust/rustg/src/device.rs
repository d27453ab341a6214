//! The device API, host side: what kernels call, answered from the emulated thread's context.
//! rustg-core has the same functions for the GPU; docs/kernel-dialect.md lists them.

use std::alloc::Layout;
use std::any::TypeId;

use crate::config::Dim3;
use crate::emu::with_context;
use crate::slice::{SharedArray, SliceMut};

/// Threads per warp.
pub const WARP_SIZE: u32 = 32;

macro_rules! index_fns {
    ($($name:ident => |$c:ident| $value:expr, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[track_caller]
        pub fn $name() -> u32 {
            with_context(stringify!($name), |$c| $value)
        }
    )*};
}

index_fns! {
    thread_idx_x => |c| c.thread.x, "This thread's index in its block, x (`threadIdx.x`).";
    thread_idx_y => |c| c.thread.y, "This thread's index in its block, y (`threadIdx.y`).";
    thread_idx_z => |c| c.thread.z, "This thread's index in its block, z (`threadIdx.z`).";
    block_idx_x => |c| c.block.get().x, "This block's index in the grid, x (`blockIdx.x`).";
    block_idx_y => |c| c.block.get().y, "This block's index in the grid, y (`blockIdx.y`).";
    block_idx_z => |c| c.block.get().z, "This block's index in the grid, z (`blockIdx.z`).";
    block_dim_x => |c| c.block_dim.x, "Threads per block, x (`blockDim.x`).";
    block_dim_y => |c| c.block_dim.y, "Threads per block, y (`blockDim.y`).";
    block_dim_z => |c| c.block_dim.z, "Threads per block, z (`blockDim.z`).";
    grid_dim_x => |c| c.grid_dim.x, "Blocks in the grid, x (`gridDim.x`).";
    grid_dim_y => |c| c.grid_dim.y, "Blocks in the grid, y (`gridDim.y`).";
    grid_dim_z => |c| c.grid_dim.z, "Blocks in the grid, z (`gridDim.z`).";
    lane_id => |c| c.linear % WARP_SIZE, "This thread's lane in its warp (0..32): its linear index in the block modulo 32.";
    dynamic_shared_memory_bytes => |c| c.dynamic_shared_bytes, "Bytes of dynamic shared memory this launch gave each block.";
}

#[track_caller]
pub fn thread_idx() -> Dim3 {
    with_context("thread_idx", |c| c.thread)
}

#[track_caller]
pub fn block_idx() -> Dim3 {
    with_context("block_idx", |c| c.block.get())
}

#[track_caller]
pub fn block_dim() -> Dim3 {
    with_context("block_dim", |c| c.block_dim)
}

#[track_caller]
pub fn grid_dim() -> Dim3 {
    with_context("grid_dim", |c| c.grid_dim)
}

/// `block_idx_x() * block_dim_x() + thread_idx_x()`, widened to `usize` before multiplying.
#[track_caller]
pub fn global_idx_x() -> usize {
    with_context("global_idx_x", |c| {
        c.block.get().x as usize * c.block_dim.x as usize + c.thread.x as usize
    })
}

/// `block_dim_x() * grid_dim_x()`: the step of a grid-stride loop over x.
#[track_caller]
pub fn grid_stride_x() -> usize {
    with_context("grid_stride_x", |c| {
        c.block_dim.x as usize * c.grid_dim.x as usize
    })
}

/// Waits until every thread of the block has reached this call (CUDA's `__syncthreads()`).
/// Every thread of the block must make the same sequence of calls; the emulator fails the launch
/// with `LaunchError::BarrierDivergence` when they do not.
#[track_caller]
pub fn sync_threads() {
    with_context("sync_threads", |c| c.sync_threads());
}

/// Orders this thread's memory accesses as seen by all threads (`__threadfence()`).
pub fn thread_fence() {
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}

/// Orders this thread's memory accesses as seen by the threads of its block.
pub fn thread_fence_block() {
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}

/// Orders this thread's memory accesses as seen by the GPU and the host.
pub fn thread_fence_system() {
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}

/// A block-shared array of `N` elements of `T`: the same memory for every thread of a block,
/// fresh for each block (CUDA's `__shared__ T name[N]`). Evaluates to a
/// [`SharedArray<T, N>`](crate::SharedArray).
///
/// The emulator zeroes it; on a GPU shared memory starts with whatever was there, so write
/// before you read.
#[macro_export]
macro_rules! shared_array {
    ($t:ty, $n:expr) => {{
        // The static's address names this use of the macro: one allocation per site per block.
        // Its content is unique to the site, so no optimiser can merge two sites into one.
        static __RUSTG_SITE: &str = ::core::concat!(
            ::core::file!(),
            ":",
            ::core::line!(),
            ":",
            ::core::column!()
        );
        // Safety: the emulator hands out memory valid for the block's lifetime.
        unsafe { $crate::__private::shared_array::<$t, { $n }>(&__RUSTG_SITE) }
    }};
}

/// The block's dynamic shared memory (the launch's `shared_mem_bytes`) as a
/// [`SliceMut<T>`](crate::SliceMut) of `bytes / size_of::<T>()` elements, 16-byte aligned; every
/// use is the same memory (CUDA's `extern __shared__ T buf[]`). Zeroed by the emulator.
#[macro_export]
macro_rules! dynamic_shared_memory {
    ($t:ty) => {
        $crate::__private::dynamic_shared::<$t>()
    };
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// # Safety
    /// Called only through `shared_array!`, with a static unique to the call site.
    #[track_caller]
    pub unsafe fn shared_array<T: Copy + 'static, const N: usize>(
        site: &'static &'static str,
    ) -> SharedArray<T, N> {
        let layout = Layout::array::<T>(N).expect("shared_array! larger than the address space");
        let ptr = with_context("shared_array!", |c| {
            c.shared_site(site as *const &str as usize, TypeId::of::<[T; N]>(), layout)
        });
        // Safety: a zeroed block allocation of N elements, alive until the block ends.
        unsafe { SharedArray::__from_ptr(ptr.cast::<T>()) }
    }

    #[track_caller]
    pub fn dynamic_shared<T: Copy + 'static>() -> SliceMut<T> {
        let (ptr, bytes) = with_context("dynamic_shared_memory!", |c| c.dynamic_shared());
        let len = bytes.checked_div(std::mem::size_of::<T>()).unwrap_or(0);
        // Safety: the block's zeroed dynamic allocation of `bytes` bytes, 16-byte aligned.
        unsafe { SliceMut::from_raw_parts(ptr.cast::<T>(), len) }
    }
}
