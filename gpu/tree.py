"""Token tree: delimiter matching, parent links and nesting depth over the token arrays.

Input is a :class:`~rustg.gpu.tokens.TokenArrays` (many files, one buffer). Output is a
:class:`TokenTree`, three ``int32`` arrays with one row per token row of the input:

=========  ==================================================================================
``match``  for ``( [ {`` and ``) ] }``: the row of the partner delimiter, ``-1`` when unpaired;
           ``-1`` for every other token
``parent`` the row of the innermost open delimiter enclosing the token, ``-1`` at top level.
           For a delimiter it is the group *around* its pair: a ``)`` has the same parent as
           its ``(``, never the ``(`` itself
``depth``  the number of enclosing groups (``0`` at top level), i.e. the length of the
           ``parent`` chain
=========  ==================================================================================

Trivia (whitespace, comments) carry delta 0 and so never change a depth; they get ``parent`` and
``depth`` like any token, ``match = -1``. Files never pair across each other.

Pairing (the definition)
------------------------
Delimiters pair as a stack would pair them *ignoring their kinds*: a close pops the innermost
open group; a close with nothing open is unpaired ("unexpected"); opens left at end of file are
unpaired ("unclosed"); a pair whose kinds differ (``( ]``) stays paired, so the structure around
a typo survives, and is reported as "mismatched". Every anomaly becomes one row of the
diagnostic arrays with both positions: the open and the offending close (for an unclosed
delimiter the close is the end of its file; for an unexpected close the "open" is the last
top-level group closed before it, which is what rustc points at too: "this opening brace...
...matches this closing brace").

Two implementations, one result
-------------------------------
* ``cuda`` (CuPy): data-parallel. Depth is a segmented prefix sum over +1/-1; an open's level is
  the depth before it, a close's the depth after it. Delimiters sorted stably by (file, level)
  pair up as adjacent (open, close) entries of the same bucket, which is exactly the stack's
  pairing: between an open and its close every level is higher, and the unmatched closes that
  drive the running sum below zero shift all later levels uniformly. Parents are found by one
  ``searchsorted`` over the sorted opens ("the last open one level up, before me"); the
  corrected depth subtracts a second prefix sum (unmatched closes so far).
* ``cpu`` (numba ``njit``, parallel over files): a linear stack scan per file, which gives
  the same arrays (the pairing above *is* the stack's). On a CPU the sort-based formulation
  run through NumPy is far slower (measured on the 63 MB corpus: 5.4 s against 0.1 to 0.4 s for
  the scan, on a loaded 2-core machine), so the CPU runs the scan. Both are checked
  array-for-array against each other on the whole corpus in tests/gpu/test_tree.py (the
  data-parallel one runs there on NumPy: the same code CuPy runs). On the GPU the same steps run
  as the fused kernels of :mod:`rustg.gpu.tree_cuda`: 5.2 ms over the 16.5M tokens on an H200
  (9.6 ms as plain CuPy steps), equal to the CPU arrays (bench/results/
  engine-gpu-h200-2026-12-03-run3.json; the gpu-marked corpus test passed there).
"""

# Kernel code (numba, written to compile for CUDA too): many positional array arguments, `==`/`or`
# chains instead of container membership (unsupported in CUDA device code), explicit loops.
# ruff: noqa: PLR0917
# mypy: allow-untyped-defs

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from rustg.gpu.timing import StageClock
from rustg.gpu.tokens import TokenArrays, TokenKind

__all__ = [
    "DelimIssue",
    "TokenTree",
    "build_tree",
    "build_tree_arrays",
]

_OPEN_PAREN = int(TokenKind.OPEN_PAREN)
_CLOSE_BRACE = int(TokenKind.CLOSE_BRACE)


class DelimIssue(enum.IntEnum):
    """What is wrong with a delimiter; stored as ``uint8`` in :attr:`TokenTree.diag_kind`."""

    UNCLOSED = 1  # an open delimiter never closed before the end of its file
    UNEXPECTED_CLOSE = 2  # a close delimiter with no open group
    MISMATCHED = 3  # a pair whose kinds differ, e.g. ``( ]``


_UNCLOSED = int(DelimIssue.UNCLOSED)
_UNEXPECTED_CLOSE = int(DelimIssue.UNEXPECTED_CLOSE)
_MISMATCHED = int(DelimIssue.MISMATCHED)


