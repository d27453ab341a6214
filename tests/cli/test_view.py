"""cli/view.py rendered as exact text: what rg-watch shows for a few workspace states."""

from __future__ import annotations

import io

import pytest
from rich.console import Console, RenderableType

from rustg.cli import view
from rustg.protocol import WorkspaceState
from rustg.protocol import messages as m

EPOCH = "e1"
DAEMON = m.DaemonInfo(
    version="0.1.0",
    protocol=m.PROTOCOL_VERSION,
    pid=4242,
    workspace="/home/ada/src/shapes",
    workspace_id="3b9f0c61a2d4e7f8",
    epoch=EPOCH,
    started_at=1_700_000_000.0,
    pub_endpoint="ipc:///run/user/1000/rustg/3b9f0c61a2d4e7f8/events.sock",
    backend="cpu",
)
T0 = 1_700_000_100.0
HEADER = "rustg · /home/ada/src/shapes · rustgd 0.1.0 pid 4242 · backend cpu · generation 3"

SOURCES = {
    "crates/app/src/lib.rs": [
        "use shapes_core::Shape;",
        "",
        "pub fn area(s: &Shape) -> i32 {",
        '    let x: i32 = "a";',
        "    x",
        "}",
    ],
    "crates/core/src/shape.rs": ["/// A shape.", "pub struct Shape {", "    pub w: u32,", "}"],
}


def read_lines(path: str) -> list[str] | None:
    return SOURCES.get(path)


def render(renderable: RenderableType, console: Console | None = None) -> str:
    console = console or Console(
        file=io.StringIO(), width=100, color_system=None, force_terminal=False
    )
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    # rich pads table cells with spaces to the column width: not part of what we assert.
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def span(line: int, col: int, end_col: int, label: str | None = None, **kw: object) -> m.Span:
    return m.Span(
        file=str(kw.pop("file", "crates/app/src/lib.rs")),
        line=line,
        column=col,
        end_line=int(kw.pop("end_line", line)),  # type: ignore[call-overload]
        end_column=end_col,
        label=label,
        primary=bool(kw.pop("primary", False)),
    )


MISMATCH = m.Diagnostic(
    source="rustc",
    severity=m.Severity.ERROR,
    code="E0308",
    message="mismatched types",
    file="crates/app/src/lib.rs",
    line=4,
    column=18,
    end_line=4,
    end_column=21,
    rendered=(
        "error[E0308]: mismatched types\n"
        " --> crates/app/src/lib.rs:4:18\n"
        "  |\n"
        '4 |     let x: i32 = "a";\n'
        "  |            ---   ^^^ expected `i32`, found `&str`\n"
        "  |            |\n"
        "  |            expected due to this\n"
    ),
    spans=[
        span(4, 18, 21, "expected `i32`, found `&str`", primary=True),
        span(4, 12, 15, "expected due to this"),
    ],
    generation=3,
)
UNUSED = m.Diagnostic(
    source="rustc",
    severity=m.Severity.WARNING,
    message="unused import: `Shape`",
    file="crates/app/src/lib.rs",
    line=1,
    column=18,
    end_line=1,
    end_column=23,
    code="unused_imports",
    children=[
        m.DiagnosticChild(
            severity=m.Severity.NOTE, message="`#[warn(unused_imports)]` on by default"
        )
    ],
    generation=3,
)


def state_with(
    *diags: m.Diagnostic, jobs: tuple[m.JobInfo, ...] = (), restored: bool = False
) -> WorkspaceState:
    return WorkspaceState.from_snapshot(
        m.Snapshot(
            seq=12,
            epoch=EPOCH,
            generation=3,
            jobs=list(jobs),
            diagnostics=list(diags),
            restored=restored,
        )
    )


def test_waiting_for_the_first_snapshot() -> None:
    text = render(
        view.render_view(None, None, connection="connecting", now=T0, workspace="/w/shapes")
    )
    assert text == (
        "rustg · /w/shapes · no daemon · connecting\n\nwaiting for the daemon's snapshot…\n"
    )


def test_empty_workspace() -> None:
    text = render(view.render_view(state_with(), DAEMON, connection="live", now=T0))
    assert text == (f"{HEADER} · live\n\nno jobs yet\n\nno diagnostics\n")


