"""Running the kernel pipeline's tools (rustc, ptxas, nvlink, fatbinary) so that a superseded
build can be stopped: every process is started in its own process group and registered with
the build's ``Cancellation``; ``cancel()`` (from any thread) kills them all, and the build's
next step raises ``BuildCancelled`` instead of starting another tool.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

from ..errors import ToolError


class BuildCancelled(ToolError):
    """The build was superseded (a newer save) and stopped; its outputs are incomplete."""


class Cancellation:
    """Shared by a build's worker threads and whoever may stop it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self._cancelled = False
        self.killed: list[int] = []  # pids of the processes cancel() killed (tests, logs)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            running = list(self._running)
        for process in running:
            if process.poll() is None:
                self.killed.append(process.pid)
            _kill_group(process)

    def check(self) -> None:
        if self._cancelled:
            raise BuildCancelled("kernel build superseded by a newer save")

    def _start(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._running.add(process)
            cancelled = self._cancelled
        if cancelled:  # cancel() ran between check() and Popen: it did not see this one
            _kill_group(process)

    def _done(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._running.discard(process)


def _kill_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_tool(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
    cancel: Cancellation | None = None,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(capture_output=True, text=True)``, stoppable through ``cancel``.
    A tool that cannot be started or runs past ``timeout`` is a ToolError."""
    if cancel is not None:
        cancel.check()
    try:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        raise ToolError(f"cannot run {command[0]}: {exc}") from exc
    if cancel is not None:
        cancel._start(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(process)
        process.communicate()
        raise ToolError(f"{command[0]} ran past {timeout:.0f} s") from exc
    finally:
        if cancel is not None:
            cancel._done(process)
    if cancel is not None:
        cancel.check()  # killed by cancel(): its (partial) output means nothing
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
