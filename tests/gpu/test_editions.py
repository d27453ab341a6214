"""Editions: the lexer's per-file edition against rustc's own tokens.

Every expectation below was read off rustc 1.95: a proc macro printing the token trees it is
given (``proc_macro::TokenStream``), invoked from crates built with ``--edition 2015``,
``2018`` and ``2021`` (2021 reports its reserved prefixes as errors, and still hands the
tokens on). Lifetimes are one token to us, a ``'`` punct plus an ident to proc_macro.
The CUDA simulator runs the same cases through the CUDA kernels, mixed editions in one call.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rustg.gpu.backend import Backend
from rustg.gpu.errors import EngineInputError
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.tokens import Edition, Keyword, TokenArrays, TokenKind, edition_array

OLD = (Edition.E2015, Edition.E2018)
NEW = (Edition.E2021, Edition.E2024)

# source -> (tokens before 2021, tokens from 2021); a token is (kind, text)
CASES: dict[bytes, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    b"k#x": (
        [("IDENT", "k"), ("POUND", "#"), ("IDENT", "x")],
        [("ERR_UNKNOWN_PREFIX", "k"), ("POUND", "#"), ("IDENT", "x")],
    ),
    b'f"x"': (
        [("IDENT", "f"), ("STR", '"x"')],
        [("ERR_UNKNOWN_PREFIX", "f"), ("STR", '"x"')],
    ),
    b'match"x"': (
        [("IDENT", "match"), ("STR", '"x"')],
        [("ERR_UNKNOWN_PREFIX", "match"), ("STR", '"x"')],
    ),
    b"'r#a": (
        [("LIFETIME", "'r"), ("POUND", "#"), ("IDENT", "a")],
        [("RAW_LIFETIME", "'r#a")],
    ),
    b"'r#fn": (
        [("LIFETIME", "'r"), ("POUND", "#"), ("IDENT", "fn")],
        [("RAW_LIFETIME", "'r#fn")],
    ),
    b"'foo#": (
        [("LIFETIME", "'foo"), ("POUND", "#")],
        [("ERR_UNKNOWN_PREFIX", "'foo"), ("POUND", "#")],
    ),
    b'c"s"': ([("IDENT", "c"), ("STR", '"s"')], [("C_STR", 'c"s"')]),
    b'cr"s"': ([("IDENT", "cr"), ("STR", '"s"')], [("RAW_C_STR", 'cr"s"')]),
    b'cr#"x"#': (
        [("IDENT", "cr"), ("POUND", "#"), ("STR", '"x"'), ("POUND", "#")],
        [("RAW_C_STR", 'cr#"x"#')],
    ),
    b"c'x'": (
        [("IDENT", "c"), ("CHAR", "'x'")],
        [("ERR_UNKNOWN_PREFIX", "c"), ("CHAR", "'x'")],
    ),
}
# The same in every edition.
SAME: dict[bytes, list[tuple[str, str]]] = {
    b"r#fn r#x": [("RAW_IDENT", "r#fn"), ("RAW_IDENT", "r#x")],
    b'b\'a\' br"x" b"x"y': [("BYTE", "b'a'"), ("RAW_BYTE_STR", 'br"x"'), ("BYTE_STR", 'b"x"y')],
}


def significant(arrays: TokenArrays) -> list[tuple[str, str]]:
    return [
        (TokenKind(int(arrays.kind[i])).name, arrays.text(i).decode())
        for i in range(len(arrays))
        if arrays.kind[i] != TokenKind.WHITESPACE
    ]


def lex_one(src: bytes, edition: Edition, *, chunked: bool = False) -> TokenArrays:
    buf = np.frombuffer(src, dtype=np.uint8)
    fo = np.array([0, len(buf)], dtype=np.int64)
    return lex_cpu(buf, fo, editions=edition, chunked=chunked, chunk_bytes=4)


@pytest.mark.parametrize("src", list(CASES))
@pytest.mark.parametrize("edition", list(Edition))
@pytest.mark.parametrize("chunked", [False, True])
def test_prefixes_raw_lifetimes_and_c_strings_per_edition(
    src: bytes, edition: Edition, chunked: bool
) -> None:
    old, new = CASES[src]
    assert significant(lex_one(src, edition, chunked=chunked)) == (old if edition in OLD else new)


@pytest.mark.parametrize("src", list(SAME))
@pytest.mark.parametrize("edition", list(Edition))
def test_raw_identifiers_and_byte_literals_in_every_edition(src: bytes, edition: Edition) -> None:
    assert significant(lex_one(src, edition)) == SAME[src]


@pytest.mark.parametrize("edition", list(Edition))
def test_async_await_dyn_try_are_keywords_from_2018(edition: Edition) -> None:
    arrays = lex_one(b"async await dyn try union", edition)
    got = [Keyword(int(k)) for k, kind in zip(arrays.keyword, arrays.kind, strict=True) if kind]
    if edition is Edition.E2015:
        assert got == [Keyword.NONE] * 4 + [Keyword.UNION]
    else:
        assert got == [Keyword.ASYNC, Keyword.AWAIT, Keyword.DYN, Keyword.TRY, Keyword.UNION]


def test_mixed_editions_in_one_call_follow_each_file() -> None:
    srcs = [b"k#x async", b"k#x async", b"k#x async"]
    eds = [Edition.E2015, Edition.E2018, Edition.E2021]
    buf = np.frombuffer(b"".join(srcs), dtype=np.uint8)
    fo = np.array([0, 9, 18, 27], dtype=np.int64)
    for chunked in (False, True):
        a = lex_cpu(buf, fo, editions=eds, chunked=chunked, chunk_bytes=4)
        kinds = [TokenKind(int(a.kind[a.file_tokens(f)][0])) for f in range(3)]
        assert kinds == [TokenKind.IDENT, TokenKind.IDENT, TokenKind.ERR_UNKNOWN_PREFIX]
        kws = [Keyword(int(a.keyword[a.file_tokens(f)][-1])) for f in range(3)]
        assert kws == [Keyword.NONE, Keyword.ASYNC, Keyword.ASYNC]


def test_default_is_2021_and_bad_editions_are_refused() -> None:
    assert significant(lex_one(b"k#x", Edition.E2021)) == significant(
        lex_cpu(np.frombuffer(b"k#x", dtype=np.uint8), np.array([0, 3], dtype=np.int64))
    )
    assert list(edition_array("2018", 2)) == [2018, 2018]
    with pytest.raises(ValueError, match="2017"):
        Edition.parse("2017")
    with pytest.raises(EngineInputError):
        edition_array([2015], 2)


def test_backend_lex_takes_editions() -> None:
    got = Backend("cpu").lex_bytes(b"'r#a", editions=Edition.E2018)
    assert significant(got) == CASES[b"'r#a"][0]


SIM_SCRIPT = """
import numpy as np
from rustg.gpu.backend import Backend
from rustg.gpu.lexer import lex_cpu
srcs = {srcs!r}
eds = {eds!r}
buf = np.frombuffer(b"".join(srcs), dtype=np.uint8)
fo = np.zeros(len(srcs) + 1, np.int64)
fo[1:] = np.cumsum([len(s) for s in srcs])
for chunk in (4, 8, 4096):
    got = Backend("cuda", chunk_bytes=chunk).lex(buf, fo, editions=eds)
    want = lex_cpu(buf, fo, editions=eds)
    assert got.same_as(want), chunk
