"""`rustgd stop`'s last resort: a daemon that will not stop is killed with the tools it ran."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from rustg.cli.rustgd import child_process_groups, kill_with_tools

# A stand-in daemon that ignores SIGTERM and runs a tool in its own session, as cargo.run_check
# and kernels.procs.run_tool do.
HUNG_DAEMON = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
tool = subprocess.Popen(["sleep", "60"], start_new_session=True)
print(tool.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    return state != "Z"


def test_a_hung_daemon_is_killed_with_its_tool_process_groups() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HUNG_DAEMON], stdout=subprocess.PIPE, text=True
    ) as daemon:
        assert daemon.stdout is not None
        tool = int(daemon.stdout.readline())
        try:
            assert child_process_groups(daemon.pid) == [tool]
            kill_with_tools(daemon.pid)
            daemon.wait(timeout=5)
            deadline = time.monotonic() + 5
            while _alive(tool) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not _alive(tool), "the daemon's tool outlived it"
        finally:
            daemon.kill()


def test_a_process_without_children_has_no_groups() -> None:
    assert child_process_groups(os.getpid()) == []


def test_only_the_process_that_still_holds_the_lock_is_signalled(tmp_path: Path) -> None:
    """`rustgd stop` reads the daemon's pid, then signals it if it does not answer. By then
    the daemon may be gone and its pid reused: an unrelated process must survive."""
    import signal

    from rustg.cli.rustgd import lock_holder
    from rustg.daemon.lock import WorkspaceLock

    lock = tmp_path / "daemon.lock"
    with subprocess.Popen(["sleep", "30"]) as stranger:
        try:
            lock.write_text(f"{stranger.pid}\n")  # a pid in the file, but nobody holds the lock
            with lock_holder(stranger.pid, lock) as send:
                assert send is None
            with WorkspaceLock(lock):  # held, by a process with another pid
                with lock_holder(stranger.pid, lock) as send:
                    assert send is None
                lock.write_text(f"{stranger.pid}\n")  # as if it were the holder
                with lock_holder(stranger.pid, lock) as send:
                    assert send is not None
                    send(signal.SIGTERM)
            assert stranger.wait(timeout=5) == -signal.SIGTERM
        finally:
            stranger.kill()
