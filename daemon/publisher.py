"""The daemon's single source of truth for what clients see.

Every event gets the next sequence number and the daemon's epoch, is applied to the
authoritative ``WorkspaceState`` (snapshots are cut from it) and is sent on the PUB socket.
Assigning the number, applying and sending happen without an ``await`` in between, so the
stream is gap-free and in order by construction; PUB may still drop at its high-water mark,
which clients detect by the gap.

Diagnostics are committed to the store *before* they are published: what a client has seen is
never lost by a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import msgspec
import trio

from rustg.protocol import (
    Diagnostic,
    DiagnosticsPublished,
    Event,
    Heartbeat,
    Notice,
    Severity,
    WorkspaceState,
    encode,
)

from .store import Store

E = TypeVar("E", bound=Event)


class Publisher:
    def __init__(
        self,
        state: WorkspaceState,
        store: Store,
        store_limiter: trio.CapacityLimiter,
        send: Callable[[bytes], object] | None = None,
    ) -> None:
        self.state = state
        self.store = store
        self._limiter = store_limiter
        self._send = send
        self.dropped = 0
        self.listeners: list[Callable[[Event], None]] = []

    def attach(self, send: Callable[[bytes], object]) -> None:
        self._send = send

    def publish(self, event: E) -> E:
        stamped = msgspec.structs.replace(event, seq=self.state.seq + 1, epoch=self.state.epoch)
        self.state.apply(stamped)  # type: ignore[arg-type]
        if self._send is not None and self._send(encode(stamped)) is False:
            self.dropped += 1
        for listener in self.listeners:
            listener(stamped)
        return stamped

    def notice(self, level: str, message: str, kind: str = "") -> None:
        self.publish(Notice(level=Severity(level), message=message, kind=kind))

    def heartbeat(self, pending: int = 0) -> None:
        self.publish(Heartbeat(generation=self.state.generation, pending=pending))

    async def publish_diagnostics(
        self,
        source: str,
        generation: int,
        files: Mapping[str, list[Diagnostic]],
        *,
        replace_all: bool,
    ) -> bool:
        """Commit to LMDB, then publish. False if a newer result for ``source`` already won."""
        if generation < self.state.diagnostics_generation.get(source, -1):
            return False
        seq_after = self.state.seq + 1
        await trio.to_thread.run_sync(
            lambda: self.store.commit_diagnostics(
                source,
                files,
                replace_all=replace_all,
                generation=generation,
                seq=seq_after,
            ),
            limiter=self._limiter,
        )
        # Re-check: another result may have been published while we were in the thread.
        if generation < self.state.diagnostics_generation.get(source, -1):
            return False
        self.publish(
            DiagnosticsPublished(
                source=source, generation=generation, files=dict(files), replace_all=replace_all
            )
        )
        return True
