"""Item index: every item of every lexed file, as a structure of arrays.

Built from the token arrays (:mod:`rustg.gpu.tokens`) and the token tree
(:mod:`rustg.gpu.tree`), with no parser:

1. **Significant tokens.** Trivia (whitespace, comments) are dropped; work happens on the
   significant-token subsequence ("sig space"), whose tree links are remapped from the tree.
2. **Opaque groups.** The tokens of a macro invocation (``foo!(…)``, ``foo! {…}``,
   ``macro_rules! m {…}``) and of an attribute (``#[…]``, ``#![…]``) are not Rust syntax to a
   parser, so nothing inside them is an item (syn does not see into them either). Each such
   group adds +1 at its open and -1 at its close; a segmented prefix sum says, per token,
   whether it lies inside one.
3. **Candidates.** A token can start an item head only at an item position: top level or
   directly inside a ``{}`` group, not inside an opaque group, and right after the start of
   the file, ``;``, ``{``, ``}`` or the ``]`` of an attribute; and only if it is one of the
   words an item starts with (``pub fn struct enum union trait impl mod use const static type
   macro_rules extern unsafe async default auto safe``). Vectorised boolean algebra.
4. **Per-candidate scan** (numba, parallel over candidates): visibility, modifiers, the item
   keyword and name, and the end: for ``;``-terminated kinds the first ``;`` of the item's
   level, for body kinds the first ``{`` outside ``<…>`` (its ``match`` link gives the end) or
   a ``;``. Nested groups are jumped over with the tree's ``match`` links, so the scan is short.
   A candidate that turns out to be a statement (``unsafe {``, ``async move {``,
   ``const {``, ``static ||``, ``union.x``) is rejected here.
5. **Outer attributes**: a short backward walk from each head over ``#[…]`` groups and outer
   doc comments (``///``, ``/** */``); each attribute's path is classified (``test``,
   ``cfg(test)``, ``rustg::kernel``, ``rustg::device``, ``rustg::gpu_test``, ``allow``/``warn``/
   ``deny``/``forbid``/``expect``, ``doc``) into :class:`AttrKind` and item :class:`ItemFlag` s.
6. **Nesting**: items are properly nested intervals of tokens; the parent of an item is the
   nearest earlier item of its file whose span contains its head (a stack scan per file).

Where it runs: ``build_items(..., xp=None)`` on the host (numba ``njit``, parallel over files:
steps 1-4 of a file, and the count of each item's attributes, in one task while its rows are
in cache, on sig-space arrays of the task's own; steps 1-3 are one stack scan, the running
count of open opaque groups standing in for the prefix sum); ``xp=cupy`` on the GPU
(:mod:`rustg.gpu.items_cuda`: the same scan and attribute functions, ``register_jitable``,
called from numba-cuda kernels, with the per-file loops of steps 1-3 and 6 replaced by CuPy
scans, gathers and searchsorted).

Which items are listed (mirrors tests/oracles/items_oracle, syn 1.0 with ``full``): every item
of the kinds in :class:`ItemKind`, at any depth: inside inline modules, fn bodies, const and
static initialisers, and as associated items of ``impl``/``trait`` blocks (fn, const, type)
and foreign items of ``extern`` blocks (fn, static, type). Macro invocations other than
``macro_rules!`` definitions are not items. Names: an ``impl`` is named by its self type, a
``use`` by its tree, an ``extern`` block by its ABI (``C``, or empty), ``extern crate a as b``
by ``a``; texts are token texts joined without spaces except between two word characters.
Spans: ``start`` is the first outer attribute or doc comment (as syn's span), ``head`` the
visibility or first keyword, ``end`` the last token (``}`` or ``;``), all token rows.
"""

# Kernel code (numba, written to compile for CUDA too): many positional array arguments, `==`/`or`
# chains instead of container membership (unsupported in CUDA device code), explicit loops.
# ruff: noqa: PLR0917, PLR1714, SIM102, SIM109, SIM110
# mypy: allow-untyped-defs, allow-untyped-calls

from __future__ import annotations

import argparse
import enum
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numba
import numpy as np
import numpy.typing as npt
from numba.extending import register_jitable

from rustg.gpu.tokens import Keyword, TokenArrays, TokenKind, line_columns
from rustg.gpu.tree import TokenTree

__all__ = [
    "AttrKind",
    "Attribute",
    "Item",
    "ItemFlag",
    "ItemIndex",
    "ItemKind",
    "Visibility",
    "build_items",
    "items_command",
]


class ItemKind(enum.IntEnum):
    """What an item is; stored as ``uint8``. ``str()`` gives the oracle's/JSON spelling."""

    FN = 1
    STRUCT = 2
    ENUM = 3
    UNION = 4
    TRAIT = 5
    IMPL = 6
    MOD = 7
    USE = 8
    CONST = 9
    STATIC = 10
    TYPE = 11
    MACRO_RULES = 12
    EXTERN_BLOCK = 13
    EXTERN_CRATE = 14

    def __str__(self) -> str:
        return self.name.lower()


class Visibility(enum.IntEnum):
    PRIVATE = 0  # inherited
    PUB = 1
    PUB_CRATE = 2
    PUB_SUPER = 3
    PUB_SELF = 4
    PUB_IN = 5  # pub(in path)


class ItemFlag(enum.IntFlag):
    """Per-item bits; stored as ``uint32``."""

    TEST = 1 << 0  # #[test]
    CFG_TEST = 1 << 1  # #[cfg(test)]
    KERNEL = 1 << 2  # #[rustg::kernel]
    DEVICE = 1 << 3  # #[rustg::device]
    GPU_TEST = 1 << 4  # #[rustg::gpu_test(...)]
    DOC = 1 << 5  # has a doc comment or #[doc = ...]
    LINT_ATTR = 1 << 6  # has #[allow/warn/deny/forbid/expect(...)]
    UNSAFE = 1 << 8
    ASYNC = 1 << 9
    CONST_FN = 1 << 10
    EXTERN_ABI = 1 << 11  # `extern "abi" fn`
    DEFAULT = 1 << 12  # `default fn` (specialisation)
    IN_BODY = 1 << 13  # inside a fn body or another expression (not a module/impl/trait)
    UNTERMINATED = 1 << 14  # no `;`/body before its group or file ended: a syntax error


class AttrKind(enum.IntEnum):
    """Class of one outer attribute, by its path; stored as ``uint8``."""

    OTHER = 0
    DOC_COMMENT = 1  # /// or /** */
    DOC = 2  # #[doc = ...]
    TEST = 3
    CFG = 4  # any #[cfg(...)]; ItemFlag.CFG_TEST says whether it is exactly cfg(test)
    RUSTG_KERNEL = 5
    RUSTG_DEVICE = 6
    RUSTG_GPU_TEST = 7
    ALLOW = 8
    WARN = 9
    DENY = 10
    FORBID = 11
    EXPECT = 12


_LINT_KINDS = (AttrKind.ALLOW, AttrKind.WARN, AttrKind.DENY, AttrKind.FORBID, AttrKind.EXPECT)

# ---------------------------------------------------------------------------------------------
# Constants for the numba code (module-level ints are frozen into the compiled functions).

