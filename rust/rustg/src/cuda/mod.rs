//! Launching kernels on an NVIDIA GPU through the CUDA driver API, loaded at run time.
//!
//! ```no_run
//! # use rustg::{cuda::Gpu, LaunchConfig, Slice, SliceMut};
//! # #[rustg::kernel] pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {}
//! let gpu = Gpu::open(0)?;                                  // dlopen("libcuda.so.1"), primary context
//! let module = gpu.load_kernels("my_kernels", env!("CARGO_MANIFEST_DIR"))?; // target/rustg/sm_XX/
//! let x = gpu.upload(&vec![1.0f32; 1 << 20])?;
//! let mut y = gpu.upload(&vec![2.0f32; 1 << 20])?;
//! // Safety: each thread writes only its own element.
//! unsafe { module.launch(&SAXPY, LaunchConfig::for_elements(1 << 20, 256), (3.0f32, &x, &mut y))? };
//! let y = y.to_vec()?;
//! # Ok::<(), rustg::cuda::CudaError>(())
//! ```
//!
//! Every driver failure is a [`CudaError`] value naming the call and the driver's own error name
//! and text. A launch waits for the kernel (`cuCtxSynchronize`), so an error in the kernel (a
//! trap from a failed bounds check, an illegal address) is the launch's error, not a later
//! call's. Such errors are "sticky" in CUDA: the context is unusable afterwards, and so is every
//! `Gpu` of that device in this process.

mod driver;

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CString};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use driver::DEFAULT_LIBRARIES;
use driver::{CuContext, CuDevice, CuDevicePtr, CuFunction, CuModule, Driver};

use crate::config::{ConfigError, LaunchConfig};
use crate::kernel::{Kernel, KernelSignature};
use crate::runtime::{DeviceArgs, Target, WrongDevice};

/// Why something on the GPU path failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CudaError {
    /// No CUDA driver library could be loaded (`reasons`: what `dlopen` said for each name).
    DriverNotFound { reasons: Vec<String> },
    /// The library loaded but lacks an entry point rustg needs (too old a driver).
    MissingSymbol {
        library: String,
        symbol: &'static str,
    },
    /// A driver call failed: `name`/`description` are `cuGetErrorName`/`cuGetErrorString`.
    Driver {
        call: &'static str,
        code: i32,
        name: String,
        description: String,
    },
    /// The driver works but there is no GPU with this ordinal.
    NoDevice { ordinal: usize, count: usize },
    /// No PTX/cubin/fatbin for the crate was found under target/rustg.
    KernelsNotFound {
        crate_name: String,
        arch: String,
        searched: Vec<PathBuf>,
    },
    /// Reading a PTX/cubin/fatbin file failed.
    Io { path: PathBuf, message: String },
    /// The driver rejected the module; `log` is its JIT error log.
    ModuleLoad {
        code: i32,
        name: String,
        log: String,
    },
    /// The module has no kernel of this name (was the PTX built from this source?).
    KernelNotFound { name: String },
    /// The launch shape is invalid (checked before calling the driver).
    InvalidConfig(ConfigError),
    /// The block is larger than this compiled kernel allows (its registers or launch bounds).
    BlockTooLargeForKernel {
        kernel: String,
        threads: u64,
        max: u32,
    },
    /// A host slice and a device buffer of different lengths.
    LengthMismatch { device: usize, host: usize },
    /// A launch argument lives somewhere this launch cannot read (host memory, another GPU).
    WrongDevice(WrongDevice),
}

