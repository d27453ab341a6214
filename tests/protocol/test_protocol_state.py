"""WorkspaceState: the pure rules both the daemon (authority) and every client (replica) apply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustg.protocol import WorkspaceState
from rustg.protocol import messages as m
from rustg.protocol.state import MAX_NOTICES
from tests.protocol.protocol_samples import QUICK, jobs

EPOCH = "e1"


def diag(
    file: str,
    line: int = 1,
    *,
    source: str = "rustc",
    generation: int = 1,
    severity: m.Severity = m.Severity.ERROR,
    column: int = 1,
    stale: bool = False,
) -> m.Diagnostic:
    return m.Diagnostic(
        source=source,
        severity=severity,
        message=f"{severity} at {file}:{line}",
        file=file,
        line=line,
        column=column,
        end_line=line,
        end_column=column + 1,
        generation=generation,
        stale=stale,
    )


def published(
    generation: int,
    files: dict[str, list[m.Diagnostic]],
    *,
    source: str = "rustc",
    replace_all: bool = False,
    seq: int = 0,
) -> m.DiagnosticsPublished:
    return m.DiagnosticsPublished(
        seq=seq,
        epoch=EPOCH,
        source=source,
        generation=generation,
        files=files,
        replace_all=replace_all,
    )


def job(name: str, state: m.JobState, generation: int) -> m.JobUpdate:
    return m.JobUpdate(
        epoch=EPOCH, job=m.JobInfo(name=name, state=state, generation=generation, started_at=1.0)
    )


def files_of(state: WorkspaceState, source: str = "rustc") -> dict[str, list[int]]:
    return {f: [d.line for d in ds] for f, ds in state.diagnostics.get(source, {}).items()}


# ---------------------------------------------------------------------------------------------
# Jobs and generations


def test_generation_only_moves_forward() -> None:
    state = WorkspaceState()
    assert state.apply(m.GenerationStarted(seq=1, generation=3))
    assert state.apply(m.GenerationStarted(seq=2, generation=2))
    assert state.generation == 3
    assert state.seq == 2


def test_newer_job_result_replaces_older() -> None:
    state = WorkspaceState()
    assert state.apply(job("check", m.JobState.RUNNING, 1))
    assert state.apply(job("check", m.JobState.FAILED, 1))  # same generation: a progression
    assert state.apply(job("check", m.JobState.QUEUED, 2))
    assert state.jobs["check"].state is m.JobState.QUEUED
    assert state.jobs["check"].generation == 2


def test_stale_job_result_never_overwrites_a_newer_one() -> None:
    state = WorkspaceState()
    state.apply(job("check", m.JobState.RUNNING, 5))
    assert not state.apply(
        m.JobUpdate(seq=9, job=m.JobInfo(name="check", state=m.JobState.FAILED, generation=4))
    )
    assert state.jobs["check"].state is m.JobState.RUNNING
    assert state.jobs["check"].generation == 5
    assert state.seq == 9, "even a stale event advances seq: it was received in order"


def test_jobs_are_independent() -> None:
    state = WorkspaceState()
    state.apply(job("check", m.JobState.RUNNING, 5))
    assert state.apply(job("lint", m.JobState.SUCCEEDED, 4))
    assert set(state.jobs) == {"check", "lint"}


@pytest.mark.parametrize(
    ("states", "busy"),
    [
        ([], False),
        (
            [m.JobState.SUCCEEDED, m.JobState.FAILED, m.JobState.CANCELLED, m.JobState.CRASHED],
            False,
        ),
        ([m.JobState.SUCCEEDED, m.JobState.RUNNING], True),
        ([m.JobState.QUEUED], True),
    ],
)
def test_busy_while_any_job_is_unfinished(states: list[m.JobState], busy: bool) -> None:
    state = WorkspaceState(generation=2)
    for i, job_state in enumerate(states):
        state.apply(job(f"job{i}", job_state, 2))
    assert state.busy is busy
    assert state.idle_at(2) is not busy
    assert not state.idle_at(3), "never idle for a generation that has not started"


def test_pending_saves_make_the_state_busy() -> None:
    state = WorkspaceState(generation=2)
    state.pending = 1
    assert state.busy
    assert not state.idle_at(2)


def test_heartbeat_advances_seq_and_reports_pending_saves() -> None:
    state = WorkspaceState(generation=4)
    before = state.to_snapshot()
    assert state.apply(m.Heartbeat(seq=7, generation=4, pending=2))
    assert state.to_snapshot() == m.Snapshot(**{**_fields(before), "seq": 7, "pending": 2})
    assert state.busy
    state.apply(m.Heartbeat(seq=8, generation=4))
    assert state.pending == 0
    assert state.idle_at(4)


def test_generation_started_reports_the_saves_still_pending() -> None:
    state = WorkspaceState(generation=1)
    state.pending = 3  # as a snapshot taken during the debounce window says
    state.apply(m.GenerationStarted(seq=1, generation=2, pending=1))
    assert state.pending == 1
    state.apply(m.GenerationStarted(seq=2, generation=3))
    assert state.pending == 0


def _fields(snapshot: m.Snapshot) -> dict[str, object]:
    return {f: getattr(snapshot, f) for f in snapshot.__struct_fields__}


def test_notices_are_kept_bounded_and_in_order() -> None:
    state = WorkspaceState()
    for i in range(MAX_NOTICES + 5):
        state.apply(m.Notice(seq=i + 1, level=m.Severity.INFO, message=str(i)))
    assert len(state.notices) == MAX_NOTICES
    assert state.notices[0].message == "5"
    assert state.notices[-1].message == str(MAX_NOTICES + 4)


# ---------------------------------------------------------------------------------------------
# Diagnostics


def test_per_file_publish_replaces_only_the_named_files() -> None:
    state = WorkspaceState()
    state.apply(published(1, {"a.rs": [diag("a.rs", 1)], "b.rs": [diag("b.rs", 2)]}))
    state.apply(
        published(2, {"a.rs": [diag("a.rs", 7, generation=2), diag("a.rs", 9, generation=2)]})
    )
    assert files_of(state) == {"a.rs": [7, 9], "b.rs": [2]}


def test_replace_all_drops_files_not_named() -> None:
    state = WorkspaceState()
    state.apply(published(1, {"a.rs": [diag("a.rs")], "b.rs": [diag("b.rs")]}))
    state.apply(published(2, {"b.rs": [diag("b.rs", 5, generation=2)]}, replace_all=True))
    assert files_of(state) == {"b.rs": [5]}


def test_replace_all_with_nothing_clears_the_source_entirely() -> None:
    state = WorkspaceState()
    state.apply(published(1, {"a.rs": [diag("a.rs")]}))
    state.apply(published(2, {}, replace_all=True))
    assert state.diagnostics == {}
    assert list(state.iter_diagnostics()) == []


def test_empty_list_removes_a_file() -> None:
    state = WorkspaceState()
    state.apply(published(1, {"a.rs": [diag("a.rs")], "b.rs": [diag("b.rs")]}))
    state.apply(published(2, {"a.rs": []}))
    assert files_of(state) == {"b.rs": [1]}
    state.apply(published(3, {"b.rs": []}))
    assert "rustc" not in state.diagnostics, "a source with no files left disappears"


def test_empty_list_for_an_unknown_file_is_harmless() -> None:
    state = WorkspaceState()
    assert state.apply(published(1, {"never-had-any.rs": []}))
    assert state.diagnostics == {}


def test_sources_are_independent() -> None:
    state = WorkspaceState()
    state.apply(published(1, {"a.rs": [diag("a.rs", 1)]}, source="rustc"))
    state.apply(published(1, {"a.rs": [diag("a.rs", 2, source="rustg-lint")]}, source="rustg-lint"))
    state.apply(published(2, {}, source="rustc", replace_all=True))
    assert [d.source for d in state.iter_diagnostics()] == ["rustg-lint"]


def test_stale_generation_is_ignored() -> None:
    state = WorkspaceState()
    state.apply(published(5, {"a.rs": [diag("a.rs", 1, generation=5)]}))
    assert not state.apply(published(4, {"a.rs": [diag("a.rs", 99, generation=4)]}, seq=12))
    assert not state.apply(published(3, {}, replace_all=True))
    assert files_of(state) == {"a.rs": [1]}
    assert state.seq == 12


def test_stale_generation_is_ignored_even_for_other_files() -> None:
    # Generation is per source, not per file: an old check run knows nothing newer about b.rs.
    state = WorkspaceState()
    state.apply(published(5, {"a.rs": [diag("a.rs", generation=5)]}))
    assert not state.apply(published(4, {"b.rs": [diag("b.rs", generation=4)]}))
    assert files_of(state) == {"a.rs": [1]}


def test_stale_generation_is_ignored_after_the_newer_result_was_empty() -> None:
    state = WorkspaceState()
    state.apply(published(5, {}, replace_all=True))
    assert not state.apply(published(4, {"a.rs": [diag("a.rs", generation=4)]}))
    assert state.diagnostics == {}


def test_same_generation_publishes_accumulate() -> None:
    # One job may publish a generation's results file by file as it streams them.
    state = WorkspaceState()
    state.apply(published(3, {"a.rs": [diag("a.rs", generation=3)]}))
    assert state.apply(published(3, {"b.rs": [diag("b.rs", generation=3)]}))
    assert files_of(state) == {"a.rs": [1], "b.rs": [1]}


def test_stale_generation_of_one_source_does_not_block_another() -> None:
    state = WorkspaceState()
    state.apply(published(5, {"a.rs": [diag("a.rs", generation=5)]}, source="rustc"))
    assert state.apply(
        published(1, {"a.rs": [diag("a.rs", source="rustg-fmt")]}, source="rustg-fmt")
    )


def test_iteration_order_and_grouping() -> None:
    state = WorkspaceState()
    state.apply(
        published(
            1, {"b.rs": [diag("b.rs", 3)], "a.rs": [diag("a.rs", 9), diag("a.rs", 2, column=5)]}
        )
    )
    state.apply(published(1, {"a.rs": [diag("a.rs", 2, source="lint")]}, source="lint"))
    assert [(d.file, d.line, d.source) for d in state.iter_diagnostics()] == [
        ("a.rs", 2, "lint"),
        ("a.rs", 2, "rustc"),
        ("a.rs", 9, "rustc"),
        ("b.rs", 3, "rustc"),
    ]
    assert list(state.by_file()) == ["a.rs", "b.rs"]
    assert [d.line for d in state.by_file()["a.rs"]] == [2, 2, 9]


def test_counts_by_severity() -> None:
    state = WorkspaceState()
    state.apply(
        published(
            1,
            {
                "a.rs": [diag("a.rs", 1), diag("a.rs", 2, severity=m.Severity.WARNING)],
                "b.rs": [diag("b.rs", 1, severity=m.Severity.WARNING)],
            },
        )
    )
    assert state.counts() == {"error": 1, "warning": 2}
    assert WorkspaceState().counts() == {}


def test_restored_until_every_stale_diagnostic_is_replaced() -> None:
    state = WorkspaceState.from_snapshot(
        m.Snapshot(
            seq=0,
            epoch=EPOCH,
            generation=3,
            diagnostics=[
                diag("a.rs", stale=True, generation=3),
                diag("b.rs", stale=True, generation=3),
            ],
            restored=True,
        )
    )
    assert state.restored
    state.apply(published(4, {"a.rs": [diag("a.rs", 2, generation=4)]}))
    assert state.restored, "b.rs still shows the previous run's result"
    state.apply(published(4, {"b.rs": []}))
    assert not state.restored


# ---------------------------------------------------------------------------------------------
# Snapshots


def test_empty_state_snapshot() -> None:
    snapshot = WorkspaceState(epoch=EPOCH, seq=3, generation=1).to_snapshot(request_id=9)
    assert snapshot == m.Snapshot(id=9, seq=3, epoch=EPOCH, generation=1)


def test_snapshot_contents() -> None:
    state = WorkspaceState(epoch=EPOCH)
    state.apply(m.GenerationStarted(seq=1, generation=2))
    state.apply(job("lint", m.JobState.SUCCEEDED, 2))
    state.apply(job("check", m.JobState.RUNNING, 2))
    state.apply(
        published(2, {"b.rs": [diag("b.rs", generation=2)], "a.rs": [diag("a.rs", generation=2)]})
    )
    state.pending = 1
    snapshot = state.to_snapshot()
    assert snapshot.seq == 1
    assert snapshot.generation == 2
    assert [j.name for j in snapshot.jobs] == ["check", "lint"]
    assert [d.file for d in snapshot.diagnostics] == ["a.rs", "b.rs"]
    assert snapshot.pending == 1
    assert not snapshot.restored


def _same(a: WorkspaceState, b: WorkspaceState) -> None:
    assert (a.epoch, a.seq, a.generation, a.pending, a.restored) == (
        b.epoch,
        b.seq,
        b.generation,
        b.pending,
        b.restored,
    )
    assert a.jobs == b.jobs
    assert a.diagnostics == b.diagnostics
    assert a.diagnostics_generation == b.diagnostics_generation
    assert a.to_snapshot() == b.to_snapshot()


@st.composite
def built_states(draw: st.DrawFn) -> WorkspaceState:
    """A state reached through ``apply`` only, the way the daemon builds its own."""
    state = WorkspaceState(epoch=draw(st.text(max_size=4)))
    sources = st.sampled_from(["rustc", "rustg-lint", "rustg-fmt"])
    files = st.sampled_from(["a.rs", "b.rs", "src/c.rs"])
    for seq in range(1, draw(st.integers(min_value=0, max_value=12)) + 1):
        generation = draw(st.integers(min_value=0, max_value=5))
        kind = draw(st.sampled_from(["generation", "job", "diagnostics"]))
        event: m.AnyEvent
        if kind == "generation":
            event = m.GenerationStarted(seq=seq, generation=generation)
        elif kind == "job":
            event = m.JobUpdate(seq=seq, job=draw(jobs))
        else:
            source = draw(sources)
            event = m.DiagnosticsPublished(
                seq=seq,
                source=source,
                generation=generation,
                replace_all=draw(st.booleans()),
                # The invariant the daemon keeps: a diagnostic is listed under its own file.
                files={
                    path: draw(
                        st.lists(
                            st.builds(
                                diag,
                                st.just(path),
                                st.integers(min_value=1, max_value=9),
                                source=st.just(source),
                                generation=st.just(generation),
                                severity=st.sampled_from(m.Severity),
                                stale=st.booleans(),
                            ),
                            max_size=2,
                        )
                    )
                    for path in draw(st.sets(files, max_size=3))
                },
            )
        state.apply(event)
    state.pending = draw(st.integers(min_value=0, max_value=2))
    return state


def _in_file_order(state: WorkspaceState) -> WorkspaceState:
    """``state`` with each file's list in snapshot order (a snapshot carries one sorted list)."""
    for files in state.diagnostics.values():
        for path, ds in files.items():
            files[path] = sorted(ds, key=lambda d: (d.line, d.column))
    return state


