"""How every thin client talks to a daemon: a DEALER for requests, a SUB for events."""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import trio

from rustg import protocol as p
from rustg.daemon.lock import is_locked
from rustg.daemon.transport import TrioSocket, open_client_sockets, tcp_endpoint
from rustg.daemon.workspace import WorkspacePaths, find_workspace_root

from .errors import CliError, NoDaemon


def add_workspace_options(parser: argparse.ArgumentParser) -> None:
    """``--workspace DIR`` and cargo's ``--manifest-path``: every ``cargo g`` command has both."""
    parser.add_argument("--workspace", metavar="DIR", help="workspace root")
    parser.add_argument(
        "--manifest-path", metavar="PATH",
        help="a Cargo.toml: its workspace (as cargo finds it), instead of the current directory's",
    )  # fmt: skip


def apply_manifest_path(args: argparse.Namespace) -> None:
    """Turn ``--manifest-path`` into the ``--workspace`` it names (usage errors exit 2)."""
    manifest = getattr(args, "manifest_path", None)
    if not manifest:
        return
    if getattr(args, "workspace", None):
        raise CliError("--manifest-path and --workspace name the workspace twice: give one", 2)
    path = Path(manifest)
    if path.name != "Cargo.toml":
        raise CliError(f"--manifest-path {manifest}: the path must end in Cargo.toml", 2)
    if not path.is_file():
        raise CliError(f"--manifest-path {manifest}: no such file", 2)
    args.workspace = str(find_workspace_root(path.parent))


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
        why = self._dealer.handshake_error()
        detail = f": {why}" if why else ""
        raise NoDaemon(f"no daemon answered for {self.paths.root} within {timeout:g} s{detail}")

    async def events(self) -> AsyncIterator[p.AnyEvent]:
        assert self._sub is not None, "client opened without subscribe=True"
        while True:
            frames = await self._sub.recv_multipart()
            try:
                yield p.decode_event(frames[-1])
            except p.ProtocolError:
                continue  # a newer daemon's event type: the next snapshot covers it


#: Set by ``--tcp HOST:PORT`` (or by the user): reach the daemon over loopback TCP with CURVE
#: instead of its ipc sockets; ``RUSTG_SERVER_KEY`` names the daemon's public cert.
TCP_ENV = "RUSTG_TCP"
SERVER_KEY_ENV = "RUSTG_SERVER_KEY"


def add_tcp_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tcp", metavar="HOST:PORT", help="reach the daemon over loopback TCP")
    parser.add_argument(
        "--server-key", metavar="FILE", help="the daemon's public CURVE cert (with --tcp)"
    )


def use_tcp(address: str | None, server_key: str | None) -> None:
    """Apply the ``--tcp``/``--server-key`` options for every connection this process makes."""
    if address:
        os.environ[TCP_ENV] = address
    if server_key:
        os.environ[SERVER_KEY_ENV] = server_key


def _parse_host_port(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise CliError(f"--tcp {address!r}: expected HOST:PORT (IPv6 as [::1]:PORT)", 2)
    return host.strip("[]"), int(port)


@asynccontextmanager
async def open_daemon_client(
    paths: WorkspacePaths, *, subscribe: bool = False
) -> AsyncIterator[DaemonClient]:
    if address := os.environ.get(TCP_ENV):
        from rustg.daemon.curve import client_curve, server_public_cert

        host, port = _parse_host_port(address)
        key = os.environ.get(SERVER_KEY_ENV)
        curve = client_curve(Path(key) if key else server_public_cert(paths.state_dir))
        events = tcp_endpoint(host, port + 1) if subscribe else None
        async with open_client_sockets(events, tcp_endpoint(host, port), curve=curve) as socks:
            yield DaemonClient(paths, *socks)
        return
    if not paths.runtime_dir.is_dir():
        raise NoDaemon(f"no daemon is running for {paths.root} (start one with `rustgd start`)")
    async with open_client_sockets(
        paths.events_endpoint if subscribe else None, paths.requests_endpoint
    ) as (sub, dealer):
        yield DaemonClient(paths, sub, dealer)


def running_daemon(paths: WorkspacePaths) -> p.StatusReply | None:
    """The status of the daemon that holds this workspace's lock and answers; None when there
    is none (no lock, or a stale socket)."""
    if not is_locked(paths.lock_file):
        return None
    try:
        return trio.run(query_status, paths)
    except NoDaemon:
        return None


#: A daemon holding its lock is alive: on a loaded machine, right after its start (initial
#: parse, lint, format check, cargo; numba compiling after an upgrade), an answer can take
#: seconds; wait for it. Without the lock the socket is stale: ask briefly.
ANSWER_LIVE_S = 15.0
ANSWER_UNLOCKED_S = 2.0


def answer_timeout(paths: WorkspacePaths) -> float:
    """How long to wait for the daemon's answer (Hello, status, the probe after a silence)."""
    if os.environ.get(TCP_ENV):
        return ANSWER_LIVE_S  # a remote daemon: no lock file here to look at
    return ANSWER_LIVE_S if is_locked(paths.lock_file) else ANSWER_UNLOCKED_S


async def query_status(paths: WorkspacePaths, timeout: float | None = None) -> p.StatusReply:
    timeout = answer_timeout(paths) if timeout is None else timeout
    async with open_daemon_client(paths) as client:
        reply = await client.request(p.StatusRequest(), timeout=timeout)
    if not isinstance(reply, p.StatusReply):
        raise CliError(f"unexpected reply {type(reply).__name__}")
    return reply


async def request_format(
    paths: WorkspacePaths, file: str, content: str | None = None, *, timeout: float = 30.0
) -> p.FormatReply:
    """The daemon's ``format`` request for one workspace-relative file (docs/protocol.md)."""
    async with open_daemon_client(paths) as client:
        reply = await client.request(p.FormatRequest(file=file, content=content), timeout=timeout)
    if isinstance(reply, p.ErrorReply):
        raise CliError(f"format {file}: {reply.message} ({reply.code})")
    if not isinstance(reply, p.FormatReply):
        raise CliError(f"unexpected reply {type(reply).__name__}")
    return reply
