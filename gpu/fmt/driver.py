"""The formatter's driver: per file, native output where it is guaranteed, rustfmt elsewhere.

Per file:

1. **Fast path.** BLAKE3 of (rustfmt version, config, content) found in the known-formatted
   table (LMDB, :mod:`rustg.gpu.fmt.known`): done, unchanged.
2. **Split.** Lex, token tree and item index (:func:`rustg.gpu.items.index_file`); the file is
   its top-level items (depth 0, attributes and doc comments included) and the gaps between
   them. A *unit* is one item, or a run of reorderable items (``use``, ``extern crate``,
   ``mod x;``) with no blank line between them: rustfmt sorts such a run as a whole
   (``reorder_imports``/``reorder_modules``), and a blank line or a comment ends a run.
3. **Route** (:class:`Route`). Item-level assembly is used only where it provably equals
   formatting the whole file: every gap is whitespace (no comment, no macro invocation, no inner
   attribute — all of which rustfmt normalises with rules of its own), the line ending resolves
   to ``\\n`` and the input holds no ``\\r``, and the config is one the native printer models.
   Then the output is the units joined by one newline, or by one blank line where the input had
   at least one (rustfmt's ``blank_lines_upper_bound = 1``, ``lower_bound = 0``), plus a final
   newline. Units the native printer covers are taken from it; the others are formatted by
   rustfmt in batches (:func:`rustg.gpu.fmt.rustfmt.format_units`): over many files
   (:meth:`Formatter.format_files`), one process takes the units of many files that share
   rustfmt's arguments, since starting rustfmt (~20 ms) costs more than most files' units.
   Anywhere else the whole file goes to rustfmt (route ``FILE``) — also when the native
   printer covers nothing, as one rustfmt call on the file is then both cheaper and exactly
   rustfmt.
4. **Cheap check.** A NATIVE result equal to the input is "already formatted" with no rustfmt.
5. **Safety net** (:func:`rustg.gpu.fmt.safety.check_tokens`) on every changed result, whatever
   produced it. A failure is an internal error naming the file; nothing is written.

``#![rustfmt::skip]``/``#![cfg_attr(rustfmt, rustfmt_skip)]`` are inner attributes, so such a
file never passes the whitespace-gap rule and rustfmt itself honours them; ``#[rustfmt::skip]``
items are never given to the native printer's output unless it chose to copy them verbatim, and
delegated ones are copied verbatim by rustfmt.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import enum
import functools
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import blake3
import numpy as np

from .config import FmtConfig, FmtConfigError, load_fmt_config
from .rustfmt import (
    RustfmtError,
    format_source,
    format_units,
    rustfmt_version,
    rustfmt_version_at,
    toolchain_dir,
)
from .safety import SafetyNetError, check_tokens

__all__ = [
    "Edit",
    "FileResult",
    "Formatter",
    "NativeFn",
    "Outcome",
    "Route",
    "WriteOutcome",
    "edits_between",
    "unified_diff",
    "write_result",
]

log = logging.getLogger("rustg.fmt")

#: native.format_top_level_items(source, tokens, tree, items, config) -> one str|None per item
NativeFn = Callable[[bytes, Any, Any, Any, FmtConfig], Sequence[str | None]]

_REORDERABLE_KINDS = ("USE", "EXTERN_CRATE", "MOD")


class Route(enum.Enum):
    CACHED = "cached"  # known result (fast path): formatted, or its output remembered
    NATIVE = "native"  # every unit from the native printer
    ITEMS = "items"  # native units plus rustfmt-formatted units, assembled
    FILE = "file"  # the whole file through rustfmt


class Outcome(enum.Enum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    RUSTFMT_FAILED = "rustfmt-failed"  # rustfmt refused the file (syntax error, bad config)
    INTERNAL_ERROR = "internal-error"  # the safety net caught a bad output: nothing written
    UNREADABLE = "unreadable"


class WriteOutcome(enum.Enum):
    WRITTEN = "written"
    NOT_NEEDED = "not-needed"
    CHANGED_ON_DISK = "changed-on-disk"  # the file changed since it was read: left alone
    REFUSED = "refused"  # the result is a failure: nothing to write


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace lines [start_line, end_line) (0-based) with ``new_text`` (LSP TextEdit shape)."""

    start_line: int
    end_line: int
    new_text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "range": {
                "start": {"line": self.start_line, "character": 0},
                "end": {"line": self.end_line, "character": 0},
            },
            "newText": self.new_text,
        }


@dataclass(slots=True)
class FileResult:
    path: Path
    original: bytes
    formatted: bytes | None
    outcome: Outcome
    route: Route
    items: int = 0  # top-level items
    native_items: int = 0  # of which the output holds the native printer's text
    message: str = ""
    reason: str = ""  # why the route was chosen (stats, --stats --verbose)

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.CHANGED


def unified_diff(result: FileResult, *, label: str | None = None) -> str:
    if result.formatted is None:
        return ""
    name = label or str(result.path)
    return "".join(
        difflib.unified_diff(
            result.original.decode(errors="replace").splitlines(keepends=True),
            result.formatted.decode(errors="replace").splitlines(keepends=True),
            fromfile=f"{name}\t(original)",
            tofile=f"{name}\t(formatted)",
        )
    )


