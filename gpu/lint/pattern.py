"""Structural code patterns over token trees: the matching half of the user-rule language.

A pattern is Rust source text with metavariables (docs/lint-rules.md has the full reference):

* ``$X`` matches exactly one token tree: one token, or one delimited group ``(…)``/``[…]``/
  ``{…}`` with everything inside it;
* ``$$$ARGS`` matches any sequence of token trees of one group, possibly empty (shortest
  first: the rest of the pattern decides how far it reaches);
* ``$_`` / ``$$$_`` are anonymous; a named metavariable used twice must match equal token
  text both times (trivia ignored: ``a+b`` equals ``a + b``).

A metavariable name is ``[A-Z_][A-Z0-9_]*`` written right after the ``$``; any other ``$`` (a
``macro_rules!`` body's ``$x:expr``) is an ordinary token. Matching ignores trivia
(whitespace and comments) and follows the token tree, never a syntax tree: ``$X.unwrap()``
against ``a.b.unwrap()`` binds ``$X`` to ``b`` (one tree), not to ``a.b``.

How a pattern runs over a file (:meth:`Pattern.find`)
----------------------------------------------------
1. **Compile** (:func:`compile_pattern`): the pattern text is lexed and treed by the engine
   itself; its significant tokens become elements (token: kind + FNV-1a text hash, group,
   metavariable). The *fixed prefix* is the top-level elements before the first ``$$$``; its
   most selective concrete token (an identifier or literal before any punctuation) is the
   anchor, ``anchor_at`` trees into the pattern.
2. **Prefilter, data-parallel over all rows**: one vectorised compare of kind and hash over
   the file's significant rows gives the anchor's candidate rows; walking ``anchor_at``
   previous siblings back (one NumPy gather per step, over all candidates at once) gives each
   candidate's start row, and every element of the fixed prefix is checked the same way
   (kind + hash per step). Most candidates die here.
3. **Match** the survivors with a backtracking walk over the tree's ``match`` links (groups
   are entered and jumped over in O(1)); metavariables bind (first row, last row).

The engine's :class:`~rustg.gpu.lint.context.LintFile` supplies the per-row arrays (``sig``,
``nxt``, ``prv``, ``hashes``, ``match``, ``parent``) that steps 2 and 3 read.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rustg.gpu.errors import EngineError
from rustg.gpu.lint.context import LintFile, text_hash
from rustg.gpu.tokens import TokenKind, is_error, is_literal

__all__ = [
    "Group",
    "Match",
    "Meta",
    "Pattern",
    "PatternError",
    "Template",
    "Tok",
    "compile_pattern",
    "compile_template",
]

_OPEN = (int(TokenKind.OPEN_PAREN), int(TokenKind.OPEN_BRACKET), int(TokenKind.OPEN_BRACE))
_CLOSE = (int(TokenKind.CLOSE_PAREN), int(TokenKind.CLOSE_BRACKET), int(TokenKind.CLOSE_BRACE))
_DOLLAR = int(TokenKind.DOLLAR)
_IDENT = int(TokenKind.IDENT)
_META_NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


class PatternError(EngineError, ValueError):
    """A pattern (or template) that cannot be compiled; ``offset`` is in the pattern's bytes."""

    def __init__(self, message: str, text: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset} of pattern {text!r})")
        self.reason = message
        self.text = text
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Tok:
    kind: int
    text: bytes
    hash: int
    offset: int  # byte offset in the pattern text (for error positions)


