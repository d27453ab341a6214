"""rustg-lsp's pure parts: framing, UTF-16 columns, diagnostic conversion, lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rustg import protocol as p
from rustg.cli.lsp import LspFramer, Server, to_lsp_diagnostic, utf16_column
from rustg.protocol import Diagnostic, DiagnosticsPublished, Severity, WorkspaceState

#: An astral-plane letter (two UTF-16 units) and a Latin-1 one.
WIDE_LINE = "let \U0001d538 = \u00e9;"


def test_framer_handles_split_and_coalesced_messages() -> None:
    one = LspFramer.encode({"jsonrpc": "2.0", "id": 1, "method": "initialize"})
    two = LspFramer.encode({"jsonrpc": "2.0", "method": "initialized", "params": {"x": "é"}})
    framer = LspFramer()
    assert framer.feed(one[:7]) == []
    assert framer.feed(one[7:] + two[:20]) == [{"jsonrpc": "2.0", "id": 1, "method": "initialize"}]
    assert framer.feed(two[20:])[0]["params"] == {"x": "é"}
    with pytest.raises(ValueError, match="Content-Length"):
        LspFramer().feed(b"X-Other: 1\r\n\r\n{}")


def test_columns_are_converted_to_utf16() -> None:
    line = WIDE_LINE  # the astral letter is two UTF-16 units, é one
    assert utf16_column(line, 1) == 0
    assert utf16_column(line, 5) == 4  # before the astral letter
    assert utf16_column(line, 6) == 6  # after it
    assert utf16_column(None, 6) == 5  # source unavailable: best effort


def diag(file: str = "src/lib.rs") -> Diagnostic:
    return Diagnostic(
        source="rustc", severity=Severity.ERROR, message="mismatched types", file=file,
        line=1, column=9, end_line=1, end_column=10, code="E0308",
    )  # fmt: skip


def test_diagnostic_conversion() -> None:
    converted = to_lsp_diagnostic(diag(), [WIDE_LINE])
    assert converted == {
        "range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 10}},
        "severity": 1, "source": "rustc", "message": "mismatched types", "code": "E0308",
    }  # fmt: skip


def test_lifecycle_and_publishing(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "x"\nversion = "0.1.0"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(WIDE_LINE + "\n")
    sent: list[dict[str, Any]] = []
    server = Server(sent.append)
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"rootUri": tmp_path.as_uri()}}  # fmt: skip
    assert server.handle(init) == "initialized"
    assert sent[-1]["result"]["serverInfo"]["name"] == "rustg-lsp"
    assert server.handle({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover"}) is None
    assert sent[-1]["error"]["code"] == -32601  # honest: not supported
    state = WorkspaceState()
    state.apply(DiagnosticsPublished(seq=1, source="rustc", generation=1,
                                     files={"src/lib.rs": [diag()]}))  # fmt: skip
    server.publish(state)
    published = sent[-1]["params"]
    assert published["uri"] == (tmp_path / "src" / "lib.rs").as_uri()
    assert published["diagnostics"][0]["range"]["start"]["character"] == 9
    state.apply(DiagnosticsPublished(seq=2, source="rustc", generation=2, replace_all=True))
    server.publish(state)
    assert sent[-1]["params"]["diagnostics"] == []  # cleared in the editor too
    count = len(sent)
    server.publish(state)
    assert len(sent) == count  # nothing new to say
    assert server.handle({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}) is None
    assert server.handle({"jsonrpc": "2.0", "method": "exit"}) == "exit"


def _initialized(tmp_path: Path) -> tuple[Server, list[dict[str, Any]]]:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "x"\nversion = "0.1.0"\n')
    sent: list[dict[str, Any]] = []
    server = Server(sent.append)
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"rootUri": tmp_path.as_uri()}}  # fmt: skip
    server.handle(init)
    caps = sent[-1]["result"]["capabilities"]
    assert caps["documentFormattingProvider"] is True
    assert caps["textDocumentSync"]["change"] == 1  # full text: formatting sees the buffer
    return server, sent


def test_formatting_uses_the_editors_buffer_and_answers_with_line_edits(tmp_path: Path) -> None:
    server, sent = _initialized(tmp_path)
    uri = (tmp_path / "src" / "lib.rs").as_uri()
    doc = {"uri": uri, "languageId": "rust", "version": 1, "text": "fn a(){}\n"}
    server.handle({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                   "params": {"textDocument": doc}})  # fmt: skip
    change = {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"text": "fn b(){}\n"}],
    }
    server.handle({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": change})
    request = {"jsonrpc": "2.0", "id": 7, "method": "textDocument/formatting",
               "params": {"textDocument": {"uri": uri}, "options": {"tabSize": 4}}}  # fmt: skip
    assert server.handle(request) == "format"
    (job,) = server.format_jobs
    assert (job.request_id, job.file, job.content) == (7, "src/lib.rs", "fn b(){}\n")
    edit = p.TextEdit(start_line=0, end_line=1, new_text="fn b() {}\n")
    server.finish_format(job, p.FormatReply(file=job.file, outcome="changed", edits=[edit]))
    assert sent[-1] == {"jsonrpc": "2.0", "id": 7, "result": [{
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
        "newText": "fn b() {}\n",
    }]}  # fmt: skip
    server.finish_format(job, p.FormatReply(file=job.file, outcome="unchanged"))
    assert sent[-1]["result"] == []
    failed = p.FormatReply(file=job.file, outcome="rustfmt-failed", message="expected `{`")
    server.finish_format(job, failed)
    assert sent[-1]["error"] == {
        "code": -32803,
        "message": "rustg format: rustfmt-failed: expected `{`",
    }
    server.finish_format(job, "no daemon answered")
    assert sent[-1]["error"]["message"] == "no daemon answered"
    server.handle({"jsonrpc": "2.0", "method": "textDocument/didClose",
                   "params": {"textDocument": {"uri": uri}}})  # fmt: skip
    server.handle({**request, "id": 8})
    assert server.format_jobs[-1].content is None  # closed: the file on disk


def test_formatting_outside_the_workspace_is_an_invalid_request(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    server, sent = _initialized(tmp_path / "ws")
    request = {"jsonrpc": "2.0", "id": 9, "method": "textDocument/formatting",
               "params": {"textDocument": {"uri": (tmp_path / "other.rs").as_uri()}}}  # fmt: skip
    assert server.handle(request) is None
    assert sent[-1]["error"]["code"] == -32602 and not server.format_jobs
