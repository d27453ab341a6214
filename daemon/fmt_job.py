"""The ``fmt`` file job: a format check on every save, and the ``format`` request.

For each saved ``.rs`` file the formatter (:mod:`rustg.gpu.fmt.driver`) runs in check mode: a
file that would change gets one ``rustg-fmt`` diagnostic ("would reformat", severity info) at
its first changed line, with the unified diff as ``rendered`` and the whole-file replacement
as a machine-applicable suggestion; a formatted file gets an empty list (clears it). A file
rustfmt cannot format (a syntax error: the parse job already reports it) gets no fmt
diagnostic; a safety-net rejection is a warning naming the internal error. Nothing is ever
written to the workspace.

The known-formatted table lives in the daemon's LMDB environment (sub-db ``fmt-known-v1``), so
a save that restores formatted content, or a restart, is answered from the fast path.
Formatting blocks (numba, rustfmt processes), so it runs in worker threads behind one limiter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from rustg.protocol import (
    Applicability,
    Diagnostic,
    FormatReply,
    FormatRequest,
    Severity,
    Span,
    Suggestion,
    TextEdit,
)

from .scheduler import JobMode
from .threads import tracked

log = logging.getLogger("rustgd.fmt")

SOURCE = "rustg-fmt"
FMT_JOB = "fmt"


def _is_rust(path: str) -> bool:
    return path.endswith(".rs")


class FmtJob:
    verb = "checked"  # in its job row: "3 files checked; ..."

    # In the background: a save's parse diagnostics never wait for rustfmt, and a newer save
    # of the same files makes a running check stale (it is cancelled, not queued behind).
    mode = JobMode.SUPERSEDING

    def __init__(self, root: Path, *, env: Any) -> None:
        self.root = root
        self._env = env
        self._limiter = trio.CapacityLimiter(1)
        self._formatter: Any = None  # created in a worker thread (imports numba)

    def wants(self, changed: Mapping[str, str | None]) -> bool:
        return any(_is_rust(p) for p in changed)

    def _get_formatter(self) -> Any:
        if self._formatter is None:
            from rustg.gpu.fmt.driver import Formatter
            from rustg.gpu.fmt.known import KnownFormatted

            # Printed items remembered: a save re-prints only the items it touched.
            self._formatter = Formatter(
                known=KnownFormatted(self._env), jobs=1, item_memo_bytes=32 << 20
            )
        return self._formatter

    def _diagnostics(self, rel: str, result: Any) -> list[Diagnostic]:
        """A ``FileResult``, as this job's diagnostics for ``rel``."""
        from rustg.gpu.fmt.driver import Outcome, edits_between, unified_diff

        if result.outcome is Outcome.INTERNAL_ERROR:
            return [
                Diagnostic(
                    source=SOURCE,
                    severity=Severity.WARNING,
                    message=result.message,
                    file=rel,
                    line=1,
                    column=1,
                    end_line=1,
                    end_column=1,
                    code="internal-error",
                )
            ]
        if result.outcome is not Outcome.CHANGED or result.formatted is None:
            return []
        edits = edits_between(result.original, result.formatted)
        first = edits[0].start_line + 1 if edits else 1
        lines = result.original.count(b"\n") + 1
        whole = Span(file=rel, line=1, column=1, end_line=lines + 1, end_column=1)
        return [
            Diagnostic(
                source=SOURCE,
                severity=Severity.INFO,
                message=f"would reformat ({len(edits)} change{'s' if len(edits) != 1 else ''})",
                file=rel,
                line=first,
                column=1,
                end_line=first,
                end_column=1,
                code="would-reformat",
                rendered=unified_diff(result, label=rel),
                suggestions=[
                    Suggestion(
                        span=whole,
                        replacement=result.formatted.decode(errors="replace"),
                        applicability=Applicability.MACHINE_APPLICABLE,
                        message="format the file (cargo g fmt)",
                    )
                ],
            )
        ]

    def _run(self, changed: Mapping[str, str | None]) -> dict[str, list[Diagnostic]]:
        results: dict[str, list[Diagnostic]] = {}
        present: dict[str, bytes] = {}
        for rel, digest in changed.items():
            if not _is_rust(rel):
                continue
            results[rel] = []
            if digest is not None:
                try:
                    present[rel] = (self.root / rel).read_bytes()
                except OSError:
                    pass  # gone mid-job: the watcher reports it next
        # Many files at once (the first check of a workspace, a branch switch): the units
        # they delegate share rustfmt processes.
        formatted = self._get_formatter().format_contents(
            [(self.root / rel, content) for rel, content in present.items()]
        )
        for rel, result in zip(present, formatted, strict=True):
            results[rel] = self._diagnostics(rel, result)
        return results

    async def __call__(
        self, generation: int, changed: dict[str, str | None]
    ) -> dict[str, list[Diagnostic]] | None:
        if not self.wants(changed):
            return None
        return await trio.to_thread.run_sync(
            tracked(self._run), dict(changed), limiter=self._limiter, abandon_on_cancel=True
        )

    # -- the format request ---------------------------------------------------------------------

    def _format(self, request: FormatRequest) -> FormatReply:
        from rustg.gpu.fmt.driver import Outcome, edits_between

        path = (self.root / request.file).resolve()
        if not path.is_relative_to(self.root.resolve()):
            return FormatReply(
                id=request.id, file=request.file, outcome=Outcome.UNREADABLE.value,
                message="outside the workspace",
            )  # fmt: skip
        formatter = self._get_formatter()
        # An editor's buffer, not a save: the fast path is read, not written (an LMDB commit
        # is an fsync, slower than formatting the one item a keystroke changed). The save
        # check of the same content records it.
        if request.content is None:
            result = formatter.format_file(path, remember=False)
        else:
            result = formatter.format_bytes(path, request.content.encode(), remember=False)
        edits = []
        if result.outcome is Outcome.CHANGED and result.formatted is not None:
            edits = [
                TextEdit(start_line=e.start_line, end_line=e.end_line, new_text=e.new_text)
                for e in edits_between(result.original, result.formatted)
            ]
        return FormatReply(
            id=request.id,
            file=request.file,
            outcome=result.outcome.value,
            edits=edits,
            message=result.message,
            route=result.route.value,
        )

    async def format(self, request: FormatRequest) -> FormatReply:
        return await trio.to_thread.run_sync(
            tracked(self._format), request, limiter=self._limiter, abandon_on_cancel=True
        )
