"""The lint job end to end: a real rustgd streams rustg-lint diagnostics on save, then clears."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest

from tests.e2e.conftest import DaemonHarness

pytestmark = pytest.mark.slow

LIB = "crates/app/src/lib.rs"
ADDED = "\npub fn lint_me(x: u32) -> u32 {\n    dbg!(x)\n}\n"


def lint(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in doc["diagnostics"] if d["source"] == "rustg-lint" and d["file"] == LIB]


def test_save_streams_lint_findings_then_clears(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    h.start()
    first = h.once()
    assert first["jobs"]["lint"] in ("succeeded", "failed")
    assert [d for d in lint(first) if d["code"] == "rustg::dbg_macro"] == []
    original = (h.workspace / LIB).read_text()
    h.write(LIB, original + ADDED)
    line = original.count("\n") + 3
    doc = h.once(after_generation=first["generation"] + 1)
    found = [d for d in lint(doc) if d["code"] == "rustg::dbg_macro"]
    assert [(d["line"], d["column"], d["severity"]) for d in found] == [(line, 5, "warning")]
    (suggestion,) = found[0]["suggestions"]
    assert suggestion["replacement"] == "x"
    assert suggestion["applicability"] == "machine-applicable"
    h.write(LIB, original)
    cleared = h.once(after_generation=doc["generation"] + 1)
    assert [d for d in lint(cleared) if d["code"] == "rustg::dbg_macro"] == []


def test_cargo_g_lint_answers_from_the_daemon_as_a_standalone_run_would(
    example_daemon: DaemonHarness,
) -> None:
    h = example_daemon
    h.start()
    first = h.once()
    original = (h.workspace / LIB).read_text()
    h.write(
        LIB, original + ADDED + "\n#[rustg::kernel]\npub fn k(x: u32) {\n    let _v = vec![x];\n}\n"
    )
    h.once(after_generation=first["generation"] + 1)  # the daemon has seen the save
    through = h.run("cargo-g", "lint", "--json")
    alone = h.run("cargo-g", "lint", "--json", "--no-daemon")
    assert through.returncode == alone.returncode == 1  # gpu_alloc_macro is deny-level
    assert json.loads(through.stdout) == json.loads(alone.stdout)
    codes = {d["rule"] for d in json.loads(through.stdout)}
    assert {"dbg_macro", "gpu_alloc_macro"} <= codes, codes
    human = h.run("cargo-g", "lint", str(h.workspace / LIB))
    assert "(from rustgd, generation" in human.stdout
    assert "dbg!(x)" in human.stdout  # a code frame, read from the file


def test_cargo_g_lint_lints_by_itself_when_the_daemon_does_not_answer(
    example_daemon: DaemonHarness,
) -> None:
    """Through the daemon is a shortcut, never a hang: a daemon that holds its lock but is
    stopped (SIGSTOP), or one whose results do not come within --daemon-wait, is left alone;
    `cargo g lint` says so and prints what a standalone run prints."""
    h = example_daemon
    h.start()
    h.once()
    (h.workspace / LIB).write_text((h.workspace / LIB).read_text() + ADDED)
    h.once(after_generation=1)
    alone = h.run("cargo-g", "lint", "--json", "--no-daemon")
    assert alone.returncode == 0 and json.loads(alone.stdout)  # dbg_macro: a warning
    impatient = h.run("cargo-g", "lint", "--json", "--daemon-wait", "0")
    assert "no lint results from rustgd within 0 s" in impatient.stderr, impatient.stderr
    assert json.loads(impatient.stdout) == json.loads(alone.stdout)
    pid = h.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        stuck = h.run("cargo-g", "lint", "--json", timeout=120)
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "rustgd holds the workspace but did not answer" in stuck.stderr, stuck.stderr
    assert (stuck.returncode, json.loads(stuck.stdout)) == (0, json.loads(alone.stdout))
    assert took < 60  # the status request's wait, then a standalone lint
