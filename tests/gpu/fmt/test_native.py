"""Native formatter: exact text against rustfmt on small checked-in cases.

Each ``data/native/NAME.rs`` is an unformatted input and ``NAME.out.rs`` the installed
rustfmt's output for it (``rustfmt --edition 2021``, generated once and checked in). For every
top-level item the native printer covers, its text must equal the item's text in the output;
``covered_*`` cases must be covered completely, ``refused.rs`` not at all (each of its items
holds something the printer must leave to rustfmt: a trailing comment followed by an own-line
one or after a tail expression, a where clause on an empty
struct, derives rustfmt merges,
rustfmt::skip (also ending an unsorted use group where it stands), a macro definition,
unsorted use groups in a block and in an inline module, an attribute on a block-like
statement, an if/else whose branch is a macro call, and wide calls rustfmt lays out other than
one argument a line: short arguments it packs, a closure last, a format-like macro; and
closure calls it does not overflow or may not: a closure after wide arguments, a short one
on a chain, one on a chain over chain_width; use lists nested twice or holding a
one-member nested list; a chain whose last call rustfmt overflows; a format-like macro whose
leading arguments are simple; a struct literal argument of a nested call; wide arrays of
raw strings (is_simple_expr not read from them) or with a closure last; closure bodies
rustfmt prints without braces (an if/else, an empty loop); a nested struct literal whose
first line reaches max_width).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rustg.gpu.fmt.config import FmtConfig, SmallHeuristics
from rustg.gpu.fmt.native import ItemMemo, format_top_level_items, native_config_supported
from rustg.gpu.fmt.native_print import Widths
from rustg.gpu.items import index_file

DATA = Path(__file__).parent / "data" / "native"
CASES = sorted(
    p.name.removesuffix(".rs") for p in DATA.glob("*.rs") if not p.name.endswith(".out.rs")
)
CONFIG = FmtConfig(edition="2021")


def _item_texts(source: bytes) -> list[str]:
    tokens, _, items = index_file(source)
    out = []
    for i in range(len(items)):
        if int(items.depth[i]) == 0:
            a = int(tokens.start[int(items.start[i])])
            b = int(tokens.end[int(items.end[i])])
            out.append(source[a:b].decode())
    return out


def _native(source: bytes, config: FmtConfig = CONFIG) -> list[str | None]:
    tokens, tree, items = index_file(source)
    return format_top_level_items(source, tokens, tree, items, config)


@pytest.mark.parametrize("case", CASES)
def test_case_matches_rustfmt(case: str) -> None:
    source = (DATA / f"{case}.rs").read_bytes()
    expected = _item_texts((DATA / f"{case}.out.rs").read_bytes())
    got = _native(source)
    assert len(got) == len(expected)
    for text, exp in zip(got, expected, strict=True):
        if text is not None:
            assert text == exp
    if case.startswith("covered_"):
        assert got == expected
    else:
        assert got == [None] * len(expected)


def test_formatted_output_is_a_fixed_point() -> None:
    # Formatting rustfmt's own output gives it back (idempotence), item for item.
    for case in CASES:
        out = (DATA / f"{case}.out.rs").read_bytes()
        for text, exp in zip(_native(out), _item_texts(out), strict=True):
            assert text is None or text == exp


def test_unmodelled_options_refuse_everything() -> None:
    source = (DATA / "covered_items.rs").read_bytes()
    n = len(_item_texts(source))
    for config in (
        FmtConfig(edition="2021", max_width=300),
        FmtConfig(edition="2021", use_small_heuristics=SmallHeuristics.OFF),
        FmtConfig(edition="2021", use_small_heuristics=SmallHeuristics.MAX),
        FmtConfig(edition="2021", hard_tabs=True),
        FmtConfig(edition="2021", tab_spaces=2),
        FmtConfig(edition="2024"),
        FmtConfig(edition="2021", reorder_imports=False),
        FmtConfig(edition="2021", native_allowed=False),
    ):
        assert not native_config_supported(config, source)
        assert _native(source, config) == [None] * n


def test_crlf_input_is_left_to_rustfmt() -> None:
    source = b"const A: u32 = 1;\r\nconst B: u32 = 2;\r\n"
    assert _native(source) == [None, None]
    assert _native(source.replace(b"\r\n", b"\n")) == ["const A: u32 = 1;", "const B: u32 = 2;"]


def test_use_group_out_of_order_is_returned_sorted() -> None:
    # rustfmt moves these (checked); a blank line starts a new group, already sorted.
    source = b"use b;\nuse a;\n\nuse d;\nmod z;\nmod y;\n"
    assert _native(source) == ["use a;", "use b;", "use d;", "mod y;", "mod z;"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # rustfmt 1.9 output for each (checked): a comment line ends a group, so does an item
        # with #[macro_use] (in no group); each side is sorted on its own
        (b"mod b;\n// c\nmod a;\n", ["mod b;", "mod a;"]),
        (b"use b;\nm!();\nuse a;\n", ["use b;", "use a;"]),
        (b"use y;\nuse x;\n// c\nuse w;\nuse v;\n", ["use x;", "use y;", "use v;", "use w;"]),
        (b"mod b;\n#[macro_use]\nmod m;\nmod a;\n", ["mod b;", "#[macro_use]\nmod m;", "mod a;"]),
        (
            b"mod b;\nmod a;\n#[macro_use]\nmod m;\nmod d;\nmod c;\n",
            ["mod a;", "mod b;", "#[macro_use]\nmod m;", "mod c;", "mod d;"],
        ),
        (
            b"#[macro_use]\nextern crate z;\nextern crate a;\n",
            ["#[macro_use]\nextern crate z;", "extern crate a;"],
        ),
        # attributes belong to their item: still one group, moved
        (b"mod d;\n#[cfg(x)]\nmod c;\n", ["#[cfg(x)]\nmod c;", "mod d;"]),
    ],
)
def test_groups_end_at_comment_lines_and_macro_use(source: bytes, expected: list[str]) -> None:
    assert _native(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        b"use b;\nm!(); use a;\n",  # a macro call between, on the line of the next: refused
        b"use b;\nuse b;\nuse a;\n",  # equal keys
        b"#[rustfmt::skip]\nuse b;\nuse a;\n",  # a skipped member stays where it is
    ],
)
def test_use_group_out_of_order_is_refused_whole(source: bytes) -> None:
    got = _native(source)
    assert got[:2] == [None, None]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # rustfmt sorts by path alone: attributes move with their item, visibility plays no
        # part (checked with rustfmt 1.9)
        (b"#[cfg(x)]\nuse b;\nuse a;\n", ["use a;", "#[cfg(x)]\nuse b;"]),
        (b"pub use b;\nuse a;\n", ["use a;", "pub use b;"]),
        (b"mod q;\npub mod p;\n", ["pub mod p;", "mod q;"]),
    ],
)
def test_use_group_out_of_order_is_sorted_with_attributes_and_visibility(
    source: bytes, expected: list[str]
) -> None:
    assert _native(source) == expected


_G = "g" * 84
_Z = "Z" * 80
_Q59 = "s.st_atime_nse.try_into().map_err(|_| io::Errno::OVERFLOW)?"
_Q60 = "s.st_atime_nsec.try_into().map_err(|_| io::Errno::OVERFLOW)?"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # unsafe { expr } is one line up to max_width exactly (rustfmt 1.9, measured 97-101)
        (
            f"fn f() {{\n    unsafe {{ {_G[1:]}() }}\n}}\n",
            f"fn f() {{\n    unsafe {{ {_G[1:]}() }}\n}}",
        ),
        (
            f"fn f() {{\n    unsafe {{ {_G}() }}\n}}\n",
            f"fn f() {{\n    unsafe {{\n        {_G}()\n    }}\n}}",
        ),
        # a chain's last `?`s count twice against chain_width (rustfmt 1.9: 59 + `?` one
        # line, 60 + `?` broken, which the printer leaves to rustfmt here: short parent)
        (
            f"fn f() {{\n    let x = {_Q59};\n}}\n",
            f"fn f() {{\n    let x = {_Q59};\n}}",
        ),
        (
            f"fn f() {{\n    let x = {_Q60};\n}}\n",
            None,
        ),
        # a use list is one line only up to max_width - 2, then a block (rustfmt 1.9)
        (f"use abc::{{Aaaa, {_Z}}};\n", f"use abc::{{Aaaa, {_Z}}};"),
        (f"use abc::{{Aaaa, {_Z}Z}};\n", f"use abc::{{\n    Aaaa, {_Z}Z,\n}};"),
    ],
)
def test_width_boundaries(source: str, expected: str | None) -> None:
    assert _native(source.encode()) == [expected]


@pytest.mark.parametrize("case", CASES)
def test_memo_gives_the_same_items(case: str) -> None:
    """Printed items remembered by their bytes: a second file sharing items prints the same."""
    source = (DATA / f"{case}.rs").read_bytes()
    memo = ItemMemo()
    tokens, tree, items = index_file(source)
    first = format_top_level_items(source, tokens, tree, items, CONFIG, memo=memo)
    assert first == _native(source) and memo.hits == 0
    # The same items behind a changed prefix (different byte offsets): all looked up.
    shifted = b"\n\n\n" + source
    tokens, tree, items = index_file(shifted)
    again = format_top_level_items(shifted, tokens, tree, items, CONFIG, memo=memo)
    assert again == first
    assert memo.hits == len(first) and memo.misses == len(first)


def test_memo_keys_include_the_config() -> None:
    source = b"fn f() {}\n"
    memo = ItemMemo()
    tokens, tree, items = index_file(source)
    assert format_top_level_items(source, tokens, tree, items, CONFIG, memo=memo) == ["fn f() {}"]
    narrow = FmtConfig(edition="2021", raw={"max_width": 300}, max_width=300)
    assert format_top_level_items(source, tokens, tree, items, narrow, memo=memo) == [None]
    assert memo.hits == 0


def test_widths_follow_rustfmt_print_config() -> None:
    """``rustfmt --print-config current`` (1.9) for these max_width / heuristics values."""
    assert Widths.default_for(79) == Widths(79, 60, 70, 18, 35, 60, 60)
    assert Widths.default_for(120) == Widths(120, 72, 84, 22, 42, 72, 72)


def test_full_memo_starts_over() -> None:
    memo = ItemMemo(max_bytes=10)
    memo.put(("c", b"12345678"), ("x", 0, None, False))
    memo.put(("c", b"abcdef"), ("y", 0, None, False))
    assert memo.get(("c", b"12345678")) is None and len(memo) == 1
