"""The pattern language: data-driven matches (tests/gpu/lint/data/pattern_cases.toml), the
prefilter against a brute-force run of the matcher at every row, and compile errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.pattern import PatternError, _Matcher, compile_pattern, compile_template

CASES = tomllib.loads((Path(__file__).parent / "data" / "pattern_cases.toml").read_text())["case"]


def _ctx(source: str) -> LintFile:
    return LintFile.from_source("t.rs", source.encode())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pattern_case(case: dict[str, Any]) -> None:
    ctx = _ctx(case["source"])
    found = compile_pattern(case["pattern"]).find(ctx)
    assert [ctx.span_text(m.first, m.last) for m in found] == case["matches"]
    if "binds" in case:
        got = [{k: ctx.span_text(*v) for k, v in m.binds.items()} for m in found]
        assert got == case["binds"]


def _brute_force(pattern: str, ctx: LintFile) -> list[int]:
    """The matcher tried at every significant row (no prefilter)."""
    p = compile_pattern(pattern)
    m = _Matcher(ctx)
    out = []
    for r in ctx.sig.tolist():
        if int(ctx.kind[r]) in (49, 51, 53):
            continue
        if next(iter(m.seq(p.elems, 0, r, m.group_end(r), {}, need_end=False)), None):
            out.append(r)
    return out


SOURCE = """
fn f(v: Vec<u8>) -> u8 {
    let a = v.iter().map(|x| x + 1).collect::<Vec<_>>();
    let b = (v.len() + a.len()).unwrap();
    for i in 0..a.len() { g(a[i], a[i]).unwrap(); h(i, i); }
    x.y.z.unwrap().unwrap()
}
"""


@pytest.mark.parametrize(
    "pattern", ["$X.unwrap()", "g($A, $A)", "$A.len()", "h($$$R)", "$F($X, $X)", "let $V = $$$E;"]
)
def test_prefilter_finds_what_brute_force_finds(pattern: str) -> None:
    ctx = _ctx(SOURCE)
    assert [m.first for m in compile_pattern(pattern).find(ctx)] == _brute_force(pattern, ctx)


@pytest.mark.parametrize(
    ("pattern", "offset", "reason"),
    [
        ("", 0, "empty pattern"),
        ("// only a comment", 0, "no tokens"),
        ("foo($X", 3, "unbalanced"),
        ("foo($X))", 7, "unbalanced"),
        ("$$X", 0, "write $X or $$$X"),
        ("$$$A foo", 0, "before its first $$$"),
        ("$X", 0, "before its first $$$"),
        ("f($X, $$$X)", 6, "both as $ and $$$"),
        ('"unterminated', 0, "does not lex"),
    ],
)
def test_pattern_errors(pattern: str, offset: int, reason: str) -> None:
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern)
    assert reason in info.value.reason
    assert info.value.offset == offset


def test_template_substitutes_matched_source_text() -> None:
    ctx = _ctx("fn f() { opt /* keep */ .unwrap(); }")
    p = compile_pattern("$X.unwrap()")
    (m,) = p.find(ctx)
    assert compile_template('$X.expect("$X is set") costs $5', p.metavars).render(ctx, m) == (
        'opt.expect("opt is set") costs $5'
    )


def test_template_errors() -> None:
    with pytest.raises(PatternError, match=r"\$Y is not a metavariable") as info:
        compile_template("use $Y", {"X": False})
    assert info.value.offset == 4
    with pytest.raises(PatternError, match="anonymous"):
        compile_template("$_", {"X": False})


@pytest.mark.parametrize("pattern", ["$X.unwrap()", "$A.len()", "Vec::new()", "$X as *const $T"])
def test_flat_patterns_match_like_the_tree_walk(pattern: str) -> None:
    src = SOURCE + "fn g() { Vec::new(); Vec::new(1); p as *const u8; (q) as *const [T]; }"
    ctx = _ctx(src)
    p = compile_pattern(pattern)
    assert p.flat
    m = _Matcher(ctx)
    walked = []
    for r in p.candidates(ctx).tolist():
        for after, binds in m.seq(p.elems, 0, r, m.group_end(r), {}, need_end=False):
            walked.append((r, int(ctx.prv[after]) if after < ctx.n else int(ctx.sig[-1]), binds))
            break
    assert [(x.first, x.last, x.binds) for x in p.find(ctx)] == walked
    assert walked


@pytest.mark.parametrize("source", ["", "// only trivia\n", "fn f() { a.b(); }"])
def test_no_candidates(source: str) -> None:
    for pattern in ("$X.unwrap()", "call($$$A)"):
        assert compile_pattern(pattern).find(_ctx(source)) == []
