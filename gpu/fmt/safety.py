"""The safety net: a formatter's output must hold the input's tokens, comments included.

Whitespace is ignored (between tokens, and inside comments, whose lines rustfmt re-indents and
whose trailing spaces it drops). Everything else must match, except for the token changes
rustfmt makes by design. Each of those is recognised explicitly by a canonicalisation applied
to BOTH token streams, so a change is accepted only in the shape rustfmt produces:

===========================  ==============================================================
change (rustfmt option)      canonical form
===========================  ==============================================================
trailing commas              a ``,`` right before ``)``/``]``/``}``/``>`` or ``|`` is dropped
(trailing_comma, match arm   match arms: a ``{ e }`` body with no ``;`` at its top level
 blocks, match_block_        loses its braces, and arm-separating ``,`` are dropped
 trailing_comma)
closure bodies               ``|..| { e }`` (no top-level ``;``) loses its braces
empty statements             a ``;`` right after ``;``, ``{`` or ``}`` ... ``;;`` is dropped
remove_nested_parens         ``((e))`` becomes ``(e)``
loop statement semicolons    ``;`` after the ``}`` of a statement starting with
                             ``for``/``while``/``loop`` is dropped
vec! brackets                ``vec!(..)`` is spelled ``vec![..]``
string continuations         whitespace after a ``\\`` line continuation in a string literal
                             (not part of its value; rustfmt re-indents it) is ignored
empty generic arguments      ``<>`` is dropped (``Result<>`` becomes ``Result``)
2015 imports                 edition 2015: ``use ::a`` becomes ``use a``
comments in use lists        moved out of the item and sorted (rustfmt sorts them along)
byte order mark              a leading UTF-8 BOM is dropped (ignored like whitespace)
newline_style                ``\r\n`` inside literals and comments compares equal to ``\n``
merge_derives                consecutive ``#[derive(..)]`` are merged into one list
force_explicit_abi           ``extern "C"`` is spelled ``extern``
reorder_imports /            each ``use`` tree's brace lists are sorted and a one-element
 reorder_modules             ``{x}`` unbraced; a run of consecutive ``use`` (and of
                             ``mod x;`` and ``extern crate``) items is sorted as a multiset
===========================  ==============================================================

Anything else (a token lost, added, reordered or respelled) is a :class:`SafetyNetError`, and
the driver writes nothing. The cheap path compares two NumPy arrays (the significant tokens'
kinds and their bytes with comment whitespace removed); only on a mismatch are the token lists
built and canonicalised in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from rustg.gpu.tokens import Keyword, TokenArrays, TokenKind

__all__ = ["SafetyNetError", "check_tokens", "significant_tokens"]

_WS = int(TokenKind.WHITESPACE)
_BOM = int(TokenKind.BOM)
_COMMENTS = np.array(
    [
        int(TokenKind.LINE_COMMENT),
        int(TokenKind.BLOCK_COMMENT),
        int(TokenKind.OUTER_LINE_DOC),
        int(TokenKind.INNER_LINE_DOC),
        int(TokenKind.OUTER_BLOCK_DOC),
        int(TokenKind.INNER_BLOCK_DOC),
    ],
    dtype=np.uint8,
)
_SPACE_BYTES = np.array([0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C], dtype=np.uint8)
# Lookup tables (uint8 kind or byte -> bool): a table index is ~10x cheaper than np.isin here.
_IS_COMMENT = np.zeros(256, dtype=np.bool_)
_IS_COMMENT[_COMMENTS] = True
_IS_SPACE = np.zeros(256, dtype=np.bool_)
_IS_SPACE[_SPACE_BYTES] = True

_OPEN = {int(TokenKind.OPEN_PAREN), int(TokenKind.OPEN_BRACKET), int(TokenKind.OPEN_BRACE)}
_CLOSE = {int(TokenKind.CLOSE_PAREN), int(TokenKind.CLOSE_BRACKET), int(TokenKind.CLOSE_BRACE)}


class SafetyNetError(Exception):
    """The output's tokens differ from the input's beyond rustfmt's recognised changes."""