_K_OPEN_PAREN = int(TokenKind.OPEN_PAREN)
_K_CLOSE_PAREN = int(TokenKind.CLOSE_PAREN)
_K_OPEN_BRACKET = int(TokenKind.OPEN_BRACKET)
_K_CLOSE_BRACKET = int(TokenKind.CLOSE_BRACKET)
_K_OPEN_BRACE = int(TokenKind.OPEN_BRACE)
_K_CLOSE_BRACE = int(TokenKind.CLOSE_BRACE)
_K_SEMI = int(TokenKind.SEMI)
_K_COLON = int(TokenKind.COLON)
_K_POUND = int(TokenKind.POUND)
_K_BANG = int(TokenKind.BANG)
_K_EQ = int(TokenKind.EQ)
_K_LT = int(TokenKind.LT)
_K_GT = int(TokenKind.GT)
_K_MINUS = int(TokenKind.MINUS)
_K_IDENT = int(TokenKind.IDENT)
_K_RAW_IDENT = int(TokenKind.RAW_IDENT)
_K_STR = int(TokenKind.STR)
_K_RAW_STR = int(TokenKind.RAW_STR)
_K_WHITESPACE = int(TokenKind.WHITESPACE)
_K_LINE_COMMENT = int(TokenKind.LINE_COMMENT)
_K_BLOCK_COMMENT = int(TokenKind.BLOCK_COMMENT)
_K_OUTER_LINE_DOC = int(TokenKind.OUTER_LINE_DOC)
_K_OUTER_BLOCK_DOC = int(TokenKind.OUTER_BLOCK_DOC)

_W_NONE = int(Keyword.NONE)
_W_CONST = int(Keyword.CONST)
_W_CRATE = int(Keyword.CRATE)
_W_ENUM = int(Keyword.ENUM)
_W_EXTERN = int(Keyword.EXTERN)
_W_FN = int(Keyword.FN)
_W_FOR = int(Keyword.FOR)
_W_IMPL = int(Keyword.IMPL)
_W_IN = int(Keyword.IN)
_W_MOD = int(Keyword.MOD)
_W_MUT = int(Keyword.MUT)
_W_PUB = int(Keyword.PUB)
_W_SELF_VALUE = int(Keyword.SELF_VALUE)
_W_STATIC = int(Keyword.STATIC)
_W_STRUCT = int(Keyword.STRUCT)
_W_SUPER = int(Keyword.SUPER)
_W_TRAIT = int(Keyword.TRAIT)
_W_TYPE = int(Keyword.TYPE)
_W_UNSAFE = int(Keyword.UNSAFE)
_W_USE = int(Keyword.USE)
_W_WHERE = int(Keyword.WHERE)
_W_ASYNC = int(Keyword.ASYNC)
_W_AWAIT = int(Keyword.AWAIT)
_W_DYN = int(Keyword.DYN)
_W_TRY = int(Keyword.TRY)
_W_UNION = int(Keyword.UNION)
_W_MACRO_RULES = int(Keyword.MACRO_RULES)
_W_AUTO = int(Keyword.AUTO)
_W_DEFAULT = int(Keyword.DEFAULT)
_W_SAFE = int(Keyword.SAFE)
_W_UNDERSCORE = int(Keyword.UNDERSCORE)
_W_FIRST_WEAK = int(Keyword.UNION)

_I_FN = int(ItemKind.FN)
_I_STRUCT = int(ItemKind.STRUCT)
_I_ENUM = int(ItemKind.ENUM)
_I_UNION = int(ItemKind.UNION)
_I_TRAIT = int(ItemKind.TRAIT)
_I_IMPL = int(ItemKind.IMPL)
_I_MOD = int(ItemKind.MOD)
_I_USE = int(ItemKind.USE)
_I_CONST = int(ItemKind.CONST)
_I_STATIC = int(ItemKind.STATIC)
_I_TYPE = int(ItemKind.TYPE)
_I_MACRO_RULES = int(ItemKind.MACRO_RULES)
_I_EXTERN_BLOCK = int(ItemKind.EXTERN_BLOCK)
_I_EXTERN_CRATE = int(ItemKind.EXTERN_CRATE)

_V_PUB = int(Visibility.PUB)
_V_PUB_CRATE = int(Visibility.PUB_CRATE)
_V_PUB_SUPER = int(Visibility.PUB_SUPER)
_V_PUB_SELF = int(Visibility.PUB_SELF)
_V_PUB_IN = int(Visibility.PUB_IN)

_F_UNSAFE = int(ItemFlag.UNSAFE)
_F_ASYNC = int(ItemFlag.ASYNC)
_F_CONST_FN = int(ItemFlag.CONST_FN)
_F_EXTERN_ABI = int(ItemFlag.EXTERN_ABI)
_F_DEFAULT = int(ItemFlag.DEFAULT)
_F_UNTERMINATED = int(ItemFlag.UNTERMINATED)
_F_TEST = int(ItemFlag.TEST)
_F_CFG_TEST = int(ItemFlag.CFG_TEST)
_F_KERNEL = int(ItemFlag.KERNEL)
_F_DEVICE = int(ItemFlag.DEVICE)
_F_GPU_TEST = int(ItemFlag.GPU_TEST)
_F_DOC = int(ItemFlag.DOC)
_F_LINT_ATTR = int(ItemFlag.LINT_ATTR)
_F_IN_BODY = int(ItemFlag.IN_BODY)

_A_OTHER = int(AttrKind.OTHER)
_A_DOC_COMMENT = int(AttrKind.DOC_COMMENT)
_A_DOC = int(AttrKind.DOC)
_A_TEST = int(AttrKind.TEST)
_A_CFG = int(AttrKind.CFG)
_A_RUSTG_KERNEL = int(AttrKind.RUSTG_KERNEL)
_A_RUSTG_DEVICE = int(AttrKind.RUSTG_DEVICE)
_A_RUSTG_GPU_TEST = int(AttrKind.RUSTG_GPU_TEST)
_A_ALLOW = int(AttrKind.ALLOW)
_A_WARN = int(AttrKind.WARN)
_A_DENY = int(AttrKind.DENY)
_A_FORBID = int(AttrKind.FORBID)
_A_EXPECT = int(AttrKind.EXPECT)

# Words an item head can begin with (keyword codes); a lookup table indexed by Keyword.
_HEAD_WORDS = np.zeros(256, dtype=np.bool_)
for _w in (
    Keyword.PUB,
    Keyword.FN,
    Keyword.STRUCT,
    Keyword.ENUM,
    Keyword.UNION,
    Keyword.TRAIT,
    Keyword.IMPL,
    Keyword.MOD,
    Keyword.USE,
    Keyword.CONST,
    Keyword.STATIC,
    Keyword.TYPE,
    Keyword.MACRO_RULES,
    Keyword.EXTERN,
    Keyword.UNSAFE,
    Keyword.ASYNC,
    Keyword.DEFAULT,
    Keyword.AUTO,
    Keyword.SAFE,
):
    _HEAD_WORDS[int(_w)] = True

# Attribute path spellings, classified by the numba attribute pass: (bytes, AttrKind) pairs
# packed into one byte table with offsets (numba reads global arrays as constants).
_ATTR_NAMES: tuple[tuple[bytes, AttrKind], ...] = (
    (b"doc", AttrKind.DOC),
    (b"test", AttrKind.TEST),
    (b"cfg", AttrKind.CFG),
    (b"allow", AttrKind.ALLOW),
    (b"warn", AttrKind.WARN),
    (b"deny", AttrKind.DENY),
    (b"forbid", AttrKind.FORBID),
    (b"expect", AttrKind.EXPECT),
    (b"kernel", AttrKind.RUSTG_KERNEL),
    (b"device", AttrKind.RUSTG_DEVICE),
    (b"gpu_test", AttrKind.RUSTG_GPU_TEST),
)
_ATTR_TABLE = np.frombuffer(b"".join(n for n, _ in _ATTR_NAMES), dtype=np.uint8).copy()
_ATTR_OFFS = np.cumsum([0] + [len(n) for n, _ in _ATTR_NAMES]).astype(np.int64)
_ATTR_CODES = np.array([int(k) for _, k in _ATTR_NAMES], dtype=np.uint8)
_RUSTG = np.frombuffer(b"rustg", dtype=np.uint8).copy()
_TEST = np.frombuffer(b"test", dtype=np.uint8).copy()


