//! The CUDA driver API, loaded at run time with `dlopen`: no CUDA headers or libraries are needed
//! to build, and a machine without a driver gets an error value instead of a link failure.
//!
//! `dlopen`/`dlsym` come from the C library (glibc has them in libc.so.6 since 2.34; earlier
//! glibc needs libdl, which std links on those systems). The function names are the versioned
//! symbols the driver exports (`cuMemAlloc_v2` ...), which is what `cuda.h`'s macros expand to.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::path::Path;

use super::CudaError;

pub type CuResult = c_int;
pub type CuDevice = c_int;
pub type CuContext = *mut c_void;
pub type CuModule = *mut c_void;
pub type CuFunction = *mut c_void;
pub type CuStream = *mut c_void;
pub type CuDevicePtr = u64;

pub const CUDA_SUCCESS: CuResult = 0;

// CUdevice_attribute
pub const ATTR_MAX_THREADS_PER_BLOCK: c_int = 1;
pub const ATTR_MAX_SHARED_MEMORY_PER_BLOCK: c_int = 8;
pub const ATTR_MULTIPROCESSOR_COUNT: c_int = 16;
pub const ATTR_COMPUTE_CAPABILITY_MAJOR: c_int = 75;
pub const ATTR_COMPUTE_CAPABILITY_MINOR: c_int = 76;

// CUfunction_attribute
pub const FUNC_MAX_THREADS_PER_BLOCK: c_int = 0;
pub const FUNC_SHARED_SIZE_BYTES: c_int = 1;
pub const FUNC_LOCAL_SIZE_BYTES: c_int = 3;
pub const FUNC_NUM_REGS: c_int = 4;

// CUjit_option
pub const JIT_INFO_LOG_BUFFER: c_int = 3;
pub const JIT_INFO_LOG_BUFFER_SIZE_BYTES: c_int = 4;
pub const JIT_ERROR_LOG_BUFFER: c_int = 5;
pub const JIT_ERROR_LOG_BUFFER_SIZE_BYTES: c_int = 6;

const RTLD_NOW: c_int = 2;

extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

macro_rules! driver_table {
    ($($field:ident = $symbol:literal : fn($($arg:ty),*);)*) => {
        /// The driver entry points rustg uses.
        pub struct Driver {
            /// Where the library was found (a path or the soname given to dlopen).
            pub library: String,
            $(pub $field: unsafe extern "C" fn($($arg),*) -> CuResult,)*
        }

        impl Driver {
            unsafe fn resolve(handle: *mut c_void, library: String) -> Result<Driver, CudaError> {
                Ok(Driver {
                    $($field: {
                        let name = CStr::from_bytes_with_nul(concat!($symbol, "\0").as_bytes())
                            .expect("symbol names are NUL-terminated literals");
                        // Safety: handle came from dlopen; the name is NUL-terminated.
                        let ptr = unsafe { dlsym(handle, name.as_ptr()) };
                        if ptr.is_null() {
                            return Err(CudaError::MissingSymbol { library, symbol: $symbol });
                        }
                        // Safety: the driver exports this symbol with this C signature
                        // (cuda.h); a function pointer has the size of a data pointer here.
                        unsafe {
                            std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) -> CuResult>(ptr)
                        }
                    },)*
                    library,
                })
            }
        }
    };
}

