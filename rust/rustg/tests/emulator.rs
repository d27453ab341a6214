//! The host emulator, end to end through `#[rustg::kernel]` launch handles.

use std::sync::atomic::{AtomicUsize, Ordering};

use rustg::{Dim3, EmulatorOptions, LaunchConfig, LaunchError, Slice, SliceMut};

#[rustg::kernel]
pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {
    let i = rustg::global_idx_x();
    if i < y.len() {
        y[i] += a * x[i];
    }
}

#[test]
fn saxpy_matches_the_cpu() {
    let n = 1000;
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let mut y: Vec<f32> = (0..n).map(|i| (2 * i) as f32).collect();
    let expected: Vec<f32> = x.iter().zip(&y).map(|(x, y)| 0.5 * x + y).collect();
    // Safety: one thread per element.
    unsafe {
        rustg::launch_with(
            &SAXPY,
            LaunchConfig::for_elements(n, 128),
            (0.5f32, &x, &mut y),
        )
    }
    .unwrap();
    assert_eq!(y, expected);
}

#[test]
fn the_launch_handle_describes_the_kernel() {
    assert_eq!(SAXPY.name(), "saxpy");
    assert_eq!(SAXPY.module_path(), "emulator");
    assert_eq!(
        SAXPY.params(),
        &[("a", "f32"), ("x", "Slice<f32>"), ("y", "SliceMut<f32>")]
    );
}

/// Every (block, thread) pair of a 3-D launch runs exactly once, with the right indices.
#[rustg::kernel]
pub fn record_indices(out: SliceMut<u32>) {
    let t = rustg::thread_idx();
    let b = rustg::block_idx();
    let bd = rustg::block_dim();
    let gd = rustg::grid_dim();
    assert!(t.x < bd.x && t.y < bd.y && t.z < bd.z);
    assert!(b.x < gd.x && b.y < gd.y && b.z < gd.z);
    let threads = (bd.x * bd.y * bd.z) as usize;
    let block_linear = (b.x + gd.x * (b.y + gd.y * b.z)) as usize;
    let thread_linear = (t.x + bd.x * (t.y + bd.y * t.z)) as usize;
    assert_eq!(rustg::lane_id() as usize, thread_linear % 32);
    out.atomic_add(block_linear * threads + thread_linear, 1);
}

#[test]
fn every_thread_of_a_3d_grid_runs_once() {
    let config = LaunchConfig::new((3, 2, 2), (4, 2, 3));
    let mut hits = vec![0u32; (config.grid.count() * config.block.count()) as usize];
    // Safety: atomics only.
    unsafe { rustg::launch_with(&RECORD_INDICES, config, (&mut hits,)) }.unwrap();
    assert!(hits.iter().all(|&h| h == 1), "{hits:?}");
}

#[rustg::kernel]
pub fn block_sum(input: Slice<f32>, mut partials: SliceMut<f32>) {
    let mut cache = rustg::shared_array!(f32, 256);
    let t = rustg::thread_idx_x() as usize;
    let mut acc = 0.0f32;
    for i in (rustg::global_idx_x()..input.len()).step_by(rustg::grid_stride_x()) {
        acc += input[i];
    }
    cache[t] = acc;
    rustg::sync_threads();
    let mut half = rustg::block_dim_x() as usize / 2;
    while half > 0 {
        if t < half {
            cache[t] += cache[t + half];
        }
        rustg::sync_threads();
        half /= 2;
    }
    if t == 0 {
        partials[rustg::block_idx_x() as usize] = cache[0];
    }
}

#[test]
fn a_shared_memory_reduction_sums_exactly() {
    // Integers as floats: every partial sum is exact, so the result must be too.
    let input: Vec<f32> = (0..10_000).map(|i| (i % 97) as f32).collect();
    let mut partials = vec![0.0f32; 8];
    // Safety: each block writes its own partial; shared memory is synchronised.
    unsafe { rustg::launch(&BLOCK_SUM, 8, 256, (&input, &mut partials)) }.unwrap();
    let total: f32 = partials.iter().sum();
    assert_eq!(total, input.iter().sum::<f32>());
}

