//! A launch grid and the per-thread coordinates a kernel sees.

/// The coordinates of one thread in a one-dimensional launch (CUDA's `blockIdx.x`,
/// `threadIdx.x`, `blockDim.x` and `gridDim.x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thread {
    pub block: usize,
    pub thread: usize,
    pub block_dim: usize,
    pub grid_dim: usize,
}

impl Thread {
    /// This thread's index across the whole grid.
    pub fn global(&self) -> usize {
        self.block * self.block_dim + self.thread
    }

    /// The number of threads in the grid: the step of a grid-stride loop.
    pub fn stride(&self) -> usize {
        self.block_dim * self.grid_dim
    }

    /// The indices below `len` this thread owns in a grid-stride loop.
    pub fn indices(&self, len: usize) -> impl Iterator<Item = usize> {
        (self.global()..len).step_by(self.stride())
    }
}

/// A one-dimensional launch shape: `blocks` blocks of `threads_per_block` threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    pub blocks: usize,
    pub threads_per_block: usize,
}

impl Grid {
    /// A grid of `blocks` × `threads_per_block` threads.
    ///
    /// # Panics
    /// If either is zero: a launch with no threads is a bug in the caller.
    pub fn new(blocks: usize, threads_per_block: usize) -> Self {
        assert!(blocks > 0 && threads_per_block > 0, "empty launch grid");
        Grid {
            blocks,
            threads_per_block,
        }
    }

    /// Enough blocks of `threads_per_block` threads to give every one of `len` elements its own
    /// thread (at least one block, so empty inputs still launch).
    pub fn covering(len: usize, threads_per_block: usize) -> Self {
        Grid::new(len.div_ceil(threads_per_block).max(1), threads_per_block)
    }

    /// Runs `kernel` once for every thread of every block, blocks in order. This is the host
    /// stand-in for a launch: kernels written against it must not depend on the order.
    pub fn launch(&self, mut kernel: impl FnMut(Thread)) {
        for block in 0..self.blocks {
            for thread in 0..self.threads_per_block {
                kernel(Thread {
                    block,
                    thread,
                    block_dim: self.threads_per_block,
                    grid_dim: self.blocks,
                });
            }
        }
    }

    pub fn total_threads(&self) -> usize {
        self.blocks * self.threads_per_block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_visits_every_thread_once() {
        let grid = Grid::new(3, 4);
        let mut seen = vec![0u32; grid.total_threads()];
        grid.launch(|t| seen[t.global()] += 1);
        assert_eq!(seen, vec![1; 12]);
    }

    #[test]
    fn grid_stride_loop_partitions_the_input() {
        let grid = Grid::new(2, 3);
        let mut owner = [usize::MAX; 20];
        grid.launch(|t| {
            for i in t.indices(owner.len()) {
                assert_eq!(owner[i], usize::MAX, "index {i} owned twice");
                owner[i] = t.global();
            }
        });
        assert!(owner.iter().all(|&o| o < 6));
        assert_eq!(owner[7], 1);
    }

    #[test]
    fn covering_rounds_up_and_never_launches_nothing() {
        assert_eq!(Grid::covering(1000, 256).blocks, 4);
        assert_eq!(Grid::covering(1024, 256).blocks, 4);
        assert_eq!(Grid::covering(0, 256).blocks, 1);
    }
}