@dataclass(frozen=True, slots=True)
class _Stream:
    kinds: np.ndarray  # significant tokens' kinds
    body: np.ndarray  # their bytes, whitespace inside comments removed
    arrays: TokenArrays
    rows: np.ndarray  # token rows of the significant tokens


def _lex(source: bytes, backend: Any) -> TokenArrays:
    from rustg.gpu.backend import Device, get_backend

    be = backend or get_backend()
    return be.lex_bytes(source, device=Device.CPU, whole=True)


def _stream(arrays: TokenArrays) -> _Stream:
    kind, start = arrays.kind, arrays.start
    # rustfmt drops a UTF-8 byte order mark by design: like whitespace, it is not compared.
    rows = np.flatnonzero((kind != _WS) & (kind != _BOM))
    n = len(arrays.buffer)
    # Per byte: the kind of the token it belongs to (tokens cover the file exactly, in order).
    lengths = (arrays.end - start).astype(np.int64)
    if int(lengths.sum()) != n:
        raise SafetyNetError("the lexer's tokens do not cover the file")
    byte_kind = np.repeat(kind, lengths)
    keep = (byte_kind != _WS) & (byte_kind != _BOM)
    # newline_style rewrites every line ending, inside string literals too: "\r\n" == "\n".
    buf = arrays.buffer[:n]
    if n > 1:
        keep[:-1] &= ~((buf[:-1] == 0x0D) & (buf[1:] == 0x0A))
    keep &= ~(_IS_COMMENT[byte_kind] & _IS_SPACE[buf])
    return _Stream(kind[rows], arrays.buffer[:n][keep], arrays, rows)


def significant_tokens(source: bytes, backend: Any = None) -> list[tuple[int, bytes]]:
    """(kind, text) of every non-whitespace token; comment text without whitespace."""
    return _tokens(_stream(_lex(source, backend)))


def _tokens(stream: _Stream) -> list[tuple[int, bytes]]:
    arrays = stream.arrays
    out: list[tuple[int, bytes]] = []
    comments = set(_COMMENTS.tolist())
    for row in stream.rows.tolist():
        k = int(arrays.kind[row])
        text = arrays.buffer[arrays.start[row] : arrays.end[row]].tobytes()
        if k in comments:
            text = b"".join(text.split())
        elif b"\r\n" in text:
            text = text.replace(b"\r\n", b"\n")  # as in _stream: newline_style
        if k in _ESCAPED_STRINGS and b"\\\n" in text:
            text = _continuation_whitespace(text)
        out.append((k, text))
    return out


_ESCAPED_STRINGS = frozenset((int(TokenKind.STR), int(TokenKind.BYTE_STR), int(TokenKind.C_STR)))
# An escape, or a line continuation (`\` newline: the newline and the whitespace after it are
# not part of the string). Escapes are matched as pairs so that `\\` is never a continuation.
_ESCAPE = re.compile(rb"\\(\n[ \t\n\r]*|.)", re.DOTALL)


def _continuation_whitespace(text: bytes) -> bytes:
    """rustfmt re-indents the lines after a ``\\`` line continuation in a string literal
    (futures-macro's select.rs, scrambled): that whitespace is no part of the value, so it is
    not compared."""
    return _ESCAPE.sub(lambda m: b"\\\n" if m.group(1)[:1] == b"\n" else m.group(0), text)


def check_tokens(
    original: bytes, formatted: bytes, *, backend: Any = None, edition: str | None = None
) -> None:
    """Raise :class:`SafetyNetError` unless ``formatted`` holds ``original``'s tokens (modulo
    the recognised rustfmt changes of the module docstring). ``edition``: the file's."""
    a = _stream(_lex(original, backend))
    b = _stream(_lex(formatted, backend))
    if np.array_equal(a.kinds, b.kinds) and np.array_equal(a.body, b.body):
        return
    ca, cb = canonical(_tokens(a), edition=edition), canonical(_tokens(b), edition=edition)
    if ca == cb:
        return
    i = next((i for i, (x, y) in enumerate(zip(ca, cb, strict=False)) if x != y), None)
    if i is None:
        raise SafetyNetError(f"token count differs: {len(ca)} in, {len(cb)} out")
    context_in = b" ".join(t for _, t in ca[max(0, i - 5) : i + 5]).decode(errors="replace")
    context_out = b" ".join(t for _, t in cb[max(0, i - 5) : i + 5]).decode(errors="replace")
    raise SafetyNetError(
        f"token {i} differs: {ca[i][1]!r} in, {cb[i][1]!r} out "
        f"(input near: {context_in!r}; output near: {context_out!r})"
    )