/// Shared memory is per block and starts zeroed in every block; `sync_threads` orders it.
#[rustg::kernel]
pub fn shared_is_per_block(out: SliceMut<u32>) {
    let mut s = rustg::shared_array!(u32, 64);
    let t = rustg::thread_idx_x() as usize;
    let b = rustg::block_idx_x();
    assert_eq!(s[t], 0, "shared memory must start zeroed in each block");
    s[t] = b * 1000 + t as u32;
    rustg::sync_threads();
    let n = rustg::block_dim_x() as usize;
    let neighbour = s[(t + 1) % n];
    out.atomic_add(
        b as usize,
        u32::from(neighbour == b * 1000 + ((t + 1) % n) as u32),
    );
}

#[test]
fn shared_memory_is_private_to_a_block_and_fresh() {
    let mut ok = vec![0u32; 6];
    let options = EmulatorOptions {
        parallel_blocks: 3,
        ..EmulatorOptions::default()
    };
    // Safety: atomics only.
    unsafe {
        rustg::launch_with_options(
            &SHARED_IS_PER_BLOCK,
            LaunchConfig::new(6, 64),
            (&mut ok,),
            &options,
        )
    }
    .unwrap();
    assert_eq!(ok, vec![64; 6]);
}

/// # Safety
/// `counter` must be valid for the launch.
#[rustg::kernel]
pub unsafe fn atomics(ints: SliceMut<i64>, floats: SliceMut<f32>, counter: *mut u32) {
    let g = rustg::global_idx_x() as i64;
    ints.atomic_max(0, g);
    ints.atomic_min(1, -g);
    ints.atomic_add(2, g);
    ints.atomic_sub(3, 1);
    ints.atomic_or(4, 1 << (g % 60));
    floats.atomic_add(0, 0.5);
    // A CAS loop: the classic way to build any atomic update.
    let mut old = unsafe { rustg::atomic_add(counter, 0) };
    loop {
        let seen = unsafe { rustg::atomic_cas(counter, old, old + 2) };
        if seen == old {
            break;
        }
        old = seen;
    }
}

#[test]
fn atomics_from_many_threads_lose_no_update() {
    let mut ints = vec![i64::MIN, i64::MAX, 0, 0, 0];
    let mut floats = vec![0.0f32];
    let mut counter = 0u32;
    let threads = 4 * 96;
    // Safety: atomics only; `counter` outlives the launch.
    unsafe {
        rustg::launch(
            &ATOMICS,
            4,
            96,
            (&mut ints, &mut floats, std::ptr::addr_of_mut!(counter)),
        )
    }
    .unwrap();
    let n = threads as i64;
    assert_eq!(ints[0], n - 1);
    assert_eq!(ints[1], -(n - 1));
    assert_eq!(ints[2], n * (n - 1) / 2);
    assert_eq!(ints[3], -n);
    assert_eq!(ints[4], (1i64 << 60) - 1);
    assert_eq!(floats[0], 0.5 * threads as f32);
    assert_eq!(counter, 2 * threads);
}

#[rustg::kernel]
pub fn panics_in_one_thread(out: SliceMut<u32>) {
    let t = rustg::thread_idx_x();
    if rustg::block_idx_x() == 1 && t == 5 {
        panic!("thread five gives up");
    }
    // The other threads wait here for thread five, which never comes.
    rustg::sync_threads();
    out.atomic_add(0, 1);
}

#[test]
fn a_panicking_thread_is_an_error_naming_it_and_nothing_hangs() {
    let mut out = vec![0u32];
    // Safety: atomics only.
    let err = unsafe { rustg::launch(&PANICS_IN_ONE_THREAD, 3, 32, (&mut out,)) }.unwrap_err();
    assert_eq!(
        err,
        LaunchError::ThreadPanicked {
            kernel: "panics_in_one_thread",
            block: Dim3::new(1, 0, 0),
            thread: Dim3::new(5, 0, 0),
            message: "thread five gives up".into(),
        }
    );
    assert!(
        err.to_string()
            .contains("block (1, 0, 0), thread (5, 0, 0)"),
        "{err}"
    );
}

