//! The kernels. Each one is written as a GPU kernel would be: per-thread work over a grid-stride
//! loop, block-local scratch ("shared memory") for cooperation inside a block, and commutative
//! updates where threads meet (the `+=` on a histogram bin is an atomic add on a GPU).

use crate::grid::Grid;

/// `y[i] = a * x[i] + y[i]` for every `i` (BLAS's saxpy).
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn saxpy(grid: Grid, a: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "saxpy: x and y differ in length");
    grid.launch(|t| {
        for i in t.indices(y.len()) {
            y[i] += a * x[i];
        }
    });
}

/// The sum of `input`, reduced the way a shared-memory reduction kernel does it: every thread
/// accumulates its grid-stride share, each block halves its scratch array until one partial sum
/// is left, and the per-block partials are added at the end (a second launch on a GPU).
///
/// # Panics
/// If the grid's block size is not a power of two (the tree reduction halves it).
pub fn reduce_sum(grid: Grid, input: &[f32]) -> f32 {
    let width = grid.threads_per_block;
    assert!(
        width.is_power_of_two(),
        "reduce_sum: block size {width} is not a power of two"
    );
    let mut partials = vec![0.0f32; grid.blocks];
    let mut shared = vec![0.0f32; width];
    grid.launch(|t| {
        shared[t.thread] = t.indices(input.len()).map(|i| input[i]).sum();
        // The last thread of a block is where the block's barrier-separated steps run: on the
        // host, the block's other threads have all stored their share by then.
        if t.thread + 1 == width {
            let mut half = width / 2;
            while half > 0 {
                for lane in 0..half {
                    shared[lane] += shared[lane + half];
                }
                half /= 2;
            }
            partials[t.block] = shared[0];
        }
    });
    partials.iter().sum()
}

/// Counts `values` into `bins.len()` equal-width bins over `[lo, hi)`. Values outside the range
/// (and NaN) are not counted; the number counted is returned.
///
/// # Panics
/// If there are no bins or the range is empty.
pub fn histogram(grid: Grid, values: &[f32], lo: f32, hi: f32, bins: &mut [u32]) -> u32 {
    assert!(!bins.is_empty(), "histogram: no bins");
    assert!(lo < hi, "histogram: empty range {lo}..{hi}");
    let scale = bins.len() as f32 / (hi - lo);
    let mut counted = 0;
    grid.launch(|t| {
        for i in t.indices(values.len()) {
            let v = values[i];
            if v >= lo && v < hi {
                // Rounding at the top edge can land on bins.len(): clamp into the last bin.
                let bin = (((v - lo) * scale) as usize).min(bins.len() - 1);
                bins[bin] += 1;
                counted += 1;
            }
        }
    });
    counted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saxpy_scales_and_adds() {
        let x = [1.0, 2.0, 3.0];
        let mut y = [10.0, 20.0, 30.0];
        saxpy(Grid::new(1, 2), 2.0, &x, &mut y);
        assert_eq!(y, [12.0, 24.0, 36.0]);
    }

    #[test]
    #[should_panic(expected = "differ in length")]
    fn saxpy_rejects_mismatched_lengths() {
        saxpy(Grid::new(1, 1), 1.0, &[1.0], &mut [1.0, 2.0]);
    }

    #[test]
    fn reduce_sum_of_small_integers_is_exact() {
        let input: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        assert_eq!(reduce_sum(Grid::new(3, 8), &input), 5050.0);
    }

    #[test]
    fn reduce_sum_of_nothing_is_zero() {
        assert_eq!(reduce_sum(Grid::new(2, 4), &[]), 0.0);
    }

    #[test]
    #[should_panic(expected = "not a power of two")]
    fn reduce_sum_needs_power_of_two_blocks() {
        reduce_sum(Grid::new(1, 6), &[1.0]);
    }

    #[test]
    fn histogram_counts_in_range_values_only() {
        let values = [0.0, 0.5, 0.99, 1.0, 1.5, 3.99, 4.0, -0.1, f32::NAN];
        let mut bins = [0u32; 4];
        let counted = histogram(Grid::new(2, 2), &values, 0.0, 4.0, &mut bins);
        assert_eq!(bins, [3, 2, 0, 1]);
        assert_eq!(counted, 6);
    }
}
