"""Real processes: rustgd, rg-watch and cargo, on temporary copies of real workspaces."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rustg.daemon.lock import is_locked
from tests.support.rust_workspaces import cargo_env, copy_example

BIN = Path(sys.executable).parent


class DaemonHarness:
    def __init__(self, workspace: Path, env: dict[str, str]) -> None:
        self.workspace = workspace
        self.env = env

    def run(self, tool: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / tool), *args, "--workspace", str(self.workspace)],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def start(self) -> None:
        out = self.run("rustgd", "start", timeout=90)
        assert out.returncode == 0, out.stderr + out.stdout

    def stop(self) -> None:
        self.run("rustgd", "stop", timeout=30)

    def once(self, after_generation: int = 0) -> dict[str, Any]:
        out = self.run("rg-watch", "--once", "--json", "--after-generation", str(after_generation))
        assert out.returncode == 0, out.stderr + self.daemon_log_tail()
        doc: dict[str, Any] = json.loads(out.stdout)
        return doc

    def daemon_log_tail(self, lines: int = 40) -> str:
        """The end of the daemon's log (for a failing assertion's message)."""
        log = Path(self.env["XDG_CACHE_HOME"]) / "rustg" / self.runtime_dir.name / "daemon.log"
        try:
            tail = log.read_text(errors="replace").splitlines()[-lines:]
        except OSError as exc:
            return f"\n(no daemon log: {exc})"
        alive = "held" if is_locked(self.runtime_dir / "daemon.lock") else "NOT held"
        return f"\n--- daemon lock {alive}; {log} (last {lines} lines):\n" + "\n".join(tail)

    @property
    def runtime_dir(self) -> Path:
        from rustg.daemon.workspace import workspace_id

        return Path(self.env["XDG_RUNTIME_DIR"]) / "rustg" / workspace_id(self.workspace)

    def pid(self) -> int:
        return int((self.runtime_dir / "daemon.lock").read_text().strip())

    def kill9(self) -> None:
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def write(self, rel: str, text: str) -> None:
        (self.workspace / rel).write_text(text)


@pytest.fixture
def isolated_env() -> Iterator[dict[str, str]]:
    # ipc socket paths are limited to ~107 bytes: keep the runtime dir short.
    base = Path(tempfile.mkdtemp(prefix="rg", dir="/tmp"))
    (base / "run").mkdir(mode=0o700)
    env = cargo_env(base=os.environ)
    env.update(XDG_RUNTIME_DIR=str(base / "run"), XDG_CACHE_HOME=str(base / "cache"))
    env.pop("NO_COLOR", None)
    yield env
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def example_daemon(tmp_path: Path, isolated_env: dict[str, str]) -> Iterator[DaemonHarness]:
    harness = DaemonHarness(copy_example(tmp_path), isolated_env)
    yield harness
    harness.stop()
