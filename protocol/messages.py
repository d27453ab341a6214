"""Typed protocol messages.

Every message is a msgspec ``Struct`` tagged by its ``type`` field and carries the protocol
version ``v``. Three families travel on two sockets (docs/protocol.md):

* requests (client → daemon, ROUTER), each with a client-chosen ``id``;
* replies (daemon → client, ROUTER), echoing that ``id``;
* events (daemon → all, PUB), each with a strictly increasing ``seq`` and the daemon's ``epoch``.

Positions follow rustc: lines and columns are 1-based, columns count Unicode scalar values, and
``end_column`` is exclusive. Files are workspace-relative POSIX paths.
"""

from __future__ import annotations

import enum

import msgspec

PROTOCOL_VERSION = 1


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NOTE = "note"
    HELP = "help"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # ran to completion, found no errors
    FAILED = "failed"  # ran to completion, reported errors
    CANCELLED = "cancelled"  # made stale by a newer save
    CRASHED = "crashed"  # the tool itself broke (not the user's code)

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class Applicability(enum.StrEnum):
    MACHINE_APPLICABLE = "machine-applicable"
    MAYBE_INCORRECT = "maybe-incorrect"
    HAS_PLACEHOLDERS = "has-placeholders"
    UNSPECIFIED = "unspecified"


# ---------------------------------------------------------------------------------------------
# Data carried inside messages


