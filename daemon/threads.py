"""Worker threads that shutdown may abandon (``abandon_on_cancel=True``), counted.

A thread cannot be cancelled; a daemon that waited for a cold numba compile before exiting
would blow systemd's stop timeout. Jobs whose threads may be abandoned wrap their function in
``tracked``, so shutdown knows whether shared resources (the LMDB environment) may still be in
use by a live thread and must be left to process exit rather than closed under it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value = 0


_in_flight = _Counter()


def tracked(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn``, counted in ``threads_in_flight()`` while it runs (in whatever thread)."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _in_flight.lock:
            _in_flight.value += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _in_flight.lock:
                _in_flight.value -= 1

    return run


def threads_in_flight() -> int:
    return _in_flight.value