impl fmt::Display for CudaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CudaError::DriverNotFound { reasons } => {
                write!(f, "no CUDA driver could be loaded ({})", reasons.join("; "))
            }
            CudaError::MissingSymbol { library, symbol } => {
                write!(f, "{library} has no `{symbol}`: the CUDA driver is too old")
            }
            CudaError::Driver { call, code, name, description } => {
                write!(f, "{call} failed: {name} ({code}): {description}")
            }
            CudaError::NoDevice { ordinal, count } => {
                write!(f, "no CUDA device {ordinal} (the driver sees {count})")
            }
            CudaError::KernelsNotFound { crate_name, arch, searched } => {
                let searched: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "no kernels for crate `{crate_name}` built for {arch} or below; run `cargo g build` \
                     (searched: {})",
                    searched.join(", ")
                )
            }
            CudaError::Io { path, message } => write!(f, "{}: {message}", path.display()),
            CudaError::ModuleLoad { code, name, log } => {
                write!(f, "the driver rejected the module: {name} ({code})")?;
                if !log.is_empty() {
                    write!(f, ":\n{log}")?;
                }
                Ok(())
            }
            CudaError::KernelNotFound { name } => write!(f, "the module has no kernel `{name}`"),
            CudaError::InvalidConfig(e) => write!(f, "invalid launch configuration: {e}"),
            CudaError::BlockTooLargeForKernel { kernel, threads, max } => write!(
                f,
                "a block of {threads} threads is more than kernel `{kernel}` allows ({max}, limited by its registers)"
            ),
            CudaError::LengthMismatch { device, host } => {
                write!(f, "device buffer holds {device} elements, host slice {host}")
            }
            CudaError::WrongDevice(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CudaError {}

impl From<ConfigError> for CudaError {
    fn from(e: ConfigError) -> Self {
        CudaError::InvalidConfig(e)
    }
}

pub(crate) struct GpuInner {
    driver: Driver,
    device: CuDevice,
    context: CuContext,
    ordinal: usize,
    name: String,
    compute_capability: (u32, u32),
    max_threads_per_block: u32,
    max_shared_bytes: u32,
    multiprocessors: u32,
}

// Safety: the context handle is usable from any thread once made current there, which every
// method does first (`bind`).
unsafe impl Send for GpuInner {}
// Safety: as above; the driver API is thread-safe.
unsafe impl Sync for GpuInner {}

impl GpuInner {
    /// Makes this GPU's context current on the calling thread.
    fn bind(&self) -> Result<(), CudaError> {
        // Safety: a retained primary context.
        self.driver.check("cuCtxSetCurrent", unsafe {
            (self.driver.ctx_set_current)(self.context)
        })
    }
}

impl Drop for GpuInner {
    fn drop(&mut self) {
        // Safety: retained in `Gpu::open_with_library`; errors at teardown have no one to go to.
        unsafe { (self.driver.primary_ctx_release)(self.device) };
    }
}

/// One GPU, through its primary context. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Gpu {
    inner: Arc<GpuInner>,
}

impl fmt::Debug for Gpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gpu")
            .field("ordinal", &self.inner.ordinal)
            .field("name", &self.inner.name)
            .field("arch", &self.arch())
            .field("driver", &self.inner.driver.library)
            .finish()
    }
}

impl Gpu {
    /// GPU `ordinal` through the system's CUDA driver (`libcuda.so.1`).
    pub fn open(ordinal: usize) -> Result<Gpu, CudaError> {
        Gpu::open_with_driver(None, ordinal)
    }

