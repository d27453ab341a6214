"""`cargo g ... --manifest-path`: cargo's way of naming the workspace, on every command."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rustg.cli.cargo_g import run
from rustg.cli.daemon_client import apply_manifest_path
from rustg.cli.errors import CliError


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/a"]\n')
    crate = tmp_path / "crates" / "a"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "a"\nversion = "0.1.0"\n')
    (crate / "src" / "lib.rs").write_text("fn badName() {}\n")
    return tmp_path


def test_a_member_manifest_names_its_workspace(workspace: Path) -> None:
    args = argparse.Namespace(workspace=None, manifest_path=str(workspace / "crates/a/Cargo.toml"))
    apply_manifest_path(args)
    assert args.workspace == str(workspace.resolve())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workspace", "."], "name the workspace twice"),
        (["--manifest-path", "crates/a/src/lib.rs"], "must end in Cargo.toml"),
        (["--manifest-path", "nope/Cargo.toml"], "no such file"),
    ],
)
def test_bad_manifest_paths_are_usage_errors(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], message: str
) -> None:
    monkeypatch.chdir(workspace)
    argv = [
        "lint",
        *(["--manifest-path", "Cargo.toml"] if extra[0] == "--workspace" else []),
        *extra,
    ]
    with pytest.raises(CliError, match=message) as info:
        run(argv)
    assert info.value.exit_code == 2


def test_lint_and_cache_accept_it(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir("/")
    assert run(["lint", "--manifest-path", str(workspace / "crates/a/Cargo.toml")]) == 0
    assert "1 warning(s) in 1 file(s)" in capsys.readouterr().out  # fn_naming, found from /
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert run(["cache", "stats", "--json", "--manifest-path", str(workspace / "Cargo.toml")]) == 0


def test_fmt_takes_the_workspace_as_its_default_scope(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "crates/a/src/lib.rs").write_text("fn   spaced( ) {}\n")
    monkeypatch.chdir("/")
    assert (
        run(["fmt", "--check", "--no-cache", "--manifest-path", str(workspace / "Cargo.toml")]) == 1
    )
    assert "+fn spaced() {}" in capsys.readouterr().out
    assert run(["fmt", "--check", "--no-cache", "--workspace", str(workspace / "crates")]) == 1
