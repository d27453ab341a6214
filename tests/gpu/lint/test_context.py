"""LintFile's derived arrays against their plain definitions."""

from __future__ import annotations

import numpy as np

from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.model import Region

SOURCE = b"""// TODO: one
/// doc
#[cfg(test)]
mod tests {
    fn Mixed_case() { for i in 0..3 { unsafe { f(i); } } } /* XXX */
}
fn outer() { fn inner() { loop { break; } } }
"""


def test_neighbours_are_the_next_and_previous_significant_rows() -> None:
    ctx = LintFile.from_source("a.rs", SOURCE)
    sig = set(np.flatnonzero(ctx.kind >= 16).tolist())
    n = ctx.n
    for r in range(n + 1):
        after = [s for s in sorted(sig) if s > r]
        assert ctx.nxt[r] == (after[0] if after else n)
    for r in range(n):
        before = [s for s in sorted(sig) if s < r]
        assert ctx.prv[r] == (before[-1] if before else -1)


def test_class_counts_and_rows_containing() -> None:
    ctx = LintFile.from_source("a.rs", SOURCE)
    s, e = np.array([0, 5, 40]), np.array([12, 5, 60])
    got = ctx.class_counts(s, e)
    for i in range(3):
        chunk = SOURCE[s[i] : e[i]]
        assert got["upper"][i] == sum(65 <= b <= 90 for b in chunk)
        assert got["lower"][i] == sum(97 <= b <= 122 for b in chunk)
        assert got["under"][i] == chunk.count(b"_")
    rows = ctx.rows_containing(b"TODO", b"XXX", b"nowhere")
    assert [ctx.text(int(r)) for r in rows] == ["// TODO: one", "/* XXX */"]


def test_fn_of_is_the_innermost_fn_body() -> None:
    ctx = LintFile.from_source("a.rs", SOURCE)
    names = {i: ctx.item_name(int(i)) for i in ctx.fn_items.tolist()}
    assert names[int(ctx.fn_of[ctx.word_rows("break")[0]])] == "inner"
    assert names[int(ctx.fn_of[ctx.word_rows("inner")[0]])] == "outer"
    assert ctx.fn_of[0] == -1


def test_region_bits() -> None:
    ctx = LintFile.from_source("a.rs", SOURCE)
    reg = ctx.regions()

    def bits(word: str) -> Region:
        return Region(int(reg[ctx.word_rows(word)[0]]))

    assert bits("f") == Region.TEST | Region.LOOP | Region.UNSAFE | Region.FN
    assert bits("break") == Region.LOOP | Region.FN
    assert bits("inner") == Region.FN
    assert bits("outer") == Region(0)


def test_word_rows_scan_and_index_agree() -> None:
    ctx = LintFile.from_source("a.rs", SOURCE)
    asks = [("fn",), ("for", "loop"), ("i", "fn", "i"), ("nowhere",), ("unsafe",)]
    by_scan = [ctx.word_rows(*a).tolist() for a in asks]  # the first calls scan
    for _ in range(8):
        ctx.word_rows("fn")
    by_index = [ctx.word_rows(*a).tolist() for a in asks]  # later ones use the sorted index
    assert by_scan == by_index
    assert by_scan[2] == sorted(by_scan[2]) and len(by_scan[2]) == len(set(by_scan[2])) + 2
    assert [ctx.text(r) for r in by_scan[1]] == ["for", "loop"]