    /// GPU `ordinal` through the driver library at `library` (`None`: the system's). Also what
    /// the environment variable `RUSTG_LIBCUDA` selects for [`Gpu::open`]'s callers in
    /// [`Device::auto`](crate::Device::auto).
    pub fn open_with_driver(library: Option<&Path>, ordinal: usize) -> Result<Gpu, CudaError> {
        let driver = Driver::load(library)?;
        // Safety (all calls below): out-pointers to live locals, per the driver API.
        driver.check("cuInit", unsafe { (driver.init)(0) })?;
        let mut count: c_int = 0;
        driver.check("cuDeviceGetCount", unsafe {
            (driver.device_get_count)(&mut count)
        })?;
        let count = count.max(0) as usize;
        if ordinal >= count {
            return Err(CudaError::NoDevice { ordinal, count });
        }
        let mut device: CuDevice = 0;
        driver.check("cuDeviceGet", unsafe {
            (driver.device_get)(&mut device, ordinal as c_int)
        })?;
        let mut name_buf = [0 as c_char; 256];
        driver.check("cuDeviceGetName", unsafe {
            (driver.device_get_name)(name_buf.as_mut_ptr(), name_buf.len() as c_int, device)
        })?;
        // Safety: the driver NUL-terminates within the buffer.
        let name = unsafe { std::ffi::CStr::from_ptr(name_buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let attribute = |attr: c_int| -> Result<u32, CudaError> {
            let mut value: c_int = 0;
            driver.check("cuDeviceGetAttribute", unsafe {
                (driver.device_get_attribute)(&mut value, attr, device)
            })?;
            Ok(value.max(0) as u32)
        };
        let compute_capability = (
            attribute(driver::ATTR_COMPUTE_CAPABILITY_MAJOR)?,
            attribute(driver::ATTR_COMPUTE_CAPABILITY_MINOR)?,
        );
        let max_threads_per_block = attribute(driver::ATTR_MAX_THREADS_PER_BLOCK)?;
        let max_shared_bytes = attribute(driver::ATTR_MAX_SHARED_MEMORY_PER_BLOCK)?;
        let multiprocessors = attribute(driver::ATTR_MULTIPROCESSOR_COUNT)?;
        let mut context: CuContext = std::ptr::null_mut();
        driver.check("cuDevicePrimaryCtxRetain", unsafe {
            (driver.primary_ctx_retain)(&mut context, device)
        })?;
        let inner = GpuInner {
            driver,
            device,
            context,
            ordinal,
            name,
            compute_capability,
            max_threads_per_block,
            max_shared_bytes,
            multiprocessors,
        };
        inner.bind()?;
        Ok(Gpu {
            inner: Arc::new(inner),
        })
    }

    /// Number of GPUs the system's driver sees.
    pub fn device_count() -> Result<usize, CudaError> {
        let driver = Driver::load(None)?;
        // Safety: out-pointer to a live local.
        driver.check("cuInit", unsafe { (driver.init)(0) })?;
        let mut count: c_int = 0;
        driver.check("cuDeviceGetCount", unsafe {
            (driver.device_get_count)(&mut count)
        })?;
        Ok(count.max(0) as usize)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn ordinal(&self) -> usize {
        self.inner.ordinal
    }

    /// `(major, minor)`, e.g. `(9, 0)` for an H100.
    pub fn compute_capability(&self) -> (u32, u32) {
        self.inner.compute_capability
    }

    /// The PTX target of this GPU, e.g. `"sm_90"`.
    pub fn arch(&self) -> String {
        let (major, minor) = self.inner.compute_capability;
        format!("sm_{major}{minor}")
    }

    pub fn max_threads_per_block(&self) -> u32 {
        self.inner.max_threads_per_block
    }

    pub fn max_shared_bytes_per_block(&self) -> u32 {
        self.inner.max_shared_bytes
    }

    pub fn multiprocessors(&self) -> u32 {
        self.inner.multiprocessors
    }

    /// The driver library in use.
    pub fn driver_library(&self) -> &str {
        &self.inner.driver.library
    }

    /// Driver version as `major * 1000 + minor * 10` (`cuDriverGetVersion`).
    pub fn driver_version(&self) -> Result<i32, CudaError> {
        let mut version: c_int = 0;
        // Safety: out-pointer to a live local.
        self.inner.driver.check("cuDriverGetVersion", unsafe {
            (self.inner.driver.driver_get_version)(&mut version)
        })?;
        Ok(version)
    }

    /// Loads PTX text (JIT-compiled by the driver for this GPU).
    pub fn load_ptx(&self, ptx: &str) -> Result<Module, CudaError> {
        let mut image = ptx.as_bytes().to_vec();
        image.push(0); // the driver reads PTX as a C string
        self.load_image(&image)
    }

    /// Loads a cubin, a fatbin, or NUL-terminated PTX.
    pub fn load_image(&self, image: &[u8]) -> Result<Module, CudaError> {
        let inner = &self.inner;
        inner.bind()?;
        const LOG_BYTES: usize = 16 * 1024;
        let mut error_log = vec![0u8; LOG_BYTES];
        let mut info_log = vec![0u8; LOG_BYTES];
        let mut options: [c_int; 4] = [
            driver::JIT_ERROR_LOG_BUFFER,
            driver::JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
            driver::JIT_INFO_LOG_BUFFER,
            driver::JIT_INFO_LOG_BUFFER_SIZE_BYTES,
        ];
        // The driver takes sizes by value in the pointer slots (cuda.h, CUjit_option).
        let mut values: [*mut c_void; 4] = [
            error_log.as_mut_ptr().cast(),
            LOG_BYTES as *mut c_void,
            info_log.as_mut_ptr().cast(),
            LOG_BYTES as *mut c_void,
        ];
        let mut module: CuModule = std::ptr::null_mut();
        // Safety: image outlives the call; option arrays have 4 entries each.
        let result = unsafe {
            (inner.driver.module_load_data_ex)(
                &mut module,
                image.as_ptr().cast(),
                options.len() as c_uint,
                options.as_mut_ptr(),
                values.as_mut_ptr(),
            )
        };
        if let Err(CudaError::Driver { code, name, .. }) =
            inner.driver.check("cuModuleLoadDataEx", result)
        {
            let end = error_log
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(error_log.len());
            let log = String::from_utf8_lossy(&error_log[..end]).trim().to_owned();
            return Err(CudaError::ModuleLoad { code, name, log });
        }
        Ok(Module {
            gpu: self.inner.clone(),
            module,
            functions: Mutex::new(HashMap::new()),
        })
    }

    /// Loads a `.ptx`, `.cubin` or `.fatbin` file.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Module, CudaError> {
        let path = path.as_ref();
        let mut image = std::fs::read(path).map_err(|e| CudaError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if path.extension().is_some_and(|e| e == "ptx") {
            image.push(0);
        }
        self.load_image(&image)
    }

    /// Loads what `cargo g build` produced for `crate_name`, looking for `target/rustg` in
    /// `search_from` and its ancestors (or in `$RUSTG_TARGET_DIR/rustg`): this GPU's arch as
    /// fatbin, cubin, then PTX; else the PTX of the highest lower arch (the driver JIT-compiles
    /// it forward).
    pub fn load_kernels(
        &self,
        crate_name: &str,
        search_from: impl AsRef<Path>,
    ) -> Result<Module, CudaError> {
        let path = find_kernels(crate_name, &self.arch(), search_from.as_ref())?;
        self.load_file(path)
    }

    /// `len` zeroed elements in device memory.
    pub fn alloc<T: Copy>(&self, len: usize) -> Result<DeviceBuffer<T>, CudaError> {
        let inner = &self.inner;
        inner.bind()?;
        let bytes = std::mem::size_of::<T>() * len;
        let mut ptr: CuDevicePtr = 0;
        if bytes > 0 {
            // Safety: out-pointer to a live local.
            inner.driver.check("cuMemAlloc", unsafe {
                (inner.driver.mem_alloc)(&mut ptr, bytes)
            })?;
            let buffer = DeviceBuffer {
                gpu: self.inner.clone(),
                ptr,
                len,
                _element: PhantomData,
            };
            // Safety: `bytes` bytes just allocated at ptr.
            inner.driver.check("cuMemsetD8", unsafe {
                (inner.driver.memset_d8)(ptr, 0, bytes)
            })?;
            return Ok(buffer);
        }
        Ok(DeviceBuffer {
            gpu: self.inner.clone(),
            ptr,
            len,
            _element: PhantomData,
        })
    }

    /// A device copy of `data`.
    pub fn upload<T: Copy>(&self, data: &[T]) -> Result<DeviceBuffer<T>, CudaError> {
        let mut buffer = self.alloc(data.len())?;
        buffer.copy_from_host(data)?;
        Ok(buffer)
    }

    /// Waits for all work on this GPU.
    pub fn synchronize(&self) -> Result<(), CudaError> {
        self.inner.bind()?;
        // Safety: no arguments.
        self.inner.driver.check("cuCtxSynchronize", unsafe {
            (self.inner.driver.ctx_synchronize)()
        })
    }
}

/// Where `cargo g build` put `crate_name`'s kernels for `arch` (see [`Gpu::load_kernels`]).
pub fn find_kernels(
    crate_name: &str,
    arch: &str,
    search_from: &Path,
) -> Result<PathBuf, CudaError> {
    let file_stem = crate_name.replace('-', "_");
    let mut roots = Vec::new();
    if let Some(dir) = std::env::var_os("RUSTG_TARGET_DIR") {
        roots.push(PathBuf::from(dir).join("rustg"));
    }
    roots.extend(
        search_from
            .ancestors()
            .map(|a| a.join("target").join("rustg")),
    );
    let wanted = arch_number(arch).unwrap_or(u32::MAX);
    let mut searched = Vec::new();
    for root in roots {
        searched.push(root.clone());
        if !root.is_dir() {
            continue;
        }
        for ext in ["fatbin", "cubin", "ptx"] {
            let exact = root.join(arch).join(format!("{file_stem}.{ext}"));
            if exact.is_file() {
                return Ok(exact);
            }
        }
        // PTX for a lower arch runs on this one through the driver's JIT.
        let mut lower: Vec<(u32, PathBuf)> = std::fs::read_dir(&root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let number = arch_number(&name)?;
                let ptx = entry.path().join(format!("{file_stem}.ptx"));
                (number <= wanted && ptx.is_file()).then_some((number, ptx))
            })
            .collect();
        lower.sort();
        if let Some((_, ptx)) = lower.pop() {
            return Ok(ptx);
        }
    }
    Err(CudaError::KernelsNotFound {
        crate_name: crate_name.to_owned(),
        arch: arch.to_owned(),
        searched,
    })
}

fn arch_number(arch: &str) -> Option<u32> {
    arch.strip_prefix("sm_")?
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()
}

/// Resource use of one compiled kernel (`cuFuncGetAttribute`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    pub registers: u32,
    pub static_shared_bytes: u32,
    pub local_bytes: u32,
    pub max_threads_per_block: u32,
}

/// A loaded PTX/cubin/fatbin module.
pub struct Module {
    gpu: Arc<GpuInner>,
    module: CuModule,
    functions: Mutex<HashMap<String, usize>>,
}

// Safety: module and function handles are plain driver handles, valid from any thread with the
// context bound (every method binds it first).
unsafe impl Send for Module {}
// Safety: as above; the function cache is behind a mutex.
unsafe impl Sync for Module {}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("gpu", &self.gpu.name)
            .finish_non_exhaustive()
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // Safety: loaded by load_image; an unload failure at teardown has no one to go to.
        if self.gpu.bind().is_ok() {
            unsafe { (self.gpu.driver.module_unload)(self.module) };
        }
    }
}

