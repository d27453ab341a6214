//! Launch shapes: [`Dim3`] and [`LaunchConfig`], checked against the limits every CUDA GPU since
//! compute capability 3.0 shares (CUDA C++ Programming Guide, "Technical Specifications per
//! Compute Capability").

use std::fmt;

/// Three extents or coordinates (CUDA's `dim3` / `uint3`). `From` a `u32`, `(u32, u32)` or
/// `(u32, u32, u32)`; missing extents are 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dim3 {
    pub x: u32,
    pub y: u32,
    pub z: u32,
}

impl Dim3 {
    pub const fn new(x: u32, y: u32, z: u32) -> Dim3 {
        Dim3 { x, y, z }
    }

    /// `x * y * z`, widened so it cannot overflow.
    pub const fn count(self) -> u64 {
        self.x as u64 * self.y as u64 * self.z as u64
    }
}

impl From<u32> for Dim3 {
    fn from(x: u32) -> Dim3 {
        Dim3 { x, y: 1, z: 1 }
    }
}

impl From<(u32, u32)> for Dim3 {
    fn from((x, y): (u32, u32)) -> Dim3 {
        Dim3 { x, y, z: 1 }
    }
}

impl From<(u32, u32, u32)> for Dim3 {
    fn from((x, y, z): (u32, u32, u32)) -> Dim3 {
        Dim3 { x, y, z }
    }
}

impl fmt::Display for Dim3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, {})", self.x, self.y, self.z)
    }
}

/// Most threads in one block.
pub const MAX_THREADS_PER_BLOCK: u32 = 1024;
/// Largest block extent per axis.
pub const MAX_BLOCK_DIM: Dim3 = Dim3 {
    x: 1024,
    y: 1024,
    z: 64,
};
/// Largest grid extent per axis.
pub const MAX_GRID_DIM: Dim3 = Dim3 {
    x: (1 << 31) - 1,
    y: 65535,
    z: 65535,
};
/// Shared memory a block may use without opting in to more (static plus dynamic).
pub const DEFAULT_MAX_SHARED_BYTES: usize = 48 * 1024;

/// The shape of one launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchConfig {
    /// Blocks in the grid.
    pub grid: Dim3,
    /// Threads per block.
    pub block: Dim3,
    /// Dynamic shared memory per block, in bytes (`dynamic_shared_memory!`).
    pub shared_mem_bytes: u32,
}

impl LaunchConfig {
    pub fn new(grid: impl Into<Dim3>, block: impl Into<Dim3>) -> LaunchConfig {
        LaunchConfig {
            grid: grid.into(),
            block: block.into(),
            shared_mem_bytes: 0,
        }
    }

    /// Enough blocks of `threads_per_block` threads to give each of `n` elements one thread.
    pub fn for_elements(n: usize, threads_per_block: u32) -> LaunchConfig {
        let per = threads_per_block.max(1) as usize;
        let blocks = n.div_ceil(per).clamp(1, MAX_GRID_DIM.x as usize) as u32;
        LaunchConfig::new(blocks, threads_per_block)
    }

    pub fn with_shared_mem_bytes(self, bytes: u32) -> LaunchConfig {
        LaunchConfig {
            shared_mem_bytes: bytes,
            ..self
        }
    }

    /// Checks the shape against the hardware limits, so an emulated launch fails where a GPU
    /// launch would (`CUDA_ERROR_INVALID_VALUE`) instead of succeeding only on the host.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let axes = [
            ("x", self.grid.x, self.block.x),
            ("y", self.grid.y, self.block.y),
            ("z", self.grid.z, self.block.z),
        ];
        let grid_limits = [MAX_GRID_DIM.x, MAX_GRID_DIM.y, MAX_GRID_DIM.z];
        let block_limits = [MAX_BLOCK_DIM.x, MAX_BLOCK_DIM.y, MAX_BLOCK_DIM.z];
        for (i, (axis, g, b)) in axes.into_iter().enumerate() {
            if g == 0 || b == 0 {
                return Err(ConfigError::ZeroExtent {
                    grid: self.grid,
                    block: self.block,
                });
            }
            if g > grid_limits[i] {
                return Err(ConfigError::GridTooLarge {
                    axis,
                    value: g,
                    max: grid_limits[i],
                });
            }
            if b > block_limits[i] {
                return Err(ConfigError::BlockTooLarge {
                    axis,
                    value: b,
                    max: block_limits[i],
                });
            }
        }
        let threads = self.block.count();
        if threads > u64::from(MAX_THREADS_PER_BLOCK) {
            return Err(ConfigError::TooManyThreads {
                block: self.block,
                threads,
                max: MAX_THREADS_PER_BLOCK,
            });
        }
        if self.shared_mem_bytes as usize > DEFAULT_MAX_SHARED_BYTES {
            return Err(ConfigError::SharedMemoryTooLarge {
                bytes: self.shared_mem_bytes as usize,
                max: DEFAULT_MAX_SHARED_BYTES,
            });
        }
        Ok(())
    }
}

/// A launch shape no GPU accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    ZeroExtent {
        grid: Dim3,
        block: Dim3,
    },
    GridTooLarge {
        axis: &'static str,
        value: u32,
        max: u32,
    },
    BlockTooLarge {
        axis: &'static str,
        value: u32,
        max: u32,
    },
    TooManyThreads {
        block: Dim3,
        threads: u64,
        max: u32,
    },
    SharedMemoryTooLarge {
        bytes: usize,
        max: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ZeroExtent { grid, block } => {
                write!(f, "grid {grid} and block {block} must have no zero extent")
            }
            ConfigError::GridTooLarge { axis, value, max } => {
                write!(f, "grid {axis} extent {value} exceeds the maximum {max}")
            }
            ConfigError::BlockTooLarge { axis, value, max } => {
                write!(f, "block {axis} extent {value} exceeds the maximum {max}")
            }
            ConfigError::TooManyThreads {
                block,
                threads,
                max,
            } => {
                write!(
                    f,
                    "block {block} has {threads} threads; a block holds at most {max}"
                )
            }
            ConfigError::SharedMemoryTooLarge { bytes, max } => {
                write!(
                    f,
                    "{bytes} bytes of dynamic shared memory exceed the {max}-byte default limit"
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}
