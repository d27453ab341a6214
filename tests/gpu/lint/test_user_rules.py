"""User rules: loading from rustg-lint.toml and Cargo.toml, positioned errors, running beside
the built-in rules in the engine, rule tests and `cargo g lint --test-rules`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rustg.cli.cargo_g import run
from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.model import Level
from rustg.gpu.lint.user_rules import (
    InvalidRuleFile,
    RuleTestOutcome,
    load_rule_files,
    parse_rules,
    regex_findings,
    run_rule_tests,
)

RULES = r"""
[[rule]]
name = "unwrap_in_gpu"
pattern = "$X.unwrap()"
message = "`$X.unwrap()` panics on the GPU"
level = "deny"
category = "gpu-correctness"
inside = ["kernel", "device"]
fix = "$X.unwrap_or_default()"
valid = ["fn host() { a.unwrap(); }"]
[[rule.invalid]]
code = "#[rustg::kernel]\nfn k() { let v = a.unwrap(); }"
fixed = "#[rustg::kernel]\nfn k() { let v = a.unwrap_or_default(); }"

[[rule]]
name = "short_const"
pattern = "const $N: $T = $V;"
message = "const $N: name it"
not-inside = ["test"]
[rule.constraints.N]
regex = "^[A-Z]{1,2}$"
kind = "ident"

[[rule]]
name = "todo_comment"
regex = "TODO[^(]"
message = "TODO without an issue reference"
invalid = ["// TODO fix"]
valid = ["// TODO(#12) fix"]
"""

CARGO = """
[package]
name = "ws"
version = "0.1.0"

[workspace.metadata.rustg.lints]
levels = { no_println = "deny" }

[[workspace.metadata.rustg.lints.rule]]
name = "no_println"
pattern = "println!($$$A)"
message = "println! with $A"
"""

SOURCE = b"""const AB: u32 = 1;
const ABC: u32 = 2;
// TODO later
#[rustg::kernel]
fn k(a: Option<u32>) { let v = a.unwrap(); println!("{}", v); }
fn host(a: Option<u32>) { a.unwrap(); }
#[cfg(test)]
mod tests { const T: u8 = 0; }
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "rustg-lint.toml").write_text(RULES)
    (tmp_path / "Cargo.toml").write_text(CARGO)
    return tmp_path


def _findings(workspace: Path) -> list[tuple[str, str, str]]:
    rules = load_rule_files(workspace)
    ctx = LintFile.from_source("src/lib.rs", SOURCE)
    out = []
    for r in rules:
        for f in r.check(ctx):
            out.append((f.rule, SOURCE[f.start : f.end].decode(), f.message))
    return out


def test_rules_from_both_files_find_what_they_should(workspace: Path) -> None:
    assert _findings(workspace) == [
        ("no_println", 'println!("{}", v)', 'println! with "{}", v'),
        ("unwrap_in_gpu", "a.unwrap()", "`a.unwrap()` panics on the GPU"),
        ("short_const", "const AB: u32 = 1;", "const AB: name it"),
        ("todo_comment", "TODO ", "TODO without an issue reference"),
    ]


def test_fix_is_machine_applicable_edit(workspace: Path) -> None:
    (rule,) = [r for r in load_rule_files(workspace) if r.meta.name == "unwrap_in_gpu"]
    (f,) = rule.check(LintFile.from_source("k.rs", SOURCE))
    assert f.fix is not None and f.fix.machine_applicable
    (edit,) = f.fix.edits
    assert (SOURCE[edit.start : edit.end], edit.replacement) == (
        b"a.unwrap()",
        "a.unwrap_or_default()",
    )


def test_engine_runs_user_rules_with_levels_and_suppressions(workspace: Path) -> None:
    from rustg.gpu.lint.config import load_lint_config
    from rustg.gpu.lint.engine import LintEngine

    config = load_lint_config(workspace)
    engine = LintEngine(rules=[], extra_rules=load_rule_files(workspace), config=config)
    src = SOURCE + b"#[allow(rustg::no_println)]\nfn q() { println!(); }\n"
    found = engine.lint_sources({"src/lib.rs": src})["src/lib.rs"]
    by_rule = {(f.rule, f.level) for f in found}
    assert ("no_println", Level.DENY) in by_rule  # configured level
    assert ("unwrap_in_gpu", Level.DENY) in by_rule
    assert sum(f.rule == "no_println" for f in found) == 1  # the allowed one is suppressed


