"""The one backend object: every engine entry point goes through :class:`Backend`.

``Backend.lex(buffer, file_offsets)`` runs the lexer on the CPU (numba, parallel) or on CUDA
(numba-cuda kernels + CuPy), and both give identical :class:`~rustg.gpu.tokens.TokenArrays`;
``Backend.tree(tokens)`` and ``Backend.items(tokens, tree)`` do the same for the token tree and
the item index, ``Backend.index(buffer, file_offsets)`` all three (on CUDA without bringing
the tokens back in between), and ``Backend.index_files(paths)`` reads the files too, end to
end; on CUDA it reads batch k+1 on CPU threads while batch k is copied and lexed on the GPU.
Which device runs is decided per call:

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
import itertools
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from rustg.gpu.errors import BackendUnavailable
from rustg.gpu.lexer import DEFAULT_CHUNK_BYTES, lex_cpu
from rustg.gpu.sources import SourcePlan, SourceSet, plan_sources, read_planned, read_sources
from rustg.gpu.tokens import (
    DEFAULT_MAX_FILE_BYTES,
    Edition,
    TokenArrays,
    check_buffer,
    edition_array,
)

#: What ``editions=`` takes: None (2021 for all), one edition, or one per file.
Editions = Edition | int | str | Sequence[Edition | int] | npt.NDArray[np.uint16] | None

if TYPE_CHECKING:
    from rustg.gpu.items import ItemIndex
    from rustg.gpu.lexer_cuda import CudaLexer
    from rustg.gpu.tree import TokenTree

__all__ = ["Backend", "BackendKind", "Device", "Indexed", "Residence", "get_backend"]

#: Below this many bytes, ``auto`` lexes on the CPU even with a GPU present. One 2,000-line
#: file (~80 KB) lexes in well under a millisecond on one core; a GPU round trip costs more.
DEFAULT_GPU_MIN_BYTES = 1 << 20
#: Batches of a pipelined CUDA load: enough that reading overlaps GPU work, few enough that
#: per-batch launches and syncs (a dozen each) stay small against the batch's work.
DEFAULT_READ_BATCHES = 4


class Indexed(NamedTuple):
    """What ``Backend.index`` returns: host arrays, whichever device built them."""

    tokens: TokenArrays
    tree: TokenTree
    items: ItemIndex

    def to_host(self) -> Indexed:
        """Host copies of device-resident results (host arrays pass through unchanged)."""
        t = self.tokens

        def get(a: Any) -> Any:
            return a if isinstance(a, np.ndarray) else a.get()

        tokens = TokenArrays(**{f: get(getattr(t, f)) for f in TokenArrays.__dataclass_fields__})
        return Indexed(tokens, self.tree.to_host(), self.items.to_host())


class Residence(enum.StrEnum):
    """Where ``index``/``index_files`` leave their arrays on CUDA: copied home (HOST, the
    default, what slots and CPU consumers need) or resident in GPU memory (DEVICE: CuPy
    arrays, ``tokens.file_offsets`` stays NumPy; ``Indexed.to_host()`` copies them home)."""

    HOST = "host"
    DEVICE = "device"


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
        editions: Editions = None,
        device: Device | None = None,
    ) -> TokenArrays:
        """Lex every file of ``buffer`` (see :mod:`rustg.gpu.tokens` for the contract).

        ``editions``: one :class:`Edition` for every file or one per file (default 2021).
        """
        offsets = np.ascontiguousarray(file_offsets, dtype=np.int64)
        where = device or self.device_for(len(buffer), len(offsets) - 1)
        if where is Device.CUDA:
            return self.cuda().lex(
                buffer, offsets, max_file_bytes=self.max_file_bytes, editions=editions
            )
        return lex_cpu(buffer, offsets, max_file_bytes=self.max_file_bytes, editions=editions)

    def lex_bytes(
        self, source: bytes, *, editions: Editions = None, device: Device | None = None
    ) -> TokenArrays:
        """Lex one file given as bytes (the single-file re-lex path)."""
        buf = np.frombuffer(source, dtype=np.uint8)
        offsets = np.array([0, len(buf)], dtype=np.int64)
        return self.lex(buf, offsets, editions=editions, device=device)

    def read(
        self, paths: Sequence[str | os.PathLike[str]], *, device: Device | None = None
    ) -> SourceSet:
        """Read files into one buffer; pinned host memory when they are headed for the GPU."""
        allocate: Callable[[int], npt.NDArray[np.uint8]] | None = None
        if device is Device.CUDA:
            allocate = _pinned_allocator()
        return read_sources(paths, allocate=allocate, max_file_bytes=self.max_file_bytes)

    def lex_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        editions: Editions = None,
        device: Device | None = None,
        batches: int = DEFAULT_READ_BATCHES,
        residence: Residence = Residence.HOST,
        timings: dict[str, float] | None = None,
    ) -> TokenArrays:
        """Read and lex files end to end; on CUDA pipelined as in :meth:`index_files`
        (``Residence.DEVICE``: the token arrays are CuPy arrays, the buffer stays on the host)."""
        plan = plan_sources(paths, max_file_bytes=self.max_file_bytes)
        try:
            where = device or self.device_for(plan.n_bytes, len(plan.paths))
            eds = edition_array(editions, len(plan.paths))
            if where is Device.CPU or not plan.paths:
                buffer = np.empty(plan.n_bytes, dtype=np.uint8)
                read_planned(plan, buffer)
                return self.lex(buffer, plan.file_offsets, editions=eds, device=Device.CPU)
            cl = self.cuda()
            clock = _new_clock()
            host, _d_buf, d = self._read_lex_cuda(plan, eds, max(1, batches), clock)
            if timings is not None:
                timings.update(clock)
            if residence is Residence.DEVICE:
                return _device_tokens(host, plan.file_offsets, d)
            return cl.to_host(host, plan.file_offsets, d)
        finally:
            plan.close()

    def tree(self, tokens: TokenArrays, *, device: Device | None = None) -> TokenTree:
        """The token tree of ``tokens`` (host arrays; see :mod:`rustg.gpu.tree`)."""
        from rustg.gpu.tree import build_tree

        where = device or self.device_for(len(tokens.buffer), tokens.n_files)
        if where is Device.CUDA:
            return build_tree(tokens, xp=self._xp()).to_host()
        return build_tree(tokens)

    def items(
        self, tokens: TokenArrays, tree: TokenTree, *, device: Device | None = None
    ) -> ItemIndex:
        """The item index of ``tokens`` (host arrays; see :mod:`rustg.gpu.items`)."""
        from rustg.gpu.items import build_items

        where = device or self.device_for(len(tokens.buffer), tokens.n_files)
        if where is Device.CUDA:
            return build_items(tokens, tree, xp=self._xp()).to_host()
        return build_items(tokens, tree)

    def index(
        self,
        buffer: npt.NDArray[np.uint8],
        file_offsets: npt.NDArray[np.int64] | Sequence[int],
        *,
        editions: Editions = None,
        device: Device | None = None,
        residence: Residence = Residence.HOST,
    ) -> Indexed:
        """Lex, tree and items of every file of ``buffer``. On CUDA the tokens stay on the
        device between the three steps; everything comes back to the host once, at the end."""
        offsets = np.ascontiguousarray(file_offsets, dtype=np.int64)
        where = device or self.device_for(len(buffer), len(offsets) - 1)
        if where is Device.CUDA:
            check_buffer(buffer, offsets)
            cl = self.cuda()
            d_buf = np.array(buffer) if _simulator() else cl.xp.asarray(buffer)
            d = cl.lex_device(d_buf, offsets, max_file_bytes=self.max_file_bytes,
                              editions=editions)  # fmt: skip
            return self._index_device(cl, buffer, offsets, d_buf, d, residence=residence)
        tokens = self.lex(buffer, offsets, editions=editions, device=Device.CPU)
        tree = self.tree(tokens, device=Device.CPU)
        return Indexed(tokens, tree, self.items(tokens, tree, device=Device.CPU))

    def index_bytes(
        self, source: bytes, *, editions: Editions = None, device: Device | None = None
    ) -> Indexed:
        """One file's tokens, tree and items (auto: the CPU, one file is small work)."""
        buf = np.frombuffer(source, dtype=np.uint8)
        offsets = np.array([0, len(buf)], dtype=np.int64)
        return self.index(buf, offsets, editions=editions, device=device)

    def index_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        editions: Editions = None,
        device: Device | None = None,
        batches: int = DEFAULT_READ_BATCHES,
        residence: Residence = Residence.HOST,
        timings: dict[str, float] | None = None,
    ) -> Indexed:
        """Read and index files end to end (a cold workspace load).

        On CUDA the files are read in ``batches`` (by bytes) by a reader thread into a reused
        pinned buffer; as each batch lands, its host->device copy and its lexing are queued
        on the GPU while the thread reads the next, so reading overlaps GPU work. Tree and
        items then run once over all tokens on the device. ``timings`` (optional) receives
        seconds for ``read_wait`` (the GPU side waiting for the reader), ``lex``, ``tree_items``
        and ``to_host``: stages as the host saw them, no extra synchronisation.
        """
        plan = plan_sources(paths, max_file_bytes=self.max_file_bytes)
        try:
            where = device or self.device_for(plan.n_bytes, len(plan.paths))
            n_files = len(plan.paths)
            eds = edition_array(editions, n_files)
            if where is Device.CPU or n_files == 0:
                buffer = np.empty(plan.n_bytes, dtype=np.uint8)
                read_planned(plan, buffer)
                return self.index(buffer, plan.file_offsets, editions=eds, device=Device.CPU)
            return self._index_files_cuda(plan, eds, max(1, batches), residence, timings)
        finally:
            plan.close()

    # -- CUDA internals --------------------------------------------------------------------

    def _xp(self) -> Any:
        return self.cuda().xp

    def _pinned(self, n: int) -> npt.NDArray[np.uint8]:
        """A pinned host buffer of ``n`` bytes. From CuPy's pinned pool: page-locking 64 MB
        costs milliseconds, paid by a long-lived process once; a freed result's buffer is
        recycled for the next load."""
        allocate = _pinned_allocator()
        return np.empty(n, dtype=np.uint8) if allocate is None else allocate(n)

    def _index_files_cuda(
        self,
        plan: SourcePlan,
        eds: npt.NDArray[np.uint16],
        batches: int,
        residence: Residence,
        timings: dict[str, float] | None,
    ) -> Indexed:
        import time

        cl = self.cuda()
        clock = _new_clock()
        host, d_buf, d = self._read_lex_cuda(plan, eds, batches, clock)
        t2 = time.perf_counter()
        out = self._index_device(
            cl, host, plan.file_offsets, d_buf, d, residence=residence, clock=clock
        )
        clock["tree_items"] += time.perf_counter() - t2 - clock["to_host"]
        if timings is not None:
            timings.update(clock)
        return out

    def _read_lex_cuda(
        self,
        plan: SourcePlan,
        eds: npt.NDArray[np.uint16],
        batches: int,
        clock: dict[str, float],
    ) -> tuple[npt.NDArray[np.uint8], Any, dict[str, Any]]:
        """The pipelined read + copy + lex; returns (pinned host buffer, device buffer, device
        token arrays). ``clock``: host seconds waiting for the reader, and driving the lexer."""
        import time
        from concurrent.futures import ThreadPoolExecutor

        cl = self.cuda()
        xp = cl.xp
        fo = plan.file_offsets
        total = plan.n_bytes
        host = self._pinned(total)  # owned by the result: the pinned pool recycles it
        # Batch boundaries at file boundaries, about total / batches bytes each.
        cuts = np.searchsorted(fo, np.linspace(0, total, batches + 1)[1:-1], side="left")
        bounds = [0, *sorted(set(int(c) for c in cuts) - {0, len(plan.paths)}), len(plan.paths)]
        d_buf: Any = np.empty(total, np.uint8) if _simulator() else xp.empty(total, np.uint8)
        stream = None if _simulator() else xp.cuda.get_current_stream()
        parts: list[tuple[int, int, int, dict[str, Any]]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rustg-read") as pool:
            # One reader thread, batches in order; numba's parallel loop inside each read
            # uses every core and releases the GIL, so this thread keeps driving the GPU.
            spans = list(itertools.pairwise(bounds))
            pending = [pool.submit(read_planned, plan, host, a, b) for a, b in spans]
            for (a, b), fut in zip(spans, pending, strict=True):
                t0 = time.perf_counter()
                fut.result()
                t1 = time.perf_counter()
                b0, b1 = int(fo[a]), int(fo[b])
                if _simulator():
                    d_buf[b0:b1] = host[b0:b1]
                elif b1 > b0:
                    # Pinned source, a stream: an async copy, ordered before the lexer's
                    # kernels (numba-cuda and CuPy both use the legacy default stream here).
                    d_buf[b0:b1].set(host[b0:b1], stream=stream)
                d = cl.lex_device(d_buf[b0:b1], fo[a : b + 1] - b0,
                                  max_file_bytes=self.max_file_bytes,
                                  editions=eds[a:b])  # fmt: skip
                parts.append((a, b, b0, d))
                clock["read_wait"] += t1 - t0
                clock["lex"] += time.perf_counter() - t1
        t2 = time.perf_counter()
        d = _concat_token_parts(xp, parts, len(plan.paths))
        clock["lex"] += time.perf_counter() - t2
        return host, d_buf, d

    def _index_device(
        self,
        cl: CudaLexer,
        buffer: npt.NDArray[np.uint8],
        offsets: npt.NDArray[np.int64],
        d_buf: Any,
        d: dict[str, Any],
        *,
        residence: Residence = Residence.HOST,
        clock: dict[str, float] | None = None,
    ) -> Indexed:
        """Tree and items from device-resident tokens; then one copy of everything home, or
        (``Residence.DEVICE``) the device arrays themselves."""
        import time

        from rustg.gpu.items import build_items
        from rustg.gpu.tree import build_tree_arrays

        xp = cl.xp
        d_tokens = _device_tokens(d_buf, offsets, d)
        d_tree = build_tree_arrays(d["kind"], d["file_token_offsets"], xp=xp)
        d_items = build_items(d_tokens, d_tree, xp=xp)
        if residence is Residence.DEVICE:
            return Indexed(d_tokens, d_tree, d_items)
        t0 = time.perf_counter()
        out = Indexed(cl.to_host(buffer, offsets, d), d_tree.to_host(), d_items.to_host())
        if clock is not None:
            clock["to_host"] += time.perf_counter() - t0
        return out


def _new_clock() -> dict[str, float]:
    return {"read_wait": 0.0, "lex": 0.0, "tree_items": 0.0, "to_host": 0.0}


def _device_tokens(buffer: Any, offsets: npt.NDArray[np.int64], d: dict[str, Any]) -> TokenArrays:
    """TokenArrays over device arrays (what tree and items take on the device)."""
    return TokenArrays(buffer=buffer, file_offsets=offsets, kind=d["kind"], start=d["start"],
                       end=d["end"], keyword=d["keyword"],
                       file_token_offsets=d["file_token_offsets"], file_status=d["file_status"],
                       file_utf8_error=d["file_utf8_error"])  # fmt: skip


def _simulator() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def _concat_token_parts(
    xp: Any, parts: list[tuple[int, int, int, dict[str, Any]]], n_files: int
) -> dict[str, Any]:
    """Per-batch device token arrays as one set, offsets made absolute (device work only)."""
    if len(parts) == 1 and parts[0][2] == 0:
        return parts[0][3]
    token_base = 0
    fto = []
    cols: dict[str, list[Any]] = {k: [] for k in ("kind", "start", "end", "keyword")}
    status, utf8 = [], []
    for _a, _b, b0, d in parts:
        cols["kind"].append(d["kind"])
        cols["keyword"].append(d["keyword"])
        cols["start"].append(d["start"] + np.int32(b0))
        cols["end"].append(d["end"] + np.int32(b0))
        fto.append(d["file_token_offsets"][:-1] + token_base)
        token_base += len(d["kind"])
        status.append(d["file_status"])
        u = d["file_utf8_error"]
        utf8.append(xp.where(u >= 0, u + np.int32(b0), u).astype(np.int32))
    fto.append(xp.asarray(np.array([token_base], dtype=np.int64)))
    out = {k: xp.concatenate(v) for k, v in cols.items()}
    out["file_token_offsets"] = xp.concatenate(fto).astype(np.int64)
    out["file_status"] = xp.concatenate(status)
    out["file_utf8_error"] = xp.concatenate(utf8)
    assert len(out["file_status"]) == n_files
    return out


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
