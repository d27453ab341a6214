"""Exceptions of the daemon layer, and the one helper that translates foreign ones.

    DaemonError                   anything the daemon reports about itself
    ├── WorkspaceError            no Cargo workspace where one was expected
    ├── ConfigError               invalid configuration (names the key and the file)
    ├── AlreadyRunning            another live daemon holds this workspace's lock
    ├── StoreError                LMDB failed (disk full, corrupt environment, ...)
    ├── TransportError            ZeroMQ failed (cannot bind, socket closed, ...)
    ├── ToolError                 a tool we run (cargo, rustc) could not be started or crashed
    ├── SystemdError              talking to systemd failed
    └── CacheError                the build cache was misused (an absolute path in an action
                                  key) or its local store failed; a dead remote tier is not an
                                  error, it degrades to local (daemon/cache/)

Foreign exceptions (``lmdb.Error``, ``zmq.ZMQError``, ``OSError``) never leak out of the module
that caught them: ``map_exceptions`` re-raises them as the matching ``DaemonError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class DaemonError(Exception):
    """Base of every error raised by ``rustg.daemon``."""


class WorkspaceError(DaemonError):
    pass


class ConfigError(DaemonError):
    pass


class AlreadyRunning(DaemonError):
    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class StoreError(DaemonError):
    pass


class TransportError(DaemonError):
    pass


class ToolError(DaemonError):
    pass


class SystemdError(DaemonError):
    pass


@contextmanager
def map_exceptions(mapping: Mapping[type[BaseException], type[DaemonError]]) -> Iterator[None]:
    """Translate foreign exceptions at a boundary (httpcore's ``map_exceptions``)."""
    try:
        yield
    except Exception as exc:
        for foreign, ours in mapping.items():
            if isinstance(exc, foreign):
                raise ours(f"{type(exc).__name__}: {exc}") from exc
        raise


class CacheError(DaemonError):
    pass
