"""The token array format: what the lexer produces and everything downstream reads.

Layout
======
Many source files are lexed together. Their bytes lie in ONE ``uint8`` buffer, file ``f``
occupying ``buffer[file_offsets[f]:file_offsets[f + 1]]`` (``file_offsets``: ``int64``,
``n_files + 1`` entries, non-decreasing, ``file_offsets[0] == 0``). The lexer returns a
:class:`TokenArrays`, a structure of arrays with one row per token:

==============  =========  ==================================================================
array           dtype      meaning
==============  =========  ==================================================================
``kind``        ``uint8``  a :class:`TokenKind`
``start``       ``int32``  first byte of the token, an ABSOLUTE offset into ``buffer``
``end``         ``int32``  one past its last byte (absolute); ``start < end`` always
``keyword``     ``uint8``  a :class:`Keyword` for ``IDENT`` tokens, ``Keyword.NONE`` otherwise
==============  =========  ==================================================================

and per-file arrays (``n_files`` or ``n_files + 1`` rows):

=======================  =========  =========================================================
``file_offsets``         ``int64``  byte ranges of the files in ``buffer`` (the input)
``file_token_offsets``   ``int64``  tokens of file ``f`` are rows
                                    ``file_token_offsets[f]:file_token_offsets[f + 1]``
``file_status``          ``uint8``  a :class:`FileStatus`; files not ``OK`` have no tokens
``file_utf8_error``      ``int32``  absolute offset of the file's first byte that is not
                                    valid UTF-8, or ``-1``
=======================  =========  =========================================================

Offsets are ``int32`` to halve memory traffic (measured: tokens dominate the engine's memory);
a lexed buffer is therefore limited to ``2**31 - 1`` bytes, and :func:`check_buffer` raises
:class:`BufferTooLarge` beyond that. Files are further limited to ``MAX_FILE_BYTES``
(default 8 MiB, overridable per call): bigger ones get ``FileStatus.TOO_LARGE``; files holding
a NUL byte are ``FileStatus.BINARY`` (no Rust source contains one: rustc rejects it). Both are
reported, not lexed, so a stray core dump in ``src/`` never stalls the engine.

Within an ``OK`` file, tokens are contiguous and cover it exactly: the first starts at the file's
first byte, each starts where the previous one ended, the last ends at the file's end. Nothing is
dropped: whitespace and comments are tokens, and so is every malformed piece of input (an
``ERR_*`` kind). Hence ``text == b"".join(token texts)`` for every file, which tests check.

Token boundaries follow rustc's own lexer (``rustc_lexer``, Rust 2021) exactly
-------------------------------------------------------------------------------
(Per file, in that file's :class:`Edition`: 2021 unless the caller says otherwise; what 2015 and
2018 lex differently is listed in :class:`Edition` and docs/engine.md.)

* **Punctuation is one token per character**, as ``rustc_lexer`` emits it and as
  ``proc_macro2::Punct`` reports it: ``->`` is ``MINUS`` then ``GT``. Multi-character operators
  are glued later by whoever needs them; :func:`joint` gives proc-macro2's ``Spacing::Joint``
  (this punct is immediately followed by another punct), which is all a glue step needs.
* **Keywords are identifiers.** ``kind`` is ``IDENT`` for ``fn`` as for ``foo`` (so are ``_``,
  ``self`` and ``Self``), exactly like ``rustc_lexer`` and ``proc_macro2::Ident``; ``keyword``
  says which keyword an ``IDENT`` spells (strict, reserved and the weak ``union``,
  ``macro_rules``, ``auto``, ``default``, ``safe``, ``raw``, ``'static`` excluded). A raw
  identifier ``r#fn`` is ``RAW_IDENT`` with ``Keyword.NONE``: it is never a keyword.
* **Identifiers** are Unicode ``XID_Start``/``_`` followed by ``XID_Continue`` (UAX #31), using
  the tables of Python's ``unicodedata`` (Unicode 14 in Python 3.11), frozen in ``_xid.py``.
  Raw identifiers ``r#name``. Identifiers are not NFC-normalised (rustc normalises for name
  resolution only; token text is the source text).
* **Lifetimes and labels** ``'a``/``'static``/``'_`` are ``LIFETIME`` (quote included);
  ``'r#a`` is ``RAW_LIFETIME``. ``'a'`` is a ``CHAR``; the disambiguation is rustc's
  (``lifetime_or_char``). ``'0a`` is ``ERR_INVALID_LIFETIME``.
* **Literals** include their suffix (``1u8``, ``"x"suffix``). Numbers follow rustc: ``1.`` is a
  ``FLOAT``; ``1..2`` is ``INT DOT DOT INT``; ``1.foo()`` and ``1._x`` are ``INT DOT IDENT``;
  ``0x1e3`` is an ``INT``; ``1e`` is ``ERR_EMPTY_EXPONENT``; ``0x``/``0b``/``0o`` with no digit
  is ``ERR_EMPTY_INT``. Digits invalid for the base (``0b12``) stay inside the token, as in
  rustc (reported by rustc's parser, not its lexer). C strings ``c"…"``/``cr#"…"#`` and raw
  strings with 0 to 255 ``#``.
* **Comments**: ``//`` and ``/* */`` (nested) are ``LINE_COMMENT``/``BLOCK_COMMENT``; doc
  comments ``///`` ``//!`` ``/** */`` ``/*! */`` have their own kinds (``////`` and ``/***`` and
  ``/**/`` are plain comments, as in rustc). A line comment ends before its ``\\n``.
* **Whitespace** is rustc's ``Pattern_White_Space``: ``\\t \\n \\v \\f \\r`` space, U+0085,
  U+200E, U+200F, U+2028, U+2029; each maximal run is one ``WHITESPACE`` token.
* **Shebang**: ``#!`` at byte 0 of a file, unless the next token that is not whitespace or a
  plain comment is ``[`` (then it is an inner attribute); it runs to the end of the line
  (``\\r\\n`` and ``\\n`` excluded). A UTF-8 byte order mark at byte 0 is a ``BOM`` token.
* **Errors** have exact byte spans: an unterminated string runs to the end of the file (as in
  rustc); an unterminated char literal stops before the ``/`` or newline where rustc gives up;
  ``ERR_STRAY`` is one character that starts no token (`` ` ``, ``\\``, ``€``…);
  ``ERR_INVALID_UTF8`` is a maximal run of bytes that do not decode; ``ERR_UNKNOWN_PREFIX`` is
  the identifier in front of ``#``/``"``/``'`` that Rust 2021 reserves (``k#x``, ``f"x"``);
  ``ERR_INVALID_RAW_STR`` covers ``r##`` plus the bad character after it, or a raw string with
  more than 255 ``#``. Invalid UTF-8 *inside* a comment or literal does not split that token: the
  file's first such byte is in ``file_utf8_error``.

Positions
---------
:func:`line_columns` turns byte offsets into rustc's/protocol's positions: 1-based lines
(only ``\\n`` ends a line) and 1-based columns counting Unicode scalar values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rustg.gpu.errors import BufferTooLarge, EngineInputError

__all__ = [
    "DEFAULT_EDITION",
    "DEFAULT_MAX_FILE_BYTES",
    "MAX_BUFFER_BYTES",
    "BufferTooLarge",
    "Edition",
    "FileStatus",
    "Keyword",
    "TokenArrays",
    "TokenKind",
    "check_buffer",
    "edition_array",
    "file_status_of",
    "is_comment",
    "is_error",
    "is_literal",
    "is_punct",
    "is_trivia",
    "joint",
    "line_columns",
    "token_line_columns",
]

#: Files bigger than this are reported (``FileStatus.TOO_LARGE``), not lexed.
DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024
#: ``start``/``end`` are int32.
MAX_BUFFER_BYTES = 2**31 - 1


class TokenKind(enum.IntEnum):
    """What a token is; stored as ``uint8``. Values are grouped so ranges classify."""

    # -- trivia (0..15): never seen by proc-macro2 / rustc's parser
    WHITESPACE = 0
    LINE_COMMENT = 1
    BLOCK_COMMENT = 2
    OUTER_LINE_DOC = 3  # /// ...
    INNER_LINE_DOC = 4  # //! ...
    OUTER_BLOCK_DOC = 5  # /** ... */
    INNER_BLOCK_DOC = 6  # /*! ... */
    SHEBANG = 7
    BOM = 8
    # -- identifiers (16..19)
    IDENT = 16
    RAW_IDENT = 17
    LIFETIME = 18
    RAW_LIFETIME = 19
    # -- literals (32..47)
    INT = 32
    FLOAT = 33
    CHAR = 34
    BYTE = 35
    STR = 36
    BYTE_STR = 37
    C_STR = 38
    RAW_STR = 39
    RAW_BYTE_STR = 40
    RAW_C_STR = 41
    # -- delimiters (48..53): open = even, close = open + 1
    OPEN_PAREN = 48
    CLOSE_PAREN = 49
    OPEN_BRACKET = 50
    CLOSE_BRACKET = 51
    OPEN_BRACE = 52
    CLOSE_BRACE = 53
    # -- single-character punctuation (64..84), as rustc_lexer splits it
    SEMI = 64  # ;
    COMMA = 65  # ,
    DOT = 66  # .
    AT = 67  # @
    POUND = 68  # #
    TILDE = 69  # ~
    QUESTION = 70  # ?
    COLON = 71  # :
    DOLLAR = 72  # $
    EQ = 73  # =
    BANG = 74  # !
    LT = 75  # <
    GT = 76  # >
    MINUS = 77  # -
    AND = 78  # &
    OR = 79  # |
    PLUS = 80  # +
    STAR = 81  # *
    SLASH = 82  # /
    CARET = 83  # ^
    PERCENT = 84  # %
    # -- errors (128..): malformed input, exact span
    ERR_UNTERMINATED_STR = 128  # "…, b"…, c"… without closing quote
    ERR_UNTERMINATED_CHAR = 129  # '…, b'… without closing quote
    ERR_UNTERMINATED_BLOCK_COMMENT = 130
    ERR_UNTERMINATED_RAW_STR = 131
    ERR_INVALID_RAW_STR = 132  # r#x-less start (r##x), or > 255 '#'
    ERR_UNKNOWN_PREFIX = 133  # 2021 reserved prefix: foo#, foo"…", foo'…, 'foo#
    ERR_INVALID_LIFETIME = 134  # '0abc
    ERR_EMPTY_INT = 135  # 0x, 0b_, 0o
    ERR_EMPTY_EXPONENT = 136  # 1e, 1.5E+
    ERR_STRAY = 137  # one character that starts no token
    ERR_INVALID_UTF8 = 138  # maximal run of undecodable bytes


#: The ASCII byte of every single-character punctuation/delimiter kind.
PUNCT_CHARS: dict[TokenKind, str] = {
    TokenKind.OPEN_PAREN: "(",
    TokenKind.CLOSE_PAREN: ")",
    TokenKind.OPEN_BRACKET: "[",
    TokenKind.CLOSE_BRACKET: "]",
    TokenKind.OPEN_BRACE: "{",
    TokenKind.CLOSE_BRACE: "}",
    TokenKind.SEMI: ";",
    TokenKind.COMMA: ",",
    TokenKind.DOT: ".",
    TokenKind.AT: "@",
    TokenKind.POUND: "#",
    TokenKind.TILDE: "~",
    TokenKind.QUESTION: "?",
    TokenKind.COLON: ":",
    TokenKind.DOLLAR: "$",
    TokenKind.EQ: "=",
    TokenKind.BANG: "!",
    TokenKind.LT: "<",
    TokenKind.GT: ">",
    TokenKind.MINUS: "-",
    TokenKind.AND: "&",
    TokenKind.OR: "|",
    TokenKind.PLUS: "+",
    TokenKind.STAR: "*",
    TokenKind.SLASH: "/",
    TokenKind.CARET: "^",
    TokenKind.PERCENT: "%",
}


class Keyword(enum.IntEnum):
    """Which keyword an ``IDENT`` spells (Rust 2021); stored as ``uint8``; 0 = none."""

    NONE = 0
    # strict
    AS = 1
    BREAK = 2
    CONST = 3
    CONTINUE = 4
    CRATE = 5
    ELSE = 6
    ENUM = 7
    EXTERN = 8
    FALSE = 9
    FN = 10
    FOR = 11
    IF = 12
    IMPL = 13
    IN = 14
    LET = 15
    LOOP = 16
    MATCH = 17
    MOD = 18
    MOVE = 19
    MUT = 20
    PUB = 21
    REF = 22
    RETURN = 23
    SELF_VALUE = 24  # self
    SELF_TYPE = 25  # Self
    STATIC = 26
    STRUCT = 27
    SUPER = 28
    TRAIT = 29
    TRUE = 30
    TYPE = 31
    UNSAFE = 32
    USE = 33
    WHERE = 34
    WHILE = 35
    ASYNC = 36
    AWAIT = 37
    DYN = 38
    # reserved
    ABSTRACT = 39
    BECOME = 40
    BOX = 41
    DO = 42
    FINAL = 43
    MACRO = 44
    OVERRIDE = 45
    PRIV = 46
    TYPEOF = 47
    UNSIZED = 48
    VIRTUAL = 49
    YIELD = 50
    TRY = 51
    # weak (keywords only in some positions)
    UNION = 52
    MACRO_RULES = 53
    AUTO = 54
    DEFAULT = 55
    SAFE = 56
    RAW = 57
    # `_` is an identifier token to the lexer, a reserved "wildcard" to the parser
    UNDERSCORE = 58


#: Keyword spelling -> Keyword; the lexer's table is built from this.
KEYWORD_TEXT: dict[str, Keyword] = {
    ("self" if k is Keyword.SELF_VALUE else "Self" if k is Keyword.SELF_TYPE else "_")
    if k in (Keyword.SELF_VALUE, Keyword.SELF_TYPE, Keyword.UNDERSCORE)
    else k.name.lower(): k
    for k in Keyword
    if k is not Keyword.NONE
}


class Edition(enum.IntEnum):
    """A Rust edition, by its year; per file (from its crate's ``package.edition``).

    What changes lexically (checked with rustc 1.95, tokens printed by a proc macro, each
    edition): before 2021 a reserved prefix is no error (``k#x`` is ``k`` ``#`` ``x``,
    ``f"x"`` is ``f`` ``"x"``, ``'a#`` is ``'a`` ``#``), raw lifetimes do not exist (``'r#a``
    is ``'r`` ``#`` ``a``) and neither do C strings (``c"x"`` is ``c`` ``"x"``, ``cr"x"`` is
    ``cr`` ``"x"``); in 2015 ``async``, ``await``, ``dyn`` and ``try`` are plain identifiers
    (``keyword`` is ``NONE``; the parser still treats ``dyn`` as a weak keyword in types). Raw
    identifiers ``r#x`` exist in every edition. 2024 lexes as 2021 here, with one known gap:
    rustc 2024 rejects the reserved guarded strings ``#"x"#`` and ``##``, which we lex as 2021
    does (``#`` then ``"x"``; ``#`` ``#``); ``gen`` is reserved by the parser, not the lexer.
    """

    E2015 = 2015
    E2018 = 2018
    E2021 = 2021
    E2024 = 2024

    @classmethod
    def parse(cls, text: str | int) -> Edition:
        """``"2018"`` / ``2018`` -> ``Edition.E2018``; ValueError for anything else."""
        try:
            return cls(int(text))
        except (TypeError, ValueError):
            raise ValueError(f"unknown Rust edition {text!r}") from None


#: rustc's and rust-analyzer's default for a file outside any crate is not ours to guess per
#: file: the engine lexes such files (and is called without editions) as 2021.
DEFAULT_EDITION = Edition.E2021


def edition_array(editions: Any, n_files: int) -> npt.NDArray[np.uint16]:
    """Per-file edition years as the lexer takes them: ``None`` (all 2021), one edition for
    every file, or a sequence/array of ``n_files`` editions."""
    if editions is None:
        return np.full(n_files, int(DEFAULT_EDITION), dtype=np.uint16)
    if isinstance(editions, (int, str)):
        return np.full(n_files, int(Edition.parse(editions)), dtype=np.uint16)
    out = np.asarray(editions, dtype=np.int64).astype(np.uint16)  # vectorised: 5,000+ files
    bad = ~np.isin(out, np.array([int(e) for e in Edition], dtype=np.uint16))
    if bool(bad.any()):
        raise ValueError(f"unknown Rust edition {int(out[np.flatnonzero(bad)[0]])}")
    if len(out) != n_files:
        raise EngineInputError(f"{len(out)} editions for {n_files} files")
    return out


class FileStatus(enum.IntEnum):
    """Why a file has (or has no) tokens; stored as ``uint8``."""

    OK = 0  # lexed (it may still contain ERR_* tokens)
    BINARY = 1  # holds a NUL byte: not Rust source
    TOO_LARGE = 2  # bigger than the max_file_bytes of the call


def file_status_of(content: bytes, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> FileStatus:
    """The status the lexers give one file (the same rule, for code that holds only its bytes,
    e.g. to say why a file is skipped): the size is checked first, then the NUL byte."""
    if len(content) > max_file_bytes:
        return FileStatus.TOO_LARGE
    return FileStatus.BINARY if b"\0" in content else FileStatus.OK


def is_trivia(kind: Any) -> Any:
    """Whitespace, comments (doc comments included), shebang, BOM. Works on arrays."""
    return kind < 16


def is_comment(kind: Any) -> Any:
    return (kind >= TokenKind.LINE_COMMENT) & (kind <= TokenKind.INNER_BLOCK_DOC)


def is_literal(kind: Any) -> Any:
    return (kind >= TokenKind.INT) & (kind <= TokenKind.RAW_C_STR)


def is_punct(kind: Any) -> Any:
    """Single-character punctuation, delimiters excluded."""
    return (kind >= TokenKind.SEMI) & (kind <= TokenKind.PERCENT)


def is_error(kind: Any) -> Any:
    return kind >= 128


def check_buffer(buffer: npt.NDArray[np.uint8], file_offsets: npt.NDArray[np.int64]) -> None:
    """Validate a (buffer, file_offsets) pair; raises EngineInputError / BufferTooLarge."""
    if buffer.dtype != np.uint8 or buffer.ndim != 1:
        raise EngineInputError("buffer must be a 1-D uint8 array")
    if file_offsets.ndim != 1 or len(file_offsets) < 1:
        raise EngineInputError("file_offsets must be 1-D with n_files + 1 entries")
    if len(buffer) > MAX_BUFFER_BYTES:
        raise BufferTooLarge(f"{len(buffer)} bytes exceed the int32 token offsets")
    if file_offsets[0] != 0 or file_offsets[-1] > len(buffer):
        raise EngineInputError("file_offsets must start at 0 and end within the buffer")
    if len(file_offsets) > 1 and bool(np.any(np.diff(file_offsets) < 0)):
        raise EngineInputError("file_offsets must be non-decreasing")


@dataclass(frozen=True, slots=True, eq=False)
class TokenArrays:
    """The lexer's output: see the module docstring for the exact contract."""

    buffer: npt.NDArray[np.uint8]
    file_offsets: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    keyword: npt.NDArray[np.uint8]
    file_token_offsets: npt.NDArray[np.int64]
    file_status: npt.NDArray[np.uint8]
    file_utf8_error: npt.NDArray[np.int32]

    @property
    def n_files(self) -> int:
        return len(self.file_offsets) - 1

    def __len__(self) -> int:
        return len(self.kind)

    def file_tokens(self, f: int) -> slice:
        """Row slice of file ``f``'s tokens."""
        return slice(int(self.file_token_offsets[f]), int(self.file_token_offsets[f + 1]))

    def text(self, i: int) -> bytes:
        """Source bytes of token ``i``."""
        return self.buffer[self.start[i] : self.end[i]].tobytes()

    def nbytes(self) -> int:
        """Memory held by the token and per-file arrays (the buffer itself excluded)."""
        return sum(
            a.nbytes
            for a in (
                self.kind,
                self.start,
                self.end,
                self.keyword,
                self.file_token_offsets,
                self.file_status,
                self.file_utf8_error,
            )
        )

    def same_as(self, other: TokenArrays) -> bool:
        """Array-for-array equality (what CPU and CUDA backends must satisfy)."""
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in (
                "file_offsets",
                "kind",
                "start",
                "end",
                "keyword",
                "file_token_offsets",
                "file_status",
                "file_utf8_error",
            )
        )


def joint(arrays: TokenArrays) -> npt.NDArray[np.bool_]:
    """proc-macro2's ``Spacing::Joint`` per token: a punct immediately followed by a punct.

    False for non-punct tokens. Delimiters are not punct.
    """
    k = arrays.kind
    out = np.zeros(len(k), dtype=np.bool_)
    if len(k) > 1:
        p = is_punct(k)
        out[:-1] = p[:-1] & p[1:] & (arrays.end[:-1] == arrays.start[1:])
    return out


def line_columns(
    buffer: npt.NDArray[np.uint8],
    file_offsets: npt.NDArray[np.int64],
    positions: npt.NDArray[Any],
    files: npt.NDArray[Any] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(line, column) of absolute byte ``positions``: 1-based, columns in Unicode scalars.

    ``files[i]`` is the file that ``positions[i]`` belongs to; it matters only where one file
    ends and the next starts at the same offset (the end of one file's last token is the start of
    the next file). Without ``files``, a position belongs to the file that starts there.
    Vectorised: O(buffer + positions log buffer).
    """
    pos = np.asarray(positions, dtype=np.int64)
    if files is None:
        files = np.searchsorted(file_offsets, pos, side="right") - 1
        files = np.clip(files, 0, max(len(file_offsets) - 2, 0))
    file_start = np.asarray(file_offsets, dtype=np.int64)[np.asarray(files, dtype=np.int64)]
    newline_at = np.flatnonzero(buffer == 0x0A)
    # A UTF-8 continuation byte (10xxxxxx) does not start a scalar value.
    scalars_before = np.zeros(len(buffer) + 1, dtype=np.int64)
    np.cumsum((buffer & 0xC0) != 0x80, out=scalars_before[1:])
    nl_before_pos = np.searchsorted(newline_at, pos, side="left")
    nl_before_file = np.searchsorted(newline_at, file_start, side="left")
    line = nl_before_pos - nl_before_file + 1
    line_start = file_start.copy()
    has_nl = nl_before_pos > nl_before_file
    line_start[has_nl] = newline_at[nl_before_pos[has_nl] - 1] + 1
    column = scalars_before[pos] - scalars_before[line_start] + 1
    return line, column


def token_line_columns(
    arrays: TokenArrays,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """(line, column, end_line, end_column) of every token; ends exclusive, as in the protocol."""
    counts = np.diff(arrays.file_token_offsets)
    files = np.repeat(np.arange(arrays.n_files, dtype=np.int64), counts)
    line, col = line_columns(arrays.buffer, arrays.file_offsets, arrays.start, files)
    end_line, end_col = line_columns(arrays.buffer, arrays.file_offsets, arrays.end, files)
    return line, col, end_line, end_col
