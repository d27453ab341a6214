"""The process groups of the tools the daemon runs (cargo), recorded in its runtime directory.

A daemon killed outright (SIGKILL, the OOM killer) cleans nothing up: its running cargo goes on
as an orphan, keeps the build directory locked, and the next daemon's first check would wait
behind it. So each running tool leaves a file named after its pid (it leads its own process
group) holding the process's start time; a daemon starting up, under the workspace lock (no
other daemon can own them), kills the groups whose leader is still that same process. The
start time guards against a recycled pid: a stranger is never killed.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

log = logging.getLogger("rustgd")


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # comm may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None


class ToolGroups:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def add(self, pid: int) -> None:
        started = _start_time(pid)
        if started is None:
            return  # already gone (or no /proc): nothing could outlive us
        try:
            self.directory.mkdir(mode=0o700, exist_ok=True)
            (self.directory / str(pid)).write_text(started)
        except OSError as exc:  # a record, not a requirement
            log.warning("cannot record tool process %d: %s", pid, exc)

    def remove(self, pid: int) -> None:
        (self.directory / str(pid)).unlink(missing_ok=True)

    def kill_orphans(self) -> list[int]:
        """Kill the recorded groups still led by the recorded process; forget every record.
        The pids killed."""
        killed = []
        try:
            entries = list(self.directory.iterdir())
        except OSError:
            return []
        for entry in entries:
            try:
                pid = int(entry.name)
                recorded = entry.read_text().strip()
            except (ValueError, OSError):
                recorded, pid = "", 0
            if pid > 0 and recorded and _start_time(pid) == recorded:
                try:
                    os.killpg(pid, signal.SIGKILL)
                    killed.append(pid)
                except (ProcessLookupError, PermissionError):
                    pass
            entry.unlink(missing_ok=True)
        if killed:
            log.info("killed %d tool process group(s) left by a previous daemon", len(killed))
        return killed
