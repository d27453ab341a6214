"""Native formatting of top-level items: rustfmt's exact output, or None where not guaranteed.

:func:`format_top_level_items` is the interface the formatter's driver calls (gpu/fmt/driver):
one entry per top-level item of a file (items of depth 0 of the engine's item index, in index
order), each the exact text rustfmt prints for that item (its outer attributes and doc comments
included, starting at column 0, no trailing newline), or ``None`` when the native printer cannot
guarantee rustfmt's output; the driver delegates those to rustfmt.

What is covered is decided per item by :mod:`rustg.gpu.fmt.native_print` (monotone layout
decisions only, see there), plus one file-level rule here: rustfmt reorders consecutive ``use``
items, ``extern crate`` items and ``mod x;`` declarations (``reorder_imports``,
``reorder_modules``), so an item of such a group is only printed when its whole group is
already in rustfmt's order (then nothing moves), or, for a group the driver assembles as one
run, when its order is known (:func:`_sorted_order`: the texts are then returned sorted).
Groups are split by a blank line (checked with rustfmt 1.9: ``use d; use c; <blank>
use b; use a;`` sorts each half) and by a comment on a line of its own: rustfmt's
walk_reorderable_or_regroupable_items keeps an item in the group only when it starts on the
line after the previous one ends (checked with rustfmt 1.9: ``mod b; // c (own line) mod a;``
is left alone, attributes belong to their item); so two items are in one group when exactly
one newline separates them. An item with ``#[macro_use]`` is in no group (ReorderableItemKind
Other: checked, ``mod b; #[macro_use] mod m; mod a;`` is left alone), so it ends one.

Items are independent, so they are printed one after another from the shared token arrays (the
per-item cost is the reading of its own tokens; see bench/fmt_native_coverage.py for MB/s).

An item's printed text depends only on its own bytes (from its first attribute to its last
token: :func:`~rustg.gpu.fmt.native_tokens.item_tokens` reads nothing outside them, and every
top-level item starts at column 0) and on the config. An :class:`ItemMemo` remembers it by
(config digest, item bytes), so the daemon's check after a save that touched one item prints
only that item (the group check below is redone on every call: it looks across items).
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from rustg.gpu.fmt.native_print import Printer, Widths, compare_use_keys
from rustg.gpu.fmt.native_tokens import Unsupported, item_tokens
from rustg.gpu.items import ItemKind

__all__ = ["ItemMemo", "format_top_level_items", "native_config_supported"]

_USE, _MOD, _EXTERN_CRATE = int(ItemKind.USE), int(ItemKind.MOD), int(ItemKind.EXTERN_CRATE)


def native_config_supported(config: Any, source: bytes = b"") -> bool:
    """True when every option has the one value the native printer was validated for.

    The defaults were checked against rustfmt over the corpus (max_width 100, 4 spaces,
    Default heuristics, reordering on, Tall params), and max_width 79, 80 and 120 on corpus
    samples (plain, formatted and scrambled; see docs/formatting.md); editions 2015/2018/2021
    share rustfmt's style edition 2015 rules (2024 changes import sorting), so they print alike.
    """
    if not getattr(config, "native_allowed", True):
        return False
    checks = (
        40 <= getattr(config, "max_width", 100) <= 200,
        getattr(config, "tab_spaces", 4) == 4,
        getattr(config, "hard_tabs", False) is False,
        str(getattr(config, "edition", "2021")) in ("2015", "2018", "2021"),
        # "Max" was tried: the corpus at max_width 79 found nested cfg attributes, generic
        # parameter lists and let struct patterns that rustfmt breaks before the line is full.
        _enum_value(getattr(config, "use_small_heuristics", "Default")) == "Default",
        getattr(config, "reorder_imports", True) is True,
        _enum_value(getattr(config, "fn_params_layout", "Tall")) == "Tall",
    )
    if not all(checks):
        return False
    newline_for = getattr(config, "newline_for", None)
    # Items are returned with "\n" line ends; CRLF output is left to rustfmt.
    return newline_for is None or newline_for(source) == b"\n"


def _enum_value(v: Any) -> str:
    return str(getattr(v, "value", v))


#: (text or None, reorder kind or 0, reorder key, #[macro_use]) of one printed item
_Printed = tuple[str | None, int, Any, bool]


class ItemMemo:
    """Printed items by (config digest, item bytes), up to ``max_bytes`` of item source.

    A full memo is emptied and refilled (a cache: a lost entry costs one print). Threads may
    share it: each operation is one dict operation under the GIL.
    """

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[tuple[str, bytes], _Printed] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, bytes]) -> _Printed | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: tuple[str, bytes], value: _Printed) -> None:
        if self._bytes + len(key[1]) > self.max_bytes:
            self._entries.clear()
            self._bytes = 0
        self._entries[key] = value
        self._bytes += len(key[1])


def format_top_level_items(  # type: ignore[no-untyped-def]
    source: bytes, tokens, tree, items, config: Any, *, memo: ItemMemo | None = None
) -> list[str | None]:
    """See the module docstring. ``tokens``, ``tree``, ``items``: ``index_file(source)``."""
    del tree  # the printer walks tokens itself; the tree is part of the interface for later use
    top = np.flatnonzero(items.depth == 0)
    if not native_config_supported(config, source):
        return [None] * len(top)
    per_item = _per_item_checks(getattr(config, "per_item", ()))
    widths = Widths.default_for(int(getattr(config, "max_width", 100)))
    unit = " " * 4
    ascii_text = source.decode("ascii") if source.isascii() else None
    out: list[str | None] = []
    meta: list[tuple[int, Any, bool]] = []  # (reorder kind or 0, key, macro_use)
    digest = config.digest() if memo is not None else ""
    for idx in top.tolist():
        kind = int(items.kind[idx])
        lo, hi = int(items.start[idx]), int(items.end[idx])
        memo_key = ("", b"")
        if memo is not None:
            memo_key = (digest, source[int(tokens.start[lo]) : int(tokens.end[hi])])
            found = memo.get(memo_key)
            if found is not None:
                out.append(found[0])
                meta.append(found[1:])
                continue
        text: str | None = None
        key: Any = None
        macro_use = False
        reorder = 0
        try:
            if per_item and _has_construct(source, tokens, lo, hi, per_item):
                raise Unsupported("construct of a per-item option")
            toks = item_tokens(source, tokens, lo, hi, ascii_text)
            p = Printer(toks, widths, unit)
            lines = p.item("")
            if not p.at_end():
                raise Unsupported("tokens left over")
            text = "\n".join(lines)
            macro_use = p.macro_use
            if macro_use:
                pass  # in no group
            elif kind == _USE:
                reorder, key = _USE, p.use_key
            elif kind == _MOD and p.mod_name is not None:
                reorder, key = _MOD, p.mod_name
            elif kind == _EXTERN_CRATE:
                # rustfmt compares the crate names (reorder.rs): a key holding the `;` put
                # `proc_macro2` before `proc_macro`
                name = text[text.find("extern crate ") + len("extern crate ") :]
                reorder, key = _EXTERN_CRATE, name.removesuffix(";")
        except (Unsupported, UnicodeDecodeError, IndexError):
            text = None
            if kind in (_USE, _EXTERN_CRATE):
                reorder = kind
            elif kind == _MOD and int(items.body[idx]) < 0:
                reorder = _MOD
        out.append(text)
        meta.append((reorder, key, macro_use))
        if memo is not None:
            memo.put(memo_key, (text, reorder, key, macro_use))
    _check_groups(source, tokens, items, top, out, meta)
    return out


def _per_item_checks(options: Any) -> frozenset[str]:
    return frozenset(options) & {"use_try_shorthand", "use_field_init_shorthand"}


def _has_construct(source: bytes, tokens: Any, lo: int, hi: int, options: frozenset[str]) -> bool:
    """Whether tokens ``lo..hi`` hold what an option of config.PER_ITEM_OPTIONS rewrites,
    over-approximated from tokens alone: ``try !`` (raw or not) for use_try_shorthand,
    ``x : x`` (one colon, the same identifier) for use_field_init_shorthand, anywhere in the
    item (macro arguments and patterns included: refusing more is safe)."""
    from rustg.gpu.tokens import TokenKind, is_trivia

    kinds = tokens.kind[lo : hi + 1]
    sig = (np.flatnonzero(~is_trivia(kinds)) + lo).tolist()
    ident = (int(TokenKind.IDENT), int(TokenKind.RAW_IDENT))
    bang, colon = int(TokenKind.BANG), int(TokenKind.COLON)

    def text(i: int) -> bytes:
        return source[int(tokens.start[i]) : int(tokens.end[i])].removeprefix(b"r#")

    kind = [int(tokens.kind[i]) for i in sig]
    for k in range(len(sig) - 1):
        if kind[k] not in ident:
            continue
        if "use_try_shorthand" in options and kind[k + 1] == bang and text(sig[k]) == b"try":
            return True
        if (
            "use_field_init_shorthand" in options
            and k + 2 < len(sig)
            and kind[k + 1] == colon
            and kind[k + 2] in ident
            and text(sig[k]) == text(sig[k + 2])
        ):
            return True
    return False


def _gap_ends_group(source: bytes, a: int, b: int) -> bool:
    """More than one newline between two items: a blank line or a comment line (see the
    module docstring)."""
    return source.count(b"\n", a, b) >= 2


def _check_groups(  # noqa: PLR0917
    source: bytes,
    tokens: Any,
    items: Any,
    top: Any,
    out: list[str | None],
    meta: list[tuple[int, Any, bool]],
) -> None:
    n = len(top)
    i = 0
    while i < n:
        kind = meta[i][0]
        j = i + 1
        if kind:
            while j < n and meta[j][0] == kind:
                a = int(tokens.end[int(items.end[top[j - 1]])])
                b = int(tokens.start[int(items.start[top[j]])])
                if _gap_ends_group(source, a, b):
                    break
                j += 1
        if kind and j - i > 1 and not _group_sorted(kind, out[i:j], meta[i:j]):
            order = _sorted_order(source, tokens, items, top[i:j], kind, out[i:j], meta[i:j])
            texts = out[i:j]
            for g in range(i, j):
                out[g] = None if order is None else texts[order[g - i]]
        i = j


def _sorted_order(  # noqa: PLR0917
    source: bytes,
    tokens: Any,
    items: Any,
    rows: Any,
    kind: int,
    texts: list[str | None],
    meta: list[tuple[int, Any, bool]],
) -> list[int] | None:
    """The order rustfmt puts an unsorted group in, or None where it is not provably known.

    Only for a group that is exactly the driver's run (members separated by one newline and
    nothing else: a comment or a macro call between them would split the driver's run but not
    this group), every member printed, none skipped, and keys strictly ordered (no ties).
    rustfmt's reorder.rs compares paths and names only: outer attributes and docs move with
    their item, visibility plays no part (checked with rustfmt 1.9: ``#[cfg(x)] mod b;``,
    ``/// doc mod a;``, ``pub use b::x; use a::y; pub(crate) use c::z;``). Then
    the i-th output position holds the i-th smallest member, which is what the driver's
    concatenation of the run needs."""
    if any(t is None for t in texts) or any(m[2] for m in meta):
        return None
    for a_row, b_row in itertools.pairwise(rows.tolist()):
        gap = source[
            int(tokens.end[int(items.end[a_row])]) : int(tokens.start[int(items.start[b_row])])
        ]
        if gap.strip() or gap.count(b"\n") != 1:
            return None
    word = {_USE: "use ", _MOD: "mod ", _EXTERN_CRATE: "extern crate "}[kind]
    for text in texts:
        assert text is not None
        if word not in text or "rustfmt::skip" in text or "rustfmt_skip" in text:
            return None  # a skipped member ends rustfmt's group where it stands (checked)

    def cmp(x: int, y: int) -> int:
        a, b = meta[x][1], meta[y][1]
        if kind == _USE:
            c = compare_use_keys(a, b)
        elif kind == _MOD:
            if not (a.isascii() and b.isascii()) or "r#" in a + b:
                raise Unsupported("mod name")
            c = (a > b) - (a < b)
        else:
            if " as " in a or " as " in b or "r#" in a + b:
                raise Unsupported("extern crate alias or raw name")
            c = (a > b) - (a < b)
        if c == 0 and x != y:
            raise Unsupported("equal keys")
        return c

    try:
        return sorted(range(len(texts)), key=functools.cmp_to_key(cmp))
    except Unsupported:
        return None


def _group_sorted(kind: int, texts: list[str | None], meta: list[tuple[int, Any, bool]]) -> bool:
    if any(t is None for t in texts) or any(m[2] for m in meta):
        return False
    keys = [m[1] for m in meta]
    try:
        for a, b in itertools.pairwise(keys):
            if kind == _USE:
                if compare_use_keys(a, b) >= 0:
                    return False
            elif kind == _MOD:
                if not (a.isascii() and b.isascii()) or "r#" in a + b or not a < b:
                    return False
            elif " as " in a or " as " in b or "r#" in a + b or not a < b:
                return False
    except Unsupported:
        return False
    return True
