"""Reading many source files into the one buffer the engine lexes.

At cold start reading is the bottleneck, not lexing (DESIGN.md: 2,000 small files took about
30 ms in one thread for 28 MB). Files are read straight into their slot of a preallocated
buffer, which can be any writable uint8 array (e.g. CuPy pinned host memory, for a fast
host-to-device copy).

Two readers give the same bytes:

* **native** (POSIX, the default): a numba ``prange`` loop calling libc ``open``/``lseek``/
  ``read``/``close`` directly, so files are read in parallel with no GIL and no per-file
  Python. On the H100 machine (a VM with slow syscalls) Python threads spent 131 ms on the
  corpus, held back by the GIL between syscalls.
* **python** (fallback, and for files the native reader could not read, so that errors carry
  a proper ``OSError``): ``os.readv`` per file, a batch of files per thread.
"""

# Kernel code (numba): see rustg.gpu.lexer.
# ruff: noqa: PLR0917
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="operator,call-overload"

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numba import njit, prange, types

__all__ = ["SourceReadError", "SourceSet", "read_sources"]


class SourceReadError(OSError):
    """A file changed size or vanished between sizing and reading."""


@dataclass(frozen=True, slots=True)
class SourceSet:
    paths: tuple[Path, ...]
    buffer: npt.NDArray[np.uint8]
    file_offsets: npt.NDArray[np.int64]

    @property
    def n_bytes(self) -> int:
        return int(self.file_offsets[-1])


# libc, resolved by symbol at link time (unlike ctypes pointers, this keeps numba's disk cache).
_c_open = types.ExternalFunction("open", types.int32(types.intp, types.int32))
_c_read = types.ExternalFunction("read", types.intp(types.int32, types.intp, types.uintp))
_c_lseek = types.ExternalFunction("lseek", types.int64(types.int32, types.int64, types.int32))
_c_close = types.ExternalFunction("close", types.int32(types.int32))
_SEEK_END = 2
# O_CLOEXEC: the daemon starts cargo while reading; a descriptor must not leak into it.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


@njit(parallel=True, cache=True, nogil=True)
def _native_sizes(names, name_offsets, flags, sizes):  # pragma: no cover - compiled
    base = names.ctypes.data
    for i in prange(len(sizes)):
        fd = _c_open(base + name_offsets[i], flags)
        if fd < 0:
            sizes[i] = -1
            continue
        sizes[i] = _c_lseek(fd, 0, _SEEK_END)
        _c_close(fd)


@njit(parallel=True, cache=True, nogil=True)
def _native_read(names, name_offsets, flags, skip, dst, offsets, ok):  # pragma: no cover
    base = names.ctypes.data
    dbase = dst.ctypes.data
    for i in prange(len(ok)):
        n = offsets[i + 1] - offsets[i]
        ok[i] = 1
        if n == 0 or skip[i]:
            continue
        fd = _c_open(base + name_offsets[i], flags)
        if fd < 0:
            ok[i] = 0
            continue
        got = 0
        while got < n:
            r = _c_read(fd, dbase + offsets[i] + got, n - got)
            if r <= 0:
                break
            got += r
        _c_close(fd)
        if got != n:
            ok[i] = 0


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


def _read_python(
    names: list[str], offs: list[int], view: memoryview, jobs: list[int], threads: int | None
) -> None:
    # A batch of files per thread, not a task per file: per-file Python overhead holds the GIL
    # (2 cores: 60 ms in 1 thread, 200+ ms with 32 threads and a task per file).
    workers = threads if threads is not None else min(16, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < 64:
        _read_range(names, offs, view, jobs)
        return
    batches = [jobs[k::workers] for k in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(lambda b: _read_range(names, offs, view, b), batches):
            pass


def read_sources(
    paths: Sequence[str | os.PathLike[str]],
    *,
    threads: int | None = None,
    allocate: Callable[[int], npt.NDArray[np.uint8]] | None = None,
    max_file_bytes: int | None = None,
    native: bool | None = None,
) -> SourceSet:
    """Read ``paths`` (in order) into one buffer with an offset table.

    ``allocate(n)`` returns the uint8 buffer (default ``np.empty``). Files larger than
    ``max_file_bytes`` keep their size in the offset table but are not read (their bytes are
    zeros): the lexer reports them as too large without looking at them. ``native`` picks the
    reader (default: native on POSIX). A missing or unreadable file raises ``OSError``.
    """
    ps = tuple(Path(p) for p in paths)
    names = [os.fspath(p) for p in ps]
    use_native = (os.name == "posix") if native is None else native
    encoded = np.empty(0, dtype=np.uint8)
    name_offsets = np.zeros(len(ps) + 1, dtype=np.int64)
    if use_native and ps:
        raw = [os.fsencode(n) + b"\0" for n in names]
        encoded = np.frombuffer(b"".join(raw), dtype=np.uint8)
        np.cumsum([len(r) for r in raw], out=name_offsets[1:])
        sizes = np.empty(len(ps), dtype=np.int64)
        _native_sizes(encoded, name_offsets, _OPEN_FLAGS, sizes)
        for i in np.flatnonzero(sizes < 0).tolist():
            sizes[i] = os.stat(ps[i]).st_size  # raises the real OSError (or it appeared since)
    else:
        sizes = np.array([os.stat(p).st_size for p in ps], dtype=np.int64)
    offsets = np.zeros(len(ps) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    total = int(offsets[-1])
    buffer = (allocate or (lambda n: np.empty(n, dtype=np.uint8)))(total)
    view = memoryview(buffer)  # type: ignore[arg-type]
    skip = np.zeros(len(ps), dtype=bool) if max_file_bytes is None else sizes > max_file_bytes
    for big in np.flatnonzero(skip).tolist():
        buffer[offsets[big] : offsets[big + 1]] = 0
    if use_native and ps:
        ok = np.empty(len(ps), dtype=np.uint8)
        _native_read(encoded, name_offsets, _OPEN_FLAGS, skip, buffer, offsets, ok)
        jobs = np.flatnonzero(ok == 0).tolist()  # re-read in Python: a real error or a race
    else:
        jobs = np.flatnonzero(~skip & (sizes > 0)).tolist()
    _read_python(names, offsets.tolist(), view, jobs, threads)
    return SourceSet(ps, buffer, offsets)
