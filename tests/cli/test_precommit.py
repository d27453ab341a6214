"""rg-precommit on a real git repository: it checks the staged blobs, not the working tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("rustfmt") is None, reason="rustfmt is not installed"),
]

BIN = Path(sys.executable).parent


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def precommit(repo: Path) -> tuple[int, dict[str, object]]:
    out = subprocess.run(
        [str(BIN / "rg-precommit"), "--json"], cwd=repo, capture_output=True, text=True, check=False
    )
    return out.returncode, json.loads(out.stdout)


def test_staged_content_is_what_gets_checked(tmp_path: Path) -> None:
    repo = tmp_path
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "t")
    good = "pub fn ok() -> u32 {\n    1\n}\n"
    (repo / "good.rs").write_text(good)
    git(repo, "add", "good.rs")
    assert precommit(repo) == (0, {"files": ["good.rs"], "problems": [], "warnings": []})

    (repo / "ugly.rs").write_text("pub fn   ugly( ) ->u32 {1}\n")
    (repo / "broken.rs").write_text('fn f() {\n    let s = "open;\n}\n')
    (repo / "latin1.rs").write_bytes(b"// caf\xe9\n")
    git(repo, "add", "ugly.rs", "broken.rs", "latin1.rs")
    (repo / "good.rs").write_text("fn   not_staged( ){}\n")  # working tree only: ignored
    code, report = precommit(repo)
    assert code == 1
    problems = {(p["file"], p["check"]) for p in report["problems"]}  # type: ignore[attr-defined, index]
    assert problems == {
        ("ugly.rs", "rustfmt"),
        ("broken.rs", "syntax"),
        ("broken.rs", "rustfmt"),  # rustfmt cannot parse it either
        ("latin1.rs", "utf8"),
    }
    syntax = [p for p in report["problems"] if p["check"] == "syntax"]  # type: ignore[attr-defined]
    assert (syntax[0]["line"], syntax[0]["column"]) == (2, 13)
    fmt = next(p for p in report["problems"] if p["file"] == "ugly.rs")  # type: ignore[attr-defined]
    assert "+pub fn ugly() -> u32 {" in fmt["detail"]


def test_deny_level_lint_findings_block_the_commit_and_warnings_do_not(tmp_path: Path) -> None:
    repo = tmp_path
    git(repo, "init", "-q")
    (repo / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\nedition = "2018"\n')
    (repo / "src").mkdir()
    # Cross-file: the kernel calls a host fn defined in another (unstaged, committed) file.
    (repo / "src" / "host.rs").write_text("pub fn host_only() -> u32 {\n    1\n}\n")
    kernel = (
        "mod host;\n\n/// Doubles.\n#[rustg::kernel]\npub fn k(x: u32) {\n"
        "    let v = vec![x];\n    let _ = v;\n    let _ = host::host_only();\n}\n"
    )
    (repo / "src" / "lib.rs").write_text(kernel)
    (repo / "src" / "warn.rs").write_text("pub fn f() {\n    dbg!(1);\n}\n")
    git(repo, "add", "Cargo.toml", "src/lib.rs", "src/warn.rs")
    code, report = precommit(repo)
    assert code == 1
    lint = [(p["file"], p["line"]) for p in report["problems"] if p["check"] == "lint"]  # type: ignore[attr-defined, index]
    assert lint == [("src/lib.rs", 6), ("src/lib.rs", 8)], report
    messages = " ".join(p["message"] for p in report["problems"])  # type: ignore[attr-defined, index]
    assert "gpu_alloc_macro" in messages and "gpu_calls_host_fn" in messages
    warned = [(w["file"], w["line"]) for w in report["warnings"]]  # type: ignore[attr-defined, index]
    assert ("src/warn.rs", 2) in warned
    # Fixing the staged blob is what counts; the working tree keeps its error.
    fixed = kernel.replace("vec![x]", "[x]").replace("host::host_only()", "x")
    (repo / "src" / "lib.rs").write_text(fixed)
    git(repo, "add", "src/lib.rs")
    (repo / "src" / "lib.rs").write_text(kernel)
    code, report = precommit(repo)
    assert [p for p in report["problems"] if p["check"] == "lint"] == [], report  # type: ignore[attr-defined, index]
    assert code == 0
