"""Pure views of a workspace: rich renderables for ``rg-watch``, plain lines for pipes.

Nothing here reads files, clocks or the environment. The caller injects the current time
(``now``, the daemon's clock: ``time.time()``, because job timestamps are wall-clock), and the
source text through ``read_lines(path) -> list[str] | None`` (workspace-relative path in; the
file's lines, or None when unavailable). Styles are named, never raw escape codes, so the Console
decides what reaches the terminal (``NO_COLOR``, ``color_system=None``, non-terminals).

Code frames follow rustc's layout (``-->`` location, numbered gutter, ``^`` under the primary span,
``-`` under secondary ones, labels inline or hung below with ``|`` connectors, ``/ | |_^`` margin
for a span over several lines). Positions are the protocol's: 1-based lines and columns, columns in
Unicode scalar values, end exclusive; tabs are shown as four spaces, as rustc shows them, and
markers are placed by terminal cells so wide characters keep them aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from rustg.protocol import WorkspaceState
from rustg.protocol.messages import (
    AnyEvent,
    DaemonInfo,
    Diagnostic,
    DiagnosticsPublished,
    GenerationStarted,
    JobInfo,
    JobState,
    JobUpdate,
    Notice,
    Severity,
    Span,
)

ReadLines = Callable[[str], "list[str] | None"]

#: rich's "dots" spinner (80 ms a frame); ASCII terminals get a line spinner instead.
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ASCII_SPINNER_FRAMES = "-\\|/"
SPINNER_INTERVAL_S = 0.08

SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.NOTE: "bold green",
    Severity.HELP: "bold cyan",
    Severity.INFO: "bold blue",
}
JOB_STATE_STYLE = {
    JobState.QUEUED: "dim",
    JobState.RUNNING: "cyan",
    JobState.SUCCEEDED: "green",
    JobState.FAILED: "red",
    JobState.CANCELLED: "dim",
    JobState.CRASHED: "bold magenta",
}
GUTTER_STYLE = "bold blue"
SECONDARY_STYLE = "bold blue"
#: Lines shown at most from a span over many lines: its first and last, "..." between.
_MAX_MULTILINE_ROWS = 3


def no_source(path: str) -> None:
    """A ``read_lines`` that never has the source: every frame falls back to ``rendered``."""
    return None


# ---------------------------------------------------------------------------------------------
# Small formatters


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def job_duration(job: JobInfo, now: float) -> float | None:
    """Finished jobs: their run time; running ones: time so far; queued ones: None."""
    if job.started_at is None:
        return None
    if job.finished_at is not None:
        return job.finished_at - job.started_at
    if job.state is JobState.RUNNING:
        return now - job.started_at
    return None


def spinner_frame(now: float, *, ascii_only: bool = False) -> str:
    frames = ASCII_SPINNER_FRAMES if ascii_only else SPINNER_FRAMES
    return frames[int(now / SPINNER_INTERVAL_S) % len(frames)]


def count_phrase(counts: dict[str, int]) -> str:
    """``{"error": 2, "warning": 1}`` → ``"2 errors, 1 warning"``, in severity order."""
    parts = []
    for severity in Severity:
        n = counts.get(severity.value, 0)
        if n:
            parts.append(f"{n} {severity.value}{'s' if n != 1 else ''}")
    return ", ".join(parts)


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""


def _heading(severity: Severity, code: str | None) -> str:
    return f"{severity.value}[{code}]" if code else severity.value


# ---------------------------------------------------------------------------------------------
# Plain lines (non-TTY output)


def plain_diagnostic_line(diag: Diagnostic) -> str:
    """``error[E0308] crates/app/src/lib.rs:3:5: mismatched types``: one line, always."""
    stale = " (previous run)" if diag.stale else ""
    return (
        f"{_heading(diag.severity, diag.code)} {diag.file}:{diag.line}:{diag.column}: "
        f"{_first_line(diag.message)}{stale}"
    )


def plain_job_line(job: JobInfo) -> str:
    line = f"{job.name} {job.state.value}"
    if job.state.finished and job.duration is not None:
        line += f" in {format_duration(job.duration)}"
    line += f" (generation {job.generation})"
    if job.summary:
        line += f": {job.summary}"
    return line


def render_plain_lines(event: AnyEvent) -> list[str]:
    """The lines a non-terminal ``rg-watch`` prints for one event (none for heartbeats)."""
    match event:
        case GenerationStarted(generation=generation, changed=changed, reason=reason):
            what = reason
            if changed:
                shown = ", ".join(changed[:3])
                more = f", +{len(changed) - 3} more" if len(changed) > 3 else ""
                what = f"{reason}: {shown}{more}"
            return [f"generation {generation} started ({what})"]
        case JobUpdate(job=job):
            return [plain_job_line(job)]
        case DiagnosticsPublished():
            lines: list[str] = []
            for path in sorted(event.files):
                diags = event.files[path]
                if diags:
                    lines.extend(plain_diagnostic_line(d) for d in diags)
                else:
                    lines.append(f"{path}: no {event.source} diagnostics")
            # A replace_all that names no file ("this tool found nothing") prints nothing: every
            # check publishes one per source, and the job's own line already says how it went.
            return lines
        case Notice(level=level, message=message, kind=kind):
            return [f"{level.value}: {message}" + (f" ({kind})" if kind else "")]
        case _:
            return []


# ---------------------------------------------------------------------------------------------
# Header, jobs, summary


def render_header(
    state: WorkspaceState | None,
    daemon: DaemonInfo | None,
    *,
    connection: str,
    workspace: str | None = None,
) -> Text:
    parts: list[Text] = [Text("rustg", style="bold")]
    root = daemon.workspace if daemon is not None else workspace
    parts.append(Text(root or "(workspace unknown)"))
    if daemon is not None:
        parts.append(Text(f"rustgd {daemon.version} pid {daemon.pid}"))
        parts.append(Text(f"backend {daemon.backend}"))
    else:
        parts.append(Text("no daemon", style="yellow"))
    if state is not None:
        parts.append(Text(f"generation {state.generation}"))
        if state.pending:
            parts.append(Text(f"{state.pending} pending", style="cyan"))
    live = connection == "live"
    parts.append(Text(connection, style="green" if live else "bold yellow"))
    header = Text(" · ").join(parts)
    if state is not None and state.restored:
        header.append("\nrestored from previous run", style="bold magenta")
        header.append(" (diagnostics not rechecked yet)", style="magenta")
    return header


@dataclass(frozen=True, slots=True)
class JobsTable:
    """One row per job; running jobs spin (frame chosen from ``now``, no refresh thread)."""

    jobs: Sequence[JobInfo]
    now: float

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.jobs:
            yield Text("no jobs yet", style="dim")
            return
        rows = []
        for job in self.jobs:
            state = job.state.value
            if job.state is JobState.RUNNING:
                state = f"{spinner_frame(self.now, ascii_only=options.ascii_only)} {state}"
            duration = job_duration(job, self.now)
            rows.append((
                job.name,
                Text(state, style=JOB_STATE_STYLE[job.state]),
                str(job.generation),
                "" if duration is None else format_duration(duration),
                job.summary,
            ))  # fmt: skip
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        # A narrow terminal shortens the summary, never the job, state or numbers: those
        # columns are as wide as their widest cell.
        fixed = [("job", "left"), ("state", "left"), ("gen", "right"), ("time", "right")]
        widths = [
            max(len(name), *(len(str(row[i])) for row in rows)) for i, (name, _) in enumerate(fixed)
        ]
        for (name, justify), width in zip(fixed, widths, strict=True):
            table.add_column(name, justify=justify, no_wrap=True, min_width=width)  # type: ignore[arg-type]
        gaps = 2 * len(fixed)  # one space of padding on each side of an inner column edge
        rest = max(8, options.max_width - sum(widths) - gaps)
        table.add_column("summary", overflow="ellipsis", no_wrap=True, max_width=rest)
        for row in rows:
            table.add_row(*row)
        yield table


def render_summary(state: WorkspaceState) -> Text:
    phrase = count_phrase(state.counts())
    if not phrase:
        return Text("no diagnostics", style="green")
    style = "bold red" if state.counts().get("error") else "bold yellow"
    return Text(phrase, style=style)


# ---------------------------------------------------------------------------------------------
# Code frames


def _display(line: str) -> str:
    return line.replace("\t", "    ")


def _cells(line: str, column: int) -> int:
    """Terminal cells before 1-based ``column`` of ``line`` (tabs as four spaces)."""
    return cell_len(_display(line[: max(0, column - 1)]))


def _span_ok(span: Span, lines: Sequence[str]) -> bool:
    if not 1 <= span.line <= span.end_line <= len(lines):
        return False
    if span.column < 1 or span.column > len(lines[span.line - 1]) + 1:
        return False
    if span.line == span.end_line and span.end_column < span.column:
        return False
    return 1 <= span.end_column <= len(lines[span.end_line - 1]) + 1


def _marker_style(severity_style: str, primary: bool) -> str:
    return severity_style if primary else SECONDARY_STYLE


@dataclass(slots=True)
class _Marker:
    start: int  # cell offset in the displayed line
    width: int
    primary: bool
    label: str | None


class _Frame:
    """The rows of one diagnostic's frame in one file."""

    def __init__(self, width: int, style: str, margin: bool) -> None:
        self.width = width
        self.style = style
        self.margin = margin
        self.rows: list[Text] = []

    def _gutter(self, number: int | None) -> Text:
        label = str(number) if number is not None else ""
        return Text(f"{label:>{self.width}} |", style=GUTTER_STYLE)

    def row(self, number: int | None, body: Text, margin: str = "  ") -> None:
        text = self._gutter(number)
        if body.plain or (self.margin and margin.strip()):
            text.append(" ")
            if self.margin:
                text.append(margin, style=self.style)
            text.append_text(body)
        text.rstrip()
        self.rows.append(text)

    def markers(self, markers: list[_Marker], margin: str = "  ") -> None:
        """The underline row, then labels that did not fit inline, hung below (rustc's layout)."""
        markers = sorted(markers, key=lambda mk: mk.start)
        line = Text()
        for mk in markers:
            line.append(" " * max(0, mk.start - line.cell_len))
            line.append(
                ("^" if mk.primary else "-") * mk.width, style=_marker_style(self.style, mk.primary)
            )
        labelled = [mk for mk in markers if mk.label]
        if labelled and labelled[-1] is markers[-1]:
            inline = labelled.pop()
            line.append(f" {inline.label}", style=_marker_style(self.style, inline.primary))
        self.row(None, line, margin)
        if not labelled:
            return
        connectors = Text()
        for mk in labelled:
            connectors.append(" " * (mk.start - connectors.cell_len))
            connectors.append("|", style=_marker_style(self.style, mk.primary))
        self.row(None, connectors, margin)
        for i in range(len(labelled) - 1, -1, -1):
            hung = Text()
            for mk in labelled[:i]:
                hung.append(" " * (mk.start - hung.cell_len))
                hung.append("|", style=_marker_style(self.style, mk.primary))
            mk = labelled[i]
            hung.append(" " * (mk.start - hung.cell_len))
            hung.append(mk.label or "", style=_marker_style(self.style, mk.primary))
            self.row(None, hung, margin)


