"""The bundled example workspaces and the copy of Debian's regex crate build for real.

End-to-end tests and the save-latency benchmark start from these workspaces; these tests say
the starting point is sound (it builds, its tests pass, it has no diagnostics) so a failure
there is about the daemon, not about the workspace.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from rustg.daemon.rustc_diagnostics import BuildFinished, CompilerDiagnostic, parse_cargo_line
from tests.support import rust_workspaces
from tests.support.rust_workspaces import (
    EXAMPLES_DIR,
    cargo_env,
    copy_example,
    copy_regex,
    require_regex,
)

EXAMPLES = sorted(p.parent.name for p in EXAMPLES_DIR.glob("*/Cargo.toml"))
JSON_ALL_TARGETS = ("--workspace", "--all-targets", "--message-format=json")


def cargo(workspace: Path, target: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["cargo", *args],
        cwd=workspace,
        env=cargo_env(target),
        capture_output=True,
        check=False,
        timeout=600,
    )


def check_json(workspace: Path, target: Path) -> tuple[list[CompilerDiagnostic], bool]:
    """`cargo check --all-targets` as the daemon runs it: (diagnostics, build succeeded)."""
    result = cargo(workspace, target, "check", *JSON_ALL_TARGETS)
    parsed = [parse_cargo_line(line, workspace, 1) for line in result.stdout.splitlines()]
    finished = [p for p in parsed if isinstance(p, BuildFinished)]
    assert len(finished) == 1, result.stderr.decode()
    diagnostics = [p for p in parsed if isinstance(p, CompilerDiagnostic)]
    return diagnostics, finished[0].success


# -- copies -----------------------------------------------------------------------------------


def test_there_is_an_example_workspace() -> None:
    assert "hello-gpu" in EXAMPLES


def test_copy_example_copies_sources_without_build_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An examples folder after someone ran cargo in it.
    examples = tmp_path / "examples"
    shutil.copytree(
        EXAMPLES_DIR / "hello-gpu", examples / "hello-gpu", ignore=shutil.ignore_patterns("target")
    )
    (examples / "hello-gpu" / "target" / "debug").mkdir(parents=True)
    monkeypatch.setattr(rust_workspaces, "EXAMPLES_DIR", examples)
    workspace = copy_example(tmp_path / "copies")
    assert workspace == tmp_path / "copies" / "examples" / "hello-gpu"
    assert not (workspace / "target").exists()
    manifest = tomllib.loads((workspace / "Cargo.toml").read_text())
    members = manifest["workspace"]["members"]
    assert len(members) == 2
    for member in members:
        assert (workspace / member / "Cargo.toml").is_file()
        assert list((workspace / member / "tests").glob("*.rs")), (
            f"{member} has no integration test"
        )
    app = tomllib.loads((workspace / "crates/app/Cargo.toml").read_text())
    assert app["dependencies"]["gpu-math"] == {"path": "../gpu-math"}


def test_copy_example_rejects_an_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no example workspace 'nope'"):
        copy_example(tmp_path, "nope")


@pytest.mark.corpus
def test_copy_regex_is_a_standalone_offline_workspace(tmp_path: Path) -> None:
    pristine = require_regex()
    workspace = copy_regex(tmp_path)
    assert workspace == tmp_path / "regex"
    assert not (workspace / ".cargo-checksum.json").exists()
    assert (workspace / "src" / "lib.rs").read_bytes() == (pristine / "src" / "lib.rs").read_bytes()
    manifest = tomllib.loads((workspace / "Cargo.toml").read_text())
    assert manifest["workspace"] == {}
    assert set(manifest["dev-dependencies"]) == {"lazy_static", "quickcheck", "rand"}
    config = tomllib.loads((workspace / ".cargo" / "config.toml").read_text())
    assert config["source"]["crates-io"] == {"replace-with": "debian-registry"}
    assert config["source"]["debian-registry"] == {"directory": "/usr/share/cargo/registry"}
    lock = tomllib.loads((workspace / "Cargo.lock").read_text())
    assert {p["name"]: p["version"] for p in lock["package"]}["regex-syntax"] == "0.6.27"
    # The copy is the user's to edit.
    (workspace / "src" / "lib.rs").write_text("// edited\n")


# -- real builds ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_tests_pass(name: str, tmp_path: Path) -> None:
    workspace = copy_example(tmp_path, name)
    result = cargo(workspace, tmp_path / "target", "test", "--workspace")
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output
    counts = [int(n) for n in re.findall(r"test result: ok\. (\d+) passed; 0 failed", output)]
    assert sum(counts) >= 10, output  # unit + integration tests of both crates ran
    assert "FAILED" not in output


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_free_of_diagnostics(name: str, tmp_path: Path) -> None:
    """rustc and clippy have nothing to say: end-to-end tests start from an empty feed."""
    workspace = copy_example(tmp_path, name)
    target = tmp_path / "target"
    diagnostics, success = check_json(workspace, target)
    assert success
    assert [d.diagnostic for d in diagnostics] == []
    clippy = cargo(workspace, target, "clippy", *JSON_ALL_TARGETS)
    lints = [parse_cargo_line(line, workspace, 1) for line in clippy.stdout.splitlines()]
    assert [p.diagnostic for p in lints if isinstance(p, CompilerDiagnostic)] == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_free_of_rustg_lint_and_fmt_findings(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Our own linter and formatter have nothing to say either (the daemon runs both)."""
    from rustg.cli.cargo_g import run

    workspace = str(copy_example(tmp_path, name))
    assert run(["lint", "--workspace", workspace, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(["fmt", "--check", workspace]) == 0, capsys.readouterr().out


@pytest.mark.slow
def test_example_type_error_is_reported_at_its_line(tmp_path: Path) -> None:
    """The edit the end-to-end tests make: break a type in the app crate."""
    workspace = copy_example(tmp_path)
    lib = workspace / "crates" / "app" / "src" / "lib.rs"
    text = lib.read_text()
    lib.write_text(text + '\npub fn broken() -> u32 {\n    "not a number"\n}\n')
    diagnostics, success = check_json(workspace, tmp_path / "target")
    assert not success
    errors = {(d.diagnostic.file, d.diagnostic.line, d.diagnostic.code) for d in diagnostics}
    assert errors == {("crates/app/src/lib.rs", text.count("\n") + 3, "E0308")}


@pytest.mark.slow
@pytest.mark.corpus
def test_regex_copy_checks_offline_with_all_targets(tmp_path: Path) -> None:
    require_regex()
    workspace = copy_regex(tmp_path)
    diagnostics, success = check_json(workspace, tmp_path / "target")
    assert success
    assert [d.diagnostic for d in diagnostics if d.diagnostic.severity == "error"] == []
