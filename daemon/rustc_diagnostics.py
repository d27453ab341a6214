"""``cargo check --message-format=json`` output, turned into the protocol's ``Diagnostic``.

cargo writes one JSON object per line on stdout, tagged by ``reason`` (cargo book, "External
tools" § JSON messages); a ``compiler-message`` carries one rustc diagnostic in rustc's own
JSON format (rustc book, "JSON Output"). :func:`parse_cargo_line` turns one such line into one
:data:`CargoLine`; it is pure (no file system access) so recorded cargo output can be replayed.

What a diagnostic becomes:

* **Location.** The first primary span that lies in the workspace. A span outside it — in std
  (``/rustc/<hash>/library/...``), in a registry crate, in build-script output under a target
  directory — is replaced by the macro call that produced it, following ``expansion.span`` until
  a span lands in the workspace: an error inside ``assert_eq!`` shows on the ``assert_eq!`` line.
  A diagnostic with no span in the workspace at all (an unknown lint named in ``[lints]``, an
  error in build-script output pulled in by ``include!`` — rustc records no expansion for
  those — or inside a dependency) is put on line 1 of its package's ``Cargo.toml``, with a
  note saying where rustc pointed.
* **Positions** are rustc's: 1-based lines and columns counted in characters, end exclusive.
* **Files** are workspace-relative POSIX paths. rustc names files of workspace members relative
  to the workspace root (cargo runs it there) and everything else by absolute path, so
  ``workspace`` must be the cargo workspace root as cargo sees it (``cargo metadata``'s
  ``workspace_root``: symlinks resolved).
* **Suggestions** are the spans, top-level or in children, that carry a
  ``suggested_replacement``; only those whose own span lies in the workspace are kept (a
  replacement cannot be transplanted from a macro's definition onto its call).
* **Noise** is dropped: rustc's closing summaries ("aborting due to 2 previous errors",
  "1 warning emitted", "Some errors have detailed explanations ...", "For more information about
  this error ..."). cargo 1.95 already swallows the first two and prints its own
  "`x` (lib) generated N warnings" on stderr only, never in the JSON stream.

``cargo check --all-targets`` compiles a library twice (``lib`` and its unit-test harness) and
reports every warning in it twice, identically: :func:`dedupe` / :func:`diagnostic_key` drop
such repeats.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

import msgspec

from rustg.protocol import Applicability, Diagnostic, DiagnosticChild, Severity, Span, Suggestion

from .errors import ToolError

__all__ = [
    "ArtifactBuilt",
    "BuildFinished",
    "CargoLine",
    "CompilerDiagnostic",
    "Ignored",
    "dedupe",
    "diagnostic_key",
    "parse_cargo_line",
]


# ---------------------------------------------------------------------------------------------
# What one line of cargo output is


@dataclass(frozen=True, slots=True)
class CompilerDiagnostic:
    """rustc (or clippy) reported something about the user's code."""

    diagnostic: Diagnostic
    package_id: str


@dataclass(frozen=True, slots=True)
class ArtifactBuilt:
    """One target of one package is done (``fresh``: it was up to date, nothing ran)."""

    package_id: str
    target: str
    fresh: bool


@dataclass(frozen=True, slots=True)
class BuildFinished:
    """cargo's last message: ``success`` is false when any unit failed to build."""

    success: bool


@dataclass(frozen=True, slots=True)
class Ignored:
    """A line that tells the daemon nothing: not JSON, a build-script run, a summary line ..."""

    reason: str


CargoLine = CompilerDiagnostic | ArtifactBuilt | BuildFinished | Ignored


# ---------------------------------------------------------------------------------------------
# cargo's and rustc's JSON, as far as we read it. Unknown fields are skipped by msgspec, so
# newer toolchains adding fields do not break us; missing or mistyped ones raise ToolError.


class _Code(msgspec.Struct, frozen=True):
    code: str


class _Expansion(msgspec.Struct, frozen=True):
    span: _RustcSpan
    macro_decl_name: str = ""


class _RustcSpan(msgspec.Struct, frozen=True):
    file_name: str
    line_start: int
    line_end: int
    column_start: int
    column_end: int
    is_primary: bool
    label: str | None = None
    suggested_replacement: str | None = None
    suggestion_applicability: str | None = None
    expansion: _Expansion | None = None


class _RustcDiagnostic(msgspec.Struct, frozen=True):
    message: str
    level: str
    code: _Code | None = None
    spans: list[_RustcSpan] = []
    children: list[_RustcDiagnostic] = []
    rendered: str | None = None
    message_type: str = msgspec.field(name="$message_type", default="diagnostic")


