//! # rustg: GPU kernels in Rust
//!
//! Write a kernel next to the host code that uses it:
//!
//! ```
//! use rustg::{Slice, SliceMut};
//!
//! #[rustg::kernel]
//! pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {
//!     let i = rustg::global_idx_x();
//!     if i < y.len() {
//!         y[i] = a * x[i] + y[i];
//!     }
//! }
//!
//! let x = vec![1.0f32; 1000];
//! let mut y = vec![2.0f32; 1000];
//! // Safety: each thread writes only its own element.
//! unsafe { rustg::launch(&SAXPY, 4, 256, (3.0f32, &x, &mut y)) }.unwrap();
//! assert!(y.iter().all(|&v| v == 5.0));
//! ```
//!
//! * `#[rustg::kernel]`, `#[rustg::device]`, `#[rustg::gpu_test]` mark GPU code; cargo-g extracts
//!   it and compiles it to PTX against `rustg-core`, which provides this crate's device API
//!   (thread indices, [`sync_threads`], [`shared_array!`], atomics, math) under the same names.
//! * On the host, [`launch`] runs a kernel on the emulator: one OS thread per thread of a block,
//!   a real barrier, per-block shared memory, and failures as [`LaunchError`] values.
//! * [`cuda`] launches the PTX on an NVIDIA GPU through the CUDA driver API, loaded at run time
//!   (nothing CUDA is needed to build); [`Device`] picks the GPU when there is one and the
//!   emulator otherwise.
//!
//! docs/kernel-dialect.md in the rustg repository is the reference for what kernels may use.

mod atomic;
mod config;
pub mod cuda;
mod device;
mod emu;
mod kernel;
mod runtime;
mod slice;

pub use atomic::{
    atomic_add, atomic_and, atomic_cas, atomic_exchange, atomic_max, atomic_min, atomic_or,
    atomic_sub, atomic_xor, AtomicAdd, AtomicBitwise, AtomicExchange, AtomicMinMax,
};
pub use config::{
    ConfigError, Dim3, LaunchConfig, DEFAULT_MAX_SHARED_BYTES, MAX_BLOCK_DIM, MAX_GRID_DIM,
    MAX_THREADS_PER_BLOCK,
};
#[doc(hidden)]
pub use device::__private;
pub use device::{
    block_dim, block_dim_x, block_dim_y, block_dim_z, block_idx, block_idx_x, block_idx_y,
    block_idx_z, dynamic_shared_memory_bytes, global_idx_x, grid_dim, grid_dim_x, grid_dim_y,
    grid_dim_z, grid_stride_x, lane_id, sync_threads, thread_fence, thread_fence_block,
    thread_fence_system, thread_idx, thread_idx_x, thread_idx_y, thread_idx_z, WARP_SIZE,
};
pub use emu::{launch, launch_with, launch_with_options, EmulatorOptions, LaunchError};
pub use kernel::{HostArg, HostArgs, Kernel, KernelParam, KernelSignature};
pub use runtime::{Buffer, Device, DeviceArg, DeviceArgs, Error, Target, WrongDevice};
pub use rustg_macros::{device, gpu_test, kernel, lint};
pub use slice::{SharedArray, Slice, SliceMut};
