"""The DFA regex compiler against Python's ``re`` (bytes patterns) on the supported subset.

* hypothesis generates regexes from the documented subset and subjects over a small alphabet:
  constraint search agrees with ``re.search`` (``$`` translated to ``\\Z``, see the module
  docstring), whole-file matches agree with a leftmost-longest oracle built from ``re``.
* the rejected constructs raise :class:`RegexError` at the right offset.
* the CUDA kernels under the simulator (subprocess, tiny inputs), and on a real GPU (marked).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rustg.gpu.lint.regex_dfa import (
    MAX_DFA_STATES,
    CompiledRegex,
    DfaBank,
    RegexError,
    RegexUse,
    compile_regex,
)

REPO_ROOT = Path(__file__).resolve().parents[3]

ATOMS = st.sampled_from(
    [
        "a",
        "b",
        " ",
        "\\n",
        ".",
        "[ab]",
        "[^a]",
        "[a-c]",
        "[^\\n]",
        "\\d",
        "\\w",
        "\\s",
        "\\S",
        "\\.",
        "_",
        "1",
        "[-a]",
        "[\\d_]",
    ]
)
QUANTS = st.sampled_from(["", "", "", "*", "+", "?", "{2}", "{1,2}", "{,2}", "{1,}"])


def _seq(depth: int) -> st.SearchStrategy[str]:
    atom: st.SearchStrategy[str] = ATOMS
    if depth > 0:
        atom = st.one_of(ATOMS, _regex(depth - 1).map(lambda r: f"(?:{r})"))
    piece = st.tuples(atom, QUANTS).map("".join)
    return st.lists(piece, min_size=1, max_size=3).map("".join)


def _regex(depth: int) -> st.SearchStrategy[str]:
    return st.lists(_seq(depth), min_size=1, max_size=2).map("|".join)


@st.composite
def anchored(draw: st.DrawFn) -> tuple[str, str]:
    """(our pattern, the oracle's): anchors on top-level alternatives, `$` -> `\\Z`."""
    ours, oracle = [], []
    for piece in draw(st.lists(_seq(1), min_size=1, max_size=2)):
        pre = draw(st.booleans())
        post = draw(st.booleans())
        ours.append(("^" if pre else "") + piece + ("$" if post else ""))
        oracle.append(("^" if pre else "") + piece + ("\\Z" if post else ""))
    return "|".join(ours), "|".join(oracle)


SUBJECTS = st.binary(max_size=10).map(lambda b: bytes(b"ab \n1_.x"[c % 8] for c in b))


_QUICK = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_DEEP = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CONSTRAINT_INPUTS = (anchored(), st.lists(SUBJECTS, min_size=1, max_size=6))
_FILE_INPUTS = (_regex(1), st.lists(SUBJECTS, min_size=1, max_size=4))


@_QUICK
@given(*_CONSTRAINT_INPUTS)
def test_constraint_search_agrees_with_re(pats: tuple[str, str], subjects: list[bytes]) -> None:
    _check_constraint(pats, subjects)


@pytest.mark.slow
@_DEEP
@given(*_CONSTRAINT_INPUTS)
def test_constraint_search_agrees_with_re_deep(
    pats: tuple[str, str], subjects: list[bytes]
) -> None:
    _check_constraint(pats, subjects)


def _check_constraint(pats: tuple[str, str], subjects: list[bytes]) -> None:
    ours, oracle = pats
    compiled = _compile_or_skip(ours, RegexUse.CONSTRAINT)
    want = [re.search(oracle.encode(), s) is not None for s in subjects]
    assert [compiled.search(s) for s in subjects] == want
    got = DfaBank([compiled]).search_texts([0] * len(subjects), subjects)
    assert got.astype(bool).tolist() == want


def _compile_or_skip(pattern: str, use: RegexUse) -> CompiledRegex:
    """Random regexes can legitimately blow the DFA state limit; those are not test cases."""
    try:
        return compile_regex(pattern, use)
    except RegexError as e:
        assume("DFA states" not in e.reason)
        raise


def _leftmost_longest(pattern: bytes, text: bytes) -> list[tuple[int, int]]:
    rx = re.compile(pattern)
    out: list[tuple[int, int]] = []
    pos = 0
    while (m := rx.search(text, pos)) is not None:
        s = m.start()
        e = max(e for e in range(s, len(text) + 1) if rx.fullmatch(text, s, e))
        out.append((s, e))
        pos = e
    return out


@_QUICK
@given(*_FILE_INPUTS)
def test_file_matches_are_leftmost_longest(pattern: str, files: list[bytes]) -> None:
    _check_file(pattern, files)


@pytest.mark.slow
@_DEEP
@given(*_FILE_INPUTS)
def test_file_matches_are_leftmost_longest_deep(pattern: str, files: list[bytes]) -> None:
    _check_file(pattern, files)


def _check_file(pattern: str, files: list[bytes]) -> None:
    if re.fullmatch(pattern.encode(), b""):
        with pytest.raises(RegexError, match="empty string"):
            compile_regex(pattern, RegexUse.FILE)
        return
    bank = DfaBank([_compile_or_skip(pattern, RegexUse.FILE)])
    buf = np.frombuffer(b"".join(files) + b"\0", dtype=np.uint8)[: sum(map(len, files))]
    fo = np.zeros(len(files) + 1, dtype=np.int64)
    np.cumsum([len(f) for f in files], out=fo[1:])
    for chunk in (1, 3, 64):  # matches must not depend on where chunks split a file
        m = bank.scan_files([0], buf, fo, chunk_bytes=chunk)
        got = [[] for _ in files]  # type: list[list[tuple[int, int]]]
        for f, s, e in zip(m.file, m.start, m.end, strict=True):
            got[f].append((int(s - fo[f]), int(e - fo[f])))
        assert got == [_leftmost_longest(pattern.encode(), f) for f in files], chunk


def test_several_rules_in_one_bank() -> None:
    bank = DfaBank(
        [compile_regex(p, RegexUse.FILE) for p in ("unwrap\\(\\)", "todo!", "[A-Z]{3,}")]
    )
    src = b"x.unwrap(); todo!(); FOO ab\nunwrap()"
    buf = np.frombuffer(src, dtype=np.uint8)
    m = bank.scan_files([0, 1, 2], buf, np.array([0, len(src)]))
    assert [(int(r), src[s:e]) for r, s, e in zip(m.rule, m.start, m.end, strict=True)] == [
        (0, b"unwrap()"),
        (0, b"unwrap()"),
        (1, b"todo!"),
        (2, b"FOO"),
    ]


def test_non_ascii_literal_is_its_utf8_bytes() -> None:
    r = compile_regex("é+$")
    assert r.search("café".encode()) and r.search("éé".encode())
    assert not r.search(b"cafe")


REJECTED = [
    ("a*?", 2, "lazy"),
    ("a++", 2, "possessive"),
    ("(a)\\1", 3, "backreferences"),
    ("(?=a)", 0, "plain groups"),
    ("(?P<n>a)", 0, "plain groups"),
    ("(?i)a", 0, "plain groups"),
    ("\\bword", 0, "word boundaries"),
    ("a^b", 1, "anchor '^'"),
    ("a$b", 1, "anchor '$'"),
    ("(^a)", 1, "anchor '^'"),
    ("*a", 0, "nothing to repeat"),
    ("a|+", 2, "nothing to repeat"),
    ("a**", 2, "multiple repeat"),
    ("a{2,1}", 1, "n < m"),
    ("a{300}", 1, "bound over"),
    ("a{x}", 1, "repetition"),
    ("[é]", 1, "non-ASCII"),
    ("[abc", 0, "unterminated"),
    ("(ab", 0, "missing ')'"),
    ("ab)", 2, "unbalanced"),
    ("[z-a]", 1, "bad character range"),
    ("\\p{L}", 0, "unsupported escape"),
    ("abc\\", 3, "trailing backslash"),
    ("[[:alpha:]]", 1, "POSIX"),
]


@pytest.mark.parametrize(("pattern", "offset", "reason"), REJECTED)
def test_rejected_with_offset(pattern: str, offset: int, reason: str) -> None:
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert reason in info.value.reason
    assert info.value.offset == offset


def test_file_rules_reject_anchors_and_empty_matches() -> None:
    with pytest.raises(RegexError, match="whole-file"):
        compile_regex("^fn", RegexUse.FILE)
    with pytest.raises(RegexError, match="empty string"):
        compile_regex("a*", RegexUse.FILE)


def test_state_explosion_is_an_error() -> None:
    with pytest.raises(RegexError, match=f"more than {MAX_DFA_STATES}"):
        compile_regex("(a|b)*a(a|b){13}", RegexUse.FILE)


SIM_SCRIPT = """
import numpy as np
from rustg.gpu.backend import Device
from rustg.gpu.lint.regex_dfa import DfaBank, RegexUse, compile_regex
bank = DfaBank([compile_regex("^[a-z_]+$"), compile_regex("unwrap|todo!\\\\(", RegexUse.FILE)])
texts = [b"snake_case", b"Camel", b"", b"a b"]
for dev in (Device.CPU, Device.CUDA):
    print(dev, bank.search_texts([0] * 4, texts, device=dev).tolist())
src = [b"x.unwrap(); todo!(1)", b"", b"unwrapunwrap todo"]
buf = np.frombuffer(b"".join(src), dtype=np.uint8)
fo = np.cumsum([0] + [len(s) for s in src])
for dev in (Device.CPU, Device.CUDA):
    m = bank.scan_files([1], buf, fo, device=dev, chunk_bytes=4)
    print(dev, m.file.tolist(), m.start.tolist(), m.end.tolist())
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("numba.cuda") is None, reason="no numba.cuda")
def test_simulator_matches_cpu() -> None:
    # A subprocess: NUMBA_ENABLE_CUDASIM must be set before numba.cuda is first imported.
    out = subprocess.run(
        [sys.executable, "-c", SIM_SCRIPT],
        env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"},
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].split(" ", 1)[1] == lines[1].split(" ", 1)[1] == "[1, 0, 0, 0]"
    assert lines[2].split(" ", 1)[1] == lines[3].split(" ", 1)[1]
    assert lines[2].split(" ", 1)[1] == "[0, 0, 2, 2] [2, 12, 20, 26] [8, 18, 26, 32]"


@pytest.mark.gpu
def test_cuda_matches_cpu_on_random_text() -> None:
    from rustg.gpu.backend import Device

    rng = np.random.default_rng(5)
    alphabet = np.frombuffer(b"abcunwrap(!) \n_todo", dtype=np.uint8)
    buf = alphabet[rng.integers(0, len(alphabet), 1 << 20)]
    fo = np.array([0, 1000, 1000, 500_000, len(buf)], dtype=np.int64)
    bank = DfaBank(
        [compile_regex(p, RegexUse.FILE) for p in ("unwrap", "to+do!\\(", "[a-c]{2,4}\\(")]
    )
    cpu = bank.scan_files([0, 1, 2], buf, fo, device=Device.CPU)
    gpu = bank.scan_files([0, 1, 2], buf, fo, device=Device.CUDA)
    for name in ("rule", "file", "start", "end"):
        assert np.array_equal(getattr(cpu, name), getattr(gpu, name)), name
    cons = DfaBank([compile_regex("^[a-c]+$"), compile_regex("un|do")])
    offs = np.sort(rng.integers(0, len(buf), 20_001)).astype(np.int64)
    rules = (np.arange(20_000) % 2).astype(np.int32)
    a = cons.search_many(rules, buf, offs, device=Device.CPU)
    b = cons.search_many(rules, buf, offs, device=Device.CUDA)
    assert np.array_equal(a, b)


def test_more_rules_than_one_start_mask_holds() -> None:
    words = [f"w{i}x" for i in range(70)]
    bank = DfaBank([compile_regex(w, RegexUse.FILE) for w in words])
    src = " ".join(reversed(words)).encode()
    m = bank.scan_files(list(range(70)), np.frombuffer(src, np.uint8), np.array([0, len(src)]))
    assert m.rule.tolist() == list(range(70))
    assert [src[s:e].decode() for s, e in zip(m.start, m.end, strict=True)] == words
