"""The lexer on CUDA: the chunked algorithm of :mod:`rustg.gpu.lexer` as numba-cuda kernels.

Imported lazily (only :mod:`rustg.gpu.backend` imports it, only when CUDA is wanted): it
imports ``numba.cuda`` at module level, which a CPU-only machine never needs. The kernel bodies
are the very ``register_jitable`` functions the CPU runs (compiled here for the device), so the
two backends cannot drift apart; the per-index wrappers below only map a thread to an index.

Host side, scans and allocation use CuPy when a GPU is present. Under the CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, tiny inputs in tests) the same code runs with NumPy arrays.

Launches: 4 kernels (speculate per chunk, agree per chunk, sync per file, write per chunk:
a block each, which lexes only up to where the true run met the speculative one and copies the
speculative marks, which carry each token's kind, after it)
and five scans; speculation can be queued part by part as a pipelined read lands
(:meth:`CudaLexer.begin`, :meth:`~CudaLexer.speculate`, :meth:`~CudaLexer.finish`).
Kernels are compiled once per process and cached on disk (``cache=True``), so a restarted
daemon does not pay the JIT again.
"""

# Kernel code, see rustg.gpu.lexer for why:
# ruff: noqa: PLR0917
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

import importlib
import itertools
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import cuda

from rustg.gpu import lexer as L
from rustg.gpu.cuda_launch import launch_grid
from rustg.gpu.timing import StageClock
from rustg.gpu.tokens import DEFAULT_MAX_FILE_BYTES, TokenArrays, check_buffer, edition_array

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
THREADS_PER_BLOCK = 128
WRITE_THREADS = 64  # per chunk in the write pass: a 1 KB chunk is 16 strides


def _quiet_low_occupancy_warnings() -> None:
    """A small workspace legitimately launches a small grid; numba-cuda warns at < 128 blocks
    (and the test suite turns warnings into errors). The setting lives in numba-cuda's config
    module, or in numba's for the CUDA target bundled with numba."""
    for name in ("numba.cuda.core.config", "numba.core.config"):
        try:
            config = importlib.import_module(name)
        except ImportError:
            continue
        config.CUDA_LOW_OCCUPANCY_WARNINGS = 0


_quiet_low_occupancy_warnings()


@cuda.jit(cache=True)
def k_speculate(k0, k1, buf, file_offsets, fed, chunk_start, chunk_end, chunk_file, max_file_bytes,
                xid, ascii_kind, kw_slots, kw_text, kw_mul, mark, chunk_exit, chunk_nul, chunk_bad,
                dummy_u8, dummy_i32):  # fmt: skip
    k = k0 + cuda.grid(1)  # chunks [k0, k1): one launch per part of a pipelined read
    if k < k1:
        L.chunk_speculate(k, buf, file_offsets, fed, chunk_start, chunk_end, chunk_file,
                          max_file_bytes, xid, ascii_kind, kw_slots, kw_text, kw_mul, mark,
                          chunk_exit, chunk_nul, chunk_bad, dummy_u8, dummy_i32)  # fmt: skip


@cuda.jit(cache=True)
def k_chunk_agree(buf, file_offsets, fed, file_chunks, chunk_end, chunk_file, xid, ascii_kind, mark,
                  mark_prefix, chunk_exit, chunk_entry, counts, disagree, entry_exit,
                  chunk_meet):  # fmt: skip
    k = cuda.grid(1)
    if k < chunk_end.shape[0]:
        L.chunk_agree(k, buf, file_offsets, fed, file_chunks, chunk_end, chunk_file, xid,
                      ascii_kind, mark, mark_prefix, chunk_exit, chunk_entry, counts, disagree,
                      entry_exit, chunk_meet)  # fmt: skip


@cuda.jit(cache=True)
def k_file_sync(buf, file_offsets, fed, file_chunks, chunk_start, chunk_end, max_file_bytes, xid,
                ascii_kind, mark, mark_prefix, chunk_exit, nul_prefix, chunk_bad, bad_prefix,
                chunk_entry, entry_exit, counts, disagree_prefix, status, utf8_err,
                chunk_meet):  # fmt: skip
    f = cuda.grid(1)
    if f < file_offsets.shape[0] - 1:
        L.file_sync(f, buf, file_offsets, fed, file_chunks, chunk_start, chunk_end, max_file_bytes,
                    xid, ascii_kind, mark, mark_prefix, chunk_exit, nul_prefix, chunk_bad,
                    bad_prefix, chunk_entry, entry_exit, counts, disagree_prefix, status,
                    utf8_err, chunk_meet)  # fmt: skip