class _Target(msgspec.Struct, frozen=True):
    name: str


class _CompilerMessage(msgspec.Struct, frozen=True):
    package_id: str
    manifest_path: str
    message: _RustcDiagnostic


class _CompilerArtifact(msgspec.Struct, frozen=True):
    package_id: str
    target: _Target
    fresh: bool


class _BuildFinished(msgspec.Struct, frozen=True):
    success: bool


class _Envelope(msgspec.Struct, frozen=True):
    reason: str


_envelope_decoder: Final = msgspec.json.Decoder(_Envelope)
_message_decoder: Final = msgspec.json.Decoder(_CompilerMessage)
_artifact_decoder: Final = msgspec.json.Decoder(_CompilerArtifact)
_finished_decoder: Final = msgspec.json.Decoder(_BuildFinished)

# rustc's `Level::to_str` (compiler/rustc_errors/src/lib.rs) yields exactly these strings;
# anything else means the format changed under us, and guessing would misreport severities.
_SEVERITIES: Final[dict[str, Severity]] = {
    "error": Severity.ERROR,
    "error: internal compiler error": Severity.ERROR,
    "warning": Severity.WARNING,
    "note": Severity.NOTE,
    "failure-note": Severity.NOTE,
    "help": Severity.HELP,
}

_APPLICABILITIES: Final[dict[str, Applicability]] = {
    "MachineApplicable": Applicability.MACHINE_APPLICABLE,
    "MaybeIncorrect": Applicability.MAYBE_INCORRECT,
    "HasPlaceholders": Applicability.HAS_PLACEHOLDERS,
    "Unspecified": Applicability.UNSPECIFIED,
}

# rustc's end-of-compilation summaries: span-less, and saying nothing the diagnostics above
# them did not already say.
_SUMMARY: Final = re.compile(
    r"aborting due to "
    r"|\d+ warnings? emitted"
    r"|Some errors have detailed explanations: "
    r"|For more information about (?:this|an) error, try `rustc --explain"
)

# Build-script output: `<target dir>/<profile>/build/<package>-<hash>/out/...`. It may lie under
# the workspace root (the default `target/`, or a daemon target dir inside the workspace) but is
# not source the user can edit: its spans count as outside the workspace.
_GENERATED: Final = re.compile(r"(?:^|/)build/[^/]+-[0-9a-f]{16}/out/")


# ---------------------------------------------------------------------------------------------


def parse_cargo_line(line: bytes, workspace: Path, generation: int) -> CargoLine:
    """Classify one line of ``cargo ... --message-format=json`` stdout.

    Raises ``ToolError`` when a line is cargo JSON of a kind we read but not of the shape we
    know (a toolchain whose format changed): reporting nothing would look like a clean build.
    ``workspace`` must be absolute (it is compared with the absolute paths cargo prints).
    """
    if not workspace.is_absolute():
        raise ValueError(f"workspace must be an absolute path, not {workspace}")
    stripped = line.strip()
    if not stripped.startswith(b"{"):
        # Build scripts and proc macros may print to stdout; cargo passes that through.
        return Ignored("not JSON" if stripped else "empty line")
    try:
        reason = _envelope_decoder.decode(stripped).reason
    except msgspec.DecodeError:
        return Ignored("not a cargo message")
    try:
        if reason == "compiler-message":
            return _compiler_message(_message_decoder.decode(stripped), workspace, generation)
        if reason == "compiler-artifact":
            artifact = _artifact_decoder.decode(stripped)
            return ArtifactBuilt(artifact.package_id, artifact.target.name, artifact.fresh)
        if reason == "build-finished":
            return BuildFinished(_finished_decoder.decode(stripped).success)
    except msgspec.DecodeError as exc:
        raise ToolError(f"unexpected cargo {reason!r} message: {exc}") from exc
    return Ignored(reason)


def diagnostic_key(diagnostic: Diagnostic) -> bytes:
    """A hashable identity for a diagnostic (``Diagnostic`` itself holds lists: unhashable)."""
    return msgspec.msgpack.encode(diagnostic)