@dataclass(frozen=True, slots=True)
class Group:
    open_kind: int
    children: tuple[Elem, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class Meta:
    name: str  # "_" for anonymous
    seq: bool  # $$$NAME
    offset: int


Elem = Tok | Group | Meta


@dataclass(frozen=True, slots=True)
class Match:
    """One match: token rows of its first and last token, and the metavariable bindings.

    A binding is (first row, last row) of what it matched; an empty ``$$$`` binding has
    ``last == first - 1`` (with ``first`` the row after the gap)."""

    first: int
    last: int
    binds: dict[str, tuple[int, int]] = field(default_factory=dict)


def _lex(text: str) -> tuple[Any, Any, bytes]:
    from rustg.gpu.items import index_file

    src = text.encode("utf-8")
    tokens, tree, _ = index_file(src)
    return tokens, tree.to_host(), src


def _elements(text: str) -> tuple[Elem, ...]:
    tokens, tree, src = _lex(text)
    if len(tree.diag_kind):
        from rustg.gpu.tree import DelimIssue

        # The culprit: the stray close of an unexpected close, else the open left unclosed.
        stray = int(tree.diag_kind[0]) == DelimIssue.UNEXPECTED_CLOSE
        row = int(tree.diag_close[0]) if stray else int(tree.diag_open[0])
        raise PatternError("unbalanced delimiters", text, int(tokens.start[row]))
    kind = tokens.kind
    sig = [i for i in range(len(kind)) if kind[i] >= 16]
    for i in sig:
        if is_error(int(kind[i])):
            raise PatternError("the pattern does not lex as Rust", text, int(tokens.start[i]))

    def tok_text(i: int) -> bytes:
        return src[int(tokens.start[i]) : int(tokens.end[i])]

    def adjacent(a: int, b: int) -> bool:
        return int(tokens.end[a]) == int(tokens.start[b])

    pos = 0

    def parse(stop_row: int) -> tuple[Elem, ...]:
        nonlocal pos
        out: list[Elem] = []
        while pos < len(sig) and sig[pos] != stop_row:
            i = sig[pos]
            k = int(kind[i])
            off = int(tokens.start[i])
            if k in _OPEN:
                close = int(tree.match[i])
                pos += 1
                children = parse(close)
                pos += 1  # the close
                out.append(Group(k, children, off))
                continue
            if k == _DOLLAR:
                run = 1
                while (
                    pos + run < len(sig)
                    and int(kind[sig[pos + run]]) == _DOLLAR
                    and adjacent(sig[pos + run - 1], sig[pos + run])
                ):
                    run += 1
                nxt = sig[pos + run] if pos + run < len(sig) else -1
                name = tok_text(nxt).decode() if nxt >= 0 and int(kind[nxt]) == _IDENT else ""
                is_meta = (
                    nxt >= 0
                    and adjacent(sig[pos + run - 1], nxt)
                    and _META_NAME.match(name) is not None
                )
                if is_meta:
                    if run not in (1, 3):
                        raise PatternError(f"write ${name} or $$${name}", text, off)
                    out.append(Meta(name, run == 3, off))
                    pos += run + 1
                    continue
            t = tok_text(i)
            out.append(Tok(k, t, text_hash(t), off))
            pos += 1
        return tuple(out)

    return parse(-1)


def _walk(elems: tuple[Elem, ...]) -> Iterator[Elem]:
    for e in elems:
        yield e
        if isinstance(e, Group):
            yield from _walk(e.children)


def _selectivity(e: Elem) -> int:
    """Higher is rarer in real code: an identifier or literal beats punctuation or a group."""
    if isinstance(e, Tok):
        if e.kind == _IDENT or is_literal(e.kind) or e.kind == int(TokenKind.LIFETIME):
            return 3 + min(len(e.text), 8)  # longer words are rarer than `a`, `i`, `0`
        return 2
    if isinstance(e, Group):
        return 1
    return 0


@dataclass(frozen=True, slots=True, eq=False)
class Pattern:
    text: str
    elems: tuple[Elem, ...]
    prefix: int  # number of top-level elements before the first $$$
    anchor_at: int  # index of the anchor element in elems (inside the prefix)
    metavars: dict[str, bool]  # name -> is a $$$ sequence

    # -- 2. the data-parallel prefilter ------------------------------------------------------

    @property
    def flat(self) -> bool:
        """No ``$$$``, no group with contents, no metavariable used twice: then the
        vectorised prefix check below *is* the whole match (no tree walk needed)."""
        names = [e.name for e in self.elems if isinstance(e, Meta) and e.name != "_"]
        return (
            self.prefix == len(self.elems)
            and all(not (isinstance(e, Group) and e.children) for e in self.elems)
            and len(names) == len(set(names))
        )

    def candidates(self, ctx: LintFile) -> npt.NDArray[np.int64]:
        """Start rows where the fixed prefix matches (kind/hash of every prefix element)."""
        starts, _, _ = self._prefix(ctx, empty_groups=False)
        return np.unique(starts)

    def _prefix(
        self, ctx: LintFile, *, empty_groups: bool
    ) -> tuple[npt.NDArray[np.int64], list[npt.NDArray[np.int64]], list[npt.NDArray[np.int64]]]:
        """(start rows, per prefix element its first rows, its last rows) of the candidates
        whose fixed prefix matches; ``empty_groups`` also checks that ``()`` elements are
        empty."""
        a = _arrays(ctx)
        sig = a.sig
        n = ctx.n
        none = np.zeros(0, dtype=np.int64)
        if len(sig) == 0:
            return none, [], []
        match, parent = a.match, a.parent
        anchor = self.elems[self.anchor_at]
        if isinstance(anchor, Tok):
            # The file's hashes sorted once serve every rule: two binary searches per rule
            # instead of a compare over all rows (most rules have no candidate in most files).
            h = np.uint64(anchor.hash)
            lo = int(np.searchsorted(a.sorted_hash, h, side="left"))
            hi = int(np.searchsorted(a.sorted_hash, h, side="right"))
            idx = a.order[lo:hi]
            rows = np.sort(sig[idx[a.skind[idx] == anchor.kind]]).astype(np.int64)
        else:
            assert isinstance(anchor, Group)
            rows = sig[(a.skind == anchor.open_kind) & (match[sig] > sig)].astype(np.int64)
        if len(rows) == 0:
            return none, [], []
        # Walk back anchor_at siblings, all candidates at once.
        cur = rows
        ok = np.ones(len(cur), dtype=bool)
        prv = ctx.prv
        for _ in range(self.anchor_at):
            p = prv[cur]
            valid = p >= 0
            pc = np.where(valid, p, 0)
            is_close = a.is_close[pc] & (match[pc] >= 0)
            p2 = np.where(is_close, match[pc], pc)
            ok &= valid & (parent[p2] == parent[cur]) & ~a.is_close[p2]
            cur = np.where(ok, p2, cur)
        starts = cur[ok]
        # Check every element of the fixed prefix forward, all candidates at once.
        cur = starts.copy()
        ok = np.ones(len(cur), dtype=bool)
        nxt, kind_x, match_x, parent_x, hash_x = a.nxt_x, a.kind_x, a.match_x, a.parent_x, a.hash_x
        group_parent = parent_x[np.minimum(cur, n)]
        firsts: list[npt.NDArray[np.int64]] = []
        lasts: list[npt.NDArray[np.int64]] = []
        for e in self.elems[: self.prefix]:
            k = kind_x[cur]
            present = (cur < n) & (parent_x[cur] == group_parent) & ~a.is_close_x[cur]
            if isinstance(e, Tok):
                present &= (k == e.kind) & (hash_x[cur] == np.uint64(e.hash))
            elif isinstance(e, Group):
                present &= (k == e.open_kind) & (match_x[cur] > cur)
                if empty_groups:
                    present &= nxt[np.minimum(cur, n)] == match_x[cur]
            ok &= present
            is_open = a.is_open_x[cur] & (match_x[cur] > cur)
            last = np.where(is_open, match_x[cur], cur)
            firsts.append(cur)
            lasts.append(last.astype(np.int64))
            cur = np.where(ok, nxt[np.minimum(last, n)], cur)
        return starts[ok], [f[ok] for f in firsts], [x[ok] for x in lasts]

    # -- 3. the matcher ----------------------------------------------------------------------

    def find(self, ctx: LintFile) -> list[Match]:
        out: list[Match] = []
        if self.flat:
            starts, firsts, lasts = self._prefix(ctx, empty_groups=True)
            if len(starts) == 0:
                return out
            _, keep = np.unique(starts, return_index=True)
            metas = [(i, e.name) for i, e in enumerate(self.elems)
                     if isinstance(e, Meta) and e.name != "_"]  # fmt: skip
            cols = [(name, firsts[i][keep].tolist(), lasts[i][keep].tolist()) for i, name in metas]
            for j, (s, e) in enumerate(
                zip(starts[keep].tolist(), lasts[-1][keep].tolist(), strict=True)
            ):
                out.append(Match(s, e, {name: (f[j], x[j]) for name, f, x in cols}))
            return out
        rows = self.candidates(ctx)
        if len(rows) == 0:
            return out
        m = _Matcher(ctx)
        for r in rows.tolist():
            stop = m.group_end(r)
            for after, binds in m.seq(self.elems, 0, r, stop, {}, need_end=False):
                last = int(ctx.prv[after]) if after < ctx.n else int(ctx.sig[-1])
                out.append(Match(r, last, binds))
                break
        return out


@dataclass(frozen=True, slots=True, eq=False)
class _Arrays:
    """Per-file arrays every pattern's prefilter reads, built once per file (not per rule):
    the ``_x`` ones have one extra sentinel row so that gathers at ``n`` need no masking."""

    sig: npt.NDArray[np.int64]
    skind: npt.NDArray[np.uint8]
    shash: npt.NDArray[np.uint64]
    order: npt.NDArray[np.int64]  # argsort of shash
    sorted_hash: npt.NDArray[np.uint64]
    kind: npt.NDArray[np.uint8]
    match: npt.NDArray[np.int32]
    parent: npt.NDArray[np.int32]
    is_close: npt.NDArray[np.bool_]
    nxt_x: npt.NDArray[np.int64]
    kind_x: npt.NDArray[np.uint8]
    match_x: npt.NDArray[np.int32]
    parent_x: npt.NDArray[np.int32]
    hash_x: npt.NDArray[np.uint64]
    is_close_x: npt.NDArray[np.bool_]
    is_open_x: npt.NDArray[np.bool_]


_ARRAYS: weakref.WeakKeyDictionary[LintFile, _Arrays] = weakref.WeakKeyDictionary()


def _arrays(ctx: LintFile) -> _Arrays:
    got = _ARRAYS.get(ctx)
    if got is None:
        n = ctx.n
        kind_x = np.append(ctx.kind, np.uint8(0))
        is_close_x = np.isin(kind_x, _CLOSE)
        is_close_x[n] = False
        shash = ctx.hashes[ctx.sig]
        order = np.argsort(shash, kind="stable")
        got = _Arrays(
            sig=ctx.sig,
            skind=ctx.kind[ctx.sig],
            shash=shash,
            order=order,
            sorted_hash=shash[order],
            kind=ctx.kind,
            match=ctx.match,
            parent=ctx.parent,
            is_close=is_close_x[:n],
            nxt_x=np.append(ctx.nxt, n),
            kind_x=kind_x,
            match_x=np.append(ctx.match, np.int32(-1)),
            parent_x=np.append(ctx.parent, np.int32(-2)),
            hash_x=np.append(ctx.hashes, np.uint64(0)),
            is_close_x=is_close_x,
            is_open_x=np.isin(kind_x, _OPEN) & (np.arange(n + 1) < n),
        )
        _ARRAYS[ctx] = got
    return got


class _Matcher:
    def __init__(self, ctx: LintFile) -> None:
        self.ctx = ctx
        self.n = ctx.n
        self.kind = ctx.kind
        self.match = ctx.match
        self.nxt = ctx.nxt
        self.src = ctx.source
        self.start = ctx.start
        self.end = ctx.end
        self.hashes = ctx.hashes

    def group_end(self, r: int) -> int:
        p = int(self.ctx.parent[r])
        return int(self.match[p]) if p >= 0 and int(self.match[p]) > p else self.n

    def text(self, r: int) -> bytes:
        return self.src[int(self.start[r]) : int(self.end[r])]

    def tree_last(self, r: int) -> int:
        m = int(self.match[r])
        return m if int(self.kind[r]) in _OPEN and m > r else r

    def is_tree(self, r: int, stop: int) -> bool:
        return r < stop and int(self.kind[r]) not in _CLOSE

    def key(self, first: int, last: int) -> tuple[bytes, ...]:
        out = []
        r = first
        while r <= last and r < self.n:
            out.append(self.text(r))
            r = int(self.nxt[r])
        return tuple(out)

    def bind(
        self, binds: dict[str, tuple[int, int]], name: str, first: int, last: int
    ) -> dict[str, tuple[int, int]] | None:
        if name == "_":
            return binds
        old = binds.get(name)
        if old is not None:
            return binds if self.key(*old) == self.key(first, last) else None
        new = dict(binds)
        new[name] = (first, last)
        return new

    def seq(
        self,
        elems: tuple[Elem, ...],
        ei: int,
        r: int,
        stop: int,
        binds: dict[str, tuple[int, int]],
        *,
        need_end: bool,
    ) -> Iterator[tuple[int, dict[str, tuple[int, int]]]]:
        """Ways ``elems[ei:]`` match siblings from row ``r`` (``stop``: the group's close)."""
        if ei == len(elems):
            if not need_end or r >= stop or int(self.kind[r]) in _CLOSE:
                yield r, binds
            return
        e = elems[ei]
        if isinstance(e, Meta) and e.seq:
            # Shortest first; each extension takes one more whole tree.
            cur = r
            while True:
                b = self.bind(binds, e.name, r, int(self.ctx.prv[cur]) if cur > r else r - 1)
                if b is not None:
                    yield from self.seq(elems, ei + 1, cur, stop, b, need_end=need_end)
                if not self.is_tree(cur, stop):
                    return
                cur = int(self.nxt[self.tree_last(cur)])
        if not self.is_tree(r, stop):
            return
        k = int(self.kind[r])
        if isinstance(e, Tok):
            if k == e.kind and int(self.hashes[r]) == e.hash and self.text(r) == e.text:
                yield from self.seq(elems, ei + 1, int(self.nxt[r]), stop, binds, need_end=need_end)
            return
        last = self.tree_last(r)
        after = int(self.nxt[last]) if last < self.n else self.n
        if isinstance(e, Group):
            if k != e.open_kind or last == r:
                return
            for _, b in self.seq(e.children, 0, int(self.nxt[r]), last, binds, need_end=True):
                yield from self.seq(elems, ei + 1, after, stop, b, need_end=need_end)
            return
        b2 = self.bind(binds, e.name, r, last)
        if b2 is not None:
            yield from self.seq(elems, ei + 1, after, stop, b2, need_end=need_end)


def compile_pattern(text: str) -> Pattern:
    """Compile a pattern; :class:`PatternError` with the offending offset otherwise."""
    if not text.strip():
        raise PatternError("empty pattern", text, 0)
    elems = _elements(text)
    if not elems:
        raise PatternError("the pattern has no tokens (only comments?)", text, 0)
    metavars: dict[str, bool] = {}
    for e in _walk(elems):
        if isinstance(e, Meta) and e.name != "_" and metavars.setdefault(e.name, e.seq) != e.seq:
            raise PatternError(f"${e.name} is used both as $ and $$$", text, e.offset)
    prefix = next((i for i, e in enumerate(elems) if isinstance(e, Meta) and e.seq), len(elems))
    scored = [(_selectivity(e), -i) for i, e in enumerate(elems[:prefix])]
    best = max(scored, default=(0, 0))
    if best[0] == 0:
        raise PatternError(
            "a pattern must start with a token or group before its first $$$ "
            "(a concrete token to search for)",
            text,
            0,
        )
    return Pattern(text, elems, prefix, -best[1], metavars)


# ---------------------------------------------------------------------------------------------
# Templates: messages and fixes with $X substituted by the matched text

_TEMPLATE_REF = re.compile(r"\$(?:\$\$)?([A-Z_][A-Z0-9_]*)")


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    parts: tuple[str | tuple[str], ...]  # literal text, or (metavariable name,)

    def render(self, ctx: LintFile, m: Match) -> str:
        out: list[str] = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
            else:
                first, last = m.binds[p[0]]
                out.append(ctx.span_text(first, last))
        return "".join(out)


def compile_template(text: str, metavars: dict[str, bool] | set[str]) -> Template:
    """``$X``/``$$$X`` are replaced by the matched source text; every other ``$`` stays."""
    parts: list[str | tuple[str]] = []
    pos = 0
    for m in _TEMPLATE_REF.finditer(text):
        name = m.group(1)
        if name == "_":
            raise PatternError("$_ is anonymous: it cannot be used in a template", text, m.start())
        if name not in metavars:
            known = ", ".join(f"${v}" for v in sorted(metavars)) or "none"
            raise PatternError(
                f"${name} is not a metavariable of the pattern (it has: {known})", text, m.start()
            )
        parts.append(text[pos : m.start()])
        parts.append((name,))
        pos = m.end()
    parts.append(text[pos:])
    return Template(text, tuple(p for p in parts if p != ""))
