//! rustg's CUDA driver-API path against the fake driver this package builds (src/lib.rs): the
//! same dlopen/dlsym loading, error translation, copies and parameter packing a real GPU gets.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rustg::cuda::{find_kernels, CudaError, Gpu};
use rustg::{Device, LaunchConfig, Slice, SliceMut};

#[rustg::kernel]
pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {
    let i = rustg::global_idx_x();
    if i < y.len() {
        y[i] += a * x[i];
    }
}

#[rustg::kernel]
pub fn traps() {}

#[rustg::kernel]
pub fn tiny_kernel() {}

/// The parameter list rustc's nvptx backend emits for `saxpy` above (rustg-core, sm_90).
const SAXPY_PTX: &str = "
.version 7.8
.target sm_90
.address_size 64
.visible .entry saxpy(
	.param .f32 saxpy_param_0,
	.param .align 8 .b8 saxpy_param_1[16],
	.param .align 8 .b8 saxpy_param_2[16]
)
{
	ret;
}
.visible .entry traps()
{
	trap;
}
.visible .entry tiny_kernel()
{
	ret;
}
";

/// The fake keeps one global state (last launch, pending error): one test at a time uses it.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// target/<profile>/librustg_fake_cuda.so, next to this test binary's deps/ folder.
fn fake_driver() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    for dir in [deps, deps.parent().expect("profile dir")] {
        let candidate = dir.join("librustg_fake_cuda.so");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("librustg_fake_cuda.so not found next to {}", exe.display());
}

fn open() -> Gpu {
    Gpu::open_with_driver(Some(&fake_driver()), 0).expect("the fake driver opens")
}

