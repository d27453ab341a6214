"""The issue's edit loop, end to end with real processes: rustgd, rg-watch, cargo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import msgspec
import pytest
import zmq

from rustg import protocol as p
from rustg.cli.daemon_client import ANSWER_LIVE_S
from tests.e2e.conftest import BIN, DaemonHarness
from tests.support.rust_workspaces import copy_example, copy_regex, require_regex

pytestmark = pytest.mark.slow

LIB = "crates/app/src/lib.rs"
BROKEN = '\npub fn broken_{n}() -> u32 {{\n    "not a number"\n}}\n'


def errors(doc: dict[str, object]) -> list[tuple[str, int, str | None]]:
    diags = doc["diagnostics"]
    assert isinstance(diags, list)
    return [(d["file"], d["line"], d["code"]) for d in diags if d["severity"] == "error"]


def test_type_error_appears_with_position_then_clears(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    h.start()
    clean = h.once()
    assert clean["jobs"]["check"] == "succeeded" and errors(clean) == []
    original = (h.workspace / LIB).read_text()
    h.write(LIB, original + BROKEN.format(n=1))
    broken_line = original.count("\n") + 3  # the string literal's line
    broken = h.once(after_generation=clean["generation"] + 1)
    assert broken["jobs"]["check"] == "failed"
    assert errors(broken) == [(LIB, broken_line, "E0308")]
    diag = next(d for d in broken["diagnostics"] if d["code"] == "E0308")
    assert (
        diag["column"] == 5 and diag["source"] == "rustc" and "mismatched types" in diag["message"]
    )
    h.write(LIB, original)
    fixed = h.once(after_generation=broken["generation"] + 1)
    assert fixed["jobs"]["check"] == "succeeded" and errors(fixed) == []


def test_burst_of_fifty_saves_settles_on_the_last(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    h.start()
    first = h.once()
    original = (h.workspace / LIB).read_text()
    for n in range(50):
        h.write(LIB, original + BROKEN.format(n=n))
        time.sleep(0.005)
    settled = h.once(after_generation=first["generation"] + 1)
    # Exactly the last save's error: nothing from the 49 stale states survives.
    assert errors(settled) == [(LIB, original.count("\n") + 3, "E0308")]
    text = (h.workspace / LIB).read_text()
    assert "broken_49" in text
    assert settled["jobs"]["check"] == "failed"


def test_kill9_then_restart_serves_last_state_then_rechecks(
    example_daemon: DaemonHarness, tmp_path: Path
) -> None:
    h = example_daemon
    # A slow cargo makes "served before rechecked" observable, deterministically.
    slow = tmp_path / "slow-cargo"
    slow.write_text('#!/bin/sh\nsleep 3\nexec cargo "$@"\n')
    slow.chmod(0o755)
    h.start()
    first = h.once()
    original = (h.workspace / LIB).read_text()
    h.write(LIB, original + BROKEN.format(n=7))
    broken = h.once(after_generation=first["generation"] + 1)
    assert len(errors(broken)) == 1
    h.kill9()
    assert (h.runtime_dir / "requests.sock").exists()  # stale socket and lock left behind
    h.env["CARGO"] = str(slow)
    h.start()
    # Straight after start: the previous run's diagnostics, marked as such.
    doc = _first_snapshot(h)
    assert doc["restored"] is True
    assert [d["stale"] for d in doc["diagnostics"]] == [True]
    assert errors(doc) == errors(broken)
    rechecked = h.once(after_generation=broken["generation"] + 1)
    assert rechecked["restored"] is False
    assert errors(rechecked) == errors(broken)
    assert [d["stale"] for d in rechecked["diagnostics"]] == [False]


def _first_snapshot(h: DaemonHarness) -> dict[str, object]:
    """The first line of `rg-watch --json`: the snapshot."""
    proc = subprocess.Popen(
        [str(BIN / "rg-watch"), "--json", "--workspace", str(h.workspace)],
        env=h.env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    doc: dict[str, object] = json.loads(line)
    assert doc["type"] == "snapshot"
    return doc


def test_malformed_frames_get_error_replies_and_daemon_keeps_serving(
    example_daemon: DaemonHarness,
) -> None:
    h = example_daemon
    h.start()
    ctx = zmq.Context()
    try:
        bad = ctx.socket(zmq.DEALER)
        bad.setsockopt(zmq.RCVTIMEO, 5000)
        bad.connect(f"ipc://{h.runtime_dir / 'requests.sock'}")
        cases = {
            b"\xc1 garbage": "bad-frame",
            msgspec.msgpack.encode({"v": 99, "type": "ping", "id": 1}): "unsupported-version",
            msgspec.msgpack.encode({"v": 1, "type": "teleport", "id": 2}): "unknown-type",
            msgspec.msgpack.encode({"v": 1, "type": "run-job", "id": 3}): "bad-frame",
            b"\x00" * (2 << 20): "oversized-frame",
        }
        for frame, code in cases.items():
            bad.send(frame)
            reply = p.decode_reply(bad.recv())
            assert isinstance(reply, p.ErrorReply) and reply.code == code, (code, reply)
        bad.send_multipart([b"a", b"b", b"c"])
        reply = p.decode_reply(bad.recv())
        assert isinstance(reply, p.ErrorReply) and reply.code == "bad-frame"
        bad.close(linger=0)
    finally:
        ctx.term()
    # Other clients are unaffected.
    status = h.run("rustgd", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["healthy"] is True


def test_status_start_stop_exit_codes(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    assert h.run("rustgd", "status").returncode == 3
    h.start()
    assert h.run("rustgd", "status").returncode == 0
    again = h.run("rustgd", "start")
    assert again.returncode == 0 and "already running" in again.stdout
    second = h.run("rustgd", "run")  # a second daemon on the same workspace is refused
    assert second.returncode == 1 and "already serves this workspace" in second.stderr
    h.stop()
    assert h.run("rustgd", "status").returncode == 3
    assert h.run("rg-watch", "--once", "--json").returncode == 3


def test_once_waits_for_a_live_daemon_that_is_slow_to_answer(example_daemon: DaemonHarness) -> None:
    """Stopped (SIGSTOP), a daemon keeps its lock but answers nothing: past the 15 s answer
    timeout `rg-watch --once` says so and keeps waiting, and gets the state once it runs on."""
    h = example_daemon
    h.start()
    first = h.once()
    pid = h.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        watch = subprocess.Popen(
            [str(BIN / "rg-watch"), "--once", "--json", "--timeout", "60",
             "--workspace", str(h.workspace)],
            env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(ANSWER_LIVE_S + 2)
        assert watch.poll() is None, watch.communicate()
    finally:
        os.kill(pid, signal.SIGCONT)
    out, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, err + h.daemon_log_tail()
    assert "it is alive (it holds its lock): waiting" in err
    assert json.loads(out)["generation"] >= first["generation"]


@pytest.mark.corpus
def test_edit_loop_on_debians_regex_crate(tmp_path: Path, isolated_env: dict[str, str]) -> None:
    require_regex()
    h = DaemonHarness(copy_regex(tmp_path), isolated_env)
    try:
        h.start()
        first = h.once()
        assert first["jobs"]["check"] == "succeeded", first["job_details"]
        target = "src/lib.rs"
        original = (h.workspace / target).read_text()
        h.write(target, original + "\nfn regex_broken() -> usize { 1u8 }\n")
        broken = h.once(after_generation=first["generation"] + 1)
        found = errors(broken)
        assert len(found) == 1 and found[0][0] == target and found[0][2] == "E0308"
        assert found[0][1] == original.count("\n") + 2
        h.write(target, original)
        fixed = h.once(after_generation=broken["generation"] + 1)
        assert errors(fixed) == []
    finally:
        h.stop()


def test_broken_manifest_and_crashing_cargo_are_reported_not_fatal(
    example_daemon: DaemonHarness, tmp_path: Path
) -> None:
    h = example_daemon
    h.start()
    first = h.once()
    manifest = "crates/app/Cargo.toml"
    original = (h.workspace / manifest).read_text()
    h.write(manifest, "[package\n" + original)
    broken = h.once(after_generation=first["generation"] + 1)
    assert broken["jobs"]["check"] == "crashed"
    diag = broken["diagnostics"][0]
    assert (diag["source"], diag["file"], diag["line"]) == ("cargo", manifest, 1)
    assert "unclosed table" in diag["message"]
    h.write(manifest, original)
    fixed = h.once(after_generation=broken["generation"] + 1)
    assert fixed["jobs"]["check"] == "succeeded" and fixed["diagnostics"] == []
    status = h.run("rustgd", "status")
    assert status.returncode == 0, status.stdout  # still healthy and serving


def test_syntax_errors_stream_from_the_engine_and_it_restarts_hot(
    example_daemon: DaemonHarness,
) -> None:
    h = example_daemon
    h.start()
    first = h.once()
    assert (first["jobs"]["check"], first["jobs"]["parse"]) == ("succeeded", "succeeded")
    (h.workspace / "crates/app/src/broken.rs").write_text('fn f() {\n    let s = "open;\n}\n')
    with (h.workspace / LIB).open("a") as lib:
        lib.write("\nmod broken;\n")
    broken = h.once(after_generation=first["generation"] + 1)
    syntax = [
        (d["file"], d["line"], d["column"], d["message"])
        for d in broken["diagnostics"]
        if d["source"] == "rustg-syntax"
    ]
    assert syntax == [
        ("crates/app/src/broken.rs", 2, 13, "unterminated double quote string"),
        ("crates/app/src/broken.rs", 4, 1, "this file contains an unclosed delimiter"),
    ]
    assert broken["jobs"]["parse"] == "failed"
    # Restarted, the engine restores every file from LMDB by content hash: nothing re-lexed.
    h.stop()
    h.start()
    again = h.once(after_generation=broken["generation"] + 1)
    assert [
        (d["file"], d["line"], d["column"], d["message"])
        for d in again["diagnostics"]
        if d["source"] == "rustg-syntax" and not d["stale"]
    ] == syntax
    log = next((Path(h.env["XDG_CACHE_HOME"]) / "rustg").glob("*/daemon.log")).read_text()
    loads = [line for line in log.splitlines() if "engine:" in line]
    assert "0 restored" in loads[0] and loads[-1].endswith("(8 restored, 0 lexed)"), loads


def test_kernels_rebuild_on_save_with_errors_at_the_users_line(
    tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    from rustg.daemon.errors import ToolError
    from rustg.daemon.kernels.toolchain import find_rustc

    try:
        find_rustc()
    except ToolError as exc:
        pytest.skip(str(exc))
    h = DaemonHarness(copy_example(tmp_path, "gpu-kernels"), isolated_env)
    try:
        h.start()
        first = h.once()
        assert first["jobs"]["kernels"] == "succeeded", first["job_details"]
        assert (h.workspace / "target/rustg/gpu_kernels.manifest.json").is_file()
        kernels = "crates/kernels/src/kernels.rs"
        text = (h.workspace / kernels).read_text()
        line = text.splitlines().index("    let n = x.len().min(y.len());") + 1
        h.write(kernels, text.replace("let n = x.len()", "let n: u64 = x.len()"))
        broken = h.once(after_generation=first["generation"] + 1)
        mine = [(d["file"], d["line"], d["code"]) for d in broken["diagnostics"]
                if d["source"] == "rustg-kernel"]  # fmt: skip
        assert (kernels, line, "E0308") in mine
        h.write(kernels, text)
        fixed = h.once(after_generation=broken["generation"] + 1)
        assert [d for d in fixed["diagnostics"] if d["source"] == "rustg-kernel"] == []
        assert fixed["jobs"]["kernels"] == "succeeded"
    finally:
        h.stop()
