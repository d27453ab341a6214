//! The app binary, run as a user would.

use std::process::Command;

fn run_app() -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gpu-kernels-app"))
        .env("RUSTG_DEVICE", "emulator")
        .output()
        .expect("the app runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn every_check_passes_on_the_emulator() {
    let (success, stdout) = run_app();
    assert!(success, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "device: host emulator");
    let names: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["saxpy", "sum", "histogram", "transpose"]);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.split_whitespace().nth(1) == Some("ok")),
        "{stdout}"
    );
}

#[test]
fn the_output_is_deterministic() {
    // What makes "same output on the GPU" a meaningful check: nothing varies run to run.
    assert_eq!(run_app().1, run_app().1);
}
