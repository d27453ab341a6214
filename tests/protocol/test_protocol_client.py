"""ClientSync: the Clone-pattern client through snapshots, deltas, gaps and daemon restarts.

The last test is model-based: a fake daemon (a ``WorkspaceState`` as the authority, stamping
events exactly as the real publisher does) streams through a lossy pipe to a ``ClientSync``, and
whatever the pipe did, once the stream goes quiet the replica equals the authority.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustg.protocol import (
    Applied,
    ClientSync,
    LocalProtocolError,
    ProtocolError,
    RequestSnapshot,
    Synced,
    SyncState,
    WorkspaceState,
)
from rustg.protocol import client as client_module
from rustg.protocol import messages as m
from rustg.protocol.client import Output
from tests.protocol.protocol_samples import QUICK

A = "epoch-a"
B = "epoch-b"


def ev(seq: int, epoch: str = A, generation: int | None = None) -> m.GenerationStarted:
    """A distinguishable event: generation == seq unless told otherwise."""
    return m.GenerationStarted(
        seq=seq, epoch=epoch, generation=seq if generation is None else generation
    )


def snap(seq: int, epoch: str = A, generation: int | None = None) -> m.Snapshot:
    return m.Snapshot(seq=seq, epoch=epoch, generation=seq if generation is None else generation)


def syncing() -> ClientSync:
    sync = ClientSync()
    assert sync.start() == [RequestSnapshot("initial sync")]
    return sync


def live(seq: int = 10, epoch: str = A) -> ClientSync:
    sync = syncing()
    sync.snapshot_received(snap(seq, epoch))
    assert sync.sync_state is SyncState.LIVE
    return sync


def kinds(outputs: list[Output]) -> list[str]:
    return [type(o).__name__ for o in outputs]


def applied_seqs(outputs: list[Output]) -> list[int]:
    return [o.event.seq for o in outputs if isinstance(o, Applied)]


# ---------------------------------------------------------------------------------------------
# Initial sync


def test_a_new_machine_is_idle() -> None:
    sync = ClientSync()
    assert sync.sync_state is SyncState.IDLE
    assert sync.state is None


def test_initial_sync_without_buffered_events() -> None:
    sync = syncing()
    assert sync.sync_state is SyncState.SYNCING
    outputs = sync.snapshot_received(snap(10))
    assert kinds(outputs) == ["Synced"]
    synced = outputs[0]
    assert isinstance(synced, Synced)
    assert synced.restarted is False
    assert synced.state is sync.state
    assert (synced.state.seq, synced.state.epoch, synced.state.generation) == (10, A, 10)
    assert sync.sync_state is SyncState.LIVE


def test_events_buffered_before_the_snapshot_are_replayed_after_it() -> None:
    sync = syncing()
    for seq in (9, 10, 11, 12):  # subscribed first: these arrived while the request was out
        assert sync.event_received(ev(seq)) == []
    outputs = sync.snapshot_received(snap(10))
    assert kinds(outputs) == ["Synced", "Applied", "Applied"]
    assert applied_seqs(outputs) == [11, 12], "events the snapshot already reflects are dropped"
    assert sync.state is not None
    assert (sync.state.seq, sync.state.generation) == (12, 12)
    assert sync.sync_state is SyncState.LIVE


def test_events_all_older_than_the_snapshot_are_dropped() -> None:
    sync = syncing()
    sync.event_received(ev(3))
    sync.event_received(ev(4))
    assert kinds(sync.snapshot_received(snap(7))) == ["Synced"]
    assert sync.state is not None
    assert sync.state.seq == 7


def test_snapshot_older_than_the_first_buffered_event_asks_again() -> None:
    sync = syncing()
    sync.event_received(ev(13))  # 11 and 12 were published before our subscription took effect
    sync.event_received(ev(14))
    outputs = sync.snapshot_received(snap(10))
    assert outputs == [RequestSnapshot("snapshot at 10 misses events before 13")]
    assert sync.sync_state is SyncState.SYNCING
    # The second snapshot is newer than everything we saw; live events continue from it.
    assert kinds(sync.snapshot_received(snap(14))) == ["Synced"]
    assert applied_seqs(sync.event_received(ev(15))) == [15]


def test_buffered_events_of_another_epoch_are_discarded() -> None:
    sync = syncing()
    sync.event_received(ev(11, epoch=B))
    outputs = sync.snapshot_received(snap(10, epoch=A))
    assert kinds(outputs) == ["Synced"]
    assert sync.state is not None
    assert sync.state.seq == 10


def test_buffer_overflow_while_syncing_asks_for_a_new_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "MAX_BUFFERED", 3)
    sync = syncing()
    for seq in (1, 2, 3):
        assert sync.event_received(ev(seq)) == []
    assert sync.event_received(ev(4)) == [RequestSnapshot("event buffer overflow while syncing")]
    assert sync.sync_state is SyncState.SYNCING
    # The buffer was emptied: a snapshot at 4 plus the next event makes a consistent replica.
    sync.event_received(ev(5))
    outputs = sync.snapshot_received(snap(4))
    assert applied_seqs(outputs) == [5]


# ---------------------------------------------------------------------------------------------
# Live


def test_live_events_in_order_are_applied() -> None:
    sync = live(10)
    for seq in (11, 12, 13):
        outputs = sync.event_received(ev(seq))
        assert outputs == [Applied(ev(seq))]
    assert sync.state is not None
    assert (sync.state.seq, sync.state.generation) == (13, 13)


def test_live_duplicates_and_old_events_are_ignored() -> None:
    sync = live(10)
    sync.event_received(ev(11))
    assert sync.event_received(ev(11)) == []
    assert sync.event_received(ev(5)) == []
    assert sync.sync_state is SyncState.LIVE
    assert sync.state is not None
    assert sync.state.seq == 11


def test_gap_goes_back_to_syncing_and_keeps_the_event_that_revealed_it() -> None:
    sync = live(10)
    assert sync.event_received(ev(13)) == [RequestSnapshot("gap: expected seq 11, got 13")]
    assert sync.sync_state is SyncState.SYNCING
    sync.event_received(ev(14))
    outputs = sync.snapshot_received(snap(12))
    assert kinds(outputs) == ["Synced", "Applied", "Applied"]
    assert applied_seqs(outputs) == [13, 14]
    assert isinstance(outputs[0], Synced)
    assert outputs[0].restarted is False


def test_heartbeat_reveals_a_trailing_gap() -> None:
    # The last event before an idle period was dropped: the heartbeat takes the next seq, so
    # the client notices within one heartbeat interval instead of at the next save.
    sync = live(10)
    beat = m.Heartbeat(seq=12, epoch=A, generation=10)
    assert kinds(sync.event_received(beat)) == ["RequestSnapshot"]


def test_new_epoch_means_daemon_restarted() -> None:
    sync = live(40, epoch=A)
    assert sync.event_received(ev(3, epoch=B)) == [RequestSnapshot("daemon restarted")]
    assert sync.sync_state is SyncState.SYNCING
    outputs = sync.snapshot_received(snap(2, epoch=B))
    assert kinds(outputs) == ["Synced", "Applied"]
    synced = outputs[0]
    assert isinstance(synced, Synced)
    assert synced.restarted is True
    assert synced.state.epoch == B
    assert applied_seqs(outputs) == [3]
    assert sync.state is not None
    assert sync.state.seq == 3, "seq may restart lower in a new epoch"


def test_restart_seen_first_through_the_snapshot() -> None:
    # Caller-initiated resync (e.g. after silence); the reply comes from a new daemon.
    sync = live(40, epoch=A)
    assert sync.resync("daemon was silent") == [RequestSnapshot("daemon was silent")]
    outputs = sync.snapshot_received(snap(0, epoch=B))
    assert isinstance(outputs[0], Synced)
    assert outputs[0].restarted is True


def test_same_epoch_resync_is_not_a_restart() -> None:
    sync = live(10)
    sync.resync("checking")
    outputs = sync.snapshot_received(snap(20))
    assert isinstance(outputs[0], Synced)
    assert outputs[0].restarted is False


def test_resync_discards_what_was_buffered() -> None:
    sync = live(10)
    sync.event_received(ev(12))  # gap: syncing, 12 buffered
    sync.resync("caller knows better")
    outputs = sync.snapshot_received(snap(10))
    assert kinds(outputs) == ["Synced"]


def test_a_newer_snapshot_while_live_rebuilds_the_replica() -> None:
    sync = live(10)
    outputs = sync.snapshot_received(snap(15))
    assert kinds(outputs) == ["Synced"]
    assert sync.state is not None
    assert sync.state.seq == 15
    assert sync.sync_state is SyncState.LIVE
    assert sync.event_received(ev(16)) == [Applied(ev(16))]


def test_a_snapshot_of_a_new_daemon_while_live_is_a_restart() -> None:
    sync = live(10)
    outputs = sync.snapshot_received(snap(2, epoch=B))
    assert isinstance(outputs[0], Synced)
    assert outputs[0].restarted is True
    assert sync.event_received(ev(3, epoch=B)) == [Applied(ev(3, epoch=B))]


def test_the_replica_is_a_fresh_object_after_each_sync() -> None:
    sync = live(10)
    first = sync.state
    sync.resync("again")
    sync.snapshot_received(snap(11))
    assert sync.state is not first


def test_restart_is_reported_even_if_the_first_snapshot_after_it_is_too_old() -> None:
    sync = live(40, epoch=A)
    sync.event_received(ev(5, epoch=B))  # new daemon: resync
    outputs = sync.snapshot_received(snap(3, epoch=B))  # misses 4: ask again
    assert kinds(outputs) == ["RequestSnapshot"]
    outputs = sync.snapshot_received(snap(5, epoch=B))
    assert isinstance(outputs[0], Synced)
    assert outputs[0].restarted is True


def test_duplicates_in_the_buffer_are_not_a_gap() -> None:
    sync = syncing()
    for seq in (11, 11, 12, 12):
        sync.event_received(ev(seq))
    outputs = sync.snapshot_received(snap(10))
    assert applied_seqs(outputs) == [11, 12]
    assert sync.sync_state is SyncState.LIVE


def test_a_late_second_snapshot_reply_is_not_fatal() -> None:
    sync = syncing()  # request 1 is out
    sync.resync("timed out waiting")  # request 2 is out
    sync.snapshot_received(snap(10))  # reply 1: live
    sync.event_received(ev(11))
    sync.snapshot_received(snap(10))  # reply 2, older than what we hold
    assert sync.sync_state is not SyncState.ERROR
    assert sync.state is not None
    assert sync.state.seq >= 10


def test_a_client_synced_during_the_debounce_window_sees_the_daemon_go_idle() -> None:
    sync = syncing()
    sync.snapshot_received(m.Snapshot(seq=10, epoch=A, generation=1, pending=1))
    for event in (
        m.GenerationStarted(seq=11, epoch=A, generation=2, changed=["src/lib.rs"]),
        m.JobUpdate(
            seq=12, epoch=A, job=m.JobInfo(name="check", state=m.JobState.RUNNING, generation=2)
        ),
        m.JobUpdate(
            seq=13, epoch=A, job=m.JobInfo(name="check", state=m.JobState.SUCCEEDED, generation=2)
        ),
    ):
        sync.event_received(event)
    assert sync.state is not None
    assert sync.state.idle_at(2)


# ---------------------------------------------------------------------------------------------
# Illegal inputs: LocalProtocolError, and the error state is sticky


def _every_input(sync: ClientSync) -> list[object]:
    results: list[object] = []
    for attempt in (
        sync.start,
        lambda: sync.event_received(ev(1)),
        lambda: sync.snapshot_received(snap(1)),
        lambda: sync.resync("?"),
    ):
        try:
            results.append(attempt())
        except LocalProtocolError as exc:
            results.append(exc)
    return results


@pytest.mark.parametrize(
    ("setup", "illegal"),
    [
        (ClientSync, lambda s: s.event_received(ev(1))),
        (ClientSync, lambda s: s.snapshot_received(snap(1))),
        (ClientSync, lambda s: s.resync("too early")),
        (syncing, lambda s: s.start()),
        (live, lambda s: s.start()),
    ],
    ids=[
        "event-idle",
        "snapshot-idle",
        "resync-idle",
        "start-syncing",
        "start-live",
    ],
)
def test_illegal_input_raises_and_the_error_is_sticky(
    setup: Callable[[], ClientSync], illegal: Callable[[ClientSync], object]
) -> None:
    sync = setup()
    with pytest.raises(LocalProtocolError) as info:
        illegal(sync)
    assert isinstance(info.value, ProtocolError)
    assert info.value.code == "local-protocol-error"
    assert sync.sync_state is SyncState.ERROR
    results = _every_input(sync)
    assert all(isinstance(r, LocalProtocolError) for r in results), results
    assert all("'error'" in str(r) for r in results)
    assert sync.sync_state is SyncState.ERROR


# ---------------------------------------------------------------------------------------------
# Model-based: a fake daemon, a lossy pipe, and convergence

FILES = ["a.rs", "b.rs", "src/c.rs"]
SOURCES = ["rustc", "rustg-lint"]


class FakeDaemon:
    """The authority, publishing exactly as daemon/publisher.py does: next seq, own epoch,
    applied to its own state before it goes on the wire."""

    def __init__(self, epoch: str, state: WorkspaceState | None = None) -> None:
        self.state = state or WorkspaceState(epoch=epoch)
        self.state.epoch = epoch

    def publish(self, event: m.Event) -> m.AnyEvent:
        stamped = msgspec.structs.replace(event, seq=self.state.seq + 1, epoch=self.state.epoch)
        self.state.apply(stamped)  # type: ignore[arg-type]
        return stamped  # type: ignore[return-value]

    def restarted(self, epoch: str) -> FakeDaemon:
        """A new process: diagnostics restored from the store, marked stale; no jobs."""
        restored = [msgspec.structs.replace(d, stale=True) for d in self.state.iter_diagnostics()]
        snapshot = m.Snapshot(
            seq=self.state.seq,  # the counters survive in LMDB
            epoch=epoch,
            generation=self.state.generation,
            diagnostics=restored,
            restored=bool(restored),
        )
        return FakeDaemon(epoch, WorkspaceState.from_snapshot(snapshot))


@st.composite
def daemon_events(draw: st.DrawFn, generation: int, *, stale: bool) -> m.Event:
    """One event the daemon might publish at ``generation``; with ``stale``, results of older
    generations too (a result that was already on its way when a newer save came in)."""
    gen = (
        draw(st.integers(min_value=max(0, generation - 2), max_value=generation))
        if stale
        else generation
    )
    kind = draw(
        st.sampled_from(["generation", "job", "diagnostics", "diagnostics", "notice", "heartbeat"])
    )
    if kind == "generation":
        return m.GenerationStarted(
            pending=draw(st.integers(min_value=0, max_value=2)),
            generation=generation + 1,
            changed=draw(st.lists(st.sampled_from(FILES), max_size=2)),
        )
    if kind == "job":
        return m.JobUpdate(
            job=m.JobInfo(
                name=draw(st.sampled_from(["check", "lint"])),
                state=draw(st.sampled_from(m.JobState)),
                generation=gen,
                started_at=float(gen),
            )
        )
    if kind == "diagnostics":
        source = draw(st.sampled_from(SOURCES))
        files = {
            path: [
                m.Diagnostic(
                    source=source,
                    severity=draw(st.sampled_from([m.Severity.ERROR, m.Severity.WARNING])),
                    message=f"gen {gen}",
                    file=path,
                    line=line,
                    column=1,
                    end_line=line,
                    end_column=2,
                    generation=gen,
                )
                for line in draw(
                    st.lists(st.integers(min_value=1, max_value=9), max_size=2, unique=True)
                )
            ]
            for path in draw(st.sets(st.sampled_from(FILES), max_size=3))
        }
        return m.DiagnosticsPublished(
            source=source, generation=gen, files=files, replace_all=draw(st.booleans())
        )
    if kind == "notice":
        return m.Notice(level=m.Severity.INFO, message="rescan", kind="rescan")
    return m.Heartbeat(generation=generation, pending=draw(st.integers(min_value=0, max_value=2)))


@dataclass
class Pipe:
    """The network between one daemon and one client: SUB delivery in order, with losses and
    duplicates; one snapshot request/reply at a time over the DEALER socket."""

    sync: ClientSync
    events: deque[m.AnyEvent] = field(default_factory=deque)
    request_out: bool = False  # sent, not yet served by the daemon
    reply: m.Snapshot | None = None  # served, not yet delivered
    synced_epoch: str | None = None

    def handle(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, RequestSnapshot):
                # The machine never asks twice while a request is out (no overflow here).
                assert not self.request_out and self.reply is None, output
                self.request_out = True
            elif isinstance(output, Synced):
                # restarted is exact: True iff the replica's daemon differs from the last one.
                epoch = output.state.epoch
                assert output.restarted == (self.synced_epoch not in (None, epoch))
                self.synced_epoch = epoch

    def deliver_event(self) -> None:
        self.handle(self.sync.event_received(self.events.popleft()))

    def serve(self, daemon: FakeDaemon) -> None:
        self.request_out = False
        self.reply = daemon.state.to_snapshot()

    def deliver_reply(self) -> None:
        reply, self.reply = self.reply, None
        assert reply is not None
        self.handle(self.sync.snapshot_received(reply))


def _run_model(data: st.DataObject, *, stale: bool) -> None:
    daemon = FakeDaemon("epoch-0")
    epochs = [daemon.state.epoch]
    pipe = Pipe(ClientSync())
    pipe.handle(pipe.sync.start())

    for _ in range(data.draw(st.integers(min_value=0, max_value=40), label="steps")):
        step = data.draw(
            st.sampled_from(["publish"] * 4 + ["deliver"] * 4 + ["serve", "reply", "restart"]),
            label="step",
        )
        if step == "publish":
            event = daemon.publish(data.draw(daemon_events(daemon.state.generation, stale=stale)))
            copies = data.draw(st.sampled_from([1, 1, 1, 1, 0, 2]), label="copies")  # drop / dup
            pipe.events.extend([event] * copies)
        elif step == "deliver" and pipe.events:
            pipe.deliver_event()
        elif step == "serve" and pipe.request_out:
            pipe.serve(daemon)
        elif step == "reply" and pipe.reply is not None:
            pipe.deliver_reply()
        elif step == "restart":
            daemon = daemon.restarted(f"epoch-{len(epochs)}")
            epochs.append(daemon.state.epoch)

    # Quiet period: the pipe drains, heartbeats flow (reliably now), requests get answered.
    for _ in range(6):
        while pipe.events:
            pipe.deliver_event()
        if pipe.request_out:
            pipe.serve(daemon)
        if pipe.reply is not None:
            pipe.deliver_reply()
            continue
        pipe.events.append(daemon.publish(m.Heartbeat(generation=daemon.state.generation)))
        while pipe.events:
            pipe.deliver_event()
        if pipe.sync.sync_state is SyncState.LIVE and not pipe.request_out:
            break

    assert pipe.sync.sync_state is SyncState.LIVE
    replica = pipe.sync.state
    assert replica is not None
    assert (replica.epoch, replica.seq) == (daemon.state.epoch, daemon.state.seq)
    assert replica.to_snapshot() == daemon.state.to_snapshot()
    assert replica.restored == daemon.state.restored
    assert replica.busy == daemon.state.busy
    assert replica.diagnostics_generation == daemon.state.diagnostics_generation


@given(data=st.data())
@QUICK
def test_model_replica_converges_to_the_daemon(data: st.DataObject) -> None:
    # The daemon as written publishes only results that its own state accepts
    # (daemon/publisher.py publish_diagnostics drops stale ones before publishing).
    _run_model(data, stale=False)


@given(data=st.data())
@QUICK
def test_model_replica_converges_even_with_stale_results_on_the_wire(data: st.DataObject) -> None:
    # Results of an older generation, published anyway: both sides must reject the same ones.
    _run_model(data, stale=True)


def test_a_late_snapshot_of_a_replaced_daemon_is_ignored() -> None:
    sync = live(10)  # epoch A
    outputs = sync.snapshot_received(snap(2, epoch=B))  # B replaced A
    assert isinstance(outputs[0], Synced) and outputs[0].restarted
    assert sync.snapshot_received(snap(40, epoch=A)) == []  # A's reply, arriving late
    assert sync.state is not None and sync.state.epoch == B and sync.state.seq == 2
    sync.resync("again")
    assert kinds(sync.snapshot_received(snap(41, epoch=A))) == ["RequestSnapshot"]
