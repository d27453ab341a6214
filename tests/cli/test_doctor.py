"""`cargo g doctor`: real probes of this machine's tools, in JSON and for humans."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from rustg.cli.cargo_g import cmd_doctor, run


def _rows(capsys: pytest.CaptureFixture[str], workspace: Path) -> tuple[int, dict[str, dict]]:
    code = run(["doctor", "--json", "--workspace", str(workspace)])
    rows = json.loads(capsys.readouterr().out)
    return code, {r["check"]: r for r in rows}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "Cargo.toml").write_text('[package]\nname = "w"\nversion = "0.1.0"\n')
    return tmp_path / "ws"


def test_doctor_finds_the_toolchain_and_names_the_engine_backend(
    capsys: pytest.CaptureFixture[str], workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUSTG_BACKEND", "auto")
    code, rows = _rows(capsys, workspace)
    assert code == 0
    assert rows["cargo"]["status"] == "ok" and rows["cargo"]["found"].startswith("cargo ")
    assert rows["rustgd daemon"]["status"] == "absent"  # none started for this workspace
    backend = rows["engine backend"]
    assert backend["status"] == "ok"
    gpu = rows["NVIDIA GPU"]["status"] == "ok"
    assert backend["found"].startswith("auto: CUDA" if gpu else "auto: CPU"), backend
    monkeypatch.setenv("RUSTG_BACKEND", "cpu")
    assert _rows(capsys, workspace)[1]["engine backend"]["found"] == "cpu"


def test_an_invalid_backend_setting_fails_doctor_with_the_fix(
    capsys: pytest.CaptureFixture[str], workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUSTG_BACKEND", "gpu-please")
    code, rows = _rows(capsys, workspace)
    assert code == 1
    assert rows["engine backend"]["status"] == "missing"
    assert "use cpu, cuda or auto" in rows["engine backend"]["fix"]


def test_human_table_shows_the_role_when_ok_and_the_fix_when_not(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    console = Console(file=io.StringIO(), width=200, color_system=None)
    args = argparse.Namespace(workspace=str(workspace), json=False)
    assert cmd_doctor(args, console) == 0
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    cargo = next(line for line in lines if "│ cargo " in line)
    assert "builds the host side" in cargo and "rustup" not in cargo
    daemon = next(line for line in lines if "rustgd daemon" in line)
    assert "absent" in daemon and "`rustgd start` in the workspace" in daemon