def edits_between(original: bytes, formatted: bytes) -> list[Edit]:
    """Line-granular edits turning ``original`` into ``formatted``."""
    a = original.decode(errors="surrogateescape").splitlines(keepends=True)
    b = formatted.decode(errors="surrogateescape").splitlines(keepends=True)
    # Equal first and last lines are cut off before difflib (quadratic in what it is given):
    # a save that touched one item of a 1,000-line file cost 22 ms of SequenceMatcher, ~0.2 ms
    # with the common ends cut.
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    edits: list[Edit] = []
    matcher = difflib.SequenceMatcher(a=a_mid, b=b_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(Edit(head + i1, head + i2, "".join(b_mid[j1:j2])))
    return edits


def _load_native(memo_bytes: int = 0) -> NativeFn | None:
    try:
        from rustg.gpu.fmt import native  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None  # not built yet: everything goes to rustfmt
    if memo_bytes:
        memoised: NativeFn = functools.partial(
            native.format_top_level_items, memo=native.ItemMemo(memo_bytes)
        )
        return memoised
    fn: NativeFn = native.format_top_level_items
    return fn


@dataclass(slots=True)
class _Unit:
    start: int  # byte range in the file
    end: int
    items: int
    native: str | None
    before: str  # the normalised gap before it (comments and at most one blank line)


@dataclass(slots=True)
class _Plan:
    route: Route
    reason: str
    units: list[_Unit] = field(default_factory=list)
    items: int = 0
    trailing: str = "\n"


#: A file's tokens, tree and items (rustg.gpu.tokens/tree/items), as index_file returns them.
Indexed = tuple[Any, Any, Any]


@dataclass(slots=True)
class _Lookup:
    """A file the fast path did not answer, before planning."""

    path: Path
    content: bytes
    text: bytes  # the content with "\r\n" read as "\n"
    config: FmtConfig
    key: bytes  # its fast-path key
    native_ok: bool  # the installed rustfmt runs here (no toolchain override with another)
    remember: bool


@dataclass(slots=True)
class _Pending:
    """A file planned for item assembly, between planning and rustfmt's part."""

    path: Path
    content: bytes
    text: bytes  # the content with "\r\n" read as "\n"
    config: FmtConfig
    key: bytes  # its fast-path key
    plan: _Plan
    remember: bool

    @property
    def delegated(self) -> list[_Unit]:
        return [u for u in self.plan.units if u.native is None]

    def batch_key(self) -> tuple[str, Path | None]:
        """Files whose units one rustfmt process may format: the same configuration (edition
        and options, by content: crates often carry identical rustfmt.toml files) and the same
        rustup toolchain override. rustfmt's own config lookup cannot differ: the config path
        is explicit, or none was found from either directory."""
        return self.config.digest(), toolchain_dir(self.path.resolve().parent)


#: Files planned before their delegated units go to rustfmt together: a window bounds the
#: memory held and lets results (and the progress bar) arrive as the run goes.
_WINDOW_FILES = 512
#: Units per rustfmt process, by bytes: many small files share one process start (~20 ms each
#: on this machine, more than formatting a typical file's delegated units takes).
_BATCH_BYTES = 1 << 20

T = TypeVar("T")
_INNER_ATTR_TEXT = re.compile(rb"#\s*!")  # `#![..]`, `# ![..]`

_SPACE = frozenset(b" \t\n\r\x0b\x0c")
#: In a planned gap, "indent this line to the column of the trailing comment before it": the
#: column is the previous unit's last line + 1, known only once rustfmt has given that unit.
ALIGN = "\x00"
_BOM = b"\xef\xbb\xbf"


def _width(line: str) -> int:
    """Display width, over-estimated for non-ASCII (2 per char): safe for 'fits' checks."""
    return len(line) if line.isascii() else len(line) + sum(ord(c) > 127 for c in line)


def _blank(text: bytes) -> bool:
    return all(c in _SPACE for c in text)


def _line_comment_ok(line: bytes, *, inner_docs: bool) -> bool:
    """A plain ``//`` line comment (a whole line from column 0) rustfmt leaves as it is."""
    if line != line.rstrip():
        return False
    if line.startswith(b"///") and not line.startswith(b"////"):
        return False  # a doc comment documenting nothing: rustfmt's to report
    return inner_docs or not line.startswith(b"//!")


def _block_end(gap: bytes, pos: int) -> int:
    """End of the (nested) block comment starting at ``pos``, or -1 when unterminated."""
    depth, i = 0, pos
    while i < len(gap) - 1:
        pair = gap[i : i + 2]
        if pair == b"/*":
            depth, i = depth + 1, i + 2
        elif pair == b"*/":
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return -1


def _block_comment_ok(text: bytes, *, inner_docs: bool = False) -> bool:
    """A block comment from column 0 that rustfmt prints unchanged. rustfmt re-indents the
    lines after the first by their least indentation (``trim_left_preserve_layout``: `` * x``
    lines lose a space), expands tabs and drops trailing spaces; so: no doc comment, no
    nesting, no tab, no trailing space, and a continuation line at column 0 (or none), or
    every continuation line `` * ..``/`` */``. ``/*!`` only in the file's head (``inner_docs``).
    Checked with rustfmt 1.9 on commented-out code and license headers."""
    if text.startswith(b"/**") and not text.startswith((b"/***", b"/**/")):
        return False
    if text.startswith(b"/*!") and not inner_docs:
        return False
    if text.count(b"/*") != 1 or text.count(b"*/") != 1 or b"\t" in text or b"\r" in text:
        return False
    lines = text.split(b"\n")
    if any(line != line.rstrip() for line in lines):
        return False
    rest = [line for line in lines[1:] if line]
    if all(line in {b" */", b" *"} or line.startswith(b" * ") for line in rest):
        return True  # a ` * ` column under the `/*`: kept as it is (checked)
    return not rest or any(not line[:1].isspace() for line in rest)


def _block_comment_lines(text: bytes, *, inner_docs: bool, hard_tabs: bool) -> list[str] | None:
    """A block comment on lines of its own at column 0, as rustfmt writes it (rustfmt 1.9
    comment.rs ``identify_comment``): when every line after trimming starts with ``*``,
    ``//`` or ``/*`` (``light_rewrite_comment``), each line keeps from the one character before
    a leading ``*`` (else from its first non-blank), trailing blanks dropped; otherwise
    (``trim_left_preserve_layout``) the first line is kept, blank lines emptied, and every
    other line trimmed and indented by its indentation less the least of them, in spaces.
    Checked with rustfmt 1.9 (`` * x`` / ``  y`` lines, tabs before ``*``, trailing spaces,
    bare lines, nested comments). Refused: doc comments, a line before the last ending with
    ``*/`` (the end of rustfmt's first group), other whitespace than spaces and tabs, a
    leading tab on a re-indented line (its width is tab_spaces), re-indenting under hard_tabs;
    ``/*!`` (an attribute of the file's head) only when it is kept exactly as it is."""
    if text.startswith(b"/*!") or (b"\t" in text and hard_tabs):
        return _kept_block(text, inner_docs=inner_docs)
    if text.startswith(b"/**") and not text.startswith((b"/***", b"/**/")):
        return None
    try:
        lines = text.decode().split("\n")
    except UnicodeDecodeError:
        return None
    if any(line.endswith("*/") for line in lines[:-1]) or lines[0].startswith("/*/"):
        # rustfmt's first comment group ends at a line ending with `*/` (a nested comment's):
        # the rest is rewritten as a comment of its own. Nesting is otherwise fine: its
        # CharClasses count the depth, so every line is comment text.
        return None
    if any(c.isspace() and c not in " \t\n" for c in text.decode()):
        return None
    if all(line.strip(" \t").startswith(("*", "//", "/*")) for line in lines):
        out = []
        for line in lines:
            body = line.lstrip(" \t")
            fnw = len(line) - len(body)
            out.append((line[fnw - 1 :] if body[:1] == "*" and fnw > 0 else body).rstrip(" \t"))
        return out
    rest = lines[1:]
    indents = [len(line) - len(line.lstrip(" \t")) for line in rest if line.strip(" \t")]
    if not indents or any("\t" in line[:n] for line, n in zip(rest, indents, strict=False)):
        return _kept_block(text, inner_docs=inner_docs)
    least = min(indents)
    out = [lines[0].rstrip(" \t")]
    for line in rest:
        body = line.strip(" \t")
        depth = len(line) - len(line.lstrip(" ")) - least if body else 0
        if depth and hard_tabs:
            return None  # rustfmt's Indent in tabs and spaces: not modelled
        out.append(" " * depth + body)
    return out


def _kept_block(text: bytes, *, inner_docs: bool) -> list[str] | None:
    if not _block_comment_ok(text, inner_docs=inner_docs):
        return None
    try:
        return text.decode().split("\n")
    except UnicodeDecodeError:
        return None


def _trailing_comment(text: bytes) -> str | None:
    """A comment after an item on its line, as rustfmt writes it: one space, the comment (a
    ``//`` comment or a one-line block comment), trailing spaces dropped. rustfmt formats the
    item as if the comment were not there (checked: a long line stays long)."""
    text = text.strip()
    if text.startswith(b"//"):
        if text.startswith((b"///", b"//!")) and not text.startswith(b"////"):
            return None  # a doc comment: it belongs to what follows (or is an error)
    elif not (text.startswith(b"/*") and text.endswith(b"*/") and _block_comment_ok(text)):
        return None
    if b"\n" in text:
        return None
    try:
        return " " + text.decode()
    except UnicodeDecodeError:
        return None


def _gap_lines(gap: bytes, *, inner_docs: bool, hard_tabs: bool = False) -> list[str] | None:
    """Lines of a gap that starts at a line start and ends before the next item's first token,
    blank runs collapsed to one ``""``; None unless every comment is a plain ``//`` line or a
    block comment rustfmt keeps (:func:`_block_comment_ok`), each on lines of its own from
    column 0 (an indented, misplaced-doc or code-adjacent comment is rustfmt's to place)."""
    out: list[str] = []
    pos = 0
    while True:
        eol = gap.find(b"\n", pos)
        if eol < 0:
            # the next item's line: only indentation before it
            return out if _blank(gap[pos:]) else None
        line = gap[pos:eol]
        if _blank(line):
            if not out or out[-1] != "":
                out.append("")
            pos = eol + 1
            continue
        if line.startswith(b"/*"):
            end = _block_end(gap, pos)
            if end < 0 or gap[end : end + 1] != b"\n":
                return None  # something after the comment on its line (or the item itself)
            text, eol = gap[pos:end], end
        elif line.startswith(b"//") and _line_comment_ok(line, inner_docs=inner_docs):
            text = line
        else:
            return None
        if text.startswith(b"/*"):
            block = _block_comment_lines(text, inner_docs=inner_docs, hard_tabs=hard_tabs)
            if block is None:
                return None
            out.extend(block)
            pos = eol + 1
            continue
        try:
            out.extend(text.decode().split("\n"))
        except UnicodeDecodeError:
            return None
        pos = eol + 1


def _split_trailing(gap: bytes, trailing_ok: bool) -> tuple[str, bytes] | None:
    """("" or the comment after the previous item on its line, the gap from the next line)."""
    eol = gap.find(b"\n")
    if eol < 0 or b"\x00" in gap:  # NUL: the assembly's ALIGN mark must be unambiguous
        return None
    first = gap[:eol]
    if _blank(first):
        return "", gap[eol + 1 :]
    if not trailing_ok:
        return None
    comment = _trailing_comment(first)
    if comment is None:
        return None
    rest = gap[eol + 1 :]
    if comment.startswith(" /*"):
        # after a trailing block comment the next lines are an ordinary gap: rustfmt starts
        # them at the item's indentation (checked: `/* a */` then `/* b */`, `// x`, blanks)
        return comment, rest
    # A `//` comment goes on through the comment lines under it (rustfmt's comment slice runs
    # to a blank line or code), and rustfmt writes them aligned under the trailing one, each
    # line trimmed (checked with rustfmt 1.9: indented, tab-indented, `////`; a block comment
    # among them is re-indented by other rules, so refused here).
    while (nxt := rest.find(b"\n")) >= 0 and not _blank(line := rest[:nxt]):
        text = line.strip(b" \t")
        if not text.startswith(b"//"):
            return None  # a block comment, or something rustfmt would place otherwise
        if text.startswith((b"///", b"//!")) and not text.startswith(b"////"):
            break  # a doc comment: it starts the next item's attributes
        if text != text.strip():
            return None
        try:
            comment += "\n" + ALIGN + text.decode()
        except UnicodeDecodeError:
            return None
        rest = rest[nxt + 1 :]
    return comment, rest


def _aligned(gap: str, pieces: Sequence[str | None]) -> str | None:
    """``gap`` with its ALIGN marks made spaces: to the column of a trailing comment, one past
    the last line of the previous piece (None when that width is not plain ASCII columns)."""
    if ALIGN not in gap:
        return gap
    last = (pieces[-1] or "\x00").rsplit("\n", 1)[-1] if pieces else "\x00"
    if not last.isascii() or not last.isprintable():
        return None  # rustfmt counts unicode widths here; not modelled
    return gap.replace(ALIGN, " " * (len(last) + 1))


def _inner_gap(
    gap: bytes, *, inner_docs: bool = False, trailing_ok: bool = False, hard_tabs: bool = False
) -> str | None:
    """Text between two top-level items as rustfmt writes it (at most one blank line).
    ``trailing_ok``: the previous item may keep a comment on its last line (not so after a
    ``use``/``mod x;``/``extern crate``, which rustfmt reorders with rules of its own)."""
    if b"\n" not in gap:
        return "\n" if _blank(gap) else None  # `fn a() {} fn b() {}`: one per line
    split = _split_trailing(gap, trailing_ok)
    if split is None:
        return None
    trailing, rest = split
    middle = _gap_lines(rest, inner_docs=inner_docs, hard_tabs=hard_tabs)
    if middle is None:
        return None
    return trailing + "\n" + "".join(line + "\n" for line in middle)


def _leading_gap(gap: bytes, *, hard_tabs: bool = False) -> str | None:
    middle = _gap_lines(gap, inner_docs=True, hard_tabs=hard_tabs)
    if middle is None:
        return None
    while middle and middle[0] == "":
        middle.pop(0)  # rustfmt drops blank lines at the start of a file
    return "".join(line + "\n" for line in middle)


def _trailing_gap(gap: bytes, *, trailing_ok: bool = False, hard_tabs: bool = False) -> str | None:
    split = _split_trailing(gap if b"\n" in gap else gap + b"\n", trailing_ok)
    if split is None:
        return None
    trailing, rest = split
    middle = _gap_lines(rest + b"\n" if rest and not rest.endswith(b"\n") else rest,
                        inner_docs=False, hard_tabs=hard_tabs)  # fmt: skip
    if middle is None:
        return None
    while middle and middle[-1] == "":
        middle.pop()  # and at its end: one final newline
    return trailing + "\n" + "".join(line + "\n" for line in middle)


_INNER_ATTR = -4  # `#![..]` before the first item: formatted by rustfmt, in the batch's head
_MACRO = -3  # a top-level macro invocation `path! (..);`: formatted by rustfmt as a unit
_MOD_BLOCK = -2


def _is_mod_decl(content: bytes, start: int, end: int) -> bool:
    """``mod x;`` (reordered by rustfmt) rather than ``mod x { .. }``."""
    return content[start:end].rstrip().endswith(b";")


def _segments(
    tokens: Any, tree: Any, index: Any, rows: list[int]
) -> list[tuple[int, int, int, int]] | None:
    """(kind, start byte, end byte, item number or -1) of every top-level item, inner attribute and
    macro invocation, in order; None when anything else (code rustfmt would place by rules of
    its own) lies between items."""
    from rustg.gpu.tokens import TokenKind, is_trivia

    kind = tokens.kind
    match = tree.match
    n = len(kind)
    covered = np.zeros(n, dtype=np.bool_)
    for i in rows:
        covered[int(index.start[i]) : int(index.end[i]) + 1] = True
    loose = np.flatnonzero(~covered & ~is_trivia(kind))
    sig = np.flatnonzero(~is_trivia(kind)).tolist()

    def nxt(r: int) -> int:  # the next significant token after significant token r
        k = bisect.bisect_left(sig, r) + 1
        return sig[k] if k < len(sig) else -1

    pound, bang = int(TokenKind.POUND), int(TokenKind.BANG)
    bracket, paren = int(TokenKind.OPEN_BRACKET), int(TokenKind.OPEN_PAREN)
    brace, semi = int(TokenKind.OPEN_BRACE), int(TokenKind.SEMI)
    ident, colon = int(TokenKind.IDENT), int(TokenKind.COLON)
    extra: list[tuple[int, int, int]] = []  # (kind, first row, last row)
    loose_list = loose.tolist()
    p = 0
    while p < len(loose_list):
        r = loose_list[p]
        first = r
        last = -1
        seg_kind = _MACRO
        if kind[r] == pound and (r2 := nxt(r)) >= 0 and kind[r2] == bang:
            r3 = nxt(r2)
            if r3 < 0 or kind[r3] != bracket or int(match[r3]) < 0:
                return None
            seg_kind, last = _INNER_ATTR, int(match[r3])
        else:
            while kind[r] == pound:  # outer attributes of a macro invocation
                r2 = nxt(r)
                if r2 < 0 or kind[r2] != bracket or int(match[r2]) < 0:
                    return None
                r = nxt(int(match[r2]))
                if r < 0:
                    return None
            if kind[r] != ident:
                return None
            r = nxt(r)
            while r >= 0 and kind[r] == colon and kind[nxt(r)] == colon:
                r = nxt(nxt(r))
                if r < 0 or kind[r] != ident:
                    return None
                r = nxt(r)
            if r < 0 or kind[r] != bang:
                return None
            group = nxt(r)
            if group < 0 or kind[group] not in (paren, bracket, brace) or int(match[group]) < 0:
                return None
            last = int(match[group])
            after = nxt(last)
            if after >= 0 and kind[after] == semi:
                last = after
            elif kind[group] != brace:
                return None  # `foo!(..)` without `;` at top level: not an item
        extra.append((seg_kind, first, last))
        while p < len(loose_list) and loose_list[p] <= last:
            p += 1
    segments: list[tuple[int, int, int, int]] = [
        (int(index.kind[i]), int(tokens.start[index.start[i]]), int(tokens.end[index.end[i]]), k)
        for k, i in enumerate(rows)
    ]
    seen_item = False
    for seg_kind, first, last in extra:
        segments.append((seg_kind, int(tokens.start[first]), int(tokens.end[last]), -1))
    segments.sort(key=lambda seg: seg[1])
    for seg in segments:
        if seg[0] == _INNER_ATTR and seen_item:
            return None  # an inner attribute after an item is an error rustfmt reports
        seen_item = seen_item or seg[0] != _INNER_ATTR
    return segments


def _trailing_ok(units: list[_Unit], prev_kind: int, kind: int, reorderable: set[int]) -> bool:
    """Whether the last unit may keep a comment on its last line: an item, and not one of a
    run rustfmt reorders (it leaves such comments in place while moving the items, checked:
    ``use c;`` / ``use b; // y`` became ``use b;`` / ``use c; // y``). A ``use``/``mod x;`` that
    is alone (its unit holds one item and the next item is of another kind) keeps it."""
    if prev_kind == -1 or not units:
        return False
    if prev_kind == _INNER_ATTR:
        # after the last inner attribute the gap is the visitor's, as between items (checked:
        # `#![cfg(x)] // c` then an item); between two of them it is inside their unit
        return kind != _INNER_ATTR
    return prev_kind not in reorderable or (units[-1].items == 1 and kind != prev_kind)


class Formatter:
    """Formats files; one per run (it holds the config cache and the known-formatted table)."""

    def __init__(
        self,
        *,
        known: Any = None,  # rustg.gpu.fmt.known.KnownFormatted, or None (no fast path)
        native: NativeFn | bool | None = True,  # True: the real native printer if present
        force_items: bool = False,  # route through item assembly even with no native unit
        jobs: int | None = None,
        backend: Any = None,
        env: dict[str, str] | None = None,
        item_memo_bytes: int = 0,  # >0: remember printed items (the daemon: saves touch few)
    ) -> None:
        self.known = known
        self.native: NativeFn | None = (
            _load_native(item_memo_bytes) if native is True else (native or None)
        )
        self.force_items = force_items
        self.jobs = jobs or os.cpu_count() or 1
        self.backend = backend
        self._env = env
        self._configs: dict[Path, FmtConfig] = {}
        self.native_errors = 0

    # -- config ----------------------------------------------------------------------------------

    def config_for(self, path: Path) -> FmtConfig:
        directory = path.resolve().parent
        found = self._configs.get(directory)
        if found is None:
            found = load_fmt_config(path, env=self._env)
            self._configs[directory] = found
        return found

    def _key(self, content: bytes, config: FmtConfig, version: str | None = None) -> bytes:
        hasher = blake3.blake3(b"rustg-fmt\0")
        hasher.update((version or rustfmt_version()).encode() + b"\0")
        hasher.update(config.digest().encode() + b"\0")
        hasher.update(content)
        return hasher.digest()

    # -- one file --------------------------------------------------------------------------------

    def format_file(self, path: Path, *, remember: bool = True) -> FileResult:
        try:
            content = path.read_bytes()
        except OSError as exc:
            return FileResult(path, b"", None, Outcome.UNREADABLE, Route.FILE, message=str(exc))
        return self.format_bytes(path, content, remember=remember)

    def format_bytes(self, path: Path, content: bytes, *, remember: bool = True) -> FileResult:
        """``remember=False``: read the fast path's table but write nothing to it (an LMDB
        commit is an fsync: 1-12 ms on this machine, more than the rest of a one-item format)."""
        todo = self._lookup(path, content, remember=remember)
        if isinstance(todo, FileResult):
            return todo
        prepared = self._prepare(todo, batched=False)
        if isinstance(prepared, FileResult):
            return prepared
        return self._finish(prepared, self._assemble(prepared, None))

    def _lookup(self, path: Path, content: bytes, *, remember: bool) -> FileResult | _Lookup:
        """The config and the fast path: a finished result, or the file to plan."""
        try:
            config = self.config_for(path)
        except FmtConfigError as exc:
            return FileResult(
                path, content, None, Outcome.RUSTFMT_FAILED, Route.FILE, message=str(exc)
            )
        try:
            version = rustfmt_version_at(path.resolve().parent)
        except RustfmtError as exc:
            return FileResult(
                path, content, None, Outcome.RUSTFMT_FAILED, Route.FILE, message=str(exc),
                reason="rustfmt cannot run here",
            )  # fmt: skip
        key = self._key(content, config, version)
        if self.known is not None:
            known = self.known.get(key)
            if known == b"":
                return FileResult(path, content, content, Outcome.UNCHANGED, Route.CACHED)
            if known is not None:  # checked before, safety net passed: still not formatted
                return FileResult(path, content, known, Outcome.CHANGED, Route.CACHED)
        # rustc reads sources with "\r\n" normalised to "\n" (string literals included), and
        # rustfmt applies newline_style to its whole output at the end (rustfmt.py): so a
        # CRLF file is the LF file formatted, then every "\n" written as the resolved ending.
        # A lone "\r" stays the file route's.
        text = content.replace(b"\r\n", b"\n") if b"\r" in content else content
        # The native printer models the installed rustfmt; under a toolchain override with
        # another rustfmt the file is that rustfmt's.
        native_ok = version == rustfmt_version()
        return _Lookup(path, content, text, config, key, native_ok, remember)

    def _prepare(
        self, todo: _Lookup, *, batched: bool, indexed: Indexed | None = None
    ) -> FileResult | _Pending:
        """Everything up to rustfmt's part: a finished result (native, whole file), or a file
        whose delegated units await rustfmt. ``batched``: they will share a process with
        other files' units, so even a file with no native unit is split into units.
        ``indexed``: the text's tokens, tree and items, if already at hand."""
        path, content, config = todo.path, todo.content, todo.config
        plan = (
            self._plan(todo.text, config, split=batched or self.force_items, indexed=indexed)
            if todo.native_ok
            else _Plan(Route.FILE, "toolchain override")
        )
        pending = _Pending(path, content, todo.text, config, todo.key, plan, todo.remember)
        if plan.route is Route.FILE:
            return self._finish(pending, self._whole_file(path, content, config, plan, plan.reason))
        if not pending.delegated:
            return self._finish(pending, self._assemble(pending, []))
        return pending

    def _index_many(self, todo: list[_Lookup]) -> dict[int, Indexed]:
        """The texts of the files the native printer will see, indexed in one engine call
        (parallel over files: 2 MB/s file by file, over 100 MB/s as one batch) and split."""
        from rustg.gpu.backend import Device, get_backend
        from rustg.gpu.hot import split_batch

        todo = [t for t in todo if t.native_ok]
        if not todo:
            return {}
        offsets = np.zeros(len(todo) + 1, dtype=np.int64)
        np.cumsum([len(t.text) for t in todo], out=offsets[1:])
        buffer = np.frombuffer(b"".join(t.text for t in todo), dtype=np.uint8)
        backend = self.backend or get_backend()
        tokens, tree, items = backend.index(buffer, offsets, device=Device.CPU)
        return {id(t): part for t, part in zip(todo, split_batch(tokens, tree, items), strict=True)}

    def _finish(self, pending: _Pending, result: FileResult) -> FileResult:
        """The BOM rule, the safety net, and the fast path's table."""
        content, config, key = pending.content, pending.config, pending.key
        if content.startswith(_BOM) and result.formatted == content[len(_BOM) :]:
            # rustfmt drops a BOM only with other changes: `rustfmt --check` reports such a file
            # unchanged and `rustfmt` leaves it alone (checked on backtrace's windows.rs).
            result.formatted, result.outcome = content, Outcome.UNCHANGED
        if result.outcome is Outcome.CHANGED and result.formatted is not None:
            try:
                check_tokens(
                    content, result.formatted, backend=self.backend, edition=config.edition
                )
            except SafetyNetError as exc:
                log.error("safety net: %s: %s", pending.path, exc)
                result = FileResult(
                    pending.path,
                    content,
                    None,
                    Outcome.INTERNAL_ERROR,
                    result.route,
                    result.items,
                    result.native_items,
                    message=f"internal error: formatter output rejected by the safety net: {exc}",
                    reason=result.reason,
                )
        # Only results that passed the safety net are remembered. A changed file's output
        # becomes known formatted once written (the caller records it through known_key()).
        if self.known is None or not pending.remember:
            pass
        elif result.outcome is Outcome.UNCHANGED:
            self.known.add([key])
        elif result.outcome is Outcome.CHANGED:
            assert result.formatted is not None
            self.known.add([key], output=result.formatted)
        return result

    def known_key(self, path: Path, content: bytes) -> bytes:
        return self._key(content, self.config_for(path), rustfmt_version_at(path.resolve().parent))

    def _plan(
        self, content: bytes, config: FmtConfig, *, split: bool = False,
        indexed: Indexed | None = None,
    ) -> _Plan:  # fmt: skip
        from rustg.gpu.hot import one_numba_thread
        from rustg.gpu.items import ItemKind, index_file

        # One file is small work (files run in parallel threads instead), and a parallel
        # region for it waits on descheduled workers when the machine is loaded: indexing a
        # 1,000-line file took 0.6 ms idle, 150-170 ms in a third of the calls with both cores
        # of this box busy, and 0.5-0.8 ms on one numba thread.
        if indexed is None:
            with one_numba_thread():
                indexed = index_file(content, backend=self.backend)
        tokens, tree, index = indexed
        if int(tokens.file_status[0]) != 0:
            return _Plan(Route.FILE, "not lexed")
        rows = [i for i in index.file_items(0) if int(index.depth[i]) == 0]
        if not rows:
            return _Plan(Route.FILE, "no items")
        # Counted for every route: the coverage figure's denominator is every top-level item.
        if not config.native_allowed:
            return _Plan(Route.FILE, f"config: {', '.join(config.unsupported)}", items=len(rows))
        if b"\r" in content or config.newline_for(content) != b"\n":
            return _Plan(Route.FILE, "line endings", items=len(rows))
        segments = _segments(tokens, tree, index, rows)
        if segments is None:
            return _Plan(Route.FILE, "code between items", items=len(rows))
        if any(kind == _INNER_ATTR and b"rustfmt" in content[a:b] for kind, a, b, _ in segments):
            # `#![rustfmt::skip]`, `#![cfg_attr(rustfmt, rustfmt_skip)]`: the whole file is
            # rustfmt's to leave alone (in a batch it would skip the other units too).
            return _Plan(Route.FILE, "rustfmt attribute", items=len(rows))
        natives: Sequence[str | None] = [None] * len(rows)
        if self.native is not None:
            try:
                natives = self.native(content, tokens, tree, index, config)
            except Exception:  # a bug in the native printer must not cost the user a format
                log.exception("native printer failed; delegating the file to rustfmt")
                self.native_errors += 1
                natives = [None] * len(rows)
            if len(natives) != len(rows):
                raise AssertionError(f"native printer gave {len(natives)} outputs for {len(rows)}")
        reorderable = {int(ItemKind[name]) for name in _REORDERABLE_KINDS} | {_INNER_ATTR}
        units: list[_Unit] = []
        prev_kind = -1
        previous_end = 0
        head = True  # only inner attributes so far: `//!` lines may still come
        prev_skip = False
        for seg_kind, start, end, item in segments:
            native = natives[item] if item >= 0 else None
            kind = seg_kind
            if kind == int(ItemKind.MOD) and not _is_mod_decl(content, start, end):
                kind = _MOD_BLOCK  # `mod x { .. }` is not reordered
            gap = content[previous_end:start]
            skip = kind == int(ItemKind.MOD) and (
                b"rustfmt::skip" in content[start:end] or b"rustfmt_skip" in content[start:end]
            )
            if (skip or prev_skip) and gap.count(b"\n") > 2:
                # rustfmt keeps every blank line around a skipped `mod x;` (a scrambled
                # unicode-normalization lib.rs): not the one-blank-line rule. Only there:
                # checked with rustfmt 1.9 on every other item kind, a macro call, `mod x {}`
                # and an item holding a skipped statement (collapsed to one blank line)
                return _Plan(Route.FILE, "blank lines around rustfmt::skip", items=len(rows))
            prev_skip = skip
            # a comment on the previous item's last line: kept there, except after items
            # rustfmt reorders (it moves such comments by rules of its own; checked)
            trailing_ok = _trailing_ok(units, prev_kind, kind, reorderable)
            before = (
                _leading_gap(gap, hard_tabs=config.hard_tabs)
                if not units
                else _inner_gap(
                    gap, inner_docs=head, trailing_ok=trailing_ok, hard_tabs=config.hard_tabs
                )
            )
            if units and kind == _INNER_ATTR and prev_kind == _INNER_ATTR:
                # Inner attributes and what lies between them (blank lines, comments, `//!`
                # docs) are one unit: rustfmt's attribute list formats them by rules of its own
                # (blank lines dropped, except around some comments), from this text alone.
                before = "\n"
            if before is None:
                return _Plan(Route.FILE, "unplaced comments between items", items=len(rows))
            head = head and kind == _INNER_ATTR
            # a blank line or a comment ends a run (rustfmt's reorder groups; checked)
            if units and kind in reorderable and kind == prev_kind and before == "\n":
                # A run rustfmt sorts as a whole: native only if the printer gave every member
                # (it does so only for runs already in rustfmt's order), else one rustfmt unit.
                unit = units[-1]
                unit.end = end
                unit.items += kind != _INNER_ATTR
                unit.native = (
                    None if unit.native is None or native is None else (unit.native + "\n" + native)
                )
            else:
                units.append(_Unit(start, end, int(kind >= 0), native, before))
            prev_kind = kind
            previous_end = end
        if prev_skip and content[previous_end:].count(b"\n") > 2:
            return _Plan(Route.FILE, "blank lines around rustfmt::skip", items=len(rows))
        trailing = _trailing_gap(
            content[previous_end:],
            trailing_ok=_trailing_ok(units, prev_kind, -1, reorderable),
            hard_tabs=config.hard_tabs,
        )
        if trailing is None:
            return _Plan(Route.FILE, "unplaced comments after the last item", items=len(rows))
        if config.hard_tabs and any(ALIGN in gap for gap in [trailing, *(u.before for u in units)]):
            # aligned comments' indentation in tabs and spaces: not modelled
            return _Plan(Route.FILE, "aligned comment", items=len(rows))
        plan = _Plan(Route.ITEMS, "items", units, len(rows), trailing)
        native_units = sum(u.native is not None for u in units)
        if native_units == len(units):
            plan.route, plan.reason = Route.NATIVE, "native"
        elif native_units == 0 and not split:
            plan.route, plan.reason = Route.FILE, "no native unit"
        return plan

    def _whole_file(
        self, path: Path, content: bytes, config: FmtConfig, plan: _Plan, reason: str
    ) -> FileResult:
        try:
            formatted = format_source(content, config, cwd=path.resolve().parent)
        except RustfmtError as exc:
            return FileResult(
                path, content, None, Outcome.RUSTFMT_FAILED, Route.FILE, plan.items, 0,
                message=str(exc), reason=reason,
            )  # fmt: skip
        outcome = Outcome.UNCHANGED if formatted == content else Outcome.CHANGED
        return FileResult(
            path, content, formatted, outcome, Route.FILE, plan.items, 0, reason=reason
        )

    def _assemble(self, pending: _Pending, outputs: Sequence[bytes] | None) -> FileResult:
        """The units joined: native text, and rustfmt's ``outputs`` for the delegated units
        (``None``: format them now, in one rustfmt call for this file)."""
        path, content, config, plan, text = (
            pending.path, pending.content, pending.config, pending.plan, pending.text
        )  # fmt: skip
        cwd = path.resolve().parent
        delegated = pending.delegated
        if outputs is None and delegated:
            try:
                outputs = format_units([text[u.start : u.end] for u in delegated], config, cwd=cwd)
            except RustfmtError as exc:
                # One process for the batch; on failure the whole file names the problem.
                try:
                    formatted = format_source(content, config, cwd=cwd)
                except RustfmtError as file_exc:
                    return FileResult(
                        path, content, None, Outcome.RUSTFMT_FAILED, Route.FILE, plan.items, 0,
                        message=str(file_exc), reason=plan.reason,
                    )  # fmt: skip
                log.warning("%s: unit batch failed (%s); formatted whole", path, exc)
                outcome = Outcome.UNCHANGED if formatted == content else Outcome.CHANGED
                return FileResult(path, content, formatted, outcome, Route.FILE, plan.items, 0)
        by_unit = dict(zip(map(id, delegated), outputs or [], strict=True))
        native_items = sum(u.items for u in plan.units if id(u) not in by_unit)
        pieces: list[str | None] = []
        for unit in plan.units:
            out = by_unit.get(id(unit))
            body = out.decode() if out is not None else unit.native
            assert body is not None
            pieces += (_aligned(unit.before, pieces), body)
        pieces.append(_aligned(plan.trailing, pieces))
        if any(piece is None for piece in pieces):
            return self._whole_file(path, content, config, plan, "aligned comment")
        joined = "".join(piece or "" for piece in pieces)
        if config.error_on_line_overflow and any(
            _width(line) > config.max_width for line in joined.split("\n")
        ):
            # rustfmt would fail on this output: let it say so, on the whole file
            return self._whole_file(path, content, config, plan, "error_on_line_overflow")
        formatted = joined.encode()
        newline = config.newline_for(content)
        if newline != b"\n":
            formatted = formatted.replace(b"\n", newline)
        outcome = Outcome.UNCHANGED if formatted == content else Outcome.CHANGED
        return FileResult(
            path, content, formatted, outcome, plan.route, plan.items, native_items,
            reason=plan.reason,
        )  # fmt: skip

    # -- many files ------------------------------------------------------------------------------

    def format_files(
        self, paths: Iterable[Path], *, on_done: Callable[[int], None] | None = None
    ) -> Iterator[FileResult]:
        """Results in input order. Per window of files: the fast path in parallel threads;
        the rest indexed in one engine call, then planned (native printer) in threads; then
        the units they delegate go to rustfmt in batches of many files' units, a few
        processes instead of one per file, in parallel too. ``on_done(n)``: n more files are
        finished, called as they finish (results still wait for their turn in input order):
        what a progress bar shows."""
        listed = list(paths)
        if len(listed) <= 1:
            for path in listed:
                result = self.format_file(path)
                if on_done is not None:
                    on_done(1)
                yield result
            return
        yield from self._format_many(listed, self._lookup_file, on_done)

    def format_contents(self, files: Sequence[tuple[Path, bytes]]) -> Iterator[FileResult]:
        """``format_bytes`` of many files, batched as in ``format_files`` (the daemon's first
        check of a workspace, a branch switch)."""
        if len(files) <= 1:
            yield from (self.format_bytes(path, content) for path, content in files)
            return
        yield from self._format_many(
            list(files), lambda pc: self._lookup(pc[0], pc[1], remember=True)
        )

    def _format_many(
        self,
        listed: list[T],
        lookup: Callable[[T], FileResult | _Lookup],
        on_done: Callable[[int], None] | None = None,
    ) -> Iterator[FileResult]:
        tell = on_done or (lambda n: None)
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="rustg-fmt") as pool:
            for lo in range(0, len(listed), _WINDOW_FILES):
                looked = list(pool.map(lookup, listed[lo : lo + _WINDOW_FILES]))
                indexed = self._index_many([t for t in looked if isinstance(t, _Lookup)])
                prepare = functools.partial(self._prepare_looked, indexed)
                prepared = list(pool.map(prepare, looked))
                pending = [p for p in prepared if isinstance(p, _Pending)]
                tell(len(prepared) - len(pending))  # cached, native, whole-file: finished
                done: dict[int, FileResult] = {}
                batches = [pool.submit(self._format_batch, b) for b in _batches(pending, self.jobs)]
                for finished in as_completed(batches):
                    results = finished.result()
                    done.update(results)
                    tell(len(results))
                for item in prepared:
                    yield item if isinstance(item, FileResult) else done[id(item)]

    def _prepare_looked(
        self, indexed: dict[int, Indexed], item: FileResult | _Lookup
    ) -> FileResult | _Pending:
        if isinstance(item, FileResult):
            return item
        return self._prepare(item, batched=True, indexed=indexed.get(id(item)))

    def _lookup_file(self, path: Path) -> FileResult | _Lookup:
        try:
            content = path.read_bytes()
        except OSError as exc:
            return FileResult(path, b"", None, Outcome.UNREADABLE, Route.FILE, message=str(exc))
        return self._lookup(path, content, remember=True)

    def _format_batch(self, batch: list[_Pending]) -> dict[int, FileResult]:
        """One rustfmt process for every delegated unit of ``batch``; if it fails (one bad
        unit fails them all), each file alone, which names the one at fault."""
        outputs: list[Sequence[bytes] | None] = [None] * len(batch)
        if len(batch) > 1:
            # (file, unit) pairs; inner attributes (`#![..]`, only ever a file's first units)
            # are valid only at the head of rustfmt's input: every file's go first.
            units = {
                (f, u): p.text[unit.start : unit.end]
                for f, p in enumerate(batch)
                for u, unit in enumerate(p.delegated)
            }
            order = list(units)
            order.sort(key=lambda fu: not _INNER_ATTR_TEXT.match(units[fu]))
            first = batch[0]
            try:
                flat = format_units(
                    [units[fu] for fu in order], first.config, cwd=first.path.resolve().parent
                )
            except RustfmtError as exc:
                log.info(
                    "a batch of %d files failed (%s); formatting them one by one", len(batch), exc
                )
            else:
                by_file: list[list[bytes]] = [[b""] * len(p.delegated) for p in batch]
                for (f, u), out in zip(order, flat, strict=True):
                    by_file[f][u] = out
                outputs = list(by_file)
        return {
            id(p): self._finish(p, self._assemble(p, out))
            for p, out in zip(batch, outputs, strict=True)
        }


