"""Every built-in rule against its data files: tests/gpu/lint/cases/<rule>/{invalid,valid}.rs.

``invalid.rs`` marks each line where the rule must report with a trailing ``//~`` (``//~ 2``:
twice on that line); the rule must report exactly there and nowhere else. ``valid.rs`` holds
the near misses that must stay silent. All rules run together (as in real use), so a case also
checks that the engine's merged one-pass matching attributes matches to the right rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rustg.gpu.lint.engine import LintEngine
from rustg.gpu.lint.rules import builtin_rules

CASES = Path(__file__).parent / "cases"
_MARK = re.compile(r"//~\s*(\d+)?\s*$")


@pytest.fixture(scope="module")
def engine() -> LintEngine:
    return LintEngine()


def expected_lines(source: str) -> list[int]:
    out = []
    for n, line in enumerate(source.splitlines(), 1):
        m = _MARK.search(line)
        if m:
            out += [n] * int(m.group(1) or 1)
    return out


def found_lines(engine: LintEngine, rule: str, path: Path) -> list[int]:
    source = path.read_bytes()
    findings = engine.lint_sources({path.name: source})[path.name]
    return sorted(source[: f.start].count(b"\n") + 1 for f in findings if f.rule == rule)


def test_every_rule_has_cases(engine: LintEngine) -> None:
    names = {r.meta.name for r in builtin_rules()} | {"unknown_lint"}
    have = {p.name for p in CASES.iterdir() if p.is_dir()}
    assert names - have == set(), "rules without case files"
    assert have - names == set(), "case folders naming no rule"
    assert len(names) >= 40


def test_every_rule_is_documented(engine: LintEngine) -> None:
    for name, meta in engine.metas.items():
        assert meta.summary and meta.docs.strip(), name
        assert "    " in meta.docs, f"{name}: docs need an indented example"


@pytest.mark.parametrize("rule", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_invalid_reports_exactly_the_marked_lines(engine: LintEngine, rule: str) -> None:
    path = CASES / rule / "invalid.rs"
    want = expected_lines(path.read_text())
    assert want, f"{path} marks no line"
    assert found_lines(engine, rule, path) == want


@pytest.mark.parametrize("rule", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_valid_is_silent(engine: LintEngine, rule: str) -> None:
    assert found_lines(engine, rule, CASES / rule / "valid.rs") == []


def test_docs_rules_reference_is_current(engine: LintEngine) -> None:
    from rustg.gpu.lint.docs import BEGIN, END, rules_markdown

    text = (Path(__file__).parents[3] / "docs" / "lint.md").read_text()
    section = text[text.index(BEGIN) : text.index(END) + len(END) + 1]
    assert section == rules_markdown(engine.metas), "run python -m rustg.gpu.lint.docs --write"
