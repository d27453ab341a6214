"""The Rust lexer: one state machine, written once, compiled for the CPU and for CUDA.

The token-level functions below are ``register_jitable``: numba compiles them into whichever
kernel calls them, CPU (``njit``, here) or CUDA (``rustg.gpu.lexer_cuda``). Token boundaries
follow ``rustc_lexer`` line by line (comments cite its functions); the output format is
specified in :mod:`rustg.gpu.tokens`.

Two ways to cut the work, both here so that both are checked on the CPU:

* **per file** (the CPU default): one task per file, ``prange`` over files, lexed once into
  compact scratch rows, then expanded at the prefix-summed offsets (see "CPU kernels").
* **chunked** (what the GPU runs, also available on the CPU): files are cut into fixed-size
  chunks so that one 2.5 MB file does not serialise the device. Each chunk is first lexed
  *speculatively* from its first line break and marks the token starts it finds (``mark``,
  each mark the token's code: kind and keyword). One
  cheap pass per file then walks its chunks in order, carrying the true boundary ``t``: where
  ``t`` is a marked start, the speculative run from there on is the true one (the lexer holds no
  state between tokens), so the chunk's exit is known without relexing; otherwise it relexes
  from ``t`` until it meets a mark or leaves the chunk. In real code a speculative start
  resynchronises within a token or two (a start inside a comment or string is rarer, and costs
  only that stretch). The walk also counts each chunk's tokens (from the prefix sum of the
  marks where it met the speculative run), then each chunk writes the tokens that start
  inside it at the prefix-summed rows: it lexes only the stretch before the meeting point and
  copies the rest from the marks, which already say each token's kind (no second lexing of the
  whole chunk).

Both produce identical arrays; tests compare them on the whole corpus.
"""

# Kernel code is compiled by numba for the CPU and for CUDA: it takes many arrays positionally
# (CUDA kernels have no keyword arguments) and compares with `==`/`or` chains because
# container membership (`x in {...}`) is not supported in CUDA device code.
# ruff: noqa: PLR0917, PLR1714, SIM109
# Kernel bodies are typed by numba at compile time, not by annotations:
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="call-overload"

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange
from numba.extending import register_jitable
from numba.np.ufunc.parallel import get_thread_id

from rustg.gpu import _xid
from rustg.gpu.tokens import (
    DEFAULT_MAX_FILE_BYTES,
    KEYWORD_TEXT,
    PUNCT_CHARS,
    Edition,
    FileStatus,
    Keyword,
    TokenArrays,
    TokenKind,
    check_buffer,
    edition_array,
)

# Kinds as plain ints: numba folds module-level int globals into constants.
K_WHITESPACE = int(TokenKind.WHITESPACE)
K_LINE_COMMENT = int(TokenKind.LINE_COMMENT)
K_BLOCK_COMMENT = int(TokenKind.BLOCK_COMMENT)
K_OUTER_LINE_DOC = int(TokenKind.OUTER_LINE_DOC)
K_INNER_LINE_DOC = int(TokenKind.INNER_LINE_DOC)
K_OUTER_BLOCK_DOC = int(TokenKind.OUTER_BLOCK_DOC)
K_INNER_BLOCK_DOC = int(TokenKind.INNER_BLOCK_DOC)
K_SHEBANG = int(TokenKind.SHEBANG)
K_BOM = int(TokenKind.BOM)
K_IDENT = int(TokenKind.IDENT)
K_RAW_IDENT = int(TokenKind.RAW_IDENT)
K_LIFETIME = int(TokenKind.LIFETIME)
K_RAW_LIFETIME = int(TokenKind.RAW_LIFETIME)
K_INT = int(TokenKind.INT)
K_FLOAT = int(TokenKind.FLOAT)
K_CHAR = int(TokenKind.CHAR)
K_BYTE = int(TokenKind.BYTE)
K_STR = int(TokenKind.STR)
K_BYTE_STR = int(TokenKind.BYTE_STR)
K_C_STR = int(TokenKind.C_STR)
K_RAW_STR = int(TokenKind.RAW_STR)
K_RAW_BYTE_STR = int(TokenKind.RAW_BYTE_STR)
K_RAW_C_STR = int(TokenKind.RAW_C_STR)
K_OPEN_BRACKET = int(TokenKind.OPEN_BRACKET)
K_ERR_UNTERMINATED_STR = int(TokenKind.ERR_UNTERMINATED_STR)
K_ERR_UNTERMINATED_CHAR = int(TokenKind.ERR_UNTERMINATED_CHAR)
K_ERR_UNTERMINATED_BLOCK_COMMENT = int(TokenKind.ERR_UNTERMINATED_BLOCK_COMMENT)
K_ERR_UNTERMINATED_RAW_STR = int(TokenKind.ERR_UNTERMINATED_RAW_STR)
K_ERR_INVALID_RAW_STR = int(TokenKind.ERR_INVALID_RAW_STR)
K_ERR_UNKNOWN_PREFIX = int(TokenKind.ERR_UNKNOWN_PREFIX)
K_ERR_INVALID_LIFETIME = int(TokenKind.ERR_INVALID_LIFETIME)
K_ERR_EMPTY_INT = int(TokenKind.ERR_EMPTY_INT)
K_ERR_EMPTY_EXPONENT = int(TokenKind.ERR_EMPTY_EXPONENT)
K_ERR_STRAY = int(TokenKind.ERR_STRAY)
K_ERR_INVALID_UTF8 = int(TokenKind.ERR_INVALID_UTF8)

ST_OK = int(FileStatus.OK)
ST_BINARY = int(FileStatus.BINARY)
ST_TOO_LARGE = int(FileStatus.TOO_LARGE)

# lex_span modes
MODE_COUNT = 0
MODE_WRITE = 1
MODE_MARK = 2

KW_MAX_LEN = 12
NO_LIMIT = 1 << 62

# Editions as plain ints (the per-file ``file_edition`` array holds these years).
ED_2015 = int(Edition.E2015)
ED_2018 = int(Edition.E2018)
ED_2021 = int(Edition.E2021)
W_ASYNC = int(Keyword.ASYNC)
W_AWAIT = int(Keyword.AWAIT)
W_DYN = int(Keyword.DYN)
W_TRY = int(Keyword.TRY)

# No NRT in kernel code: nothing allocates, and with NRT every call that passes an array pays
# atomic reference-count updates (measured: next_token over the corpus ran 1.7x faster without).
jitable = register_jitable(_nrt=False, forceinline=True)


# ---------------------------------------------------------------------------------------------
# Tables (plain numpy arrays, passed to kernels as arguments so CUDA can hold them on device)