def _frame_rows(spans: list[Span], lines: Sequence[str], width: int, style: str) -> list[Text]:
    multi = next((s for s in spans if s.end_line > s.line), None)
    frame = _Frame(width, style, margin=multi is not None)
    single: dict[int, list[_Marker]] = {}
    for span in spans:
        if span is multi:
            continue
        text = lines[span.line - 1]
        end = span.end_column if span.end_line == span.line else len(text) + 1
        start = _cells(text, span.column)
        marker_width = max(1, _cells(text, end) - start)
        single.setdefault(span.line, []).append(
            _Marker(start, marker_width, span.primary, span.label)
        )

    shown = set(single)
    if multi is not None:
        if multi.end_line - multi.line + 1 <= _MAX_MULTILINE_ROWS:
            shown.update(range(multi.line, multi.end_line + 1))
        else:
            shown.update((multi.line, multi.end_line))

    previous: int | None = None
    for number in sorted(shown):
        if previous is not None and number > previous + 1:
            elided = Text("...", style=GUTTER_STYLE)
            if multi is not None and multi.line < number <= multi.end_line:
                elided.append(" " * width + "|", style=_marker_style(style, multi.primary))
            frame.rows.append(elided)
        previous = number
        margin = "  "
        if multi is not None:
            if number == multi.line:
                margin = "/ "
            elif multi.line < number <= multi.end_line:
                margin = "| "
        frame.row(number, Text(_display(lines[number - 1])), margin)
        if number in single:
            inside = multi is not None and multi.line <= number < multi.end_line
            frame.markers(single[number], "| " if inside else "  ")
        if multi is not None and number == multi.end_line:
            end_text = lines[number - 1]
            last = max(1, multi.end_column - 1)  # the last character the span covers
            underline = Text(
                "|" + "_" * (_cells(end_text, last) + 1), style=_marker_style(style, multi.primary)
            )
            underline.append("^", style=_marker_style(style, multi.primary))
            if multi.label:
                underline.append(f" {multi.label}", style=_marker_style(style, multi.primary))
            frame.row(None, underline, margin="")
    return frame.rows