@given(state=built_states())
@QUICK
def test_snapshot_round_trip(state: WorkspaceState) -> None:
    again = WorkspaceState.from_snapshot(state.to_snapshot())
    _same(_in_file_order(state), again)
    # And the replica's own snapshot is the authority's, bit for bit.
    assert again.to_snapshot() == state.to_snapshot()


def test_snapshot_round_trip_keeps_the_restored_marker() -> None:
    state = WorkspaceState.from_snapshot(
        m.Snapshot(
            seq=4, epoch=EPOCH, generation=2, diagnostics=[diag("a.rs", stale=True)], restored=True
        )
    )
    again = WorkspaceState.from_snapshot(state.to_snapshot())
    _same(state, again)
    assert again.restored


def test_snapshot_round_trip_keeps_diagnostics_generation() -> None:
    state = WorkspaceState()
    state.apply(published(3, {"a.rs": [diag("a.rs", generation=3)]}))
    again = WorkspaceState.from_snapshot(state.to_snapshot())
    assert again.diagnostics_generation == state.diagnostics_generation == {"rustc": 3}
    state.apply(published(4, {}, replace_all=True))  # newest result empty: nothing to derive from
    again = WorkspaceState.from_snapshot(state.to_snapshot())
    assert again.diagnostics_generation == {"rustc": 4}


def test_replica_from_snapshot_rejects_what_the_authority_rejects() -> None:
    daemon = WorkspaceState(epoch=EPOCH)
    daemon.apply(published(4, {"a.rs": [diag("a.rs", generation=4)]}, seq=1))
    daemon.apply(published(5, {}, replace_all=True, seq=2))  # gen 5 fixed everything
    replica = WorkspaceState.from_snapshot(daemon.to_snapshot())

    # A gen-4 result the daemon still publishes (it was already on its way) is stale for both.
    late = published(4, {"a.rs": [diag("a.rs", generation=4)]}, seq=3)
    assert daemon.apply(late) is False
    assert replica.apply(late) is False
    assert replica.to_snapshot() == daemon.to_snapshot()
