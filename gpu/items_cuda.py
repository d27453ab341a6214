"""The item index on CUDA: vectorised CuPy steps plus numba-cuda kernels over the very
``register_jitable`` scan functions the CPU runs (:mod:`rustg.gpu.items`).

Imported lazily, only when items are built with ``xp=cupy`` (it imports ``numba.cuda``).
The CPU path walks each file with a loop; here each step is data-parallel:

1. significant-token compaction (``flatnonzero``), then one thread per significant token
   gathers its kind, keyword, sig-space partner, parent kind and file (``k_sig_space``);
2. opaque groups and candidates, one thread per significant token: the +1/-1 marks of macro
   and attribute groups (``k_opaque_marks``), their running count (one ``cumsum``), then the
   candidate rules (``k_candidates``). As ~45 CuPy elementwise steps these took 7.8 ms on
   an H200; fused, 1.4 ms (bench/results/engine-profile-h200-2026-12-03.json);
3. one thread per candidate runs ``_scan_one``;
4. nesting: an item's depth is the number of earlier items of its file that end at or after
   its head (a ``searchsorted`` over the sorted ends); its parent the last earlier item one
   level up (a ``searchsorted`` over (file, depth, index) keys); "in a body" (some item up
   its parent chain sits in a fn body or initialiser, not in a mod/impl/trait/extern
   block) is one thread per item walking that chain;
5. one thread per item walks its outer attributes, twice (count, then write).

The result equals the CPU's array for array (tests/gpu/test_items.py runs this module with
NumPy under the CUDA simulator on small inputs and a 100-file corpus sample, and on the whole
corpus on a real GPU). Measured on an H200 over the 63 MB corpus (16.5M tokens): 8.0 ms
from device-resident tokens and tree, equal to the CPU's arrays
(bench/results/engine-gpu-h200-2026-12-03-run3.json).
"""

# Kernel code (see rustg.gpu.lexer): positional array arguments.
# ruff: noqa: PLR0917, PLR1714
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from numba import cuda

from rustg.gpu import items as I
from rustg.gpu.cuda_launch import launch, segment_of
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


# Steps 1 and 2, one thread per significant token (sig row) i. The rules are those of
# items._opaque_and_candidates; a token before the file's first sig row reads as kind 255.
@cuda.jit(cache=True)
def k_sig_space(kind, keyword, match, parent, sig, sigpos, file_sig_offsets, skind, skw, smatch,
                sparent_kind, sfile):  # fmt: skip
    i = cuda.grid(1)
    if i < sig.shape[0]:
        t = sig[i]
        skind[i] = kind[t]
        skw[i] = keyword[t]
        m = match[t]
        smatch[i] = sigpos[m] if m >= 0 else -1
        p = parent[t]
        sparent_kind[i] = kind[p] if p >= 0 else 0
        sfile[i] = segment_of(file_sig_offsets, i)


@cuda.jit(device=True)
def _prev(a, i, k, first, fill):
    return a[i - k] if i - k >= first else fill


@cuda.jit(cache=True)
def k_opaque_marks(skind, skw, smatch, sfile, file_sig_offsets, delta):
    """+1 after an opening delimiter of a macro call or attribute, -1 at its close."""
    i = cuda.grid(1)
    if i < skind.shape[0]:
        f = sfile[i]
        first = file_sig_offsets[f]
        k = skind[i]
        if k != I._K_OPEN_PAREN and k != I._K_OPEN_BRACKET and k != I._K_OPEN_BRACE:
            return
        if i + 1 >= file_sig_offsets[f + 1]:
            return
        pk1 = _prev(skind, i, 1, first, 255)
        pk2 = _prev(skind, i, 2, first, 255)
        pk3 = _prev(skind, i, 3, first, 255)
        pw2 = _prev(skw, i, 2, first, 255)
        pw3 = _prev(skw, i, 3, first, 255)
        weak = I._W_FIRST_WEAK
        name2 = (pk2 == I._K_IDENT and (pw2 == 0 or pw2 >= weak)) or pk2 == I._K_RAW_IDENT
        opaque = (
            (k == I._K_OPEN_BRACKET and pk1 == I._K_POUND)
            or (pk1 == I._K_BANG and ((k == I._K_OPEN_BRACKET and pk2 == I._K_POUND) or name2))
            or (
                (pk1 == I._K_IDENT or pk1 == I._K_RAW_IDENT)
                and pk2 == I._K_BANG
                and pk3 == I._K_IDENT
                and (pw3 == 0 or pw3 >= weak)
            )
        )
        if opaque:
            cuda.atomic.add(delta, i + 1, 1)  # "#[]": its close is the row after its open
            m = smatch[i]
            if m >= 0:
                cuda.atomic.add(delta, m, -1)


