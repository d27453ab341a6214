//! Kernels must give the same answer for every launch shape: one thread, one block, more threads
//! than elements, and grids that leave a ragged tail.

use gpu_math::{histogram, reduce_sum, saxpy, Grid};

const SHAPES: [(usize, usize); 5] = [(1, 1), (1, 32), (4, 8), (7, 16), (64, 64)];

fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i % 17) as f32).collect()
}

#[test]
fn saxpy_matches_the_sequential_loop() {
    let x = ramp(1000);
    let y0: Vec<f32> = x.iter().map(|v| v * 0.5).collect();
    let expected: Vec<f32> = x.iter().zip(&y0).map(|(x, y)| 3.0 * x + y).collect();
    for (blocks, threads) in SHAPES {
        let mut y = y0.clone();
        saxpy(Grid::new(blocks, threads), 3.0, &x, &mut y);
        assert_eq!(y, expected, "grid {blocks}x{threads}");
    }
}

#[test]
fn reduce_sum_matches_the_sequential_sum() {
    // Small integers keep every partial sum exact in f32, so the order of additions is moot.
    let input = ramp(10_000);
    let expected: f32 = input.iter().sum();
    for (blocks, threads) in SHAPES {
        assert_eq!(
            reduce_sum(Grid::new(blocks, threads), &input),
            expected,
            "grid {blocks}x{threads}"
        );
    }
}

#[test]
fn histogram_bins_sum_to_the_count() {
    let values = ramp(5000);
    for (blocks, threads) in SHAPES {
        let mut bins = vec![0u32; 17];
        let counted = histogram(Grid::new(blocks, threads), &values, 0.0, 17.0, &mut bins);
        assert_eq!(counted, 5000);
        assert_eq!(bins.iter().sum::<u32>(), 5000);
        // 5000 = 294 * 17 + 2: values 0 and 1 appear once more than the rest.
        assert_eq!(bins[0], 295);
        assert_eq!(bins[1], 295);
        assert!(bins[2..].iter().all(|&b| b == 294));
    }
}

#[test]
fn covering_grid_gives_one_thread_per_element() {
    let grid = Grid::covering(1000, 128);
    assert!(grid.total_threads() >= 1000);
    let mut hits = vec![0u8; 1000];
    grid.launch(|t| {
        for i in t.indices(hits.len()) {
            hits[i] += 1;
        }
    });
    assert!(hits.iter().all(|&h| h == 1));
}