@dataclass(frozen=True, slots=True, eq=False)
class TokenTree:
    """Tree links per token row, and the delimiter anomalies (rows sorted by position).

    Arrays are NumPy on the CPU backend and CuPy on the CUDA backend.
    ``diag_open``/``diag_close`` are token rows or ``-1`` (an unclosed delimiter has no close;
    an unexpected close has an "open" only when some top-level group precedes it).
    """

    match: Any
    parent: Any
    depth: Any
    diag_kind: Any
    diag_open: Any
    diag_close: Any

    def __len__(self) -> int:
        return len(self.match)

    def nbytes(self) -> int:
        return sum(
            int(a.nbytes)
            for a in (
                self.match,
                self.parent,
                self.depth,
                self.diag_kind,
                self.diag_open,
                self.diag_close,
            )
        )

    def to_host(self) -> TokenTree:
        """A copy with NumPy arrays (a no-op copy-free view when already on the host)."""
        return TokenTree(*(_to_numpy(getattr(self, f)) for f in _FIELDS))

    def same_as(self, other: TokenTree) -> bool:
        a, b = self.to_host(), other.to_host()
        return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in _FIELDS)


_FIELDS = ("match", "parent", "depth", "diag_kind", "diag_open", "diag_close")


def _to_numpy(a: Any) -> npt.NDArray[Any]:
    return a if isinstance(a, np.ndarray) else a.get()


# ---------------------------------------------------------------------------------------------
# CPU: stack scan per file, files in parallel


@numba.njit(cache=True, parallel=True, nogil=True)
def _tree_scan(kind, file_token_offsets, match, parent, depth, n_diag):  # pragma: no cover
    """Per file, one stack scan writes every row's match, parent and depth. Most rows are
    not delimiters: they take the current ``top`` and ``sp`` with no stack access. The stack
    is as long as the file (only its touched pages are faulted in)."""
    for f in numba.prange(len(file_token_offsets) - 1):
        lo = file_token_offsets[f]
        hi = file_token_offsets[f + 1]
        stack = np.empty(hi - lo + 1, dtype=np.int32)
        sp = 0
        top = -1  # stack[sp - 1], or -1 at top level
        anomalies = 0
        for i in range(lo, hi):
            k = kind[i]
            match[i] = -1
            parent[i] = top
            depth[i] = sp
            if k < _OPEN_PAREN or k > _CLOSE_BRACE:
                continue
            if (k - _OPEN_PAREN) % 2 == 0:
                stack[sp] = i
                sp += 1
                top = i
            elif sp > 0:
                sp -= 1
                o = stack[sp]
                match[o] = i
                match[i] = o
                top = stack[sp - 1] if sp > 0 else -1
                parent[i] = top  # the open's parent
                depth[i] = sp
                if kind[o] + 1 != k:
                    anomalies += 1  # mismatched
            else:
                anomalies += 1  # unexpected close (parent -1, depth 0 as written)
        n_diag[f] = anomalies + sp  # + unclosed


@numba.njit(cache=True, parallel=True, nogil=True)
def _tree_diag(
    kind, file_token_offsets, match, depth, diag_offsets, dk, d_open, d_close
):  # pragma: no cover
    for f in numba.prange(len(file_token_offsets) - 1):
        q = diag_offsets[f]
        if diag_offsets[f + 1] == q:
            continue
        top_level_open = -1  # the last group opened at depth 0 (for unexpected closes)
        for i in range(file_token_offsets[f], file_token_offsets[f + 1]):
            k = kind[i]
            if k < _OPEN_PAREN or k > _CLOSE_BRACE:
                continue
            m = match[i]
            if (k - _OPEN_PAREN) % 2 == 0:
                if depth[i] == 0:
                    top_level_open = i
                if m < 0:
                    dk[q] = _UNCLOSED
                    d_open[q] = i
                    d_close[q] = -1
                    q += 1
                elif kind[m] != k + 1:
                    dk[q] = _MISMATCHED
                    d_open[q] = i
                    d_close[q] = m
                    q += 1
            elif m < 0:
                dk[q] = _UNEXPECTED_CLOSE
                d_open[q] = top_level_open
                d_close[q] = i
                q += 1


