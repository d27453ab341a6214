//! Four GPU kernels written in Rust with rustg (in [`kernels`]), the host code that launches them
//! on a [`rustg::Device`] (the GPU when there is one, else rustg's host emulator), and plain CPU
//! versions ([`cpu`]) to check them against.

pub mod kernels;

pub use kernels::{BLOCK_SUM, HISTOGRAM, MAX_BINS, REDUCE_BLOCK, SAXPY, TILE, TRANSPOSE};

use rustg::{Device, Error, LaunchConfig};

/// Threads per block for the element-wise kernels.
const THREADS: u32 = 256;
/// Most blocks for the grid-stride kernels, which cover any length with any grid. 32 blocks of
/// 256 threads keep an H100 busy enough for an example, and keep emulated launches quick: the
/// emulator's cost is per block (one barrier round of 256 OS threads per `sync_threads`).
const MAX_BLOCKS: usize = 32;

fn grid_for(n: usize) -> u32 {
    n.div_ceil(THREADS as usize).clamp(1, MAX_BLOCKS) as u32
}

/// `a * x + y` on `device`.
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn saxpy(device: &Device, a: f32, x: &[f32], y: &[f32]) -> Result<Vec<f32>, Error> {
    assert_eq!(x.len(), y.len(), "saxpy: x and y differ in length");
    let xs = device.upload(x)?;
    let mut ys = device.upload(y)?;
    // Safety: each element is written by exactly one thread (grid-stride loop).
    unsafe {
        device.launch(
            &SAXPY,
            LaunchConfig::new(grid_for(x.len()), THREADS),
            (a, &xs, &mut ys),
        )?
    };
    ys.to_vec()
}

/// The sum of `input` on `device`: one launch reduces to one partial per block, a second launch
/// of one block reduces the partials.
pub fn sum(device: &Device, input: &[f32]) -> Result<f32, Error> {
    let blocks = grid_for(input.len());
    let values = device.upload(input)?;
    let mut partials = device.zeros::<f32>(blocks as usize)?;
    let mut total = device.zeros::<f32>(1)?;
    // Safety (both): each block writes only its own partial; shared memory is ordered by
    // sync_threads.
    unsafe {
        device.launch(
            &BLOCK_SUM,
            LaunchConfig::new(blocks, REDUCE_BLOCK),
            (&values, &mut partials),
        )?;
        device.launch(
            &BLOCK_SUM,
            LaunchConfig::new(1, REDUCE_BLOCK),
            (&partials, &mut total),
        )?;
    }
    Ok(total.to_vec()?[0])
}

/// Counts of `values` in `bins` equal bins over `[lo, hi)` on `device`.
///
/// # Panics
/// If `bins` is 0 or more than [`MAX_BINS`], or the range is empty.
pub fn histogram(
    device: &Device,
    values: &[f32],
    lo: f32,
    hi: f32,
    bins: usize,
) -> Result<Vec<u32>, Error> {
    assert!(
        (1..=MAX_BINS).contains(&bins),
        "histogram: {bins} bins (1..={MAX_BINS} supported)"
    );
    assert!(lo < hi, "histogram: empty range {lo}..{hi}");
    let input = device.upload(values)?;
    let mut counts = device.zeros::<u32>(bins)?;
    // Safety: bins are updated with atomics only; shared memory is ordered by sync_threads.
    unsafe {
        device.launch(
            &HISTOGRAM,
            LaunchConfig::new(grid_for(values.len()), THREADS),
            (&input, lo, hi, &mut counts),
        )?
    };
    counts.to_vec()
}

/// The transpose (cols x rows) of the row-major `rows` x `cols` matrix `input`, on `device`.
///
/// # Panics
/// If `input` does not hold `rows * cols` elements.
pub fn transpose(device: &Device, input: &[f32], rows: u32, cols: u32) -> Result<Vec<f32>, Error> {
    assert_eq!(
        input.len(),
        rows as usize * cols as usize,
        "transpose: input is not rows x cols"
    );
    let matrix = device.upload(input)?;
    let mut out = device.zeros::<f32>(input.len())?;
    let tile = TILE as u32;
    let config = LaunchConfig::new(
        (cols.div_ceil(tile).max(1), rows.div_ceil(tile).max(1)),
        (tile, 8),
    );
    // Safety: each output element is written by exactly one thread; the tile is ordered by
    // sync_threads.
    unsafe { device.launch(&TRANSPOSE, config, (&matrix, rows, cols, &mut out))? };
    out.to_vec()
}

/// The same computations on the CPU, written the obvious way.
pub mod cpu {
    pub fn saxpy(a: f32, x: &[f32], y: &[f32]) -> Vec<f32> {
        x.iter().zip(y).map(|(x, y)| y + a * x).collect()
    }

    /// Summed in f64: exact for the integer-valued inputs the tests use, and a tight reference
    /// for the rest.
    pub fn sum(input: &[f32]) -> f64 {
        input.iter().map(|&v| f64::from(v)).sum()
    }

    pub fn histogram(values: &[f32], lo: f32, hi: f32, bins: usize) -> Vec<u32> {
        let mut counts = vec![0; bins];
        for &v in values {
            if v >= lo && v < hi {
                let b = ((v - lo) / (hi - lo) * bins as f32) as usize;
                counts[b.min(bins - 1)] += 1;
            }
        }
        counts
    }

    pub fn transpose(input: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; input.len()];
        for r in 0..rows {
            for c in 0..cols {
                out[c * rows + r] = input[r * cols + c];
            }
        }
        out
    }
}

/// Deterministic test data: a xorshift64* stream of floats in `[lo, hi)`.
pub fn pseudo_random(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut state = seed.max(1);
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let unit =
                (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * unit
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_histogram_clamps_the_top_edge_and_skips_the_outside() {
        let values = [0.0, 0.5, 0.999_999_9, 1.0, -0.1, f32::NAN, 0.25];
        assert_eq!(cpu::histogram(&values, 0.0, 1.0, 4), vec![1, 1, 1, 1]);
    }

    #[test]
    fn cpu_transpose_swaps_rows_and_columns() {
        let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
        assert_eq!(cpu::transpose(&m, 2, 3), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn pseudo_random_is_deterministic_and_in_range() {
        let a = pseudo_random(1000, 7, -2.0, 3.0);
        assert_eq!(a, pseudo_random(1000, 7, -2.0, 3.0));
        assert_ne!(a, pseudo_random(1000, 8, -2.0, 3.0));
        assert!(a.iter().all(|&v| (-2.0..3.0).contains(&v)));
    }

    #[test]
    fn device_code_helpers_run_on_the_host_too() {
        assert_eq!(kernels::bin_of(0.5, 0.0, 1.0, 10), Some(5));
        assert_eq!(kernels::bin_of(1.0, 0.0, 1.0, 10), None);
        assert_eq!(kernels::bin_of(f32::NAN, 0.0, 1.0, 10), None);
    }
}
