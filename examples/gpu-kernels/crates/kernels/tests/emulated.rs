//! The kernels on rustg's host emulator against the CPU versions: the same checks the app runs
//! on a GPU.

use gpu_kernels::{cpu, pseudo_random, MAX_BINS, REDUCE_BLOCK, SAXPY};
use rustg::{Device, Dim3, LaunchConfig, LaunchError};

fn emulator() -> Device {
    Device::emulator()
}

#[test]
fn saxpy_matches_the_cpu_for_awkward_lengths() {
    let device = emulator();
    for n in [0, 1, 255, 256, 257, 10_000, 40_001] {
        let x = pseudo_random(n, 1, -10.0, 10.0);
        let y = pseudo_random(n, 2, -10.0, 10.0);
        let got = gpu_kernels::saxpy(&device, 1.5, &x, &y).unwrap();
        // Same operations in the same order: equal to the bit.
        assert_eq!(got, cpu::saxpy(1.5, &x, &y), "n = {n}");
    }
}

#[test]
fn sum_of_integers_is_exact() {
    let device = emulator();
    // Integer values below 2^24 in total: every float addition on the way is exact.
    let input: Vec<f32> = (0..100_000).map(|i| (i % 113) as f32).collect();
    assert_eq!(
        f64::from(gpu_kernels::sum(&device, &input).unwrap()),
        cpu::sum(&input)
    );
    assert_eq!(gpu_kernels::sum(&device, &[]).unwrap(), 0.0);
    assert_eq!(gpu_kernels::sum(&device, &[42.0]).unwrap(), 42.0);
}

#[test]
fn sum_of_random_floats_is_close() {
    let device = emulator();
    let input = pseudo_random(250_000, 3, 0.0, 1.0);
    let got = f64::from(gpu_kernels::sum(&device, &input).unwrap());
    let want = cpu::sum(&input);
    assert!((got - want).abs() / want < 1e-5, "{got} vs {want}");
}

#[test]
fn histogram_matches_the_cpu() {
    let device = emulator();
    let mut values = pseudo_random(50_000, 4, -1.0, 11.0);
    values.extend([f32::NAN, f32::INFINITY, 10.0, 0.0, 9.999_999]);
    for bins in [1, 7, 64, MAX_BINS] {
        let got = gpu_kernels::histogram(&device, &values, 0.0, 10.0, bins).unwrap();
        assert_eq!(
            got,
            cpu::histogram(&values, 0.0, 10.0, bins),
            "bins = {bins}"
        );
    }
}

#[test]
fn histogram_counts_every_value_in_range_once() {
    let device = emulator();
    let values: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
    let counts = gpu_kernels::histogram(&device, &values, 0.0, 1.0, 10).unwrap();
    assert_eq!(counts, vec![100; 10]);
}

#[test]
fn transpose_matches_the_cpu_for_ragged_shapes() {
    let device = emulator();
    for (rows, cols) in [(1, 1), (3, 70), (64, 32), (33, 65)] {
        let m = pseudo_random(rows * cols, 5, 0.0, 1.0);
        let got = gpu_kernels::transpose(&device, &m, rows as u32, cols as u32).unwrap();
        assert_eq!(got, cpu::transpose(&m, rows, cols), "{rows} x {cols}");
    }
}

#[test]
fn block_sum_refuses_a_block_it_was_not_written_for() {
    let input = vec![1.0f32; 64];
    let mut partials = vec![0.0f32; 1];
    // Safety: the kernel fails its assertion before touching memory.
    let err = unsafe {
        rustg::launch(
            &gpu_kernels::BLOCK_SUM,
            1,
            REDUCE_BLOCK / 2,
            (&input, &mut partials),
        )
    }
    .unwrap_err();
    match err {
        LaunchError::ThreadPanicked {
            kernel,
            block,
            message,
            ..
        } => {
            assert_eq!((kernel, block), ("block_sum", Dim3::new(0, 0, 0)));
            assert!(message.contains("assertion failed"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn kernels_launch_directly_on_host_slices_too() {
    let x = vec![2.0f32; 1000];
    let mut y = vec![1.0f32; 1000];
    // Safety: grid-stride saxpy writes each element from one thread.
    unsafe { rustg::launch_with(&SAXPY, LaunchConfig::new(3, 64), (0.25f32, &x, &mut y)) }.unwrap();
    assert!(y.iter().all(|&v| v == 1.5));
}

#[rustg::gpu_test(grid = 2, block = 32)]
fn bin_of_agrees_with_the_cpu_in_every_thread() {
    let v = rustg::global_idx_x() as f32 / 64.0;
    let expected = cpu::histogram(&[v], 0.0, 1.0, 8)
        .iter()
        .position(|&c| c == 1);
    assert_eq!(gpu_kernels::kernels::bin_of(v, 0.0, 1.0, 8), expected);
}