# ---------------------------------------------------------------------------------------------
# Steps 1-3 on the CPU: one task per file, its rows read once and kept in cache


# The same set as a bit mask (every Keyword code is below 64): a shift and a mask per token
# vectorise, a table lookup does not (corpus: 6.5 -> 4.0 ms on 2 cores).
_HEAD_MASK = np.uint64(sum(1 << int(w) for w in np.flatnonzero(_HEAD_WORDS)))
assert max(int(k) for k in Keyword) < 64


@numba.njit(cache=True, parallel=True, nogil=True)
def _head_word_counts(keyword, file_token_offsets, head_mask):  # pragma: no cover
    """Per file, its head-word identifiers: a bound on its candidates, so on its items
    (``keyword`` is ``NONE`` except on ``IDENT`` tokens, the :class:`TokenArrays` contract)."""
    n_files = len(file_token_offsets) - 1
    counts = np.zeros(n_files, dtype=np.int64)
    for f in numba.prange(n_files):
        c = np.int64(0)  # int64 + uint64 would make it a float in numba
        for i in range(file_token_offsets[f], file_token_offsets[f + 1]):
            c += np.int64((head_mask >> np.uint64(keyword[i] & 63)) & np.uint64(1))  # no branch
        counts[f] = c
    return counts


@register_jitable
def _opens_opaque(skind, skw, lo, i):  # pragma: no cover
    """Whether the open delimiter at sig row ``i`` starts an opaque group (a macro call's or
    an attribute's tokens: step 2 of the module docstring)."""
    k = skind[i]
    if i - 1 < lo:
        return False
    pk = skind[i - 1]
    if k == _K_OPEN_BRACKET and pk == _K_POUND:
        return True  # #[...]
    if pk == _K_BANG:
        if i - 2 < lo:
            return False
        qk = skind[i - 2]
        if k == _K_OPEN_BRACKET and qk == _K_POUND:
            return True  # #![...]
        return (
            qk == _K_IDENT and (skw[i - 2] == _W_NONE or skw[i - 2] >= _W_FIRST_WEAK)
        ) or qk == _K_RAW_IDENT  # name!(...)
    return (
        (pk == _K_IDENT or pk == _K_RAW_IDENT)
        and i - 3 >= lo
        and skind[i - 2] == _K_BANG
        and skind[i - 3] == _K_IDENT
        and (skw[i - 3] == _W_NONE or skw[i - 3] >= _W_FIRST_WEAK)
    )  # macro_rules! name {...}


@register_jitable
def _file_sig_space(
    kind, keyword, lo, m, head_words, sig, skind, skw, smatch, cand
):  # pragma: no cover
    """Steps 1-3 of the module docstring for the file at token rows [lo, lo + m), in one pass
    over its rows: its significant rows, their kinds, keywords and partners in sig space
    (``sig``, ``skind``, ``skw``, ``smatch``), its opaque groups and its candidate heads
    (``cand``). Returns the file's count of significant tokens.

    Branch-free compaction: every row is written at q (q <= its row - lo), and q moves past
    significant ones only (trivia and significant tokens alternate). Only delimiters and head
    words, which are significant, take the stack scan's branches. The stack holds
    ``q * 2 + opaque``; ``opaque`` counts the open opaque groups, so a token lies inside one
    exactly when it is positive (the tokens after an opaque open up to its close; an unclosed
    one runs to the end of the file). As two passes (compaction, then the scan over the sig
    rows) this cost 15 + 22 ms of the corpus's 58 ms in _file_items."""
    stack = np.empty(m + 1, dtype=np.int64)
    sp = 0
    opaque = 0
    q = 0
    for i in range(lo, lo + m):
        k = kind[i]
        w = keyword[i]
        sig[q] = i
        skind[q] = k
        skw[q] = w
        smatch[q] = -1
        if k >= _K_OPEN_PAREN and k <= _K_CLOSE_BRACE:
            if (k - _K_OPEN_PAREN) % 2 == 0:
                op = 1 if _opens_opaque(skind, skw, 0, q) else 0
                stack[sp] = q * 2 + op
                sp += 1
                opaque += op
            elif sp > 0:
                sp -= 1
                o = stack[sp] >> 1
                opaque -= stack[sp] & 1
                smatch[o] = q
                smatch[q] = o
        # The rare test first: only identifiers have keyword codes, few of them head words.
        elif head_words[w] and opaque == 0 and k == _K_IDENT:
            pkind = skind[stack[sp - 1] >> 1] if sp > 0 else 0  # the tree parent's kind
            if pkind == 0 or pkind == _K_OPEN_BRACE:
                is_head = q == 0
                if not is_head:
                    pk = skind[q - 1]
                    if pk == _K_SEMI or pk == _K_OPEN_BRACE or pk == _K_CLOSE_BRACE:
                        is_head = True
                    elif pk == _K_CLOSE_BRACKET:
                        o = smatch[q - 1]
                        is_head = o >= 1 and (
                            skind[o - 1] == _K_POUND
                            or (skind[o - 1] == _K_BANG and o >= 2 and skind[o - 2] == _K_POUND)
                        )
                if is_head:
                    cand[q] = True
        q += k >= 16
    return q


@register_jitable
def _is_name(skind, skw, j):  # pragma: no cover
    """An identifier usable as a name: not a keyword, except weak ones and those that Rust
    2018 reserved (`try`, `async`, `await`, `dyn`), which 2015-edition crates use as names
    (e.g. autocfg's `macro_rules! try`)."""
    k = skind[j]
    if k == _K_RAW_IDENT:
        return True
    if k != _K_IDENT:
        return False
    w = skw[j]
    return (
        w == _W_NONE
        or w >= _W_FIRST_WEAK
        or w == _W_TRY
        or w == _W_ASYNC
        or w == _W_AWAIT
        or w == _W_DYN
    )


@register_jitable
def _scan_end(skind, smatch, j, hi, body_kind):  # pragma: no cover
    """From sig index j: (end, body_open, terminated). Stops at the first `;` of this level,
    or for body kinds at the first `{` outside `<...>`; a close of the enclosing group or
    the end of the file ends an unterminated item at the token before."""
    angle = 0
    while j < hi:
        k = skind[j]
        if k == _K_SEMI and angle == 0:
            return j, -1, True
        if k == _K_OPEN_BRACE and body_kind and angle == 0:
            m = smatch[j]
            if m < 0:
                return hi - 1, j, False
            return m, j, True
        if k == _K_OPEN_PAREN or k == _K_OPEN_BRACKET or k == _K_OPEN_BRACE:
            m = smatch[j]
            if m < 0:
                return hi - 1, -1, False
            j = m + 1
            continue
        if k == _K_CLOSE_PAREN or k == _K_CLOSE_BRACKET or k == _K_CLOSE_BRACE:
            return j - 1, -1, False
        if body_kind:
            if k == _K_LT:
                angle += 1
            elif k == _K_GT and angle > 0:
                pk = skind[j - 1]
                if not (pk == _K_MINUS or pk == _K_EQ):  # `->` and `=>` are not closers
                    angle -= 1
        j += 1
    return hi - 1, -1, False