print("simulator ok", len(got))
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("numba.cuda") is None, reason="no numba.cuda")
def test_simulator_matches_cpu_per_edition() -> None:
    srcs = [s + b" async\n" + s for s in [*CASES, *SAME]]
    srcs = srcs * 4
    eds = [int(list(Edition)[i % 4]) for i in range(len(srcs))]
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SIM_SCRIPT.format(srcs=srcs, eds=eds)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "simulator ok" in out.stdout


def test_edition_map_reads_package_workspace_and_cargo_default(tmp_path: Path) -> None:
    from rustg.gpu.editions import EditionMap, edition_of_file

    (tmp_path / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["a", "b", "c"]\n[workspace.package]\nedition = "2018"\n'
    )
    for name, manifest in {
        "a": '[package]\nname = "a"\nedition = "2015"\n',
        "b": '[package]\nname = "b"\nedition.workspace = true\n',
        "c": '[package]\nname = "c"\n',  # no edition: Cargo's 2015
        "d": "[package\n",  # broken: as if absent
    }.items():
        (tmp_path / name / "src").mkdir(parents=True)
        (tmp_path / name / "Cargo.toml").write_text(manifest)
    m = EditionMap(tmp_path)
    assert m.edition_of("a/src/lib.rs") is Edition.E2015
    assert m.edition_of("b/src/x/y.rs") is Edition.E2018
    assert m.edition_of("c/src/lib.rs") is Edition.E2015
    assert m.edition_of("d/src/lib.rs") is Edition.E2021  # no package above: the default
    assert m.edition_of("loose.rs") is Edition.E2021
    (tmp_path / "a" / "Cargo.toml").write_text('[package]\nname = "a"\nedition = "2024"\n')
    assert m.edition_of("a/src/lib.rs") is Edition.E2015  # cached until invalidated
    m.invalidate()
    assert m.edition_of("a/src/lib.rs") is Edition.E2024
    assert edition_of_file(tmp_path / "b" / "src" / "lib.rs") is Edition.E2018