#[rustg::kernel]
pub fn reads_past_the_end(x: Slice<f32>) {
    let _ = x[rustg::global_idx_x()];
}

#[test]
fn an_out_of_bounds_index_fails_the_launch() {
    let x = vec![1.0f32; 40];
    // Safety: reads only.
    let err = unsafe { rustg::launch(&READS_PAST_THE_END, 2, 32, (&x,)) }.unwrap_err();
    match err {
        LaunchError::ThreadPanicked {
            block,
            thread,
            message,
            ..
        } => {
            assert_eq!(block, Dim3::new(1, 0, 0));
            assert!(thread.x >= 8, "{thread}");
            assert!(
                message.contains("index out of bounds: the len is 40"),
                "{message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[rustg::kernel]
pub fn barrier_after_early_return(n: u32) {
    if rustg::thread_idx_x() >= n {
        return;
    }
    rustg::sync_threads();
}

#[test]
fn a_barrier_in_divergent_code_is_reported() {
    // Safety: touches no memory.
    let err = unsafe { rustg::launch(&BARRIER_AFTER_EARLY_RETURN, 1, 32, (20u32,)) }.unwrap_err();
    match err {
        LaunchError::BarrierDivergence {
            block,
            thread,
            calls,
            expected,
            ..
        } => {
            assert_eq!(block, Dim3::new(0, 0, 0));
            assert_eq!(thread, Dim3::new(20, 0, 0));
            assert_eq!((calls, expected), (0, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Uniform control flow is fine.
    // Safety: touches no memory.
    unsafe { rustg::launch(&BARRIER_AFTER_EARLY_RETURN, 1, 32, (32u32,)) }.unwrap();
}

#[test]
fn impossible_shapes_are_rejected_before_running() {
    let mut out = vec![0u32];
    for (grid, block) in [
        (Dim3::new(0, 1, 1), Dim3::new(32, 1, 1)),
        (Dim3::new(1, 1, 1), Dim3::new(64, 32, 1)),
    ] {
        // Safety: never runs.
        let err =
            unsafe { rustg::launch(&PANICS_IN_ONE_THREAD, grid, block, (&mut out,)) }.unwrap_err();
        assert!(matches!(err, LaunchError::InvalidConfig(_)), "{err:?}");
    }
    let too_deep = LaunchConfig::new(1, (1, 1, 65));
    assert!(too_deep
        .validate()
        .unwrap_err()
        .to_string()
        .contains("block z extent 65 exceeds the maximum 64"));
    assert_eq!(out, vec![0]);
}

#[rustg::kernel]
pub fn greedy() {
    let s = rustg::shared_array!(u8, 40000);
    let t = rustg::shared_array!(u8, 20000);
    assert!(s.len() + t.len() > 0);
}

#[test]
fn too_much_shared_memory_is_an_error() {
    // Safety: touches no memory.
    let err = unsafe { rustg::launch(&GREEDY, 1, 4, ()) }.unwrap_err();
    assert_eq!(
        err,
        LaunchError::SharedMemoryExceeded {
            kernel: "greedy",
            block: Dim3::new(0, 0, 0),
            requested: 60000,
            max: 49152
        }
    );
}

#[rustg::kernel]
pub fn reverse_in_dynamic_shared(data: SliceMut<u32>) {
    let mut buf = rustg::dynamic_shared_memory!(u32);
    let mut data = data;
    let t = rustg::thread_idx_x() as usize;
    let n = rustg::block_dim_x() as usize;
    assert_eq!(buf.len(), rustg::dynamic_shared_memory_bytes() as usize / 4);
    buf[t] = data[t];
    rustg::sync_threads();
    data[t] = buf[n - 1 - t];
}

#[test]
fn dynamic_shared_memory_is_sized_by_the_launch() {
    let mut data: Vec<u32> = (0..128).collect();
    let config = LaunchConfig::new(1, 128).with_shared_mem_bytes(128 * 4);
    // Safety: each thread writes its own element, after the barrier.
    unsafe { rustg::launch_with(&REVERSE_IN_DYNAMIC_SHARED, config, (&mut data,)) }.unwrap();
    assert_eq!(data, (0..128).rev().collect::<Vec<u32>>());
}

#[rustg::device]
fn square(x: f32) -> f32 {
    x * x
}

/// # Safety
/// `x` and `y` must be valid for `n` elements.
#[rustg::kernel]
pub unsafe fn raw_pointers(n: usize, x: *const f32, y: *mut f32) {
    let i = rustg::global_idx_x();
    if i < n {
        unsafe { *y.add(i) = square(*x.add(i)) };
    }
}

#[test]
fn unsafe_kernels_take_raw_pointers() {
    let x = [1.0f32, 2.0, 3.0];
    let mut y = [0.0f32; 3];
    let f: unsafe fn(usize, *const f32, *mut f32) = RAW_POINTERS.function();
    let _ = f;
    // Safety: the pointers cover n elements; one thread per element.
    unsafe { rustg::launch(&RAW_POINTERS, 1, 32, (3usize, x.as_ptr(), y.as_mut_ptr())) }.unwrap();
    assert_eq!(y, [1.0, 4.0, 9.0]);
}

#[test]
#[should_panic(expected = "rustg::thread_idx_x() called outside a kernel launch")]
fn device_functions_outside_a_launch_say_so() {
    rustg::thread_idx_x();
}

static BODIES: AtomicUsize = AtomicUsize::new(0);

#[rustg::gpu_test(grid = (2, 3), block = (8, 4))]
fn gpu_test_runs_the_body_in_every_thread() {
    assert_eq!(rustg::grid_dim(), Dim3::new(2, 3, 1));
    assert_eq!(rustg::block_dim(), Dim3::new(8, 4, 1));
    BODIES.fetch_add(1, Ordering::SeqCst);
    if rustg::block_idx() == Dim3::new(1, 2, 0) && rustg::thread_idx() == Dim3::new(7, 3, 0) {
        // The last thread of the last block: a barrier-free check that everything before ran is
        // impossible, so just check the count is plausible.
        assert!(BODIES.load(Ordering::SeqCst) >= 1);
    }
}

#[rustg::gpu_test(block = 16, shared_mem = 64)]
fn gpu_test_with_dynamic_shared_memory() {
    let mut buf = rustg::dynamic_shared_memory!(u32);
    assert_eq!(buf.len(), 16);
    let t = rustg::thread_idx_x() as usize;
    buf[t] = t as u32;
    rustg::sync_threads();
    assert_eq!(buf[15 - t], 15 - t as u32);
}

#[rustg::gpu_test(grid = 2, block = 4)]
#[should_panic(
    expected = "gpu_test `gpu_test_failures_name_the_thread` failed: kernel \
                           `gpu_test_failures_name_the_thread` panicked in block (1, 0, 0), thread (3, 0, 0): boom"
)]
fn gpu_test_failures_name_the_thread() {
    if rustg::block_idx_x() == 1 && rustg::thread_idx_x() == 3 {
        panic!("boom");
    }
}

#[test]
fn blocks_run_in_parallel_groups_but_each_once() {
    // More blocks than groups and an odd count: every block is still visited exactly once.
    let config = LaunchConfig::new(7, (2, 2, 2));
    let mut hits = vec![0u32; (config.grid.count() * config.block.count()) as usize];
    for groups in [1, 2, 3, 16] {
        hits.iter_mut().for_each(|h| *h = 0);
        let options = EmulatorOptions {
            parallel_blocks: groups,
            ..EmulatorOptions::default()
        };
        // Safety: atomics only.
        unsafe { rustg::launch_with_options(&RECORD_INDICES, config, (&mut hits,), &options) }
            .unwrap();
        assert!(hits.iter().all(|&h| h == 1), "groups={groups}: {hits:?}");
    }
}
