//! Data-parallel building blocks written the way GPU kernels are written.
//!
//! Every kernel here is the body of one GPU thread: it reads its position from a [`Thread`] and
//! walks the input with a grid-stride loop, so it is correct for any launch shape. [`Grid`]
//! launches a kernel by running every thread of every block in turn on the host.
//!
//! These are plain Rust functions today. The `rustg` support crate planned for this toolchain
//! (`#[rustg::kernel]` and a real device API) is not part of this example yet; once it lands, the
//! kernel bodies below are what gets marked and compiled to PTX, and `Grid` gives way to its
//! launch API.

pub mod grid;
pub mod kernels;

pub use grid::{Grid, Thread};
pub use kernels::{histogram, reduce_sum, saxpy};
