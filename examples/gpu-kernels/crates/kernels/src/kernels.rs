//! The GPU kernels. This file is written in the rustg kernel dialect only
//! (docs/kernel-dialect.md): it compiles for the host through the `rustg` crate (emulated
//! launches, the tests) and for `nvptx64-nvidia-cuda` through `rustg-core` (`cargo g build`,
//! scripts/build-ptx-by-hand.sh), from the same source.

use rustg::{Slice, SliceMut};

/// Threads per block `block_sum` is written for: its shared array has one slot per thread and
/// the tree halves it down to one.
pub const REDUCE_BLOCK: u32 = 256;

/// Most bins `histogram` counts (they live in shared memory, one block-private copy each).
pub const MAX_BINS: usize = 256;

/// Side of the square tile `transpose` stages through shared memory.
pub const TILE: usize = 32;

/// `y[i] = a * x[i] + y[i]` for every `i` of the shorter of the two (BLAS's saxpy), as a
/// grid-stride loop: any grid covers any length.
#[rustg::kernel]
pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {
    let n = x.len().min(y.len());
    for i in (rustg::global_idx_x()..n).step_by(rustg::grid_stride_x()) {
        y[i] += a * x[i];
    }
}

/// Each block sums its grid-stride share of `input` into `partials[block]`: every thread adds
/// up its elements, then the block halves a shared array of per-thread sums until one is left.
/// Launch with `REDUCE_BLOCK` threads per block and `partials.len()` blocks; a second launch with
/// one block over the partials finishes the sum.
// The tree below needs exactly REDUCE_BLOCK threads: another block size must stop the launch
// (a trap, a launch error on the host), not return a wrong sum.
#[rustg::lint(allow(gpu_panic))]
#[rustg::kernel]
pub fn block_sum(input: Slice<f32>, mut partials: SliceMut<f32>) {
    assert!(rustg::block_dim_x() == REDUCE_BLOCK);
    let mut cache = rustg::shared_array!(f32, REDUCE_BLOCK as usize);
    let t = rustg::thread_idx_x() as usize;
    let mut acc = 0.0f32;
    for i in (rustg::global_idx_x()..input.len()).step_by(rustg::grid_stride_x()) {
        acc += input[i];
    }
    cache[t] = acc;
    rustg::sync_threads();
    let mut half = REDUCE_BLOCK as usize / 2;
    while half > 0 {
        if t < half {
            cache[t] += cache[t + half];
        }
        // Outside the `if`: every thread of the block reaches every barrier.
        rustg::sync_threads();
        half /= 2;
    }
    if t == 0 {
        partials[rustg::block_idx_x() as usize] = cache[0];
    }
}

/// The bin of `v` among `bins` equal bins over `[lo, hi)`, or `None` outside (and for NaN).
#[rustg::device]
pub fn bin_of(v: f32, lo: f32, hi: f32, bins: usize) -> Option<usize> {
    if v >= lo && v < hi {
        // Rounding at the top edge can land on `bins`: clamp into the last bin.
        let b = ((v - lo) / (hi - lo) * bins as f32) as usize;
        Some(b.min(bins - 1))
    } else {
        None
    }
}

/// Adds the count of `values` in each of `bins.len()` equal bins over `[lo, hi)` to `bins`.
/// Each block counts into its own shared-memory copy with shared atomics, then adds its copy to
/// `bins` with one global atomic per non-empty bin, so global atomics do not grow with the input.
/// At most `MAX_BINS` bins.
#[rustg::kernel]
pub fn histogram(values: Slice<f32>, lo: f32, hi: f32, bins: SliceMut<u32>) {
    let mut local = rustg::shared_array!(u32, MAX_BINS);
    let t = rustg::thread_idx_x() as usize;
    let stride = rustg::block_dim_x() as usize;
    let nbins = bins.len().min(MAX_BINS);
    for b in (t..nbins).step_by(stride) {
        local[b] = 0;
    }
    rustg::sync_threads();
    for i in (rustg::global_idx_x()..values.len()).step_by(rustg::grid_stride_x()) {
        if let Some(b) = bin_of(values[i], lo, hi, nbins) {
            local.atomic_add(b, 1);
        }
    }
    rustg::sync_threads();
    for b in (t..nbins).step_by(stride) {
        let count = local[b];
        if count > 0 {
            bins.atomic_add(b, count);
        }
    }
}

/// `output` (cols x rows) = the transpose of `input` (rows x cols), both row-major. Each block
/// moves one `TILE` x `TILE` tile through shared memory, so both the reads and the writes walk
/// rows (coalesced on a GPU); the tile has one padding column so a column of it spans all 32
/// shared-memory banks. Launch with blocks of (TILE, k) threads over a grid of
/// (ceil(cols / TILE), ceil(rows / TILE)) blocks.
#[rustg::kernel]
pub fn transpose(input: Slice<f32>, rows: u32, cols: u32, mut output: SliceMut<f32>) {
    let mut tile = rustg::shared_array!(f32, TILE * (TILE + 1));
    let (rows, cols) = (rows as usize, cols as usize);
    let col0 = rustg::block_idx_x() as usize * TILE;
    let row0 = rustg::block_idx_y() as usize * TILE;
    let tx = rustg::thread_idx_x() as usize;
    let step = rustg::block_dim_y() as usize;
    for j in (rustg::thread_idx_y() as usize..TILE).step_by(step) {
        let (r, c) = (row0 + j, col0 + tx);
        if r < rows && c < cols {
            tile[j * (TILE + 1) + tx] = input[r * cols + c];
        }
    }
    rustg::sync_threads();
    for j in (rustg::thread_idx_y() as usize..TILE).step_by(step) {
        let (r, c) = (col0 + j, row0 + tx);
        if r < cols && c < rows {
            output[r * rows + c] = tile[tx * (TILE + 1) + j];
        }
    }
}