@register_jitable
def _scan_one(skind, skw, smatch, i, hi, out, k_out):  # pragma: no cover
    """Scan the candidate at sig index i; write one record to out[k_out]; return True if it
    is an item. out columns: kind, head, end, name_first, name_last, trait_first, trait_last,
    vis, vis_open, body, flags (all sig indices)."""
    j = i
    vis = 0
    vis_open = -1
    if skw[j] == _W_PUB:
        vis = _V_PUB
        if j + 1 < hi and skind[j + 1] == _K_OPEN_PAREN and smatch[j + 1] > 0:
            m = smatch[j + 1]
            w = skw[j + 2] if j + 2 < m else -1
            restricted = True
            if w == _W_CRATE and m == j + 3:
                vis = _V_PUB_CRATE
            elif w == _W_SUPER and m == j + 3:
                vis = _V_PUB_SUPER
            elif w == _W_SELF_VALUE and m == j + 3:
                vis = _V_PUB_SELF
            elif w == _W_IN:
                vis = _V_PUB_IN
            else:
                restricted = False
            if restricted:
                vis_open = j + 1
                j = m + 1
            else:
                j += 1
        else:
            j += 1
    flags = 0
    abi = -1
    while j < hi:
        w = skw[j]
        if skind[j] != _K_IDENT:
            return False
        nw = skw[j + 1] if j + 1 < hi else -1
        nk = skind[j + 1] if j + 1 < hi else -1
        if w == _W_DEFAULT:
            if (
                nw == _W_FN
                or nw == _W_UNSAFE
                or nw == _W_ASYNC
                or nw == _W_CONST
                or nw == _W_IMPL
                or nw == _W_TYPE
                or nw == _W_EXTERN
            ):
                flags |= _F_DEFAULT
                j += 1
                continue
            return False
        if w == _W_UNSAFE:
            if nk == _K_OPEN_BRACE or nk == -1:
                return False  # unsafe block
            flags |= _F_UNSAFE
            j += 1
            continue
        if w == _W_ASYNC:
            if nw == _W_FN or nw == _W_UNSAFE or nw == _W_EXTERN or nw == _W_CONST:
                flags |= _F_ASYNC
                j += 1
                continue
            return False  # async block or closure
        if w == _W_CONST and (nw == _W_FN or nw == _W_UNSAFE or nw == _W_ASYNC or nw == _W_EXTERN):
            flags |= _F_CONST_FN
            j += 1
            continue
        if w == _W_SAFE:
            if nw == _W_FN or nw == _W_STATIC:
                j += 1
                continue
            return False
        if w == _W_AUTO:
            if nw == _W_TRAIT:
                j += 1
                continue
            return False
        if w == _W_EXTERN:
            j2 = j + 1
            if j2 < hi and (skind[j2] == _K_STR or skind[j2] == _K_RAW_STR):
                abi = j2
                j2 += 1
            if j2 >= hi:
                return False
            if skw[j2] == _W_CRATE and abi < 0:
                # extern crate NAME [as ALIAS];
                if j2 + 1 < hi and (_is_name(skind, skw, j2 + 1) or skw[j2 + 1] == _W_SELF_VALUE):
                    end, body, term = _scan_end(skind, smatch, j2 + 2, hi, False)
                    _record(
                        out,
                        k_out,
                        _I_EXTERN_CRATE,
                        i,
                        end,
                        j2 + 1,
                        j2 + 1,
                        vis,
                        vis_open,
                        -1,
                        flags,
                        term,
                    )
                    return True
                return False
            if skind[j2] == _K_OPEN_BRACE:
                m = smatch[j2]
                term = m >= 0
                end = m if term else hi - 1
                _record(
                    out, k_out, _I_EXTERN_BLOCK, i, end, abi, abi, vis, vis_open, j2, flags, term
                )
                return True
            if skw[j2] == _W_FN or skw[j2] == _W_UNSAFE:
                flags |= _F_EXTERN_ABI
                j = j2
                continue
            return False
        break
    if j >= hi or skind[j] != _K_IDENT:
        return False
    w = skw[j]
    if w == _W_FN:
        if j + 1 < hi and _is_name(skind, skw, j + 1):
            end, body, term = _scan_end(skind, smatch, j + 2, hi, True)
            _record(out, k_out, _I_FN, i, end, j + 1, j + 1, vis, vis_open, body, flags, term)
            return True
        return False
    if w == _W_STRUCT or w == _W_ENUM or w == _W_TRAIT or w == _W_MOD or w == _W_UNION:
        if not (j + 1 < hi and _is_name(skind, skw, j + 1)):
            return False
        if w == _W_UNION:
            # `union` is a weak keyword: an item only as `union Name {`, `<` or `where`.
            if not (
                j + 2 < hi
                and (
                    skind[j + 2] == _K_OPEN_BRACE or skind[j + 2] == _K_LT or skw[j + 2] == _W_WHERE
                )
            ):
                return False
        kind = (
            _I_STRUCT
            if w == _W_STRUCT
            else _I_ENUM
            if w == _W_ENUM
            else _I_TRAIT
            if w == _W_TRAIT
            else _I_MOD
            if w == _W_MOD
            else _I_UNION
        )
        end, body, term = _scan_end(skind, smatch, j + 2, hi, True)
        _record(out, k_out, kind, i, end, j + 1, j + 1, vis, vis_open, body, flags, term)
        return True
    if w == _W_TYPE:
        if not (j + 1 < hi and _is_name(skind, skw, j + 1)):
            return False
        end, body, term = _scan_end(skind, smatch, j + 2, hi, False)
        _record(out, k_out, _I_TYPE, i, end, j + 1, j + 1, vis, vis_open, -1, flags, term)
        return True
    if w == _W_CONST or w == _W_STATIC:
        n = j + 1
        if w == _W_STATIC and n < hi and skw[n] == _W_MUT:
            n += 1
        if not (
            n + 1 < hi
            and (_is_name(skind, skw, n) or skw[n] == _W_UNDERSCORE)
            and skind[n + 1] == _K_COLON
        ):
            return False  # const block, static closure, ...
        end, body, term = _scan_end(skind, smatch, n + 2, hi, False)
        kind = _I_CONST if w == _W_CONST else _I_STATIC
        _record(out, k_out, kind, i, end, n, n, vis, vis_open, -1, flags, term)
        return True
    if w == _W_USE:
        end, body, term = _scan_end(skind, smatch, j + 1, hi, False)
        last = end - 1 if term else end
        _record(out, k_out, _I_USE, i, end, j + 1, last, vis, vis_open, -1, flags, term)
        return True
    if w == _W_MACRO_RULES:
        if not (
            j + 3 < hi
            and skind[j + 1] == _K_BANG
            and _is_name(skind, skw, j + 2)
            and (
                skind[j + 3] == _K_OPEN_BRACE
                or skind[j + 3] == _K_OPEN_PAREN
                or skind[j + 3] == _K_OPEN_BRACKET
            )
        ):
            return False
        m = smatch[j + 3]
        if m < 0:
            _record(
                out, k_out, _I_MACRO_RULES, i, hi - 1, j + 2, j + 2, vis, vis_open, -1, flags, False
            )
            return True
        end = m
        if skind[j + 3] != _K_OPEN_BRACE and m + 1 < hi and skind[m + 1] == _K_SEMI:
            end = m + 1
        _record(out, k_out, _I_MACRO_RULES, i, end, j + 2, j + 2, vis, vis_open, -1, flags, True)
        return True
    if w == _W_IMPL:
        end, body, term = _scan_end(skind, smatch, j + 1, hi, True)
        stop = body if body >= 0 else end  # the header ends before the body or the `;`
        h = j + 1
        if h < stop and skind[h] == _K_LT:
            # generic parameters: skip the balanced <...> (groups jumped, `->` ignored)
            angle = 0
            while h < stop:
                k = skind[h]
                if k == _K_LT:
                    angle += 1
                elif k == _K_GT and not (skind[h - 1] == _K_MINUS or skind[h - 1] == _K_EQ):
                    angle -= 1
                    if angle == 0:
                        h += 1
                        break
                elif k == _K_OPEN_PAREN or k == _K_OPEN_BRACKET or k == _K_OPEN_BRACE:
                    if smatch[h] > 0:
                        h = smatch[h]
                h += 1
        # `for` at angle depth 0 separates trait and self type; `where` ends the self type.
        angle = 0
        sep = -1
        wh = stop
        t = h
        while t < stop:
            k = skind[t]
            if k == _K_LT:
                angle += 1
            elif (
                k == _K_GT and angle > 0 and not (skind[t - 1] == _K_MINUS or skind[t - 1] == _K_EQ)
            ):
                angle -= 1
            elif k == _K_OPEN_PAREN or k == _K_OPEN_BRACKET or k == _K_OPEN_BRACE:
                if smatch[t] > 0:
                    t = smatch[t]
            elif angle == 0 and skw[t] == _W_FOR and sep < 0 and t > h:
                sep = t
            elif angle == 0 and skw[t] == _W_WHERE:
                wh = t
                break
            t += 1
        if sep >= 0:
            _record(out, k_out, _I_IMPL, i, end, sep + 1, wh - 1, vis, vis_open, body, flags, term)
            out[k_out, 5] = h
            out[k_out, 6] = sep - 1
        else:
            _record(out, k_out, _I_IMPL, i, end, h, wh - 1, vis, vis_open, body, flags, term)
        return True
    return False


