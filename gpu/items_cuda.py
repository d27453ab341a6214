"""The item index on CUDA: vectorised CuPy steps plus numba-cuda kernels over the very
``register_jitable`` scan functions the CPU runs (:mod:`rustg.gpu.items`).

Imported lazily, only when items are built with ``xp=cupy`` (it imports ``numba.cuda``).
The CPU path walks each file with a loop; here each step is data-parallel:

1. significant-token compaction (``flatnonzero``), gathers, and the row -> sig index map
   (one ``cumsum``) that turns the tree's ``match`` into sig-space partners;
2. opaque groups and candidates: the previous one to three tokens come from shifted gathers,
   the "inside an opaque group" count from a segmented ``cumsum``;
3. one thread per candidate runs ``_scan_one``;
4. nesting: an item's depth is the number of earlier items of its file that end at or after
   its head (a ``searchsorted`` over the sorted ends); its parent the last earlier item one
   level up (a ``searchsorted`` over (file, depth, index) keys); "in a body" propagates down
   one level per vectorised step;
5. one thread per item walks its outer attributes, twice (count, then write).

The result equals the CPU's array for array (tests/gpu/test_items.py runs this module with
NumPy under the CUDA simulator on small inputs and a 100-file corpus sample, and on the whole
corpus on a real GPU). Measured on an H100 over the 63 MB corpus (16.5M tokens, 306,181
items): 14.2 ms from device-resident tokens and tree, equal to the CPU's arrays
(bench/results/structure-cuda-h100-20261125.json).
"""

# Kernel code (see rustg.gpu.lexer): positional array arguments.
# ruff: noqa: PLR0917
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from numba import cuda

from rustg.gpu import items as I
from rustg.gpu.timing import StageClock

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
THREADS_PER_BLOCK = 128


@cuda.jit(cache=True)
def k_scan(skind, skw, smatch, sig, cand_idx, cand_hi, out, ok):
    c = cuda.grid(1)
    if c < cand_idx.shape[0]:
        good = I._scan_one(skind, skw, smatch, cand_idx[c], cand_hi[c], out, c)
        ok[c] = good
        if good:
            for col in range(1, 10):
                if col != 7 and out[c, col] >= 0:
                    out[c, col] = sig[out[c, col]]


@cuda.jit(cache=True)
def k_attr_count(kind, match, item_head, item_file_lo, dummy, counts):
    i = cuda.grid(1)
    if i < item_head.shape[0]:
        counts[i] = I._walk_attrs(kind, match, item_head[i], item_file_lo[i], dummy, 0, False)


@cuda.jit(cache=True)
def k_attr_write(kind, start, end, buffer, match, item_head, item_file_lo, offs, rows, akind,
                 attr_table, attr_offs, attr_codes, rustg, test, flags):  # fmt: skip
    i = cuda.grid(1)
    if i < item_head.shape[0]:
        flags[i] = I._item_attrs(i, kind, start, end, buffer, match, item_head, item_file_lo,
                                 offs, rows, akind, attr_table, attr_offs, attr_codes, rustg,
                                 test)  # fmt: skip


