"""``cargo g tokens FILE`` and ``cargo g items FILE``: what the engine sees in one file.

For users debugging a lint ("why does rustg think this is a lifetime?") and for tests. Both
lex with the engine's backend (one file: the CPU under ``RUSTG_BACKEND=auto``), in the edition
of the file's crate (``package.edition`` of the nearest Cargo.toml; 2021 for a loose file).

``tokens`` prints a table (whitespace rows only with ``--whitespace``), ``--json`` one JSON
document with every token. Exit status: 0, or 1 when the file holds lexical errors (or is
binary or too large: nothing to lex), 2 when it cannot be read.

``items`` is the item index's: it is registered here, and runs
``rustg.gpu.items.items_command(argv, stdout=...) -> int`` (owned by the item index).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Column, Table

from .errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError

#: Characters of token text shown in a table cell.
TEXT_WIDTH = 40


def add_engine_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    handlers: dict[str, Callable[..., int]],
) -> None:
    """Register ``tokens`` and ``items`` on ``cargo g``'s subparsers."""
    tokens = subparsers.add_parser("tokens", help="the engine's tokens of one file")
    tokens.add_argument("file", metavar="FILE", help="a Rust source file")
    tokens.add_argument("--json", action="store_true", help="one JSON document, every token")
    tokens.add_argument("--whitespace", action="store_true", help="table: show whitespace too")
    handlers["tokens"] = cmd_tokens

    items = subparsers.add_parser("items", help="the engine's item index of one file")
    items.add_argument("file", metavar="FILE", help="a Rust source file")
    items.add_argument("--json", action="store_true", help="one JSON document")
    handlers["items"] = cmd_items


def cmd_items(args: argparse.Namespace, console: Console) -> int:
    """Hook: the item index provides ``items_command(argv, stdout=...) -> int``."""
    try:
        from rustg.gpu.items import items_command
    except ImportError as exc:
        raise CliError(f"the item index is not available: {exc}", EXIT_USAGE) from None
    argv = [args.file, *(["--json"] if args.json else [])]
    code: int = items_command(argv, stdout=cast(TextIO, console.file), width=console.width)
    return code


def token_document(path: str, source: bytes) -> dict[str, Any]:
    """The ``--json`` document for one file's source bytes."""
    from rustg.gpu.backend import get_backend
    from rustg.gpu.editions import edition_of_file
    from rustg.gpu.tokens import (
        FileStatus,
        Keyword,
        TokenKind,
        is_error,
        joint,
        line_columns,
        token_line_columns,
    )

    # The file's crate edition (Cargo.toml above it; 2021 for a loose file).
    edition = edition_of_file(path)
    arrays = get_backend().lex_bytes(source, editions=edition)
    status = FileStatus(int(arrays.file_status[0]))
    line, col, end_line, end_col = token_line_columns(arrays)
    spacing = joint(arrays)
    tokens = []
    for i in range(len(arrays)):
        kind = TokenKind(int(arrays.kind[i]))
        kw = int(arrays.keyword[i])
        tokens.append(
            {
                "kind": kind.name,
                "text": arrays.text(i).decode("utf-8", "replace"),
                "start": int(arrays.start[i]),
                "end": int(arrays.end[i]),
                "line": int(line[i]),
                "column": int(col[i]),
                "end_line": int(end_line[i]),
                "end_column": int(end_col[i]),
                "keyword": Keyword(kw).name.lower() if kw else None,
                "joint": bool(spacing[i]),
                "error": bool(is_error(kind)),
            }
        )
    bad = int(arrays.file_utf8_error[0])
    utf8_error = None
    if bad >= 0:
        bl, bc = line_columns(arrays.buffer, arrays.file_offsets, np.array([bad]))
        utf8_error = {"offset": bad, "line": int(bl[0]), "column": int(bc[0])}
    return {
        "file": path,
        "status": status.name.lower(),
        "bytes": len(source),
        "edition": int(edition),
        "utf8_error": utf8_error,
        "errors": sum(t["error"] for t in tokens),
        "tokens": tokens,
    }


def render_tokens(doc: dict[str, Any], *, whitespace: bool = False) -> Table:
    table = Table(
        Column("#", justify="right", no_wrap=True),
        Column("kind", no_wrap=True),
        Column("at", no_wrap=True),
        Column("text", no_wrap=True, overflow="ellipsis", max_width=TEXT_WIDTH),
        Column("keyword", no_wrap=True),
        box=box.SIMPLE,
    )
    for i, t in enumerate(doc["tokens"]):
        if t["kind"] == "WHITESPACE" and not whitespace:
            continue
        kind = f"[bold red]{t['kind']}[/]" if t["error"] else t["kind"]
        text = t["text"].encode("unicode_escape").decode("ascii")[:TEXT_WIDTH]
        table.add_row(
            str(i), kind, f"{t['line']}:{t['column']}", text, t["keyword"] or "", end_section=False
        )
    return table


def cmd_tokens(args: argparse.Namespace, console: Console) -> int:
    path = Path(args.file)
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    doc = token_document(str(path), source)
    if args.json:
        console.file.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    elif doc["status"] != "ok":
        console.print(f"{path}: not lexed ({doc['status'].replace('_', ' ')})", soft_wrap=True)
    else:
        summary = f"{path}: {len(doc['tokens'])} tokens, {doc['errors']} lexical error(s)"
        console.print(summary, soft_wrap=True)
        console.print(render_tokens(doc, whitespace=args.whitespace))
        if doc["utf8_error"]:
            e = doc["utf8_error"]
            console.print(f"[red]invalid UTF-8 at {path}:{e['line']}:{e['column']}[/]")
    failed = doc["status"] != "ok" or doc["errors"] or doc["utf8_error"]
    return EXIT_FAILURE if failed else EXIT_OK
