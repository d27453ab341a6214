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
    assert precommit(repo) == (0, {"files": ["good.rs"], "problems": []})

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
