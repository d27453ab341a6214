"""The LMDB store: counters, file hashes, diagnostics per result set, schema versioning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

from rustg.daemon import store as store_mod
from rustg.daemon.errors import StoreError
from rustg.daemon.store import OpenOutcome, Store
from rustg.protocol import Diagnostic, Severity


def diag(file: str, line: int, source: str = "rustc", generation: int = 1) -> Diagnostic:
    return Diagnostic(
        source=source, severity=Severity.ERROR, message=f"boom at {line}", file=file,
        line=line, column=1, end_line=line, end_column=5, generation=generation,
    )  # fmt: skip


def test_fresh_store_is_created_then_reused(tmp_path: Path) -> None:
    first = Store(tmp_path / "db")
    assert first.outcome is OpenOutcome.CREATED
    assert first.counters() == (0, 0)
    first.close()
    second = Store(tmp_path / "db")
    assert second.outcome is OpenOutcome.REUSED
    second.close()


def test_schema_mismatch_wipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "db")
    store.update_files({"src/lib.rs": "abc"})
    store.close()
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", store_mod.SCHEMA_VERSION + 1)
    store = Store(tmp_path / "db")
    assert store.outcome is OpenOutcome.WIPED
    assert store.file_hashes() == {}
    store.close()


def test_diagnostics_replace_all_and_per_file(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    store.commit_diagnostics(
        "rustc", {"a.rs": [diag("a.rs", 1)], "b.rs": [diag("b.rs", 2)]},
        replace_all=True, generation=1, seq=5,
    )  # fmt: skip
    store.commit_diagnostics(
        "rustg-syntax", {"a.rs": [diag("a.rs", 9, "rustg-syntax")]},
        replace_all=False, generation=1, seq=6,
    )  # fmt: skip
    assert sorted((d.source, d.file) for d in store.load_diagnostics()) == [
        ("rustc", "a.rs"), ("rustc", "b.rs"), ("rustg-syntax", "a.rs"),
    ]  # fmt: skip
    # replace_all for rustc drops b.rs but leaves the other source alone.
    store.commit_diagnostics(
        "rustc", {"a.rs": [diag("a.rs", 3, generation=2)]}, replace_all=True, generation=2, seq=9
    )
    loaded = sorted((d.source, d.file, d.line) for d in store.load_diagnostics())
    assert loaded == [("rustc", "a.rs", 3), ("rustg-syntax", "a.rs", 9)]
    # An empty list removes a file's entry.
    store.commit_diagnostics("rustg-syntax", {"a.rs": []}, replace_all=False, generation=3, seq=10)
    assert [(d.source, d.line) for d in store.load_diagnostics()] == [("rustc", 3)]
    assert store.counters() == (3, 10)
    store.close()


def test_counters_never_go_backwards(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    store.commit_counters(7, 70)
    store.commit_counters(3, 30)
    assert store.counters() == (7, 70)
    store.close()


def test_committed_state_survives_a_killed_process(tmp_path: Path) -> None:
    writer = (
        "import os, sys; from rustg.daemon.store import Store;"
        "from rustg.protocol import Diagnostic, Severity;"
        f"s = Store(__import__('pathlib').Path({str(tmp_path / 'db')!r}));"
        "d = Diagnostic(source='rustc', severity=Severity.ERROR, message='m', file='x.rs',"
        " line=4, column=1, end_line=4, end_column=2, generation=4);"
        "s.commit_diagnostics('rustc', {'x.rs': [d]}, replace_all=True, generation=4, seq=8);"
        "os._exit(0)"  # no close(): as if the daemon were killed
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    reopened = Store(tmp_path / "db")
    assert [d.line for d in reopened.load_diagnostics()] == [4]
    assert reopened.counters() == (4, 8)
    reopened.close()


def test_lmdb_errors_are_translated(tmp_path: Path) -> None:
    blocker = tmp_path / "db"
    blocker.write_text("not a directory")
    with pytest.raises((StoreError, FileExistsError)):
        Store(blocker)
    assert issubclass(StoreError, Exception) and not issubclass(StoreError, lmdb.Error)
