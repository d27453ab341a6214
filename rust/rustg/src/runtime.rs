//! One way to launch: [`Device`] is the GPU when the CUDA driver, a GPU and the crate's compiled
//! kernels are all there, and the host emulator otherwise; [`Buffer`]s live on whichever it is.
//!
//! ```
//! # use rustg::{Device, LaunchConfig, Slice, SliceMut};
//! # #[rustg::kernel] pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {
//! #     let i = rustg::global_idx_x();
//! #     if i < y.len() { y[i] = a * x[i] + y[i]; }
//! # }
//! let device = Device::auto("my_kernels", env!("CARGO_MANIFEST_DIR"));
//! println!("running on {}", device.describe());
//! let x = device.upload(&[1.0f32, 2.0, 3.0])?;
//! let mut y = device.upload(&[10.0f32, 20.0, 30.0])?;
//! // Safety: each thread writes only its own element.
//! unsafe { device.launch(&SAXPY, LaunchConfig::for_elements(3, 32), (2.0f32, &x, &mut y))? };
//! assert_eq!(y.to_vec()?, vec![12.0, 24.0, 36.0]);
//! # Ok::<(), rustg::Error>(())
//! ```

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::cuda::{CudaError, DeviceBuffer, Gpu, GpuInner, Module};
use crate::emu::{self, EmulatorOptions, LaunchError};
use crate::kernel::{Kernel, KernelParam, KernelSignature};
use crate::slice::{Slice, SliceMut};
use crate::LaunchConfig;

/// Where a launch's arguments must live (the emulator, or one GPU's context).
#[derive(Clone, Copy)]
pub struct Target<'a>(TargetKind<'a>);

#[derive(Clone, Copy)]
enum TargetKind<'a> {
    Emulator,
    Gpu(&'a Arc<GpuInner>),
}

#[allow(non_upper_case_globals)]
impl Target<'_> {
    pub(crate) const Emulator: Target<'static> = Target(TargetKind::Emulator);
}

impl<'a> Target<'a> {
    pub(crate) fn gpu(gpu: &'a Arc<GpuInner>) -> Target<'a> {
        Target(TargetKind::Gpu(gpu))
    }
}

/// A launch argument that lives where the launch cannot read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongDevice {
    pub message: String,
}