# -- canonicalisation (pure, on (kind, text) lists) -----------------------------------------------

Tok = tuple[int, bytes]

_COMMA = (int(TokenKind.COMMA), b",")
_SEMI = (int(TokenKind.SEMI), b";")
_OPEN_BRACE = (int(TokenKind.OPEN_BRACE), b"{")
_CLOSE_BRACE = (int(TokenKind.CLOSE_BRACE), b"}")
_OPEN_PAREN = (int(TokenKind.OPEN_PAREN), b"(")
_CLOSE_PAREN = (int(TokenKind.CLOSE_PAREN), b")")
_POUND = (int(TokenKind.POUND), b"#")
_GT = (int(TokenKind.GT), b">")
_EQ = (int(TokenKind.EQ), b"=")
_OR = (int(TokenKind.OR), b"|")
_IDENT = int(TokenKind.IDENT)
_STR = int(TokenKind.STR)
del Keyword  # keywords are matched by text here: the lists carry no keyword column


def _matches(toks: list[Tok]) -> list[int]:
    """Index of the matching delimiter of every open/close token (-1 elsewhere or unmatched)."""
    match = [-1] * len(toks)
    stack: list[int] = []
    for i, (k, _) in enumerate(toks):
        if k in _OPEN:
            stack.append(i)
        elif k in _CLOSE and stack:
            j = stack.pop()
            match[i], match[j] = j, i
    return match


def canonical(toks: list[Tok], *, edition: str | None = None) -> list[Tok]:
    """Apply every recognised rustfmt change (module docstring) until nothing changes.
    ``edition``: the file's (``"2015"`` enables the 2015-only import rewrite)."""
    # A step is skipped when the word it needs is absent: each is then the identity. The steps
    # only drop tokens or respell delimiters, so words absent now stay absent. (Each step
    # walks the whole file in Python; this is most of the net's cost on a changed file.)
    words = {t for k, t in toks if k == _IDENT}
    if edition == "2015" and b"use" in words:
        toks = _use_leading_colons(toks)
    for step, needs in (
        (_macro_rules, (b"macro_rules",)),
        (_nested_parens, ()),
        (_vec_brackets, (b"vec",)),
        (_empty_generics, ()),
        (_jump_semis, tuple(_JUMPS)),
        (_unwrap_blocks, ()),
        (_match_commas, (b"match",)),
        (_trailing_commas, ()),
        (_empty_semis, ()),
        (_block_statement_semis, tuple(_LOOPS)),  # after `;;` is one `;`
        (_derives, (b"derive",)),
        (_abi, (b"extern",)),
        (_use_trees, _RUN_KEYS),
    ):
        if not needs or not words.isdisjoint(needs):
            toks = step(toks)
    return _trailing_commas(toks)


def _next_code(toks: list[Tok], i: int) -> Tok | None:
    """The first token after i that is not a comment (rustfmt puts a trailing comma before
    a comment that ends the line)."""
    for j in range(i + 1, len(toks)):
        if toks[j][0] not in _COMMENT_KINDS:
            return toks[j]
    return None


def _trailing_commas(toks: list[Tok]) -> list[Tok]:
    """Trailing commas of lists, and of where clauses (before their ``{`` or ``;``)."""
    out: list[Tok] = []
    in_where = [False]  # per delimiter depth: inside a `where` clause
    for i, tok in enumerate(toks):
        k = tok[0]
        if k in _OPEN:
            if tok == _OPEN_BRACE:
                in_where[-1] = False
            in_where.append(False)
        elif k in _CLOSE:
            if len(in_where) > 1:
                in_where.pop()
        elif tok == (_IDENT, b"where"):
            in_where[-1] = True
        elif tok == _SEMI:
            in_where[-1] = False
        elif tok == _COMMA:
            nk = _next_code(toks, i)
            if nk is not None and (nk[0] in _CLOSE or nk in (_GT, _OR)):
                continue
            if nk is not None and in_where[-1] and nk in (_OPEN_BRACE, _SEMI):
                continue
        out.append(tok)
    return out


