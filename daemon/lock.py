"""One daemon per workspace: an ``flock`` on a file in the runtime directory.

The kernel drops an flock when its holder dies, so a daemon killed with SIGKILL leaves a lock
file that the next start simply locks again: stale locks recover by construction. The file holds
the holder's pid for humans and for ``rustgd status``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import AlreadyRunning


class WorkspaceLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = read_lock_pid(self.path)
            raise AlreadyRunning(
                f"a daemon (pid {pid}) already serves this workspace", pid
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WorkspaceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_lock_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip() or "0") or None
    except (OSError, ValueError):
        return None


def is_locked(path: Path) -> bool:
    """True if a live process holds the lock (probing with a non-blocking shared lock)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
