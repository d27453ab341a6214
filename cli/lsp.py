"""``rustg-lsp``: a Language Server Protocol bridge from the daemon to editors.

What it does: publishes the daemon's diagnostics (rustc, clippy, rustg-syntax, rustg-lint,
rustg-fmt ...) as ``textDocument/publishDiagnostics``, live, with positions converted to LSP's
UTF-16 columns; answers ``textDocument/formatting`` through the daemon's ``format`` request
(rustfmt-identical edits of the editor's buffer, which it tracks through full-text sync; the
daemon never writes the file); and the lifecycle requests (initialize, shutdown, exit). It starts
a daemon for the workspace when none runs. Requests it does not implement get the standard
``MethodNotFound`` error, so an editor knows rather than waits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import trio

from rustg import protocol as p
from rustg.daemon.workspace import WorkspacePaths, find_workspace_root

from .daemon_client import request_format
from .errors import EXIT_OK, CliError, main_wrapper
from .follow import Update, follow

METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
REQUEST_FAILED = -32803  # LSP 3.17: the request was valid and failed (e.g. rustfmt could not parse)
SEVERITY = {"error": 1, "warning": 2, "info": 3, "note": 3, "help": 4}


class LspFramer:
    """Sans-I/O Content-Length framing: feed bytes, get JSON messages."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        messages: list[dict[str, Any]] = []
        while True:
            head, sep, rest = self._buffer.partition(b"\r\n\r\n")
            if not sep:
                return messages
            length = None
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is None:
                raise ValueError("LSP header without Content-Length")
            if len(rest) < length:
                return messages
            body, self._buffer = rest[:length], rest[length:]
            messages.append(json.loads(body))

    @staticmethod
    def encode(message: dict[str, Any]) -> bytes:
        body = json.dumps(message, separators=(",", ":")).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body


def utf16_column(line_text: str | None, column: int) -> int:
    """rustc columns count Unicode scalar values (1-based); LSP counts UTF-16 units (0-based)."""
    if line_text is None:
        return column - 1
    prefix = line_text[: column - 1]
    return len(prefix.encode("utf-16-le")) // 2


def to_lsp_diagnostic(diag: p.Diagnostic, lines: list[str] | None) -> dict[str, Any]:
    def line_at(n: int) -> str | None:
        return lines[n - 1] if lines and 0 < n <= len(lines) else None

    result: dict[str, Any] = {
        "range": {
            "start": {
                "line": diag.line - 1,
                "character": utf16_column(line_at(diag.line), diag.column),
            },
            "end": {
                "line": diag.end_line - 1,
                "character": utf16_column(line_at(diag.end_line), diag.end_column),
            },
        },
        "severity": SEVERITY.get(diag.severity.value, 3),
        "source": diag.source,
        "message": diag.message,
    }
    if diag.code:
        result["code"] = diag.code
    return result


def to_lsp_edits(edits: list[p.TextEdit]) -> list[dict[str, Any]]:
    """Whole-line edits (the protocol's) as LSP TextEdits: line starts only, so no UTF-16."""
    return [
        {
            "range": {
                "start": {"line": e.start_line, "character": 0},
                "end": {"line": e.end_line, "character": 0},
            },
            "newText": e.new_text,
        }
        for e in edits
    ]


@dataclass(frozen=True, slots=True)
class FormatJob:
    """A ``textDocument/formatting`` request waiting for the daemon (I/O is the caller's)."""

    request_id: Any
    file: str  # workspace-relative
    content: str | None  # the editor's buffer; None: not open here, the file on disk