def _grid(n: int) -> int:
    return max(1, (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


def _launch(kernel: Any, n: int, *args: Any) -> None:
    if n:
        kernel[_grid(n), THREADS_PER_BLOCK](*args)


def build_items_xp(
    xp: ModuleType,
    kind: Any,
    keyword: Any,
    start: Any,
    end: Any,
    buffer: Any,
    file_token_offsets: Any,
    match: Any,
    parent: Any,
    timings: dict[str, float] | None = None,
) -> I.ItemIndex:
    """The item index from device arrays (``xp`` = CuPy; NumPy under the simulator).
    ``timings`` (benchmarks) receives seconds per step, each synchronised."""
    clock = StageClock(timings, xp)
    if SIMULATOR:
        # The simulator copies array arguments back after each launch: writable copies.
        kind, keyword, start, end, buffer, file_token_offsets, match, parent = (
            xp.array(a)
            for a in (kind, keyword, start, end, buffer, file_token_offsets, match, parent)
        )
    n_files = len(file_token_offsets) - 1
    fto = file_token_offsets.astype(xp.int64)
    # 1. sig space
    is_sig = kind >= 16
    sig = xp.flatnonzero(is_sig).astype(xp.int32)
    n_sig = len(sig)
    sigpos = (xp.cumsum(is_sig, dtype=xp.int64) - 1).astype(xp.int32)
    skind = kind[sig]
    skw = keyword[sig]
    m = match[sig]
    smatch = xp.where(m >= 0, sigpos[xp.maximum(m, 0)], -1).astype(xp.int32)
    p = parent[sig]
    sparent_kind = xp.where(p >= 0, kind[xp.maximum(p, 0)], 0).astype(xp.uint8)
    file_sig_offsets = xp.searchsorted(sig, fto, side="left").astype(xp.int64)
    idx = xp.arange(n_sig, dtype=xp.int64)
    sfile = xp.searchsorted(file_sig_offsets, idx, side="right") - 1
    lo = file_sig_offsets[xp.clip(sfile, 0, max(n_files - 1, 0))] if n_files else idx

    clock.stage("1_sig_space")

    def prev(a: Any, k: int, fill: int) -> Any:
        j = idx - k
        return xp.where(j >= lo, a[xp.maximum(j, 0)], fill) if n_sig else a

    # 2. opaque groups and candidates (the rules of items._opaque_and_candidates)
    sk = skind.astype(xp.int32)
    sw = skw.astype(xp.int32)
    pk1, pk2, pk3 = prev(sk, 1, 255), prev(sk, 2, 255), prev(sk, 3, 255)
    pw2, pw3 = prev(sw, 2, 255), prev(sw, 3, 255)
    weak = I._W_FIRST_WEAK
    is_open = (sk == I._K_OPEN_PAREN) | (sk == I._K_OPEN_BRACKET) | (sk == I._K_OPEN_BRACE)
    name2 = ((pk2 == I._K_IDENT) & ((pw2 == 0) | (pw2 >= weak))) | (pk2 == I._K_RAW_IDENT)
    opaque = is_open & (
        ((sk == I._K_OPEN_BRACKET) & (pk1 == I._K_POUND))
        | ((pk1 == I._K_BANG) & (((sk == I._K_OPEN_BRACKET) & (pk2 == I._K_POUND)) | name2))
        | (
            ((pk1 == I._K_IDENT) | (pk1 == I._K_RAW_IDENT))
            & (pk2 == I._K_BANG)
            & (pk3 == I._K_IDENT)
            & ((pw3 == 0) | (pw3 >= weak))
        )
    )
    hi = file_sig_offsets[xp.clip(sfile + 1, 0, n_files)] if n_files else idx
    opaque &= idx + 1 < hi
    plus = xp.zeros(n_sig + 1, dtype=xp.int32)
    minus = xp.zeros(n_sig + 1, dtype=xp.int32)
    o_rows = xp.flatnonzero(opaque)
    plus[o_rows + 1] = 1  # distinct positions: plain scatter, no atomics
    closed = o_rows[smatch[o_rows] >= 0]
    minus[smatch[closed]] = 1
    delta = (plus - minus)[:n_sig]
    c = xp.cumsum(delta, dtype=xp.int64)
    inside = c - (c - delta)[lo] if n_sig else c
    head_words = xp.asarray(I._HEAD_WORDS)
    pm1 = prev(smatch, 1, -1)
    pm1c = xp.maximum(pm1, 0)
    attr_close = (
        (pk1 == I._K_CLOSE_BRACKET)
        & (pm1 >= lo + 1)
        & (
            (sk[xp.maximum(pm1c - 1, 0)] == I._K_POUND)
            | (
                (sk[xp.maximum(pm1c - 1, 0)] == I._K_BANG)
                & (pm1 >= lo + 2)
                & (sk[xp.maximum(pm1c - 2, 0)] == I._K_POUND)
            )
        )
    )
    cand = (
        (inside <= 0)
        & (sk == I._K_IDENT)
        & head_words[skw]
        & ((sparent_kind == 0) | (sparent_kind == I._K_OPEN_BRACE))
        & (
            (idx == lo)
            | (pk1 == I._K_SEMI)
            | (pk1 == I._K_OPEN_BRACE)
            | (pk1 == I._K_CLOSE_BRACE)
            | attr_close
        )
    )
    cand_idx = xp.flatnonzero(cand).astype(xp.int64)
    cand_file = sfile[cand_idx]
    cand_hi = file_sig_offsets[cand_file + 1]

    clock.stage("2_candidates")
    # 3. one thread per candidate
    out = xp.full((len(cand_idx), 11), -1, dtype=xp.int32)
    ok = xp.zeros(len(cand_idx), dtype=xp.bool_)
    _launch(k_scan, len(cand_idx), skind, skw, smatch, sig, cand_idx, cand_hi, out, ok)
    rec = out[ok]
    file_of = cand_file[ok].astype(xp.int32)
    n = len(rec)

    def col(k: int) -> Any:
        return xp.ascontiguousarray(rec[:, k])

    head, end_row, ikind = col(1), col(2), col(0).astype(xp.uint8)

    clock.stage("3_scan")
    # 4. nesting
    file_item_offsets = xp.searchsorted(
        file_of, xp.arange(n_files + 1, dtype=xp.int32), side="left"
    ).astype(xp.int64)
    items_idx = xp.arange(n, dtype=xp.int64)
    f64 = file_of.astype(xp.int64)
    pos_in_file = items_idx - file_item_offsets[f64] if n else items_idx
    big = len(kind) + 1
    end_keys = xp.sort(f64 * big + end_row.astype(xp.int64))
    ended_before = (
        xp.searchsorted(end_keys, f64 * big + head.astype(xp.int64), side="left")
        - file_item_offsets[f64]
        if n
        else items_idx
    )
    depth = (pos_in_file - ended_before).astype(xp.int32)
    parent_item = xp.full(n, -1, dtype=xp.int32)
    if n:
        levels = int(depth.max()) + 2
        key = (f64 * levels + depth.astype(xp.int64)) * (n + 1) + items_idx
        order = xp.argsort(key)
        skey = key[order]
        q = (f64 * levels + depth.astype(xp.int64) - 1) * (n + 1) + items_idx
        j = xp.searchsorted(skey, q, side="left") - 1
        jc = xp.maximum(j, 0)
        good = (j >= 0) & (skey[jc] // (n + 1) == q // (n + 1)) & (depth > 0)
        parent_item = xp.where(good, order[jc], -1).astype(xp.int32)
    pk = xp.where(parent_item >= 0, ikind[xp.maximum(parent_item, 0)], 0)
    container = (pk == I._I_MOD) | (pk == I._I_IMPL) | (pk == I._I_TRAIT)
    container |= pk == I._I_EXTERN_BLOCK
    in_body = (parent_item >= 0) & ~container
    has_parent = parent_item >= 0
    pc = xp.maximum(parent_item, 0)
    for _ in range(int(depth.max()) if n else 0):
        in_body = in_body | (has_parent & in_body[pc])

    clock.stage("4_nesting")
    # 5. attributes
    item_file_lo = fto[:-1][f64] if n else xp.zeros(0, dtype=xp.int64)
    counts = xp.zeros(n, dtype=xp.int64)
    dummy = xp.zeros((1, 2), dtype=xp.int32)
    _launch(k_attr_count, n, kind, match, head, item_file_lo, dummy, counts)
    attr_offsets = xp.zeros(n + 1, dtype=xp.int64)
    if n:
        xp.cumsum(counts, out=attr_offsets[1:])
    total = int(attr_offsets[-1])
    rows = xp.empty((total, 2), dtype=xp.int32)
    akind = xp.zeros(total, dtype=xp.uint8)
    aflags = xp.zeros(n, dtype=xp.uint32)
    tables = [
        xp.asarray(t) for t in (I._ATTR_TABLE, I._ATTR_OFFS, I._ATTR_CODES, I._RUSTG, I._TEST)
    ]
    _launch(k_attr_write, n, kind, start, end, buffer, match, head, item_file_lo, attr_offsets,
            rows, akind, *tables, aflags)  # fmt: skip
    flags = col(10).astype(xp.uint32) | aflags
    flags |= xp.where(in_body, xp.uint32(I.ItemFlag.IN_BODY), xp.uint32(0)).astype(xp.uint32)
    has_attr = attr_offsets[1:] > attr_offsets[:-1]
    first_attr = (
        xp.where(has_attr, rows[xp.minimum(attr_offsets[:-1], max(total - 1, 0)), 0], head)
        if total
        else head
    ).astype(xp.int32)
    clock.stage("5_attributes")
    return I.ItemIndex(
        kind=ikind,
        file=file_of,
        head=head,
        start=first_attr,
        end=end_row,
        name_first=col(3),
        name_last=col(4),
        trait_first=col(5),
        trait_last=col(6),
        vis=col(7).astype(xp.uint8),
        vis_open=col(8),
        body=col(9),
        parent=parent_item,
        depth=depth,
        flags=flags,
        file_item_offsets=file_item_offsets,
        attr_offsets=attr_offsets,
        attr_kind=akind,
        attr_start=xp.ascontiguousarray(rows[:, 0]),
        attr_end=xp.ascontiguousarray(rows[:, 1]),
    )