_JUMPS = frozenset((b"return", b"break", b"continue"))


def _jump_semis(toks: list[Tok]) -> list[Tok]:
    """``{ ...; return x }`` → ``return x;`` (rustfmt ends jump statements with ``;``)."""
    match = _matches(toks)
    drop: set[int] = set()
    for i, tok in enumerate(toks):
        if tok != _SEMI or i + 1 >= len(toks) or toks[i + 1] != _CLOSE_BRACE:
            continue
        j = i - 1
        while j >= 0 and toks[j] not in (_SEMI, _OPEN_BRACE) and toks[j][0] not in _OPEN:
            after = _next_code(toks, j)
            if (
                toks[j] == _CLOSE_BRACE
                and after is not None
                and after[0] == _IDENT
                and after[1] in _JUMPS
            ):
                break  # `if c { .. } break`: the block ended the previous statement
            if toks[j][0] in _CLOSE and match[j] >= 0:
                j = match[j]
            j -= 1
        first = j + 1
        while first < i and toks[first][0] in _COMMENT_KINDS:
            first += 1
        if first < i and toks[first][0] == _IDENT and toks[first][1] in _JUMPS:
            drop.add(i)
    return [t for i, t in enumerate(toks) if i not in drop]


_LOOPS = frozenset((b"loop", b"while", b"for"))
_ELSE = (_IDENT, b"else")
_COLON = (int(TokenKind.COLON), b":")
_LT = (int(TokenKind.LT), b"<")


def _block_statement_semis(toks: list[Tok]) -> list[Tok]:
    """``for .. { .. };``, ``while .. { .. };``, ``loop { .. };``: rustfmt drops the ``;`` of
    a loop statement (stmt.rs semicolon_for_stmt; rustc-serialize's base64.rs and json.rs),
    and keeps it after ``if``/``match``/blocks (checked). The statement must start with the
    keyword: ``let x = loop { .. };`` keeps its ``;``."""
    match = _matches(toks)
    drop: set[int] = set()
    for i, tok in enumerate(toks):
        if tok != _SEMI or i == 0 or toks[i - 1] != _CLOSE_BRACE or match[i - 1] < 0:
            continue
        j = match[i - 1] - 1
        while j >= 0 and toks[j] not in (_SEMI, _OPEN_BRACE) and toks[j][0] not in _OPEN:
            if toks[j] == _CLOSE_BRACE:
                if _next_code(toks, j) != _ELSE or match[j] < 0:
                    break  # the end of the previous statement
                j = match[j]  # `} else {`: an earlier branch of the same `if`
            elif toks[j][0] in _CLOSE and match[j] >= 0:
                j = match[j]
            j -= 1
        first = j + 1
        while first < i and toks[first][0] in _COMMENT_KINDS:
            first += 1
        if toks[first][0] == _IDENT and toks[first][1] in _LOOPS:
            drop.add(i)
    return [t for i, t in enumerate(toks) if i not in drop]


def _use_leading_colons(toks: list[Tok]) -> list[Tok]:
    """Edition 2015: ``use ::a::b;`` is printed ``use a::b;`` (2015 paths in imports are
    crate-relative either way; slog's tests.rs ``use ::*``, unicase's ``use ::Ascii``)."""
    drop: set[int] = set()
    for i in range(len(toks) - 2):
        if toks[i] == (_IDENT, b"use") and toks[i + 1] == _COLON and toks[i + 2] == _COLON:
            drop.update((i + 1, i + 2))
    return [t for i, t in enumerate(toks) if i not in drop]


_BANG = (int(TokenKind.BANG), b"!")
_OPEN_BRACKET = (int(TokenKind.OPEN_BRACKET), b"[")
_CLOSE_BRACKET = (int(TokenKind.CLOSE_BRACKET), b"]")