@register_jitable
def _record(out, k, kind, head, end, nf, nl, vis, vis_open, body, flags, term):  # pragma: no cover
    out[k, 0] = kind
    out[k, 1] = head
    out[k, 2] = end
    out[k, 3] = nf
    out[k, 4] = nl
    out[k, 5] = -1
    out[k, 6] = -1
    out[k, 7] = vis
    out[k, 8] = vis_open
    out[k, 9] = body
    out[k, 10] = flags if term else (flags | _F_UNTERMINATED)


@numba.njit(cache=True, parallel=True, nogil=True)
def _file_items(
    kind, keyword, match, file_token_offsets, head_words, bound_offsets, out, n_items
):  # pragma: no cover
    """Steps 1-4 of the module docstring, one task per file: its significant rows, their
    kinds, keywords and partners (sig space), its candidates, and the scan of each. The file's
    items go to ``out`` from row ``bound_offsets[f]`` on (see :func:`_head_word_counts`),
    compacted as they are found: a rejected candidate's row is overwritten by the next one
    (every accepted one writes all 11 columns, :func:`_record`), so ``out`` needs no fill;
    positions are mapped from sig indices to token rows; column 11 gets the item's count of
    outer attributes (:func:`_walk_attrs`, while the file's rows are in cache: a separate
    counting pass over all items cost 7-10 ms). ``n_items[f]``: the file's count.

    The sig-space arrays are the task's own, sized by the file and freed after it: they stay
    in cache between the steps and never exist for the whole corpus (as corpus-wide arrays
    they were 124 MB of fresh pages to fault in per index, and steps 1-3 and 4 two passes).

    Partners are re-paired in sig space with a stack rather than mapped through the tree (a
    row -> sig table): the tree pairs ignoring kinds and trivia never pair, so pairing the
    significant subsequence the same way gives the same pairs, and the stack's top is the
    tree's parent."""
    for f in numba.prange(len(file_token_offsets) - 1):
        lo = file_token_offsets[f]
        m = file_token_offsets[f + 1] - lo
        sig = np.empty(max(m, 1), dtype=np.int32)
        skind = np.empty(max(m, 1), dtype=np.uint8)
        skw = np.empty(max(m, 1), dtype=np.uint8)
        smatch = np.empty(max(m, 1), dtype=np.int32)
        cand = np.zeros(max(m, 1), dtype=np.bool_)
        q = _file_sig_space(kind, keyword, lo, m, head_words, sig, skind, skw, smatch, cand)
        c = bound_offsets[f]
        dummy = np.empty((1, 2), dtype=np.int32)
        for i in range(q):
            if cand[i] and _scan_one(skind, skw, smatch, i, q, out, c):
                for col in range(1, 10):
                    if col != 7 and out[c, col] >= 0:  # column 7 is the visibility code
                        out[c, col] = sig[out[c, col]]
                out[c, 11] = _walk_attrs(kind, match, out[c, 1], lo, dummy, 0, False)
                c += 1
        n_items[f] = c - bound_offsets[f]


@numba.njit(cache=True, parallel=True, nogil=True)
def _gather_items(
    out,
    bound_offsets,
    file_item_offsets,
    file_token_offsets,
    kind,
    file,
    head,
    end,
    name_first,
    name_last,
    trait_first,
    trait_last,
    vis,
    vis_open,
    body,
    flags,
    file_lo,
    n_attrs,
):  # pragma: no cover
    """Each file's compacted rows of ``out`` into the item columns (allocated by the caller),
    with each item's file, the file's first token row and the item's attribute count. One
    pass in place of a boolean index, 11 column copies and dtype casts in NumPy (~20 ms of
    glue for 306k items)."""
    for f in numba.prange(len(file_item_offsets) - 1):
        src = bound_offsets[f] - file_item_offsets[f]
        lo = file_token_offsets[f]
        for k in range(file_item_offsets[f], file_item_offsets[f + 1]):
            r = src + k
            kind[k] = out[r, 0]
            file[k] = f
            head[k] = out[r, 1]
            end[k] = out[r, 2]
            name_first[k] = out[r, 3]
            name_last[k] = out[r, 4]
            trait_first[k] = out[r, 5]
            trait_last[k] = out[r, 6]
            vis[k] = out[r, 7]
            vis_open[k] = out[r, 8]
            body[k] = out[r, 9]
            flags[k] = out[r, 10]
            file_lo[k] = lo
            n_attrs[k] = out[r, 11]


@numba.njit(cache=True, parallel=True, nogil=True)
def _nest(file_item_offsets, head, end, kind):  # pragma: no cover
    """Parent item (index), depth, and "in a body": the parent is the nearest earlier item
    containing the head; an item is in a body when any ancestor is not a module, impl, trait
    or extern block (syn's view: reached through a block or an expression)."""
    n = len(head)
    parent = np.full(n, -1, dtype=np.int32)
    depth = np.zeros(n, dtype=np.int32)
    in_body = np.zeros(n, dtype=np.bool_)
    for f in numba.prange(len(file_item_offsets) - 1):
        lo = file_item_offsets[f]
        hi = file_item_offsets[f + 1]
        stack = np.empty(hi - lo + 1, dtype=np.int64)
        sp = 0
        for i in range(lo, hi):
            while sp > 0 and end[stack[sp - 1]] < head[i]:
                sp -= 1
            if sp > 0:
                p = stack[sp - 1]
                parent[i] = p
                pk = kind[p]
                in_body[i] = in_body[p] or not (
                    pk == _I_MOD or pk == _I_IMPL or pk == _I_TRAIT or pk == _I_EXTERN_BLOCK
                )
            depth[i] = sp
            stack[sp] = i
            sp += 1
    return parent, depth, in_body


@register_jitable
def _bytes_eq(buffer, s, e, table, lo, hi):  # pragma: no cover
    if e - s != hi - lo:
        return False
    for q in range(hi - lo):
        if buffer[s + q] != table[lo + q]:
            return False
    return True