def _tree_cpu(
    kind: npt.NDArray[np.uint8], file_token_offsets: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[Any], ...]:
    n = len(kind)
    n_files = len(file_token_offsets) - 1
    match = np.empty(n, dtype=np.int32)
    parent = np.empty(n, dtype=np.int32)
    depth = np.empty(n, dtype=np.int32)
    n_diag = np.zeros(n_files, dtype=np.int64)
    _tree_scan(kind, file_token_offsets, match, parent, depth, n_diag)
    diag_offsets = np.zeros(n_files + 1, dtype=np.int64)
    np.cumsum(n_diag, out=diag_offsets[1:])
    total = int(diag_offsets[-1])
    dk = np.empty(total, dtype=np.uint8)
    d_open = np.empty(total, dtype=np.int32)
    d_close = np.empty(total, dtype=np.int32)
    if total:
        _tree_diag(kind, file_token_offsets, match, depth, diag_offsets, dk, d_open, d_close)
    return match, parent, depth, dk, d_open, d_close


# ---------------------------------------------------------------------------------------------
# Data-parallel formulation on an array module (CuPy on the GPU; NumPy for the equality tests)


def _tree_xp(
    xp: ModuleType, kind: Any, file_token_offsets: Any, clock: StageClock | None = None
) -> tuple[Any, Any, Any, Any]:
    clock = clock or StageClock(None, xp)
    n = len(kind)
    n_files = len(file_token_offsets) - 1
    match = xp.full(n, -1, dtype=xp.int32)
    if n == 0:
        empty = xp.zeros(0, dtype=xp.int32)
        return match, empty, empty.copy(), empty.copy()
    k = kind.astype(xp.int32)
    is_delim = (k >= _OPEN_PAREN) & (k <= _CLOSE_BRACE)
    is_open = is_delim & (((k - _OPEN_PAREN) & 1) == 0)
    is_close = is_delim & ~is_open
    delta = is_open.astype(xp.int32) - is_close.astype(xp.int32)

    # Segmented prefix sum: the running depth restarts at every file's first token.
    counts = xp.diff(file_token_offsets)
    file_of = xp.repeat(xp.arange(n_files, dtype=xp.int64), counts.astype(xp.int64))
    incl = xp.cumsum(delta, dtype=xp.int64)
    before = incl - delta
    base = before[xp.minimum(file_token_offsets[:-1], n - 1)]  # empty files: never indexed
    before = before - base[file_of]
    level = before - is_close.astype(xp.int64)  # a close sits at the level of its open
    clock.stage("depth_scan")

    # Pair adjacent (open, close) entries of each (file, level) bucket in stable sorted order.
    rows = xp.flatnonzero(is_delim)
    lv = level[rows]
    lo_level = int(lv.min()) - 1 if len(rows) else -1
    n_levels = (int(lv.max()) if len(rows) else 0) - lo_level + 1
    if (n_files + 1) * n_levels * (n + 1) >= 2**62:
        raise OverflowError("token tree key does not fit int64; lex fewer files at once")
    group = file_of[rows] * n_levels + (lv - lo_level)
    order = xp.argsort(group, kind="stable")
    srows = rows[order]
    sgroup = group[order]
    sopen = is_open[srows]
    pair = (sgroup[:-1] == sgroup[1:]) & sopen[:-1] & ~sopen[1:]
    a = srows[:-1][pair]
    b = srows[1:][pair]
    match[a] = b.astype(xp.int32)
    match[b] = a.astype(xp.int32)
    clock.stage("sort_and_pair")

    # Parent: the last open one level up in the same file, before the token.
    okeys = (sgroup * (n + 1) + srows)[sopen]
    orows = srows[sopen]
    all_rows = xp.arange(n, dtype=xp.int64)
    qgroup = file_of * n_levels + (level - 1 - lo_level)
    q = qgroup * (n + 1) + all_rows
    idx = xp.searchsorted(okeys, q, side="left") - 1
    ok = idx >= 0
    idx_c = xp.maximum(idx, 0)
    if len(okeys):
        ok &= (okeys[idx_c] // (n + 1)) == qgroup
        parent = xp.where(ok, orows[idx_c], -1).astype(xp.int32)
    else:
        parent = xp.full(n, -1, dtype=xp.int32)
    clock.stage("parent")

    # Depth = running level minus the unmatched closes so far in the file (the stack clamps
    # at zero where the raw sum goes negative).
    unexpected = is_close & (match < 0)
    u_incl = xp.cumsum(unexpected.astype(xp.int64))
    u_base = (u_incl - unexpected)[xp.minimum(file_token_offsets[:-1], n - 1)]
    shift = u_incl - u_base[file_of]
    depth = (level + shift).astype(xp.int32)
    clock.stage("depth")

    # For an unexpected close: the last group opened at depth 0 before it, same file.
    last_top = xp.full(n, -1, dtype=xp.int32)
    u_rows = xp.flatnonzero(unexpected)
    if len(u_rows):
        top_open = xp.flatnonzero(is_open & (depth == 0))
        j = xp.searchsorted(top_open, u_rows, side="left") - 1
        jc = xp.maximum(j, 0)
        if len(top_open):
            cand = top_open[jc]
            good = (j >= 0) & (file_of[cand] == file_of[u_rows])
            last_top[u_rows] = xp.where(good, cand, -1).astype(xp.int32)
    clock.stage("last_top")
    return match, parent, depth, last_top


def _diagnostics(xp: ModuleType, kind: Any, match: Any, last_top: Any) -> tuple[Any, Any, Any]:
    k = kind.astype(xp.int32)
    is_delim = (k >= _OPEN_PAREN) & (k <= _CLOSE_BRACE)
    is_open = is_delim & (((k - _OPEN_PAREN) & 1) == 0)
    is_close = is_delim & ~is_open
    partner_kind = k[xp.maximum(match, 0)]
    unclosed = is_open & (match < 0)
    unexpected = is_close & (match < 0)
    mismatched = is_open & (match >= 0) & (partner_kind != k + 1)
    # One row per anomaly, keyed by the token that a reader would look at first: the open of
    # an unclosed or mismatched pair, the stray close of an unexpected one.
    rows = xp.flatnonzero(unclosed | unexpected | mismatched)
    dk = xp.where(
        unclosed[rows],
        int(DelimIssue.UNCLOSED),
        xp.where(unexpected[rows], int(DelimIssue.UNEXPECTED_CLOSE), int(DelimIssue.MISMATCHED)),
    ).astype(xp.uint8)
    d_open = xp.where(unexpected[rows], last_top[rows], rows).astype(xp.int32)
    d_close = xp.where(unclosed[rows], -1, xp.where(unexpected[rows], rows, match[rows])).astype(
        xp.int32
    )
    return dk, d_open, d_close


def build_tree_arrays(
    kind: Any,
    file_token_offsets: Any,
    *,
    xp: ModuleType | None = None,
    timings: dict[str, float] | None = None,
) -> TokenTree:
    """The tree of raw arrays. ``xp=None`` runs the numba scan; ``xp=numpy``/``cupy`` runs the
    data-parallel formulation: with NumPy step by step, with CuPy (the CUDA backend) as the
    fused kernels of :mod:`rustg.gpu.tree_cuda`.
    ``timings`` (data-parallel only; benchmarks) receives seconds per stage, synchronised."""
    if xp is None:
        kind_h = np.ascontiguousarray(kind, dtype=np.uint8)
        offs = np.ascontiguousarray(file_token_offsets, dtype=np.int64)
        match, parent, depth, dk, d_open, d_close = _tree_cpu(kind_h, offs)
    else:
        kind = xp.asarray(kind)  # host arrays are uploaded (a no-op for device/NumPy arrays)
        file_token_offsets = xp.asarray(file_token_offsets)
        clock = StageClock(timings, xp)
        if xp is np:  # the formulation itself, step by step (the tests' reference)
            match, parent, depth, last_top = _tree_xp(xp, kind, file_token_offsets, clock)
            dk, d_open, d_close = _diagnostics(xp, kind, match, last_top)
        else:  # CuPy: the same steps, elementwise chains fused into kernels
            from rustg.gpu.tree_cuda import tree_cuda

            match, parent, depth, dk, d_open, d_close = tree_cuda(
                xp, kind, file_token_offsets, clock
            )
        clock.stage("diagnostics")
    return TokenTree(match, parent, depth, dk, d_open, d_close)


def build_tree(arrays: TokenArrays, *, xp: ModuleType | None = None) -> TokenTree:
    """The tree of lexed files; see :func:`build_tree_arrays` for ``xp``."""
    return build_tree_arrays(arrays.kind, arrays.file_token_offsets, xp=xp)
