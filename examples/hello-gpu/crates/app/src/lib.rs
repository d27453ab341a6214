//! Summary statistics of a signal, computed with gpu-math's kernels.

use gpu_math::{histogram, reduce_sum, saxpy, Grid};
use std::fmt::Write;

/// Threads per block for every launch: a power of two, as `reduce_sum` needs.
pub const BLOCK: usize = 128;

/// What `hello-gpu` prints about its input.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub mean: f32,
    pub min: f32,
    pub max: f32,
    /// Counts over `[min, max]` in equal-width bins.
    pub bins: Vec<u32>,
}

/// Summarizes `samples` into `bin_count` histogram bins; `None` for an empty input.
pub fn summarize(samples: &[f32], bin_count: usize) -> Option<Summary> {
    if samples.is_empty() || bin_count == 0 {
        return None;
    }
    let grid = Grid::covering(samples.len(), BLOCK);
    let mean = reduce_sum(grid, samples) / samples.len() as f32;
    let min = samples.iter().copied().fold(f32::INFINITY, f32::min);
    let max = samples.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut bins = vec![0u32; bin_count];
    // The histogram range is half-open: widen it by one ulp-ish step so `max` is counted.
    let hi = if max > min {
        max + (max - min) * 1e-6
    } else {
        min + 1.0
    };
    histogram(grid, samples, min, hi, &mut bins);
    Some(Summary {
        count: samples.len(),
        mean,
        min,
        max,
        bins,
    })
}

/// Rescales `samples` in place to `gain * sample + offset` (saxpy with a constant `y`).
pub fn rescale(samples: &mut [f32], gain: f32, offset: f32) {
    let x = samples.to_vec();
    samples.fill(offset);
    saxpy(Grid::covering(samples.len(), BLOCK), gain, &x, samples);
}

/// Parses whitespace-separated numbers; the error names the first token that is not one.
pub fn parse_samples(text: &str) -> Result<Vec<f32>, String> {
    text.split_whitespace()
        .map(|token| {
            token
                .parse::<f32>()
                .map_err(|_| format!("not a number: {token:?}"))
        })
        .collect()
}

/// One bar per bin, `#` per `scale` samples: the text `hello-gpu` prints.
pub fn render_bins(summary: &Summary, scale: u32) -> String {
    let width = (summary.max - summary.min) / summary.bins.len() as f32;
    let mut out = String::new();
    for (i, count) in summary.bins.iter().enumerate() {
        let lo = summary.min + width * i as f32;
        let bar = "#".repeat((count / scale.max(1)) as usize);
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{lo:>10.3} | {count:>6} {bar}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_ramp() {
        let samples: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let summary = summarize(&samples, 5).unwrap();
        assert_eq!(summary.count, 10);
        assert_eq!(summary.mean, 4.5);
        assert_eq!((summary.min, summary.max), (0.0, 9.0));
        assert_eq!(summary.bins, vec![2, 2, 2, 2, 2]);
    }

    #[test]
    fn constant_input_lands_in_the_first_bin() {
        let summary = summarize(&[3.0; 7], 4).unwrap();
        assert_eq!(summary.bins, vec![7, 0, 0, 0]);
    }

    #[test]
    fn empty_input_has_no_summary() {
        assert_eq!(summarize(&[], 4), None);
    }

    #[test]
    fn rescale_applies_gain_then_offset() {
        let mut samples = vec![1.0, 2.0, 3.0];
        rescale(&mut samples, 2.0, -1.0);
        assert_eq!(samples, vec![1.0, 3.0, 5.0]);
    }

    #[test]
    fn parse_samples_reports_the_bad_token() {
        assert_eq!(parse_samples("1 2.5\n-3"), Ok(vec![1.0, 2.5, -3.0]));
        assert_eq!(
            parse_samples("1 two 3"),
            Err("not a number: \"two\"".to_string())
        );
    }
}
