"""``cargo g fmt [PATHS]``: rustfmt-identical formatting through the engine (docs/formatting.md).

* ``cargo g fmt`` rewrites files (atomically; a file that changed since it was read is left
  alone and reported);
* ``--check`` prints a unified diff per file that would change and exits 1 if any would;
* ``--emit json`` prints one JSON document with line edits per file (nothing written);
* ``--stats`` adds the native coverage: the fraction of top-level items whose text came from
  the native printer, and how many files took each route.

PATHS are files or directories (``*.rs`` below them, ``target/`` and hidden directories
skipped); none means the workspace of the current directory. Exit status: 0, 1 when something
would change (``--check``) or a file could not be formatted, 70 when the safety net rejected an
output (an internal error: nothing was written for that file).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .daemon_client import add_workspace_options
from .errors import EXIT_FAILURE, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, CliError

#: Below this many files no progress bar is drawn (it would only flicker).
PROGRESS_MIN_FILES = 50


def add_fmt_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    handlers: dict[str, Callable[..., int]],
) -> None:
    fmt = subparsers.add_parser("fmt", help="format Rust files exactly as rustfmt does, faster")
    fmt.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    add_workspace_options(fmt)  # the default scope (instead of the current directory's)
    fmt.add_argument("--check", action="store_true", help="print diffs, exit 1 if any")
    fmt.add_argument("--emit", choices=("files", "json"), default="files", help="json: edits")
    fmt.add_argument("--stats", action="store_true", help="native coverage and routes")
    fmt.add_argument("--no-cache", action="store_true", help="skip the known-formatted table")
    fmt.add_argument("--jobs", "-j", type=int, default=None, help="parallel files")
    handlers["fmt"] = cmd_fmt


def rust_files(paths: Sequence[Path]) -> list[Path]:
    """Every ``.rs`` file named or below the named directories, sorted, without duplicates."""
    found: set[Path] = set()
    for path in paths:
        if path.is_file():
            found.add(path)
            continue
        if not path.is_dir():
            raise CliError(f"{path}: no such file or directory", EXIT_USAGE)
        for directory, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "target"]
            found.update(Path(directory) / f for f in files if f.endswith(".rs"))
    return sorted(found)


def _default_root() -> Path:
    from rustg.daemon.workspace import find_workspace_root

    try:
        return find_workspace_root(Path.cwd())
    except Exception:  # no Cargo.toml above: the current directory, as rustfmt would
        return Path.cwd()


@dataclass(slots=True)
class FmtSummary:
    files: int = 0
    changed: int = 0
    written: int = 0
    failed: int = 0
    internal_errors: int = 0
    left_alone: int = 0  # changed on disk while we formatted
    items: int = 0
    native_items: int = 0
    routes: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "changed": self.changed,
            "written": self.written,
            "failed": self.failed,
            "internal_errors": self.internal_errors,
            "changed_on_disk": self.left_alone,
            "items": self.items,
            "native_items": self.native_items,
            "native_fraction": self.native_fraction,
            "routes": dict(sorted(self.routes.items())),
        }

    @property
    def native_fraction(self) -> float:
        return self.native_items / self.items if self.items else 0.0


def stats_table(summary: FmtSummary) -> Table:
    """Pure view of a run's coverage (tested as text)."""
    table = Table(title="cargo g fmt", show_header=False, box=None, pad_edge=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("files", str(summary.files))
    table.add_row("would change" if summary.written == 0 else "rewritten", str(summary.changed))
    table.add_row("top-level items", str(summary.items))
    table.add_row("formatted natively", f"{summary.native_items} ({summary.native_fraction:.1%})")
    for route, count in sorted(summary.routes.items()):
        table.add_row(f"route {route}", str(count))
    if summary.failed:
        table.add_row("rustfmt failed", str(summary.failed))
    if summary.internal_errors:
        table.add_row("internal errors", str(summary.internal_errors))
    return table


def _with_progress(
    format_files: Callable[..., Iterator[Any]], files: list[Path], console: Console
) -> Iterator[Any]:
    """``format_files(files)``'s results, with a progress bar fed by its ``on_done`` (files
    finish out of order, and many at once when a rustfmt batch returns)."""
    total = len(files)
    if total < PROGRESS_MIN_FILES or not console.is_terminal:
        yield from format_files(files)
        return
    progress = Progress(
        TextColumn("fmt"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        auto_refresh=False,  # no refresh thread: we refresh as results arrive
        transient=True,
    )
    with progress:
        task = progress.add_task("fmt", total=total)

        def on_done(n: int) -> None:
            progress.advance(task, n)
            progress.refresh()

        yield from format_files(files, on_done=on_done)


def cmd_fmt(
    args: argparse.Namespace, console: Console, *, err: Console | None = None, formatter: Any = None
) -> int:
    from rustg.gpu.fmt.driver import (
        Formatter,
        Outcome,
        WriteOutcome,
        edits_between,
        unified_diff,
        write_result,
    )
    from rustg.gpu.fmt.known import KnownFormatted, default_known_dir
    from rustg.gpu.fmt.rustfmt import RustfmtMissing, rustfmt_version

    err = err or Console(stderr=True, highlight=False)
    try:
        rustfmt_version()
    except (RustfmtMissing, OSError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    workspace = getattr(args, "workspace", None)
    paths = [Path(p) for p in args.paths] or [Path(workspace) if workspace else _default_root()]
    files = rust_files(paths)
    known = None
    if formatter is None:
        if not args.no_cache:
            try:
                known = KnownFormatted.open(default_known_dir())
            except Exception as exc:  # lmdb.Error, OSError: a cache, not a requirement
                err.print(f"[yellow]cargo g fmt:[/] fast path off: {exc}")
        formatter = Formatter(known=known, jobs=args.jobs)
    check = args.check
    emit_json = args.emit == "json"
    summary = FmtSummary(files=len(files))
    documents: list[dict[str, Any]] = []
    cwd = Path.cwd()
    try:
        for result in _with_progress(formatter.format_files, files, err):
            summary.items += result.items
            summary.native_items += result.native_items
            summary.routes[result.route.value] += 1
            try:
                shown = str(result.path.relative_to(cwd))
            except ValueError:
                shown = str(result.path)
            if result.outcome in (Outcome.RUSTFMT_FAILED, Outcome.UNREADABLE):
                summary.failed += 1
                err.print(f"[bold red]error:[/] {shown}: {result.message}", markup=True)
            elif result.outcome is Outcome.INTERNAL_ERROR:
                summary.internal_errors += 1
                err.print(f"[bold red]internal error:[/] {shown}: {result.message}")
            elif result.outcome is Outcome.CHANGED:
                summary.changed += 1
            if emit_json:
                documents.append(
                    {
                        "path": shown,
                        "outcome": result.outcome.value,
                        "route": result.route.value,
                        "message": result.message,
                        "edits": [
                            e.to_json() for e in edits_between(result.original, result.formatted)
                        ]
                        if result.changed and result.formatted is not None
                        else [],
                    }
                )
            elif check:
                if result.changed:
                    console.file.write(unified_diff(result, label=shown))
            elif result.changed:
                outcome = write_result(result)
                if outcome is WriteOutcome.WRITTEN:
                    summary.written += 1
                    if formatter.known is not None and result.formatted is not None:
                        formatter.known.add([formatter.known_key(result.path, result.formatted)])
                elif outcome is WriteOutcome.CHANGED_ON_DISK:
                    summary.left_alone += 1
                    err.print(f"[yellow]skipped:[/] {shown} changed on disk while formatting")
    finally:
        if known is not None:
            known.close()
    if emit_json:
        console.file.write(json.dumps({"files": documents, "stats": summary.to_json()}) + "\n")
    elif args.stats:
        console.print(stats_table(summary))
    elif not check and summary.written:
        err.print(f"reformatted {summary.written} of {summary.files} files")
    if summary.internal_errors:
        return EXIT_INTERNAL
    if summary.failed or summary.left_alone or (check and summary.changed):
        return EXIT_FAILURE
    return EXIT_OK
