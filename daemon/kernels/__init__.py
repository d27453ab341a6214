"""The kernel pipeline: Rust GPU kernels → PTX (per arch) → cubin + fatbin, with a manifest.

toolchain   which rustc can target nvptx64, CUDA's ptxas/fatbinary, version strings for keys
ptx         ptxas (assemble, resource figures) and fatbinary (pack cubins + PTX)
"""
