"""Findings as protocol :class:`~rustg.protocol.messages.Diagnostic` s, JSON documents and SARIF.

Pure functions of (path, source bytes, findings): the CLI and the daemon's lint job use the same
conversion, so `cargo g lint` and the editor show the same positions, codes and suggestions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rustg.gpu.lint.model import Finding, Level, RuleMeta
from rustg.gpu.tokens import line_columns
from rustg.protocol.messages import (
    Applicability,
    Diagnostic,
    DiagnosticChild,
    Severity,
    Span,
    Suggestion,
)

__all__ = [
    "SARIF_SCHEMA",
    "SARIF_VERSION",
    "SOURCE",
    "json_document",
    "sarif_document",
    "severity_of",
    "to_diagnostics",
]

SOURCE = "rustg-lint"
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SEVERITY = {Level.DENY: Severity.ERROR, Level.WARN: Severity.WARNING, Level.ALLOW: Severity.NOTE}
_SARIF_LEVEL = {Level.DENY: "error", Level.WARN: "warning", Level.ALLOW: "none"}


def severity_of(level: Level) -> Severity:
    return _SEVERITY[level]


class _Positions:
    """Byte offsets of one file -> protocol (line, column), vectorised per batch."""

    def __init__(self, source: bytes) -> None:
        self.buf = np.frombuffer(source, dtype=np.uint8)
        self.offs = np.array([0, len(source)], dtype=np.int64)

    def __call__(self, offsets: list[int]) -> list[tuple[int, int]]:
        if not offsets:
            return []
        pos = np.clip(np.array(offsets, dtype=np.int64), 0, len(self.buf))
        lines, cols = line_columns(self.buf, self.offs, pos, np.zeros(len(pos), dtype=np.int64))
        return list(zip(lines.tolist(), cols.tolist(), strict=True))


def _span(
    path: str, a: tuple[int, int], b: tuple[int, int], label: str | None, primary: bool
) -> Span:
    return Span(
        file=path, line=a[0], column=a[1], end_line=b[0], end_column=b[1], label=label,
        primary=primary,
    )  # fmt: skip


def to_diagnostics(
    path: str, source: bytes, findings: list[Finding], *, generation: int = 0
) -> list[Diagnostic]:
    pos = _Positions(source)
    offsets: list[int] = []
    for f in findings:
        offsets += [f.start, f.end]
        for s, e, _ in f.related:
            offsets += [s, e]
        if f.fix is not None:
            for ed in f.fix.edits:
                offsets += [ed.start, ed.end]
    lc = iter(pos(offsets))
    out = []
    for f in findings:
        a, b = next(lc), next(lc)
        spans = [_span(path, a, b, None, True)]
        for _s, _e, label in f.related:
            ra, rb = next(lc), next(lc)
            spans.append(_span(path, ra, rb, label, False))
        children = []
        if f.help:
            children.append(DiagnosticChild(severity=Severity.HELP, message=f.help))
        suggestions = []
        if f.fix is not None:
            appl = (
                Applicability.MACHINE_APPLICABLE
                if f.fix.machine_applicable
                else Applicability.MAYBE_INCORRECT
            )
            for ed in f.fix.edits:
                ea, eb = next(lc), next(lc)
                suggestions.append(
                    Suggestion(
                        span=_span(path, ea, eb, None, False),
                        replacement=ed.replacement,
                        applicability=appl,
                        message=f.fix.message,
                    )
                )
        out.append(
            Diagnostic(
                source=SOURCE,
                severity=severity_of(f.level),
                message=f.message,
                file=path,
                line=a[0],
                column=a[1],
                end_line=b[0],
                end_column=b[1],
                code=f"rustg::{f.rule}",
                spans=spans,
                children=children,
                suggestions=suggestions,
                generation=generation,
            )
        )
    return out


def json_document(diagnostics: Mapping[str, list[Diagnostic]]) -> list[dict[str, Any]]:
    """One object per finding, stable keys (documented in docs/lint.md)."""
    out = []
    for path in sorted(diagnostics):
        for d in diagnostics[path]:
            out.append(
                {
                    "file": d.file,
                    "rule": (d.code or "").removeprefix("rustg::"),
                    "level": {"error": "deny", "warning": "warn"}.get(d.severity.value, "allow"),
                    "message": d.message,
                    "line": d.line,
                    "column": d.column,
                    "end_line": d.end_line,
                    "end_column": d.end_column,
                    "help": [c.message for c in d.children],
                    "fix": [
                        {
                            "line": s.span.line,
                            "column": s.span.column,
                            "end_line": s.span.end_line,
                            "end_column": s.span.end_column,
                            "replacement": s.replacement,
                            "machine_applicable": s.applicability
                            is Applicability.MACHINE_APPLICABLE,
                        }
                        for s in d.suggestions
                    ],
                }
            )
    return out


def _region(s: Span) -> dict[str, int]:
    return {
        "startLine": s.line,
        "startColumn": s.column,
        "endLine": s.end_line,
        "endColumn": s.end_column,
    }


def sarif_document(
    diagnostics: Mapping[str, list[Diagnostic]],
    metas: Mapping[str, RuleMeta],
    *,
    version: str,
    root_uri: str | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule in ``tool.driver.rules`` (so ``ruleIndex``
    is stable), one result per finding; columns are Unicode scalar values, 1-based, end
    exclusive, which is SARIF's default ``columnKind`` ("unicodeCodePoints")."""
    names = sorted(metas)
    index = {n: i for i, n in enumerate(names)}
    rules = []
    for n in names:
        m = metas[n]
        rules.append(
            {
                "id": n,
                "name": n,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.docs.strip() or m.summary},
                "help": {"text": m.docs.strip() or m.summary},
                "defaultConfiguration": {"level": _SARIF_LEVEL[m.default_level]},
                "properties": {"category": str(m.category)},
            }
        )
    results = []
    for path in sorted(diagnostics):
        for d in diagnostics[path]:
            rule = (d.code or "").removeprefix("rustg::")
            loc: dict[str, Any] = {"uri": d.file}
            if root_uri is not None:
                loc["uriBaseId"] = "SRCROOT"
            primary = next((s for s in d.spans if s.primary), d.spans[0] if d.spans else None)
            result: dict[str, Any] = {
                "ruleId": rule,
                "level": {"error": "error", "warning": "warning"}.get(d.severity.value, "note"),
                "message": {"text": d.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": loc,
                            "region": _region(primary) if primary else {"startLine": d.line},
                        }
                    }
                ],
            }
            if rule in index:
                result["ruleIndex"] = index[rule]
            related = [s for s in d.spans if not s.primary]
            if related:
                result["relatedLocations"] = [
                    {
                        "id": k,
                        "physicalLocation": {"artifactLocation": loc, "region": _region(s)},
                        "message": {"text": s.label or ""},
                    }
                    for k, s in enumerate(related)
                ]
            if d.suggestions:
                result["fixes"] = [
                    {
                        "description": {"text": d.suggestions[0].message or "fix"},
                        "artifactChanges": [
                            {
                                "artifactLocation": loc,
                                "replacements": [
                                    {
                                        "deletedRegion": _region(s.span),
                                        "insertedContent": {"text": s.replacement},
                                    }
                                    for s in d.suggestions
                                ],
                            }
                        ],
                    }
                ]
            results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "rustg-lint",
                "version": version,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if root_uri is not None:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": root_uri}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
