//! `rustg-core`: the `#![no_core]` prelude GPU kernels compile against on `nvptx64-nvidia-cuda`.
//!
//! There is no `core` for the nvptx64 target on these toolchains (no `rust-src`, so no
//! `-Zbuild-std`), so this crate supplies the part of the language kernels may use: the lang
//! items behind primitive operators, comparisons, `for` over ranges, `Option`, raw pointers,
//! and `#[derive(Clone, Copy, PartialEq)]`. On top of that it maps rustg's device API (thread
//! and block indices, `sync_threads`, shared memory, atomics, math) to NVVM intrinsics and PTX.
//!
//! The module layout mirrors `core` on purpose (`marker::Copy`, `clone::Clone`, `ops::Add`,
//! `cmp::PartialEq`, `option::Option`, `iter::Iterator`, `mem::swap` ...): the generated kernel
//! crate passes this rlib as `--extern core=` too, so the paths that derives expand to
//! (`::core::clone::Clone`) and the paths kernel authors write (`core::mem::swap`) resolve here.
//! The device API at the crate root mirrors the host crate `rustg` name for name, so one kernel
//! source compiles for both (the generated crate passes this rlib as `--extern rustg=`).
//!
//! Every function that generated code can reach is `#[inline]` or generic: the kernel crate is
//! compiled to PTX with `--emit=asm`, which contains only code instantiated in that crate; a
//! non-inline function of this rlib would be an unresolved `.extern .func` that ptxas rejects.
//!
//! docs/kernel-dialect.md is the reference for what kernels may use.

#![feature(
    no_core,
    lang_items,
    intrinsics,
    rustc_attrs,
    decl_macro,
    asm_experimental_arch,
    link_llvm_intrinsics,
    unboxed_closures,
    fundamental,
    allow_internal_unstable,
    auto_traits,
    prelude_import,
    cfg_version
)]
#![no_core]
#![rustc_coherence_is_core]
#![allow(
    internal_features,
    improper_ctypes,
    unnecessary_transmutes,
    clippy::all
)]

pub mod arch;
pub mod clone;
pub mod cmp;
mod consts;
pub mod convert;
pub mod device;
pub mod intrinsics;
pub mod iter;
pub mod marker;
pub mod math;
pub mod mem;
pub mod num;
pub mod ops;
pub mod option;
pub mod panicking;
pub mod prelude;
pub mod ptr;
pub mod slice;

#[prelude_import]
#[allow(unused_imports)]
use prelude::*;

pub use consts::{f32, f64};
pub use device::*;

// `#[derive(..)]` expands to paths under `::core`; inside this crate that is the crate itself.
extern crate self as core;

// --- macros a kernel may use --------------------------------------------------------------------
//
// `macro_rules!` is built into the language; the compiler's built-in macros (`concat!`, `asm!`,
// `derive` ...) are declared in `core` with `#[rustc_builtin_macro]`, so they are declared again
// here and exported through the prelude.

/// Stops the thread: on the GPU a trap (the launch fails with an illegal-instruction error the
/// host sees as a launch error). Message and format arguments are accepted for source
/// compatibility with host code and discarded (there is no formatting on the device).
#[macro_export]
macro_rules! panic {
    ($($arg:tt)*) => {
        $crate::panicking::panic_trap()
    };
}

/// Traps when the condition is false (see [`panic!`]).
#[macro_export]
macro_rules! assert {
    ($cond:expr $(, $($arg:tt)*)?) => {
        if !$cond {
            $crate::panicking::panic_trap()
        }
    };
}

/// Traps when the two values differ (see [`panic!`]).
#[macro_export]
macro_rules! assert_eq {
    ($left:expr, $right:expr $(, $($arg:tt)*)?) => {
        if !($left == $right) {
            $crate::panicking::panic_trap()
        }
    };
}

/// Traps when the two values are equal (see [`panic!`]).
#[macro_export]
macro_rules! assert_ne {
    ($left:expr, $right:expr $(, $($arg:tt)*)?) => {
        if $left == $right {
            $crate::panicking::panic_trap()
        }
    };
}

/// `debug_assert!` is checked on the device only when the kernel crate is built with
/// debug assertions, as on the host.
#[macro_export]
macro_rules! debug_assert {
    ($($arg:tt)*) => {
        if $crate::cfg!(debug_assertions) {
            $crate::assert!($($arg)*);
        }
    };
}

