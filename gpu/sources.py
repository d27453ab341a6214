"""Reading many source files into the one buffer the engine lexes.

At cold start reading is the bottleneck, not lexing (DESIGN.md: 2,000 small files took about
30 ms in one thread for 28 MB). Files are read straight into their slot of a preallocated
buffer, which can be any writable uint8 array (e.g. CuPy pinned host memory, for a fast
host-to-device copy).

Two readers give the same bytes:

* **native** (POSIX, the default): a numba ``prange`` loop calling libc ``open``/``lseek``/
  ``pread``/``close`` directly, so files are read in parallel with no GIL and no per-file
  Python. On the H100 machine (a VM with slow syscalls) Python threads spent 131 ms on the
  corpus, held back by the GIL between syscalls. The sizing pass keeps its descriptors open
  for the reading pass (as many as ``RLIMIT_NOFILE`` leaves room for): one path lookup and
  four syscalls per file instead of two lookups and six; both passes schedule dynamically
  (a static split gave one thread a whole crate of 2 MB files).

:func:`plan_sources` (sizes, offsets, open descriptors) and :func:`read_planned` (a range of
files into the buffer) split the reader so that a caller can read batch k+1 while the GPU
lexes batch k (:meth:`rustg.gpu.backend.Backend.index_files`).
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

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange, types

__all__ = [
    "SourcePlan",
    "SourceReadError",
    "SourceSet",
    "plan_sources",
    "read_planned",
    "read_sources",
]


class SourceReadError(OSError):
    """A file changed size or vanished between sizing and reading."""


@dataclass(frozen=True, slots=True)
class SourceSet:
    paths: tuple[str | os.PathLike[str], ...]  # as the caller gave them
    buffer: npt.NDArray[np.uint8]
    file_offsets: npt.NDArray[np.int64]

    @property
    def n_bytes(self) -> int:
        return int(self.file_offsets[-1])


# libc, resolved by symbol at link time (unlike ctypes pointers, this keeps numba's disk cache).
_c_open = types.ExternalFunction("open", types.int32(types.intp, types.int32))
_c_read = types.ExternalFunction("read", types.intp(types.int32, types.intp, types.uintp))
_c_lseek = types.ExternalFunction("lseek", types.int64(types.int32, types.int64, types.int32))
_c_pread = types.ExternalFunction(
    "pread", types.intp(types.int32, types.intp, types.uintp, types.int64)
)
_c_close = types.ExternalFunction("close", types.int32(types.int32))
_SEEK_END = 2
# O_CLOEXEC: the daemon starts cargo while reading; a descriptor must not leak into it.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


@njit(parallel=True, cache=True, nogil=True)
def _native_sizes(names, name_offsets, flags, sizes, fds, keep):  # pragma: no cover - compiled
    """Size every file; the first ``keep`` stay open (``fds[i]``) for the reading pass."""
    base = names.ctypes.data
    for i in prange(len(sizes)):
        fds[i] = -1
        fd = _c_open(base + name_offsets[i], flags)
        if fd < 0:
            sizes[i] = -1
            continue
        sizes[i] = _c_lseek(fd, 0, _SEEK_END)
        if i < keep:
            fds[i] = fd
        else:
            _c_close(fd)


@njit(parallel=True, cache=True, nogil=True)
def _native_read(
    names, name_offsets, flags, fds, skip, dst, offsets, ok, f0, f1
):  # pragma: no cover
    """Read files [f0, f1) to their offsets (descriptors from the sizing pass, else opened
    here) and close them; ``ok[i] = 0`` where a file could not be read whole."""
    base = names.ctypes.data
    dbase = dst.ctypes.data
    for j in prange(f1 - f0):
        i = f0 + j
        n = offsets[i + 1] - offsets[i]
        ok[i] = 1
        fd = fds[i]
        fds[i] = -1
        if n == 0 or skip[i]:
            if fd >= 0:
                _c_close(fd)
            continue
        if fd < 0:
            fd = _c_open(base + name_offsets[i], flags)
        if fd < 0:
            ok[i] = 0
            continue
        got = 0
        while got < n:
            r = _c_pread(fd, dbase + offsets[i] + got, n - got, got)
            if r <= 0:
                break
            got += r
        _c_close(fd)
        if got != n:
            ok[i] = 0


@njit(parallel=True, cache=True, nogil=True)
def _native_close(fds, f0, f1):  # pragma: no cover - compiled
    for j in prange(f1 - f0):
        if fds[f0 + j] >= 0:
            _c_close(fds[f0 + j])
            fds[f0 + j] = -1


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


def _fd_budget(n_files: int) -> int:
    """How many descriptors the sizing pass may keep open: what RLIMIT_NOFILE leaves, less a
    margin for everything else the process holds (the daemon's sockets, LMDB, cargo pipes)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = n_files + 256
        if (
            soft != resource.RLIM_INFINITY
            and soft < want
            and (hard == resource.RLIM_INFINITY or hard > soft)
        ):
            new = want if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        limit = n_files if soft == resource.RLIM_INFINITY else int(soft)
    except (ImportError, ValueError, OSError):
        return 0
    return max(0, min(n_files, limit - 256))


@dataclass(slots=True, eq=False)
class SourcePlan:
    """Sizes and offsets of files about to be read (see :func:`plan_sources`)."""

    paths: tuple[str | os.PathLike[str], ...]
    file_offsets: npt.NDArray[np.int64]
    skip: npt.NDArray[np.bool_]
    native: bool
    _encoded: npt.NDArray[np.uint8]
    _name_offsets: npt.NDArray[np.int64]
    _fds: npt.NDArray[np.int32]

    @property
    def n_bytes(self) -> int:
        return int(self.file_offsets[-1])

    def close(self) -> None:
        """Close descriptors still open (files never read)."""
        if self.native and len(self._fds):
            _native_close(self._fds, 0, len(self._fds))


def plan_sources(
    paths: Sequence[str | os.PathLike[str]],
    *,
    max_file_bytes: int | None = None,
    native: bool | None = None,
) -> SourcePlan:
    """Size ``paths`` (in order) and lay them out in one buffer; native plans keep the files
    open for :func:`read_planned`, which closes them (or call ``plan.close()``)."""
    # No Python object per file beyond the caller's: building Path objects and per-name byte
    # strings cost more than the sizing syscalls (38 ms for 5,095 files on the 2-core machine).
    ps = tuple(paths)
    use_native = (os.name == "posix") if native is None else native
    encoded = np.empty(0, dtype=np.uint8)
    name_offsets = np.zeros(len(ps) + 1, dtype=np.int64)
    fds = np.full(len(ps), -1, dtype=np.int32)
    if use_native and ps:
        encoded = np.frombuffer(b"\0".join(map(os.fsencode, ps)) + b"\0", dtype=np.uint8)
        name_offsets[1:] = np.flatnonzero(encoded == 0) + 1  # names hold no NUL
        sizes = np.empty(len(ps), dtype=np.int64)
        with numba.parallel_chunksize(16):
            _native_sizes(encoded, name_offsets, _OPEN_FLAGS, sizes, fds, _fd_budget(len(ps)))
        for i in np.flatnonzero(sizes < 0).tolist():
            sizes[i] = os.stat(ps[i]).st_size  # raises the real OSError (or it appeared since)
    else:
        sizes = np.array([os.stat(p).st_size for p in ps], dtype=np.int64)
    offsets = np.zeros(len(ps) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    skip = np.zeros(len(ps), dtype=bool) if max_file_bytes is None else sizes > max_file_bytes
    return SourcePlan(ps, offsets, skip, use_native and bool(ps), encoded, name_offsets,
                      fds)  # fmt: skip


def read_planned(
    plan: SourcePlan,
    buffer: npt.NDArray[np.uint8],
    f0: int = 0,
    f1: int | None = None,
    *,
    threads: int | None = None,
) -> None:
    """Read files ``[f0, f1)`` of ``plan`` into their slots of ``buffer`` (releases the GIL:
    callable from a reader thread while another thread drives the GPU)."""
    f1 = len(plan.paths) if f1 is None else f1
    offsets = plan.file_offsets
    for big in (f0 + np.flatnonzero(plan.skip[f0:f1])).tolist():
        buffer[offsets[big] : offsets[big + 1]] = 0
    if plan.native:
        ok = np.ones(len(plan.paths), dtype=np.uint8)
        with numba.parallel_chunksize(4):  # dynamic: file sizes vary 1000x
            _native_read(plan._encoded, plan._name_offsets, _OPEN_FLAGS, plan._fds, plan.skip,
                         buffer, offsets, ok, f0, f1)  # fmt: skip
        jobs = (f0 + np.flatnonzero(ok[f0:f1] == 0)).tolist()  # re-read in Python: error/race
    else:
        sizes = np.diff(offsets[f0 : f1 + 1])
        jobs = (f0 + np.flatnonzero(~plan.skip[f0:f1] & (sizes > 0))).tolist()
    if jobs:
        names = [os.fspath(p) for p in plan.paths]
        _read_python(names, offsets.tolist(), memoryview(buffer), jobs, threads)  # type: ignore[arg-type]


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
    plan = plan_sources(paths, max_file_bytes=max_file_bytes, native=native)
    try:
        buffer = (allocate or (lambda n: np.empty(n, dtype=np.uint8)))(plan.n_bytes)
        read_planned(plan, buffer, threads=threads)
    finally:
        plan.close()
    return SourceSet(plan.paths, buffer, plan.file_offsets)
