"""The token tree on CUDA: the data-parallel formulation of :mod:`rustg.gpu.tree` with its
elementwise chains fused into numba-cuda kernels.

:func:`rustg.gpu.tree._tree_xp` states the algorithm as whole-array steps (NumPy runs it in the
tests, on the whole corpus). On CuPy each of those steps is a kernel and a 16.5M-row temporary
(``int64`` where keys are built): measured on an H200, 9.6 ms for the corpus, mostly memory
traffic of such temporaries. Here one thread per token does a stage's arithmetic in registers;
the scans (``cumsum``), the compactions (``flatnonzero``) and the stable sort of the delimiters
by (file, level) stay CuPy's. The arrays equal the CPU scan's (tests/gpu/test_tree.py: under the
CUDA simulator on small inputs and a corpus sample, and on the whole corpus on a real GPU).

Imported lazily, only when a tree is built with ``xp=cupy`` (it imports ``numba.cuda``).
"""

# Kernel code (see rustg.gpu.lexer): positional array arguments, `==`/`or` chains.
# ruff: noqa: PLR0917
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from numba import cuda

from rustg.gpu import tree as T
from rustg.gpu.cuda_launch import launch, segment_of
from rustg.gpu.timing import StageClock

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
THREADS_PER_BLOCK = 256


@cuda.jit(cache=True)
def k_delta(kind, delta):
    """+1 for an open delimiter, -1 for a close, 0 for anything else."""
    t = cuda.grid(1)
    if t < kind.shape[0]:
        k = kind[t]
        d = 0
        if k >= T._OPEN_PAREN and k <= T._CLOSE_BRACE:
            d = 1 if ((k - T._OPEN_PAREN) & 1) == 0 else -1
        delta[t] = d


@cuda.jit(cache=True)
def k_level(delta, incl, fto, file_of, level):
    """The running depth restarted at each file's first token; a close sits at its open's."""
    t = cuda.grid(1)
    if t < delta.shape[0]:
        f = segment_of(fto, t)
        file_of[t] = f
        first = fto[f]
        before = incl[t] - delta[t] - (incl[first] - delta[first])
        level[t] = before - 1 if delta[t] < 0 else before


@cuda.jit(cache=True)
def k_group(rows, file_of, level, lo_level, n_levels, group):
    j = cuda.grid(1)
    if j < rows.shape[0]:
        r = rows[j]
        group[j] = file_of[r] * n_levels + (level[r] - lo_level)


@cuda.jit(cache=True)
def k_pair(srows, sgroup, delta, match):
    """Adjacent (open, close) entries of one (file, level) bucket, in stable order, pair."""
    j = cuda.grid(1)
    if j + 1 < srows.shape[0]:
        a = srows[j]
        b = srows[j + 1]
        if sgroup[j] == sgroup[j + 1] and delta[a] > 0 and delta[b] < 0:
            match[a] = b
            match[b] = a


@cuda.jit(cache=True)
def k_parent(file_of, level, okeys, orows, lo_level, n_levels, stride, parent):
    """The last open one level up in the same file, before the token: a binary search over
    the opens' sorted (file, level, row) keys."""
    t = cuda.grid(1)
    if t < file_of.shape[0]:
        qgroup = file_of[t] * n_levels + (level[t] - 1 - lo_level)
        q = qgroup * stride + t
        lo = 0  # the number of keys < q
        hi = okeys.shape[0]
        while lo < hi:
            mid = (lo + hi) // 2
            if okeys[mid] < q:
                lo = mid + 1
            else:
                hi = mid
        p = -1
        if lo > 0 and okeys[lo - 1] // stride == qgroup:
            p = orows[lo - 1]
        parent[t] = p


@cuda.jit(cache=True)
def k_unexpected(delta, match, unexpected):
    t = cuda.grid(1)
    if t < delta.shape[0]:
        unexpected[t] = 1 if delta[t] < 0 and match[t] < 0 else 0


@cuda.jit(cache=True)
def k_depth(level, unexpected, u_incl, fto, file_of, depth):
    """Depth = level plus the unmatched closes so far in the file (the stack clamps at 0)."""
    t = cuda.grid(1)
    if t < level.shape[0]:
        first = fto[file_of[t]]
        depth[t] = level[t] + u_incl[t] - (u_incl[first] - unexpected[first])