def dedupe(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` in order, each identical repeat after the first dropped."""
    seen: set[bytes] = set()
    unique: list[Diagnostic] = []
    for diagnostic in diagnostics:
        key = diagnostic_key(diagnostic)
        if key not in seen:
            seen.add(key)
            unique.append(diagnostic)
    return unique


# ---------------------------------------------------------------------------------------------


def _compiler_message(message: _CompilerMessage, workspace: Path, generation: int) -> CargoLine:
    rustc = message.message
    if rustc.message_type != "diagnostic":
        return Ignored(f"rustc {rustc.message_type} message")
    severity = _severity(rustc.level)
    if not rustc.spans and _SUMMARY.match(rustc.message):
        return Ignored("rustc summary")

    root = workspace.as_posix()
    spans = _map_spans(rustc.spans, root)
    children = [
        DiagnosticChild(
            severity=_severity(child.level),
            message=child.message,
            spans=_map_spans(child.spans, root),
        )
        for child in rustc.children
    ]
    location = next((s for s in spans if s.primary), spans[0] if spans else None)
    if location is None:
        manifest = _manifest(message.manifest_path, root)
        location = Span(file=manifest, line=1, column=1, end_line=1, end_column=1)
        where = _outside_location(rustc.spans)
        if where is not None:
            # The manifest says which package; this keeps where rustc actually pointed (e.g. a
            # file a build script generated, which `include!` leaves no expansion trace of).
            children.insert(0, DiagnosticChild(severity=Severity.NOTE, message=where))
    suggestions = _suggestions(rustc, root)
    code = rustc.code.code if rustc.code is not None else None
    return CompilerDiagnostic(
        Diagnostic(
            source="clippy" if code is not None and code.startswith("clippy::") else "rustc",
            severity=severity,
            message=rustc.message,
            file=location.file,
            line=location.line,
            column=location.column,
            end_line=location.end_line,
            end_column=location.end_column,
            code=code,
            rendered=rustc.rendered,
            spans=spans,
            children=children,
            suggestions=suggestions,
            generation=generation,
        ),
        message.package_id,
    )


def _severity(level: str) -> Severity:
    try:
        return _SEVERITIES[level]
    except KeyError:
        raise ToolError(f"unknown rustc diagnostic level {level!r}") from None


def _relative(file_name: str, root: str) -> str | None:
    """``file_name`` relative to the workspace, or None if it is not editable source there."""
    if file_name.startswith("<"):
        return None  # rustc's pseudo-files: <anon>, <proc-macro source code>, <crate attribute>
    path = PurePosixPath(file_name)
    if path.is_absolute():
        if not path.is_relative_to(root):
            return None
        path = path.relative_to(root)
    relative = posixpath.normpath(path.as_posix())
    if relative == ".." or relative.startswith("../") or _GENERATED.search(relative):
        return None
    return relative


def _map_span(span: _RustcSpan, root: str) -> Span | None:
    """``span``, or the first macro call site in its expansion chain lying in the workspace.

    The label and primary flag stay with the result: they describe the user's mistake, which
    the call site is where the user can see it.
    """
    site: _RustcSpan | None = span
    while site is not None:
        file = _relative(site.file_name, root)
        if file is not None:
            return Span(
                file=file,
                line=site.line_start,
                column=site.column_start,
                end_line=site.line_end,
                end_column=site.column_end,
                label=span.label or None,
                primary=span.is_primary,
            )
        site = site.expansion.span if site.expansion is not None else None
    return None


def _map_spans(spans: Iterable[_RustcSpan], root: str) -> list[Span]:
    mapped: list[Span] = []
    for span in spans:
        result = _map_span(span, root)
        # Several spans inside one macro expansion all land on its call site: keep one each.
        if result is not None and result not in mapped:
            mapped.append(result)
    return mapped


def _suggestions(rustc: _RustcDiagnostic, root: str) -> list[Suggestion]:
    found: list[Suggestion] = []
    for owner in (rustc, *rustc.children):
        for span in owner.spans:
            if span.suggested_replacement is None:
                continue
            file = _relative(span.file_name, root)
            if file is None:
                continue
            found.append(
                Suggestion(
                    span=Span(
                        file=file,
                        line=span.line_start,
                        column=span.column_start,
                        end_line=span.line_end,
                        end_column=span.column_end,
                        label=span.label or None,
                        primary=span.is_primary,
                    ),
                    replacement=span.suggested_replacement,
                    applicability=_APPLICABILITIES.get(
                        span.suggestion_applicability or "", Applicability.UNSPECIFIED
                    ),
                    message=owner.message,
                )
            )
    return found


def _outside_location(spans: list[_RustcSpan]) -> str | None:
    span = next((s for s in spans if s.is_primary), spans[0] if spans else None)
    if span is None:
        return None
    return (
        f"reported at {span.file_name}:{span.line_start}:{span.column_start}, outside the workspace"
    )


def _manifest(manifest_path: str, root: str) -> str:
    """The package's manifest, relative to the workspace; the root manifest for outsiders."""
    path = PurePosixPath(manifest_path)
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return "Cargo.toml"
