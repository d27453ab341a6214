"""Stale work is killed; clients follow the daemon across restarts."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BIN, DaemonHarness

pytestmark = pytest.mark.slow

LIB = "crates/app/src/lib.rs"


class EventStream:
    """`rg-watch --json` as a subprocess, read line by line."""

    def __init__(self, h: DaemonHarness) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "rg-watch"), "--json", "--workspace", str(h.workspace)],
            env=h.env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def until(self, predicate: Any, timeout: float = 60) -> list[dict[str, Any]]:
        assert self.proc.stdout is not None
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
            if predicate(seen[-1]):
                return seen
        raise AssertionError(f"condition not met; saw {[e.get('type') for e in seen]}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _sleepers(marker: Path) -> list[str]:
    out = subprocess.run(["pgrep", "-f", str(marker)], capture_output=True, text=True, check=False)
    return out.stdout.split()


def _slow_cargo(h: DaemonHarness, tmp_path: Path) -> Path:
    """A `cargo` that sleeps 30 s; `exec -a` names the sleep after this script, so the test
    can see whether it still runs."""
    slow = tmp_path / "slow-cargo"
    slow.write_text(f'#!/bin/bash\nexec -a "{slow}-sleep" sleep 30\n')
    slow.chmod(0o755)
    h.env["CARGO"] = str(slow)
    return slow


def _wait_until(condition: Any, timeout: float) -> None:
    """Poll ``condition()`` every 50 ms until it holds or ``timeout`` seconds pass (the caller
    asserts it afterwards, with its own message)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_newer_save_kills_the_running_check(
    example_daemon: DaemonHarness, tmp_path: Path
) -> None:
    h = example_daemon
    slow = _slow_cargo(h, tmp_path)
    h.start()
    stream = EventStream(h)
    try:
        stream.until(lambda e: e.get("type") == "snapshot")
        _wait_until(lambda: _sleepers(slow), 10)
        assert _sleepers(slow), "the slow check should be running"
        original = (h.workspace / LIB).read_text()
        (h.workspace / LIB).write_text(original + "\n// a newer save\n")
        events = stream.until(
            lambda e: e.get("type") == "job" and e["job"]["name"] == "check"
            and e["job"]["state"] == "running" and e["job"]["generation"] >= 2
        )  # fmt: skip
        cancelled = [
            e["job"] for e in events if e.get("type") == "job" and e["job"]["state"] == "cancelled"
        ]
        assert [(j["name"], j["generation"]) for j in cancelled] == [("check", 1)]
        # The first check's process group is gone; only the new one's sleep remains.
        _wait_until(lambda: len(_sleepers(slow)) == 1, 5)
        assert len(_sleepers(slow)) == 1
    finally:
        stream.close()
        h.stop()
    _wait_until(lambda: not _sleepers(slow), 5)
    assert _sleepers(slow) == [], "stopping the daemon kills its running check"


def test_a_restarted_daemon_kills_the_check_a_killed_one_left(
    example_daemon: DaemonHarness, tmp_path: Path
) -> None:
    # SIGKILL leaves the running cargo behind, holding the build directory's lock; the next
    # daemon must not wait behind it.
    h = example_daemon
    slow = _slow_cargo(h, tmp_path)
    h.start()
    _wait_until(lambda: _sleepers(slow), 10)
    orphans = set(_sleepers(slow))
    assert orphans, "the slow check should be running"
    h.kill9()  # no clean-up of its own
    assert set(_sleepers(slow)) == orphans, "an orphan, until a daemon starts again"
    h.start()
    _wait_until(lambda: not orphans & set(_sleepers(slow)), 5)
    assert not orphans & set(_sleepers(slow)), "the killed daemon's check outlived the restart"


def test_rg_watch_follows_the_daemon_across_a_restart(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    h.start()
    h.once()
    stream = EventStream(h)
    try:
        first = stream.until(lambda e: e.get("type") == "snapshot")[-1]
        h.kill9()
        stream.until(lambda e: e.get("type") == "disconnected", timeout=30)
        h.start()
        again = stream.until(lambda e: e.get("type") == "snapshot", timeout=30)[-1]
        assert again["daemon_pid"] != first["daemon_pid"]
        assert again["generation"] >= first["generation"]
    finally:
        stream.close()
