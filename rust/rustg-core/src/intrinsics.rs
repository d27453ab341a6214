//! Compiler intrinsics (`core::intrinsics`), declared with the signatures this rustc expects.

use crate::marker::Copy;

#[rustc_intrinsic]
pub fn abort() -> !;

#[rustc_intrinsic]
pub const unsafe fn unreachable() -> !;

#[rustc_intrinsic]
pub const fn size_of<T>() -> usize;

#[rustc_intrinsic]
pub const fn align_of<T>() -> usize;

#[rustc_intrinsic]
pub const unsafe fn transmute<Src, Dst>(src: Src) -> Dst;

#[rustc_intrinsic]
pub const unsafe fn offset<Ptr, Delta>(dst: Ptr, offset: Delta) -> Ptr;

#[rustc_intrinsic]
pub const unsafe fn arith_offset<T>(dst: *const T, offset: isize) -> *const T;

#[rustc_intrinsic]
pub const unsafe fn copy_nonoverlapping<T>(src: *const T, dst: *mut T, count: usize);

#[rustc_intrinsic]
pub const unsafe fn write_bytes<T>(dst: *mut T, val: u8, count: usize);

#[rustc_intrinsic]
pub unsafe fn volatile_load<T>(src: *const T) -> T;

#[rustc_intrinsic]
pub unsafe fn volatile_store<T>(dst: *mut T, val: T);

#[rustc_intrinsic]
pub const fn discriminant_value<T>(v: &T) -> <T as crate::marker::DiscriminantKind>::Discriminant;

#[rustc_intrinsic]
pub const fn black_box<T>(dummy: T) -> T;

#[rustc_intrinsic]
pub const fn ctpop<T: Copy>(x: T) -> u32;

#[rustc_intrinsic]
pub const fn ctlz<T: Copy>(x: T) -> u32;

#[rustc_intrinsic]
pub const fn cttz<T: Copy>(x: T) -> u32;

#[rustc_intrinsic]
pub const fn bswap<T: Copy>(x: T) -> T;

#[rustc_intrinsic]
pub const fn bitreverse<T: Copy>(x: T) -> T;

#[rustc_intrinsic]
pub const fn wrapping_add<T: Copy>(a: T, b: T) -> T;

#[rustc_intrinsic]
pub const fn wrapping_sub<T: Copy>(a: T, b: T) -> T;

#[rustc_intrinsic]
pub const fn wrapping_mul<T: Copy>(a: T, b: T) -> T;

#[rustc_intrinsic]
pub const fn saturating_add<T: Copy>(a: T, b: T) -> T;

#[rustc_intrinsic]
pub const fn saturating_sub<T: Copy>(a: T, b: T) -> T;

#[rustc_intrinsic]
pub const fn add_with_overflow<T: Copy>(x: T, y: T) -> (T, bool);

#[rustc_intrinsic]
pub const fn sub_with_overflow<T: Copy>(x: T, y: T) -> (T, bool);

#[rustc_intrinsic]
pub const fn mul_with_overflow<T: Copy>(x: T, y: T) -> (T, bool);

// Float operations bind LLVM's intrinsics by name: those names have been stable for many LLVM
// releases, while rustc's own float intrinsics were renamed between the stable and nightly
// toolchains here (`fabsf32` became `fabs`, `minnumf32` became `minimum_number_nsz_f32`).
unsafe extern "C" {
    #[link_name = "llvm.sqrt.f32"]
    pub safe fn sqrtf32(x: f32) -> f32;
    #[link_name = "llvm.sqrt.f64"]
    pub safe fn sqrtf64(x: f64) -> f64;
    #[link_name = "llvm.fma.f32"]
    pub safe fn fmaf32(a: f32, b: f32, c: f32) -> f32;
    #[link_name = "llvm.fma.f64"]
    pub safe fn fmaf64(a: f64, b: f64, c: f64) -> f64;
    #[link_name = "llvm.fabs.f32"]
    pub safe fn fabsf32(x: f32) -> f32;
    #[link_name = "llvm.fabs.f64"]
    pub safe fn fabsf64(x: f64) -> f64;
    #[link_name = "llvm.floor.f32"]
    pub safe fn floorf32(x: f32) -> f32;
    #[link_name = "llvm.floor.f64"]
    pub safe fn floorf64(x: f64) -> f64;
    #[link_name = "llvm.ceil.f32"]
    pub safe fn ceilf32(x: f32) -> f32;
    #[link_name = "llvm.ceil.f64"]
    pub safe fn ceilf64(x: f64) -> f64;
    #[link_name = "llvm.trunc.f32"]
    pub safe fn truncf32(x: f32) -> f32;
    #[link_name = "llvm.trunc.f64"]
    pub safe fn truncf64(x: f64) -> f64;
    #[link_name = "llvm.round.f32"]
    pub safe fn roundf32(x: f32) -> f32;
    #[link_name = "llvm.round.f64"]
    pub safe fn roundf64(x: f64) -> f64;
    #[link_name = "llvm.copysign.f32"]
    pub safe fn copysignf32(x: f32, y: f32) -> f32;
    #[link_name = "llvm.copysign.f64"]
    pub safe fn copysignf64(x: f64, y: f64) -> f64;
    #[link_name = "llvm.minnum.f32"]
    pub safe fn minnumf32(x: f32, y: f32) -> f32;
    #[link_name = "llvm.minnum.f64"]
    pub safe fn minnumf64(x: f64, y: f64) -> f64;
    #[link_name = "llvm.maxnum.f32"]
    pub safe fn maxnumf32(x: f32, y: f32) -> f32;
    #[link_name = "llvm.maxnum.f64"]
    pub safe fn maxnumf64(x: f64, y: f64) -> f64;
}
