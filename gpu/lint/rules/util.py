"""Helpers the built-in rules share: statement bounds, thread-index taint, call arguments."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rustg.gpu.lint.context import KIND, KW, LintFile
from rustg.gpu.lint.model import Region

#: Device API calls whose value differs between the threads of a block.
THREAD_WORDS = (
    "thread_idx_x",
    "thread_idx_y",
    "thread_idx_z",
    "thread_idx",
    "global_idx_x",
    "lane_id",
)
GPU = Region.KERNEL | Region.DEVICE


def rows_between(ctx: LintFile, lo: int, hi: int) -> npt.NDArray[np.int64]:
    """Significant rows strictly between ``lo`` and ``hi``."""
    sig = ctx.sig
    a, b = np.searchsorted(sig, [lo + 1, hi], side="left")
    return sig[a:b]


def gpu_fns(ctx: LintFile) -> list[int]:
    """Item rows of the file's kernel and device fns that have a body."""
    return ctx.gpu_fn_items


def tainted_names(ctx: LintFile, lo: int, hi: int) -> set[str]:
    """Names bound by ``let`` in rows lo..hi whose initialiser reads the thread index (directly
    or through another such name): one level of data flow, iterated to a fixed point."""
    rows = rows_between(ctx, lo, hi)
    lets = rows[ctx.keyword[rows] == KW.LET]
    binds: list[tuple[str, set[str]]] = []
    for r in lets.tolist():
        j = int(ctx.nxt[r])
        if j < ctx.n and ctx.keyword[j] == KW.MUT:
            j = int(ctx.nxt[j])
        if j >= ctx.n or ctx.kind[j] != KIND.IDENT:
            continue
        name = ctx.text(j)
        # initialiser: from `=` to the `;` of the same group
        words: set[str] = set()
        p = int(ctx.parent[r])
        depth = ctx.tree.depth
        d = int(depth[r])
        k = j + 1
        seen_eq = False
        while k < hi and k < ctx.n:
            if int(ctx.parent[k]) == p and ctx.kind[k] == KIND.SEMI:
                break
            if int(depth[k]) < d:
                break  # the block ended without a `;`
            if ctx.kind[k] == KIND.EQ:
                seen_eq = True
            elif seen_eq and ctx.kind[k] == KIND.IDENT:
                words.add(ctx.text(k))
            k += 1
        binds.append((name, words))
    tainted = set(THREAD_WORDS)
    changed = True
    while changed:
        changed = False
        for name, words in binds:
            if name not in tainted and words & tainted:
                tainted.add(name)
                changed = True
    return tainted - set(THREAD_WORDS)


def mentions(ctx: LintFile, lo: int, hi: int, words: set[str]) -> bool:
    rows = rows_between(ctx, lo, hi)
    idents = rows[ctx.kind[rows] == KIND.IDENT]
    return any(ctx.text(int(r)) in words for r in idents)


def call_args(ctx: LintFile, open_row: int) -> list[tuple[int, int]]:
    """The top-level comma-separated arguments of the group opened at ``open_row``, as
    (first, last) significant rows."""
    close = int(ctx.match[open_row])
    if close < 0:
        return []
    rows = rows_between(ctx, open_row, close)
    out: list[tuple[int, int]] = []
    start = -1
    for r in rows.tolist():
        if int(ctx.parent[r]) == open_row and ctx.kind[r] == KIND.COMMA:
            if start >= 0:
                out.append((start, int(ctx.prv[r])))
            start = -1
        elif start < 0:
            start = r
    if start >= 0:
        out.append((start, int(ctx.prv[close])))
    return out


def int_value(text: str) -> int | None:
    t = text.replace("_", "")
    for suffix in ("usize", "u64", "u32", "u16", "u8", "isize", "i64", "i32", "i16", "i8"):
        if t.endswith(suffix) and not t.startswith("0x"):
            t = t[: -len(suffix)]
            break
    try:
        return int(t, 0)
    except ValueError:
        return None