@register_jitable
def _walk_attrs(kind, match, head_row, file_lo, out_rows, k0, write):  # pragma: no cover
    """Walk back from an item head over outer attributes and doc comments. Returns the count;
    when `write`, stores (first row, last row) pairs from out_rows[k0] on, in source order
    reversed (the caller flips them)."""
    r = head_row - 1
    count = 0
    while r >= file_lo:
        k = kind[r]
        if k == _K_WHITESPACE or k == _K_LINE_COMMENT or k == _K_BLOCK_COMMENT:
            r -= 1
            continue
        if k == _K_OUTER_LINE_DOC or k == _K_OUTER_BLOCK_DOC:
            if write:
                out_rows[k0 + count, 0] = r
                out_rows[k0 + count, 1] = r
            count += 1
            r -= 1
            continue
        if k == _K_CLOSE_BRACKET and match[r] >= 0:
            o = match[r]
            if kind[o] != _K_OPEN_BRACKET:
                break
            p = o - 1
            while p >= file_lo and kind[p] < 16:  # trivia between `#` and `[`
                p -= 1
            if p >= file_lo:
                if kind[p] == _K_POUND:
                    if write:
                        out_rows[k0 + count, 0] = p
                        out_rows[k0 + count, 1] = r
                    count += 1
                    r = p - 1
                    continue
        break
    return count


@register_jitable
def _item_attrs(
    i,
    kind,
    start,
    end,
    buffer,
    match,
    item_head,
    item_file_lo,
    offs,
    rows,
    akind,
    attr_table,
    attr_offs,
    attr_codes,
    rustg,
    test,
):  # pragma: no cover
    """Item i's attributes: written to rows/akind from offs[i] on (source order); returns the
    item's attribute flags. One item per call: a prange body on the CPU, a thread on CUDA."""
    c = _walk_attrs(kind, match, item_head[i], item_file_lo[i], rows, offs[i], True)
    # the walk found them last-first: flip to source order
    a = offs[i]
    b = offs[i] + c - 1
    while a < b:
        t0 = rows[a, 0]
        t1 = rows[a, 1]
        rows[a, 0] = rows[b, 0]
        rows[a, 1] = rows[b, 1]
        rows[b, 0] = t0
        rows[b, 1] = t1
        a += 1
        b -= 1
    fl = 0
    for q in range(offs[i], offs[i] + c):
        first = rows[q, 0]
        if kind[first] != _K_POUND:
            akind[q] = _A_DOC_COMMENT
            fl |= _F_DOC
            continue
        # path: idents joined by `::` after `[`, up to `(`, `=` or `]`
        last = rows[q, 1]  # the `]`
        p = first + 1
        while kind[p] < 16:
            p += 1
        p += 1  # past the `[`
        segs = 0
        s0 = -1
        s1 = -1
        while p < last:
            pk = kind[p]
            if pk < 16:
                p += 1
            elif pk == _K_IDENT or pk == _K_RAW_IDENT:
                if segs == 0:
                    s0 = p
                s1 = p
                segs += 1
                p += 1
            elif pk == _K_COLON:
                p += 1
            else:
                break
        code = _A_OTHER
        if segs == 1 or (segs == 2 and _bytes_eq(buffer, start[s0], end[s0], rustg, 0, len(rustg))):
            for t in range(len(attr_codes)):
                if _bytes_eq(
                    buffer, start[s1], end[s1], attr_table, attr_offs[t], attr_offs[t + 1]
                ):
                    code = attr_codes[t]
                    break
            is_rustg = (
                code == _A_RUSTG_KERNEL or code == _A_RUSTG_DEVICE or code == _A_RUSTG_GPU_TEST
            )
            if is_rustg != (segs == 2):
                code = _A_OTHER  # `kernel` alone or `rustg::test` are someone else's
        akind[q] = code
        if code == _A_TEST:
            fl |= _F_TEST
        elif code == _A_DOC:
            fl |= _F_DOC
        elif code == _A_RUSTG_KERNEL:
            fl |= _F_KERNEL
        elif code == _A_RUSTG_DEVICE:
            fl |= _F_DEVICE
        elif code == _A_RUSTG_GPU_TEST:
            fl |= _F_GPU_TEST
        elif code >= _A_ALLOW and code <= _A_EXPECT:
            fl |= _F_LINT_ATTR
        elif code == _A_CFG:
            # exactly cfg(test): `(` `test` `)` after the path (p is at the `(`)
            if p < last and kind[p] == _K_OPEN_PAREN:
                tr = p + 1
                while kind[tr] < 16:
                    tr += 1
                cl = tr + 1
                while cl < last and kind[cl] < 16:
                    cl += 1
                if match[p] == cl and _bytes_eq(buffer, start[tr], end[tr], test, 0, len(test)):
                    fl |= _F_CFG_TEST
    return fl


@numba.njit(cache=True, parallel=True, nogil=True)
def _attributes(
    kind,
    start,
    end,
    buffer,
    match,
    item_head,
    item_file_lo,
    offs,
    scan_flags,
    in_body,
    rows,
    akind,
    flags,
    item_start,
    attr_table,
    attr_offs,
    attr_codes,
    rustg,
    test,
):  # pragma: no cover
    """Every item's attributes (its rows from ``offs[i]``, counted by :func:`_file_items`), its
    flags (the scan's, the attributes' and ``IN_BODY``) and its start (the first attribute, or
    the head); the outputs are allocated by the caller."""
    for i in numba.prange(len(item_head)):
        fl = _item_attrs(
            i, kind, start, end, buffer, match, item_head, item_file_lo, offs, rows, akind,
            attr_table, attr_offs, attr_codes, rustg, test,
        )  # fmt: skip
        flags[i] = scan_flags[i] | fl | (_F_IN_BODY if in_body[i] else 0)
        item_start[i] = rows[offs[i], 0] if offs[i + 1] > offs[i] else item_head[i]


# ---------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True, slots=True)
class Attribute:
    """One outer attribute, parsed for display and for consumers that need its arguments."""

    kind: AttrKind
    path: str  # "test", "rustg::gpu_test", "doc" (doc comments too)
    args: str  # token text after the path: "(test)", "(dead_code, unused)", "= \"...\""
    lints: tuple[str, ...]  # for allow/warn/deny/forbid/expect: the lint names
    doc: str | None  # for doc comments and #[doc = "..."]: the text
    start_row: int
    end_row: int


@dataclass(frozen=True, slots=True)
class Item:
    """One item, decoded from the arrays (for display and JSON; consumers at scale read the
    arrays)."""

    index: int
    kind: ItemKind
    name: str
    path: str
    trait_: str | None
    visibility: str
    parent: int
    depth: int
    flags: ItemFlag
    attributes: tuple[Attribute, ...]
    start: tuple[int, int]  # (line, column) of the first attribute or the head
    head: tuple[int, int]
    end: tuple[int, int]  # exclusive
    start_byte: int  # relative to the file
    head_byte: int
    end_byte: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "name": self.name,
            "path": self.path,
            "trait": self.trait_,
            "visibility": self.visibility,
            "parent": self.parent,
            "depth": self.depth,
            "flags": [f.name.lower() for f in ItemFlag if f in self.flags and f.name],
            "attributes": [
                {
                    "kind": a.kind.name.lower(),
                    "path": a.path,
                    "args": a.args,
                    "lints": list(a.lints),
                    "doc": a.doc,
                }
                for a in self.attributes
            ],
            "span": {
                "line": self.start[0],
                "column": self.start[1],
                "end_line": self.end[0],
                "end_column": self.end[1],
            },
            "head": {"line": self.head[0], "column": self.head[1]},
            "bytes": [self.start_byte, self.end_byte],
        }


_ITEM_FIELDS = (
    "kind",
    "file",
    "head",
    "start",
    "end",
    "name_first",
    "name_last",
    "trait_first",
    "trait_last",
    "vis",
    "vis_open",
    "body",
    "parent",
    "depth",
    "flags",
    "file_item_offsets",
    "attr_offsets",
    "attr_kind",
    "attr_start",
    "attr_end",
)