@cuda.jit(cache=True)
def k_chunk_write(buf, file_offsets, fed, chunk_end, chunk_file, chunk_entry, chunk_meet,
                  chunk_exit, xid, ascii_kind, kw_slots, kw_text, kw_mul, mark, mark_prefix,
                  counts, chunk_token_offsets, code_kind, code_keyword, out_kind, out_start,
                  out_end, out_kw, dummy_u8):  # fmt: skip
    # One block per chunk: thread 0 lexes the stretch before the meeting point (usually the
    # rest of a line) while the block copies the marks after it, byte-strided (coalesced).
    k = cuda.blockIdx.x
    if k >= chunk_end.shape[0]:
        return
    if cuda.threadIdx.x == 0:
        L.chunk_write_relexed(k, buf, file_offsets, fed, chunk_end, chunk_file, chunk_entry,
                              chunk_meet, xid, ascii_kind, kw_slots, kw_text, kw_mul, out_kind,
                              out_start, out_end, out_kw, chunk_token_offsets,
                              dummy_u8)  # fmt: skip
    m = chunk_meet[k]
    e = chunk_end[k]
    if chunk_entry[k] < e and m >= 0:
        for b in range(m + cuda.threadIdx.x, e, cuda.blockDim.x):
            L.chunk_write_mark(b, k, chunk_end, chunk_exit, chunk_meet, mark, mark_prefix, counts,
                               chunk_token_offsets, code_kind, code_keyword, out_kind, out_start,
                               out_end, out_kw)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChunkTables:
    """Device copies of the lexer's tables for one set of files (see ``chunk_tables``)."""

    file_offsets: npt.NDArray[np.int64]  # the host array they were built from
    file_chunks: npt.NDArray[np.int64]  # host copy of d_fc: a file range's chunk range
    n_chunks: int
    d_fo: Any  # file byte offsets
    d_fc: Any  # file -> first chunk
    d_cs: Any  # chunk start byte
    d_ce: Any  # chunk end byte
    d_cf: Any  # chunk -> file (int32)
    d_ed: Any  # file -> edition (uint16)


@dataclass(frozen=True, slots=True, eq=False)
class Lexing:
    """One lexing run between :meth:`CudaLexer.begin` and :meth:`CudaLexer.finish`."""

    tables: ChunkTables
    max_file_bytes: int
    mark: Any  # per byte: a speculative token starts here
    c_exit: Any
    c_nul: Any
    c_bad: Any
    c_entry: Any
    status: Any
    utf8_err: Any


def _xp() -> ModuleType:
    if SIMULATOR:
        return np
    import cupy

    xp: ModuleType = cupy
    return xp


