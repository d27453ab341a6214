"""The one backend object: every engine entry point goes through :class:`Backend`.

``Backend.lex(buffer, file_offsets)`` runs the lexer on the CPU (numba, parallel) or on CUDA
(numba-cuda kernels + CuPy), and both give identical :class:`~rustg.gpu.tokens.TokenArrays`.
Which one runs is decided per call:

* ``RUSTG_BACKEND=cpu``: always the CPU.
* ``RUSTG_BACKEND=cuda``: always CUDA; :class:`~rustg.gpu.errors.BackendUnavailable` when the
  machine has no usable GPU (so a misconfiguration is loud, not a silent slowdown).
* ``RUSTG_BACKEND=auto`` (default): small work (one file, or less than ``gpu_min_bytes``) goes
  to the CPU, where it costs no launch or transfer; workspace-wide work goes to the GPU when
  one is present. DESIGN.md's figures: ~40 us per numba-cuda launch, ~200 ms per fresh CUDA
  context, so the GPU only pays off for whole-workspace passes in a long-lived process.

CUDA is imported lazily, on the first call that wants it: ``import rustg.gpu.backend`` never
touches ``numba.cuda`` or CuPy, so CPU-only machines do not need them installed.
"""

from __future__ import annotations

import enum
import functools
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rustg.gpu.errors import BackendUnavailable
from rustg.gpu.lexer import DEFAULT_CHUNK_BYTES, lex_cpu
from rustg.gpu.sources import SourceSet, read_sources
from rustg.gpu.tokens import DEFAULT_MAX_FILE_BYTES, TokenArrays

if TYPE_CHECKING:
    from rustg.gpu.lexer_cuda import CudaLexer

__all__ = ["Backend", "BackendKind", "Device", "get_backend"]

#: Below this many bytes, ``auto`` lexes on the CPU even with a GPU present. One 2,000-line
#: file (~80 KB) lexes in well under a millisecond on one core; a GPU round trip costs more.
DEFAULT_GPU_MIN_BYTES = 1 << 20


class BackendKind(enum.StrEnum):
    CPU = "cpu"
    CUDA = "cuda"
    AUTO = "auto"


class Device(enum.StrEnum):
    """Where one call actually ran."""

    CPU = "cpu"
    CUDA = "cuda"