def _batches(pending: list[_Pending], jobs: int) -> list[list[_Pending]]:
    """Pending files grouped by what rustfmt must be run with, cut by bytes of delegated
    units; a group is cut into at least ``jobs`` batches, so the processes run in parallel."""
    groups: dict[tuple[str, Path | None], list[_Pending]] = {}
    out: list[list[_Pending]] = []
    for p in pending:
        groups.setdefault(p.batch_key(), []).append(p)
    for members in groups.values():
        sizes = [sum(u.end - u.start for u in p.delegated) for p in members]
        limit = min(_BATCH_BYTES, -(-sum(sizes) // jobs))
        batch: list[_Pending] = []
        filled = 0
        for p, size in zip(members, sizes, strict=True):
            if batch and filled + size > limit:
                out.append(batch)
                batch, filled = [], 0
            batch.append(p)
            filled += size
        if batch:
            out.append(batch)
    return out


def write_result(result: FileResult) -> WriteOutcome:
    """Write a changed file atomically (temp + rename, mode kept), unless it changed on disk."""
    if result.outcome is not Outcome.CHANGED or result.formatted is None:
        return WriteOutcome.REFUSED if result.formatted is None else WriteOutcome.NOT_NEEDED
    path = result.path
    try:
        current = path.read_bytes()
        mode = path.stat().st_mode & 0o7777
    except OSError:
        return WriteOutcome.CHANGED_ON_DISK
    if current != result.original:
        return WriteOutcome.CHANGED_ON_DISK
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".rustg-fmt", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(result.formatted)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        # Last look before the rename: an editor save between the two reads is not lost.
        if path.read_bytes() != result.original:
            os.unlink(tmp)
            return WriteOutcome.CHANGED_ON_DISK
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return WriteOutcome.WRITTEN
