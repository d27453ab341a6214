//! Kernels as values: the launch handle `#[rustg::kernel]` generates, the parameter types a
//! kernel may take, and the conversions from host arguments to kernel parameters.

use std::ffi::c_void;

use crate::slice::{Slice, SliceMut};

/// A kernel: its PTX symbol name, where it was defined, and the host function the emulator runs.
/// `#[rustg::kernel] fn saxpy(..)` generates `const SAXPY: Kernel<fn(..)>`.
pub struct Kernel<S> {
    name: &'static str,
    module_path: &'static str,
    function: S,
    params: &'static [(&'static str, &'static str)],
}

impl<S: Copy> Kernel<S> {
    #[doc(hidden)]
    pub const fn __new(
        name: &'static str,
        module_path: &'static str,
        function: S,
        params: &'static [(&'static str, &'static str)],
    ) -> Kernel<S> {
        Kernel {
            name,
            module_path,
            function,
            params,
        }
    }

    /// The symbol the kernel has in PTX (the function's name).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The Rust module that defines it (`module_path!()` at the definition).
    pub const fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// `(name, type)` of each parameter, as written in the source.
    pub const fn params(&self) -> &'static [(&'static str, &'static str)] {
        self.params
    }

    /// The host function (what the emulator runs in each thread).
    pub const fn function(&self) -> S {
        self.function
    }
}

impl<S: Copy> Clone for Kernel<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Copy> Copy for Kernel<S> {}

impl<S> std::fmt::Debug for Kernel<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("name", &self.name)
            .field("module_path", &self.module_path)
            .field("params", &self.params)
            .finish()
    }
}

/// A type a kernel may take as a parameter: copied byte for byte into the launch, so the host
/// layout must be the layout the GPU reads.
///
/// Implemented for the primitive numbers, `bool`, raw pointers, [`Slice`], [`SliceMut`] and
/// [`Dim3`](crate::Dim3). For your own parameter struct:
///
/// ```
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// pub struct Params { pub scale: f32, pub n: u32 }
/// // Safety: repr(C), fields are kernel parameters themselves.
/// unsafe impl rustg::KernelParam for Params {}
/// ```
///
/// # Safety
/// The type must be `#[repr(C)]` (or a primitive) and made of kernel parameters, so that its
/// bytes mean the same on the host and on the GPU.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a kernel parameter",
    label = "not a kernel parameter type",
    note = "kernel parameters are primitive numbers, bool, raw pointers, rustg::Slice<T>, \
            rustg::SliceMut<T>, or #[repr(C)] Copy structs that `unsafe impl rustg::KernelParam`"
)]
pub unsafe trait KernelParam: Copy + 'static {}

macro_rules! kernel_params {
    ($($t:ty)*) => {$(
        unsafe impl KernelParam for $t {}
    )*};
}
kernel_params! { bool u8 u16 u32 u64 usize i8 i16 i32 i64 isize f32 f64 crate::Dim3 }
unsafe impl<T: 'static> KernelParam for *const T {}
unsafe impl<T: 'static> KernelParam for *mut T {}
unsafe impl<T: Copy + 'static> KernelParam for Slice<T> {}
unsafe impl<T: Copy + 'static> KernelParam for SliceMut<T> {}

/// The signature of a kernel function: `fn(A, B, ..)` or `unsafe fn(A, B, ..)` whose parameters
/// are all [`KernelParam`]s. Implemented for up to 12 parameters.
pub trait KernelSignature: Copy + Send + Sync + 'static {
    /// The parameters as a tuple.
    type Params: Copy + 'static;

    /// Calls the function with the parameters (one emulated thread's body).
    ///
    /// # Safety
    /// For an `unsafe fn` kernel, the caller upholds its contract.
    unsafe fn invoke(self, params: Self::Params);

    /// Pointers to each parameter value, in order: the `kernelParams` of `cuLaunchKernel`.
    fn param_pointers(params: &mut Self::Params) -> Vec<*mut c_void>;
}

/// Conversion of one host argument into a kernel parameter for an emulated launch: a kernel
/// parameter as itself, `&[T]` / `&Vec<T>` as a [`Slice<T>`], `&mut [T]` / `&mut Vec<T>` as a
/// [`SliceMut<T>`]. The borrow lasts for the launch, which is what keeps the memory alive.
pub trait HostArg<P> {
    fn into_param(self) -> P;
}

