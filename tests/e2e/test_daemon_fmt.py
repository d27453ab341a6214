"""The daemon's format check on save and its ``format`` request, with a real rustgd."""

from __future__ import annotations

import time
from typing import Any

import pytest
import zmq

from rustg import protocol as p
from tests.e2e.conftest import DaemonHarness

pytestmark = pytest.mark.slow

LIB = "crates/app/src/lib.rs"
UNFORMATTED = "pub fn   spaced ( a:u32 )->u32{a+1}\n"
FORMATTED = "pub fn spaced(a: u32) -> u32 {\n    a + 1\n}\n"


def fmt_diagnostics(doc: dict[str, Any], file: str) -> list[dict[str, Any]]:
    return [d for d in doc["diagnostics"] if d["source"] == "rustg-fmt" and d["file"] == file]


def request(h: DaemonHarness, message: p.Request) -> p.AnyReply:
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.RCVTIMEO, 30_000)
        sock.connect(f"ipc://{h.runtime_dir / 'requests.sock'}")
        sock.send(p.encode(message))
        reply = p.decode_reply(sock.recv())
        sock.close(linger=0)
        return reply
    finally:
        ctx.term()


def test_save_streams_would_reformat_and_format_request_returns_edits(
    example_daemon: DaemonHarness,
) -> None:
    h = example_daemon
    h.start()
    first = h.once()
    rel = "crates/app/src/fmt_probe.rs"
    h.write(rel, UNFORMATTED)
    deadline = time.monotonic() + 60
    diags: list[dict[str, Any]] = []
    generation = first["generation"] + 1
    while time.monotonic() < deadline and not diags:
        doc = h.once(after_generation=generation)
        diags = fmt_diagnostics(doc, rel)
        generation = doc["generation"]
    assert len(diags) == 1, diags
    diag = diags[0]
    assert diag["severity"] == "info" and diag["code"] == "would-reformat"
    assert "+pub fn spaced(a: u32) -> u32 {" in diag["rendered"]
    assert diag["suggestions"][0]["replacement"] == FORMATTED
    # The daemon never writes: the file is as we left it.
    assert (h.workspace / rel).read_text() == UNFORMATTED

    # The format request: the buffer's content, not the disk's, is formatted.
    reply = request(h, p.FormatRequest(id=7, file=rel, content="fn  f(){}\n"))
    assert isinstance(reply, p.FormatReply), reply
    assert reply.outcome == "changed"
    assert reply.edits == [p.TextEdit(start_line=0, end_line=1, new_text="fn f() {}\n")]
    reply = request(h, p.FormatRequest(id=8, file=rel))
    assert isinstance(reply, p.FormatReply) and reply.outcome == "changed"
    assert "".join(e.new_text for e in reply.edits) == FORMATTED

    # Formatting the file clears its diagnostic.
    h.write(rel, FORMATTED)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doc = h.once(after_generation=generation + 1)
        generation = doc["generation"]
        if not fmt_diagnostics(doc, rel):
            break
    assert fmt_diagnostics(doc, rel) == []
    assert (h.workspace / rel).read_text() == FORMATTED


def test_format_request_outside_workspace_is_refused(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    h.start()
    reply = request(h, p.FormatRequest(id=1, file="../../etc/passwd.rs"))
    assert isinstance(reply, p.FormatReply) and reply.outcome == "unreadable"
    assert reply.edits == []
