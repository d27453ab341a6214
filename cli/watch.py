"""``rg-watch``: the live terminal feed of a workspace daemon.

rg-watch                  live rich view (plain lines when stdout is not a terminal)
rg-watch --json           one JSON object per event, one per line (first: the snapshot)
rg-watch --once --json    wait until the daemon is idle, print the snapshot as one document
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import trio
from rich.console import Console
from rich.live import Live

from rustg import protocol as p

from .daemon_client import add_tcp_options, resolve_paths, use_tcp
from .errors import EXIT_OK, CliError, main_wrapper
from .follow import Update, follow, settled_state


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rg-watch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", metavar="DIR", help="workspace root (default: around cwd)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--once", action="store_true", help="print the settled state and exit")
    parser.add_argument(
        "--after-generation", type=int, default=0, metavar="N",
        help="with --once: wait until generation N or newer has settled",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="with --once: give up after S seconds"
    )
    add_tcp_options(parser)
    return parser


def snapshot_document(state: p.WorkspaceState, info: p.DaemonInfo | None) -> dict[str, Any]:
    """The ``--once --json`` document (docs/protocol.md, "rg-watch --once")."""
    return {
        "workspace": info.workspace if info else None,
        "daemon_pid": info.pid if info else None,
        "generation": state.generation,
        "seq": state.seq,
        "idle": not state.busy,
        "restored": state.restored,
        "jobs": {name: job.state.value for name, job in sorted(state.jobs.items())},
        "job_details": [msgspec.to_builtins(job) for _, job in sorted(state.jobs.items())],
        "counts": state.counts(),
        "diagnostics": [msgspec.to_builtins(d) for d in state.iter_diagnostics()],
    }


def run_once(paths: Any, after_generation: int, timeout: float) -> int:
    result: dict[str, Any] = {}

    async def main() -> None:
        with trio.fail_after(timeout):
            state, info = await settled_state(paths, after_generation)
        result.update(snapshot_document(state, info))

    try:
        trio.run(main)
    except trio.TooSlowError:
        raise CliError(f"the daemon did not settle within {timeout:g} s") from None
    print(json.dumps(result, indent=2))
    return EXIT_OK


def run_json_stream(paths: Any) -> int:
    def on_update(update: Update) -> bool:
        if update.synced and update.state is not None:
            doc = {"type": "snapshot", **snapshot_document(update.state, update.info)}
            print(json.dumps(doc), flush=True)
        elif update.event is not None:
            print(msgspec.json.encode(update.event).decode(), flush=True)
        elif not update.connected:
            print(json.dumps({"type": "disconnected"}), flush=True)
        return False

    trio.run(follow, paths, on_update)
    return EXIT_OK


def _read_lines(root: Path) -> Any:
    def read(rel: str) -> list[str] | None:
        try:
            return (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None

    return read


def run_live(paths: Any, console: Console) -> int:
    from . import view

    read_lines = _read_lines(paths.root)
    if not console.is_terminal:

        def on_plain(update: Update) -> bool:
            if update.synced and update.state is not None:
                for diag in update.state.iter_diagnostics():
                    console.print(view.plain_diagnostic_line(diag), highlight=False)
            elif update.event is not None:
                for line in view.render_plain_lines(update.event):
                    console.print(line, highlight=False)
            elif not update.connected:
                console.print("rg-watch: daemon not reachable; waiting for it", highlight=False)
            return False

        trio.run(follow, paths, on_plain)
        return EXIT_OK

    latest: list[Update | None] = [None]

    async def main() -> None:
        changed = trio.Event()

        def on_update(update: Update) -> bool:
            latest[0] = update
            changed.set()
            return False

        with Live(console=console, auto_refresh=False, transient=False) as live:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(follow, paths, on_update)
                while True:
                    # Redraw on change, and at 10 Hz while something runs (spinners, durations);
                    # idle, nothing wakes us but the daemon.
                    update = latest[0]
                    busy = update is not None and update.state is not None and update.state.busy
                    with trio.move_on_after(0.1 if busy else math.inf):
                        await changed.wait()
                    changed = trio.Event()
                    update = latest[0]
                    live.update(
                        view.render_view(
                            update.state if update else None,
                            update.info if update else None,
                            connection="live" if update and update.connected else "waiting",
                            now=time.time(),
                            read_lines=read_lines,
                        ),
                        refresh=True,
                    )

    trio.run(main)
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_tcp(args.tcp, args.server_key)
    paths = resolve_paths(args.workspace)
    if args.once:
        return run_once(paths, args.after_generation, args.timeout)
    if args.json:
        return run_json_stream(paths)
    return run_live(paths, Console())


def main() -> None:
    main_wrapper("rg-watch", run)


if __name__ == "__main__":
    sys.exit(main())  # type: ignore[func-returns-value]