@dataclass(frozen=True, slots=True, eq=False)
class ItemIndex:
    """Items of all files as a structure of arrays; rows sorted by (file, head).

    Token positions are token rows of the :class:`TokenArrays` the index was built from
    (``-1`` where absent); ``parent`` is an item index. ``file_item_offsets`` (``n_files+1``)
    gives each file's item rows; ``attr_offsets`` (``n_items+1``) each item's attribute rows.
    """

    kind: npt.NDArray[np.uint8]
    file: npt.NDArray[np.int32]
    head: npt.NDArray[np.int32]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    name_first: npt.NDArray[np.int32]
    name_last: npt.NDArray[np.int32]
    trait_first: npt.NDArray[np.int32]
    trait_last: npt.NDArray[np.int32]
    vis: npt.NDArray[np.uint8]
    vis_open: npt.NDArray[np.int32]
    body: npt.NDArray[np.int32]
    parent: npt.NDArray[np.int32]
    depth: npt.NDArray[np.int32]
    flags: npt.NDArray[np.uint32]
    file_item_offsets: npt.NDArray[np.int64]
    attr_offsets: npt.NDArray[np.int64]
    attr_kind: npt.NDArray[np.uint8]
    attr_start: npt.NDArray[np.int32]
    attr_end: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.kind)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {f: getattr(self, f) for f in _ITEM_FIELDS}

    def nbytes(self) -> int:
        return sum(int(getattr(self, f).nbytes) for f in _ITEM_FIELDS)

    def same_as(self, other: ItemIndex) -> bool:
        a, b = self.to_host(), other.to_host()
        return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in _ITEM_FIELDS)

    def to_host(self) -> ItemIndex:
        """NumPy arrays (the same object when already on the host)."""
        if all(isinstance(getattr(self, f), np.ndarray) for f in _ITEM_FIELDS):
            return self
        return ItemIndex(
            **{f: (a if isinstance(a, np.ndarray) else a.get()) for f, a in self.arrays().items()}
        )

    def file_items(self, f: int) -> range:
        return range(int(self.file_item_offsets[f]), int(self.file_item_offsets[f + 1]))

    # -- decoding (Python; per item) --------------------------------------------------------

    def text(self, arrays: TokenArrays, first: int, last: int) -> str:
        """Significant token texts of rows first..last joined: no space except between two
        word characters (the oracle's rule; `Vec<T>`, `dyn Trait`, `&'a mut T`)."""
        if first < 0 or last < first:
            return ""
        kinds = arrays.kind[first : last + 1]
        out: list[str] = []
        prev = ""
        for off in np.flatnonzero(kinds >= 16):
            r = first + int(off)
            t = arrays.text(r).decode("utf-8", "replace")
            if out and _word(prev[-1]) and _word(t[0]):
                out.append(" ")
            out.append(t)
            prev = t
        return "".join(out)

    def name(self, arrays: TokenArrays, i: int) -> str:
        kind = ItemKind(int(self.kind[i]))
        first, last = int(self.name_first[i]), int(self.name_last[i])
        if kind is ItemKind.EXTERN_BLOCK:
            return (
                _string_value(arrays.text(first).decode("utf-8", "replace")) if first >= 0 else ""
            )
        return self.text(arrays, first, last)

    def visibility_text(self, arrays: TokenArrays, i: int) -> str:
        v = Visibility(int(self.vis[i]))
        if v is Visibility.PRIVATE:
            return ""
        if v is Visibility.PUB:
            return "pub"
        o = int(self.vis_open[i])
        m = int(arrays_match_close(arrays, o))
        return "pub(" + self.text(arrays, o + 1, m - 1) + ")"

    def path(self, arrays: TokenArrays, i: int) -> str:
        """`outer::Inner::method`: names of the enclosing items (extern blocks add none)."""
        parts = [self.name(arrays, i)]
        p = int(self.parent[i])
        while p >= 0:
            if int(self.kind[p]) != ItemKind.EXTERN_BLOCK:
                parts.append(self.name(arrays, p))
            p = int(self.parent[p])
        return "::".join(reversed(parts))

    def attributes(self, arrays: TokenArrays, i: int) -> tuple[Attribute, ...]:
        out = []
        for q in range(int(self.attr_offsets[i]), int(self.attr_offsets[i + 1])):
            out.append(self._attribute(arrays, q))
        return tuple(out)

    def _attribute(self, arrays: TokenArrays, q: int) -> Attribute:
        kind = AttrKind(int(self.attr_kind[q]))
        s, e = int(self.attr_start[q]), int(self.attr_end[q])
        if kind is AttrKind.DOC_COMMENT:
            raw = arrays.text(s).decode("utf-8", "replace")
            text = raw[3:] if raw.startswith("///") else raw[3:-2]
            return Attribute(kind, "doc", "", (), text, s, e)
        # `#` `[` path... args... `]`: split the inside at the first token after the path.
        inner = [r for r in range(s + 2, e) if arrays.kind[r] >= 16]
        k = 0
        while k < len(inner) and (
            arrays.kind[inner[k]] in (TokenKind.IDENT, TokenKind.RAW_IDENT, TokenKind.COLON)
        ):
            k += 1
        path = self.text(arrays, inner[0], inner[k - 1]) if k else ""
        args = self.text(arrays, inner[k], inner[-1]) if k < len(inner) else ""
        lints: tuple[str, ...] = ()
        doc: str | None = None
        if kind in _LINT_KINDS and args.startswith("(") and args.endswith(")"):
            lints = tuple(x for x in args[1:-1].split(",") if x)
        if kind is AttrKind.DOC and k < len(inner) and arrays.kind[inner[k]] == TokenKind.EQ:
            lit = [r for r in inner[k + 1 :]]
            if len(lit) == 1:
                doc = _string_value(arrays.text(lit[0]).decode("utf-8", "replace"))
        return Attribute(kind, path, args, lints, doc, s, e)

    def items(self, arrays: TokenArrays, f: int) -> list[Item]:
        """Decoded items of file ``f`` (positions relative to the file, 1-based)."""
        rows = self.file_items(f)
        if not rows:
            return []
        lo = int(arrays.file_offsets[f])
        sl = slice(rows.start, rows.stop)
        starts = arrays.start[self.start[sl]].astype(np.int64)
        heads = arrays.start[self.head[sl]].astype(np.int64)
        ends = arrays.end[self.end[sl]].astype(np.int64)
        # line_columns is O(buffer): give it this file's bytes alone.
        hi = int(arrays.file_offsets[f + 1])
        fbuf = arrays.buffer[lo:hi]
        foffs = np.array([0, hi - lo], dtype=np.int64)
        zero = np.zeros(len(starts), dtype=np.int64)
        sl_, sc = line_columns(fbuf, foffs, starts - lo, zero)
        hl, hc = line_columns(fbuf, foffs, heads - lo, zero)
        el, ec = line_columns(fbuf, foffs, ends - lo, zero)
        out = []
        for n, i in enumerate(rows):
            kind = ItemKind(int(self.kind[i]))
            trait_ = None
            if kind is ItemKind.IMPL:
                trait_ = self.text(arrays, int(self.trait_first[i]), int(self.trait_last[i]))
            out.append(
                Item(
                    index=i,
                    kind=kind,
                    name=self.name(arrays, i),
                    path=self.path(arrays, i),
                    trait_=trait_,
                    visibility=self.visibility_text(arrays, i),
                    parent=int(self.parent[i]),
                    depth=int(self.depth[i]),
                    flags=ItemFlag(int(self.flags[i])),
                    attributes=self.attributes(arrays, i),
                    start=(int(sl_[n]), int(sc[n])),
                    head=(int(hl[n]), int(hc[n])),
                    end=(int(el[n]), int(ec[n])),
                    start_byte=int(starts[n]) - lo,
                    head_byte=int(heads[n]) - lo,
                    end_byte=int(ends[n]) - lo,
                )
            )
        return out


