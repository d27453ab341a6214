"""cargo's JSON → protocol diagnostics, on recorded output of real cargo runs.

The fixtures (tests/fixtures/cargo/crates/*) are real crates with deliberate mistakes; their
``//~`` annotations say what each line should report. The recordings are replayed here, so
everything but the ``slow`` tests runs without cargo. Hand-made JSON appears only where cargo
cannot be made to produce the case (an ICE, a malformed message), and is derived from a
recorded line so its shape stays real.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rustg.daemon.errors import ToolError
from rustg.daemon.rustc_diagnostics import (
    ArtifactBuilt,
    BuildFinished,
    CompilerDiagnostic,
    Ignored,
    dedupe,
    diagnostic_key,
    parse_cargo_line,
)
from rustg.protocol import Applicability, Diagnostic, Severity, Suggestion
from tests.support.cargo_fixtures import FIXTURES, CargoFixture, load

WORKSPACE = Path("/home/dev/gpu project/ünïcode ws")  # spaces and non-ASCII survive relocation
TARGET = Path("/var/cache/rustg/target")
GENERATION = 7


def parse(fixture: CargoFixture, workspace: Path = WORKSPACE) -> list[Any]:
    return [
        parse_cargo_line(line, workspace, GENERATION) for line in load(fixture, workspace, TARGET)
    ]


def diagnostics(fixture_name: str, workspace: Path = WORKSPACE) -> list[Diagnostic]:
    parsed = parse(FIXTURES[fixture_name], workspace)
    return dedupe(p.diagnostic for p in parsed if isinstance(p, CompilerDiagnostic))


def only(found: list[Diagnostic], **fields: object) -> Diagnostic:
    matches = [d for d in found if all(getattr(d, k) == v for k, v in fields.items())]
    assert len(matches) == 1, f"{len(matches)} diagnostics match {fields}: {matches}"
    return matches[0]


def source(fixture_name: str, file: str) -> str:
    return (FIXTURES[fixture_name].crate_dir / file).read_text(encoding="utf-8")


def source_line(fixture_name: str, file: str, line: int) -> str:
    return source(fixture_name, file).splitlines()[line - 1]


def fixed_line(fixture_name: str, d: Diagnostic, suggestions: list[Suggestion]) -> str:
    """Line ``d.line`` of ``d.file`` after applying ``suggestions``."""
    return apply(source(fixture_name, d.file), suggestions).splitlines()[d.line - 1]


def apply(text: str, suggestions: list[Suggestion]) -> str:
    """Apply suggestions for one file to its ``text`` using their 1-based character columns."""
    lines = text.splitlines(keepends=True)

    def offset(line: int, column: int) -> int:
        return sum(len(x) for x in lines[: line - 1]) + column - 1

    ordered = sorted(suggestions, key=lambda s: (s.span.line, s.span.column), reverse=True)
    for s in ordered:
        start = offset(s.span.line, s.span.column)
        end = offset(s.span.end_line, s.span.end_column)
        text = text[:start] + s.replacement + text[end:]
    return text


# -- every fixture against its annotations ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_replayed_diagnostics_match_the_annotations(name: str) -> None:
    fixture = FIXTURES[name]
    found = diagnostics(name)
    reported = Counter(
        (d.file, d.line, d.severity.value, d.code or "")
        for d in found
        if d.severity in (Severity.ERROR, Severity.WARNING)
    )
    assert reported == fixture.expectations()
    assert all(d.generation == GENERATION and not d.stale for d in found)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_line_is_classified_and_the_build_finishes_once(name: str) -> None:
    parsed = parse(FIXTURES[name])
    finished = [p for p in parsed if isinstance(p, BuildFinished)]
    assert finished == [BuildFinished(success=name == "clippy-lints")]
    assert parsed[-1] == finished[0]
    ignored = {p.reason for p in parsed if isinstance(p, Ignored)}
    # cargo's stdout holds JSON only; what we skip is rustc's closing summary and build scripts.
    assert ignored <= {"rustc summary", "build-script-executed"}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_position_is_a_real_range_in_the_fixture_sources(name: str) -> None:
    fixture = FIXTURES[name]
    for d in diagnostics(name):
        spans = [*d.spans, *(s for c in d.children for s in c.spans)]
        spans += [s.span for s in d.suggestions]
        for span in spans:
            lines = (fixture.crate_dir / span.file).read_text(encoding="utf-8").splitlines()
            assert 1 <= span.line <= span.end_line <= len(lines) + 1
            assert 1 <= span.column <= len(lines[span.line - 1]) + 1
            if span.line == span.end_line:
                assert span.column <= span.end_column
        assert (d.line, d.column) >= (1, 1)


# -- locations and positions ------------------------------------------------------------------


def test_columns_count_characters_and_paths_stay_unicode() -> None:
    d = only(diagnostics("type-errors"), file="src/naïve.rs")
    text = source_line("type-errors", "src/naïve.rs", d.line)
    # `let résumé: u8 = "naïve";`: rustc's columns are characters; bytes would be off by two.
    start = text.index('"naïve"') + 1
    assert (d.column, d.end_column) == (start, start + len('"naïve"'))
    assert d.severity is Severity.ERROR and d.code == "E0308" and d.source == "rustc"
    assert d.message == "mismatched types"
    assert d.rendered is not None and d.rendered.startswith("error[E0308]: mismatched types")
    assert [s.label for s in d.spans if s.primary] == ["expected `u8`, found `&str`"]


def test_members_of_a_virtual_workspace_are_relative_to_its_root() -> None:
    found = diagnostics("lints-and-tests")
    files = {d.file for d in found}
    assert files == {
        "crates/lints/Cargo.toml",
        "crates/lints/src/lib.rs",
        "crates/lints/tests/integration.rs",
        "crates/user/src/main.rs",
    }


def test_an_integration_test_error_is_reported_in_its_file() -> None:
    d = only(diagnostics("lints-and-tests"), severity=Severity.ERROR)
    assert (d.file, d.line, d.code) == ("crates/lints/tests/integration.rs", 6, "E0308")
    text = source_line("lints-and-tests", d.file, d.line)
    assert text[d.column - 1 : d.end_column - 1] == "scaled"


def test_a_spanless_diagnostic_lands_on_its_package_manifest() -> None:
    d = only(diagnostics("lints-and-tests"), code="E0602")
    assert (d.file, d.line, d.column, d.end_line, d.end_column) == (
        "crates/lints/Cargo.toml",
        1,
        1,
        1,
        1,
    )
    assert d.spans == []
    assert d.message == "unknown lint: `made_up_lint`"
    notes = [c.message for c in d.children]
    assert "requested on the command line with `-W made_up_lint`" in notes


def test_build_script_output_lands_on_the_manifest_with_a_note_saying_where() -> None:
    d = only(diagnostics("generated"))
    assert (d.file, d.line, d.column) == ("Cargo.toml", 1, 1)
    assert d.spans == []  # both of rustc's spans are in OUT_DIR, under the workspace's target/
    note = d.children[0]
    assert note.severity is Severity.NOTE
    assert note.message.startswith(f"reported at {WORKSPACE}/target/debug/build/generated-")
    assert note.message.endswith("/out/answer.rs:2:5, outside the workspace")


# -- macro expansions -------------------------------------------------------------------------


def test_error_inside_std_macro_body_is_mapped_to_the_call() -> None:
    found = diagnostics("macros")
    d = only(found, code="E0369")
    text = source_line("macros", d.file, d.line)
    assert text[d.column - 1 : d.end_column - 1] == "assert_eq!(Opaque, Opaque)"
    # rustc's three spans all lie in core's `assert_eq!` body: each maps to the same call; the
    # two labelled `Opaque` collapse, the primary one stays primary.
    assert [(s.line, s.column, s.label, s.primary) for s in d.spans] == [
        (d.line, d.column, "Opaque", False),
        (d.line, d.column, None, True),
    ]


def test_error_in_a_local_macro_stays_in_the_macro_body() -> None:
    d = only(diagnostics("macros"), message="cannot add `&str` to `u32`")
    assert source_line("macros", d.file, d.line).strip().startswith('a + "one"')
    # The child listing std's `Add` impls keeps its message; its spans (all in std) are gone.
    child = next(c for c in d.children if "implement trait `Add<Rhs>`" in c.message)
    assert child.spans == []


def test_format_args_error_points_at_the_placeholders() -> None:
    d = only(diagnostics("macros"), code=None)
    assert d.message == "2 positional arguments in format string, but there is 1 argument"
    text = source_line("macros", d.file, d.line)
    assert [(text[s.column - 1 : s.end_column - 1], s.primary) for s in d.spans] == [
        ("1", False),
        ("{}", True),
        ("{}", True),
    ]
    # The diagnostic's own position is its first primary span: the first placeholder.
    assert d.column == text.index("{}") + 1


def test_secondary_span_in_std_macro_maps_to_the_vec_call() -> None:
    d = only(diagnostics("macros"), message="the trait bound `NoClone: Clone` is not satisfied")
    primary = [s for s in d.spans if s.primary]
    secondary = [s for s in d.spans if not s.primary]
    text = source_line("macros", d.file, d.line)
    assert [text[s.column - 1 : s.end_column - 1] for s in primary] == ["NoClone"]
    assert [(s.label, text[s.column - 1 : s.end_column - 1]) for s in secondary] == [
        ("required by a bound introduced by this call", "vec![NoClone; 3]")
    ]


def test_registry_crate_macro_is_mapped_to_the_invocation() -> None:
    d = only(diagnostics("registry-macro"))
    assert (d.file, d.line, d.column, d.end_line) == ("src/lib.rs", 7, 1, 9)
    assert source_line("registry-macro", d.file, 7).startswith("lazy_static! {")
    assert d.spans[0].label == "`Cell<u32>` cannot be shared between threads safely"
    bound = next(c for c in d.children if c.message.startswith("required by a bound"))
    assert bound.spans == []  # it pointed into lazy_static's own source


# -- suggestions ------------------------------------------------------------------------------


def test_machine_applicable_suggestion_applies_cleanly() -> None:
    found = diagnostics("type-errors")
    d = only(found, file="src/lib.rs", code="E0308")
    [suggestion] = d.suggestions
    assert suggestion.applicability is Applicability.MACHINE_APPLICABLE
    assert suggestion.message == "use a float literal"
    line = source_line("type-errors", d.file, d.line)
    assert fixed_line("type-errors", d, [suggestion]) == line.replace("= 0;", "= 0.0;")


def test_unused_variable_and_unused_mut_suggestions() -> None:
    found = diagnostics("lints-and-tests")
    path = "crates/lints/src/lib.rs"
    unused = only(found, file=path, code="unused_variables", line=8)
    mutable = only(found, file=path, code="unused_mut")
    line = source_line("lints-and-tests", path, 8)
    # rustc's span for the unused binding covers `mut unused_total`: the fix drops both.
    fixed = fixed_line("lints-and-tests", unused, unused.suggestions)
    assert fixed == line.replace("mut unused_total", "_unused_total")
    assert fixed_line("lints-and-tests", mutable, mutable.suggestions) == line.replace("mut ", "")
    assert {s.applicability for s in [*unused.suggestions, *mutable.suggestions]} == {
        Applicability.MACHINE_APPLICABLE
    }


def test_unused_import_suggestion_removes_the_whole_item() -> None:
    d = only(diagnostics("lints-and-tests"), code="unused_imports")
    [suggestion] = d.suggestions
    assert suggestion.message == "remove the whole `use` item"
    # The item ends at its `;`: the annotation comment after it on the line stays.
    fixed = fixed_line("lints-and-tests", d, d.suggestions)
    assert fixed == "  //~ warning[unused_imports]"


def test_clippy_lints_carry_their_source_and_multi_part_fixes() -> None:
    found = diagnostics("clippy-lints")
    assert {d.source for d in found} == {"clippy"}
    d = only(found, code="clippy::needless_return")
    assert len(d.suggestions) == 2  # `return 1` → `1`, and the `;` removed
    # The second part removes `;` and the blanks up to the annotation comment.
    fixed = fixed_line("clippy-lints", d, d.suggestions)
    assert fixed == "    1//~ warning[clippy::needless_return]"


def test_suggestions_outside_the_workspace_are_dropped() -> None:
    # `derive(Clone)` on NoClone (in the workspace) is kept; nothing points into std.
    d = only(diagnostics("macros"), message="the trait bound `NoClone: Clone` is not satisfied")
    assert [(s.replacement, s.applicability) for s in d.suggestions] == [
        ("#[derive(Clone)]\n", Applicability.MAYBE_INCORRECT)
    ]
    assert all(s.span.file == "src/lib.rs" for s in d.suggestions)


# -- duplicates -------------------------------------------------------------------------------


def test_all_targets_duplicates_are_removed_and_order_kept() -> None:
    parsed = parse(FIXTURES["lints-and-tests"])
    raw = [p.diagnostic for p in parsed if isinstance(p, CompilerDiagnostic)]
    unique = dedupe(raw)
    # Every lib warning is reported by the `lints` lib and again by its unit-test build.
    lib_warnings = [d for d in raw if d.file == "crates/lints/src/lib.rs" and d.line in (4, 8)]
    assert len(lib_warnings) == 6
    assert len([d for d in unique if d in lib_warnings]) == 3
    assert unique == [d for i, d in enumerate(raw) if d not in raw[:i]]


def test_diagnostic_key_tells_apart_what_differs() -> None:
    a, b = diagnostics("type-errors")[:2]
    assert diagnostic_key(a) == diagnostic_key(a)
    assert diagnostic_key(a) != diagnostic_key(b)
    assert dedupe([a, b, a, b]) == [a, b]


def test_relocated_replays_agree_on_everything_workspace_relative() -> None:
    here = diagnostics("macros", Path("/tmp/a"))
    there = diagnostics("macros", Path("/srv/elsewhere/b"))
    assert here == there


# -- non-diagnostic lines ---------------------------------------------------------------------


def test_artifacts_report_package_target_and_freshness() -> None:
    artifacts = [p for p in parse(FIXTURES["lints-and-tests"]) if isinstance(p, ArtifactBuilt)]
    package = f"path+file://{WORKSPACE}/crates/user#0.1.0"
    assert ArtifactBuilt(package_id=package, target="user", fresh=False) in artifacts


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "empty line"),
        (b"   \n", "empty line"),
        (b"hello from a build script\n", "not JSON"),
        (b"{half a json object", "not a cargo message"),
        (b'{"no": "reason"}', "not a cargo message"),
        (b'{"reason": "build-script-executed", "package_id": "x"}', "build-script-executed"),
        (b'{"reason": "something-new"}', "something-new"),
    ],
)
def test_lines_that_tell_nothing_are_ignored(line: bytes, reason: str) -> None:
    assert parse_cargo_line(line, WORKSPACE, 1) == Ignored(reason)


# -- hand-made variations of recorded lines ---------------------------------------------------


def recorded_messages(name: str) -> Iterator[dict[str, Any]]:
    for line in load(FIXTURES[name], WORKSPACE, TARGET):
        message = json.loads(line)
        if message["reason"] == "compiler-message":
            yield message


def first_error(name: str = "type-errors") -> dict[str, Any]:
    return next(m for m in recorded_messages(name) if m["message"]["level"] == "error")


def reparse(message: dict[str, Any], workspace: Path = WORKSPACE) -> Any:
    return parse_cargo_line(json.dumps(message).encode(), workspace, GENERATION)


def test_internal_compiler_error_is_an_error() -> None:
    message = first_error()
    message["message"]["level"] = "error: internal compiler error"
    parsed = reparse(message)
    assert isinstance(parsed, CompilerDiagnostic)
    assert parsed.diagnostic.severity is Severity.ERROR


def test_unknown_level_is_a_tool_error() -> None:
    message = first_error()
    message["message"]["level"] = "catastrophe"
    with pytest.raises(ToolError, match="unknown rustc diagnostic level 'catastrophe'"):
        reparse(message)


def test_malformed_compiler_message_is_a_tool_error() -> None:
    message = first_error()
    del message["message"]["spans"][0]["line_start"]
    with pytest.raises(ToolError, match="compiler-message"):
        reparse(message)


def test_summaries_are_dropped_but_other_spanless_errors_kept() -> None:
    message = first_error()
    message["message"]["spans"] = []
    message["message"]["children"] = []
    for summary in (
        "aborting due to 2 previous errors",
        "aborting due to 9 previous errors; 1 warning emitted",
        "aborting due to 1 previous error",
        "3 warnings emitted",
        "1 warning emitted",
    ):
        message["message"]["message"] = summary
        assert reparse(message) == Ignored("rustc summary"), summary
    message["message"]["message"] = "linking with `cc` failed"
    parsed = reparse(message)
    assert isinstance(parsed, CompilerDiagnostic)
    assert (parsed.diagnostic.file, parsed.diagnostic.line) == ("Cargo.toml", 1)


def test_manifest_outside_the_workspace_falls_back_to_the_root_manifest() -> None:
    message = first_error()
    message["message"]["spans"] = []
    message["manifest_path"] = "/usr/share/cargo/registry/foo-1.0.0/Cargo.toml"
    parsed = reparse(message)
    assert isinstance(parsed, CompilerDiagnostic)
    assert parsed.diagnostic.file == "Cargo.toml"


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("src/lib.rs", "src/lib.rs"),
        ("./src/../src/lib.rs", "src/lib.rs"),
        (f"{WORKSPACE}/src/lib.rs", "src/lib.rs"),
        ("../outside/lib.rs", None),
        (f"{WORKSPACE}-sibling/src/lib.rs", None),  # a prefix of the path is not the workspace
        ("<anon>", None),
        ("/rustc/0123abcd/library/core/src/macros/mod.rs", None),
        ("target/debug/build/foo-0123456789abcdef/out/gen.rs", None),
    ],
)
def test_which_files_count_as_workspace_source(file_name: str, expected: str | None) -> None:
    message = first_error()
    for span in message["message"]["spans"]:
        span["file_name"] = file_name
        span["expansion"] = None
    parsed = reparse(message)
    assert isinstance(parsed, CompilerDiagnostic)
    if expected is None:
        assert parsed.diagnostic.file == "Cargo.toml"
        assert parsed.diagnostic.spans == []
    else:
        assert parsed.diagnostic.file == expected
        assert {s.file for s in parsed.diagnostic.spans} == {expected}


def test_non_diagnostic_rustc_messages_are_ignored() -> None:
    message = first_error()
    message["message"]["$message_type"] = "future_incompat"
    assert reparse(message) == Ignored("rustc future_incompat message")


def test_a_relative_workspace_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        parse_cargo_line(b'{"reason": "build-finished", "success": true}', Path("ws"), 1)


# -- live cargo -------------------------------------------------------------------------------


def live_fixture_params() -> list[Any]:
    params: list[Any] = []
    for name, fixture in sorted(FIXTURES.items()):
        marks = [pytest.mark.slow]
        if fixture.registry:
            marks.append(pytest.mark.corpus)
        params.append(pytest.param(name, marks=marks))
    return params


@pytest.mark.parametrize("name", live_fixture_params())
def test_live_cargo_output_still_matches_the_recording(name: str, tmp_path: Path) -> None:
    """The toolchain installed now reports what the recording says (else: re-record)."""
    fixture = FIXTURES[name]
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    if fixture.registry and not Path("/usr/share/cargo/registry/lazy_static-1.4.0").is_dir():
        pytest.skip("Debian's librust-lazy-static-dev is not installed (`make setup`)")
    workspace = fixture.copy_to(tmp_path.resolve())
    stdout = fixture.run(workspace, tmp_path / "target")
    live = dedupe(
        p.diagnostic
        for p in (parse_cargo_line(line, workspace, GENERATION) for line in stdout.splitlines())
        if isinstance(p, CompilerDiagnostic)
    )
    recorded = diagnostics(name, workspace)

    def essentials(found: list[Diagnostic]) -> list[tuple[str, ...]]:
        # Sorted: cargo compiles targets in parallel, so their messages interleave in any order.
        # No `rendered` and no notes: build-script paths hold a hash of where cargo ran.
        fields = ("file", "line", "column", "end_line", "end_column", "severity", "code", "message")
        return sorted(tuple(str(getattr(d, f)) for f in fields) for d in found)

    assert essentials(live) == essentials(recorded), (
        "cargo's output drifted from tests/fixtures/cargo/recorded: re-record with "
        "`.venv/bin/python -m tests.support.cargo_fixtures`"
    )