/// Marks code that must not be reached; traps if it is.
#[macro_export]
macro_rules! unreachable {
    ($($arg:tt)*) => {
        $crate::panicking::panic_trap()
    };
}

/// Marks unfinished code; traps if reached.
#[macro_export]
macro_rules! todo {
    ($($arg:tt)*) => {
        $crate::panicking::panic_trap()
    };
}

/// Marks unimplemented code; traps if reached.
#[macro_export]
macro_rules! unimplemented {
    ($($arg:tt)*) => {
        $crate::panicking::panic_trap()
    };
}

/// `matches!(value, pattern)`.
#[macro_export]
macro_rules! matches {
    ($expression:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $expression {
            $pattern $(if $guard)? => true,
            _ => false,
        }
    };
}

/// A block-shared array of `N` elements of `T`, the same array for every thread of a block (CUDA's
/// `__shared__ T name[N]`). Evaluates to a [`SharedArray<T, N>`](crate::SharedArray).
///
/// Each use of the macro is one allocation, named after the line and column of the use: the
/// generated kernel crate is one source file, so the name is unique (two uses at the same line
/// and column of different files of one crate would clash, and ptxas would reject the duplicate).
/// The memory is not initialised.
#[macro_export]
#[allow_internal_unstable(asm_experimental_arch)]
macro_rules! shared_array {
    ($t:ty, $n:expr) => {{
        // A module, because `global_asm!` is an item and rustc 1.95 refuses items-only macros in
        // statement position; `use super::*` lets `$t` and `$n` name the kernel module's items.
        #[allow(unused_imports, non_snake_case)]
        mod __rustg_shared_array {
            use super::*;
            const BYTES: usize = $crate::mem::size_of::<[$t; $n]>();
            const ALIGN: usize = $crate::mem::align_of::<$t>();
            $crate::arch::global_asm!(
                $crate::concat!(
                    ".shared .align {align} .b8 __rustg_smem_",
                    $crate::line!(),
                    "_",
                    $crate::column!(),
                    "[{bytes}];"
                ),
                align = const if ALIGN < 16 { 16 } else { ALIGN },
                bytes = const if BYTES == 0 { 1 } else { BYTES },
            );
        }
        let ptr: *mut $t;
        // cvta: the shared-window address of the symbol to a generic address, so the array is
        // an ordinary pointer for the rest of the kernel.
        unsafe {
            $crate::arch::asm!(
                $crate::concat!(
                    "cvta.shared.u64 {p}, __rustg_smem_",
                    $crate::line!(),
                    "_",
                    $crate::column!(),
                    ";"
                ),
                p = out(reg64) ptr,
                options(pure, nomem, nostack, preserves_flags),
            );
            $crate::SharedArray::<$t, { $n }>::__from_ptr(ptr)
        }
    }};
}

/// The block's dynamic shared memory (the `shared_mem_bytes` of the launch) as a
/// [`SliceMut<T>`](crate::SliceMut) of `bytes / size_of::<T>()` elements, 16-byte aligned. Every
/// use in a kernel is the same memory (CUDA's `extern __shared__ T buf[]`).
#[macro_export]
#[allow_internal_unstable(asm_experimental_arch)]
macro_rules! dynamic_shared_memory {
    ($t:ty) => {{
        // A declaration, not a definition: PTX accepts one per use, all naming the one array
        // the launch sizes. In a module for the reason given in `shared_array!`.
        mod __rustg_dynamic_shared {
            $crate::arch::global_asm!(".extern .shared .align 16 .b8 __rustg_dynamic_smem[];");
        }
        let ptr: *mut $t;
        unsafe {
            $crate::arch::asm!(
                "cvta.shared.u64 {p}, __rustg_dynamic_smem;",
                p = out(reg64) ptr,
                options(pure, nomem, nostack, preserves_flags),
            );
            $crate::SliceMut::<$t>::from_raw_parts(
                ptr,
                ($crate::dynamic_shared_memory_bytes() as usize) / $crate::mem::size_of::<$t>(),
            )
        }
    }};
}

#[rustc_builtin_macro]
pub macro concat($($arg:tt)*) {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro line() {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro column() {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro file() {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro stringify($($t:tt)*) {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro cfg($($cfg:tt)*) {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro module_path($($arg:tt)*) {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro compile_error($msg:expr $(,)?) {
    /* compiler built-in */
}
#[rustc_builtin_macro]
pub macro derive($item:item) {
    /* compiler built-in */
}
