"""One item's tokens as the native printer reads them: significant tokens plus layout facts.

The printer (:mod:`rustg.gpu.fmt.native_print`) never looks at source whitespace except for
what rustfmt itself keeps from it: whether a blank line separates two statements, fields,
variants, arms or items (rustfmt keeps at most one, ``blank_lines_upper_bound = 1``, and none
at the start or end of a block). Outer ``///`` doc comments and ``//`` comments are
kept as tokens of their own (DOC; COMMENT when the comment starts its line, TRAILING when it
follows code), which the printer places only where it models rustfmt's placement; any other
comment (block comments, inner docs) makes the item refused here.

Multi-character operators are single-character punct tokens in the token arrays (as in
``rustc_lexer``); ``joint[i]`` says token ``i`` is a punct immediately followed by another
punct, which is what gluing ``->``, ``::``, ``==``... needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rustg.gpu.tokens import TokenKind

__all__ = ["COMMENT", "DOC", "TRAILING", "ItemTokens", "Unsupported", "item_tokens"]

#: Pseudo kind of an outer line doc comment (``///``) in the significant stream.
DOC = 255
#: Pseudo kind of a ``//`` comment that starts its own line.
COMMENT = 254
#: Pseudo kind of a ``//`` comment after code on its line (the printer places it only where
#: it models rustfmt's placement, and refuses it anywhere else).
TRAILING = 253

_WS = int(TokenKind.WHITESPACE)
_LINE_DOC = int(TokenKind.OUTER_LINE_DOC)
_LINE_COMMENT = int(TokenKind.LINE_COMMENT)
_PUNCT_LO = int(TokenKind.SEMI)
_PUNCT_HI = int(TokenKind.PERCENT)


class Unsupported(Exception):
    """The native printer cannot guarantee rustfmt's output here: the item goes to rustfmt."""


@dataclass(slots=True)
class ItemTokens:
    kind: list[int]
    kw: list[int]
    text: list[str]
    joint: list[bool]
    #: newlines in the whitespace right before each token (0 for the first)
    nl_before: list[int]


def item_tokens(  # type: ignore[no-untyped-def]
    source: bytes, tokens, lo: int, hi: int, text: str | None = None
) -> ItemTokens:
    """Significant tokens of rows ``lo..hi`` (inclusive) of a single-file token array.

    ``text``: the source decoded, when it is ASCII (byte offsets are then character offsets,
    and slicing it is much cheaper than decoding each token).
    """
    kinds = tokens.kind[lo : hi + 1]
    # Anything trivia other than whitespace and /// docs (comments, block docs, inner docs,
    # shebang, BOM) or any lexer error: refuse the whole item (checked vectorised first).
    trivia = kinds < 16
    bad = trivia & (kinds != _WS) & (kinds != _LINE_DOC) & (kinds != _LINE_COMMENT)
    if bool(np.any(bad)) or bool(np.any(kinds >= 128)):
        raise Unsupported("comment or error token")
    starts = tokens.start[lo : hi + 1].tolist()
    ends = tokens.end[lo : hi + 1].tolist()
    kws = tokens.keyword[lo : hi + 1].tolist()
    kl = kinds.tolist()
    out = ItemTokens([], [], [], [], [])
    nl = 0
    prev_punct_end = -1
    for j, kind in enumerate(kl):
        k = kind
        s, e = starts[j], ends[j]
        if k == _WS:
            nl += source.count(b"\n", s, e)
            continue
        tok = text[s:e] if text is not None else source[s:e].decode("utf-8")
        if k in (_LINE_DOC, _LINE_COMMENT):
            if tok != tok.rstrip() or "\r" in tok:
                raise Unsupported("comment with trailing whitespace")
            k = (COMMENT if nl else TRAILING) if k == _LINE_COMMENT else DOC
        is_punct = _PUNCT_LO <= k <= _PUNCT_HI
        if out.kind and is_punct and prev_punct_end == s:
            out.joint[-1] = True
        out.kind.append(k)
        out.kw.append(kws[j])
        out.text.append(tok)
        out.joint.append(False)
        out.nl_before.append(nl)
        nl = 0
        prev_punct_end = e if is_punct else -1
    return out
