"""``cargo g cache stats | gc | verify``: look after the workspace's build cache.

The cache lives in the workspace's state directory (``<state_dir>/cache``, LMDB), plus Redis
when configured (docs/cache.md). These commands open it directly: LMDB lets them run while the
daemon uses the same cache (one writer at a time, readers never blocked).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import msgspec
from rich import box
from rich.console import Console
from rich.table import Column, Table

from rustg.daemon.cache import Cache, CacheStats, GcReport, VerifyReport, parse_size
from rustg.daemon.cache.config import load_cache_config

from .daemon_client import add_workspace_options, resolve_paths
from .errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _size_arg(text: str) -> int:
    try:
        return parse_size(text, "--max-size")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _open(args: argparse.Namespace) -> Cache:
    paths = resolve_paths(args.workspace)
    return Cache.open(paths, load_cache_config(paths.root))


def _emit_json(console: Console, document: Any) -> None:
    console.file.write(json.dumps(msgspec.to_builtins(document), indent=2) + "\n")


def render_stats(stats: CacheStats) -> Table:
    """One row per tier; where each tier lives goes under the table (paths are long)."""
    numbers = ("hits", "misses", "corrupt", "errors", "actions", "blobs", "size")  # fills: --json
    table = Table(
        Column("tier", no_wrap=True),
        Column("state", no_wrap=True),
        *(Column(n, justify="right", no_wrap=True) for n in numbers),
        title="cargo g cache stats", box=box.SIMPLE_HEAD, collapse_padding=True,
    )  # fmt: skip
    colours = {"ok": "green", "down": "red", "error": "red", "probing": "yellow"}
    for row in stats.tiers:
        table.add_row(
            row.tier,
            f"[{colours.get(row.state, 'white')}]{row.state}[/]",
            str(row.hits),
            str(row.misses),
            str(row.corrupt_repaired),
            str(row.errors + row.skipped),
            "-" if row.actions is None else str(row.actions),
            "-" if row.blobs is None else str(row.blobs),
            human_size(row.bytes),
        )
    return table


def cmd_cache_stats(args: argparse.Namespace, console: Console) -> int:
    with _open(args) as cache:
        stats = cache.stats()
    if args.json:
        _emit_json(console, stats)
        return EXIT_OK
    console.print(render_stats(stats))
    for row in stats.tiers:
        console.print(f"  {row.tier}: {row.where}", highlight=False, markup=False)
    rate = "-" if stats.hit_rate is None else f"{stats.hit_rate:.1%}"
    console.print(
        f"{stats.lookups} lookups, {stats.hits} hits, {stats.misses} misses "
        f"(hit rate {rate}); {stats.puts} puts ({human_size(stats.put_bytes)} of outputs)"
    )
    for row in stats.tiers:
        if row.last_error:
            console.print(f"[yellow]{row.tier}: {row.last_error}[/]", markup=True)
    return EXIT_OK


def render_gc(report: GcReport) -> str:
    return (
        f"cache gc to {human_size(report.max_size)}: {human_size(report.bytes_before)} → "
        f"{human_size(report.bytes_after)}; removed {report.actions_removed} entries, "
        f"{report.blobs_removed} unreferenced blobs, {report.corrupt_removed} corrupt entries"
    )


def cmd_cache_gc(args: argparse.Namespace, console: Console) -> int:
    paths = resolve_paths(args.workspace)
    config = load_cache_config(paths.root)
    max_size = args.max_size if args.max_size is not None else config.max_size
    if max_size is None:
        raise CliError(
            "cache gc needs --max-size SIZE (e.g. 500M, 2G), or max_size in the cache "
            "configuration (docs/cache.md)",
            EXIT_USAGE,
        )
    with Cache.open(paths, config) as cache:
        report = cache.gc(max_size)
    if args.json:
        _emit_json(console, report)
    else:
        console.print(render_gc(report), highlight=False, markup=False)
    return EXIT_OK


def render_verify(report: VerifyReport) -> Table:
    numbers = ("blobs", "corrupt blobs", "actions", "corrupt actions", "dangling actions")
    table = Table(
        Column("tier", no_wrap=True),
        *(Column(n, justify="right", no_wrap=True) for n in numbers),
        title="cargo g cache verify", box=box.SIMPLE_HEAD, collapse_padding=True,
    )  # fmt: skip
    for row in report.tiers:
        table.add_row(
            row.tier,
            str(row.blobs_checked),
            str(row.blobs_corrupt),
            str(row.actions_checked),
            str(row.actions_corrupt),
            str(row.actions_dangling),
        )
    return table


def cmd_cache_verify(args: argparse.Namespace, console: Console) -> int:
    with _open(args) as cache:
        report = cache.verify(remote=args.remote)
    if args.json:
        _emit_json(console, {"tiers": report.tiers, "problems": report.problems})
    else:
        console.print(render_verify(report))
        if report.problems:
            console.print(f"[yellow]{report.problems} problem(s) found and removed[/]")
        for row in report.tiers:
            if row.error:
                console.print(f"[red]{row.tier}: not checked: {row.error}[/]")
    errors = any(row.error for row in report.tiers)
    if not args.json and not report.problems and not errors:
        console.print("[green]every blob and entry checked out[/]")
    return EXIT_FAILURE if report.problems or errors else EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "stats": cmd_cache_stats,
    "gc": cmd_cache_gc,
    "verify": cmd_cache_verify,
}


def cmd_cache(args: argparse.Namespace, console: Console) -> int:
    return _COMMANDS[args.cache_command](args, console)


def add_cache_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    handlers: dict[str, Callable[..., int]],
) -> None:
    """Register ``cache stats|gc|verify`` on ``cargo g``'s subparsers; ``handlers["cache"]``
    dispatches on ``args.cache_command``."""
    cache = subparsers.add_parser("cache", help="the build cache: stats, gc, verify")
    sub = cache.add_subparsers(dest="cache_command", required=True, metavar="{stats,gc,verify}")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help)
        add_workspace_options(cmd)
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        return cmd

    add("stats", "hits and misses per tier, entries, sizes, hit rate, remote health")
    gc = add("gc", "evict least recently used entries until the local cache fits")
    gc.add_argument(
        "--max-size", metavar="SIZE", type=_size_arg, default=None,
        help="target size of the local cache, e.g. 500M or 2G (default: max_size from config)",
    )  # fmt: skip
    verify = add("verify", "re-hash every blob; remove corrupt ones")
    verify.add_argument("--remote", action="store_true", help="check the Redis tier too")
    handlers["cache"] = cmd_cache
