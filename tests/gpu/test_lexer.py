"""The lexer, case by case: token boundaries as rustc_lexer draws them (Rust 2021).

Cases are data: (source, expected [(kind, text), ...]). Every case is also lexed by the
chunked algorithm with tiny chunks (every chunk boundary lands inside some token), which must
give identical arrays, and every lexed file must be covered exactly by its tokens.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustg.gpu import _xid
from rustg.gpu.backend import Backend, BackendKind, Device
from rustg.gpu.errors import BackendUnavailable, BufferTooLarge, EngineInputError
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.tokens import (
    FileStatus,
    Keyword,
    TokenArrays,
    TokenKind,
    check_buffer,
    joint,
    line_columns,
    token_line_columns,
)

K = TokenKind


def lex_many(sources: list[bytes], **kw: object) -> TokenArrays:
    buf = np.frombuffer(b"".join(sources), dtype=np.uint8)
    fo = np.zeros(len(sources) + 1, dtype=np.int64)
    fo[1:] = np.cumsum([len(s) for s in sources])
    return lex_cpu(buf, fo, **kw)  # type: ignore[arg-type]


def assert_well_formed(a: TokenArrays) -> None:
    for f in range(a.n_files):
        sl = a.file_tokens(f)
        lo, hi = int(a.file_offsets[f]), int(a.file_offsets[f + 1])
        if a.file_status[f] != FileStatus.OK or hi == lo:
            assert sl.stop == sl.start
            continue
        st_, en = a.start[sl], a.end[sl]
        assert st_[0] == lo and en[-1] == hi
        assert np.all(st_[1:] == en[:-1]) and np.all(en > st_)


def toks(src: str | bytes) -> list[tuple[str, str]]:
    data = src.encode() if isinstance(src, str) else src
    a = lex_many([data])
    assert_well_formed(a)
    chunked = lex_many([data], chunked=True, chunk_bytes=3)
    assert chunked.same_as(a)
    return [
        (K(k).name, a.text(i).decode("utf-8", "replace"))
        for i, k in enumerate(a.kind)
        if k != K.WHITESPACE
    ]


# fmt: off
CASES: list[tuple[str | bytes, list[tuple[str, str]]]] = [
    # identifiers, raw identifiers, keywords are identifiers
    ("fn r#type _x é", [("IDENT", "fn"), ("RAW_IDENT", "r#type"), ("IDENT", "_x"), ("IDENT", "é")]),
    ("r#_ r#", [("RAW_IDENT", "r#_"), ("ERR_INVALID_RAW_STR", "r#")]),
    # lifetimes, labels and char literals
    ("'a 'static '_", [("LIFETIME", "'a"), ("LIFETIME", "'static"), ("LIFETIME", "'_")]),
    (
        "'a' 'ab' '\\'' '\\n' '\\u{1F600}'",
        [
            ("CHAR", "'a'"),
            ("CHAR", "'ab'"),
            ("CHAR", "'\\''"),
            ("CHAR", "'\\n'"),
            ("CHAR", "'\\u{1F600}'"),
        ],
    ),
    ("'r#a '0x", [("RAW_LIFETIME", "'r#a"), ("ERR_INVALID_LIFETIME", "'0x")]),
    ("'a'suffix", [("CHAR", "'a'suffix")]),
    ("&'a str", [("AND", "&"), ("LIFETIME", "'a"), ("IDENT", "str")]),
    ("'\n'", [("CHAR", "'\n'")]),
    ("'", [("ERR_UNTERMINATED_CHAR", "'")]),
    ("'ab\nc", [("LIFETIME", "'ab"), ("IDENT", "c")]),
    ("'\\n\nx", [("ERR_UNTERMINATED_CHAR", "'\\n"), ("IDENT", "x")]),
    # strings
    (
        '"a\\"b" b"x" c"y" "s"suf',
        [("STR", '"a\\"b"'), ("BYTE_STR", 'b"x"'), ("C_STR", 'c"y"'), ("STR", '"s"suf')],
    ),
    (
        'r"x" r#"a"b"# r##"c"#"## br#"d"# cr"e"',
        [
            ("RAW_STR", 'r"x"'),
            ("RAW_STR", 'r#"a"b"#'),
            ("RAW_STR", 'r##"c"#"##'),
            ("RAW_BYTE_STR", 'br#"d"#'),
            ("RAW_C_STR", 'cr"e"'),
        ],
    ),
    ("b'a' b'\\x7f'", [("BYTE", "b'a'"), ("BYTE", "b'\\x7f'")]),
    ('"never closed', [("ERR_UNTERMINATED_STR", '"never closed')]),
    ('r#"never', [("ERR_UNTERMINATED_RAW_STR", 'r#"never')]),
    ("r##x", [("ERR_INVALID_RAW_STR", "r##x")]),
    (
        "r" + "#" * 256 + '""' + "#" * 256,
        [("ERR_INVALID_RAW_STR", "r" + "#" * 256 + '""' + "#" * 256)],
    ),
    # numbers, the rustc way
    ("1..2", [("INT", "1"), ("DOT", "."), ("DOT", "."), ("INT", "2")]),
    (
        "1.foo() 1._x",
        [
            ("INT", "1"),
            ("DOT", "."),
            ("IDENT", "foo"),
            ("OPEN_PAREN", "("),
            ("CLOSE_PAREN", ")"),
            ("INT", "1"),
            ("DOT", "."),
            ("IDENT", "_x"),
        ],
    ),
    (
        "1. 1.5 1e10 1E-3f64 2.5e+7 1_000.000_1",
        [
            ("FLOAT", "1."),
            ("FLOAT", "1.5"),
            ("FLOAT", "1e10"),
            ("FLOAT", "1E-3f64"),
            ("FLOAT", "2.5e+7"),
            ("FLOAT", "1_000.000_1"),
        ],
    ),
    (
        "0x1F_u8 0o17 0b1010 0x1e3 0b12 1u128",
        [
            ("INT", "0x1F_u8"),
            ("INT", "0o17"),
            ("INT", "0b1010"),
            ("INT", "0x1e3"),
            ("INT", "0b12"),
            ("INT", "1u128"),
        ],
    ),
    (
        "x.0.1 t.0",
        [
            ("IDENT", "x"),
            ("DOT", "."),
            ("FLOAT", "0.1"),
            ("IDENT", "t"),
            ("DOT", "."),
            ("INT", "0"),
        ],
    ),
    (
        "0x 0b_ 1e 1.5e+",
        [
            ("ERR_EMPTY_INT", "0x"),
            ("ERR_EMPTY_INT", "0b_"),
            ("ERR_EMPTY_EXPONENT", "1e"),
            ("ERR_EMPTY_EXPONENT", "1.5e+"),
        ],
    ),
    ("1.e3", [("INT", "1"), ("DOT", "."), ("IDENT", "e3")]),
    # comments, doc comments, nesting
    ("/* a /* b */ c */x", [("BLOCK_COMMENT", "/* a /* b */ c */"), ("IDENT", "x")]),
    (
        "/** d */ /*! e */ /**/ /*** f */",
        [
            ("OUTER_BLOCK_DOC", "/** d */"),
            ("INNER_BLOCK_DOC", "/*! e */"),
            ("BLOCK_COMMENT", "/**/"),
            ("BLOCK_COMMENT", "/*** f */"),
        ],
    ),
    (
        "//! i\n/// o\n//// p\n// q",
        [
            ("INNER_LINE_DOC", "//! i"),
            ("OUTER_LINE_DOC", "/// o"),
            ("LINE_COMMENT", "//// p"),
            ("LINE_COMMENT", "// q"),
        ],
    ),
    ("/* /* never", [("ERR_UNTERMINATED_BLOCK_COMMENT", "/* /* never")]),
    ("///", [("OUTER_LINE_DOC", "///")]),
    # punctuation: one token per character, as rustc_lexer emits it
    (
        "a::<b>>=c->d",
        [
            ("IDENT", "a"),
            ("COLON", ":"),
            ("COLON", ":"),
            ("LT", "<"),
            ("IDENT", "b"),
            ("GT", ">"),
            ("GT", ">"),
            ("EQ", "="),
            ("IDENT", "c"),
            ("MINUS", "-"),
            ("GT", ">"),
            ("IDENT", "d"),
        ],
    ),
    (
        "#[x] $y @ ~ ? ! % ^ |",
        [
            ("POUND", "#"),
            ("OPEN_BRACKET", "["),
            ("IDENT", "x"),
            ("CLOSE_BRACKET", "]"),
            ("DOLLAR", "$"),
            ("IDENT", "y"),
            ("AT", "@"),
            ("TILDE", "~"),
            ("QUESTION", "?"),
            ("BANG", "!"),
            ("PERCENT", "%"),
            ("CARET", "^"),
            ("OR", "|"),
        ],
    ),
    # shebang and BOM
    ("#!/usr/bin/env run\nfn", [("SHEBANG", "#!/usr/bin/env run"), ("IDENT", "fn")]),
    ("#!x\r\ny", [("SHEBANG", "#!x"), ("IDENT", "y")]),
    (
        "#![allow(x)]",
        [
            ("POUND", "#"),
            ("BANG", "!"),
            ("OPEN_BRACKET", "["),
            ("IDENT", "allow"),
            ("OPEN_PAREN", "("),
            ("IDENT", "x"),
            ("CLOSE_PAREN", ")"),
            ("CLOSE_BRACKET", "]"),
        ],
    ),
    (
        "#! // c\n [a]",
        [
            ("POUND", "#"),
            ("BANG", "!"),
            ("LINE_COMMENT", "// c"),
            ("OPEN_BRACKET", "["),
            ("IDENT", "a"),
            ("CLOSE_BRACKET", "]"),
        ],
    ),
    ("\ufeffx", [("BOM", "\ufeff"), ("IDENT", "x")]),
    ("\ufeff#!sh", [("BOM", "\ufeff"), ("SHEBANG", "#!sh")]),
    ("x #!y", [("IDENT", "x"), ("POUND", "#"), ("BANG", "!"), ("IDENT", "y")]),
    # Rust 2021 reserved prefixes
    (
        'k#x f"s" \'a#',
        [
            ("ERR_UNKNOWN_PREFIX", "k"),
            ("POUND", "#"),
            ("IDENT", "x"),
            ("ERR_UNKNOWN_PREFIX", "f"),
            ("STR", '"s"'),
            ("ERR_UNKNOWN_PREFIX", "'a"),
            ("POUND", "#"),
        ],
    ),
    # stray characters and invalid UTF-8
    ("€ ` \\", [("ERR_STRAY", "€"), ("ERR_STRAY", "`"), ("ERR_STRAY", "\\")]),
    (
        b"a\xff\xfeb \xc3",
        [
            ("IDENT", "a"),
            ("ERR_INVALID_UTF8", "\ufffd\ufffd"),
            ("IDENT", "b"),
            ("ERR_INVALID_UTF8", "\ufffd"),
        ],
    ),
    (b"\xed\xa0\x80", [("ERR_INVALID_UTF8", "\ufffd\ufffd\ufffd")]),  # a surrogate: invalid
    # Unicode whitespace (Pattern_White_Space) vs other spaces
    ("a\u2028b\u00a0c", [("IDENT", "a"), ("IDENT", "b"), ("ERR_STRAY", "\u00a0"), ("IDENT", "c")]),
]
# fmt: on


@pytest.mark.parametrize(("src", "expected"), CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_token_boundaries(src: str | bytes, expected: list[tuple[str, str]]) -> None:
    assert toks(src) == expected


def test_keywords_classified_on_idents_only() -> None:
    a = lex_many([b"fn r#fn self Self macro_rules union _ async foo where while"])
    got = [(a.text(i).decode(), Keyword(a.keyword[i]).name) for i in range(len(a)) if a.kind[i]]
    assert got == [
        ("fn", "FN"),
        ("r#fn", "NONE"),
        ("self", "SELF_VALUE"),
        ("Self", "SELF_TYPE"),
        ("macro_rules", "MACRO_RULES"),
        ("union", "UNION"),
        ("_", "UNDERSCORE"),
        ("async", "ASYNC"),
        ("foo", "NONE"),
        ("where", "WHERE"),
        ("while", "WHILE"),
    ]


def test_file_statuses_and_utf8_errors() -> None:
    a = lex_many([b"fn a", b"x\x00y", b"c" * 100, b"// \xff\n fn", b""], max_file_bytes=50)
    assert list(a.file_status) == [0, FileStatus.BINARY, FileStatus.TOO_LARGE, 0, 0]
    assert [len(range(*a.file_tokens(f).indices(len(a)))) for f in range(5)] == [3, 0, 0, 3, 0]
    # the invalid byte sits inside a comment: reported per file, the comment stays one token
    assert list(a.file_utf8_error) == [-1, -1, -1, int(a.file_offsets[3]) + 3, -1]
    assert_well_formed(a)


def _python_verdict(data: bytes) -> tuple[bool, int]:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return b"\x00" in data, exc.start
    return b"\x00" in data, -1


_MOSTLY_ASCII = st.lists(
    st.one_of(
        st.binary(min_size=1, max_size=40).map(lambda b: bytes(c & 0x7F or 0x20 for c in b)),
        st.sampled_from(
            [
                b"\x00",
                b"\xc3\xa9",
                b"\xe2\x82\xac",
                b"\xf0\x9f\xa6\x80",
                b"\xff",
                b"\xc3",
                b"\xed\xa0\x80",
                b"\x80",
                b"\xe2\x82",
            ]
        ),
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(_MOSTLY_ASCII, st.integers(0, 15))
def test_word_at_a_time_validation_agrees_with_python(data: bytes, pad: int) -> None:
    # validate_file steps over aligned 8-byte ASCII runs: each file at every offset from an
    # aligned address, so runs start, end and break at every position within a word.
    a = lex_many([b"x" * pad, data])
    nul, bad = _python_verdict(data)
    assert int(a.file_status[1]) == (FileStatus.BINARY if nul else FileStatus.OK)
    assert int(a.file_utf8_error[1]) == (-1 if bad < 0 else int(a.file_offsets[1]) + bad)


def test_line_columns_are_one_based_and_count_scalars() -> None:
    a = lex_many([b"ab\n\xc3\xa9 c", b"x\ny"])
    line, col, eline, ecol = token_line_columns(a)
    texts = [a.text(i) for i in range(len(a))]
    assert texts == [b"ab", b"\n", b"\xc3\xa9", b" ", b"c", b"x", b"\n", b"y"]
    assert list(zip(line, col, strict=True)) == [(1, 1), (1, 3), (2, 1), (2, 2), (2, 3),
                                                 (1, 1), (1, 2), (2, 1)]  # fmt: skip
    assert (eline[4], ecol[4]) == (2, 4)  # exclusive end of the file's last token
    fl, fc = line_columns(a.buffer, a.file_offsets, np.array([0]))
    assert (fl[0], fc[0]) == (1, 1)


def test_joint_is_proc_macro2_spacing_for_adjacent_puncts() -> None:
    a = lex_many([b"a += b -> c; ::d"])
    sig = [(a.text(i).decode(), bool(j)) for i, j in enumerate(joint(a)) if a.kind[i]]
    assert sig == [("a", False), ("+", True), ("=", False), ("b", False), ("-", True),
                   (">", False), ("c", False), (";", False), (":", True), (":", False),
                   ("d", False)]  # fmt: skip


def test_input_validation() -> None:
    with pytest.raises(EngineInputError):
        check_buffer(np.zeros(4, dtype=np.int32), np.array([0, 4]))
    with pytest.raises(EngineInputError):
        check_buffer(np.zeros(4, dtype=np.uint8), np.array([0, 5]))
    with pytest.raises(EngineInputError):
        check_buffer(np.zeros(4, dtype=np.uint8), np.array([0, 3, 2]))
    assert issubclass(BufferTooLarge, EngineInputError)


def test_frozen_xid_tables_match_this_pythons_unicodedata() -> None:
    if unicodedata.unidata_version != _xid.UNICODE_VERSION:
        pytest.skip(f"Python has Unicode {unicodedata.unidata_version}, tables are frozen "
                    f"from {_xid.UNICODE_VERSION}")  # fmt: skip
    from rustg.gpu.lexer import XID_TABLE

    cps = np.arange(0x110000)
    start = np.array([chr(c).isidentifier() for c in range(0x110000)])
    cont = np.array([("a" + chr(c)).isidentifier() for c in range(0x110000)])
    assert np.array_equal((XID_TABLE[cps] & 1) != 0, start)
    assert np.array_equal((XID_TABLE[cps] & 2) != 0, cont)


def test_backend_policy() -> None:
    assert Backend("cpu").device_for(1 << 30, 1000) is Device.CPU
    auto = Backend("auto", gpu_min_bytes=1000)
    assert auto.device_for(10, 1) is Device.CPU  # one file: always the CPU
    assert auto.device_for(999, 5) is Device.CPU  # small work
    want = Device.CUDA if auto.cuda_status()[0] else Device.CPU
    assert auto.device_for(10_000, 5) is want
    with pytest.raises(BackendUnavailable):
        Backend("tpu")
    if not Backend("cuda").cuda_status()[0]:
        with pytest.raises(BackendUnavailable):
            Backend("cuda").lex_bytes(b"fn x")
    assert Backend(BackendKind.CPU).lex_bytes(b"fn x").same_as(lex_many([b"fn x"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=6))
def test_random_bytes_never_hang_and_always_cover(sources: list[bytes]) -> None:
    a = lex_many(sources)
    assert_well_formed(a)
    for chunk in (1, 7, 64):
        assert lex_many(sources, chunked=True, chunk_bytes=chunk).same_as(a)


ALPHABET = [*"ab_r#'\"/\\*!e.0x19 \n\r{}()[]<>-=:;", "é", "\u2028", "b'", 'r#"', '"#']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join), min_size=1,
                max_size=4))  # fmt: skip
def test_rust_ish_text_chunked_equals_per_file(sources: list[str]) -> None:
    data = [s.encode() for s in sources]
    a = lex_many(data)
    assert_well_formed(a)
    for chunk in (1, 2, 5, 16):
        assert lex_many(data, chunked=True, chunk_bytes=chunk).same_as(a)


@pytest.mark.corpus
@pytest.mark.slow
def test_chunked_equals_per_file_on_corpus(corpus_tokens: TokenArrays) -> None:
    # What the GPU runs, checked on the CPU with a small chunk size so that every file is cut
    # into many speculative starts.
    a = corpus_tokens
    assert_well_formed(a)
    chunked = lex_cpu(a.buffer, a.file_offsets, chunked=True, chunk_bytes=256)
    assert chunked.same_as(a)