extern "C" {
    fn dlopen(filename: *const c_char, flags: i32) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// The fake's record of the last launch, read through the same loaded library.
fn last_launch() -> String {
    let path = CString::new(fake_driver().to_string_lossy().into_owned()).unwrap();
    // Safety: the library is already loaded (dlopen returns the same handle); the symbol has
    // this signature in src/lib.rs.
    unsafe {
        let handle = dlopen(path.as_ptr(), 2);
        assert!(!handle.is_null());
        let f = dlsym(handle, c"rustg_fake_last_launch".as_ptr());
        assert!(!f.is_null());
        let f: unsafe extern "C" fn(*mut c_char, usize) -> usize = std::mem::transmute(f);
        let mut buffer = vec![0 as c_char; 4096];
        f(buffer.as_mut_ptr(), buffer.len());
        CStr::from_ptr(buffer.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

#[test]
fn opens_the_device_through_the_driver() {
    let _s = serial();
    let gpu = open();
    assert_eq!(gpu.name(), "rustg fake GPU");
    assert_eq!(gpu.compute_capability(), (8, 6));
    assert_eq!(gpu.arch(), "sm_86");
    assert_eq!(gpu.max_threads_per_block(), 1024);
    assert_eq!(gpu.max_shared_bytes_per_block(), 49152);
    assert_eq!(gpu.driver_version().unwrap(), 13000);
    assert!(gpu.driver_library().ends_with("librustg_fake_cuda.so"));
}

#[test]
fn a_missing_device_or_driver_is_an_error_value() {
    let _s = serial();
    assert_eq!(
        Gpu::open_with_driver(Some(&fake_driver()), 1).unwrap_err(),
        CudaError::NoDevice {
            ordinal: 1,
            count: 1
        }
    );
    let missing = Path::new("/nonexistent/libcuda.so.1");
    match Gpu::open_with_driver(Some(missing), 0).unwrap_err() {
        CudaError::DriverNotFound { reasons } => {
            assert_eq!(reasons.len(), 1);
            assert!(
                reasons[0].contains("/nonexistent/libcuda.so.1"),
                "{reasons:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // A library that is not a CUDA driver: loads, but lacks the entry points.
    let libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    if libc.is_file() {
        match Gpu::open_with_driver(Some(libc), 0).unwrap_err() {
            CudaError::MissingSymbol { symbol, .. } => assert_eq!(symbol, "cuInit"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn buffers_round_trip_and_check_lengths() {
    let _s = serial();
    let gpu = open();
    let data: Vec<u64> = (0..1000).map(|i| i * i).collect();
    let mut buffer = gpu.upload(&data).unwrap();
    assert_eq!(buffer.len(), 1000);
    assert_eq!(buffer.to_vec().unwrap(), data);
    assert_eq!(gpu.alloc::<f32>(5).unwrap().to_vec().unwrap(), vec![0.0; 5]);
    assert_eq!(
        buffer.copy_from_host(&data[..10]).unwrap_err(),
        CudaError::LengthMismatch {
            device: 1000,
            host: 10
        }
    );
    let empty = gpu.upload::<u8>(&[]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.to_vec().unwrap(), Vec::<u8>::new());
}

#[test]
fn a_rejected_module_carries_the_jit_log() {
    let _s = serial();
    let gpu = open();
    match gpu.load_ptx("// FAKE_JIT_ERROR\n").unwrap_err() {
        CudaError::ModuleLoad { code, name, log } => {
            assert_eq!((code, name.as_str()), (218, "CUDA_ERROR_INVALID_PTX"));
            assert_eq!(log, "ptxas fatal   : fake JIT error on line 1");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn launches_pack_parameters_as_the_ptx_declares_them() {
    let _s = serial();
    let gpu = open();
    let module = gpu.load_ptx(SAXPY_PTX).unwrap();
    let x: Vec<f32> = (0..300).map(|i| i as f32).collect();
    let y0: Vec<f32> = (0..300).map(|i| (3 * i) as f32).collect();
    let xs = gpu.upload(&x).unwrap();
    let mut ys = gpu.upload(&y0).unwrap();
    let config = LaunchConfig::for_elements(300, 128);
    // Safety: one thread per element.
    unsafe { module.launch(&SAXPY, config, (2.0f32, &xs, &mut ys)) }.unwrap();
    let expected: Vec<f32> = x.iter().zip(&y0).map(|(x, y)| 2.0 * x + y).collect();
    assert_eq!(ys.to_vec().unwrap(), expected);

    let record = last_launch();
    let hex = |v: u64| {
        v.to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let expected_record = format!(
        "saxpy grid=3,1,1 block=128,1,1 shared=0 params=00000040,{}{},{}{}",
        hex(xs.device_ptr()),
        hex(300),
        hex(ys.device_ptr()),
        hex(300)
    );
    assert_eq!(record, expected_record);
    let info = module.function_info("saxpy").unwrap();
    assert_eq!((info.registers, info.max_threads_per_block), (32, 1024));
}

#[test]
fn kernel_failures_and_bad_launches_are_error_values() {
    let _s = serial();
    let gpu = open();
    let module = gpu.load_ptx(SAXPY_PTX).unwrap();
    // Safety (all): the kernels touch no memory.
    let trapped = unsafe { module.launch(&TRAPS, LaunchConfig::new(1, 32), ()) }.unwrap_err();
    assert_eq!(
        trapped,
        CudaError::Driver {
            call: "cuCtxSynchronize",
            code: 719,
            name: "CUDA_ERROR_LAUNCH_FAILED".into(),
            description: "unspecified launch failure".into(),
        }
    );
    assert_eq!(
        trapped.to_string(),
        "cuCtxSynchronize failed: CUDA_ERROR_LAUNCH_FAILED (719): unspecified launch failure"
    );
    let too_big =
        unsafe { module.launch(&TINY_KERNEL, LaunchConfig::new(1, 128), ()) }.unwrap_err();
    assert_eq!(
        too_big,
        CudaError::BlockTooLargeForKernel {
            kernel: "tiny_kernel".into(),
            threads: 128,
            max: 64
        }
    );
    let invalid = unsafe { module.launch(&TINY_KERNEL, LaunchConfig::new(0, 1), ()) }.unwrap_err();
    assert!(
        matches!(invalid, CudaError::InvalidConfig(_)),
        "{invalid:?}"
    );
    let other = gpu
        .load_ptx(".visible .entry something_else()\n{\n ret;\n}\n")
        .unwrap();
    let missing = unsafe { other.launch(&TRAPS, LaunchConfig::new(1, 1), ()) }.unwrap_err();
    assert_eq!(
        missing,
        CudaError::KernelNotFound {
            name: "traps".into()
        }
    );
}

#[test]
fn device_runs_on_the_gpu_and_refuses_foreign_buffers() {
    let _s = serial();
    let gpu = open();
    let device = Device::gpu(gpu.load_ptx(SAXPY_PTX).unwrap());
    assert!(device.is_gpu());
    assert_eq!(device.describe(), "GPU 0: rustg fake GPU (sm_86)");
    let x = device.upload(&[1.0f32, 2.0, 3.0]).unwrap();
    let mut y = device.upload(&[10.0f32, 20.0, 30.0]).unwrap();
    // Safety: one thread per element.
    unsafe {
        device.launch(
            &SAXPY,
            LaunchConfig::for_elements(3, 32),
            (0.5f32, &x, &mut y),
        )
    }
    .unwrap();
    assert_eq!(y.to_vec().unwrap(), vec![10.5, 21.0, 31.5]);

    let emulator = Device::emulator();
    let host_x = emulator.upload(&[1.0f32]).unwrap();
    let mut host_y = emulator.upload(&[1.0f32]).unwrap();
    // Safety: refused before launching.
    let err = unsafe {
        device.launch(
            &SAXPY,
            LaunchConfig::new(1, 1),
            (0.5f32, &host_x, &mut host_y),
        )
    }
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("a Buffer made by the emulator Device was passed to a GPU launch"),
        "{err}"
    );
    // Safety: refused before launching.
    let err =
        unsafe { emulator.launch(&SAXPY, LaunchConfig::new(1, 1), (0.5f32, &x, &mut host_y)) }
            .unwrap_err();
    assert!(
        err.to_string().contains("passed to an emulated launch"),
        "{err}"
    );
    // The emulator runs the same launch on its own buffers.
    // Safety: one thread per element.
    unsafe {
        emulator.launch(
            &SAXPY,
            LaunchConfig::new(1, 1),
            (0.5f32, &host_x, &mut host_y),
        )
    }
    .unwrap();
    assert_eq!(host_y.to_vec().unwrap(), vec![1.5]);
}

#[test]
fn compiled_kernels_are_found_under_target_rustg() {
    let root = std::env::temp_dir().join(format!("rustg-find-kernels-{}", std::process::id()));
    let rustg = root.join("target").join("rustg");
    let nested = root.join("crates").join("app");
    std::fs::create_dir_all(&nested).unwrap();
    for (arch, file) in [
        ("sm_70", "my_kernels.ptx"),
        ("sm_80", "my_kernels.ptx"),
        ("sm_90", "my_kernels.ptx"),
    ] {
        std::fs::create_dir_all(rustg.join(arch)).unwrap();
        std::fs::write(rustg.join(arch).join(file), "// ptx").unwrap();
    }
    // sm_86 has no build of its own: the highest lower arch's PTX (JIT-compiled forward).
    assert_eq!(
        find_kernels("my-kernels", "sm_86", &nested).unwrap(),
        rustg.join("sm_80/my_kernels.ptx")
    );
    // An exact arch prefers the fatbin.
    std::fs::write(rustg.join("sm_90").join("my_kernels.fatbin"), b"fatbin").unwrap();
    assert_eq!(
        find_kernels("my_kernels", "sm_90", &nested).unwrap(),
        rustg.join("sm_90/my_kernels.fatbin")
    );
    match find_kernels("my_kernels", "sm_60", &nested).unwrap_err() {
        CudaError::KernelsNotFound {
            crate_name,
            arch,
            searched,
        } => {
            assert_eq!(
                (crate_name.as_str(), arch.as_str()),
                ("my_kernels", "sm_60")
            );
            assert!(searched.contains(&rustg), "{searched:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    std::fs::remove_dir_all(&root).unwrap();
}