def render_code_frame(diag: Diagnostic, read_lines: ReadLines) -> tuple[list[Text], int] | None:
    """rustc-style frame rows for ``diag`` and its gutter width, or None when a file it points
    into is unavailable or no longer matches the positions (edited since the check): callers
    then show ``rendered``."""
    spans = list(diag.spans) or [
        Span(
            file=diag.file,
            line=diag.line,
            column=diag.column,
            end_line=diag.end_line,
            end_column=diag.end_column,
            primary=True,
        )
    ]
    by_file: dict[str, list[Span]] = {diag.file: []}
    for span in spans:
        by_file.setdefault(span.file, []).append(span)
    sources: dict[str, list[str]] = {}
    for path, file_spans in by_file.items():
        if not file_spans:
            continue
        lines = read_lines(path)
        if lines is None or not all(_span_ok(s, lines) for s in file_spans):
            return None
        sources[path] = lines
    width = len(str(max(max(s.end_line, s.line) for s in spans)))
    style = SEVERITY_STYLE[diag.severity]
    rows: list[Text] = []
    for path, file_spans in by_file.items():
        if not file_spans:
            continue
        primary = next((s for s in file_spans if s.primary), file_spans[0])
        arrow = "-->" if not rows else ":::"
        rows.append(
            Text(" " * width + f"{arrow} ", style=GUTTER_STYLE)
            + Text(f"{path}:{primary.line}:{primary.column}")
        )
        rows.append(Text(" " * width + " |", style=GUTTER_STYLE))
        rows.extend(_frame_rows(file_spans, sources[path], width, style))
    return rows, width