INVALID = [
    ('name = "a"\npattern = "foo($X"\nmessage = "m"', [(3, 15, "invalid pattern: unbalanced")]),
    ('name = "b"\nregex = "x*?"\nmessage = "m"', [(3, 12, "lazy quantifiers")]),
    (
        'name = "c"\npattern = "a"\nmessage = "m"\ncolour = "red"',
        [(5, 10, "unknown key 'colour'")],
    ),
    ('name = "d"\npattern = "$X.y()"\nmessage = "bad $Y"', [(4, 16, "$Y is not a metavariable")]),
    (
        'name = "e"\npattern = "a"\nmessage = "m"\ninside = ["kernel", "gpu"]',
        [(5, 21, "unknown context 'gpu'")],
    ),
    ('name = "f"\npattern = "a"\nmessage = "m"\nlevel = 3', [(5, 9, "'level' must be a string")]),
    (
        'name = "g"\npattern = "$X.y()"\nmessage = "m"\n'
        'constraints = { X = { regex = "a(?=b)", kind = "word" } }',
        [(5, 33, "plain groups"), (5, 48, "unknown kind 'word'")],
    ),
    ('name = "h"\nmessage = "m"', [(1, 1, "exactly one of 'pattern' and 'regex'")]),
    ('name = "Bad-Name"\npattern = "a"\nmessage = "m"', [(2, 8, "snake_case")]),
    (
        'name = "i"\npattern = "a"\nmessage = "m"\n[rule.constraints.Q]\nregex = "x"',
        [(5, 1, "constraint on $Q, which the pattern lacks")],
    ),
    ("name = 'j'\npattern = '''\nfoo(\n  $X'''\nmessage = 'm'", [(4, 4, "unbalanced")]),
    ('name = "k"\npattern = "a"\nmessage = "m"\nlevel = "loud"', [(5, 9, "level must be one of")]),
]


@pytest.mark.parametrize(("body", "want"), INVALID)
def test_invalid_rules_are_reported_with_positions(
    body: str, want: list[tuple[int, int, str]]
) -> None:
    rules, problems = parse_rules("[[rule]]\n" + body + "\n", "rustg-lint.toml")
    assert rules == []
    assert [(p.line, p.column) for p in problems] == [(line, col) for line, col, _ in want]
    for p, (_, _, text) in zip(problems, want, strict=True):
        assert text in p.message
        assert p.path == "rustg-lint.toml"


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "rustg-lint.toml").write_text(
        '[[rule]]\nname = "ok"\npattern = "a"\nmessage = "m"\n\n'
        '[[rule]]\nname = "ok"\npattern = "b("\nmessage = "m"\n'
    )
    with pytest.raises(InvalidRuleFile) as info:
        load_rule_files(tmp_path)
    assert [(p.line, p.message.split(":")[0]) for p in info.value.problems] == [
        (7, "two rules are named 'ok'"),
        (8, "invalid pattern"),
    ]


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    from rustg.daemon.errors import ConfigError

    (tmp_path / "rustg-lint.toml").write_text("[[rule]\nname = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_rule_files(tmp_path)


def test_rule_tests_pass_and_fail() -> None:
    bad = r"""
[[rule]]
name = "no_dbg"
pattern = "dbg!($$$A)"
message = "dbg! left in"
fix = "$A"
valid = ["fn f() { dbg!(x); }"]
invalid = ["fn f() { println!(x); }", { code = "fn f() { dbg!(x); }", fixed = "fn f() { y; }" }]
"""
    rules, problems = parse_rules(bad, "r.toml")
    assert problems == []
    results = run_rule_tests(rules)
    assert [(str(r.kind), r.index, r.outcome) for r in results] == [
        ("valid", 0, RuleTestOutcome.FAIL),
        ("invalid", 0, RuleTestOutcome.FAIL),
        ("invalid", 1, RuleTestOutcome.FAIL),
    ]
    assert "expected no finding" in results[0].detail
    assert "expected a finding" in results[1].detail
    assert "fix gave 'fn f() { x; }'" in results[2].detail


@pytest.mark.slow  # builds the whole engine (every built-in rule) three times
def test_cli_test_rules(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lint", "--test-rules", "--workspace", str(workspace)]) == 0
    assert "4 examples, 0 failed" in capsys.readouterr().out
    assert run(["lint", "--test-rules", "--json", "--workspace", str(workspace)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["rules"], doc["examples"], doc["failed"]) == (4, 4, 0)
    (workspace / "rustg-lint.toml").write_text(
        RULES.replace('valid = ["// TODO(#12) fix"]', 'valid = ["// TODO fix"]')
    )
    assert run(["lint", "--test-rules", "--workspace", str(workspace)]) == 1
    assert "1 failed" in capsys.readouterr().out
    (workspace / "rustg-lint.toml").write_text(
        RULES.replace('regex = "TODO[^(]"', 'regex = "TODO\\\\b"')
    )
    with pytest.raises(InvalidRuleFile, match="word boundaries"):  # main_wrapper: exit 2
        run(["lint", "--test-rules", "--workspace", str(workspace)])


def test_workspace_regex_scan_equals_per_file_checks(workspace: Path) -> None:
    from rustg.gpu.backend import Device

    rules = load_rule_files(workspace)
    sources = [SOURCE, b"", b"// TODO x\n// TODO(#1)\n/* TODO y */", SOURCE[::-1]]
    ctxs = [LintFile.from_source(f"f{i}.rs", s) for i, s in enumerate(sources)]
    want = [[f for r in rules if r.regex is not None for f in r.check(c)] for c in ctxs]
    assert regex_findings(rules, ctxs, device=Device.CPU) == want
    assert [len(w) for w in want] == [1, 0, 2, 0]
