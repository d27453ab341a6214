"""``cargo g lint``: the GPU-aware linter, standalone (the daemon runs the same engine on save).

    cargo g lint [PATHS...] [--format human|json|sarif] [--fix] [--explain RULE] [--list-rules]

PATHS are files or directories (default: the workspace root); ``.rs`` files under directories
are found with the daemon's ignore rules (``target/``, ``.git/``, ``.gitignore``). Exit status:
0 no deny-level findings, 1 some (after ``--fix``: some left), 2 usage or configuration error
(an unknown rule in ``[levels]``, invalid TOML, a path that does not exist).

Human output is the rich code frames of :mod:`rustg.cli.view` (``NO_COLOR`` respected by the
Console), one per finding, with the rule name as the code and its help; ``--format json`` one
JSON array (docs/lint.md), ``--format sarif`` a SARIF 2.1.0 log.

User rules (``rustg.gpu.lint.user_rules``, the rule language) plug in through
``load_user_rules(config, root) -> list[Rule]``; ``--test-rules`` is
:func:`rustg.cli.lint_rule_tests.test_rules_command` (docs/lint-rules.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .daemon_client import add_workspace_options
from .errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError

__all__ = ["add_lint_commands", "cmd_lint", "collect_files"]


#: How long `cargo g lint` waits for a running daemon's lint results before linting by itself.
DAEMON_LINT_WAIT_S = 120.0


def add_lint_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    handlers: dict[str, Callable[..., int]],
) -> None:
    lint = subparsers.add_parser("lint", help="GPU-aware lints over the workspace's Rust files")
    lint.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    add_workspace_options(lint)
    lint.add_argument(
        "--format", choices=("human", "json", "sarif"), default="human", help="output format"
    )
    lint.add_argument("--json", action="store_true", help="same as --format json")
    lint.add_argument("--fix", action="store_true", help="apply machine-applicable fixes")
    lint.add_argument("--explain", metavar="RULE", help="a rule's documentation")
    lint.add_argument("--list-rules", action="store_true", help="every rule with its level")
    lint.add_argument("--test-rules", action="store_true", help="run the user rules' examples")
    lint.add_argument(
        "--backend", choices=("cpu", "cuda", "auto"), default=None, help="array backend"
    )
    lint.add_argument(
        "--no-daemon", action="store_true", help="lint here even when a daemon holds the results"
    )
    lint.add_argument(
        "--daemon-wait", type=float, default=DAEMON_LINT_WAIT_S, metavar="S",
        help="with a running daemon: wait at most S seconds for its results, then lint here",
    )  # fmt: skip
    handlers["lint"] = cmd_lint


def _root(args: argparse.Namespace) -> Path:
    from rustg.daemon.errors import WorkspaceError
    from rustg.daemon.workspace import find_workspace_root

    if args.workspace:
        root = Path(args.workspace)
        if not root.is_dir():
            raise CliError(f"--workspace {args.workspace}: no such directory", EXIT_USAGE)
        return root.resolve()
    start = Path(args.paths[0]) if args.paths else Path.cwd()
    start = start if start.is_dir() else start.parent
    try:
        return find_workspace_root(start)
    except WorkspaceError:
        return start.resolve()  # loose files: lint them without a workspace


def collect_files(root: Path, paths: list[str]) -> dict[str, Path]:
    """Workspace-relative name -> path of every .rs file under PATHS (sorted)."""
    from rustg.daemon.watcher import IgnoreRules

    ignore = IgnoreRules(root, [], root / ".rustg")
    ignore.load_gitignores()
    out: dict[str, Path] = {}
    targets = [Path(p) for p in paths] or [root]
    for given in targets:
        if not given.exists():
            raise CliError(f"{given}: no such file or directory", EXIT_USAGE)
        t = given.resolve()
        if t.is_file():
            out[_rel(root, t)] = t
            continue
        for dirpath, dirnames, filenames in os.walk(t):
            d = Path(dirpath)
            rel_dir = _rel(root, d)
            dirnames[:] = sorted(
                x
                for x in dirnames
                if not ignore.ignored(f"{rel_dir}/{x}".lstrip("./"), is_dir=True)
            )
            for name in filenames:
                if name.endswith(".rs"):
                    rel = f"{rel_dir}/{name}".lstrip("./") if rel_dir != "." else name
                    if not ignore.ignored(rel):
                        out[rel] = d / name
    return dict(sorted(out.items()))


def _rel(root: Path, p: Path) -> str:
    try:
        return p.relative_to(root).as_posix() or "."
    except ValueError:
        return p.as_posix()


def _user_hook(name: str) -> Any:
    try:
        import importlib

        mod = importlib.import_module("rustg.gpu.lint.user_rules")
    except ModuleNotFoundError as exc:
        if exc.name == "rustg.gpu.lint.user_rules":
            return None
        raise
    return getattr(mod, name, None)


def _engine(args: argparse.Namespace, root: Path) -> Any:
    return workspace_lint_engine(root, args.backend)


def workspace_lint_engine(root: Path, backend: str = "auto") -> Any:
    """The workspace's linter: its configured levels and its user rules (also rg-precommit's)."""
    from rustg.gpu.lint.backend import LintBackend
    from rustg.gpu.lint.config import load_lint_config
    from rustg.gpu.lint.engine import LintEngine

    config = load_lint_config(root)
    extra: list[Any] = []
    loader = _user_hook("load_user_rules")
    if loader is not None:
        extra = list(loader(config, root))
    try:
        return LintEngine(extra_rules=extra, config=config, backend=LintBackend(backend))
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def render_rules(metas: dict[str, Any], levels: dict[str, Any]) -> Table:
    table = Table("rule", "category", "level", "summary", box=None, pad_edge=False)
    for name in sorted(metas, key=lambda n: (str(metas[n].category), n)):
        m = metas[name]
        table.add_row(name, str(m.category), levels[name].name.lower(), m.summary)
    return table


def cmd_lint(args: argparse.Namespace, console: Console) -> int:
    from rustg.gpu.lint.report import sarif_document, to_diagnostics

    fmt = "json" if args.json else args.format
    root = _root(args)
    simple_run = not (args.fix or args.list_rules or args.explain or args.test_rules)
    if simple_run and fmt != "sarif" and not args.no_daemon:
        from rustg.daemon.lock import is_locked
        from rustg.daemon.workspace import WorkspacePaths

        from .daemon_client import running_daemon

        paths = WorkspacePaths.for_root(root)
        if running_daemon(paths) is not None:
            files = collect_files(root, args.paths)
            code = _lint_through_daemon(paths, files, fmt, console, wait_s=args.daemon_wait)
            if code is not None:
                return code
        elif is_locked(paths.lock_file):  # alive (it holds the lock) but not answering
            sys.stderr.write("cargo g lint: rustgd holds the workspace but did not answer; "
                             "linting without it\n")  # fmt: skip
    engine = _engine(args, root)
    if args.list_rules:
        console.print(render_rules(engine.metas, engine.levels))
        return EXIT_OK
    if args.explain:
        name = args.explain.removeprefix("rustg::")
        meta = engine.metas.get(name)
        if meta is None:
            raise CliError(f"no rule named {name!r} (see --list-rules)", EXIT_USAGE)
        console.print(
            Text(
                f"{meta.name} ({meta.category}, default {meta.default_level.name.lower()})",
                style="bold",
            )
        )
        console.print(Text(meta.summary))
        console.print()
        console.print(Text(meta.docs.rstrip()), highlight=False)
        return EXIT_OK
    if args.test_rules:
        from .lint_rule_tests import test_rules_command

        return test_rules_command(engine.config, root, console, as_json=fmt == "json")
    files = collect_files(root, args.paths)
    sources: dict[str, bytes] = {}
    # Said on stderr: stdout stays one document for --format json/sarif.
    err = Console(stderr=True, highlight=False)
    for rel, path in files.items():
        try:
            content = path.read_bytes()
        except OSError as exc:
            err.print(f"[yellow]skipped[/] {escape(rel)}: {escape(str(exc))}")
            continue
        if (why := _not_lintable(content)) is not None:
            err.print(f"[yellow]skipped[/] {escape(rel)}: {why}")
            continue
        sources[rel] = content
    findings = engine.lint_sources(sources)
    fixed_files = 0
    if args.fix:
        findings, fixed_files = _fix(engine, files, sources, findings, console)
    diags = {p: to_diagnostics(p, sources[p], fs) for p, fs in findings.items() if fs}
    if fmt == "sarif":
        from rustg.daemon.service import daemon_version

        doc = sarif_document(
            diags, engine.metas, version=daemon_version(), root_uri=root.as_uri() + "/"
        )
        console.file.write(json.dumps(doc, indent=2) + "\n")
        return EXIT_FAILURE if _counts(diags)[0] else EXIT_OK
    fixed = f"; fixed {fixed_files} file(s)" if args.fix else ""
    return _print_findings(
        console, fmt, diags, sources=sources, root=root, n_files=len(sources), tail=fixed
    )


def _counts(diags: dict[str, list[Any]]) -> tuple[int, int]:
    """(deny-level findings, warn-level findings): rustg-lint reports them as errors, warnings."""
    from rustg.protocol import Severity

    deny = sum(d.severity is Severity.ERROR for ds in diags.values() for d in ds)
    warn = sum(d.severity is Severity.WARNING for ds in diags.values() for d in ds)
    return deny, warn


def _print_findings(
    console: Console, fmt: str, diags: dict[str, list[Any]], *, sources: dict[str, bytes],
    root: Path, n_files: int, tail: str = "",
) -> int:  # fmt: skip
    """Findings as JSON or for humans (code frames, a summary line ending in ``tail``); the
    exit code: 1 with any deny-level finding. Standalone runs and daemon answers alike."""
    from rustg.gpu.lint.report import json_document

    deny, warn = _counts(diags)
    if fmt == "json":
        console.file.write(json.dumps(json_document(diags), indent=2) + "\n")
    else:
        _human(console, diags, sources, root)
        style = "bold red" if deny else ("bold yellow" if warn else "bold green")
        console.print(f"[{style}]{deny} error(s)[/], {warn} warning(s) in {n_files} file(s){tail}")
    return EXIT_FAILURE if deny else EXIT_OK


def _not_lintable(content: bytes) -> str | None:
    """Why a file is no Rust source to lint (the engine would give it no tokens), or None."""
    from rustg.gpu.tokens import DEFAULT_MAX_FILE_BYTES, FileStatus, file_status_of

    status = file_status_of(content)
    if status is FileStatus.TOO_LARGE:
        limit = DEFAULT_MAX_FILE_BYTES >> 20
        return f"{len(content) / 2**20:.1f} MiB, over the engine's {limit} MiB limit"
    if status is FileStatus.BINARY:
        return "a binary file (it holds a NUL byte), not Rust source"
    return None


def _lint_through_daemon(
    paths: Any, files: dict[str, Path], fmt: str, console: Console, *, wait_s: float
) -> int | None:
    """The daemon's lint results (its lint job keeps the whole workspace linted on every save),
    once it is idle: what a standalone run would print, without linting anything again. None
    when the daemon went away or did not settle within ``wait_s``: the caller lints by itself,
    and this says why."""
    import trio

    from rustg import protocol as p

    from .errors import NoDaemon
    from .follow import settled_state

    def lint_current(state: p.WorkspaceState) -> bool:
        # The lint job ran for the newest save; cargo may still be checking: not waited for.
        job = state.jobs.get("lint")
        return (
            state.pending == 0 and job is not None and job.state.finished
            and job.generation >= state.generation
        )  # fmt: skip

    async def settled() -> p.WorkspaceState | None:
        with trio.move_on_after(wait_s):
            state, _ = await settled_state(paths, 0, lint_current)
            return state
        return None

    got: p.WorkspaceState | None = None
    why = f"no lint results from rustgd within {wait_s:g} s (--daemon-wait)"
    try:
        got = trio.run(settled)
    except NoDaemon as exc:
        why = str(exc)
    if got is None:
        sys.stderr.write(f"cargo g lint: {why}; linting without it\n")
        return None
    state = got
    found = state.diagnostics.get("rustg-lint", {})
    diags = {rel: list(found[rel]) for rel in files if found.get(rel)}
    sources: dict[str, bytes] = {}
    if fmt != "json":  # the code frames' text
        for rel in diags:
            try:
                sources[rel] = files[rel].read_bytes()
            except OSError:
                continue  # deleted since: the frame falls back to file:line
    tail = f" [dim](from rustgd, generation {state.generation})[/]"
    return _print_findings(
        console, fmt, diags, sources=sources, root=paths.root, n_files=len(files), tail=tail
    )


def _human(
    console: Console, diags: dict[str, list[Any]], sources: dict[str, bytes], root: Path
) -> None:
    from .view import render_diagnostic

    def read_lines(path: str) -> list[str] | None:
        src = sources.get(path)
        return None if src is None else src.decode("utf-8", "replace").split("\n")

    for path in sorted(diags):
        for d in diags[path]:
            console.print(render_diagnostic(d, read_lines))
            console.print()


def _fix(
    engine: Any,
    files: dict[str, Path],
    sources: dict[str, bytes],
    findings: dict[str, list[Any]],
    console: Console,
) -> tuple[dict[str, list[Any]], int]:
    """Fix, re-lint, repeat until nothing applies (a fix may uncover another); atomic writes."""
    from rustg.gpu.lint.fix import FileChanged, apply_fixes, write_atomic

    fixed: set[str] = set()
    original = dict(sources)
    for _round in range(8):
        changed = {}
        for path, fs in findings.items():
            if path not in sources or not any(f.fix and f.fix.machine_applicable for f in fs):
                continue
            result = apply_fixes(sources[path], fs)
            if result.applied and result.source != sources[path]:
                changed[path] = result.source
        if not changed:
            break
        for path, new in changed.items():
            sources[path] = new
            fixed.add(path)
        findings = {**findings, **engine.update(changed)}
    written = 0
    for path in sorted(fixed):
        try:
            write_atomic(files[path], sources[path], original[path])
            written += 1
        except FileChanged as exc:
            console.print(f"[yellow]{exc}[/]")
            sources[path] = original[path]
            findings.update(engine.update({path: original[path]}))
    return findings, written
