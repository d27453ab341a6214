//! Runs the real `hello-gpu` binary the way a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello-gpu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hello-gpu");
    // The binary may exit before reading its input (a bad argument): a closed pipe is fine.
    let mut input = child.stdin.take().unwrap();
    match input.write_all(stdin.as_bytes()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {err}"),
        _ => drop(input),
    }
    child.wait_with_output().unwrap()
}

#[test]
fn prints_summary_and_histogram() {
    let out = run(&["2"], "1 2 3 4\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("count 4  mean 2.500  min 1.000  max 4.000")
    );
    assert_eq!(lines.next(), Some("     1.000 |      2 ##"));
    assert_eq!(lines.next(), Some("     2.500 |      2 ##"));
    assert_eq!(lines.next(), None);
}

#[test]
fn rejects_garbage_with_the_offending_token() {
    let out = run(&[], "1 x 3");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "hello-gpu: not a number: \"x\"\n"
    );
}

#[test]
fn rejects_a_bad_bin_count() {
    let out = run(&["0"], "1");
    assert_eq!(out.status.code(), Some(2));
}