def _vec_brackets(toks: list[Tok]) -> list[Tok]:
    """``vec!(..)`` is printed ``vec![..]`` (rustfmt's FORCED_BRACKET_MACROS; only the bare
    name: rustc-serialize's json.rs)."""
    match = _matches(toks)
    out = list(toks)
    for i in range(len(toks) - 2):
        if (
            toks[i] == (_IDENT, b"vec")
            and toks[i + 1] == _BANG
            and toks[i + 2] == _OPEN_PAREN
            and match[i + 2] > i + 2
            and (i == 0 or toks[i - 1] != _COLON)
        ):
            out[i + 2], out[match[i + 2]] = _OPEN_BRACKET, _CLOSE_BRACKET
    return out


def _empty_generics(toks: list[Tok]) -> list[Tok]:
    """``Result<>`` is printed ``Result`` (empty generic arguments dropped; wasm-bindgen's
    ui-tests/invalid-imports.rs)."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        if toks[i] == _LT and i + 1 < len(toks) and toks[i + 1] == _GT:
            i += 2
            continue
        out.append(toks[i])
        i += 1
    return out


def _macro_rules(toks: list[Tok]) -> list[Tok]:
    """In ``macro_rules!`` bodies rustfmt may respell arm delimiters (``=> (..)`` as ``{..}``)
    and arm separators: top-level groups become braces, top-level ``;`` are dropped."""
    match = _matches(toks)
    out = list(toks)
    drop: set[int] = set()
    for i, tok in enumerate(toks):
        if tok != (_IDENT, b"macro_rules") or i + 3 >= len(toks):
            continue
        body = i + 3
        if toks[i + 1][1] != b"!" or toks[body][0] not in _OPEN or match[body] < 0:
            continue
        k = body + 1
        while k < match[body]:
            if toks[k][0] in _OPEN and match[k] > k:
                out[k], out[match[k]] = _OPEN_BRACE, _CLOSE_BRACE
                k = match[k]
            elif toks[k] == _SEMI:
                drop.add(k)
            k += 1
        if match[body] + 1 < len(toks) and toks[match[body] + 1] == _SEMI:
            drop.add(match[body] + 1)  # `macro_rules! m ( .. );` loses the `;` with its parens
        out[body], out[match[body]] = _OPEN_BRACE, _CLOSE_BRACE
    return [t for i, t in enumerate(out) if i not in drop]


def _empty_semis(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    for tok in toks:
        if tok == _SEMI and out and (out[-1] == _SEMI or out[-1] == _OPEN_BRACE):
            continue
        out.append(tok)
    return out


def _nested_parens(toks: list[Tok]) -> list[Tok]:
    match = _matches(toks)
    drop: set[int] = set()
    for i, tok in enumerate(toks):
        # `((e))`: the outer group holds exactly the inner group. Not after an identifier or a
        # `)`/`]`: `f((a, b))` passes a tuple, which is not a redundant pair.
        if tok != _OPEN_PAREN or i + 1 >= len(toks) or toks[i + 1] != _OPEN_PAREN:
            continue
        if i > 0 and toks[i - 1][0] in _NOT_BEFORE_PARENS:
            continue
        j, k = match[i], match[i + 1]
        if j > 0 and k > 0 and k + 1 == j:
            drop.update((i, j))
    return [t for i, t in enumerate(toks) if i not in drop]


def _has_top_level_semi(toks: list[Tok], match: list[int], lo: int, hi: int) -> bool:
    i = lo
    while i < hi:
        if toks[i] == _SEMI:
            return True
        if toks[i][0] in _OPEN and match[i] > i:
            i = match[i]
        i += 1
    return False


def _unwrap_blocks(toks: list[Tok]) -> list[Tok]:
    """``=> { e }`` and closure ``| { e }`` with one expression and no ``;``: braces dropped."""
    match = _matches(toks)
    drop: set[int] = set()
    for i, tok in enumerate(toks):
        if tok != _OPEN_BRACE or i == 0 or match[i] < 0:
            continue
        prev = toks[i - 1]
        arrow = prev == _GT and i >= 2 and toks[i - 2] == _EQ
        if not (arrow or prev == _OR):
            continue
        j = match[i]
        if j == i + 1 or _has_top_level_semi(toks, match, i + 1, j):
            continue
        # Applied to both streams alike: a block rustfmt keeps braced loses them on both sides.
        drop.update((i, j))
    return [t for i, t in enumerate(toks) if i not in drop]


def _match_commas(toks: list[Tok]) -> list[Tok]:
    """Arm-separating commas at the top level of every ``match`` body are dropped."""
    match = _matches(toks)
    drop: set[int] = set()
    for i, tok in enumerate(toks):
        if tok != (_IDENT, b"match"):
            continue
        j = i + 1
        while j < len(toks) and toks[j] != _OPEN_BRACE and toks[j] != _SEMI:
            if toks[j][0] in _OPEN and match[j] > j:
                j = match[j]
            j += 1
        if j >= len(toks) or toks[j] != _OPEN_BRACE or match[j] < 0:
            continue
        k = j + 1
        while k < match[j]:
            if toks[k] == _COMMA:
                drop.add(k)
            elif toks[k][0] in _OPEN and match[k] > k:
                k = match[k]
            k += 1
    return [t for i, t in enumerate(toks) if i not in drop]


def _derives(toks: list[Tok]) -> list[Tok]:
    """``#[derive(A)] #[derive(B)]`` → ``#[derive(A, B)]`` (merge_derives)."""
    out: list[Tok] = []
    i = 0
    n = len(toks)

    def derive_at(p: int) -> int:  # end (exclusive) of `# [ derive ( ... ) ]` at p, or -1
        if (
            p + 4 < n
            and toks[p] == _POUND
            and toks[p + 1][1] == b"["
            and toks[p + 2] == (_IDENT, b"derive")
            and toks[p + 3] == _OPEN_PAREN
        ):
            depth = 0
            for q in range(p + 3, n):
                if toks[q][0] in _OPEN:
                    depth += 1
                elif toks[q][0] in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        return q + 2 if q + 1 < n and toks[q + 1][1] == b"]" else -1
        return -1

    while i < n:
        end = derive_at(i)
        if end < 0:
            out.append(toks[i])
            i += 1
            continue
        names: list[Tok] = list(toks[i + 4 : end - 2])
        while (nxt := derive_at(end)) > 0:
            names.extend(toks[end + 4 : nxt - 2])
            end = nxt
        out.extend(toks[i : i + 4])
        out.extend(t for t in names if t != _COMMA)
        out.extend((_CLOSE_PAREN, (int(TokenKind.CLOSE_BRACKET), b"]")))
        i = end
    return out