impl Module {
    /// The GPU this module is loaded on.
    pub fn gpu(&self) -> Gpu {
        Gpu {
            inner: self.gpu.clone(),
        }
    }

    fn function(&self, name: &str) -> Result<CuFunction, CudaError> {
        let mut cache = self.functions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&f) = cache.get(name) {
            return Ok(f as CuFunction);
        }
        let c_name = CString::new(name).map_err(|_| CudaError::KernelNotFound {
            name: name.to_owned(),
        })?;
        let mut function: CuFunction = std::ptr::null_mut();
        // Safety: a loaded module and a NUL-terminated name.
        let result = unsafe {
            (self.gpu.driver.module_get_function)(&mut function, self.module, c_name.as_ptr())
        };
        match self.gpu.driver.check("cuModuleGetFunction", result) {
            Ok(()) => {}
            Err(CudaError::Driver { code: 500, .. }) => {
                return Err(CudaError::KernelNotFound {
                    name: name.to_owned(),
                })
            }
            Err(e) => return Err(e),
        }
        cache.insert(name.to_owned(), function as usize);
        Ok(function)
    }

    /// Registers, shared and local memory and the largest block of the kernel named `name`.
    pub fn function_info(&self, name: &str) -> Result<FunctionInfo, CudaError> {
        self.gpu.bind()?;
        let function = self.function(name)?;
        let attribute = |attr: c_int| -> Result<u32, CudaError> {
            let mut value: c_int = 0;
            // Safety: out-pointer to a live local, a valid function handle.
            let result =
                unsafe { (self.gpu.driver.func_get_attribute)(&mut value, attr, function) };
            self.gpu.driver.check("cuFuncGetAttribute", result)?;
            Ok(value.max(0) as u32)
        };
        Ok(FunctionInfo {
            registers: attribute(driver::FUNC_NUM_REGS)?,
            static_shared_bytes: attribute(driver::FUNC_SHARED_SIZE_BYTES)?,
            local_bytes: attribute(driver::FUNC_LOCAL_SIZE_BYTES)?,
            max_threads_per_block: attribute(driver::FUNC_MAX_THREADS_PER_BLOCK)?,
        })
    }

    /// Launches `kernel` and waits for it. `args` has one entry per kernel parameter: kernel
    /// parameter values as they are, `&DeviceBuffer<T>` for a `Slice<T>`, `&mut DeviceBuffer<T>`
    /// for a `SliceMut<T>`.
    ///
    /// # Safety
    /// As [`launch`](crate::launch): the kernel's threads must not race, and raw pointers passed
    /// in must be valid device pointers for what the kernel does with them.
    pub unsafe fn launch<S, A>(
        &self,
        kernel: &Kernel<S>,
        config: LaunchConfig,
        args: A,
    ) -> Result<(), CudaError>
    where
        S: KernelSignature,
        A: DeviceArgs<S::Params>,
    {
        let mut params = args
            .into_params(Target::gpu(&self.gpu))
            .map_err(CudaError::WrongDevice)?;
        // Safety: passed on to the caller.
        unsafe { self.launch_params::<S>(kernel.name(), config, &mut params) }
    }

    /// # Safety
    /// As [`Module::launch`].
    pub(crate) unsafe fn launch_params<S: KernelSignature>(
        &self,
        name: &str,
        config: LaunchConfig,
        params: &mut S::Params,
    ) -> Result<(), CudaError> {
        config.validate()?;
        self.gpu.bind()?;
        let function = self.function(name)?;
        let info = self.function_info(name)?;
        let threads = config.block.count();
        if threads > u64::from(info.max_threads_per_block) {
            return Err(CudaError::BlockTooLargeForKernel {
                kernel: name.to_owned(),
                threads,
                max: info.max_threads_per_block,
            });
        }
        let mut pointers = S::param_pointers(params);
        let driver = &self.gpu.driver;
        // Safety: `pointers` holds one pointer per kernel parameter, each to a value laid out as
        // the kernel declares it (KernelParam's contract); they outlive the call, which copies
        // them.
        let result = unsafe {
            (driver.launch_kernel)(
                function,
                config.grid.x,
                config.grid.y,
                config.grid.z,
                config.block.x,
                config.block.y,
                config.block.z,
                config.shared_mem_bytes,
                std::ptr::null_mut(),
                if pointers.is_empty() {
                    std::ptr::null_mut()
                } else {
                    pointers.as_mut_ptr()
                },
                std::ptr::null_mut(),
            )
        };
        driver.check("cuLaunchKernel", result)?;
        // Safety: no arguments.
        driver.check("cuCtxSynchronize", unsafe { (driver.ctx_synchronize)() })
    }
}