def _build_xid_table() -> npt.NDArray[np.uint8]:
    """uint8[0x110000]: bit 0 = rustc's is_id_start (XID_Start or '_'), bit 1 = XID_Continue."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for lo, hi in _xid.XID_START:
        table[lo : hi + 1] |= 1
    for lo, hi in _xid.XID_CONTINUE:
        table[lo : hi + 1] |= 2
    return table


# ASCII classes: what next_token dispatches on (one table load instead of a comparison chain).
C_PUNCT = 0  # single-character punctuation/delimiter: its kind is ASCII_TABLE[128 + b]
C_WS = 1
C_IDENT = 2  # identifier start other than b, c, r
C_DIGIT = 3
C_SLASH = 4
C_R = 5
C_B = 6
C_C = 7
C_QUOTE = 8
C_DQUOTE = 9
C_STRAY = 10


def _build_ascii_table() -> npt.NDArray[np.uint8]:
    """uint8[256]: [b] = class of ASCII byte b (C_*), [128 + b] = its punct kind (C_PUNCT)."""
    table = np.full(256, C_STRAY, dtype=np.uint8)
    for kind, ch in PUNCT_CHARS.items():
        table[ord(ch)] = C_PUNCT
        table[128 + ord(ch)] = int(kind)
    for ch in " \t\n\x0b\x0c\r":
        table[ord(ch)] = C_WS
    for b in range(128):
        if chr(b).isidentifier():
            table[b] = C_IDENT
    for ch in "0123456789":
        table[ord(ch)] = C_DIGIT
    table[ord("/")] = C_SLASH
    table[ord("r")] = C_R
    table[ord("b")] = C_B
    table[ord("c")] = C_C
    table[ord("'")] = C_QUOTE
    table[ord('"')] = C_DQUOTE
    return table


def _build_keyword_tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], int]:
    """A collision-free hash of the keyword spellings into 256 slots.

    Returns (slot -> Keyword, Keyword -> spelling padded to KW_MAX_LEN with its length in the
    last byte, mul). h = (len + first + mul * middle + last) & 255 with middle = w[len // 2]
    (first/last/len alone cannot tell `where` from `while`); ``mul`` is the smallest that
    separates all keywords (a deterministic search, a few ms).
    """
    words = {w.encode(): int(k) for w, k in KEYWORD_TEXT.items()}
    text = np.zeros((max(words.values()) + 1, KW_MAX_LEN), dtype=np.uint8)
    for w, k in words.items():
        assert len(w) < KW_MAX_LEN
        text[k, : len(w)] = np.frombuffer(w, dtype=np.uint8)
        text[k, KW_MAX_LEN - 1] = len(w)
    for mul in range(1, 256):
        slots = np.zeros(256, dtype=np.uint8)
        for w, k in words.items():
            h = (len(w) + w[0] + mul * w[len(w) // 2] + w[-1]) & 255
            if slots[h]:
                break
            slots[h] = k
        else:
            return slots, text, mul
    raise AssertionError("no collision-free keyword hash")  # pragma: no cover


XID_TABLE = _build_xid_table()
ASCII_TABLE = _build_ascii_table()
KW_SLOTS, KW_TEXT, KW_MUL = _build_keyword_tables()


# ---------------------------------------------------------------------------------------------
# Characters


@jitable
def decode(buf, i, hi):
    """(code point, byte length) of the UTF-8 sequence at ``i``; (-1, 1) if invalid.

    Strict (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, the same
    verdict as Python's ``bytes.decode("utf-8")``.
    """
    b0 = np.int64(buf[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xC2:
        return -1, 1
    if b0 < 0xE0:
        if i + 1 < hi:
            b1 = np.int64(buf[i + 1])
            if (b1 & 0xC0) == 0x80:
                return ((b0 & 0x1F) << 6) | (b1 & 0x3F), 2
        return -1, 1
    if b0 < 0xF0:
        if i + 2 < hi:
            b1 = np.int64(buf[i + 1])
            b2 = np.int64(buf[i + 2])
            if (b1 & 0xC0) == 0x80 and (b2 & 0xC0) == 0x80:
                cp = ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F)
                if cp >= 0x800 and (cp < 0xD800 or cp > 0xDFFF):
                    return cp, 3
        return -1, 1
    if b0 < 0xF5:
        if i + 3 < hi:
            b1 = np.int64(buf[i + 1])
            b2 = np.int64(buf[i + 2])
            b3 = np.int64(buf[i + 3])
            if (b1 & 0xC0) == 0x80 and (b2 & 0xC0) == 0x80 and (b3 & 0xC0) == 0x80:
                cp = ((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F)
                if cp >= 0x10000 and cp <= 0x10FFFF:
                    return cp, 4
        return -1, 1
    return -1, 1


@jitable
def is_ws_cp(cp):
    """rustc_lexer::is_whitespace (Pattern_White_Space)."""
    return (
        cp == 32
        or (cp >= 9 and cp <= 13)
        or cp == 0x85
        or cp == 0x200E
        or cp == 0x200F
        or cp == 0x2028
        or cp == 0x2029
    )


@jitable
def id_start_len(buf, i, hi, xid):
    """Byte length of the character at ``i`` if it can start an identifier, else 0."""
    if i >= hi:
        return 0
    b = buf[i]
    if b < 0x80:
        return 1 if (xid[b] & 1) != 0 else 0
    cp, n = decode(buf, i, hi)
    if cp >= 0 and (xid[cp] & 1) != 0:
        return n
    return 0


@jitable
def eat_id_continue(buf, i, hi, xid):
    while i < hi:
        b = buf[i]
        if b < 0x80:
            if (xid[b] & 2) == 0:
                return i
            i += 1
        else:
            cp, n = decode(buf, i, hi)
            if cp < 0 or (xid[cp] & 2) == 0:
                return i
            i += n
    return i


@jitable
def eat_suffix(buf, i, hi, xid):
    """rustc_lexer::eat_literal_suffix (an identifier, if one starts here)."""
    n = id_start_len(buf, i, hi, xid)
    if n == 0:
        return i
    return eat_id_continue(buf, i + n, hi, xid)


@jitable
def eat_whitespace(buf, i, hi):
    while i < hi:
        b = buf[i]
        if b < 0x80:
            if b == 32 or (b >= 9 and b <= 13):
                i += 1
            else:
                return i
        else:
            cp, n = decode(buf, i, hi)
            if cp < 0 or not is_ws_cp(cp):
                return i
            i += n
    return i


@jitable
def eat_decimal_digits(buf, i, hi):
    """(end, saw a digit): digits and underscores."""
    has = False
    while i < hi:
        b = buf[i]
        if b == 95:  # _
            i += 1
        elif b >= 48 and b <= 57:
            has = True
            i += 1
        else:
            break
    return i, has


@jitable
def eat_hex_digits(buf, i, hi):
    has = False
    while i < hi:
        b = buf[i]
        if b == 95:
            i += 1
        elif (b >= 48 and b <= 57) or (b >= 97 and b <= 102) or (b >= 65 and b <= 70):
            has = True
            i += 1
        else:
            break
    return i, has


@jitable
def eat_exponent(buf, i, hi):
    """rustc_lexer::eat_float_exponent, ``i`` just past the e/E."""
    if i < hi and (buf[i] == 45 or buf[i] == 43):  # - +
        i += 1
    return eat_decimal_digits(buf, i, hi)


# ---------------------------------------------------------------------------------------------
# Tokens: each returns (kind, end)


@jitable
def lex_number(buf, p, hi, xid):
    """rustc_lexer::number + eat_literal_suffix; ``buf[p]`` is a decimal digit."""
    i = p + 1
    nb = np.int64(buf[i]) if i < hi else -1
    empty_int = False
    done = False
    if buf[p] == 48:  # '0': maybe a base prefix
        if nb == 98 or nb == 111:  # b o
            i, has = eat_decimal_digits(buf, i + 1, hi)
            empty_int = not has
            done = not has
        elif nb == 120:  # x
            i, has = eat_hex_digits(buf, i + 1, hi)
            empty_int = not has
            done = not has
        elif (nb >= 48 and nb <= 57) or nb == 95:
            i, has = eat_decimal_digits(buf, i, hi)
        elif nb == 46 or nb == 101 or nb == 69:  # . e E
            pass
        else:
            done = True  # just a 0
    else:
        i, has = eat_decimal_digits(buf, i, hi)
    is_float = False
    empty_exp = False
    if not done:
        c = np.int64(buf[i]) if i < hi else -1
        if c == 46:  # '.': not `1..2`, not `1.foo`/`1._x`
            c2 = np.int64(buf[i + 1]) if i + 1 < hi else -1
            if c2 != 46 and id_start_len(buf, i + 1, hi, xid) == 0:
                i += 1
                is_float = True
                if i < hi and buf[i] >= 48 and buf[i] <= 57:
                    i, has = eat_decimal_digits(buf, i, hi)
                    if i < hi and (buf[i] == 101 or buf[i] == 69):
                        i, has = eat_exponent(buf, i + 1, hi)
                        empty_exp = not has
        elif c == 101 or c == 69:
            i, has = eat_exponent(buf, i + 1, hi)
            empty_exp = not has
            is_float = True
    i = eat_suffix(buf, i, hi, xid)
    if empty_int:
        return K_ERR_EMPTY_INT, i
    if empty_exp:
        return K_ERR_EMPTY_EXPONENT, i
    if is_float:
        return K_FLOAT, i
    return K_INT, i


@jitable
def single_quoted(buf, q, hi):
    """rustc_lexer::single_quoted_string from just after the quote: (terminated, end).

    Byte-wise, which is equivalent: the stops are ASCII and never match a UTF-8 continuation.
    """
    if q < hi and buf[q] != 92:  # one-symbol literal: 'x'
        _, n = decode(buf, q, hi)
        if q + n < hi and buf[q + n] == 39:
            return True, q + n + 1
    i = q
    while i < hi:
        c = buf[i]
        if c == 39:  # '
            return True, i + 1
        if c == 47:  # / : probably a comment; not part of the error
            return False, i
        if c == 10 and not (i + 1 < hi and buf[i + 1] == 39):
            return False, i
        if c == 92:  # backslash: skip the escaped character too
            i += 2 if i + 1 < hi else 1
        else:
            i += 1
    return False, i


@jitable
def double_quoted(buf, q, hi):
    """rustc_lexer::double_quoted_string from just after the quote: (terminated, end)."""
    i = q
    while i < hi:
        c = buf[i]
        i += 1
        if c == 34:
            return True, i
        if c == 92 and i < hi and (buf[i] == 92 or buf[i] == 34):
            i += 1
    return False, i


@jitable
def raw_string(buf, q, hi, xid, ok_kind):
    """rustc_lexer::raw_double_quoted_string; ``q`` is at the first '#' or the quote."""
    n_hashes = 0
    while q < hi and buf[q] == 35:
        n_hashes += 1
        q += 1
    if q >= hi:
        return K_ERR_INVALID_RAW_STR, q
    if buf[q] != 34:  # InvalidStarter: rustc's cursor has eaten the bad character
        _, n = decode(buf, q, hi)
        return K_ERR_INVALID_RAW_STR, q + n
    q += 1
    while True:
        while q < hi and buf[q] != 34:
            q += 1
        if q >= hi:
            return K_ERR_UNTERMINATED_RAW_STR, hi
        q += 1
        m = 0
        while m < n_hashes and q < hi and buf[q] == 35:
            m += 1
            q += 1
        if m == n_hashes:
            break
    if n_hashes > 255:
        return K_ERR_INVALID_RAW_STR, q
    return ok_kind, eat_suffix(buf, q, hi, xid)


@jitable
def ident_or_unknown_prefix(buf, p, n, hi, xid, ed):
    """rustc_lexer::ident_or_unknown_prefix; the first character (n bytes) is at ``p``.

    Before 2021 the prefix is no error: rustc_parse turns ``UnknownPrefix`` into a plain
    identifier (a lint only) and lexes on after it, so ``k#x`` is ``k # x``.
    """
    i = eat_id_continue(buf, p + n, hi, xid)
    if i < hi and ed >= ED_2021:
        c = buf[i]
        if c == 35 or c == 34 or c == 39:  # # " '
            return K_ERR_UNKNOWN_PREFIX, i
    return K_IDENT, i


@jitable
def lifetime_or_char(buf, p, hi, xid, char_kind, ed):
    """rustc_lexer::lifetime_or_char; ``buf[p]`` is the quote (``char_kind``: CHAR/BYTE).

    Before 2021 (rustc_parse, checked with rustc 1.95 --edition 2015/2018): ``'r#a`` is the
    lifetime ``'r`` then ``#`` ``a``, and ``'foo#`` the lifetime ``'foo`` then ``#``.
    """
    q = p + 1
    if q < hi:
        c1, n1 = decode(buf, q, hi)
    else:
        c1 = -1
        n1 = 0
    second = np.int64(buf[q + n1]) if q + n1 < hi else -1
    is_digit = c1 >= 48 and c1 <= 57
    can_be_lifetime = False
    if second != 39 and q < hi:
        can_be_lifetime = is_digit or (c1 >= 0 and (xid[c1] & 1) != 0)
    if char_kind == K_BYTE:  # b'..' is never a lifetime
        can_be_lifetime = False
    if not can_be_lifetime:
        terminated, end = single_quoted(buf, q, hi)
        if terminated:
            return char_kind, eat_suffix(buf, end, hi, xid)
        return K_ERR_UNTERMINATED_CHAR, end
    if c1 == 114 and second == 35 and ed >= ED_2021:  # 'r#ident
        n3 = id_start_len(buf, q + 2, hi, xid)
        if n3 > 0:
            return K_RAW_LIFETIME, eat_id_continue(buf, q + 2 + n3, hi, xid)
    i = eat_id_continue(buf, q + n1, hi, xid)
    if i < hi and buf[i] == 39:  # 'ab' : a (bad) char literal, no suffix in rustc
        return char_kind, i + 1
    if i < hi and buf[i] == 35 and not is_digit and ed >= ED_2021:
        return K_ERR_UNKNOWN_PREFIX, i
    if is_digit:
        return K_ERR_INVALID_LIFETIME, i
    return K_LIFETIME, i


@jitable
def next_token(buf, p, hi, xid, ascii_kind, ed):
    """rustc_lexer::Cursor::advance_token at ``p < hi``: (kind, end), end > p always.

    ``ed``: the file's edition (a year). rustc_lexer itself knows no edition; rustc_parse
    re-lexes what older editions see differently, and those rules are folded in here.
    """
    b = np.int64(buf[p])
    b1 = np.int64(buf[p + 1]) if p + 1 < hi else -1
    if b < 0x80:
        cls = ascii_kind[b]
        if cls == C_PUNCT:
            return np.int64(ascii_kind[128 + b]), p + 1
        if cls == C_WS:
            return K_WHITESPACE, eat_whitespace(buf, p + 1, hi)
        if cls == C_IDENT:
            return ident_or_unknown_prefix(buf, p, 1, hi, xid, ed)
        if cls == C_DIGIT:
            return lex_number(buf, p, hi, xid)
        if cls == C_SLASH:
            if b1 == 47:  # line comment; `////` is not a doc comment
                kind = K_LINE_COMMENT
                if p + 2 < hi:
                    c2 = buf[p + 2]
                    if c2 == 33:
                        kind = K_INNER_LINE_DOC
                    elif c2 == 47 and not (p + 3 < hi and buf[p + 3] == 47):
                        kind = K_OUTER_LINE_DOC
                i = p + 2
                while i < hi and buf[i] != 10:
                    i += 1
                return kind, i
            if b1 == 42:  # block comment; `/***` and `/**/` are not doc comments
                kind = K_BLOCK_COMMENT
                if p + 2 < hi:
                    c2 = buf[p + 2]
                    c3 = np.int64(buf[p + 3]) if p + 3 < hi else -1
                    if c2 == 33:
                        kind = K_INNER_BLOCK_DOC
                    elif c2 == 42 and c3 != 42 and c3 != 47:
                        kind = K_OUTER_BLOCK_DOC
                depth = 1
                i = p + 2
                while i < hi:
                    c = buf[i]
                    i += 1
                    if c == 47 and i < hi and buf[i] == 42:
                        i += 1
                        depth += 1
                    elif c == 42 and i < hi and buf[i] == 47:
                        i += 1
                        depth -= 1
                        if depth == 0:
                            return kind, i
                return K_ERR_UNTERMINATED_BLOCK_COMMENT, i
            return np.int64(ascii_kind[128 + b]), p + 1
        if cls == C_R:  # raw identifier, raw string or identifier
            if b1 == 35:
                n = id_start_len(buf, p + 2, hi, xid)
                if n > 0:
                    return K_RAW_IDENT, eat_id_continue(buf, p + 2 + n, hi, xid)
                return raw_string(buf, p + 1, hi, xid, K_RAW_STR)
            if b1 == 34:
                return raw_string(buf, p + 1, hi, xid, K_RAW_STR)
            return ident_or_unknown_prefix(buf, p, 1, hi, xid, ed)
        if cls == C_C and ed < ED_2021:
            # C strings are 2021+: before, `c"x"` is `c` then "x", `cr#"x"#` is `cr` # ...
            return ident_or_unknown_prefix(buf, p, 1, hi, xid, ed)
        if cls == C_B or cls == C_C:  # byte/C literals or identifier
            if b1 == 39 and b == 98:
                return lifetime_or_char(buf, p + 1, hi, xid, K_BYTE, ed)
            if b1 == 34:
                terminated, end = double_quoted(buf, p + 2, hi)
                if terminated:
                    return (K_BYTE_STR if b == 98 else K_C_STR), eat_suffix(buf, end, hi, xid)
                return K_ERR_UNTERMINATED_STR, end
            if b1 == 114 and p + 2 < hi and (buf[p + 2] == 34 or buf[p + 2] == 35):
                return raw_string(buf, p + 2, hi, xid, K_RAW_BYTE_STR if b == 98 else K_RAW_C_STR)
            return ident_or_unknown_prefix(buf, p, 1, hi, xid, ed)
        if cls == C_QUOTE:
            return lifetime_or_char(buf, p, hi, xid, K_CHAR, ed)
        if cls == C_DQUOTE:
            terminated, end = double_quoted(buf, p + 1, hi)
            if terminated:
                return K_STR, eat_suffix(buf, end, hi, xid)
            return K_ERR_UNTERMINATED_STR, end
        return K_ERR_STRAY, p + 1
    cp, n = decode(buf, p, hi)
    if cp < 0:
        i = p + 1
        while i < hi and buf[i] >= 0x80:
            cp2, _ = decode(buf, i, hi)
            if cp2 >= 0:
                break
            i += 1
        return K_ERR_INVALID_UTF8, i
    if is_ws_cp(cp):
        return K_WHITESPACE, eat_whitespace(buf, p + n, hi)
    if (xid[cp] & 1) != 0:
        return ident_or_unknown_prefix(buf, p, n, hi, xid, ed)
    return K_ERR_STRAY, p + n


@jitable
def keyword_of(buf, s, e, kw_slots, kw_text, mul):
    """The Keyword id an identifier's bytes spell, or 0."""
    n = e - s
    if n < 1 or n >= KW_MAX_LEN:
        return 0
    h = (n + np.int64(buf[s]) + mul * np.int64(buf[s + n // 2]) + np.int64(buf[e - 1])) & 255
    k = kw_slots[h]
    if k == 0 or kw_text[k, KW_MAX_LEN - 1] != n:
        return 0
    for j in range(n):
        if kw_text[k, j] != buf[s + j]:
            return 0
    return k


@jitable
def token_code(kind, buf, s, e, kw_slots, kw_text, kw_mul, ed):
    """A token's code byte (CODE_*, never 0): kind + 1, or CODE_KW + keyword for an IDENT."""
    if kind != K_IDENT:
        return kind + 1
    k = keyword_of(buf, s, e, kw_slots, kw_text, kw_mul)
    # as emit: Rust 2018 made these keywords; in 2015 they are plain identifiers.
    if ed < ED_2018 and (k == W_ASYNC or k == W_AWAIT or k == W_DYN or k == W_TRY):
        k = 0
    return CODE_KW + k


@jitable
def prologue_end(buf, lo, hi, xid, ascii_kind, ed):
    """(bom_end, shebang_end) at a file's start; each equals the previous when absent.

    rustc strips a BOM, then ``strip_shebang``: ``#!`` is a shebang unless the next token that
    is not whitespace or a plain comment is ``[``; it runs to the end of the first line.
    """
    p = lo
    if hi - lo >= 3 and buf[lo] == 0xEF and buf[lo + 1] == 0xBB and buf[lo + 2] == 0xBF:
        p = lo + 3
    bom = p
    if p + 1 < hi and buf[p] == 35 and buf[p + 1] == 33:
        q = p + 2
        nxt = -1
        while q < hi:
            k, e = next_token(buf, q, hi, xid, ascii_kind, ed)
            if (
                k == K_WHITESPACE
                or k == K_LINE_COMMENT
                or k == K_BLOCK_COMMENT
                or k == K_ERR_UNTERMINATED_BLOCK_COMMENT
            ):
                q = e
            else:
                nxt = k
                break
        if nxt != K_OPEN_BRACKET:
            i = p
            while i < hi and buf[i] != 10:
                i += 1
            if i < hi and i > p and buf[i - 1] == 13:  # str::lines strips "\r\n"
                i -= 1
            return bom, i
    return bom, bom


@jitable
def emit(mode, n, kind, s, e, buf, out_kind, out_start, out_end, out_kw, kw_slots, kw_text, kw_mul,
         ed):  # fmt: skip
    if mode == MODE_WRITE:
        out_kind[n] = kind
        out_start[n] = s
        out_end[n] = e
        if kind == K_IDENT:
            k = keyword_of(buf, s, e, kw_slots, kw_text, kw_mul)
            # Rust 2018 made these keywords; in 2015 they are plain identifiers.
            if ed < ED_2018 and (k == W_ASYNC or k == W_AWAIT or k == W_DYN or k == W_TRY):
                k = 0
            out_kw[n] = k
        else:
            out_kw[n] = 0


@jitable
def lex_span(
    buf,
    lo,
    hi,
    p,
    until,
    xid,
    ascii_kind,
    kw_slots,
    kw_text,
    kw_mul,
    mode,
    mark,
    out_kind,
    out_start,
    out_end,
    out_kw,
    base,
    limit,
    ed,
):
    """Lex the tokens of file [lo, hi) that start in [p, until); ``p`` must be a boundary.

    Returns (token count, exit) where exit is the first token boundary >= until (or hi).
    MODE_COUNT only counts; MODE_WRITE writes rows base, base+1, ...; MODE_MARK sets
    ``mark[start]`` to the token's code (``token_code``: kind and keyword, never 0). At most
    ``limit`` (>= 2) tokens: a run that would exceed it stops early and returns an exit <
    until, which the caller detects.
    """
    n = 0
    if p == lo and p < until:
        bom, shebang = prologue_end(buf, lo, hi, xid, ascii_kind, ed)
        if bom > lo:
            if mode == MODE_MARK:
                mark[lo] = K_BOM + 1
            emit(mode, base + n, K_BOM, lo, bom, buf, out_kind, out_start, out_end, out_kw,
                 kw_slots, kw_text, kw_mul, ed)  # fmt: skip
            n += 1
        if shebang > bom:
            if mode == MODE_MARK:
                mark[bom] = K_SHEBANG + 1
            emit(mode, base + n, K_SHEBANG, bom, shebang, buf, out_kind, out_start, out_end,
                 out_kw, kw_slots, kw_text, kw_mul, ed)  # fmt: skip
            n += 1
        p = shebang
    while p < until and p < hi:
        if n >= limit:
            return n, p
        kind, e = next_token(buf, p, hi, xid, ascii_kind, ed)
        if mode == MODE_MARK:
            mark[p] = token_code(kind, buf, p, e, kw_slots, kw_text, kw_mul, ed)
        else:
            emit(mode, base + n, kind, p, e, buf, out_kind, out_start, out_end, out_kw,
                 kw_slots, kw_text, kw_mul, ed)  # fmt: skip
        n += 1
        p = e
    return n, p


@jitable
def covered_by_valid_sequence(buf, lo, hi, i):
    """Whether continuation byte ``i`` lies inside a valid UTF-8 sequence (started before it)."""
    j = i - 1
    while j >= lo and j >= i - 3:
        if (buf[j] & 0xC0) != 0x80:
            cp, n = decode(buf, j, hi)
            return cp >= 0 and j + n > i
        j -= 1
    return False


HIGH_BITS = np.uint64(0x8080808080808080)
LOW_BITS = np.uint64(0x0101010101010101)


@jitable
def validate(buf, lo, hi, s, e):
    """(has a NUL byte, first byte in [s, e) that is not valid UTF-8 or -1) within file [lo, hi).

    Chunkable: a chunk starting inside a multi-byte sequence looks back to its lead byte (every
    byte that is not a continuation byte starts a step of a sequential decode).
    """
    nul = False
    bad = -1
    i = s
    while i < e and (buf[i] & 0xC0) == 0x80:
        if not covered_by_valid_sequence(buf, lo, hi, i):
            bad = i
            break
        i += 1
    while i < e:
        b = buf[i]
        if b < 0x80:
            if b == 0:
                nul = True
            i += 1
        else:
            cp, n = decode(buf, i, hi)
            if cp < 0:
                if bad < 0:
                    bad = i
                i += 1
            else:
                i += n
    return nul, bad


# ---------------------------------------------------------------------------------------------
# CPU kernels: per file, one lexing pass
#
# Pass 1 lexes every file once into its worker thread's scratch rows, appended densely: per
# token one code byte (kind and keyword, CODE_*) and its length (uint16), 3 bytes. Once the per-file
# counts are prefix-summed, pass 2 expands each file's scratch rows into its final rows (a token
# starts where the previous one ended, the first at the file's start). A thread whose scratch
# cannot take a file only counts its tokens (as does a file with a token over 64 KB), and pass 2
# lexes that file again straight into its rows (the old two-pass way), so any scheduling gives
# the same arrays.
#
# Measured alternatives (corpus, 2 cores): lexing twice (count, then write at the prefix-summed
# rows): 184 ms best vs 145 ms for this (lex only, load 0.7). Scratch rows at every file's own
# offset fault in the whole scratch, not just the written rows: numpy madvises large arrays
# into 2 MB transparent huge pages (316 MB, 0.38 s; 4 KB pages fault at ~0.7 ms/MB here, 6x
# slower), and freed guest
# memory faults at ~3 ms/MB again after a few seconds idle, so scratch is kept dense and small.
# Scratch reused by groups of files in turn needed two parallel launches per group, and a launch
# waits for a descheduled worker whenever another process shares the cores (+0.2-0.4 s under
# load). A map of one byte per source byte (the code at each token's first byte) scanned in
# pass 2 was ~0.04 s slower than this.

# Code byte of a token: kind + 1, or CODE_KW + keyword for an IDENT.
CODE_KW = max(int(k) for k in TokenKind) + 2
assert CODE_KW + max(int(w) for w in Keyword) <= 255
CODE_KIND = np.zeros(256, dtype=np.uint8)
CODE_KEYWORD = np.zeros(256, dtype=np.uint8)
for _k in TokenKind:
    CODE_KIND[int(_k) + 1] = int(_k)
for _w in Keyword:
    CODE_KIND[CODE_KW + int(_w)] = K_IDENT
    CODE_KEYWORD[CODE_KW + int(_w)] = int(_w)
MAX_SCRATCH_LEN = 0xFFFF  # longer tokens (a 64 KB string literal) send their file to pass 2
CURSOR_STRIDE = 8  # int64s per thread's cursor: one cache line each, no false sharing


@jitable
def scratch_file(buf, lo, hi, xid, ascii_kind, kw_slots, kw_text, kw_mul, ed, s_code, s_len,
                 row):  # fmt: skip
    """lex_span over all of file [lo, hi) as (code, length) rows from ``row``.

    Returns (token count, whether every length fit in the uint16 column).
    """
    n = 0
    p = lo
    fits = True
    if lo < hi:
        bom, shebang = prologue_end(buf, lo, hi, xid, ascii_kind, ed)
        if bom > lo:
            s_code[row + n] = K_BOM + 1
            s_len[row + n] = bom - lo
            n += 1
        if shebang > bom:
            s_code[row + n] = K_SHEBANG + 1
            s_len[row + n] = shebang - bom
            fits = shebang - bom <= MAX_SCRATCH_LEN
            n += 1
        p = shebang
    while p < hi:
        kind, e = next_token(buf, p, hi, xid, ascii_kind, ed)
        s_code[row + n] = token_code(kind, buf, p, e, kw_slots, kw_text, kw_mul, ed)
        s_len[row + n] = e - p
        if e - p > MAX_SCRATCH_LEN:
            fits = False
        n += 1
        p = e
    return n, fits


@jitable
def validate_file(buf, words, wshift, lo, hi):
    """``validate`` of a whole file [lo, hi), on the CPU: where a run of 8 bytes aligned in
    memory (``words``: the buffer from byte ``wshift`` on, as uint64) holds no NUL and no byte
    >= 0x80, it is stepped over in one load. Source is mostly ASCII: this took whole-corpus
    validation from 18.6 to about 4 ms (2 cores); assembling words from byte loads was 16 ms."""
    nul = False
    bad = -1
    i = lo
    while i < hi:
        if ((i - wshift) & 7) == 0:
            while i + 8 <= hi:
                w = words[(i - wshift) >> 3]
                if (w & HIGH_BITS) != 0 or ((w - LOW_BITS) & ~w & HIGH_BITS) != 0:
                    break  # a byte >= 0x80 or a NUL: bytewise below
                i += 8
            if i >= hi:
                break
        b = buf[i]
        if b < 0x80:
            if b == 0:
                nul = True
            i += 1
        else:
            cp, n = decode(buf, i, hi)
            if cp < 0:
                if bad < 0:
                    bad = i
                i += 1
            else:
                i += n
    return nul, bad


@jitable
def check_file(f, buf, words, wshift, file_offsets, max_file_bytes, status, utf8_err):
    """Set file f's status and UTF-8 error; whether it is to be lexed."""
    lo = file_offsets[f]
    hi = file_offsets[f + 1]
    utf8_err[f] = -1
    if hi - lo > max_file_bytes:
        status[f] = ST_TOO_LARGE
        return False
    nul, bad = validate_file(buf, words, wshift, lo, hi)
    utf8_err[f] = bad
    if nul:
        status[f] = ST_BINARY
        return False
    status[f] = ST_OK
    return True


@njit(parallel=True, cache=True, nogil=True, _nrt=False)
def _cpu_lex_to_scratch(buf, words, wshift, file_offsets, max_file_bytes, xid, ascii_kind,
                        kw_slots, kw_text, kw_mul, fed, counts, status, utf8_err, file_row,
                        n_threads, cursor, thread_rows, s_code, s_len, dummy_u8,
                        dummy_i32):  # fmt: skip
    """Pass 1. Thread t appends at cursor[t * CURSOR_STRIDE] (initially t * thread_rows) while
    a file's size (its row bound: a token is at least one byte) fits in its thread_rows."""
    for f in prange(len(file_offsets) - 1):
        counts[f] = 0
        file_row[f] = -1
        if not check_file(f, buf, words, wshift, file_offsets, max_file_bytes, status, utf8_err):
            continue
        lo = file_offsets[f]
        hi = file_offsets[f + 1]
        t = get_thread_id()
        row = cursor[t * CURSOR_STRIDE] if t < n_threads else 0
        if t < n_threads and row + (hi - lo) <= (t + 1) * thread_rows:
            c, fits = scratch_file(buf, lo, hi, xid, ascii_kind, kw_slots, kw_text, kw_mul,
                                   fed[f], s_code, s_len, row)  # fmt: skip
            if fits:
                file_row[f] = row
                cursor[t * CURSOR_STRIDE] = row + c
        else:
            c, _ = lex_span(buf, lo, hi, lo, hi, xid, ascii_kind, kw_slots, kw_text, kw_mul,
                            MODE_COUNT, dummy_u8, dummy_u8, dummy_i32, dummy_i32, dummy_u8, 0,
                            NO_LIMIT, fed[f])  # fmt: skip
        counts[f] = c


@njit(parallel=True, cache=True, nogil=True, _nrt=False)
def _cpu_scratch_to_rows(buf, file_offsets, xid, ascii_kind, kw_slots, kw_text, kw_mul, fed,
                         status, file_row, token_offsets, s_code, s_len, code_kind,
                         code_keyword, out_kind, out_start, out_end, out_kw,
                         dummy_u8):  # fmt: skip
    """Pass 2: every OK file's final rows, from its scratch rows or lexed again."""
    for f in prange(len(file_offsets) - 1):
        if status[f] != ST_OK:
            continue
        lo = file_offsets[f]
        hi = file_offsets[f + 1]
        o = token_offsets[f]
        r = file_row[f]
        if r < 0:
            lex_span(buf, lo, hi, lo, hi, xid, ascii_kind, kw_slots, kw_text, kw_mul,
                     MODE_WRITE, dummy_u8, out_kind, out_start, out_end, out_kw, o, NO_LIMIT,
                     fed[f])  # fmt: skip
            continue
        p = lo
        for j in range(token_offsets[f + 1] - o):
            v = s_code[r + j]
            out_kind[o + j] = code_kind[v]
            out_kw[o + j] = code_keyword[v]
            out_start[o + j] = p
            p += s_len[r + j]
            out_end[o + j] = p


@jitable
def lex_file_once(f, buf, words, wshift, file_offsets, max_file_bytes, xid, ascii_kind, kw_slots,
                  kw_text, kw_mul, fed, counts, status, utf8_err, out_kind, out_start, out_end,
                  out_kw, base, dummy_u8):  # fmt: skip
    """Status, UTF-8 error and tokens of file f, written at rows base, base + 1, ..."""
    counts[f] = 0
    if check_file(f, buf, words, wshift, file_offsets, max_file_bytes, status, utf8_err):
        lo = file_offsets[f]
        hi = file_offsets[f + 1]
        c, _ = lex_span(buf, lo, hi, lo, hi, xid, ascii_kind, kw_slots, kw_text, kw_mul,
                        MODE_WRITE, dummy_u8, out_kind, out_start, out_end, out_kw, base,
                        NO_LIMIT, fed[f])  # fmt: skip
        counts[f] = c


@njit(cache=True, nogil=True, _nrt=False)
def _cpu_lex_files_serial(buf, words, wshift, file_offsets, max_file_bytes, xid, ascii_kind,
                          kw_slots, kw_text, kw_mul, fed, counts, status, utf8_err, out_kind,
                          out_start, out_end, out_kw, dummy_u8):  # fmt: skip
    """One pass without the thread pool, straight into the output rows: the single-file (save)
    path, where waking pool threads cost more than the work and a descheduled one set the tail
    latency. Row capacity: the bytes of the files below ``max_file_bytes``."""
    base = 0
    for f in range(len(file_offsets) - 1):
        lex_file_once(f, buf, words, wshift, file_offsets, max_file_bytes, xid, ascii_kind,
                      kw_slots, kw_text, kw_mul, fed, counts, status, utf8_err, out_kind,
                      out_start, out_end, out_kw, base, dummy_u8)  # fmt: skip
        base += counts[f]


# ---------------------------------------------------------------------------------------------
# Chunked algorithm: per-index bodies shared with CUDA, CPU drivers below


@jitable
def chunk_speculate(k, buf, file_offsets, fed, chunk_start, chunk_end, chunk_file, max_file_bytes,
                    xid, ascii_kind, kw_slots, kw_text, kw_mul, mark, chunk_exit, chunk_nul,
                    chunk_bad, dummy_u8, dummy_i32):  # fmt: skip
    """Phase 1, chunk k: validate its bytes; lex speculatively, marking token starts.

    The speculative run starts at the chunk's first newline, not its first byte: a newline is
    almost always a true boundary or inside whitespace (after a line comment it starts a
    token), whereas a byte in the middle of a line is often inside a string or char literal,
    and a run started there can stay inverted (``", "`` lexed as the strings) for the whole
    chunk. Measured on the corpus (H100): the per-file sync pass fell from ~18 ms, where it
    relexed such chunks serially, to (see bench/results). Bytes before the newline are lexed
    by the sync pass from the previous chunk's exit.
    """
    f = chunk_file[k]
    ed = fed[f]
    lo = file_offsets[f]
    hi = file_offsets[f + 1]
    s = chunk_start[k]
    e = chunk_end[k]
    nul, bad = validate(buf, lo, hi, s, e)
    chunk_nul[k] = 1 if nul else 0
    chunk_bad[k] = bad
    if hi - lo > max_file_bytes:
        chunk_exit[k] = hi
        return
    if s != lo:
        q = s
        while q < e and buf[q] != 10:
            q += 1
        if q < e:
            s = q
    _, x = lex_span(buf, lo, hi, s, e, xid, ascii_kind, kw_slots, kw_text, kw_mul, MODE_MARK,
                    mark, dummy_u8, dummy_i32, dummy_i32, dummy_u8, 0, NO_LIMIT, ed)  # fmt: skip
    chunk_exit[k] = x


@jitable
def chunk_agree(k, buf, file_offsets, fed, file_chunks, chunk_end, chunk_file, xid, ascii_kind,
                mark, mark_prefix, chunk_exit, chunk_entry, counts, disagree, entry_exit,
                chunk_meet):  # fmt: skip
    """Phase 2a, chunk k, in parallel: assuming the previous chunk's speculative exit is the
    true entry, relex from it until the run meets one of this chunk's speculative starts
    (a mark): then this chunk's true tokens and exit follow. A chunk whose run leaves it
    without meeting a mark disagrees; files with a disagreeing chunk are walked in phase 2b.
    (If no chunk of a file disagrees, every assumption holds, by induction from the first.)

    Counting needs no lexing pass of its own: from the meeting point on, the chunk's tokens
    are the speculative ones, and their number is a difference of ``mark_prefix`` (the prefix
    sum of ``mark``). The relexed stretch is short: speculation starts at the chunk's first
    newline, so it is the rest of the line the previous chunk ended in.

    Either way the chunk's true count and exit *if entered at* ``chunk_entry[k]`` are known
    here (``counts[k]``, ``entry_exit[k]``; -1: unknown, the file's prologue), and so is where
    the true run meets the speculative one (``chunk_meet[k]``, -1: never in this chunk; the
    write pass relexes only up to there and copies the marks after it). Phase 2b's
    serial walk takes them whenever its true entry is that one, so it relexes only chunks
    entered elsewhere, for a line or so each (a lone GPU thread lexes slowly: relexing the
    disagreeing chunks whole was the 3.5-3.9 ms critical path of the sync stage on the H200).
    """
    f = chunk_file[k]
    ed = fed[f]
    hi = file_offsets[f + 1]
    e = chunk_end[k]
    t = file_offsets[f] if k == file_chunks[f] else chunk_exit[k - 1]
    chunk_entry[k] = t
    disagree[k] = 1
    counts[k] = 0
    entry_exit[k] = t  # no token starts in the chunk: the boundary passes through
    chunk_meet[k] = -1
    if t >= e:
        return
    if mark[t] != 0:
        counts[k] = mark_prefix[e] - mark_prefix[t]
        disagree[k] = 0
        entry_exit[k] = chunk_exit[k]
        chunk_meet[k] = t
        return
    entry_exit[k] = -1
    if k == file_chunks[f]:
        return  # the file's start: the prologue is not relexed here (phase 2b handles it)
    p = t
    c = 0
    while p < e:
        _, p = next_token(buf, p, hi, xid, ascii_kind, ed)
        c += 1
        if p < e and mark[p] != 0:
            counts[k] = c + mark_prefix[e] - mark_prefix[p]
            disagree[k] = 0
            entry_exit[k] = chunk_exit[k]
            chunk_meet[k] = p
            return
    counts[k] = c
    entry_exit[k] = p


@jitable
def file_sync(f, buf, file_offsets, fed, file_chunks, chunk_start, chunk_end, max_file_bytes, xid,
              ascii_kind, mark, mark_prefix, chunk_exit, nul_prefix, chunk_bad, bad_prefix,
              chunk_entry, entry_exit, counts, disagree_prefix, status, utf8_err,
              chunk_meet):  # fmt: skip
    """Phase 2b, file f: file status; where some chunk disagreed (phase 2a), a serial walk over
    the file's chunks that carries the true boundary and fixes entries and counts.

    A full serial walk was the critical path on the H100 (12 ms: the biggest file has 2,500
    chunks); now only the stretches after a disagreeing chunk are walked. The file's NUL and
    first UTF-8 error come from prefix sums over its chunks (``nul_prefix``: chunks holding a
    NUL; ``bad_prefix``: chunks with an error), not from a loop over them: that loop alone was
    the stage's critical path (the biggest file's 2,515 chunks, one thread).
    """
    lo = file_offsets[f]
    hi = file_offsets[f + 1]
    ed = fed[f]
    c0 = file_chunks[f]
    c1 = file_chunks[f + 1]
    nul = nul_prefix[c1] != nul_prefix[c0]
    first_bad = next_disagreement(bad_prefix, c0, c1)  # the first chunk with an error, or c1
    utf8_err[f] = chunk_bad[first_bad] if first_bad < c1 else -1
    if hi - lo > max_file_bytes:
        status[f] = ST_TOO_LARGE
    elif nul:
        status[f] = ST_BINARY
    else:
        status[f] = ST_OK
    if status[f] != ST_OK:
        for k in range(c0, c1):
            chunk_entry[k] = chunk_end[k]  # nothing to lex
            counts[k] = 0
        return
    if disagree_prefix[c1] == disagree_prefix[c0]:
        return  # phase 2a's entries and counts stand
    # Walk from the first disagreeing chunk; whenever the true exit equals the speculative one
    # again, phase 2a's entries are true up to the next disagreeing chunk: jump there.
    k = next_disagreement(disagree_prefix, c0, c1)
    t = file_offsets[f] if k == c0 else chunk_exit[k - 1]
    while k < c1:
        e = chunk_end[k]
        if t == chunk_entry[k] and entry_exit[k] >= 0:
            t = entry_exit[k]  # entered where phase 2a assumed: its count, exit, meet stand
        elif t >= e:
            chunk_entry[k] = t
            counts[k] = 0
            chunk_meet[k] = -1
        elif mark[t] != 0:
            chunk_entry[k] = t
            counts[k] = mark_prefix[e] - mark_prefix[t]
            chunk_meet[k] = t
            t = chunk_exit[k]
        else:
            chunk_entry[k] = t
            p = t
            c = 0
            synced = False
            while p < e:
                _, p = next_token(buf, p, hi, xid, ascii_kind, ed)
                c += 1
                if p < e and mark[p] != 0:
                    synced = True
                    break
            if synced:
                counts[k] = c + mark_prefix[e] - mark_prefix[p]
                chunk_meet[k] = p
                t = chunk_exit[k]
            else:
                counts[k] = c
                chunk_meet[k] = -1
                t = p
        if t == chunk_exit[k]:
            k = next_disagreement(disagree_prefix, k + 1, c1)
            if k < c1:
                t = chunk_exit[k - 1]
        else:
            k += 1


@jitable
def next_disagreement(disagree_prefix, k, c1):
    """The first chunk index in [k, c1) whose phase-2a check failed, or c1 (binary search on
    the prefix sum: O(log n) loads instead of a serial scan). Any per-chunk flag's prefix sum
    works: ``file_sync`` also finds a file's first chunk with a UTF-8 error this way."""
    target = disagree_prefix[k]
    if disagree_prefix[c1] == target:
        return c1
    lo = k
    hi = c1 - 1
    while lo < hi:  # smallest j with disagree_prefix[j + 1] > target
        mid = (lo + hi) // 2
        if disagree_prefix[mid + 1] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@jitable
def chunk_write_relexed(k, buf, file_offsets, fed, chunk_end, chunk_file, chunk_entry, chunk_meet,
                        xid, ascii_kind, kw_slots, kw_text, kw_mul, out_kind, out_start, out_end,
                        out_kw, chunk_token_offsets, dummy_u8):  # fmt: skip
    """Phase 4a, chunk k: its tokens from its true entry up to the meeting point (all of them
    if the true run never met the speculative one here), lexed into its first rows."""
    t = chunk_entry[k]
    e = chunk_end[k]
    if t >= e:
        return
    f = chunk_file[k]
    m = chunk_meet[k]
    until = e if m < 0 else m
    lex_span(buf, file_offsets[f], file_offsets[f + 1], t, until, xid, ascii_kind, kw_slots,
             kw_text, kw_mul, MODE_WRITE, dummy_u8, out_kind, out_start, out_end, out_kw,
             chunk_token_offsets[k], NO_LIMIT, fed[f])  # fmt: skip


@jitable
def chunk_write_mark(b, k, chunk_end, chunk_exit, chunk_meet, mark, mark_prefix, counts,
                     chunk_token_offsets, code_kind, code_keyword, out_kind, out_start, out_end,
                     out_kw):  # fmt: skip
    """Phase 4b, byte b of chunk k in [meeting point, chunk end): a speculative token that
    starts here is a true one (from the meeting point on, the two runs are the same run), so
    its row is copied from its mark, no lexing. Its end is the next token's start: written by
    the next mark's byte, or, for the chunk's last token, the speculative exit."""
    v = mark[b]
    if v == 0:
        return
    m = chunk_meet[k]
    last = chunk_token_offsets[k] + counts[k] - 1
    first = last + 1 - (mark_prefix[chunk_end[k]] - mark_prefix[m])  # the first copied row
    r = first + mark_prefix[b] - mark_prefix[m]
    out_kind[r] = code_kind[v]
    out_kw[r] = code_keyword[v]
    out_start[r] = b
    if r > first:
        out_end[r - 1] = b
    if r == last:
        out_end[r] = chunk_exit[k]


@njit(parallel=True, cache=True, nogil=True, _nrt=False)
def _cpu_chunk_speculate(buf, file_offsets, fed, chunk_start, chunk_end, chunk_file, max_file_bytes,
                         xid, ascii_kind, kw_slots, kw_text, kw_mul, mark, chunk_exit, chunk_nul,
                         chunk_bad, dummy_u8, dummy_i32):  # fmt: skip
    for k in prange(len(chunk_start)):
        chunk_speculate(k, buf, file_offsets, fed, chunk_start, chunk_end, chunk_file,
                        max_file_bytes, xid, ascii_kind, kw_slots, kw_text, kw_mul, mark,
                        chunk_exit, chunk_nul, chunk_bad, dummy_u8, dummy_i32)  # fmt: skip


@njit(parallel=True, cache=True, nogil=True, _nrt=False)
def _cpu_chunk_agree(buf, file_offsets, fed, file_chunks, chunk_end, chunk_file, xid, ascii_kind,
                     mark, mark_prefix, chunk_exit, chunk_entry, counts, disagree, entry_exit,
                     chunk_meet):  # fmt: skip
    for k in prange(len(chunk_end)):
        chunk_agree(k, buf, file_offsets, fed, file_chunks, chunk_end, chunk_file, xid, ascii_kind,
                    mark, mark_prefix, chunk_exit, chunk_entry, counts, disagree, entry_exit,
                    chunk_meet)  # fmt: skip


@njit(parallel=True, cache=True, nogil=True, _nrt=False)
def _cpu_file_sync(buf, file_offsets, fed, file_chunks, chunk_start, chunk_end, max_file_bytes, xid,
                   ascii_kind, mark, mark_prefix, chunk_exit, nul_prefix, chunk_bad, bad_prefix,
                   chunk_entry, entry_exit, counts, disagree_prefix, status, utf8_err,
                   chunk_meet):  # fmt: skip
    for f in prange(len(file_offsets) - 1):
        file_sync(f, buf, file_offsets, fed, file_chunks, chunk_start, chunk_end, max_file_bytes,
                  xid, ascii_kind, mark, mark_prefix, chunk_exit, nul_prefix, chunk_bad,
                  bad_prefix, chunk_entry, entry_exit, counts, disagree_prefix, status,
                  utf8_err, chunk_meet)  # fmt: skip


@njit(parallel=True, cache=True, nogil=True, _nrt=False)
def _cpu_chunk_write(buf, file_offsets, fed, chunk_end, chunk_file, chunk_entry, chunk_meet,
                     chunk_exit, xid, ascii_kind, kw_slots, kw_text, kw_mul, mark, mark_prefix,
                     counts, chunk_token_offsets, code_kind, code_keyword, out_kind, out_start,
                     out_end, out_kw, dummy_u8):  # fmt: skip
    for k in prange(len(chunk_end)):
        chunk_write_relexed(k, buf, file_offsets, fed, chunk_end, chunk_file, chunk_entry,
                            chunk_meet, xid, ascii_kind, kw_slots, kw_text, kw_mul, out_kind,
                            out_start, out_end, out_kw, chunk_token_offsets, dummy_u8)  # fmt: skip
        m = chunk_meet[k]
        if chunk_entry[k] < chunk_end[k] and m >= 0:
            for b in range(m, chunk_end[k]):
                chunk_write_mark(b, k, chunk_end, chunk_exit, chunk_meet, mark, mark_prefix,
                                 counts, chunk_token_offsets, code_kind, code_keyword, out_kind,
                                 out_start, out_end, out_kw)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Host side


DEFAULT_CHUNK_BYTES = 1024  # best of 512..8192 on the H100 (bench stage sweep)
# Stand-ins for the output arrays a mode does not write (kernels cannot allocate without NRT).
U8 = np.zeros(1, dtype=np.uint8)
I32 = np.zeros(1, dtype=np.int32)


def make_chunks(
    file_offsets: npt.NDArray[np.int64], chunk_bytes: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]
]:
    """Cut every file into chunks of at most ``chunk_bytes`` (empty files get none).

    Returns (file_chunks[n_files + 1], chunk_start, chunk_end, chunk_file). Chunks are at
    least 4 bytes: a file's prologue (BOM, then a shebang starting at byte 3 at most) must
    start inside its first chunk, the only one that lexes from the file's start.
    """
    chunk_bytes = max(int(chunk_bytes), 4)
    sizes = np.diff(file_offsets)
    per_file = (sizes + chunk_bytes - 1) // chunk_bytes
    file_chunks = np.zeros(len(file_offsets), dtype=np.int64)
    np.cumsum(per_file, out=file_chunks[1:])
    n_chunks = int(file_chunks[-1])
    chunk_file = np.repeat(np.arange(len(sizes), dtype=np.int32), per_file)
    index_in_file = np.arange(n_chunks, dtype=np.int64) - file_chunks[:-1][chunk_file]
    chunk_start = file_offsets[:-1][chunk_file] + index_in_file * chunk_bytes
    chunk_end = np.minimum(chunk_start + chunk_bytes, file_offsets[1:][chunk_file])
    return file_chunks, chunk_start, chunk_end, chunk_file


def chunk_flag_prefixes(xp: Any, chunk_nul: Any, chunk_bad: Any) -> tuple[Any, Any]:
    """Exclusive prefix sums (n_chunks + 1, int32) of the chunks holding a NUL and of those
    with a UTF-8 error, for ``file_sync`` (NumPy or CuPy arrays, by ``xp``)."""
    n = len(chunk_nul)
    nul_prefix = xp.zeros(n + 1, dtype=np.int32)
    bad_prefix = xp.zeros(n + 1, dtype=np.int32)
    if n:
        xp.cumsum(chunk_nul, dtype=np.int32, out=nul_prefix[1:])
        xp.cumsum(chunk_bad >= 0, dtype=np.int32, out=bad_prefix[1:])
    return nul_prefix, bad_prefix


def _token_arrays(
    n_tokens: int,
) -> tuple[
    npt.NDArray[np.uint8], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.uint8]
]:
    return (
        np.empty(n_tokens, dtype=np.uint8),
        np.empty(n_tokens, dtype=np.int32),
        np.empty(n_tokens, dtype=np.int32),
        np.empty(n_tokens, dtype=np.uint8),
    )


def _row_capacity(file_offsets: npt.NDArray[np.int64], max_file_bytes: int) -> Any:
    """Exclusive prefix sum of the files' row capacities (n_files + 1 entries): a file's size,
    or 0 for one over ``max_file_bytes`` (never lexed)."""
    sizes = np.diff(file_offsets)
    cap = np.zeros(len(file_offsets), dtype=np.int64)
    np.cumsum(np.where(sizes <= max_file_bytes, sizes, 0), out=cap[1:])
    return cap


def as_words(buffer: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint64], int]:
    """``buffer`` from its first 8-byte aligned byte on, as uint64 words, and that byte's index
    (for ``validate_file``)."""
    shift = -buffer.ctypes.data % 8
    usable = max(len(buffer) - shift, 0) // 8 * 8
    return buffer[shift : shift + usable].view(np.uint64), shift


def _shrink(n: int, *arrays: Any) -> tuple[Any, ...]:
    """``arrays`` cut to their first ``n`` rows in place (realloc: no copy, the tail freed)."""
    for a in arrays:
        a.resize(n, refcheck=False)
    return arrays


def _lex_files(
    buffer: npt.NDArray[np.uint8],
    file_offsets: npt.NDArray[np.int64],
    max_file_bytes: int,
    fed: Any,
    status: Any,
    utf8_err: Any,
    file_token_offsets: Any,
    thread_rows: int | None = None,
) -> tuple[Any, ...]:
    """The parallel per-file path: see "CPU kernels" above. ``thread_rows`` (tests): each
    thread's scratch rows, by default an even share of the row bound plus the largest file's
    (the scratch is virtual memory; only its written rows fault in)."""
    n_files = len(file_offsets) - 1
    n_threads = numba.get_num_threads()
    if thread_rows is None:
        sizes = np.diff(file_offsets)
        ok_sizes = np.where(sizes <= max_file_bytes, sizes, 0)
        share = -(-int(ok_sizes.sum()) // n_threads)
        thread_rows = share + min(int(ok_sizes.max(initial=0)), share)
    s_code = np.empty(n_threads * thread_rows, dtype=np.uint8)
    s_len = np.empty(n_threads * thread_rows, dtype=np.uint16)
    cursor = np.arange(n_threads, dtype=np.int64).repeat(CURSOR_STRIDE) * thread_rows
    counts = np.empty(n_files, dtype=np.int64)
    file_row = np.empty(n_files, dtype=np.int64)
    tables = (XID_TABLE, ASCII_TABLE, KW_SLOTS, KW_TEXT, KW_MUL)
    with numba.parallel_chunksize(4):  # dynamic scheduling: file sizes vary 1000x
        _cpu_lex_to_scratch(buffer, *as_words(buffer), file_offsets, max_file_bytes, *tables,
                            fed, counts, status, utf8_err, file_row, n_threads, cursor,
                            thread_rows, s_code, s_len, U8, I32)  # fmt: skip
        np.cumsum(counts, out=file_token_offsets[1:])
        arrays = _token_arrays(int(file_token_offsets[-1]))
        _cpu_scratch_to_rows(buffer, file_offsets, *tables, fed, status, file_row,
                             file_token_offsets, s_code, s_len, CODE_KIND, CODE_KEYWORD,
                             *arrays, U8)  # fmt: skip
    return arrays


def lex_cpu(
    buffer: npt.NDArray[np.uint8],
    file_offsets: npt.NDArray[np.int64],
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    chunked: bool = False,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    editions: Any = None,
) -> TokenArrays:
    """Lex every file of ``buffer`` on the CPU (numba, parallel). See rustg.gpu.tokens.

    ``editions``: one :class:`~rustg.gpu.tokens.Edition` for all files, or one per file
    (default 2021); see :func:`~rustg.gpu.tokens.edition_array`.
    """
    file_offsets = np.ascontiguousarray(file_offsets, dtype=np.int64)
    check_buffer(buffer, file_offsets)
    buffer = np.ascontiguousarray(buffer)
    n_files = len(file_offsets) - 1
    fed = edition_array(editions, n_files)
    status = np.empty(n_files, dtype=np.uint8)
    utf8_err = np.empty(n_files, dtype=np.int32)
    tables = (XID_TABLE, ASCII_TABLE, KW_SLOTS, KW_TEXT, KW_MUL)
    file_token_offsets = np.zeros(n_files + 1, dtype=np.int64)
    if not chunked and n_files <= 1:
        counts = np.empty(n_files, dtype=np.int64)
        kind, start, end, kw = _token_arrays(int(_row_capacity(file_offsets, max_file_bytes)[-1]))
        _cpu_lex_files_serial(buffer, *as_words(buffer), file_offsets, max_file_bytes, *tables,
                              fed, counts, status, utf8_err, kind, start, end, kw,
                              U8)  # fmt: skip
        np.cumsum(counts, out=file_token_offsets[1:])
        kind, start, end, kw = _shrink(int(file_token_offsets[-1]), kind, start, end, kw)
    elif not chunked:
        kind, start, end, kw = _lex_files(buffer, file_offsets, max_file_bytes, fed, status,
                                           utf8_err, file_token_offsets)  # fmt: skip
    else:
        file_chunks, c_start, c_end, c_file = make_chunks(file_offsets, chunk_bytes)
        n_chunks = len(c_start)
        mark = np.zeros(len(buffer) + 1, dtype=np.uint8)
        c_exit = np.empty(n_chunks, dtype=np.int64)
        c_nul = np.empty(n_chunks, dtype=np.uint8)
        c_bad = np.empty(n_chunks, dtype=np.int64)
        c_entry = np.empty(n_chunks, dtype=np.int64)
        _cpu_chunk_speculate(buffer, file_offsets, fed, c_start, c_end, c_file, max_file_bytes,
                             *tables, mark, c_exit, c_nul, c_bad, U8, I32)  # fmt: skip
        mark_prefix = np.zeros(len(mark) + 1, dtype=np.int32)
        np.cumsum(mark != 0, dtype=np.int32, out=mark_prefix[1:])
        counts = np.empty(n_chunks, dtype=np.int64)
        disagree = np.empty(n_chunks, dtype=np.uint8)
        entry_exit = np.empty(n_chunks, dtype=np.int64)
        c_meet = np.empty(n_chunks, dtype=np.int64)
        _cpu_chunk_agree(buffer, file_offsets, fed, file_chunks, c_end, c_file, XID_TABLE,
                         ASCII_TABLE, mark, mark_prefix, c_exit, c_entry, counts, disagree,
                         entry_exit, c_meet)  # fmt: skip
        disagree_prefix = np.zeros(n_chunks + 1, dtype=np.int32)
        np.cumsum(disagree, dtype=np.int32, out=disagree_prefix[1:])
        nul_prefix, bad_prefix = chunk_flag_prefixes(np, c_nul, c_bad)
        _cpu_file_sync(buffer, file_offsets, fed, file_chunks, c_start, c_end, max_file_bytes,
                       XID_TABLE, ASCII_TABLE, mark, mark_prefix, c_exit, nul_prefix, c_bad,
                       bad_prefix, c_entry, entry_exit, counts, disagree_prefix, status,
                       utf8_err, c_meet)  # fmt: skip
        chunk_token_offsets = np.zeros(n_chunks + 1, dtype=np.int64)
        np.cumsum(counts, out=chunk_token_offsets[1:])
        kind, start, end, kw = _token_arrays(int(chunk_token_offsets[-1]))
        _cpu_chunk_write(buffer, file_offsets, fed, c_end, c_file, c_entry, c_meet, c_exit,
                         *tables, mark, mark_prefix, counts, chunk_token_offsets, CODE_KIND,
                         CODE_KEYWORD, kind, start, end, kw, U8)  # fmt: skip
        file_token_offsets[:] = chunk_token_offsets[file_chunks]
    return TokenArrays(
        buffer=buffer,
        file_offsets=file_offsets,
        kind=kind,
        start=start,
        end=end,
        keyword=kw,
        file_token_offsets=file_token_offsets,
        file_status=status,
        file_utf8_error=utf8_err,
    )