def _abi(toks: list[Tok]) -> list[Tok]:
    return [
        t
        for i, t in enumerate(toks)
        if not (t == (_STR, b'"C"') and i > 0 and toks[i - 1] == (_IDENT, b"extern"))
    ]


_RUN_KEYS = (b"use", b"mod", b"extern")


def _unit_end(toks: list[Tok], i: int) -> int:
    """End (exclusive) of a `;`-terminated item starting at i (skipping groups)."""
    depth = 0
    for j in range(i, len(toks)):
        k = toks[j][0]
        if k in _OPEN:
            depth += 1
        elif k in _CLOSE:
            depth -= 1
            if depth < 0:
                return -1
        elif toks[j] == _SEMI and depth == 0:
            return j + 1
    return -1


def _canon_use_tree(tree: list[Tok]) -> list[Tok]:
    """Sort brace lists recursively; ``{x}`` with one non-``self`` element loses its braces.
    Comments in the item are taken out and put after it, sorted: rustfmt moves a comment in
    a use list with the list's sorting (winapi's um/sapi.rs: ``//SPPHRASESIZE_500,`` went
    from the middle of the list to its start)."""
    comments = sorted(t for t in tree if t[0] in _COMMENT_KINDS)
    tree = [t for t in tree if t[0] not in _COMMENT_KINDS]
    match = _matches(tree)

    def walk(lo: int, hi: int) -> list[Tok]:
        out: list[Tok] = []
        i = lo
        while i < hi:
            if tree[i] == _OPEN_BRACE and match[i] > i:
                j = match[i]
                elems: list[list[Tok]] = []
                cur: list[Tok] = []
                k = i + 1
                while k < j:
                    if tree[k] == _OPEN_BRACE and match[k] > k:
                        cur.extend(walk(k, match[k] + 1))  # a nested list, sorted too
                        k = match[k] + 1
                        continue
                    if tree[k] == _COMMA:
                        if cur:
                            elems.append(cur)
                        cur = []
                    else:
                        cur.append(tree[k])
                    k += 1
                if cur:
                    elems.append(cur)
                elems.sort(key=lambda e: b" ".join(t for _, t in e))
                if len(elems) == 1 and elems[0] != [(_IDENT, b"self")]:
                    out.extend(elems[0])
                else:
                    out.append(_OPEN_BRACE)
                    for e in elems:
                        out.extend(e)
                        out.append(_COMMA)
                    out.append(_CLOSE_BRACE)
                i = j + 1
                continue
            out.append(tree[i])
            i += 1
        return out

    return walk(0, len(tree)) + comments