impl<P: KernelParam> HostArg<P> for P {
    fn into_param(self) -> P {
        self
    }
}

impl<T: Copy> HostArg<Slice<T>> for &[T] {
    fn into_param(self) -> Slice<T> {
        // Safety: the slice is valid for reads of its length while borrowed.
        unsafe { Slice::from_raw_parts(self.as_ptr(), self.len()) }
    }
}

impl<T: Copy> HostArg<Slice<T>> for &Vec<T> {
    fn into_param(self) -> Slice<T> {
        self.as_slice().into_param()
    }
}

impl<T: Copy, const N: usize> HostArg<Slice<T>> for &[T; N] {
    fn into_param(self) -> Slice<T> {
        self.as_slice().into_param()
    }
}

impl<T: Copy> HostArg<SliceMut<T>> for &mut [T] {
    fn into_param(self) -> SliceMut<T> {
        // Safety: the slice is valid for reads and writes of its length while borrowed.
        unsafe { SliceMut::from_raw_parts(self.as_mut_ptr(), self.len()) }
    }
}

impl<T: Copy> HostArg<SliceMut<T>> for &mut Vec<T> {
    fn into_param(self) -> SliceMut<T> {
        self.as_mut_slice().into_param()
    }
}

impl<T: Copy, const N: usize> HostArg<SliceMut<T>> for &mut [T; N] {
    fn into_param(self) -> SliceMut<T> {
        self.as_mut_slice().into_param()
    }
}

/// A tuple of [`HostArg`]s for a kernel whose parameter tuple is `P`: `(a, &x, &mut y)`; for a
/// one-parameter kernel `(x,)`, for none `()`.
pub trait HostArgs<P> {
    fn into_params(self) -> P;
}

macro_rules! signatures {
    ($( ($($a:ident $p:ident $i:tt),*) )*) => {$(
        impl<$($p: KernelParam),*> KernelSignature for fn($($p),*) {
            type Params = ($($p,)*);

            #[allow(unused_variables, clippy::unused_unit)]
            unsafe fn invoke(self, params: Self::Params) {
                self($(params.$i),*)
            }

            #[allow(unused_variables)]
            fn param_pointers(params: &mut Self::Params) -> Vec<*mut c_void> {
                vec![$(std::ptr::addr_of_mut!(params.$i).cast::<c_void>()),*]
            }
        }

        impl<$($p: KernelParam),*> KernelSignature for unsafe fn($($p),*) {
            type Params = ($($p,)*);

            #[allow(unused_variables, clippy::unused_unit)]
            unsafe fn invoke(self, params: Self::Params) {
                // Safety: passed on to the caller.
                unsafe { self($(params.$i),*) }
            }

            #[allow(unused_variables)]
            fn param_pointers(params: &mut Self::Params) -> Vec<*mut c_void> {
                vec![$(std::ptr::addr_of_mut!(params.$i).cast::<c_void>()),*]
            }
        }

        impl<$($a: HostArg<$p>, $p),*> HostArgs<($($p,)*)> for ($($a,)*) {
            #[allow(unused_variables, clippy::unused_unit)]
            fn into_params(self) -> ($($p,)*) {
                ($(self.$i.into_param(),)*)
            }
        }
    )*};
}

signatures! {
    ()
    (A0 P0 0)
    (A0 P0 0, A1 P1 1)
    (A0 P0 0, A1 P1 1, A2 P2 2)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5, A6 P6 6)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5, A6 P6 6, A7 P7 7)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5, A6 P6 6, A7 P7 7, A8 P8 8)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5, A6 P6 6, A7 P7 7, A8 P8 8, A9 P9 9)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5, A6 P6 6, A7 P7 7, A8 P8 8, A9 P9 9,
     A10 P10 10)
    (A0 P0 0, A1 P1 1, A2 P2 2, A3 P3 3, A4 P4 4, A5 P5 5, A6 P6 6, A7 P7 7, A8 P8 8, A9 P9 9,
     A10 P10 10, A11 P11 11)
}