/// `len` elements of `T` in device memory, freed on drop.
pub struct DeviceBuffer<T> {
    gpu: Arc<GpuInner>,
    ptr: CuDevicePtr,
    len: usize,
    _element: PhantomData<T>,
}

// Safety: a device address and a length; the memory is only touched through the driver.
unsafe impl<T: Send> Send for DeviceBuffer<T> {}
// Safety: `&self` methods only read through the driver.
unsafe impl<T: Sync> Sync for DeviceBuffer<T> {}

impl<T> fmt::Debug for DeviceBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceBuffer")
            .field("ptr", &format_args!("{:#x}", self.ptr))
            .field("len", &self.len)
            .finish()
    }
}

impl<T> Drop for DeviceBuffer<T> {
    fn drop(&mut self) {
        if self.ptr != 0 && self.gpu.bind().is_ok() {
            // Safety: allocated by cuMemAlloc in `Gpu::alloc`.
            unsafe { (self.gpu.driver.mem_free)(self.ptr) };
        }
    }
}

impl<T: Copy> DeviceBuffer<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The device address (`CUdeviceptr`).
    pub fn device_ptr(&self) -> u64 {
        self.ptr
    }

    /// Copies `data` (exactly `len()` elements) to the device.
    pub fn copy_from_host(&mut self, data: &[T]) -> Result<(), CudaError> {
        if data.len() != self.len {
            return Err(CudaError::LengthMismatch {
                device: self.len,
                host: data.len(),
            });
        }
        if self.len == 0 {
            return Ok(());
        }
        self.gpu.bind()?;
        // Safety: both sides hold `len` elements.
        let result = unsafe {
            (self.gpu.driver.memcpy_htod)(
                self.ptr,
                data.as_ptr().cast(),
                std::mem::size_of_val(data),
            )
        };
        self.gpu.driver.check("cuMemcpyHtoD", result)
    }

    /// Copies the buffer into `out` (exactly `len()` elements).
    pub fn copy_to_host(&self, out: &mut [T]) -> Result<(), CudaError> {
        if out.len() != self.len {
            return Err(CudaError::LengthMismatch {
                device: self.len,
                host: out.len(),
            });
        }
        // Safety: `out` has room for `len` elements.
        unsafe { self.copy_to_ptr(out.as_mut_ptr()) }
    }

    /// The buffer's contents.
    pub fn to_vec(&self) -> Result<Vec<T>, CudaError> {
        let mut out = Vec::with_capacity(self.len);
        // Safety: the spare capacity holds `len` elements; they are initialised before set_len.
        unsafe {
            self.copy_to_ptr(out.as_mut_ptr())?;
            out.set_len(self.len);
        }
        Ok(out)
    }

    /// # Safety
    /// `dst` must be valid for writes of `len()` elements.
    unsafe fn copy_to_ptr(&self, dst: *mut T) -> Result<(), CudaError> {
        if self.len == 0 {
            return Ok(());
        }
        self.gpu.bind()?;
        let bytes = std::mem::size_of::<T>() * self.len;
        // Safety: the device side holds `len` elements; the caller vouches for `dst`.
        let result = unsafe { (self.gpu.driver.memcpy_dtoh)(dst.cast(), self.ptr, bytes) };
        self.gpu.driver.check("cuMemcpyDtoH", result)
    }

    pub(crate) fn belongs_to(&self, gpu: &Arc<GpuInner>) -> bool {
        Arc::ptr_eq(&self.gpu, gpu)
    }
}
