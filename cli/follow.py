"""Following a daemon's state: the Clone-pattern client (protocol.ClientSync) driven by real
sockets, with reconnection. Shared by rg-watch, rustg-lsp and cargo g.

``follow`` calls ``on_update`` with every change to the replica and with connection changes;
the callback returns True to stop following.
"""

from __future__ import annotations

import math
import os
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import trio

from rustg import protocol as p
from rustg.daemon.lock import is_locked
from rustg.daemon.workspace import WorkspacePaths

from .daemon_client import TCP_ENV, DaemonClient, answer_timeout, open_daemon_client
from .errors import NoDaemon

#: Silence (no event, not even a heartbeat) after which the daemon is probed.
SILENCE_S = 6.0
RETRY_S = 0.5


@dataclass(slots=True)
class Update:
    """What changed: a new replica (``synced``), one event, or the connection state."""

    state: p.WorkspaceState | None
    connected: bool
    info: p.DaemonInfo | None = None
    event: p.AnyEvent | None = None
    synced: bool = False
    restarted: bool = False


OnUpdate = Callable[[Update], bool]


async def _snapshot(client: DaemonClient, sync: p.ClientSync) -> list[p.client.Output]:
    reply = await client.request(p.SnapshotRequest())
    assert isinstance(reply, p.Snapshot), reply
    return sync.snapshot_received(reply)


async def follow(paths: WorkspacePaths, on_update: OnUpdate, *, reconnect: bool = True) -> None:
    """Follow until ``on_update`` returns True. Without ``reconnect``, a missing daemon raises
    ``NoDaemon`` instead of being waited for."""
    info: p.DaemonInfo | None = None
    while True:
        try:
            async with open_daemon_client(paths, subscribe=True) as client:
                hello = await client.request(
                    p.Hello(client="rustg-follow"), timeout=answer_timeout(paths)
                )
                assert isinstance(hello, p.Welcome)
                info = hello.daemon
                if await _follow_connected(client, info, on_update):
                    return
        except NoDaemon:
            if not reconnect:
                raise
        if on_update(Update(state=None, connected=False, info=info)):
            return
        await trio.sleep(RETRY_S)


async def _follow_connected(client: DaemonClient, info: p.DaemonInfo, on_update: OnUpdate) -> bool:
    lost: NoDaemon | None = None
    stop = False

    async def pump(send: trio.MemorySendChannel[p.AnyEvent]) -> None:
        async for event in client.events():
            send.send_nowait(event)

    async with trio.open_nursery() as nursery:
        send, receive = trio.open_memory_channel[p.AnyEvent](math.inf)
        nursery.start_soon(pump, send)
        try:
            stop = await _drive(client, info, receive, on_update)
        except NoDaemon as exc:  # raised here, outside the nursery: not as an ExceptionGroup
            lost = exc
        nursery.cancel_scope.cancel()
    if lost is not None:
        raise lost
    return stop


async def _drive(
    client: DaemonClient,
    info: p.DaemonInfo,
    receive: trio.MemoryReceiveChannel[p.AnyEvent],
    on_update: OnUpdate,
) -> bool:
    sync = p.ClientSync()
    queue: deque[p.client.Output] = deque(sync.start())
    while True:
        while queue:
            match queue.popleft():
                case p.RequestSnapshot():
                    queue.extend(await _snapshot(client, sync))
                case p.Synced(state=state, restarted=restarted):
                    if restarted:
                        welcome = await client.request(p.Hello(client="rustg-follow"))
                        assert isinstance(welcome, p.Welcome)
                        info = welcome.daemon
                    if on_update(Update(state, True, info, synced=True, restarted=restarted)):
                        return True
                case p.Applied(event=event):
                    if on_update(Update(sync.state, True, info, event=event)):
                        return True
        with trio.move_on_after(SILENCE_S):
            queue.extend(sync.event_received(await receive.receive()))
            continue
        # Silence: is anybody there? NoDaemon propagates to the reconnect loop.
        await client.request(p.Ping(), timeout=answer_timeout(client.paths))
        if sync.sync_state is p.SyncState.LIVE:
            queue.extend(sync.resync("daemon was silent"))


async def settled_state(
    paths: WorkspacePaths,
    after_generation: int = 0,
    ready: Callable[[p.WorkspaceState], bool] | None = None,
) -> tuple[p.WorkspaceState, p.DaemonInfo | None]:
    """The daemon's state once it has nothing left to do for ``after_generation`` or newer
    (``rg-watch --once``), or as soon as ``ready(state)`` says what the caller needs is there
    (``cargo g lint``: the lint job, not cargo). No daemon: ``NoDaemon``; a daemon that is
    alive but slow to answer is waited for (the caller bounds the wait)."""
    info_box: list[p.DaemonInfo | None] = [None]

    def settled(state: p.WorkspaceState) -> bool:
        return state.idle_at(after_generation) or (ready is not None and ready(state))

    def on_update(update: Update) -> bool:
        info_box[0] = update.info or info_box[0]
        return update.state is not None and settled(update.state)

    told = False
    while True:
        try:
            await follow(paths, on_update, reconnect=False)
            # Confirmed with a fresh snapshot: the event stream cannot show saves still
            # debouncing.
            async with open_daemon_client(paths) as client:
                reply = await client.request(p.SnapshotRequest(), timeout=answer_timeout(paths))
        except NoDaemon as exc:
            # A daemon that holds its lock is alive, only slow to answer (a loaded machine,
            # a long compile): the caller's own deadline decides when to give up, not ours.
            if os.environ.get(TCP_ENV) or not is_locked(paths.lock_file):
                raise
            if not told:
                print(f"{exc}; it is alive (it holds its lock): waiting", file=sys.stderr)
                told = True
            await trio.sleep(RETRY_S)
            continue
        assert isinstance(reply, p.Snapshot)
        state = p.WorkspaceState.from_snapshot(reply)
        if settled(state):
            return state, info_box[0]
        await trio.sleep(0.02)
