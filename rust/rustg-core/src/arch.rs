//! The compiler's inline-assembly macros (`core::arch::{asm, global_asm}` in `core`).
//!
//! PTX inline assembly is behind `asm_experimental_arch`; the device API uses it where no NVVM
//! intrinsic exists or where LLVM renames its intrinsics between releases (atomics, fast math,
//! shared-memory symbols).

#[rustc_builtin_macro]
pub macro asm("assembly template", $(operands,)* $(options($(option),*))?) {
    /* compiler built-in */
}

#[rustc_builtin_macro]
pub macro global_asm("assembly template", $(operands,)* $(options($(option),*))?) {
    /* compiler built-in */
}