def test_running_job_spins_and_counts_time() -> None:
    jobs = (
        m.JobInfo(name="check", state=m.JobState.RUNNING, generation=3, started_at=T0 - 1.5),
        m.JobInfo(
            name="fmt",
            state=m.JobState.SUCCEEDED,
            generation=3,
            started_at=T0 - 3,
            finished_at=T0 - 2.96,
        ),
        m.JobInfo(name="lint", state=m.JobState.QUEUED, generation=3),
        m.JobInfo(
            name="test",
            state=m.JobState.FAILED,
            generation=2,
            started_at=T0 - 100,
            finished_at=T0 - 25,
            summary="2 of 31 failed",
        ),
    )
    state = state_with(jobs=jobs)
    state.pending = 1
    text = render(view.render_view(state, DAEMON, connection="live", now=T0))
    frame = view.spinner_frame(T0)
    assert text == (
        f"{HEADER} · 1 pending · live\n"
        "\n"
        "job    state      gen   time  summary\n"
        f"check  {frame} running    3  1.50s\n"
        "fmt    succeeded    3  0.04s\n"
        "lint   queued       3\n"
        "test   failed       2  1m15s  2 of 31 failed\n"
        "\n"
        "no diagnostics\n"
    )


def test_spinner_frame_follows_the_injected_clock() -> None:
    frames = [view.spinner_frame(i * view.SPINNER_INTERVAL_S + 0.01) for i in range(11)]
    assert "".join(frames) == view.SPINNER_FRAMES + view.SPINNER_FRAMES[0]
    assert view.spinner_frame(0.0, ascii_only=True) == "-"
    assert view.spinner_frame(0.09, ascii_only=True) == "\\"


class _AsciiFile(io.StringIO):
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "ascii"


def test_ascii_terminal_gets_an_ascii_spinner() -> None:
    console = Console(file=_AsciiFile(), width=60, color_system=None)
    job = m.JobInfo(name="check", state=m.JobState.RUNNING, generation=1, started_at=0.0)
    text = render(view.JobsTable([job], now=0.09), console)
    assert "check  \\ running" in text


def test_narrow_terminal_shortens_the_summary_not_the_job_columns() -> None:
    console = Console(file=io.StringIO(), width=50, color_system=None)
    job = m.JobInfo(
        name="kernels", state=m.JobState.SUCCEEDED, generation=12, started_at=0.0,
        finished_at=0.84, summary="4 kernels, sm_80+sm_90, 2 units rebuilt; workspace: 0 errors",
    )  # fmt: skip
    rows = render(view.JobsTable([job], now=1.0), console).splitlines()
    assert rows[1].startswith("kernels  succeeded   12  0.84s  4 kernels, ")
    assert rows[1].endswith("…") and len(rows[1]) <= 50


def test_error_with_code_frame() -> None:
    state = state_with(MISMATCH, UNUSED)
    text = render(view.render_diagnostics(state, read_lines))
    assert text == (
        "crates/app/src/lib.rs (1 error, 1 warning)\n"
        "warning[unused_imports]: unused import: `Shape`\n"
        " --> crates/app/src/lib.rs:1:18\n"
        "  |\n"
        "1 | use shapes_core::Shape;\n"
        "  |                  ^^^^^\n"
        "  = note: `#[warn(unused_imports)]` on by default\n"
        "\n"
        "error[E0308]: mismatched types\n"
        " --> crates/app/src/lib.rs:4:18\n"
        "  |\n"
        '4 |     let x: i32 = "a";\n'
        "  |            ---   ^^^ expected `i32`, found `&str`\n"
        "  |            |\n"
        "  |            expected due to this\n"
        "\n"
    )


def test_whole_view_with_an_error() -> None:
    job = m.JobInfo(
        name="check",
        state=m.JobState.FAILED,
        generation=3,
        started_at=T0 - 2,
        finished_at=T0 - 0.75,
        summary="1 error",
    )
    text = render(
        view.render_view(
            state_with(MISMATCH, jobs=(job,)),
            DAEMON,
            connection="live",
            now=T0,
            read_lines=read_lines,
        )
    )
    assert text == (
        f"{HEADER} · live\n"
        "\n"
        "job    state   gen   time  summary\n"
        "check  failed    3  1.25s  1 error\n"
        "\n"
        "crates/app/src/lib.rs (1 error)\n"
        "error[E0308]: mismatched types\n"
        " --> crates/app/src/lib.rs:4:18\n"
        "  |\n"
        '4 |     let x: i32 = "a";\n'
        "  |            ---   ^^^ expected `i32`, found `&str`\n"
        "  |            |\n"
        "  |            expected due to this\n"
        "\n"
        "1 error\n"
    )