class Span(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    label: str | None = None
    primary: bool = False


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    span: Span
    replacement: str
    applicability: Applicability
    message: str = ""


class DiagnosticChild(msgspec.Struct, frozen=True, kw_only=True):
    severity: Severity
    message: str
    spans: list[Span] = []


class Diagnostic(msgspec.Struct, frozen=True, kw_only=True):
    """One finding, with its primary span flattened in for easy consumption."""

    source: str  # "rustc", "rustg-syntax", "rustg-lint", "rustg-fmt" ...
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str | None = None
    rendered: str | None = None
    spans: list[Span] = []  # every span, primary ones flagged
    children: list[DiagnosticChild] = []
    suggestions: list[Suggestion] = []
    generation: int = 0
    stale: bool = False  # restored from a previous daemon run, not rechecked yet


class JobInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    state: JobState
    generation: int
    started_at: float | None = None
    finished_at: float | None = None
    summary: str = ""

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class DaemonInfo(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    protocol: int
    pid: int
    workspace: str  # absolute path of the workspace root
    workspace_id: str
    epoch: str  # random per daemon start: a change means "the daemon restarted"
    started_at: float
    pub_endpoint: str
    backend: str = "cpu"
    requests_endpoint: str = ""
    # Optional loopback TCP (docs/remote.md): endpoints and the daemon's CURVE public key.
    tcp_requests: str | None = None
    tcp_events: str | None = None
    curve_server_key: str | None = None


# ---------------------------------------------------------------------------------------------
# Base classes


class Message(msgspec.Struct, tag_field="type", kw_only=True, frozen=True):
    v: int = PROTOCOL_VERSION


class Request(Message, frozen=True, kw_only=True):
    id: int = 0


class Reply(Message, frozen=True, kw_only=True):
    id: int = 0


class Event(Message, frozen=True, kw_only=True):
    seq: int = 0
    epoch: str = ""


# ---------------------------------------------------------------------------------------------
# Requests


class Hello(Request, tag="hello", frozen=True, kw_only=True):
    client: str = ""


class SnapshotRequest(Request, tag="snapshot", frozen=True, kw_only=True):
    pass


class StatusRequest(Request, tag="status", frozen=True, kw_only=True):
    pass


class RunJob(Request, tag="run-job", frozen=True, kw_only=True):
    job: str  # "check", or "all"


class Shutdown(Request, tag="shutdown", frozen=True, kw_only=True):
    pass


class Ping(Request, tag="ping", frozen=True, kw_only=True):
    pass


class FormatRequest(Request, tag="format", frozen=True, kw_only=True):
    """Format one file (docs/formatting.md): ``content`` is the editor's buffer; without it the
    file on disk. The daemon never writes: the reply carries the edits."""

    file: str  # workspace-relative POSIX path (decides the rustfmt.toml and edition)
    content: str | None = None


# ---------------------------------------------------------------------------------------------
# Replies


class Welcome(Reply, tag="welcome", frozen=True, kw_only=True):
    daemon: DaemonInfo


class Snapshot(Reply, tag="snapshot-reply", frozen=True, kw_only=True):
    """The whole state at event sequence number ``seq`` (Clone pattern)."""

    seq: int
    epoch: str
    generation: int
    jobs: list[JobInfo] = []
    diagnostics: list[Diagnostic] = []
    pending: int = 0  # saves seen but not yet started (debounce window)
    restored: bool = False  # diagnostics come from the previous run, not rechecked yet
    # source -> generation of its newest accepted result (even an empty one): a replica needs
    # it to reject the same stale results the daemon rejects.
    diagnostics_generation: dict[str, int] = {}


class StatusReply(Reply, tag="status-reply", frozen=True, kw_only=True):
    daemon: DaemonInfo
    healthy: bool
    seq: int
    generation: int
    files: int
    pending: int
    busy: bool
    rss_bytes: int = 0
    problems: list[str] = []


class JobAccepted(Reply, tag="job-accepted", frozen=True, kw_only=True):
    job: str
    generation: int


class ShutdownAck(Reply, tag="shutdown-ack", frozen=True, kw_only=True):
    pass


class Pong(Reply, tag="pong", frozen=True, kw_only=True):
    time: float = 0.0


class TextEdit(msgspec.Struct, frozen=True, kw_only=True):
    """Replace lines ``[start_line, end_line)`` (0-based, whole lines) with ``new_text``."""

    start_line: int
    end_line: int
    new_text: str


class FormatReply(Reply, tag="format-reply", frozen=True, kw_only=True):
    file: str
    outcome: str  # "unchanged", "changed", "rustfmt-failed", "internal-error", "unreadable"
    edits: list[TextEdit] = []
    message: str = ""  # rustfmt's error, or the safety net's finding
    route: str = ""  # "cached", "native", "items", "file"


class ErrorReply(Reply, tag="error", frozen=True, kw_only=True):
    code: str
    message: str


# ---------------------------------------------------------------------------------------------
# Events


class GenerationStarted(Event, tag="generation", frozen=True, kw_only=True):
    generation: int
    changed: list[str] = []  # workspace-relative paths (empty: a requested run or rescan)
    reason: str = "save"
    pending: int = 0  # saves still debouncing when this generation started


class JobUpdate(Event, tag="job", frozen=True, kw_only=True):
    job: JobInfo


class DiagnosticsPublished(Event, tag="diagnostics", frozen=True, kw_only=True):
    """Replace ``source``'s diagnostics: for ``files`` only, or all files if ``replace_all``."""

    source: str
    generation: int
    files: dict[str, list[Diagnostic]] = {}
    replace_all: bool = False


class Notice(Event, tag="notice", frozen=True, kw_only=True):
    """Something a human should see that is not a diagnostic (rescan, tool crash, ...)."""

    level: Severity
    message: str
    kind: str = ""  # machine-readable: "rescan", "tool-crash", "restored" ...


class Heartbeat(Event, tag="heartbeat", frozen=True, kw_only=True):
    """Sent when idle so subscribers learn the current ``seq`` (and notice gaps) promptly."""

    generation: int = 0
    pending: int = 0


AnyRequest = Hello | SnapshotRequest | StatusRequest | RunJob | Shutdown | Ping | FormatRequest
AnyReply = (
    Welcome | Snapshot | StatusReply | JobAccepted | ShutdownAck | Pong | FormatReply | ErrorReply
)
AnyEvent = GenerationStarted | JobUpdate | DiagnosticsPublished | Notice | Heartbeat