@cuda.jit(cache=True)
def k_issue(kind, delta, match, issue):
    """The delimiter's anomaly (a DelimIssue value), 0 for none."""
    t = cuda.grid(1)
    if t < kind.shape[0]:
        d = delta[t]
        m = match[t]
        code = 0
        if d > 0 and m < 0:
            code = T._UNCLOSED
        elif d < 0 and m < 0:
            code = T._UNEXPECTED_CLOSE
        elif d > 0 and kind[m] != kind[t] + 1:
            code = T._MISMATCHED
        issue[t] = code


def _launch(kernel: Any, n: int, *args: Any) -> None:
    launch(kernel, n, THREADS_PER_BLOCK, *args)


def tree_cuda(
    xp: ModuleType, kind: Any, file_token_offsets: Any, clock: StageClock
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """(match, parent, depth, diag_kind, diag_open, diag_close) of device arrays."""
    i32 = xp.int32
    n = len(kind)
    match = xp.full(n, -1, dtype=i32)
    if n == 0:
        empty = xp.zeros(0, dtype=i32)
        return match, empty, empty.copy(), xp.zeros(0, dtype=xp.uint8), empty.copy(), empty.copy()
    fto = xp.ascontiguousarray(file_token_offsets, dtype=xp.int64)
    if SIMULATOR:  # the simulator copies array arguments back after each launch: writable
        kind, fto = xp.array(kind), xp.array(fto)
    delta = xp.empty(n, dtype=i32)
    _launch(k_delta, n, kind, delta)
    incl = xp.cumsum(delta, dtype=i32)  # |depth| <= n < 2**31
    file_of = xp.empty(n, dtype=i32)
    level = xp.empty(n, dtype=i32)
    _launch(k_level, n, delta, incl, fto, file_of, level)
    clock.stage("depth_scan")

    rows = xp.flatnonzero(delta).astype(i32)
    n_files = len(fto) - 1
    lv = level[rows]
    lo_level = int(lv.min()) - 1 if len(rows) else -1
    n_levels = (int(lv.max()) if len(rows) else 0) - lo_level + 1
    if (n_files + 1) * n_levels * (n + 1) >= 2**62:
        raise OverflowError("token tree key does not fit int64; lex fewer files at once")
    group = xp.empty(len(rows), dtype=xp.int64)
    _launch(k_group, len(rows), rows, file_of, level, lo_level, n_levels, group)
    order = xp.argsort(group, kind="stable")
    srows = rows[order]
    sgroup = group[order]
    _launch(k_pair, max(len(rows) - 1, 0), srows, sgroup, delta, match)
    clock.stage("sort_and_pair")

    sopen = delta[srows] > 0
    okeys = (sgroup * (n + 1) + srows)[sopen]
    orows = srows[sopen]
    parent = xp.empty(n, dtype=i32)
    _launch(k_parent, n, file_of, level, okeys, orows, lo_level, n_levels, n + 1, parent)
    clock.stage("parent")

    unexpected = xp.empty(n, dtype=i32)
    _launch(k_unexpected, n, delta, match, unexpected)
    u_incl = xp.cumsum(unexpected, dtype=i32)
    depth = xp.empty(n, dtype=i32)
    _launch(k_depth, n, level, unexpected, u_incl, fto, file_of, depth)
    clock.stage("depth")

    # For an unexpected close: the last group opened at depth 0 before it, same file (rare:
    # none in the corpus; plain CuPy steps on the few rows concerned).
    last_top = xp.full(n, -1, dtype=i32)
    u_rows = xp.flatnonzero(unexpected)
    if len(u_rows):
        top_open = xp.flatnonzero((delta > 0) & (depth == 0))
        if len(top_open):
            j = xp.searchsorted(top_open, u_rows, side="left") - 1
            cand = top_open[xp.maximum(j, 0)]
            good = (j >= 0) & (file_of[cand] == file_of[u_rows])
            last_top[u_rows] = xp.where(good, cand, -1).astype(i32)
    clock.stage("last_top")

    issue = xp.empty(n, dtype=xp.uint8)
    _launch(k_issue, n, kind, delta, match, issue)
    d_rows = xp.flatnonzero(issue)
    dk = issue[d_rows]
    unexp = dk == T._UNEXPECTED_CLOSE
    d_open = xp.where(unexp, last_top[d_rows], d_rows).astype(i32)
    d_close = xp.where(dk == T._UNCLOSED, -1, xp.where(unexp, d_rows, match[d_rows])).astype(i32)
    return match, parent, depth, dk, d_open, d_close