def test_restored_marker() -> None:
    stale = m.Diagnostic(
        **{**{f: getattr(MISMATCH, f) for f in MISMATCH.__struct_fields__}, "stale": True}
    )
    text = render(
        view.render_view(
            state_with(stale, restored=True),
            DAEMON,
            connection="live",
            now=T0,
            read_lines=read_lines,
        )
    )
    lines = text.splitlines()
    assert lines[0] == f"{HEADER} · live"
    assert lines[1] == "restored from previous run (diagnostics not rechecked yet)"
    assert "error[E0308]: mismatched types (previous run)" in lines


# ---------------------------------------------------------------------------------------------
# Code frames in detail


def test_source_unavailable_falls_back_to_rustc_rendered_text() -> None:
    text = render(view.render_diagnostic(MISMATCH, view.no_source))
    assert text == MISMATCH.rendered


def test_source_edited_since_the_check_falls_back_to_rendered_text() -> None:
    # The file is shorter now than when rustc saw it: the frame would point at the wrong text.
    def short(path: str) -> list[str] | None:
        return ["fn main() {}"]

    assert render(view.render_diagnostic(MISMATCH, short)) == MISMATCH.rendered


def test_no_source_and_no_rendered_text_still_shows_where() -> None:
    lint = m.Diagnostic(
        source="rustg-lint",
        severity=m.Severity.WARNING,
        message="kernel argument is never read",
        file="crates/core/src/kernels.rs",
        line=7,
        column=9,
        end_line=7,
        end_column=10,
        stale=True,
    )
    assert render(view.render_diagnostic(lint)) == (
        "warning: kernel argument is never read (previous run)\n"
        " --> crates/core/src/kernels.rs:7:9\n"
    )


def test_multiline_span_in_another_file_and_suggestions() -> None:
    diag = m.Diagnostic(
        source="rustc",
        severity=m.Severity.ERROR,
        code="E0063",
        message="missing field `h` in initializer of `Shape`",
        file="crates/app/src/lib.rs",
        line=3,
        column=8,
        end_line=3,
        end_column=12,
        spans=[
            span(3, 8, 12, primary=True),
            span(2, 1, 2, "`Shape` defined here", file="crates/core/src/shape.rs", end_line=4),
        ],
        children=[
            m.DiagnosticChild(severity=m.Severity.HELP, message="add the missing field"),
            m.DiagnosticChild(severity=m.Severity.NOTE, message="fields are never optional"),
        ],
        suggestions=[
            m.Suggestion(
                span=span(3, 12, 12),
                replacement="h: 0",
                applicability=m.Applicability.HAS_PLACEHOLDERS,
                message="add the missing field",
            ),
            m.Suggestion(
                span=span(3, 1, 1),
                replacement="#[derive(Default)]\nstruct",
                applicability=m.Applicability.MACHINE_APPLICABLE,
            ),
        ],
    )
    assert render(view.render_diagnostic(diag, read_lines)) == (
        "error[E0063]: missing field `h` in initializer of `Shape`\n"
        " --> crates/app/src/lib.rs:3:8\n"
        "  |\n"
        "3 | pub fn area(s: &Shape) -> i32 {\n"
        "  |        ^^^^\n"
        " ::: crates/core/src/shape.rs:2:1\n"
        "  |\n"
        "2 | / pub struct Shape {\n"
        "3 | |     pub w: u32,\n"
        "4 | | }\n"
        "  | |_^ `Shape` defined here\n"
        "  = note: fields are never optional\n"
        "  = help: add the missing field: `h: 0` (has-placeholders)\n"
        "  = help: replace with: `#[derive(Default)] …`\n"
    )


def test_long_multiline_span_is_elided_in_the_middle() -> None:
    lines = ["fn f() {", *[f"    step({i});" for i in range(8)], "}"]
    diag = m.Diagnostic(
        source="rustc",
        severity=m.Severity.WARNING,
        message="function `f` is never used",
        file="big.rs",
        line=1,
        column=1,
        end_line=10,
        end_column=2,
        spans=[span(1, 1, 2, "never used", file="big.rs", end_line=10, primary=True)],
    )
    assert render(view.render_diagnostic(diag, {"big.rs": lines}.get)) == (
        "warning: function `f` is never used\n"
        "  --> big.rs:1:1\n"
        "   |\n"
        " 1 | / fn f() {\n"
        "...  |\n"
        "10 | | }\n"
        "   | |_^ never used\n"
    )