def _diagnostic_header(diag: Diagnostic) -> Text:
    style = SEVERITY_STYLE[diag.severity]
    header = Text(_heading(diag.severity, diag.code), style=style)
    header.append(": ", style="bold")
    header.append(diag.message, style="bold")
    if diag.stale:
        header.append(" (previous run)", style="dim")
    return header


def _notes(diag: Diagnostic, indent: int) -> list[Text]:
    suggested = {s.message for s in diag.suggestions if s.message}
    rows: list[Text] = []
    pad = " " * (indent + 1)
    for child in diag.children:
        if child.message in suggested:
            continue  # the suggestion row below says the same and shows the fix
        row = Text(pad + "= ", style=GUTTER_STYLE)
        row.append(f"{child.severity.value}:", style="bold")
        row.append(f" {child.message}")
        rows.append(row)
    for suggestion in diag.suggestions:
        replacement = suggestion.replacement
        if "\n" in replacement:
            replacement = replacement.splitlines()[0] + " …"
        row = Text(pad + "= ", style=GUTTER_STYLE)
        row.append("help:", style="bold")
        row.append(f" {suggestion.message or 'replace with'}: ")
        row.append(f"`{replacement}`", style="bold cyan")
        if suggestion.applicability.value != "machine-applicable":
            row.append(f" ({suggestion.applicability.value})", style="dim")
        rows.append(row)
    return rows


