"""An editor's formatting round trip through a real rustg-lsp process and a real rustgd: the
edits of the unsaved buffer, applied as an editor applies them, give rustfmt's output."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rustg.cli.lsp import LspFramer
from tests.e2e.conftest import DaemonHarness

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
LIB = "crates/app/src/lib.rs"


def apply_line_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """As an editor does: every edit's range refers to the text before any edit (LSP)."""
    lines = text.splitlines(keepends=True)
    for e in sorted(edits, key=lambda e: e["range"]["start"]["line"], reverse=True):
        start, end = e["range"]["start"], e["range"]["end"]
        assert start["character"] == 0 and end["character"] == 0
        lines[start["line"] : end["line"]] = [e["newText"]]
    return "".join(lines)


class Editor:
    def __init__(self, workspace: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "rustg-lsp")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            cwd=workspace,
        )  # fmt: skip
        self.framer = LspFramer()
        self.inbox: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(LspFramer.encode({"jsonrpc": "2.0", **message}))
        self.proc.stdin.flush()

    def reply_to(self, request_id: int, timeout: float = 60) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.inbox:
                if m.get("id") == request_id and "method" not in m:
                    return m
            data = self.proc.stdout.read1(1 << 16)
            if not data:
                break
            self.inbox.extend(self.framer.feed(data))
        raise AssertionError(f"no reply to {request_id}: {json.dumps(self.inbox)[:2000]}")

    def close(self) -> None:
        self.send({"id": 99, "method": "shutdown"})
        self.send({"method": "exit"})
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


def test_editor_formats_its_unsaved_buffer_through_the_daemon(
    example_daemon: DaemonHarness,
) -> None:
    h = example_daemon
    h.start()
    h.once()
    on_disk = (h.workspace / LIB).read_text()
    buffer = on_disk + "\npub fn   added_in_the_editor ( a:u32 )->u32{a+1}\n"
    editor = Editor(h.workspace, h.env)
    try:
        uri = (h.workspace / LIB).as_uri()
        editor.send({"id": 1, "method": "initialize", "params": {"rootUri": h.workspace.as_uri()}})
        assert editor.reply_to(1)["result"]["capabilities"]["documentFormattingProvider"]
        editor.send({"method": "initialized", "params": {}})
        doc = {"uri": uri, "languageId": "rust", "version": 1, "text": buffer}
        editor.send({"method": "textDocument/didOpen", "params": {"textDocument": doc}})
        params = {"textDocument": {"uri": uri}, "options": {"tabSize": 4}}
        editor.send({"id": 2, "method": "textDocument/formatting", "params": params})
        reply = editor.reply_to(2)
        assert "result" in reply, reply
        formatted = apply_line_edits(buffer, reply["result"])
        expected = subprocess.run(
            ["rustfmt", "--edition", "2021", "--emit", "stdout", "--quiet"],
            input=buffer, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert formatted == expected
        assert "pub fn added_in_the_editor(a: u32) -> u32 {" in formatted
        assert (h.workspace / LIB).read_text() == on_disk  # nothing written: edits only
    finally:
        editor.close()
