//! `hello-gpu`: reads numbers from stdin and prints their mean, range and histogram.
//!
//! Usage: `hello-gpu [BINS] < numbers.txt`

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let bin_count = match std::env::args().nth(1).map(|arg| arg.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("hello-gpu: BINS must be a positive integer");
            return ExitCode::from(2);
        }
    };
    let mut text = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("hello-gpu: cannot read stdin: {err}");
        return ExitCode::FAILURE;
    }
    let samples = match app::parse_samples(&text) {
        Ok(samples) => samples,
        Err(err) => {
            eprintln!("hello-gpu: {err}");
            return ExitCode::FAILURE;
        }
    };
    let Some(summary) = app::summarize(&samples, bin_count) else {
        eprintln!("hello-gpu: no samples on stdin");
        return ExitCode::FAILURE;
    };
    println!(
        "count {}  mean {:.3}  min {:.3}  max {:.3}",
        summary.count, summary.mean, summary.min, summary.max
    );
    let scale = (summary.count as u32 / 40).max(1);
    print!("{}", app::render_bins(&summary, scale));
    ExitCode::SUCCESS
}
