"""Reading many source files into the one buffer the engine lexes.

At cold start reading is the bottleneck, not lexing (DESIGN.md: 2,000 small files took about
30 ms in one thread for 28 MB), so files are read straight into their slot of a preallocated
buffer (``os.readv``: no intermediate ``bytes``, no file object), by a few threads. The
buffer can be any writable uint8 array, e.g. CuPy pinned host memory for a fast host-to-device copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["SourceSet", "read_sources"]


class SourceReadError(OSError):
    """A file changed size or vanished between stat and read."""


@dataclass(frozen=True, slots=True)
class SourceSet:
    paths: tuple[Path, ...]
    buffer: npt.NDArray[np.uint8]
    file_offsets: npt.NDArray[np.int64]

    @property
    def n_bytes(self) -> int:
        return int(self.file_offsets[-1])


def _read_range(paths: list[str], offsets: list[int], view: memoryview, indices: list[int]) -> None:
    for i in indices:
        lo, hi = offsets[i], offsets[i + 1]
        fd = os.open(paths[i], os.O_RDONLY)
        try:
            got = lo
            while got < hi:
                n = os.readv(fd, [view[got:hi]])
                if n == 0:
                    raise SourceReadError(f"{paths[i]}: shorter than when it was sized")
                got += n
        finally:
            os.close(fd)


def read_sources(
    paths: Sequence[str | os.PathLike[str]],
    *,
    threads: int | None = None,
    allocate: Callable[[int], npt.NDArray[np.uint8]] | None = None,
    max_file_bytes: int | None = None,
) -> SourceSet:
    """Read ``paths`` (in order) into one buffer with an offset table.

    ``allocate(n)`` returns the uint8 buffer (default ``np.empty``). Files larger than
    ``max_file_bytes`` keep their size in the offset table but are not read (their bytes are
    zeros): the lexer reports them as too large without looking at them.
    """
    ps = tuple(Path(p) for p in paths)
    sizes = np.array([os.stat(p).st_size for p in ps], dtype=np.int64)
    offsets = np.zeros(len(ps) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    total = int(offsets[-1])
    buffer = (allocate or (lambda n: np.empty(n, dtype=np.uint8)))(total)
    view = memoryview(buffer)  # type: ignore[arg-type]
    skip = np.zeros(len(ps), dtype=bool) if max_file_bytes is None else sizes > max_file_bytes
    for big in np.flatnonzero(skip).tolist():
        buffer[offsets[big] : offsets[big + 1]] = 0
    jobs = np.flatnonzero(~skip & (sizes > 0)).tolist()
    names = [os.fspath(p) for p in ps]
    offs = offsets.tolist()
    # One thread per core, each a batch of files: per-file Python overhead holds the GIL, so
    # one task per file only contends (2 cores: 60 ms in 1 thread, 200+ ms with 32 threads
    # and a task per file), while on a VM with slow syscalls (the H100 machine: 157 ms with
    # 4 threads) the syscalls themselves, which run without the GIL, want the parallelism.
    workers = threads if threads is not None else min(16, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < 64:
        _read_range(names, offs, view, jobs)
    else:
        batches = [jobs[k::workers] for k in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(lambda b: _read_range(names, offs, view, b), batches):
                pass
    return SourceSet(ps, buffer, offsets)