def _use_trees(toks: list[Tok]) -> list[Tok]:
    """Canonical use trees, and runs of consecutive use/mod;/extern crate items sorted."""
    out: list[Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        unit = _reorderable_at(toks, i)
        if unit is None:
            out.append(toks[i])
            i += 1
            continue
        run: list[list[Tok]] = []
        comments: list[Tok] = []  # comments inside a run: rustfmt moves them with their items
        while unit is not None:
            start, end, keyword = unit
            body = toks[start:end]
            run.append(_canon_use_tree(body) if keyword == b"use" else body)
            i = end
            j = i
            while j < n and toks[j][0] in _PLAIN_COMMENT_KINDS:
                j += 1
            unit = _reorderable_at(toks, j)
            if unit is not None:
                comments.extend(toks[i:j])
        run.sort(key=lambda u: b" ".join(t for _, t in u))
        for u in run:
            out.extend(u)
        out.extend(sorted(comments))
    return out


def _reorderable_at(toks: list[Tok], i: int) -> tuple[int, int, bytes] | None:
    """A `use …;`, `mod x;` or `extern crate …;` (with visibility/attributes) starting at i."""
    n = len(toks)
    j = i
    # Outer docs and attributes belong to the item and travel with it when rustfmt sorts (a
    # `///` before the run's first item: hyper's proto/h2/ping.rs, scrambled, two use groups
    # joined); plain comments are collected by the caller.
    while j < n and (toks[j] == _POUND or toks[j][0] in _OUTER_DOC_KINDS):
        if toks[j][0] in _OUTER_DOC_KINDS:
            j += 1
            continue
        if not (j + 1 < n and toks[j + 1][1] == b"["):
            return None
        depth = 0
        k = j + 1
        while k < n:
            if toks[k][0] in _OPEN:
                depth += 1
            elif toks[k][0] in _CLOSE:
                depth -= 1
                if depth == 0:
                    break
            k += 1
        j = k + 1
    if j < n and toks[j] == (_IDENT, b"pub"):
        j += 1
        if j < n and toks[j] == _OPEN_PAREN:
            depth = 0
            while j < n:
                if toks[j][0] in _OPEN:
                    depth += 1
                elif toks[j][0] in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            j += 1
    if j >= n or toks[j][0] != _IDENT or toks[j][1] not in _RUN_KEYS:
        return None
    keyword = toks[j][1]
    if keyword == b"extern" and not (j + 1 < n and toks[j + 1] == (_IDENT, b"crate")):
        return None
    if keyword == b"mod" and not (j + 2 < n and toks[j + 2] == _SEMI):
        return None
    end = _unit_end(toks, j)
    if end < 0:
        return None
    return i, end, keyword


_NOT_BEFORE_PARENS = frozenset((_IDENT, int(TokenKind.RAW_IDENT), int(TokenKind.BANG), *_CLOSE))
_COMMENT_KINDS = frozenset(int(k) for k in _COMMENTS.tolist())
_OUTER_DOC_KINDS = frozenset((int(TokenKind.OUTER_LINE_DOC), int(TokenKind.OUTER_BLOCK_DOC)))
_PLAIN_COMMENT_KINDS = frozenset((int(TokenKind.LINE_COMMENT), int(TokenKind.BLOCK_COMMENT)))
