"""Reading many source files into the one buffer the engine lexes.

At cold start reading is the bottleneck, not lexing (DESIGN.md: 2,000 small files took about
30 ms in one thread for 28 MB), so files are read by a pool of threads straight into their slot
of a preallocated buffer (``readinto``: no intermediate ``bytes``). The buffer can be any
writable uint8 array, e.g. CuPy pinned host memory for a fast host-to-device copy.
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


def _read_into(path: Path, view: memoryview) -> None:
    with open(path, "rb", buffering=0) as f:
        got = 0
        while got < len(view):
            n = f.readinto(view[got:])
            if not n:
                raise SourceReadError(f"{path}: shorter than when it was sized")
            got += n


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
    sizes = np.fromiter((os.stat(p).st_size for p in ps), dtype=np.int64, count=len(ps))
    offsets = np.zeros(len(ps) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    total = int(offsets[-1])
    buffer = (allocate or (lambda n: np.empty(n, dtype=np.uint8)))(total)
    view = memoryview(buffer)  # type: ignore[arg-type]
    skip = np.zeros(len(ps), dtype=bool) if max_file_bytes is None else sizes > max_file_bytes
    for big in np.flatnonzero(skip).tolist():
        buffer[offsets[big] : offsets[big + 1]] = 0
    jobs = [i for i in range(len(ps)) if not skip[i] and sizes[i] > 0]
    workers = threads if threads is not None else min(32, (os.cpu_count() or 1) * 4)
    if workers <= 1 or len(jobs) < 16:
        for i in jobs:
            _read_into(ps[i], view[offsets[i] : offsets[i + 1]])
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(lambda i: _read_into(ps[i], view[offsets[i] : offsets[i + 1]]), jobs):
                pass
    return SourceSet(ps, buffer, offsets)
