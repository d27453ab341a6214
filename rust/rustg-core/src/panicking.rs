//! Panics. A kernel cannot unwind or print, so every panic is a `trap`: the thread stops with an
//! illegal instruction, the launch fails, and the host sees the failure as a launch error value.

use crate::marker::Copy;

unsafe extern "C" {
    #[link_name = "llvm.trap"]
    fn llvm_trap() -> !;
}

/// What `panic!`, `assert!`, bounds checks and overflow checks end in.
#[inline(always)]
#[cold]
pub fn panic_trap() -> ! {
    unsafe { llvm_trap() }
}

#[lang = "panic"]
#[inline(always)]
pub fn panic(_msg: &'static str) -> ! {
    panic_trap()
}

#[lang = "panic_nounwind"]
#[inline(always)]
pub fn panic_nounwind(_msg: &'static str) -> ! {
    panic_trap()
}

#[lang = "panic_bounds_check"]
#[inline(always)]
fn panic_bounds_check(_index: usize, _len: usize) -> ! {
    panic_trap()
}

#[lang = "panic_cannot_unwind"]
#[inline(always)]
fn panic_cannot_unwind() -> ! {
    panic_trap()
}

#[lang = "panic_in_cleanup"]
#[inline(always)]
fn panic_in_cleanup() -> ! {
    panic_trap()
}

#[lang = "panic_misaligned_pointer_dereference"]
#[inline(always)]
fn panic_misaligned_pointer_dereference(_required: usize, _found: usize) -> ! {
    panic_trap()
}

#[lang = "panic_null_pointer_dereference"]
#[inline(always)]
fn panic_null_pointer_dereference() -> ! {
    panic_trap()
}

#[lang = "panic_invalid_enum_construction"]
#[inline(always)]
fn panic_invalid_enum_construction<T: Copy>(_source: T) -> ! {
    panic_trap()
}

macro_rules! panic_const {
    ($($lang:ident)*) => {$(
        #[lang = crate::stringify!($lang)]
        #[inline(always)]
        pub fn $lang() -> ! {
            panic_trap()
        }
    )*};
}

// What debug builds call on arithmetic overflow and division by zero.
panic_const! {
    panic_const_add_overflow panic_const_sub_overflow panic_const_mul_overflow
    panic_const_div_overflow panic_const_rem_overflow panic_const_neg_overflow
    panic_const_shr_overflow panic_const_shl_overflow panic_const_div_by_zero
    panic_const_rem_by_zero
}

/// Where a panic happened; the compiler builds these for bounds and overflow checks. Nothing on
/// the device reads them (a trap carries no payload).
#[lang = "panic_location"]
#[derive(Copy, Clone)]
#[allow(dead_code)]
pub struct Location<'a> {
    filename: *const str,
    line: u32,
    col: u32,
    _filename: crate::marker::PhantomData<&'a str>,
}
