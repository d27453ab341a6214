"""The client side of the event stream: ZeroMQ's Clone pattern as a sans-I/O state machine.

A client subscribes to events *first*, then asks for a snapshot; events that arrive meanwhile
are buffered. The snapshot carries the sequence number it reflects; buffered events newer than
it are replayed on top. From then on every event must be exactly ``seq + 1``: anything else (a
gap — PUB drops at its high-water mark — or a new daemon ``epoch``) sends the client back to
syncing, and the caller is told to request a fresh snapshot.

    IDLE ──start──▶ SYNCING ──snapshot──▶ LIVE ──gap/restart──▶ SYNCING
                                           └──resync────────────▶ SYNCING
    any illegal input ──▶ ERROR (sticky)

The machine does no I/O: callers feed it messages and perform the ``Action``s it returns.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from .errors import LocalProtocolError
from .messages import AnyEvent, Snapshot
from .state import WorkspaceState

#: Events buffered while waiting for a snapshot; beyond this we resync from scratch.
MAX_BUFFERED = 50_000


class SyncState(enum.Enum):
    IDLE = "idle"
    SYNCING = "syncing"
    LIVE = "live"
    ERROR = "error"


class Input(enum.Enum):
    START = "start"
    EVENT = "event"
    SNAPSHOT = "snapshot"
    RESYNC = "resync"


# Legal transitions. (LIVE, EVENT) may also lead to SYNCING on a gap: listed targets are the
# states an input may lead to; anything missing is illegal.
_TRANSITIONS: dict[tuple[SyncState, Input], frozenset[SyncState]] = {
    (SyncState.IDLE, Input.START): frozenset({SyncState.SYNCING}),
    (SyncState.SYNCING, Input.EVENT): frozenset({SyncState.SYNCING}),
    (SyncState.SYNCING, Input.SNAPSHOT): frozenset({SyncState.LIVE, SyncState.SYNCING}),
    (SyncState.SYNCING, Input.RESYNC): frozenset({SyncState.SYNCING}),
    (SyncState.LIVE, Input.EVENT): frozenset({SyncState.LIVE, SyncState.SYNCING}),
    # A late reply to a snapshot request made before we went live (resync while one was out).
    (SyncState.LIVE, Input.SNAPSHOT): frozenset({SyncState.LIVE}),
    (SyncState.LIVE, Input.RESYNC): frozenset({SyncState.SYNCING}),
}


@dataclass(frozen=True, slots=True)
class RequestSnapshot:
    """Action: send a ``SnapshotRequest`` (and feed the reply to ``snapshot_received``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Synced:
    """Output: the replica was (re)built from a snapshot."""

    state: WorkspaceState
    restarted: bool  # the daemon behind it is a different process than before


@dataclass(frozen=True, slots=True)
class Applied:
    """Output: one live event was applied to the replica."""

    event: AnyEvent


Output = RequestSnapshot | Synced | Applied


class ClientSync:
    def __init__(self) -> None:
        self.sync_state = SyncState.IDLE
        self.state: WorkspaceState | None = None
        self._buffer: deque[AnyEvent] = deque()
        self._last_epoch: str | None = None  # epoch of the last *successful* sync
        self._dead_epochs: set[str] = set()  # daemons we have seen replaced

    # -- transitions ----------------------------------------------------------------------------

    def _check(self, kind: Input) -> frozenset[SyncState]:
        allowed = _TRANSITIONS.get((self.sync_state, kind))
        if allowed is None:
            previous = self.sync_state
            self.sync_state = SyncState.ERROR
            raise LocalProtocolError(f"cannot handle {kind.value!r} in state {previous.value!r}")
        return allowed

    def _go(self, kind: Input, target: SyncState) -> None:
        assert target in _TRANSITIONS[(self.sync_state, kind)], (self.sync_state, kind, target)
        self.sync_state = target

    # -- inputs ---------------------------------------------------------------------------------

    def start(self) -> list[Output]:
        self._check(Input.START)
        self._go(Input.START, SyncState.SYNCING)
        return [RequestSnapshot("initial sync")]

    def resync(self, reason: str) -> list[Output]:
        """Caller-initiated resync (e.g. the daemon went silent and came back)."""
        self._check(Input.RESYNC)
        self._go(Input.RESYNC, SyncState.SYNCING)
        self._buffer.clear()
        return [RequestSnapshot(reason)]

    def event_received(self, event: AnyEvent) -> list[Output]:
        self._check(Input.EVENT)
        if self.sync_state is SyncState.SYNCING:
            self._buffer.append(event)
            if len(self._buffer) > MAX_BUFFERED:
                self._buffer.clear()
                return [RequestSnapshot("event buffer overflow while syncing")]
            return []
        state = self.state
        assert state is not None
        if event.epoch != state.epoch:
            self._go(Input.EVENT, SyncState.SYNCING)
            self._buffer.clear()
            self._buffer.append(event)
            return [RequestSnapshot("daemon restarted")]
        if event.seq <= state.seq:
            return []  # duplicate or old: already reflected
        if event.seq != state.seq + 1:
            self._go(Input.EVENT, SyncState.SYNCING)
            self._buffer.clear()
            self._buffer.append(event)
            return [RequestSnapshot(f"gap: expected seq {state.seq + 1}, got {event.seq}")]
        state.apply(event)
        return [Applied(event)]

    def snapshot_received(self, snapshot: Snapshot) -> list[Output]:
        self._check(Input.SNAPSHOT)
        current = self.state
        if self.sync_state is SyncState.LIVE:
            assert current is not None
            if snapshot.epoch in self._dead_epochs or (
                snapshot.epoch == current.epoch and snapshot.seq <= current.seq
            ):
                return []  # a late reply: from a daemon since replaced, or nothing new
            # A newer snapshot while live: harmless, rebuild from it below.
        elif snapshot.epoch in self._dead_epochs:
            return [RequestSnapshot("snapshot came from a daemon that has since restarted")]
        restarted = self._last_epoch is not None and self._last_epoch != snapshot.epoch
        state = WorkspaceState.from_snapshot(snapshot)
        outputs: list[Output] = [Synced(state, restarted)]
        pending = [e for e in self._buffer if e.epoch == snapshot.epoch and e.seq > snapshot.seq]
        self._buffer.clear()
        for event in pending:
            if event.seq <= state.seq:
                continue  # duplicate delivery, already reflected
            if event.seq != state.seq + 1:
                # The snapshot is older than the first event we kept: what lies between is lost.
                # Keep the events (a newer snapshot may still bridge to them) and ask again.
                self._buffer.extend(pending)
                self._go(Input.SNAPSHOT, SyncState.SYNCING)
                return [
                    RequestSnapshot(f"snapshot at {snapshot.seq} misses events before {event.seq}")
                ]
            state.apply(event)
            outputs.append(Applied(event))
        self.state = state
        if restarted and self._last_epoch is not None:
            self._dead_epochs.add(self._last_epoch)
        self._last_epoch = snapshot.epoch
        self._go(Input.SNAPSHOT, SyncState.LIVE)
        return outputs