def _grid(n: int) -> int:
    return max(1, (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


class CudaLexer:
    """Holds the device-side tables; lexes buffers already on the device or on the host."""

    def __init__(self, chunk_bytes: int = L.DEFAULT_CHUNK_BYTES) -> None:
        xp = _xp()
        self.xp = xp
        self.chunk_bytes = chunk_bytes
        self.xid = xp.asarray(L.XID_TABLE)
        self.ascii = xp.asarray(L.ASCII_TABLE)
        self.kw_slots = xp.asarray(L.KW_SLOTS)
        self.kw_text = xp.asarray(L.KW_TEXT)
        self.u8 = xp.zeros(1, dtype=np.uint8)
        self.code_kind = xp.asarray(L.CODE_KIND)
        self.code_keyword = xp.asarray(L.CODE_KEYWORD)
        self.i32 = xp.zeros(1, dtype=np.int32)

    def chunk_tables(
        self,
        file_offsets: npt.NDArray[np.int64],
        *,
        editions: Any = None,
        chunk_bytes: int | None = None,
    ) -> ChunkTables:
        """The lexer's per-file and per-chunk tables, on the device. They need only the
        files' sizes: a pipelined read builds them while the bytes are still being read."""
        xp = self.xp
        file_chunks, c_start, c_end, c_file = L.make_chunks(
            file_offsets, chunk_bytes or self.chunk_bytes
        )
        n_files = len(file_offsets) - 1
        n_chunks = len(c_start)
        # The six small tables in one host->device copy (each separate copy from pageable
        # memory is a synchronous transfer of its own: ~2 ms of setup for the corpus on the H200).
        tables_h = np.concatenate(
            [file_offsets, file_chunks, c_start, c_end, c_file, edition_array(editions, n_files)],
            dtype=np.int64,
        )
        d_tables = xp.asarray(tables_h)
        cut = np.cumsum([0, n_files + 1, n_files + 1, n_chunks, n_chunks, n_chunks, n_files])
        d_fo, d_fc, d_cs, d_ce, d_cf, d_ed = (d_tables[a:b] for a, b in itertools.pairwise(cut))
        return ChunkTables(
            file_offsets, file_chunks, n_chunks, d_fo, d_fc, d_cs, d_ce,
            d_cf.astype(np.int32), d_ed.astype(np.uint16),
        )  # fmt: skip

    def lex_device(
        self,
        d_buf: Any,
        file_offsets: npt.NDArray[np.int64],
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        chunk_bytes: int | None = None,
        timings: dict[str, float] | None = None,
        editions: Any = None,
        tables: ChunkTables | None = None,
    ) -> dict[str, Any]:
        """Lex a device-resident buffer; returns device arrays (the TokenArrays fields).

        ``tables``: from :meth:`chunk_tables` for these ``file_offsets`` (built here if not
        given). ``timings``, when given, receives seconds per stage (each stage synchronised:
        for benchmarks only, it costs a sync per stage).
        """
        clock = StageClock(timings, self.xp)
        if tables is None:
            tables = self.chunk_tables(file_offsets, editions=editions, chunk_bytes=chunk_bytes)
        assert tables.file_offsets is file_offsets, "chunk tables of other files"
        lexing = self.begin(len(d_buf), tables, max_file_bytes=max_file_bytes)
        clock.stage("setup")
        self.speculate(lexing, d_buf, 0, len(file_offsets) - 1)
        clock.stage("speculate")
        return self.finish(lexing, d_buf, clock)

    def begin(
        self, n_bytes: int, tables: ChunkTables, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> Lexing:
        """Allocate one lexing run's per-byte and per-chunk arrays (see :meth:`speculate`)."""
        xp = self.xp
        n_files = len(tables.file_offsets) - 1
        n = tables.n_chunks
        return Lexing(
            tables, max_file_bytes,
            mark=xp.zeros(n_bytes + 1, dtype=np.uint8),
            c_exit=xp.empty(n, dtype=np.int64),
            c_nul=xp.empty(n, dtype=np.uint8),
            c_bad=xp.empty(n, dtype=np.int64),
            c_entry=xp.empty(n, dtype=np.int64),
            status=xp.empty(n_files, dtype=np.uint8),
            utf8_err=xp.empty(n_files, dtype=np.int32),
        )  # fmt: skip

    def speculate(self, lexing: Lexing, d_buf: Any, f0: int, f1: int) -> None:
        """Phase 1 for the chunks of files [f0, f1): it reads only those files' bytes, so a
        pipelined read queues it as soon as they are on the device, while the reader reads on."""
        tb = lexing.tables
        k0, k1 = int(tb.file_chunks[f0]), int(tb.file_chunks[f1])
        if k1 > k0:
            launch_grid(k_speculate, _grid(k1 - k0), THREADS_PER_BLOCK, k0, k1, d_buf, tb.d_fo,
                        tb.d_ed, tb.d_cs, tb.d_ce, tb.d_cf, lexing.max_file_bytes,
                        *self._lex_tables(), lexing.mark, lexing.c_exit, lexing.c_nul,
                        lexing.c_bad, self.u8, self.i32)  # fmt: skip

    def _lex_tables(self) -> tuple[Any, ...]:
        return (self.xid, self.ascii, self.kw_slots, self.kw_text, L.KW_MUL)

    def finish(self, lexing: Lexing, d_buf: Any, clock: StageClock | None = None) -> dict[str, Any]:
        """Phases 2-4 once every chunk is speculated: agree, sync, count, write."""
        xp = self.xp
        clock = clock or StageClock(None, xp)
        tb = lexing.tables
        n_files = len(tb.file_offsets) - 1
        n_chunks = tb.n_chunks
        d_fo, d_fc, d_cs, d_ce, d_cf, d_ed = (tb.d_fo, tb.d_fc, tb.d_cs, tb.d_ce, tb.d_cf, tb.d_ed)
        mark, c_exit, c_entry = lexing.mark, lexing.c_exit, lexing.c_entry
        status, utf8_err = lexing.status, lexing.utf8_err
        g, t = _grid(n_chunks), THREADS_PER_BLOCK
        mark_prefix = xp.zeros(len(mark) + 1, dtype=np.int32)
        xp.cumsum(mark != 0, dtype=np.int32, out=mark_prefix[1:])  # marks are codes, not 1s
        counts = xp.zeros(n_chunks, dtype=np.int64)
        disagree = xp.zeros(n_chunks, dtype=np.uint8)
        entry_exit = xp.empty(n_chunks, dtype=np.int64)
        c_meet = xp.empty(n_chunks, dtype=np.int64)
        clock.stage("mark_scan")
        if n_chunks:
            launch_grid(k_chunk_agree, g, t, d_buf, d_fo, d_ed, d_fc, d_ce, d_cf, self.xid,
                        self.ascii, mark, mark_prefix, c_exit, c_entry, counts, disagree,
                        entry_exit, c_meet)  # fmt: skip
        disagree_prefix = xp.zeros(n_chunks + 1, dtype=np.int32)
        xp.cumsum(disagree, dtype=np.int32, out=disagree_prefix[1:])
        clock.stage("agree")
        nul_prefix, bad_prefix = L.chunk_flag_prefixes(xp, lexing.c_nul, lexing.c_bad)
        if n_files:
            launch_grid(k_file_sync, _grid(n_files), t, d_buf, d_fo, d_ed, d_fc, d_cs, d_ce,
                        lexing.max_file_bytes, self.xid, self.ascii, mark, mark_prefix, c_exit,
                        nul_prefix, lexing.c_bad, bad_prefix, c_entry, entry_exit, counts,
                        disagree_prefix, status, utf8_err, c_meet)  # fmt: skip
        clock.stage("sync")
        chunk_token_offsets = xp.zeros(n_chunks + 1, dtype=np.int64)
        if n_chunks:
            xp.cumsum(counts, out=chunk_token_offsets[1:])
        n_tokens = int(chunk_token_offsets[-1])
        clock.stage("scan")
        kind = xp.empty(n_tokens, dtype=np.uint8)
        start = xp.empty(n_tokens, dtype=np.int32)
        end = xp.empty(n_tokens, dtype=np.int32)
        kw = xp.empty(n_tokens, dtype=np.uint8)
        if n_tokens:
            launch_grid(k_chunk_write, n_chunks, WRITE_THREADS, d_buf, d_fo, d_ed, d_ce, d_cf,
                        c_entry, c_meet, c_exit, *self._lex_tables(), mark, mark_prefix, counts,
                        chunk_token_offsets, self.code_kind, self.code_keyword, kind, start,
                        end, kw, self.u8)  # fmt: skip
        clock.stage("write")
        file_token_offsets = chunk_token_offsets[d_fc]
        return {
            "kind": kind,
            "start": start,
            "end": end,
            "keyword": kw,
            "file_token_offsets": file_token_offsets,
            "file_status": status,
            "file_utf8_error": utf8_err,
        }

    def lex(
        self,
        buffer: npt.NDArray[np.uint8],
        file_offsets: npt.NDArray[np.int64],
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        editions: Any = None,
    ) -> TokenArrays:
        """Copy a host buffer to the device, lex it there, bring the arrays back."""
        file_offsets = np.ascontiguousarray(file_offsets, dtype=np.int64)
        check_buffer(buffer, file_offsets)
        # The simulator copies array arguments back after each launch: give it a writable copy.
        d_buf = np.array(buffer) if SIMULATOR else self.xp.asarray(buffer)
        d = self.lex_device(d_buf, file_offsets, max_file_bytes=max_file_bytes, editions=editions)
        return self.to_host(buffer, file_offsets, d)

    def to_host(
        self, buffer: npt.NDArray[np.uint8], file_offsets: npt.NDArray[np.int64], d: dict[str, Any]
    ) -> TokenArrays:
        get = np.asarray if SIMULATOR else (lambda a: a.get())
        return TokenArrays(
            buffer=buffer,
            file_offsets=file_offsets,
            kind=get(d["kind"]),
            start=get(d["start"]),
            end=get(d["end"]),
            keyword=get(d["keyword"]),
            file_token_offsets=get(d["file_token_offsets"]),
            file_status=get(d["file_status"]),
            file_utf8_error=get(d["file_utf8_error"]),
        )

    def synchronize(self) -> None:
        if not SIMULATOR:
            cuda.synchronize()
            import cupy

            cupy.cuda.get_current_stream().synchronize()
