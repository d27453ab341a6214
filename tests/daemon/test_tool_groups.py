"""Tool process groups left by a killed daemon: real processes, real /proc."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from rustg.daemon.tool_groups import ToolGroups


def _gone(process: subprocess.Popen[bytes], timeout: float = 5) -> bool:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_a_new_daemon_kills_the_groups_a_killed_one_left(tmp_path: Path) -> None:
    # A tool in its own session with a child (cargo and its rustc): the whole group goes.
    tool = subprocess.Popen(["bash", "-c", "sleep 60 & wait"], start_new_session=True)
    try:
        ToolGroups(tmp_path / "tools").add(tool.pid)  # the first daemon, then SIGKILLed
        time.sleep(0.2)
        assert ToolGroups(tmp_path / "tools").kill_orphans() == [tool.pid]  # the next one
        assert _gone(tool)
        assert list((tmp_path / "tools").iterdir()) == []
    finally:
        tool.kill()
        tool.wait()


def test_a_finished_tool_leaves_no_record_and_a_recycled_pid_is_spared(tmp_path: Path) -> None:
    groups = ToolGroups(tmp_path / "tools")
    tool = subprocess.Popen(["true"], start_new_session=True)
    groups.add(tool.pid)
    tool.wait()
    groups.remove(tool.pid)
    assert list((tmp_path / "tools").iterdir()) == []
    # A record whose pid now belongs to another process (this test's, started at another
    # time): never killed, and forgotten.
    (tmp_path / "tools" / str(os.getpid())).write_text("1")
    (tmp_path / "tools" / "not-a-pid").write_text("x")
    assert groups.kill_orphans() == []
    assert list((tmp_path / "tools").iterdir()) == []
