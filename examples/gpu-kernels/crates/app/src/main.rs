//! Runs the four example kernels on the GPU when there is one (with the PTX `cargo g build`
//! made), else on rustg's host emulator, and checks each against the CPU.
//!
//! The output is the same on both (only the `device:` line differs): the kernels do the same
//! float operations in the same order either way. Exit status 1 if a check fails, 2 if a launch
//! fails. `RUSTG_DEVICE=emulator` forces the emulator.

use std::process::ExitCode;

use gpu_kernels::{cpu, pseudo_random};
use rustg::Device;

fn main() -> ExitCode {
    // Look for target/rustg from the executable's folder (target/<profile>/), which also works
    // when the built workspace is copied to a GPU machine, then from the source tree.
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_owned()));
    let mut device = Device::auto("gpu-kernels", exe_dir.unwrap_or_default());
    if !device.is_gpu() && std::env::var_os("RUSTG_DEVICE").is_none() {
        let from_source = Device::auto("gpu-kernels", env!("CARGO_MANIFEST_DIR"));
        if from_source.is_gpu() {
            device = from_source;
        }
    }
    println!("device: {}", device.describe());
    match run(&device) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(device: &Device) -> Result<bool, rustg::Error> {
    let mut ok = true;
    let mut report = |name: &str, passed: bool, detail: String| {
        println!(
            "{name:<10} {} {detail}",
            if passed { "ok  " } else { "FAIL" }
        );
        ok &= passed;
    };

    let n = 1 << 18;
    let x = pseudo_random(n, 11, -1.0, 1.0);
    let y = pseudo_random(n, 12, -1.0, 1.0);
    let got = gpu_kernels::saxpy(device, 2.5, &x, &y)?;
    let checksum: f64 = got.iter().map(|&v| f64::from(v)).sum();
    report(
        "saxpy",
        got == cpu::saxpy(2.5, &x, &y),
        format!("n={n} checksum={checksum:.6}"),
    );

    // Small integers: every partial sum stays below 2^24, so float addition is exact.
    let ints: Vec<f32> = (0..n).map(|i| (i % 64) as f32).collect();
    let total = gpu_kernels::sum(device, &ints)?;
    report(
        "sum",
        f64::from(total) == cpu::sum(&ints),
        format!("n={n} sum={total}"),
    );

    let values = pseudo_random(n, 13, -0.5, 10.5);
    let bins = gpu_kernels::histogram(device, &values, 0.0, 10.0, 20)?;
    report(
        "histogram",
        bins == cpu::histogram(&values, 0.0, 10.0, 20),
        format!("n={n} counted={} bins={bins:?}", bins.iter().sum::<u32>()),
    );

    let (rows, cols) = (100, 250);
    let m = pseudo_random(rows * cols, 14, 0.0, 1.0);
    let t = gpu_kernels::transpose(device, &m, rows as u32, cols as u32)?;
    report(
        "transpose",
        t == cpu::transpose(&m, rows, cols),
        format!("{rows}x{cols}"),
    );
    Ok(ok)
}
