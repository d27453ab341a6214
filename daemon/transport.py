"""ZeroMQ under trio: the one place that knows about zmq file descriptors.

A zmq socket's FD is *edge*-triggered and signals "something changed", not "readable": after
every wake we must re-read ``zmq.EVENTS`` and drain until EAGAIN, and before sleeping we must
check ``EVENTS`` again because a send on the same socket may have consumed the edge. As a last
line of defence each wait is bounded (1 s), which costs one wake-up per second while idle.

Sockets used (docs/protocol.md): the daemon binds PUB (events) and ROUTER (requests) on ipc
endpoints inside its private runtime directory; clients connect SUB and DEALER.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

import trio
import zmq

from .errors import TransportError, map_exceptions

_ZMQ_ERRORS = {zmq.ZMQError: TransportError}
#: Upper bound on one sleep; see the module docstring.
_MAX_WAIT_S: Final = 1.0
#: Events queued per subscriber before PUB drops (clients notice via sequence gaps).
PUB_HWM: Final = 100_000


class TrioSocket:
    """A zmq socket driven from trio. Only one task may receive on it at a time."""

    def __init__(self, sock: zmq.Socket[bytes]) -> None:
        self.sock = sock
        self._fd: int = sock.getsockopt(zmq.FD)

    def _readable(self) -> bool:
        return bool(self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN)

    async def recv_multipart(self) -> list[bytes]:
        with map_exceptions(_ZMQ_ERRORS):
            while True:
                try:
                    return self.sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    pass
                if self._readable():
                    continue
                with trio.move_on_after(_MAX_WAIT_S):
                    await trio.lowlevel.wait_readable(self._fd)

    def send_multipart_nowait(self, frames: list[bytes]) -> bool:
        """Send without blocking; False if zmq would have to block (high-water mark)."""
        with map_exceptions(_ZMQ_ERRORS):
            try:
                self.sock.send_multipart(frames, zmq.NOBLOCK)
            except zmq.Again:
                return False
            return True

    def close(self) -> None:
        self.sock.close(linger=0)


def _unlink_stale(endpoint: str) -> None:
    # Only called by the lock holder: a socket file left behind by a killed daemon.
    if endpoint.startswith("ipc://"):
        try:
            os.unlink(endpoint[len("ipc://") :])
        except FileNotFoundError:
            pass


class ServerSockets:
    def __init__(self, pub: TrioSocket, router: TrioSocket) -> None:
        self.pub = pub
        self.router = router


@asynccontextmanager
async def open_server_sockets(events: str, requests: str) -> AsyncIterator[ServerSockets]:
    ctx = zmq.Context()
    pub = router = None
    try:
        with map_exceptions(_ZMQ_ERRORS):
            pub = ctx.socket(zmq.PUB)
            pub.setsockopt(zmq.SNDHWM, PUB_HWM)
            pub.setsockopt(zmq.LINGER, 0)
            router = ctx.socket(zmq.ROUTER)
            router.setsockopt(zmq.LINGER, 0)
            for sock, endpoint in ((pub, events), (router, requests)):
                _unlink_stale(endpoint)
                sock.bind(endpoint)
                if endpoint.startswith("ipc://"):
                    Path(endpoint[len("ipc://") :]).chmod(0o600)
        yield ServerSockets(TrioSocket(pub), TrioSocket(router))
    finally:
        for sock in (pub, router):
            if sock is not None:
                sock.close(linger=0)
        ctx.term()
        for endpoint in (events, requests):
            _unlink_stale(endpoint)


@asynccontextmanager
async def open_client_sockets(
    events: str | None, requests: str
) -> AsyncIterator[tuple[TrioSocket | None, TrioSocket]]:
    """SUB (optional, subscribed to everything) and DEALER sockets connected to a daemon."""
    ctx = zmq.Context()
    sub = dealer = None
    try:
        with map_exceptions(_ZMQ_ERRORS):
            if events is not None:
                sub = ctx.socket(zmq.SUB)
                sub.setsockopt(zmq.RCVHWM, PUB_HWM)
                sub.setsockopt(zmq.LINGER, 0)
                sub.setsockopt(zmq.SUBSCRIBE, b"")
                sub.connect(events)
            dealer = ctx.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 0)
            dealer.connect(requests)
        yield (TrioSocket(sub) if sub is not None else None), TrioSocket(dealer)
    finally:
        for sock in (sub, dealer):
            if sock is not None:
                sock.close(linger=0)
        ctx.term()