def render_diagnostic(diag: Diagnostic, read_lines: ReadLines = no_source) -> Group:
    frame = render_code_frame(diag, read_lines)
    rows: list[Text] = []
    cropped: list[Text] = []  # source lines: a wrapped one would break the frame's columns
    if frame is None and diag.rendered:
        # rustc's own rendering (ANSI, if any, becomes styles the Console may drop).
        rows.append(Text.from_ansi(diag.rendered.rstrip("\n")))
        cropped = rows[:]  # rustc's frames are columns too
        if diag.stale:
            rows.append(Text("(previous run)", style="dim"))
    else:
        rows.append(_diagnostic_header(diag))
        if frame is None:
            rows.append(Text(f" --> {diag.file}:{diag.line}:{diag.column}", style=GUTTER_STYLE))
            width = 1
        else:
            frame_rows, width = frame
            rows.extend(frame_rows)
            cropped = frame_rows
        rows.extend(_notes(diag, width))  # messages and notes wrap: every word of them counts
    for row in cropped:
        row.no_wrap = True
        row.overflow = "ellipsis"
    return Group(*rows)


def render_diagnostics(
    state: WorkspaceState,
    read_lines: ReadLines = no_source,
    *,
    max_diagnostics: int | None = None,
) -> Group:
    """Diagnostics grouped by file, each with its frame; at most ``max_diagnostics`` of them."""
    items: list[RenderableType] = []
    shown = 0
    total = sum(1 for _ in state.iter_diagnostics())
    for path, diags in state.by_file().items():
        if max_diagnostics is not None and shown >= max_diagnostics:
            break
        counts: dict[str, int] = {}
        for d in diags:
            counts[d.severity.value] = counts.get(d.severity.value, 0) + 1
        heading = Text(path, style="bold underline")
        heading.append(f" ({count_phrase(counts)})", style="dim")
        items.append(heading)
        for diag in diags:
            if max_diagnostics is not None and shown >= max_diagnostics:
                break
            items.append(render_diagnostic(diag, read_lines))
            items.append(Text(""))
            shown += 1
    if shown < total:
        items.append(Text(f"… {total - shown} more not shown", style="dim"))
        items.append(Text(""))
    return Group(*items)


# ---------------------------------------------------------------------------------------------
# The whole view


def render_view(
    state: WorkspaceState | None,
    daemon: DaemonInfo | None,
    *,
    connection: str,
    now: float,
    read_lines: ReadLines = no_source,
    workspace: str | None = None,
    max_diagnostics: int | None = None,
) -> Group:
    """Header, jobs, diagnostics by file with code frames, and counts.

    ``connection`` is shown as given ("live", "syncing", "waiting" ...); ``workspace`` names the
    workspace while no daemon is known; ``max_diagnostics`` caps the frames for huge result sets.
    """
    header = render_header(state, daemon, connection=connection, workspace=workspace)
    if state is None:
        return Group(header, Text(""), Text("waiting for the daemon's snapshot…", style="dim"))
    parts: list[RenderableType] = [header, Text("")]
    parts.append(JobsTable(sorted(state.jobs.values(), key=lambda j: j.name), now))
    parts.append(Text(""))
    if any(True for _ in state.iter_diagnostics()):
        parts.append(render_diagnostics(state, read_lines, max_diagnostics=max_diagnostics))
    parts.append(render_summary(state))
    return Group(*parts)
