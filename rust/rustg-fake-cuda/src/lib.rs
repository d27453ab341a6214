//! A fake CUDA driver: the entry points rustg's `cuda` module resolves with `dlsym`, backed by
//! host memory, so the driver-API path (loading, symbol resolution, error translation, memory
//! copies, kernel parameter packing) is tested on machines without a GPU. It is a test double,
//! not a simulator: it cannot run PTX.
//!
//! What it does:
//! * one device, "rustg fake GPU", compute capability 8.6, driver version 13000;
//! * device memory is host memory (`cuMemAlloc` returns a host address);
//! * `cuModuleLoadDataEx` reads PTX text and remembers each `.entry` and the byte size of each of
//!   its `.param`s, as a driver lays out a kernel's parameter buffer; PTX containing
//!   `FAKE_JIT_ERROR` is rejected with `CUDA_ERROR_INVALID_PTX` and a JIT log;
//! * `cuLaunchKernel` copies each parameter's bytes from `kernelParams` (what a real driver does),
//!   records the launch (read it back with `rustg_fake_last_launch`), and runs a host version of
//!   a few known kernels: `saxpy(f32, Slice<f32>, SliceMut<f32>)` computes `y = a*x + y` over
//!   the grid; `traps` makes the next `cuCtxSynchronize` fail with `CUDA_ERROR_LAUNCH_FAILED`, as
//!   a trapping kernel does;
//! * a kernel whose name contains `tiny` allows at most 64 threads per block.

#![allow(non_snake_case, clippy::missing_safety_doc)]

use std::alloc::{self, Layout};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::{Mutex, MutexGuard};

type CuResult = c_int;

const SUCCESS: CuResult = 0;
const INVALID_VALUE: CuResult = 1;
const INVALID_PTX: CuResult = 218;
const NOT_FOUND: CuResult = 500;
const LAUNCH_FAILED: CuResult = 719;

struct Entry {
    name: String,
    param_sizes: Vec<usize>,
}

struct Module {
    entries: Vec<Entry>,
}