def _cuda_usable() -> tuple[bool, str]:
    """Whether the CUDA backend can run here, and why not."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True, "CUDA simulator"
    try:
        from numba import cuda
    except ImportError as e:  # numba-cuda not installed
        return False, f"numba-cuda not importable: {e}"
    try:
        if not cuda.is_available():  # type: ignore[no-untyped-call]
            return False, "no CUDA driver or GPU"
    except Exception as e:  # driver errors come in many classes; all mean "no GPU here"
        return False, f"CUDA driver error: {e}"
    try:
        import cupy  # noqa: F401
    except ImportError as e:
        return False, f"CuPy not importable: {e}"
    return True, "GPU present"


class Backend:
    """Dispatches engine work to the CPU or CUDA implementation (see module docstring)."""

    def __init__(
        self,
        kind: BackendKind | str | None = None,
        *,
        gpu_min_bytes: int = DEFAULT_GPU_MIN_BYTES,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        raw = kind if kind is not None else os.environ.get("RUSTG_BACKEND", "auto")
        try:
            self.kind = BackendKind(str(raw).lower())
        except ValueError:
            raise BackendUnavailable(
                f"RUSTG_BACKEND={raw!r}: expected one of cpu, cuda, auto"
            ) from None
        self.gpu_min_bytes = gpu_min_bytes
        self.chunk_bytes = chunk_bytes
        self.max_file_bytes = max_file_bytes
        self._cuda: CudaLexer | None = None
        self._cuda_checked: tuple[bool, str] | None = None
        self._lock = threading.Lock()

    # -- device choice ---------------------------------------------------------------------

    def cuda_status(self) -> tuple[bool, str]:
        """(usable, reason); probed once per backend object."""
        if self._cuda_checked is None:
            self._cuda_checked = (
                (False, "RUSTG_BACKEND=cpu") if self.kind is BackendKind.CPU else _cuda_usable()
            )
        return self._cuda_checked

    def device_for(self, n_bytes: int, n_files: int) -> Device:
        """Where work of this size runs under this backend's policy."""
        if self.kind is BackendKind.CPU:
            return Device.CPU
        if self.kind is BackendKind.CUDA:
            usable, why = self.cuda_status()
            if not usable:
                raise BackendUnavailable(f"RUSTG_BACKEND=cuda but {why}")
            return Device.CUDA
        if n_files <= 1 or n_bytes < self.gpu_min_bytes:
            return Device.CPU
        return Device.CUDA if self.cuda_status()[0] else Device.CPU

    def cuda(self) -> CudaLexer:
        """The CUDA lexer (imports numba.cuda and CuPy on first use)."""
        with self._lock:
            if self._cuda is None:
                usable, why = self.cuda_status()
                if not usable:
                    raise BackendUnavailable(why)
                from rustg.gpu.lexer_cuda import CudaLexer

                self._cuda = CudaLexer(chunk_bytes=self.chunk_bytes)
            return self._cuda

    # -- entry points ----------------------------------------------------------------------

    def lex(
        self,
        buffer: npt.NDArray[np.uint8],
        file_offsets: npt.NDArray[np.int64] | Sequence[int],
        *,
        device: Device | None = None,
    ) -> TokenArrays:
        """Lex every file of ``buffer`` (see :mod:`rustg.gpu.tokens` for the contract)."""
        offsets = np.ascontiguousarray(file_offsets, dtype=np.int64)
        where = device or self.device_for(len(buffer), len(offsets) - 1)
        if where is Device.CUDA:
            return self.cuda().lex(buffer, offsets, max_file_bytes=self.max_file_bytes)
        return lex_cpu(buffer, offsets, max_file_bytes=self.max_file_bytes)

    def lex_bytes(self, source: bytes, *, device: Device | None = None) -> TokenArrays:
        """Lex one file given as bytes (the single-file re-lex path)."""
        buf = np.frombuffer(source, dtype=np.uint8)
        return self.lex(buf, np.array([0, len(buf)], dtype=np.int64), device=device)

    def read(
        self, paths: Sequence[str | os.PathLike[str]], *, device: Device | None = None
    ) -> SourceSet:
        """Read files into one buffer; pinned host memory when they are headed for the GPU."""
        allocate: Callable[[int], npt.NDArray[np.uint8]] | None = None
        if device is Device.CUDA:
            allocate = _pinned_allocator()
        return read_sources(paths, allocate=allocate, max_file_bytes=self.max_file_bytes)

    def lex_files(
        self, paths: Sequence[str | os.PathLike[str]], *, device: Device | None = None
    ) -> TokenArrays:
        """Read and lex files end to end (what a cold workspace load does)."""
        if device is None:
            sizes = sum(os.stat(p).st_size for p in paths)
            device = self.device_for(sizes, len(paths))
        sources = self.read(paths, device=device)
        return self.lex(sources.buffer, sources.file_offsets, device=device)


def _pinned_allocator() -> Callable[[int], npt.NDArray[np.uint8]] | None:
    """np arrays over page-locked memory (host->device copies ran ~11x faster: DESIGN.md)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return None
    import cupy

    def allocate(n: int) -> npt.NDArray[np.uint8]:
        mem: Any = cupy.cuda.alloc_pinned_memory(max(n, 1))
        return np.frombuffer(mem, dtype=np.uint8, count=n)

    return allocate


@functools.cache
def get_backend() -> Backend:
    """The process-wide backend, configured from ``RUSTG_BACKEND`` on first use."""
    return Backend()