def test_three_labels_hang_like_rustc() -> None:
    lines = ["    call(alpha, beta, gamma);"]
    diag = m.Diagnostic(
        source="rustc",
        severity=m.Severity.ERROR,
        code="E0061",
        message="this function takes 2 arguments but 3 were supplied",
        file="x.rs",
        line=1,
        column=5,
        end_line=1,
        end_column=9,
        spans=[
            span(1, 5, 9, "called here", file="x.rs", primary=True),
            span(1, 10, 15, "first", file="x.rs"),
            span(1, 17, 21, "second", file="x.rs"),
            span(1, 23, 28, "unexpected", file="x.rs", primary=True),
        ],
    )
    assert render(view.render_diagnostic(diag, {"x.rs": lines}.get)) == (
        "error[E0061]: this function takes 2 arguments but 3 were supplied\n"
        " --> x.rs:1:5\n"
        "  |\n"
        "1 |     call(alpha, beta, gamma);\n"
        "  |     ^^^^ -----  ----  ^^^^^ unexpected\n"
        "  |     |    |      |\n"
        "  |     |    |      second\n"
        "  |     |    first\n"
        "  |     called here\n"
    )


def test_markers_align_under_tabs_and_wide_characters() -> None:
    # Columns count Unicode scalar values; the terminal counts cells (CJK: 2) and rustc shows
    # a tab as four spaces.
    lines = ['\tlet 名前 = "x" + 1;']
    diag = m.Diagnostic(
        source="rustc",
        severity=m.Severity.ERROR,
        code="E0369",
        message="cannot add `{integer}` to `&str`",
        file="w.rs",
        line=1,
        column=15,
        end_line=1,
        end_column=16,
        spans=[span(1, 15, 16, "&str", file="w.rs", primary=True)],
    )
    text = render(view.render_diagnostic(diag, {"w.rs": lines}.get))
    assert text.splitlines()[3:] == [
        '1 |     let 名前 = "x" + 1;',
        "  |                    ^ &str",
    ]


def test_span_at_the_end_of_the_line_points_past_it() -> None:
    diag = m.Diagnostic(
        source="rustc",
        severity=m.Severity.ERROR,
        message="expected `;`, found `}`",
        file="s.rs",
        line=1,
        column=10,
        end_line=1,
        end_column=10,
        spans=[span(1, 10, 10, "add `;` here", file="s.rs", primary=True)],
    )
    text = render(view.render_diagnostic(diag, {"s.rs": ["    x = 1"]}.get))
    assert text.splitlines()[3:] == ["1 |     x = 1", "  |          ^ add `;` here"]


def test_diagnostic_without_spans_uses_its_flattened_position() -> None:
    diag = m.Diagnostic(
        source="rustg-fmt",
        severity=m.Severity.WARNING,
        message="not formatted",
        file="crates/app/src/lib.rs",
        line=5,
        column=5,
        end_line=5,
        end_column=6,
    )
    assert render(view.render_diagnostic(diag, read_lines)) == (
        "warning: not formatted\n --> crates/app/src/lib.rs:5:5\n  |\n5 |     x\n  |     ^\n"
    )


def test_max_diagnostics_caps_the_frames() -> None:
    state = state_with(MISMATCH, UNUSED)
    text = render(view.render_diagnostics(state, view.no_source, max_diagnostics=1))
    assert text.splitlines() == [
        "crates/app/src/lib.rs (1 error, 1 warning)",
        "warning[unused_imports]: unused import: `Shape`",
        " --> crates/app/src/lib.rs:1:18",
        "  = note: `#[warn(unused_imports)]` on by default",
        "",
        "… 1 more not shown",
        "",
    ]


def test_long_messages_wrap_whole_while_the_frame_is_cropped() -> None:
    message = "`assert!` panics: in a kernel that traps the whole launch and every thread in it"
    diag = m.Diagnostic(
        source="rustg-lint", severity=m.Severity.WARNING, message=message, file="l.rs",
        line=1, column=1, end_line=1, end_column=8, code="rustg::gpu_panic",
        spans=[span(1, 1, 8, file="l.rs", primary=True)],
        children=[m.DiagnosticChild(severity=m.Severity.HELP, message="return early " * 6)],
    )  # fmt: skip
    source = "assert!(" + "y" * 100 + ");"
    console = Console(file=io.StringIO(), width=40, color_system=None)
    text = render(view.render_diagnostic(diag, {"l.rs": [source]}.get), console)
    flat = " ".join(text.split())
    assert message in flat  # every word, wrapped over lines
    assert ("return early " * 6).strip() in flat
    code_row = next(row for row in text.splitlines() if "assert!(" in row)
    assert code_row.endswith("…") and len(code_row) <= 40


