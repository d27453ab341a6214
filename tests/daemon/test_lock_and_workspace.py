"""One daemon per workspace; workspace discovery; private runtime directories; config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rustg.daemon.config import Config, load_config
from rustg.daemon.errors import AlreadyRunning, ConfigError, WorkspaceError
from rustg.daemon.lock import WorkspaceLock, is_locked, read_lock_pid
from rustg.daemon.workspace import WorkspacePaths, find_workspace_root, workspace_id


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    path = tmp_path / "daemon.lock"
    with WorkspaceLock(path):
        assert is_locked(path)
        assert read_lock_pid(path) == os.getpid()
        with pytest.raises(AlreadyRunning) as info:
            WorkspaceLock(path).acquire()
        assert info.value.pid == os.getpid()
    assert not is_locked(path)


def test_lock_of_a_killed_process_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "daemon.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from rustg.daemon.lock import WorkspaceLock as L;"
         f"l=L(__import__('pathlib').Path({str(path)!r})); l.acquire(); print('ok', flush=True);"
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
    assert is_locked(path)
    holder.kill()
    holder.wait()
    holder.stdout.close()
    # The lock file is still there, with the dead pid in it, but it no longer blocks.
    assert path.exists() and read_lock_pid(path) == holder.pid
    with WorkspaceLock(path):
        assert read_lock_pid(path) == os.getpid()


def test_find_workspace_root(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/a"]\n')
    crate = tmp_path / "crates" / "a"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "a"\nversion = "0.1.0"\n')
    assert find_workspace_root(crate / "src") == tmp_path.resolve()
    lone = tmp_path / "lone"
    lone.mkdir()
    with pytest.raises(WorkspaceError):
        find_workspace_root(Path("/"))
    (lone / "Cargo.toml").write_text('[package]\nname = "lone"\nversion = "0.1.0"\n')
    # A package without [workspace] inside a workspace dir still resolves outward.
    assert find_workspace_root(lone) == tmp_path.resolve()


def test_runtime_dir_is_private(tmp_path: Path) -> None:
    paths = WorkspacePaths.for_root(tmp_path, runtime=tmp_path / "run", state=tmp_path / "state")
    paths.ensure()
    assert paths.runtime_dir.name == workspace_id(tmp_path) and len(paths.id) == 16
    assert (paths.runtime_dir.stat().st_mode & 0o777) == 0o700
    assert (paths.runtime_dir.parent.stat().st_mode & 0o777) == 0o700
    assert paths.events_endpoint.startswith("ipc://")


def test_config_defaults_and_overrides(tmp_path: Path) -> None:
    assert load_config(tmp_path) == Config()
    (tmp_path / "Cargo.toml").write_text(
        "[workspace]\n[workspace.metadata.rustg.daemon]\ndebounce_ms = 50\n"
        '[workspace.metadata.rustg.daemon.check]\ncommand = "clippy"\n'
    )
    (tmp_path / "rustg.toml").write_text('[daemon]\nignore = ["*.generated.rs"]\n')
    config = load_config(tmp_path)
    assert (config.debounce_ms, config.check_command, config.ignore) == (
        50, "clippy", ("*.generated.rs",),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[daemon]\ndebounce = 5\n", "unknown key 'debounce'"),
        ('[daemon]\ndebounce_ms = "5"\n', "'debounce_ms' has the wrong type"),
        ('[daemon]\ncheck.command = "build"\n', "'check.command' must be"),
        ("[daemon\n", "invalid TOML"),
    ],
)
def test_config_errors_name_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "rustg.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert message in str(info.value) and "rustg.toml" in str(info.value)