impl fmt::Display for WrongDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Conversion of one argument into a kernel parameter for a [`Device`] (or
/// [`Module`](crate::cuda::Module)) launch: kernel parameter values as they are, `&Buffer<T>` /
/// `&DeviceBuffer<T>` as a [`Slice<T>`], `&mut Buffer<T>` / `&mut DeviceBuffer<T>` as a
/// [`SliceMut<T>`].
pub trait DeviceArg<P> {
    fn to_param(self, target: Target<'_>) -> Result<P, WrongDevice>;
}

impl<P: KernelParam> DeviceArg<P> for P {
    fn to_param(self, _target: Target<'_>) -> Result<P, WrongDevice> {
        Ok(self)
    }
}

fn device_slice<T: Copy>(
    buffer: &DeviceBuffer<T>,
    target: Target<'_>,
) -> Result<(*mut T, usize), WrongDevice> {
    match target.0 {
        TargetKind::Gpu(gpu) if buffer.belongs_to(gpu) => Ok((buffer.device_ptr() as *mut T, buffer.len())),
        TargetKind::Gpu(_) => Err(WrongDevice { message: "a DeviceBuffer from another GPU was passed to this launch".into() }),
        TargetKind::Emulator => Err(WrongDevice {
            message: "a DeviceBuffer (GPU memory) was passed to an emulated launch, which runs on the host".into(),
        }),
    }
}

impl<T: Copy> DeviceArg<Slice<T>> for &DeviceBuffer<T> {
    fn to_param(self, target: Target<'_>) -> Result<Slice<T>, WrongDevice> {
        let (ptr, len) = device_slice(self, target)?;
        // Safety: device memory of `len` elements, alive while the buffer is borrowed.
        Ok(unsafe { Slice::from_raw_parts(ptr, len) })
    }
}

impl<T: Copy> DeviceArg<SliceMut<T>> for &mut DeviceBuffer<T> {
    fn to_param(self, target: Target<'_>) -> Result<SliceMut<T>, WrongDevice> {
        let (ptr, len) = device_slice(self, target)?;
        // Safety: as above, and exclusively borrowed.
        Ok(unsafe { SliceMut::from_raw_parts(ptr, len) })
    }
}

impl<T: Copy> DeviceArg<Slice<T>> for &Buffer<T> {
    fn to_param(self, target: Target<'_>) -> Result<Slice<T>, WrongDevice> {
        match (&self.storage, target.0) {
            // Safety: the vector holds `len` elements and is borrowed for the launch.
            (Storage::Host(v), TargetKind::Emulator) => {
                Ok(unsafe { Slice::from_raw_parts(v.as_ptr(), v.len()) })
            }
            (Storage::Gpu(b), _) => b.to_param(target),
            (Storage::Host(_), TargetKind::Gpu(_)) => Err(host_buffer_on_gpu()),
        }
    }
}

impl<T: Copy> DeviceArg<SliceMut<T>> for &mut Buffer<T> {
    fn to_param(self, target: Target<'_>) -> Result<SliceMut<T>, WrongDevice> {
        match (&mut self.storage, target.0) {
            // Safety: as above, and exclusively borrowed.
            (Storage::Host(v), TargetKind::Emulator) => {
                Ok(unsafe { SliceMut::from_raw_parts(v.as_mut_ptr(), v.len()) })
            }
            (Storage::Gpu(b), _) => b.to_param(target),
            (Storage::Host(_), TargetKind::Gpu(_)) => Err(host_buffer_on_gpu()),
        }
    }
}

fn host_buffer_on_gpu() -> WrongDevice {
    WrongDevice {
        message: "a Buffer made by the emulator Device was passed to a GPU launch".into(),
    }
}

/// A tuple of [`DeviceArg`]s, one per kernel parameter (`(x,)` for one, `()` for none).
pub trait DeviceArgs<P> {
    fn into_params(self, target: Target<'_>) -> Result<P, WrongDevice>;
}

macro_rules! device_args {
    ($( ($($a:ident $p:ident $i:tt),*) )*) => {$(
        impl<$($a: DeviceArg<$p>, $p),*> DeviceArgs<($($p,)*)> for ($($a,)*) {
            #[allow(unused_variables, clippy::unused_unit)]
            fn into_params(self, target: Target<'_>) -> Result<($($p,)*), WrongDevice> {
                Ok(($(self.$i.to_param(target)?,)*))
            }
        }
    )*};
}

device_args! {
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

/// Why a [`Device`] operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The emulated launch failed.
    Launch(LaunchError),
    /// The GPU path failed.
    Cuda(CudaError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Launch(e) => e.fmt(f),
            Error::Cuda(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Launch(e) => Some(e),
            Error::Cuda(e) => Some(e),
        }
    }
}

impl From<LaunchError> for Error {
    fn from(e: LaunchError) -> Self {
        Error::Launch(e)
    }
}

impl From<CudaError> for Error {
    fn from(e: CudaError) -> Self {
        Error::Cuda(e)
    }
}

/// Where kernels run: a GPU with the crate's kernels loaded, or the host emulator.
pub enum Device {
    Gpu(Module),
    Emulator {
        options: EmulatorOptions,
        /// Why not the GPU, when [`Device::auto`] fell back.
        fallback: Option<CudaError>,
    },
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Device {
    /// The host emulator.
    pub fn emulator() -> Device {
        Device::Emulator {
            options: EmulatorOptions::default(),
            fallback: None,
        }
    }

    /// The GPU with `module` loaded.
    pub fn gpu(module: Module) -> Device {
        Device::Gpu(module)
    }

    /// GPU 0 with the kernels `cargo g build` made for `crate_name` (found from `search_from`,
    /// see [`Gpu::load_kernels`]) when the driver, the GPU and the kernels are all there; else
    /// the emulator, remembering why ([`Device::fallback_reason`]). `RUSTG_DEVICE=emulator`
    /// forces the emulator, `RUSTG_DEVICE=gpu` is accepted for symmetry, and `RUSTG_LIBCUDA`
    /// names the driver library to load instead of `libcuda.so.1`.
    pub fn auto(crate_name: &str, search_from: impl AsRef<Path>) -> Device {
        if std::env::var_os("RUSTG_DEVICE").is_some_and(|v| v == "emulator") {
            return Device::emulator();
        }
        let library = std::env::var_os("RUSTG_LIBCUDA").map(std::path::PathBuf::from);
        let attempt = Gpu::open_with_driver(library.as_deref(), 0)
            .and_then(|gpu| gpu.load_kernels(crate_name, search_from));
        match attempt {
            Ok(module) => Device::Gpu(module),
            Err(reason) => Device::Emulator {
                options: EmulatorOptions::default(),
                fallback: Some(reason),
            },
        }
    }

    pub fn is_gpu(&self) -> bool {
        matches!(self, Device::Gpu(_))
    }

    /// Why [`Device::auto`] chose the emulator.
    pub fn fallback_reason(&self) -> Option<&CudaError> {
        match self {
            Device::Emulator { fallback, .. } => fallback.as_ref(),
            Device::Gpu(_) => None,
        }
    }

    /// One line for logs: `"GPU 0: NVIDIA H100 80GB HBM3 (sm_90)"` or `"host emulator (...)"`.
    pub fn describe(&self) -> String {
        match self {
            Device::Gpu(module) => {
                let gpu = module.gpu();
                format!("GPU {}: {} ({})", gpu.ordinal(), gpu.name(), gpu.arch())
            }
            Device::Emulator {
                fallback: Some(reason),
                ..
            } => format!("host emulator (GPU unavailable: {reason})"),
            Device::Emulator { fallback: None, .. } => "host emulator".to_owned(),
        }
    }

    /// A buffer holding a copy of `data` on this device.
    pub fn upload<T: Copy>(&self, data: &[T]) -> Result<Buffer<T>, Error> {
        Ok(Buffer {
            storage: match self {
                Device::Gpu(module) => Storage::Gpu(module.gpu().upload(data)?),
                Device::Emulator { .. } => Storage::Host(data.to_vec()),
            },
        })
    }

    /// A buffer of `len` zeros (all bytes zero) on this device.
    pub fn zeros<T: Copy + Default>(&self, len: usize) -> Result<Buffer<T>, Error> {
        Ok(Buffer {
            storage: match self {
                Device::Gpu(module) => Storage::Gpu(module.gpu().alloc(len)?),
                Device::Emulator { .. } => Storage::Host(vec![T::default(); len]),
            },
        })
    }

    /// Launches `kernel` here and waits for it. `args`: see [`DeviceArg`].
    ///
    /// # Safety
    /// As [`launch`](crate::launch).
    pub unsafe fn launch<S, A>(
        &self,
        kernel: &Kernel<S>,
        config: LaunchConfig,
        args: A,
    ) -> Result<(), Error>
    where
        S: KernelSignature,
        A: DeviceArgs<S::Params>,
    {
        match self {
            // Safety: passed on to the caller.
            Device::Gpu(module) => {
                unsafe { module.launch(kernel, config, args) }.map_err(Error::Cuda)
            }
            Device::Emulator { options, .. } => {
                let params = args
                    .into_params(Target::Emulator)
                    .map_err(|e| Error::Cuda(CudaError::WrongDevice(e)))?;
                // Safety: passed on to the caller.
                unsafe { emu::launch_with_options(kernel, config, Params(params), options) }
                    .map_err(Error::Launch)
            }
        }
    }
}

/// Already-converted parameters, passed through `HostArgs` unchanged.
struct Params<P>(P);

impl<P> crate::kernel::HostArgs<P> for Params<P> {
    fn into_params(self) -> P {
        self.0
    }
}

/// Elements of `T` on a [`Device`]: host memory for the emulator, device memory for a GPU.
pub struct Buffer<T> {
    storage: Storage<T>,
}

enum Storage<T> {
    Host(Vec<T>),
    Gpu(DeviceBuffer<T>),
}

impl<T: Copy> Buffer<T> {
    pub fn len(&self) -> usize {
        match &self.storage {
            Storage::Host(v) => v.len(),
            Storage::Gpu(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The contents, copied to the host.
    pub fn to_vec(&self) -> Result<Vec<T>, Error> {
        match &self.storage {
            Storage::Host(v) => Ok(v.clone()),
            Storage::Gpu(b) => Ok(b.to_vec()?),
        }
    }

    /// Overwrites the contents with `data` (exactly `len()` elements).
    pub fn copy_from_host(&mut self, data: &[T]) -> Result<(), Error> {
        match &mut self.storage {
            Storage::Host(v) if v.len() == data.len() => {
                v.copy_from_slice(data);
                Ok(())
            }
            Storage::Host(v) => Err(Error::Cuda(CudaError::LengthMismatch {
                device: v.len(),
                host: data.len(),
            })),
            Storage::Gpu(b) => Ok(b.copy_from_host(data)?),
        }
    }
}

impl<T> fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.storage {
            Storage::Host(v) => f
                .debug_struct("Buffer")
                .field("host_len", &v.len())
                .finish(),
            Storage::Gpu(b) => f.debug_struct("Buffer").field("gpu", b).finish(),
        }
    }
}