def test_frames_are_cropped_not_wrapped() -> None:
    long_line = "let v = " + "x" * 200 + ";"
    diag = m.Diagnostic(
        source="rustc",
        severity=m.Severity.ERROR,
        message="m",
        file="l.rs",
        line=1,
        column=5,
        end_line=1,
        end_column=6,
        spans=[span(1, 5, 6, file="l.rs", primary=True)],
    )
    console = Console(file=io.StringIO(), width=40, color_system=None)
    rows = render(view.render_diagnostic(diag, {"l.rs": [long_line]}.get), console).splitlines()
    assert rows[3] == "1 | let v = " + "x" * 27 + "…"
    assert rows[4] == "  |     ^"
    assert len(rows) == 5


# ---------------------------------------------------------------------------------------------
# Colour is the Console's decision


def _colour_console(**kw: object) -> Console:
    return Console(
        file=io.StringIO(), width=100, force_terminal=True, color_system="standard", **kw
    )  # type: ignore[arg-type]


def test_colours_reach_a_colour_terminal() -> None:
    out = render(view.render_diagnostic(MISMATCH, read_lines), _colour_console())
    assert "\x1b[1;31merror[E0308]" in out


def test_no_color_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = render(
        view.render_view(
            state_with(MISMATCH), DAEMON, connection="live", now=T0, read_lines=read_lines
        ),
        _colour_console(),
    )
    assert "\x1b[1m" in out, "emphasis without colour is still allowed"
    assert "\x1b[31" not in out and "\x1b[1;31" not in out and "\x1b[34" not in out


# ---------------------------------------------------------------------------------------------
# Plain lines


def test_plain_diagnostic_line() -> None:
    assert view.plain_diagnostic_line(MISMATCH) == (
        "error[E0308] crates/app/src/lib.rs:4:18: mismatched types"
    )
    multi = m.Diagnostic(
        source="rustg-lint",
        severity=m.Severity.WARNING,
        message="first line\nsecond line",
        file="a.rs",
        line=1,
        column=2,
        end_line=1,
        end_column=3,
        stale=True,
    )
    assert view.plain_diagnostic_line(multi) == "warning a.rs:1:2: first line (previous run)"


@pytest.mark.parametrize(
    ("event", "lines"),
    [
        (
            m.GenerationStarted(generation=4, changed=["a.rs", "b.rs", "c.rs", "d.rs", "e.rs"]),
            ["generation 4 started (save: a.rs, b.rs, c.rs, +2 more)"],
        ),
        (m.GenerationStarted(generation=5, reason="request"), ["generation 5 started (request)"]),
        (
            m.JobUpdate(
                job=m.JobInfo(name="check", state=m.JobState.RUNNING, generation=4, started_at=1.0)
            ),
            ["check running (generation 4)"],
        ),
        (
            m.JobUpdate(
                job=m.JobInfo(
                    name="check",
                    state=m.JobState.FAILED,
                    generation=4,
                    started_at=1.0,
                    finished_at=2.5,
                    summary="1 error",
                )
            ),
            ["check failed in 1.50s (generation 4): 1 error"],
        ),
        (
            m.DiagnosticsPublished(
                source="rustc",
                generation=4,
                files={"crates/app/src/main.rs": [], "crates/app/src/lib.rs": [UNUSED, MISMATCH]},
            ),
            [
                "warning[unused_imports] crates/app/src/lib.rs:1:18: unused import: `Shape`",
                "error[E0308] crates/app/src/lib.rs:4:18: mismatched types",
                "crates/app/src/main.rs: no rustc diagnostics",
            ],
        ),
        (
            m.DiagnosticsPublished(source="clippy", generation=6, replace_all=True),
            [],
        ),
        (
            m.Notice(
                level=m.Severity.WARNING, message="watcher overflowed; full rescan", kind="rescan"
            ),
            ["warning: watcher overflowed; full rescan (rescan)"],
        ),
        (m.Heartbeat(generation=6), []),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, m.Event) else "",
)
def test_plain_lines_per_event(event: m.AnyEvent, lines: list[str]) -> None:
    assert view.render_plain_lines(event) == lines


# ---------------------------------------------------------------------------------------------
# Formatters


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-0.5, "0.00s"),
        (0.042, "0.04s"),
        (9.999, "10.00s"),
        (12.34, "12.3s"),
        (75, "1m15s"),
        (3600, "60m00s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert view.format_duration(seconds) == text


def test_count_phrase_orders_by_severity() -> None:
    assert view.count_phrase({"warning": 1, "error": 2, "help": 0}) == "2 errors, 1 warning"
    assert view.count_phrase({}) == ""