class Server:
    def __init__(self, send: Any) -> None:
        self._send = send
        self.root: Path | None = None
        self.shutdown_requested = False
        self.published: dict[str, int] = {}  # file -> how many diagnostics the editor has
        self.documents: dict[str, str] = {}  # uri -> the editor's text (full sync)
        self.format_jobs: list[FormatJob] = []  # taken by the I/O loop after handle()

    def _relative(self, uri: str) -> str | None:
        if self.root is None or not uri.startswith("file:"):
            return None
        try:
            return Path(unquote(urlparse(uri).path)).relative_to(self.root).as_posix()
        except ValueError:
            return None  # outside this workspace

    def finish_format(self, job: FormatJob, reply: p.FormatReply | str) -> None:
        """Answer a format job with the daemon's reply, or with why there is none."""
        if isinstance(reply, str):
            self.reply(job.request_id, error={"code": REQUEST_FAILED, "message": reply})
        elif reply.outcome == "unchanged":
            self.reply(job.request_id, [])
        elif reply.outcome == "changed":
            self.reply(job.request_id, to_lsp_edits(reply.edits))
        else:  # rustfmt-failed, internal-error, unreadable: say so, change nothing
            message = f"rustg format: {reply.outcome}: {reply.message}".rstrip(": ")
            self.reply(job.request_id, error={"code": REQUEST_FAILED, "message": message})

    def reply(
        self, request_id: Any, result: Any = None, error: dict[str, Any] | None = None
    ) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        self._send(message)

    def handle(self, message: dict[str, Any]) -> str | None:
        """Returns "exit" when the client asked us to exit, "initialized" after initialize."""
        method = message.get("method")
        request_id = message.get("id")
        if method == "initialize":
            params = message.get("params") or {}
            uri = params.get("rootUri") or (params.get("workspaceFolders") or [{}])[0].get("uri")
            path = Path(unquote(urlparse(uri).path)) if uri else Path(params.get("rootPath") or ".")
            self.root = find_workspace_root(path)
            self.reply(request_id, {
                "capabilities": {
                    "textDocumentSync": {"openClose": True, "change": 1},  # full text
                    "documentFormattingProvider": True,
                },
                "serverInfo": {"name": "rustg-lsp", "version": "0.1.0"},
            })  # fmt: skip
            return "initialized"
        params = message.get("params") or {}
        document = params.get("textDocument") or {}
        if method == "textDocument/didOpen":
            self.documents[document.get("uri", "")] = document.get("text", "")
            return None
        if method == "textDocument/didChange":
            changes = params.get("contentChanges") or []
            if changes and "range" not in changes[-1]:  # full sync: the last one is the text
                self.documents[document.get("uri", "")] = changes[-1].get("text", "")
            return None
        if method == "textDocument/didClose":
            self.documents.pop(document.get("uri", ""), None)
            return None
        if method == "textDocument/formatting" and request_id is not None:
            uri = document.get("uri", "")
            rel = self._relative(uri)
            if rel is None:
                error = {"code": INVALID_PARAMS, "message": f"{uri} is not in this workspace"}
                self.reply(request_id, error=error)
                return None
            self.format_jobs.append(FormatJob(request_id, rel, self.documents.get(uri)))
            return "format"
        if method == "shutdown":
            self.shutdown_requested = True
            self.reply(request_id, None)
            return None
        if method == "exit":
            return "exit"
        if request_id is not None and method is not None:
            unsupported = f"{method} is not supported by rustg-lsp"
            self.reply(request_id, error={"code": METHOD_NOT_FOUND, "message": unsupported})
        return None  # notifications we do not need (didOpen, didSave ...) are ignored

    def publish(self, state: p.WorkspaceState) -> None:
        assert self.root is not None
        by_file = state.by_file()
        for file in sorted(set(by_file) | set(self.published)):
            diags = by_file.get(file, [])
            if not diags and not self.published.get(file):
                continue
            try:
                lines = (
                    (self.root / file).read_text(encoding="utf-8", errors="replace").splitlines()
                )
            except OSError:
                lines = None
            self._send({
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": {
                    "uri": (self.root / file).as_uri(),
                    "diagnostics": [to_lsp_diagnostic(d, lines) for d in diags],
                },
            })  # fmt: skip
            self.published[file] = len(diags)


def _ensure_daemon(root: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "rustg.cli.rustgd", "start", "--workspace", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )  # fmt: skip


async def serve_stdio() -> None:
    stdin = trio.lowlevel.FdStream(os.dup(0))
    stdout = trio.lowlevel.FdStream(os.dup(1))
    outgoing, pending = trio.open_memory_channel[dict[str, Any]](1000)
    server = Server(outgoing.send_nowait)
    framer = LspFramer()

    async def writer() -> None:
        async for message in pending:
            await stdout.send_all(LspFramer.encode(message))

    def on_update(update: Update) -> bool:
        if update.state is not None:
            server.publish(update.state)
        return False

    async def format_one(job: FormatJob) -> None:
        assert server.root is not None
        try:
            reply: p.FormatReply | str = await request_format(
                WorkspacePaths.for_root(server.root), job.file, job.content
            )
        except CliError as exc:  # no daemon, a refused request: the editor is told why
            reply = str(exc)
        server.finish_format(job, reply)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer)
        while data := await stdin.receive_some(1 << 16):
            for message in framer.feed(data):
                outcome = server.handle(message)
                if outcome == "format":
                    while server.format_jobs:
                        nursery.start_soon(format_one, server.format_jobs.pop(0))
                elif outcome == "initialized" and server.root is not None:
                    await trio.to_thread.run_sync(_ensure_daemon, server.root)
                    nursery.start_soon(follow, WorkspacePaths.for_root(server.root), on_update)
                elif outcome == "exit":
                    nursery.cancel_scope.cancel()
                    return
        nursery.cancel_scope.cancel()


def run(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return EXIT_OK
    trio.run(serve_stdio)
    return EXIT_OK


def main() -> None:
    main_wrapper("rustg-lsp", run)


if __name__ == "__main__":
    main()