driver_table! {
    init = "cuInit": fn(c_uint);
    driver_get_version = "cuDriverGetVersion": fn(*mut c_int);
    device_get_count = "cuDeviceGetCount": fn(*mut c_int);
    device_get = "cuDeviceGet": fn(*mut CuDevice, c_int);
    device_get_name = "cuDeviceGetName": fn(*mut c_char, c_int, CuDevice);
    device_get_attribute = "cuDeviceGetAttribute": fn(*mut c_int, c_int, CuDevice);
    primary_ctx_retain = "cuDevicePrimaryCtxRetain": fn(*mut CuContext, CuDevice);
    primary_ctx_release = "cuDevicePrimaryCtxRelease_v2": fn(CuDevice);
    ctx_set_current = "cuCtxSetCurrent": fn(CuContext);
    ctx_synchronize = "cuCtxSynchronize": fn();
    module_load_data_ex = "cuModuleLoadDataEx": fn(*mut CuModule, *const c_void, c_uint, *mut c_int, *mut *mut c_void);
    module_unload = "cuModuleUnload": fn(CuModule);
    module_get_function = "cuModuleGetFunction": fn(*mut CuFunction, CuModule, *const c_char);
    func_get_attribute = "cuFuncGetAttribute": fn(*mut c_int, c_int, CuFunction);
    mem_alloc = "cuMemAlloc_v2": fn(*mut CuDevicePtr, usize);
    mem_free = "cuMemFree_v2": fn(CuDevicePtr);
    memcpy_htod = "cuMemcpyHtoD_v2": fn(CuDevicePtr, *const c_void, usize);
    memcpy_dtoh = "cuMemcpyDtoH_v2": fn(*mut c_void, CuDevicePtr, usize);
    memset_d8 = "cuMemsetD8_v2": fn(CuDevicePtr, u8, usize);
    launch_kernel = "cuLaunchKernel": fn(
        CuFunction, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, CuStream,
        *mut *mut c_void, *mut *mut c_void
    );
    get_error_name = "cuGetErrorName": fn(CuResult, *mut *const c_char);
    get_error_string = "cuGetErrorString": fn(CuResult, *mut *const c_char);
}

/// Library names tried in order when no path is given: the soname the driver package installs,
/// then the development symlink.
pub const DEFAULT_LIBRARIES: [&str; 2] = ["libcuda.so.1", "libcuda.so"];

impl Driver {
    /// Loads the driver from `library` (a path), or from the default names.
    pub fn load(library: Option<&Path>) -> Result<Driver, CudaError> {
        let candidates: Vec<String> = match library {
            Some(path) => vec![path.to_string_lossy().into_owned()],
            None => DEFAULT_LIBRARIES.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut reasons = Vec::new();
        for name in candidates {
            let Ok(c_name) = CString::new(name.clone()) else {
                reasons.push(format!("{name}: path contains a NUL byte"));
                continue;
            };
            // Safety: a NUL-terminated name; dlopen has no other preconditions.
            let handle = unsafe { dlopen(c_name.as_ptr(), RTLD_NOW) };
            if handle.is_null() {
                reasons.push(last_dl_error(&name));
                continue;
            }
            // Never dlclose'd: the driver keeps threads and state that outlive any handle.
            // Safety: handle is a live library handle.
            return unsafe { Driver::resolve(handle, name) };
        }
        Err(CudaError::DriverNotFound { reasons })
    }

    /// `Ok(())` for CUDA_SUCCESS, else the typed error naming the call.
    pub fn check(&self, call: &'static str, result: CuResult) -> Result<(), CudaError> {
        if result == CUDA_SUCCESS {
            return Ok(());
        }
        Err(CudaError::Driver {
            call,
            code: result,
            name: self.error_text(self.get_error_name, result),
            description: self.error_text(self.get_error_string, result),
        })
    }

    fn error_text(
        &self,
        f: unsafe extern "C" fn(CuResult, *mut *const c_char) -> CuResult,
        code: CuResult,
    ) -> String {
        let mut text: *const c_char = std::ptr::null();
        // Safety: the driver writes a pointer to a static string (or leaves it null).
        let ok = unsafe { f(code, &mut text) } == CUDA_SUCCESS && !text.is_null();
        if ok {
            // Safety: a NUL-terminated static string from the driver.
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        } else {
            format!("CUDA error {code}")
        }
    }
}

fn last_dl_error(name: &str) -> String {
    // Safety: dlerror returns null or a thread-local NUL-terminated message.
    let message = unsafe { dlerror() };
    if message.is_null() {
        format!("{name}: could not be loaded")
    } else {
        // Safety: see above.
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    }
}
