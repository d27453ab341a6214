"""How every thin client talks to a daemon: a DEALER for requests, a SUB for events."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import trio

from rustg import protocol as p
from rustg.daemon.transport import TrioSocket, open_client_sockets
from rustg.daemon.workspace import WorkspacePaths, find_workspace_root

from .errors import CliError, NoDaemon


def resolve_paths(workspace: str | None) -> WorkspacePaths:
    start = Path(workspace) if workspace else Path.cwd()
    if workspace and not start.is_dir():
        raise CliError(f"--workspace {workspace}: no such directory", 2)
    root = start.resolve() if workspace else find_workspace_root(start)
    return WorkspacePaths.for_root(root)


class DaemonClient:
    def __init__(self, paths: WorkspacePaths, sub: TrioSocket | None, dealer: TrioSocket) -> None:
        self.paths = paths
        self._sub = sub
        self._dealer = dealer
        self._ids = itertools.count(1)

    async def request(self, message: p.Request, *, timeout: float = 5.0) -> p.AnyReply:
        """Send one request and wait for its reply (replies to older, timed-out ids are skipped)."""
        request_id = next(self._ids)
        message = msgspec.structs.replace(message, id=request_id)
        self._dealer.send_multipart_nowait([p.encode(message)])
        with trio.move_on_after(timeout):
            while True:
                frames = await self._dealer.recv_multipart()
                reply = p.decode_reply(frames[-1])
                if reply.id in (request_id, 0):
                    if isinstance(reply, p.ErrorReply):
                        raise CliError(f"daemon refused the request: {reply.message}")
                    return reply
        raise NoDaemon(f"no daemon answered for {self.paths.root} within {timeout:g} s")

    async def events(self) -> AsyncIterator[p.AnyEvent]:
        assert self._sub is not None, "client opened without subscribe=True"
        while True:
            frames = await self._sub.recv_multipart()
            try:
                yield p.decode_event(frames[-1])
            except p.ProtocolError:
                continue  # a newer daemon's event type: the next snapshot covers it


@asynccontextmanager
async def open_daemon_client(
    paths: WorkspacePaths, *, subscribe: bool = False
) -> AsyncIterator[DaemonClient]:
    if not paths.runtime_dir.is_dir():
        raise NoDaemon(f"no daemon is running for {paths.root} (start one with `rustgd start`)")
    async with open_client_sockets(
        paths.events_endpoint if subscribe else None, paths.requests_endpoint
    ) as (sub, dealer):
        yield DaemonClient(paths, sub, dealer)


async def query_status(paths: WorkspacePaths, timeout: float = 2.0) -> p.StatusReply:
    async with open_daemon_client(paths) as client:
        reply = await client.request(p.StatusRequest(), timeout=timeout)
    if not isinstance(reply, p.StatusReply):
        raise CliError(f"unexpected reply {type(reply).__name__}")
    return reply
