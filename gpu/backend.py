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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from rustg.gpu.errors import BackendUnavailable
from rustg.gpu.lexer import DEFAULT_CHUNK_BYTES, lex_cpu
from rustg.gpu.sources import SourceSet, plan_sources, read_planned, read_sources
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
#: Batches of a pipelined CUDA load. One, measured on the H200 machine (5,095 files, 63 MB,
#: bench/results/engine-gpu-h200-2026-12-02.json): once reading lost its per-file Python
#: (6 ms for open + size + read), every extra batch cost more (about 10 ms of lexer launches,
#: syncs and a per-file sync walk each; 2,244 MB/s with 1 batch, 1,635 with 2, 829 with 8) than
#: the overlap saved. Kept as a parameter for slower file systems, where reading dominates.
DEFAULT_READ_BATCHES = 1


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
        self,
        source: bytes,
        *,
        editions: Editions = None,
        device: Device | None = None,
        whole: bool = False,
    ) -> TokenArrays:
        """Lex one file given as bytes (the single-file re-lex path). ``whole``: whatever its
        size (the formatter's safety net compares every token; rustfmt's output of a file under
        ``max_file_bytes`` can be over it), on the CPU."""
        buf = np.frombuffer(source, dtype=np.uint8)
        offsets = np.array([0, len(buf)], dtype=np.int64)
        if whole:
            limit = max(self.max_file_bytes, len(buf) + 1)
            return lex_cpu(buf, offsets, max_file_bytes=limit, editions=editions)
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
        (``Residence.DEVICE``: CuPy arrays, the buffer included)."""
        eds = edition_array(editions, len(paths))
        where = device or self._device_for_paths(paths)
        if where is Device.CPU or not paths:
            s = read_sources(paths, max_file_bytes=self.max_file_bytes)
            return self.lex(s.buffer, s.file_offsets, editions=eds, device=Device.CPU)
        run = self._pipeline_cuda(paths, eds, max(1, batches), _Steps.LEX)
        if timings is not None:
            timings.update(run.clock)
        if residence is Residence.DEVICE:
            return _device_tokens(run.d_buf, run.file_offsets, run.d_tokens)
        return self.cuda().to_host(run.host_buffer(), run.file_offsets, run.d_tokens)

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
        eds = edition_array(editions, len(paths))
        where = device or self._device_for_paths(paths)
        if where is Device.CPU or not paths:
            src = read_sources(paths, max_file_bytes=self.max_file_bytes)
            return self.index(src.buffer, src.file_offsets, editions=eds, device=Device.CPU)
        run = self._pipeline_cuda(paths, eds, max(1, batches), _Steps.INDEX)
        assert run.d_tree is not None and run.d_items is not None
        d_tokens = _device_tokens(run.d_buf, run.file_offsets, run.d_tokens)
        if residence is Residence.DEVICE:
            out = Indexed(d_tokens, run.d_tree, run.d_items)
        else:
            t0 = time.perf_counter()
            host = self.cuda().to_host(run.host_buffer(), run.file_offsets, run.d_tokens)
            out = Indexed(host, run.d_tree.to_host(), run.d_items.to_host())
            run.clock["to_host"] = time.perf_counter() - t0
        if timings is not None:
            timings.update(run.clock)
        return out

    def _device_for_paths(self, paths: Sequence[str | os.PathLike[str]]) -> Device:
        """The policy for a list of files. ``auto`` needs their total size (a stat each);
        ``cuda`` does not look, so the pipelined reader sizes files batch by batch."""
        if self.kind is BackendKind.AUTO:
            return self.device_for(sum(os.stat(p).st_size for p in paths), len(paths))
        return self.device_for(0 if self.kind is BackendKind.CPU else 1 << 62, len(paths))

    # -- CUDA internals --------------------------------------------------------------------

    def _xp(self) -> Any:
        return self.cuda().xp

    def _pinned(self, n: int) -> npt.NDArray[np.uint8]:
        """A pinned host buffer of ``n`` bytes. From CuPy's pinned pool: page-locking 64 MB
        costs milliseconds, paid by a long-lived process once; a freed result's buffer is
        recycled for the next load."""
        allocate = _pinned_allocator()
        return np.empty(n, dtype=np.uint8) if allocate is None else allocate(n)

    def _pipeline_cuda(
        self,
        paths: Sequence[str | os.PathLike[str]],
        eds: npt.NDArray[np.uint16],
        batches: int,
        steps: _Steps,
    ) -> _PipelineRun:
        """Read, copy, lex (and with ``_Steps.INDEX`` tree + items) batch by batch.

        A reader thread sizes, opens and reads batch k+1 (numba's parallel loops, GIL released)
        into pinned memory while this thread queues batch k's copy and kernels: on the H200
        machine the opens were 30 of the 37 ms spent reading the corpus, so planning all files
        up front left little to overlap. Each batch is a workspace of its own (rows relative to
        it); the parts are concatenated on the device at the end, rows shifted.
        """
        from concurrent.futures import ThreadPoolExecutor

        from rustg.gpu.items import build_items
        from rustg.gpu.tree import build_tree_arrays

        cl = self.cuda()
        xp = cl.xp
        n = len(paths)
        bounds = sorted({int(b) for b in np.linspace(0, n, batches + 1)})
        spans = list(itertools.pairwise(bounds))
        stream = None if _simulator() else xp.cuda.get_current_stream()
        reader_threads = max(1, numba.get_num_threads() - 1)  # one core drives the GPU

        def plan_batch(a: int, b: int) -> Any:
            numba.set_num_threads(reader_threads)  # per calling thread
            return plan_sources(paths[a:b], max_file_bytes=self.max_file_bytes)

        def read_batch(plan: Any) -> npt.NDArray[np.uint8]:
            try:
                host = self._pinned(plan.n_bytes)  # from the pinned pool: recycled
                read_planned(plan, host)
            finally:
                plan.close()
            return host

        run = _PipelineRun(clock=_new_clock())
        byte_base = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rustg-read") as pool:
            # The reader runs in submission order: plan 0, read 0, plan 1, read 1, ...
            plans = [pool.submit(plan_batch, a, b) for a, b in spans]
            reads = [pool.submit(lambda f: read_batch(f.result()), f) for f in plans]
            for (a, b), planned, read in zip(spans, plans, reads, strict=True):
                t0 = time.perf_counter()
                fo = planned.result().file_offsets
                # The lexer's chunk tables need only the sizes: built here while the reader
                # reads the bytes (they were 2-3 ms of the lexer's setup on the H200).
                tables = cl.chunk_tables(fo, editions=eds[a:b])
                host = read.result()
                t1 = time.perf_counter()
                if _simulator():
                    d_buf: Any = np.array(host)
                else:
                    d_buf = xp.empty(len(host), dtype=np.uint8)
                    if len(host):
                        # Pinned source, a stream: an async copy, ordered before the lexer's
                        # kernels (numba-cuda and CuPy both use the legacy default stream).
                        d_buf.set(host, stream=stream)
                d = cl.lex_device(d_buf, fo, max_file_bytes=self.max_file_bytes,
                                  editions=eds[a:b], tables=tables)  # fmt: skip
                t2 = time.perf_counter()
                part = _Part(a, b, byte_base, fo, host, d_buf, d)
                if steps is _Steps.INDEX:
                    part.tree = build_tree_arrays(d["kind"], d["file_token_offsets"], xp=xp)
                    part.items = build_items(_device_tokens(d_buf, fo, d), part.tree, xp=xp)
                run.parts.append(part)
                byte_base += len(host)
                run.clock["read_wait"] += t1 - t0
                run.clock["lex"] += t2 - t1
                run.clock["tree_items"] += time.perf_counter() - t2
        t3 = time.perf_counter()
        run.finish(xp, steps)
        run.clock["concat"] = time.perf_counter() - t3
        return run

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
    return {"read_wait": 0.0, "lex": 0.0, "tree_items": 0.0, "concat": 0.0, "to_host": 0.0}


class _Steps(enum.Enum):
    LEX = "lex"
    INDEX = "lex, tree, items"


@dataclass(slots=True, eq=False)
class _Part:
    """One batch of a pipelined load: its files [a, b), their first byte in the whole."""

    a: int
    b: int
    byte_base: int
    file_offsets: npt.NDArray[np.int64]
    host: npt.NDArray[np.uint8]
    d_buf: Any
    d: dict[str, Any]
    tree: Any = None
    items: Any = None


@dataclass(slots=True, eq=False)
class _PipelineRun:
    clock: dict[str, float]
    parts: list[_Part] = field(default_factory=list)
    d_buf: Any = None
    file_offsets: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    d_tokens: dict[str, Any] = field(default_factory=dict)
    d_tree: Any = None
    d_items: Any = None

    def finish(self, xp: Any, steps: _Steps) -> None:
        """Concatenate the parts (device work, plus the small host offset tables)."""
        ps = self.parts
        self.d_buf = ps[0].d_buf if len(ps) == 1 else xp.concatenate([p.d_buf for p in ps])
        self.file_offsets = np.concatenate(
            [
                *(p.file_offsets[:-1] + p.byte_base for p in ps),
                np.array([sum(len(p.host) for p in ps)], dtype=np.int64),
            ]
        )
        self.d_tokens = _concat_token_parts(
            xp, [(p.a, p.b, p.byte_base, p.d) for p in ps], ps[-1].b
        )
        if steps is _Steps.INDEX:
            token_bases = np.cumsum([0, *(len(p.d["kind"]) for p in ps)])[:-1].tolist()
            self.d_tree = _concat_trees(xp, [p.tree for p in ps], token_bases)
            self.d_items = _concat_items(xp, [p.items for p in ps], token_bases,
                                         [p.a for p in ps])  # fmt: skip

    def host_buffer(self) -> npt.NDArray[np.uint8]:
        if len(self.parts) == 1:
            return self.parts[0].host
        return np.concatenate([p.host for p in self.parts])


def _shift(xp: Any, a: Any, base: int) -> Any:
    """Row links shifted by ``base``; -1 (absent) stays -1."""
    if base == 0:
        return a
    return xp.where(a >= 0, a + a.dtype.type(base), a)


def _concat_trees(xp: Any, trees: list[Any], token_bases: list[int]) -> Any:
    from rustg.gpu.tree import TokenTree

    if len(trees) == 1:
        return trees[0]

    def cat(field_name: str, shift: bool) -> Any:
        return xp.concatenate([
            _shift(xp, getattr(t, field_name), b) if shift else getattr(t, field_name)
            for t, b in zip(trees, token_bases, strict=True)
        ])  # fmt: skip

    return TokenTree(match=cat("match", True), parent=cat("parent", True),
                     depth=cat("depth", False), diag_kind=cat("diag_kind", False),
                     diag_open=cat("diag_open", True),
                     diag_close=cat("diag_close", True))  # fmt: skip


_ITEM_TOKEN_ROWS = ("head", "start", "end", "name_first", "name_last", "trait_first",
                    "trait_last", "vis_open", "body", "attr_start", "attr_end")  # fmt: skip
_ITEM_PLAIN = ("kind", "vis", "depth", "flags", "attr_kind")


def _concat_items(xp: Any, parts: list[Any], token_bases: list[int], file_bases: list[int]) -> Any:
    from rustg.gpu.items import ItemIndex

    if len(parts) == 1:
        return parts[0]
    item_bases = np.cumsum([0, *(len(p.kind) for p in parts)]).tolist()
    attr_bases = np.cumsum([0, *(len(p.attr_kind) for p in parts)]).tolist()
    cols: dict[str, Any] = {}
    for f in _ITEM_TOKEN_ROWS:
        cols[f] = xp.concatenate([_shift(xp, getattr(p, f), b)
                                  for p, b in zip(parts, token_bases, strict=True)])  # fmt: skip
    for f in _ITEM_PLAIN:
        cols[f] = xp.concatenate([getattr(p, f) for p in parts])
    cols["parent"] = xp.concatenate([_shift(xp, p.parent, b)
                                     for p, b in zip(parts, item_bases, strict=False)])  # fmt: skip
    cols["file"] = xp.concatenate([p.file + np.int32(b)
                                   for p, b in zip(parts, file_bases, strict=True)])  # fmt: skip
    last = xp.asarray(np.array([item_bases[-1]], dtype=np.int64))
    cols["file_item_offsets"] = xp.concatenate(
        [*(p.file_item_offsets[:-1] + b for p, b in zip(parts, item_bases, strict=False)), last]
    ).astype(np.int64)
    last_a = xp.asarray(np.array([attr_bases[-1]], dtype=np.int64))
    cols["attr_offsets"] = xp.concatenate(
        [*(p.attr_offsets[:-1] + b for p, b in zip(parts, attr_bases, strict=False)), last_a]
    ).astype(np.int64)
    return ItemIndex(**cols)


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