#[derive(Default)]
struct State {
    allocations: HashMap<u64, Layout>,
    sticky: Option<CuResult>,
    last_launch: String,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<State>> {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    guard.get_or_insert_with(State::default);
    guard
}

macro_rules! with_state {
    (|$s:ident| $body:expr) => {{
        let mut guard = state();
        let $s = guard.as_mut().expect("initialised by state()");
        $body
    }};
}

#[no_mangle]
pub extern "C" fn cuInit(_flags: c_uint) -> CuResult {
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDriverGetVersion(version: *mut c_int) -> CuResult {
    unsafe { *version = 13000 };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetCount(count: *mut c_int) -> CuResult {
    unsafe { *count = 1 };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGet(device: *mut c_int, ordinal: c_int) -> CuResult {
    if ordinal != 0 {
        return INVALID_VALUE;
    }
    unsafe { *device = 0 };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetName(
    name: *mut c_char,
    len: c_int,
    _device: c_int,
) -> CuResult {
    let text = b"rustg fake GPU\0";
    if (len as usize) < text.len() {
        return INVALID_VALUE;
    }
    unsafe { std::ptr::copy_nonoverlapping(text.as_ptr().cast(), name, text.len()) };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetAttribute(
    value: *mut c_int,
    attribute: c_int,
    _device: c_int,
) -> CuResult {
    let v = match attribute {
        1 => 1024,  // MAX_THREADS_PER_BLOCK
        8 => 49152, // MAX_SHARED_MEMORY_PER_BLOCK
        16 => 2,    // MULTIPROCESSOR_COUNT
        75 => 8,    // COMPUTE_CAPABILITY_MAJOR
        76 => 6,    // COMPUTE_CAPABILITY_MINOR
        _ => return INVALID_VALUE,
    };
    unsafe { *value = v };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDevicePrimaryCtxRetain(
    context: *mut *mut c_void,
    _device: c_int,
) -> CuResult {
    // Any non-null handle will do: the fake has one implicit context.
    unsafe { *context = 0x1000 as *mut c_void };
    SUCCESS
}

#[no_mangle]
pub extern "C" fn cuDevicePrimaryCtxRelease_v2(_device: c_int) -> CuResult {
    SUCCESS
}

#[no_mangle]
pub extern "C" fn cuCtxSetCurrent(_context: *mut c_void) -> CuResult {
    SUCCESS
}

#[no_mangle]
pub extern "C" fn cuCtxSynchronize() -> CuResult {
    with_state!(|s| s.sticky.take().unwrap_or(SUCCESS))
}

/// Byte size of one `.param` declaration: `.param .f32 name`, `.param .u64 .ptr .align 1 name`,
/// `.param .align 8 .b8 name[16]`.
fn param_size(decl: &str) -> Option<usize> {
    let element = decl.split_whitespace().find_map(|word| {
        let bits: usize = word.strip_prefix('.')?.get(1..)?.parse().ok()?;
        matches!(word.as_bytes().get(1), Some(b'b' | b'u' | b's' | b'f')).then_some(bits / 8)
    })?;
    let count = match (decl.find('['), decl.find(']')) {
        (Some(open), Some(close)) => decl[open + 1..close].trim().parse().ok()?,
        _ => 1,
    };
    Some(element * count)
}

fn parse_entries(ptx: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut rest = ptx;
    while let Some(at) = rest.find(".entry ") {
        rest = &rest[at + ".entry ".len()..];
        let Some(open) = rest.find('(') else { break };
        let name = rest[..open].trim().to_owned();
        let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
        let param_sizes = rest[open + 1..close]
            .split(',')
            .filter(|d| d.contains(".param"))
            .filter_map(param_size)
            .collect();
        entries.push(Entry { name, param_sizes });
        rest = &rest[close..];
    }
    entries
}

#[no_mangle]
pub unsafe extern "C" fn cuModuleLoadDataEx(
    module: *mut *mut c_void,
    image: *const c_void,
    num_options: c_uint,
    options: *mut c_int,
    values: *mut *mut c_void,
) -> CuResult {
    // PTX is a C string; the fake takes nothing else.
    let text = unsafe { CStr::from_ptr(image.cast()) }
        .to_string_lossy()
        .into_owned();
    if text.contains("FAKE_JIT_ERROR") {
        for i in 0..num_options as usize {
            // CU_JIT_ERROR_LOG_BUFFER: write the log where the caller asked.
            if unsafe { *options.add(i) } == 5 {
                let log = b"ptxas fatal   : fake JIT error on line 1\0";
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        log.as_ptr(),
                        (*values.add(i)).cast::<u8>(),
                        log.len(),
                    )
                };
            }
        }
        return INVALID_PTX;
    }
    let boxed = Box::new(Module {
        entries: parse_entries(&text),
    });
    unsafe { *module = Box::into_raw(boxed).cast() };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuModuleUnload(module: *mut c_void) -> CuResult {
    drop(unsafe { Box::from_raw(module.cast::<Module>()) });
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuModuleGetFunction(
    function: *mut *mut c_void,
    module: *mut c_void,
    name: *const c_char,
) -> CuResult {
    let module = unsafe { &*module.cast::<Module>() };
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    match module.entries.iter().find(|e| e.name == name) {
        Some(entry) => {
            unsafe { *function = (entry as *const Entry).cast_mut().cast() };
            SUCCESS
        }
        None => NOT_FOUND,
    }
}

#[no_mangle]
pub unsafe extern "C" fn cuFuncGetAttribute(
    value: *mut c_int,
    attribute: c_int,
    function: *mut c_void,
) -> CuResult {
    let entry = unsafe { &*function.cast::<Entry>() };
    let v = match attribute {
        0 if entry.name.contains("tiny") => 64,
        0 => 1024, // MAX_THREADS_PER_BLOCK
        1 => 0,    // SHARED_SIZE_BYTES
        3 => 0,    // LOCAL_SIZE_BYTES
        4 => 32,   // NUM_REGS
        _ => return INVALID_VALUE,
    };
    unsafe { *value = v };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuMemAlloc_v2(ptr: *mut u64, bytes: usize) -> CuResult {
    let Ok(layout) = Layout::from_size_align(bytes.max(1), 256) else {
        return INVALID_VALUE;
    };
    let p = unsafe { alloc::alloc_zeroed(layout) };
    if p.is_null() {
        return 2; // CUDA_ERROR_OUT_OF_MEMORY
    }
    with_state!(|s| s.allocations.insert(p as u64, layout));
    unsafe { *ptr = p as u64 };
    SUCCESS
}

#[no_mangle]
pub extern "C" fn cuMemFree_v2(ptr: u64) -> CuResult {
    match with_state!(|s| s.allocations.remove(&ptr)) {
        Some(layout) => {
            unsafe { alloc::dealloc(ptr as *mut u8, layout) };
            SUCCESS
        }
        None => INVALID_VALUE,
    }
}

#[no_mangle]
pub unsafe extern "C" fn cuMemcpyHtoD_v2(dst: u64, src: *const c_void, bytes: usize) -> CuResult {
    unsafe { std::ptr::copy_nonoverlapping(src.cast::<u8>(), dst as *mut u8, bytes) };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuMemcpyDtoH_v2(dst: *mut c_void, src: u64, bytes: usize) -> CuResult {
    unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst.cast::<u8>(), bytes) };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuMemsetD8_v2(dst: u64, value: u8, bytes: usize) -> CuResult {
    unsafe { std::ptr::write_bytes(dst as *mut u8, value, bytes) };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuLaunchKernel(
    function: *mut c_void,
    grid_x: c_uint,
    grid_y: c_uint,
    grid_z: c_uint,
    block_x: c_uint,
    block_y: c_uint,
    block_z: c_uint,
    shared_bytes: c_uint,
    _stream: *mut c_void,
    params: *mut *mut c_void,
    _extra: *mut *mut c_void,
) -> CuResult {
    let entry = unsafe { &*function.cast::<Entry>() };
    if params.is_null() && !entry.param_sizes.is_empty() {
        return INVALID_VALUE;
    }
    // What the driver does: copy each parameter's declared size from its pointer.
    let bytes: Vec<Vec<u8>> = entry
        .param_sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            unsafe { std::slice::from_raw_parts((*params.add(i)).cast::<u8>(), size) }.to_vec()
        })
        .collect();
    let hex: Vec<String> = bytes
        .iter()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
        .collect();
    let record = format!(
        "{} grid={},{},{} block={},{},{} shared={} params={}",
        entry.name,
        grid_x,
        grid_y,
        grid_z,
        block_x,
        block_y,
        block_z,
        shared_bytes,
        hex.join(",")
    );
    with_state!(|s| s.last_launch = record);
    match entry.name.as_str() {
        "saxpy" => unsafe { saxpy(&bytes, grid_x as usize * block_x as usize) },
        "traps" => with_state!(|s| s.sticky = Some(LAUNCH_FAILED)),
        _ => {}
    }
    SUCCESS
}

fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// `y[i] = a * x[i] + y[i]` for the first `threads` elements, reading the parameters as the
/// PTX declared them: `.f32`, then two 16-byte `{ ptr, len }` slices.
unsafe fn saxpy(params: &[Vec<u8>], threads: usize) {
    let a = f32::from_le_bytes(params[0][..4].try_into().expect("4 bytes"));
    let (x, x_len) = (
        word(&params[1], 0) as *const f32,
        word(&params[1], 8) as usize,
    );
    let (y, y_len) = (
        word(&params[2], 0) as *mut f32,
        word(&params[2], 8) as usize,
    );
    for i in 0..threads.min(x_len).min(y_len) {
        unsafe { *y.add(i) += a * *x.add(i) };
    }
}

#[no_mangle]
pub unsafe extern "C" fn cuGetErrorName(error: CuResult, text: *mut *const c_char) -> CuResult {
    let name: &'static [u8] = match error {
        0 => b"CUDA_SUCCESS\0",
        1 => b"CUDA_ERROR_INVALID_VALUE\0",
        2 => b"CUDA_ERROR_OUT_OF_MEMORY\0",
        218 => b"CUDA_ERROR_INVALID_PTX\0",
        500 => b"CUDA_ERROR_NOT_FOUND\0",
        719 => b"CUDA_ERROR_LAUNCH_FAILED\0",
        _ => return INVALID_VALUE,
    };
    unsafe { *text = name.as_ptr().cast() };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuGetErrorString(error: CuResult, text: *mut *const c_char) -> CuResult {
    let description: &'static [u8] = match error {
        0 => b"no error\0",
        1 => b"invalid argument\0",
        2 => b"out of memory\0",
        218 => b"a PTX JIT compilation failed\0",
        500 => b"named symbol not found\0",
        719 => b"unspecified launch failure\0",
        _ => return INVALID_VALUE,
    };
    unsafe { *text = description.as_ptr().cast() };
    SUCCESS
}

/// Test hook: copies the record of the last launch (`name grid=.. block=.. shared=.. params=..`,
/// parameters as hex bytes) into `buffer`, NUL-terminated; returns its length.
#[no_mangle]
pub unsafe extern "C" fn rustg_fake_last_launch(buffer: *mut c_char, capacity: usize) -> usize {
    let record = with_state!(|s| s.last_launch.clone());
    let n = record.len().min(capacity.saturating_sub(1));
    unsafe {
        std::ptr::copy_nonoverlapping(record.as_ptr().cast(), buffer, n);
        *buffer.add(n) = 0;
    }
    n
}