@cuda.jit(cache=True)
def k_candidates(skind, skw, smatch, sparent_kind, sfile, file_sig_offsets, delta, running,
                 head_words, cand):  # fmt: skip
    """Row i may start an item: outside opaque groups, a head word at the start of a
    statement position (file start, after ';', '{', '}' or an attribute's ']')."""
    i = cuda.grid(1)
    if i < skind.shape[0]:
        f = sfile[i]
        first = file_sig_offsets[f]
        cand[i] = 0
        inside = running[i] - running[first] + delta[first]
        if inside > 0 or skind[i] != I._K_IDENT or head_words[skw[i]] == 0:
            return
        spk = sparent_kind[i]
        if spk != 0 and spk != I._K_OPEN_BRACE:
            return
        if i == first:
            cand[i] = 1
            return
        pk1 = skind[i - 1]
        if pk1 == I._K_SEMI or pk1 == I._K_OPEN_BRACE or pk1 == I._K_CLOSE_BRACE:
            cand[i] = 1
            return
        if pk1 != I._K_CLOSE_BRACKET:
            return
        pm1 = smatch[i - 1]
        if pm1 < first + 1:
            return
        b1 = skind[pm1 - 1]
        if b1 == I._K_POUND or (
            b1 == I._K_BANG and pm1 >= first + 2 and skind[pm1 - 2] == I._K_POUND
        ):
            cand[i] = 1


@cuda.jit(cache=True)
def k_in_body(parent_item, ikind, in_body):
    """Whether item i or one of its ancestors has a parent other than a container (mod, impl,
    trait, extern block): then i is inside a body. Parents come earlier, so the walk ends."""
    i = cuda.grid(1)
    if i < parent_item.shape[0]:
        r = 0
        a = i
        while a >= 0:
            p = parent_item[a]
            if p < 0:
                break
            pk = ikind[p]
            if pk != I._I_MOD and pk != I._I_IMPL and pk != I._I_TRAIT and pk != I._I_EXTERN_BLOCK:
                r = 1
                break
            a = p
        in_body[i] = r


def _launch(kernel: Any, n: int, *args: Any) -> None:
    launch(kernel, n, THREADS_PER_BLOCK, *args)


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
    # 1. sig space: the significant tokens, their file, and their links in sig rows
    is_sig = kind >= 16
    sig = xp.flatnonzero(is_sig).astype(xp.int32)
    n_sig = len(sig)
    sigpos = (xp.cumsum(is_sig, dtype=xp.int32) - 1).astype(xp.int32)
    file_sig_offsets = xp.searchsorted(sig, fto, side="left").astype(xp.int64)
    skind = xp.empty(n_sig, dtype=xp.uint8)
    skw = xp.empty(n_sig, dtype=xp.uint8)
    smatch = xp.empty(n_sig, dtype=xp.int32)
    sparent_kind = xp.empty(n_sig, dtype=xp.uint8)
    sfile = xp.empty(n_sig, dtype=xp.int32)
    _launch(k_sig_space, n_sig, kind, keyword, match, parent, sig, sigpos, file_sig_offsets,
            skind, skw, smatch, sparent_kind, sfile)  # fmt: skip
    clock.stage("1_sig_space")
    # 2. opaque groups (their +1/-1 marks, then a segmented count) and candidates
    delta = xp.zeros(n_sig + 1, dtype=xp.int32)
    _launch(k_opaque_marks, n_sig, skind, skw, smatch, sfile, file_sig_offsets, delta)
    running = xp.cumsum(delta[:n_sig], dtype=xp.int32)
    cand = xp.empty(n_sig, dtype=xp.uint8)
    head_words = xp.asarray(I._HEAD_WORDS.astype("uint8"))
    _launch(k_candidates, n_sig, skind, skw, smatch, sparent_kind, sfile, file_sig_offsets,
            delta, running, head_words, cand)  # fmt: skip
    cand_idx = xp.flatnonzero(cand).astype(xp.int64)
    cand_file = sfile[cand_idx].astype(xp.int64)
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
    in_body = xp.empty(n, dtype=xp.uint8)
    _launch(k_in_body, n, parent_item, ikind, in_body)

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
    flags |= xp.where(in_body != 0, xp.uint32(I.ItemFlag.IN_BODY), xp.uint32(0)).astype(xp.uint32)
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