def arrays_match_close(arrays: TokenArrays, open_row: int) -> int:
    """The close of a `pub(` group, found by scanning (decoding helper; no tree needed)."""
    depth = 0
    for r in range(open_row, len(arrays.kind)):
        k = arrays.kind[r]
        if k in (TokenKind.OPEN_PAREN, TokenKind.OPEN_BRACKET, TokenKind.OPEN_BRACE):
            depth += 1
        elif k in (TokenKind.CLOSE_PAREN, TokenKind.CLOSE_BRACKET, TokenKind.CLOSE_BRACE):
            depth -= 1
            if depth == 0:
                return r
    return len(arrays.kind) - 1


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _string_value(lit: str) -> str:
    """The value of a plain or raw string literal token (escapes left as written)."""
    if lit.startswith("r"):
        body = lit[1:]
        hashes = len(body) - len(body.lstrip("#"))
        return body[hashes + 1 : len(body) - hashes - 1]
    if lit.startswith('"') and lit.endswith('"'):
        return lit[1:-1]
    return lit


_EMPTY_I32 = np.zeros(0, dtype=np.int32)


def build_items(
    arrays: TokenArrays,
    tree: TokenTree,
    *,
    xp: Any = None,
    timings: dict[str, float] | None = None,
) -> ItemIndex:
    """The item index of every file in ``arrays``.

    ``xp=None``: the numba CPU path (a device tree is copied to the host first). ``xp=cupy``:
    the CUDA path of :mod:`rustg.gpu.items_cuda` (token arrays uploaded, result on the device;
    ``ItemIndex.to_host`` brings it back); the simulator runs it with ``xp=numpy``.
    """
    if xp is not None:
        from rustg.gpu.items_cuda import build_items_xp

        return build_items_xp(
            xp,
            xp.asarray(arrays.kind),
            xp.asarray(arrays.keyword),
            xp.asarray(arrays.start),
            xp.asarray(arrays.end),
            xp.asarray(arrays.buffer),
            xp.asarray(arrays.file_token_offsets),
            xp.asarray(tree.match),
            xp.asarray(tree.parent),
            timings,
        )
    tree = tree.to_host()
    n_files = arrays.n_files
    bound_offsets = np.zeros(n_files + 1, dtype=np.int64)
    np.cumsum(
        _head_word_counts(arrays.keyword, arrays.file_token_offsets, _HEAD_MASK),
        out=bound_offsets[1:],
    )
    # columns 0-10 as _record writes them; 11: the item's attribute count
    out = np.empty((int(bound_offsets[-1]), 12), dtype=np.int32)
    n_items = np.zeros(n_files, dtype=np.int64)
    _file_items(arrays.kind, arrays.keyword, tree.match, arrays.file_token_offsets, _HEAD_WORDS,
                bound_offsets, out, n_items)  # fmt: skip
    file_item_offsets = np.zeros(n_files + 1, dtype=np.int64)
    np.cumsum(n_items, out=file_item_offsets[1:])
    n = int(file_item_offsets[-1])
    kind = np.empty(n, dtype=np.uint8)
    file_of = np.empty(n, dtype=np.int32)
    head, end, name_first, name_last, trait_first, trait_last, vis_open, body = (
        np.empty(n, dtype=np.int32) for _ in range(8)
    )
    vis = np.empty(n, dtype=np.uint8)
    scan_flags = np.empty(n, dtype=np.uint32)
    file_lo = np.empty(n, dtype=np.int64)
    attr_offsets = np.zeros(n + 1, dtype=np.int64)
    _gather_items(out, bound_offsets, file_item_offsets, arrays.file_token_offsets, kind,
                  file_of, head, end, name_first, name_last, trait_first, trait_last, vis,
                  vis_open, body, scan_flags, file_lo, attr_offsets[1:])  # fmt: skip
    np.cumsum(attr_offsets, out=attr_offsets)
    parent, depth, in_body = _nest(file_item_offsets, head, end, kind)
    n_attr = int(attr_offsets[-1])
    attr_rows = np.empty((n_attr, 2), dtype=np.int32)
    attr_kind = np.zeros(n_attr, dtype=np.uint8)
    flags = np.empty(n, dtype=np.uint32)
    first_attr = np.empty(n, dtype=np.int32)
    _attributes(arrays.kind, arrays.start, arrays.end, arrays.buffer, tree.match, head, file_lo,
                attr_offsets, scan_flags, in_body, attr_rows, attr_kind, flags, first_attr,
                _ATTR_TABLE, _ATTR_OFFS, _ATTR_CODES, _RUSTG, _TEST)  # fmt: skip
    return ItemIndex(
        kind=kind,
        file=file_of,
        head=head,
        start=first_attr,
        end=end,
        name_first=name_first,
        name_last=name_last,
        trait_first=trait_first,
        trait_last=trait_last,
        vis=vis,
        vis_open=vis_open,
        body=body,
        parent=parent,
        depth=depth,
        flags=flags,
        file_item_offsets=file_item_offsets,
        attr_offsets=attr_offsets,
        attr_kind=attr_kind,
        attr_start=attr_rows[:, 0].copy() if len(attr_rows) else _EMPTY_I32,
        attr_end=attr_rows[:, 1].copy() if len(attr_rows) else _EMPTY_I32,
    )


# ---------------------------------------------------------------------------------------------
# `cargo g items FILE [--json]`


def index_file(
    source: bytes, *, backend: Any = None, edition: Any = None
) -> tuple[TokenArrays, TokenTree, ItemIndex]:
    """Lex, tree and index one file's bytes (single-file work: the CPU, unless ``backend``);
    ``edition``: the file's :class:`~rustg.gpu.tokens.Edition` (default 2021)."""
    from rustg.gpu.backend import Device, get_backend

    be = backend or get_backend()
    tokens, tree, items = be.index_bytes(source, editions=edition, device=Device.CPU)
    return tokens, tree, items


def items_command(
    args: Sequence[str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    width: int | None = None,
) -> int:
    """``cargo g items FILE [--json]``: the items the engine sees in FILE.

    Human output is a rich table; ``--json`` prints one JSON document: ``{"file": ..., "items":
    [...]}`` with each item's kind, name, path, line/column span, visibility and attributes.
    Returns the exit code: 0, 1 when the file cannot be read, 2 on bad usage.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = argparse.ArgumentParser(
        prog="cargo g items", description="List the items the rustg engine finds in a file."
    )
    parser.add_argument("file", help="a Rust source file")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    try:
        ns = parser.parse_args(list(args))
    except SystemExit as e:  # argparse already printed the usage error
        return int(e.code) if isinstance(e.code, int) else 2
    path = Path(ns.file)
    try:
        source = path.read_bytes()
    except OSError as e:
        print(f"cargo g items: {path}: {e.strerror or e}", file=err)
        return 1
    from rustg.gpu.editions import edition_of_file

    arrays, _tree, index = index_file(source, edition=edition_of_file(path))
    items = index.items(arrays, 0) if arrays.n_files else []
    if ns.json:
        doc = {"file": str(path), "items": [it.to_json() for it in items]}
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    console = Console(file=out, width=width, highlight=False, soft_wrap=False)
    console.print(Text(f"{path}: {len(items)} items"))
    table = Table()
    for col in ("kind", "path", "vis", "span", "attributes"):
        table.add_column(col, overflow="fold")
    for it in items:
        attrs = ", ".join(
            ("///" if a.kind is AttrKind.DOC_COMMENT else f"#[{a.path}{a.args}]")
            for a in it.attributes
        )
        span = f"{it.start[0]}:{it.start[1]}-{it.end[0]}:{it.end[1]}"
        name = "  " * it.depth + it.path
        # Text cells: `#[inline]` is source text, not rich markup.
        table.add_row(*(Text(c) for c in (str(it.kind), name, it.visibility, span, attrs)))
    console.print(table)
    return 0
