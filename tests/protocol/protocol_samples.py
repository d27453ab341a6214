"""Sample messages and hypothesis strategies shared by the protocol tests.

Every message type appears here with its nested data populated, so a round trip through the
codec exercises each field; ``test_samples_cover_every_message_type`` keeps this list honest
when a message type is added.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from rustg.protocol import messages as m

#: Deterministic and quick: the fuzzers run on every gate, so their examples are fixed (no
#: database, derandomized) and few enough to keep each test well under a second.
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
QUICK = settings(FUZZ, max_examples=50)

EPOCH = "5f0c2a1e9b7d4c38"
OTHER_EPOCH = "a93b11d07e6f2c54"

DAEMON = m.DaemonInfo(
    version="0.1.0",
    protocol=m.PROTOCOL_VERSION,
    pid=4242,
    workspace="/home/ada/src/shapes",
    workspace_id="3b9f0c61a2d4e7f8",
    epoch=EPOCH,
    started_at=1_700_000_000.25,
    pub_endpoint="ipc:///run/user/1000/rustg/3b9f0c61a2d4e7f8/events.sock",
    backend="cuda",
)

PRIMARY = m.Span(
    file="crates/app/src/lib.rs",
    line=3,
    column=18,
    end_line=3,
    end_column=21,
    label="expected `i32`, found `&str`",
    primary=True,
)
SECONDARY = m.Span(
    file="crates/app/src/lib.rs",
    line=3,
    column=12,
    end_line=3,
    end_column=15,
    label="expected due to this",
)
OTHER_FILE = m.Span(
    file="crates/core/src/shape.rs",
    line=10,
    column=1,
    end_line=12,
    end_column=2,
    label="defined here",
)

DIAGNOSTIC = m.Diagnostic(
    source="rustc",
    severity=m.Severity.ERROR,
    message="mismatched types",
    file=PRIMARY.file,
    line=PRIMARY.line,
    column=PRIMARY.column,
    end_line=PRIMARY.end_line,
    end_column=PRIMARY.end_column,
    code="E0308",
    rendered="error[E0308]: mismatched types\n --> crates/app/src/lib.rs:3:18\n",
    spans=[PRIMARY, SECONDARY, OTHER_FILE],
    children=[
        m.DiagnosticChild(
            severity=m.Severity.NOTE, message="see the definition", spans=[OTHER_FILE]
        ),
        m.DiagnosticChild(severity=m.Severity.HELP, message="try converting"),
    ],
    suggestions=[
        m.Suggestion(
            span=PRIMARY,
            replacement="3",
            applicability=m.Applicability.MACHINE_APPLICABLE,
            message="use an integer literal",
        ),
        m.Suggestion(
            span=SECONDARY, replacement="&str", applicability=m.Applicability.MAYBE_INCORRECT
        ),
    ],
    generation=7,
    stale=True,
)
WARNING = m.Diagnostic(
    source="rustg-lint",
    severity=m.Severity.WARNING,
    message="kernel argument is never read",
    file="crates/core/src/kernels.rs",
    line=1,
    column=1,
    end_line=2,
    end_column=1,
    generation=7,
)

RUNNING = m.JobInfo(name="check", state=m.JobState.RUNNING, generation=7, started_at=10.5)
FINISHED = m.JobInfo(
    name="lint",
    state=m.JobState.FAILED,
    generation=7,
    started_at=10.0,
    finished_at=10.25,
    summary="1 warning",
)

REQUESTS: list[m.Message] = [
    m.Hello(id=1, client="rg-watch 0.1.0"),
    m.SnapshotRequest(id=2),
    m.StatusRequest(id=3),
    m.RunJob(id=4, job="check"),
    m.Shutdown(id=5),
    m.Ping(id=2**63),
    m.FormatRequest(id=8, file="crates/app/src/lib.rs", content="fn  main(){}\n"),
]
REPLIES: list[m.Message] = [
    m.Welcome(id=1, daemon=DAEMON),
    m.Snapshot(
        id=2,
        seq=41,
        epoch=EPOCH,
        generation=7,
        jobs=[FINISHED, RUNNING],
        diagnostics=[DIAGNOSTIC, WARNING],
        pending=2,
        restored=True,
        diagnostics_generation={"rustc": 7, "rustg-lint": 7, "rustg-fmt": 9},
    ),
    m.StatusReply(
        id=3,
        daemon=DAEMON,
        healthy=False,
        seq=41,
        generation=7,
        files=1234,
        pending=0,
        busy=True,
        rss_bytes=123 << 20,
        problems=["watcher overflowed", "cargo missing"],
    ),
    m.JobAccepted(id=4, job="check", generation=8),
    m.ShutdownAck(id=5),
    m.Pong(id=6, time=1_700_000_001.5),
    m.FormatReply(
        id=8,
        file="crates/app/src/lib.rs",
        outcome="changed",
        edits=[m.TextEdit(start_line=0, end_line=1, new_text="fn main() {}\n")],
        message="rustfmt: formatted",
        route="file",
    ),
    m.ErrorReply(id=7, code="bad-frame", message="not a protocol frame: truncated"),
]
EVENTS: list[m.Message] = [
    m.GenerationStarted(
        seq=42,
        epoch=EPOCH,
        generation=8,
        changed=["crates/app/src/lib.rs"],
        reason="rescan",
        pending=1,
    ),
    m.JobUpdate(seq=43, epoch=EPOCH, job=RUNNING),
    m.DiagnosticsPublished(
        seq=44,
        epoch=EPOCH,
        source="rustc",
        generation=8,
        files={DIAGNOSTIC.file: [DIAGNOSTIC], "crates/app/src/main.rs": []},
        replace_all=True,
    ),
    m.Notice(seq=45, epoch=EPOCH, level=m.Severity.WARNING, message="rescanning", kind="rescan"),
    m.Heartbeat(seq=46, epoch=EPOCH, generation=8, pending=3),
]
ALL_MESSAGES = REQUESTS + REPLIES + EVENTS

# ---------------------------------------------------------------------------------------------
# Strategies

texts = st.text(max_size=12)
small = st.integers(min_value=0, max_value=2**16)
u64 = st.integers(min_value=0, max_value=2**64 - 1)
floats = st.floats(allow_nan=False)  # NaN != NaN would make equality-based round trips fail
severities = st.sampled_from(m.Severity)
booleans = st.booleans()


def spans(file: st.SearchStrategy[str] = texts) -> st.SearchStrategy[m.Span]:
    return st.builds(
        m.Span,
        file=file,
        line=small,
        column=small,
        end_line=small,
        end_column=small,
        label=st.none() | texts,
        primary=st.booleans(),
    )


suggestions = st.builds(
    m.Suggestion,
    span=spans(),
    replacement=texts,
    applicability=st.sampled_from(m.Applicability),
    message=texts,
)
children = st.builds(
    m.DiagnosticChild,
    severity=severities,
    message=texts,
    spans=st.lists(spans(), max_size=2),
)


def diagnostics(
    *,
    source: st.SearchStrategy[str] = texts,
    file: st.SearchStrategy[str] = texts,
    generation: st.SearchStrategy[int] = small,
    stale: st.SearchStrategy[bool] = booleans,
) -> st.SearchStrategy[m.Diagnostic]:
    return st.builds(
        m.Diagnostic,
        source=source,
        severity=severities,
        message=texts,
        file=file,
        line=small,
        column=small,
        end_line=small,
        end_column=small,
        code=st.none() | texts,
        rendered=st.none() | texts,
        spans=st.lists(spans(), max_size=2),
        children=st.lists(children, max_size=2),
        suggestions=st.lists(suggestions, max_size=2),
        generation=generation,
        stale=stale,
    )


jobs = st.builds(
    m.JobInfo,
    name=texts,
    state=st.sampled_from(m.JobState),
    generation=small,
    started_at=st.none() | floats,
    finished_at=st.none() | floats,
    summary=texts,
)
daemon_infos = st.builds(
    m.DaemonInfo,
    version=texts,
    protocol=st.just(m.PROTOCOL_VERSION),
    pid=small,
    workspace=texts,
    workspace_id=texts,
    epoch=texts,
    started_at=floats,
    pub_endpoint=texts,
    backend=texts,
)

requests: st.SearchStrategy[m.Message] = st.one_of(
    st.builds(m.Hello, id=u64, client=texts),
    st.builds(m.SnapshotRequest, id=u64),
    st.builds(m.StatusRequest, id=u64),
    st.builds(m.RunJob, id=u64, job=texts),
    st.builds(m.Shutdown, id=u64),
    st.builds(m.Ping, id=u64),
    st.builds(m.FormatRequest, id=u64, file=texts, content=st.none() | texts),
)
replies: st.SearchStrategy[m.Message] = st.one_of(
    st.builds(m.Welcome, id=u64, daemon=daemon_infos),
    st.builds(
        m.Snapshot,
        id=u64,
        seq=u64,
        epoch=texts,
        generation=small,
        jobs=st.lists(jobs, max_size=3),
        diagnostics=st.lists(diagnostics(), max_size=3),
        pending=small,
        restored=st.booleans(),
        diagnostics_generation=st.dictionaries(texts, small, max_size=3),
    ),
    st.builds(
        m.StatusReply,
        id=u64,
        daemon=daemon_infos,
        healthy=st.booleans(),
        seq=u64,
        generation=small,
        files=small,
        pending=small,
        busy=st.booleans(),
        rss_bytes=u64,
        problems=st.lists(texts, max_size=3),
    ),
    st.builds(m.JobAccepted, id=u64, job=texts, generation=small),
    st.builds(m.ShutdownAck, id=u64),
    st.builds(m.Pong, id=u64, time=floats),
    st.builds(m.ErrorReply, id=u64, code=texts, message=texts),
    st.builds(
        m.FormatReply,
        id=u64,
        file=texts,
        outcome=texts,
        edits=st.lists(
            st.builds(m.TextEdit, start_line=small, end_line=small, new_text=texts), max_size=3
        ),
        message=texts,
        route=texts,
    ),
)
events: st.SearchStrategy[m.Message] = st.one_of(
    st.builds(
        m.GenerationStarted,
        seq=u64,
        epoch=texts,
        generation=small,
        changed=st.lists(texts, max_size=3),
        reason=texts,
        pending=small,
    ),
    st.builds(m.JobUpdate, seq=u64, epoch=texts, job=jobs),
    st.builds(
        m.DiagnosticsPublished,
        seq=u64,
        epoch=texts,
        source=texts,
        generation=small,
        files=st.dictionaries(texts, st.lists(diagnostics(), max_size=2), max_size=3),
        replace_all=st.booleans(),
    ),
    st.builds(m.Notice, seq=u64, epoch=texts, level=severities, message=texts, kind=texts),
    st.builds(m.Heartbeat, seq=u64, epoch=texts, generation=small, pending=small),
)

#: Any value MessagePack can carry, nested a little: the raw material of hostile frames.
msgpack_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
