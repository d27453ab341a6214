"""The formatter driver, safety net, fast path, writes and CLI (real rustfmt, real LMDB)."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rustg.cli.errors import EXIT_FAILURE, EXIT_INTERNAL, EXIT_OK
from rustg.cli.fmt_commands import FmtSummary, cmd_fmt, stats_table
from rustg.gpu.fmt.config import FmtConfig
from rustg.gpu.fmt.driver import (
    FileResult,
    Formatter,
    Outcome,
    Route,
    WriteOutcome,
    _inner_gap,
    _leading_gap,
    _trailing_gap,
    edits_between,
    write_result,
)
from rustg.gpu.fmt.known import KnownFormatted
from rustg.gpu.fmt.rustfmt import RustfmtError, effective_config, format_source
from rustg.gpu.fmt.safety import SafetyNetError, check_tokens

NO_HOME: dict[str, str] = {}

# Every change rustfmt makes by design that the safety net must recognise (checked against
# real rustfmt below, not against a hand-written expectation).
REWRITES = b"""#![allow(x)]
use b::{d, c,};
use a::{b};
use z::{self};

mod zz;
mod aa;
extern crate zzz;
extern crate aaa;
#[derive(Debug)]
#[derive(Clone)]
struct A {}
extern { fn f(); }
fn g<T>(t: T) where T: Copy { let a = ((1)); let f = |x| { x + 1 };
  match a { 1 => { foo() } 2 => bar(), _ => { let x = 1; x } }; ;
  loop { match a { 1 => { continue } _ => break } }
}
macro_rules! m { ($x:expr) => ( $x + 1 ); }
use std::{fmt::{self, Debug, Binary}, ops::{Not, BitAnd}};
fn h(c: bool) { loop { if c { foo() } break } }
"""


def rustfmt(source: bytes) -> bytes:
    return format_source(source, FmtConfig(), cwd=Path("/"))


@pytest.mark.slow
def test_safety_net_accepts_every_rustfmt_rewrite() -> None:
    formatted = rustfmt(REWRITES)
    assert formatted != REWRITES
    check_tokens(REWRITES, formatted)


@pytest.mark.slow
def test_safety_net_accepts_crlf_normalised_inside_literals() -> None:
    source = b'fn f() {}\nfn g() { let s = "a \\\r\n   b"; }\r\n'
    formatted = rustfmt(source)
    assert b"\r" not in formatted
    check_tokens(source, formatted)


# Rewrites found on corpus files (bench_fmt's safety-net internal errors), each one allowance
# in gpu/fmt/safety.py: (its function, edition, input). Checked against real rustfmt, which
# must change the input, and the net must reject the change without that allowance.
CORPUS_REWRITES = {
    "_block_statement_semis": (
        "2021",
        b"fn f(c: bool) { for b in c { w(b) }; while c { x() }; if c { y() }; let y = 1; }\n",
    ),
    "_use_leading_colons": ("2015", b"use ::Ascii;\nfn f() { use ::*; }\n"),
    "_empty_generics": ("2018", b"fn f() -> Result<> { g() }\n"),
    "_vec_brackets": ("2015", b"fn f() { let v = vec!(1, 2); }\n"),
    "_continuation_whitespace": (
        "2021",
        b'fn f() {\n    quote! { panic!("all futures,\\\n                    but no") }\n}\n',
    ),
    "_canon_use_tree": (
        "2021",
        b"use a::{\n    Zed,\n    //Removed,\n    Alpha,\n};\n",
    ),
    # hyper's proto/h2/ping.rs, scrambled: the doc before a run moves with its item
    "_use_trees": ("2021", b"/// Doc of the first.\n\n#[cfg(a)]\nuse std::fmt;\nuse h2::Ping;\n"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CORPUS_REWRITES))
def test_safety_net_accepts_corpus_rewrites(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rustg.gpu.fmt import safety

    edition, source = CORPUS_REWRITES[name]
    formatted = format_source(source, FmtConfig(edition=edition), cwd=Path("/"))
    assert formatted != source
    check_tokens(source, formatted, edition=edition)
    monkeypatch.setattr(safety, name, lambda toks: toks)
    with pytest.raises(SafetyNetError):
        check_tokens(source, formatted, edition=edition)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # not the shapes rustfmt makes: the allowances are that narrow
        (b"fn f() { let x = loop { break 1 }; }\n", b"fn f() { let x = loop { break 1 } }\n"),
        (b"fn f() { if c { a() }; }\n", b"fn f() { if c { a() } }\n"),
        (b"use ::a;\n", b"use a;\n"),  # not 2015 (the edition default here is 2021)
        (b"fn f() { g::vec!(1) }\n", b"fn f() { g::vec![1] }\n"),  # not the bare vec!
        (b"fn f() -> R<T> {}\n", b"fn f() -> R {}\n"),  # generic arguments lost
        (b"use a::{b, /* c */ d};\n", b"use a::{b, d};\n"),  # a comment in a use list lost
        (b"fn f() { a(); b(); }\n", b"fn f() {\n    a();\n}\n"),  # a statement lost
        (b"fn f() { a(); b(); }\n", b"fn f() {\n    b();\n    a();\n}\n"),  # reordered
        (b"fn f() { x }\n", b"fn f() {\n    y\n}\n"),  # respelled
        (b"// keep me\nfn f() {}\n", b"// keep  you\nfn f() {}\n"),  # a comment changed
        (b"// keep me\nfn f() {}\n", b"fn f() {}\n"),  # a comment lost
        (b"fn f(a: u8, b: u8) {}\n", b"fn f(a: u8 b: u8) {}\n"),  # a separating comma lost
        (b'fn f() { "a b" }\n', b'fn f() {\n    "a  b"\n}\n'),  # whitespace inside a string
        (
            b'fn f() { "a\\\\\n b" }\n',
            b'fn f() { "a\\\\\nb" }\n',
        ),  # `\\` then newline: not a continuation
        (b"use a::{b, c};\n", b"use a::{b};\n"),  # a use lost
        (b"// a\nuse b;\nuse a;\n", b"use a;\nuse b;\n"),  # a comment before a run lost
        (b"// a\nuse b;\nuse a;\n", b"use a;\n// A\nuse b;\n"),  # ... or changed
        # docs stay with their item when rustfmt sorts (found by review: a pooled comment set
        # let these through)
        (
            b"/// Docs for a.\nmod a;\n/// Docs for b.\nmod b;\n",
            b"/// Docs for b.\nmod a;\n/// Docs for a.\nmod b;\n",
        ),
        (b"/// Module a.\nmod a;\nfn main() {}\n", b"mod a;\n/// Module a.\nfn main() {}\n"),
        (b"//! Crate docs.\nuse a;\nfn f() {}\n", b"use a;\n//! Crate docs.\nfn f() {}\n"),
        (
            b"/// Re-export docs.\npub use x::A;\npub use x::B;\n",
            b"pub use x::A;\n/// Re-export docs.\npub use x::B;\n",
        ),
        (
            b"// SAFETY: keep\nuse a;\nuse b;\nstruct S;\n",
            b"use a;\nuse b;\n// SAFETY: keep\nstruct S;\n",
        ),
    ],
)
def test_safety_net_rejects_real_changes(before: bytes, after: bytes) -> None:
    with pytest.raises(SafetyNetError):
        check_tokens(before, after, edition="2021")


def test_gap_normalisation() -> None:
    assert _inner_gap(b"\n") == "\n"
    assert _inner_gap(b" ") == "\n"
    assert _inner_gap(b"\n\n\n\n") == "\n\n"
    assert _inner_gap(b"\n\n// a\n\n\n// b\n") == "\n\n// a\n\n// b\n"
    assert _inner_gap(b" // trailing\n") is None  # after a use (the default): rustfmt's
    assert _inner_gap(b"  // trailing  \n", trailing_ok=True) == " // trailing\n"
    assert _inner_gap(b" /* t */\n\n", trailing_ok=True) == " /* t */\n\n"
    # comment lines under a trailing `//` one are aligned with it (ALIGN: the column, known once
    # the item before is printed); a block comment among them, or after a code line, is not ours
    assert _inner_gap(b" // t\n// next line\n", trailing_ok=True) == " // t\n\x00// next line\n"
    assert (
        _inner_gap(b" // t\n  //  n  \n\n// o\n", trailing_ok=True) == " // t\n\x00//  n\n\n// o\n"
    )
    assert _inner_gap(b" // t\n/* n */\n", trailing_ok=True) is None
    assert _inner_gap(b" /* t */\n// n\n", trailing_ok=True) == " /* t */\n// n\n"
    assert _inner_gap(b" // t\n// \x00\n", trailing_ok=True) is None
    assert _inner_gap(b" /* a */ // b\n", trailing_ok=True) is None
    assert _inner_gap(b" /// doc\n", trailing_ok=True) is None
    assert _inner_gap(b"\n    // indented\n") is None
    assert _inner_gap(b"\n/* block */\n") == "\n/* block */\n"
    assert _inner_gap(b"\n/*\nfn b() {\n    x\n}\n*/\n\n\n") == "\n/*\nfn b() {\n    x\n}\n*/\n\n"
    assert _inner_gap(b"\n/*\n * x\n */\n") == "\n/*\n * x\n */\n"  # a ` * ` column: kept
    # rustfmt strips the least indentation when a line is bare (no `*`), else keeps `*` columns
    assert _inner_gap(b"\n/*\n * x\n  y\n */\n") == "\n/*\n* x\n y\n*/\n"
    assert _inner_gap(b"\n/* x  \n\t * y \n */\n") == "\n/* x\n * y\n */\n"
    assert _inner_gap(b"\n/* x\n      y\n    z */\n", hard_tabs=True) is None  # tabs: not ours
    assert _inner_gap(b"\n/* x\n\ty\n*/\n") is None  # a tab's width is tab_spaces
    assert _inner_gap(b"\n/* x /* y */\n  z */\n") is None  # rustfmt's first group ends early
    assert _inner_gap(b"\n/* x /* y */ w\n  z */\n") == "\n/* x /* y */ w\nz */\n"  # nested
    assert _inner_gap(b"\n/* a */ /* b */\n") is None
    assert _inner_gap(b"\n/* a */ fn\n") is None
    assert _inner_gap(b"\n/* a\t*/\n") == "\n/* a\t*/\n"
    assert _trailing_gap(b" // end  ", trailing_ok=True) == " // end\n"
    assert _inner_gap(b"\n/// dangling doc\n") is None
    assert _leading_gap(b"\n\n//! crate doc\n\n\n") == "//! crate doc\n\n"
    assert _trailing_gap(b"\n\n// end\n\n\n") == "\n\n// end\n"


ASSEMBLY = Path(__file__).parent / "data" / "assembly"


@pytest.mark.parametrize("native", [True, False], ids=["native", "all-delegated"])
def test_assembly_cases_equal_whole_file_rustfmt(tmp_path: Path, native: bool) -> None:
    """Each ``data/assembly/*.rs`` is assembled from units (not routed whole: that is what the
    case is for) and comes out byte-identical to rustfmt on the whole file, with the native
    printer and with every unit delegated; all files in one run, so units share batches."""
    cases = sorted(ASSEMBLY.glob("*.rs"))
    paths = [_source_file(tmp_path, case.read_bytes(), case.name) for case in cases]
    formatter = Formatter(native=native, force_items=True, env=NO_HOME)
    for case, result in zip(cases, formatter.format_files(paths), strict=True):
        assert result.route in (Route.ITEMS, Route.NATIVE), (case.name, result.reason)
        whole = format_source(case.read_bytes(), formatter.config_for(result.path), cwd=tmp_path)
        assert result.formatted == whole, case.name


def _source_file(tmp_path: Path, text: bytes, name: str = "lib.rs") -> Path:
    (tmp_path / "rustfmt.toml").write_text('edition = "2021"\n')
    path = tmp_path / name
    path.write_bytes(text)
    return path


def _rustfmt_native(
    source: bytes, tokens: Any, tree: Any, items: Any, config: FmtConfig
) -> Sequence[str | None]:
    """A stand-in native printer for the merge logic: rustfmt on each item alone, every other
    item left to the driver (None)."""
    out: list[str | None] = []
    top = [i for i in items.file_items(0) if int(items.depth[i]) == 0]
    for k, i in enumerate(top):
        text = source[int(tokens.start[items.start[i]]) : int(tokens.end[items.end[i]])]
        out.append(rustfmt(text).decode().rstrip("\n") if k % 2 == 0 else None)
    return out


MIXED = b"""use std::fmt;
use std::io;

// a comment between items
pub struct   S { a : u8 }
impl fmt::Debug for S { fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { write!(f, "S") } }


fn  main ( ) { let s = S { a : 1 }; println!("{:?}", s) ; }
const X: u8 = 1;
"""


@pytest.mark.slow
def test_item_assembly_equals_whole_file_rustfmt(tmp_path: Path) -> None:
    path = _source_file(tmp_path, MIXED)
    result = Formatter(native=_rustfmt_native, env=NO_HOME).format_file(path)
    assert result.route is Route.ITEMS and result.outcome is Outcome.CHANGED
    assert 0 < result.native_items < result.items
    whole = format_source(MIXED, Formatter(env=NO_HOME).config_for(path), cwd=tmp_path)
    assert result.formatted == whole


@pytest.mark.slow
def test_many_files_share_rustfmt_processes_and_a_bad_unit_fails_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rustg.gpu.fmt import driver
    from rustg.gpu.fmt import rustfmt as rustfmt_module

    calls: list[int] = []
    real = rustfmt_module.format_source

    def counted(source: bytes, config: FmtConfig, *, cwd: Path) -> bytes:
        calls.append(len(source))
        return real(source, config, cwd=cwd)

    monkeypatch.setattr(rustfmt_module, "format_source", counted)  # format_units' calls
    monkeypatch.setattr(driver, "format_source", counted)  # whole files
    # Half of them open with inner attributes, which must lead rustfmt's input: a shared
    # process takes every file's first.
    texts = [
        b"#![allow(dead_code)]\n" * (k % 2) + MIXED.replace(b"S", b"S%d" % k) for k in range(6)
    ]
    # rustfmt refuses this file's unit (a syntax error the item index does not look into)
    texts.append(b"fn broken() { let = ; }\nconst Y: u8 = 2;\n")
    paths = [_source_file(tmp_path, t, name=f"f{k}.rs") for k, t in enumerate(texts)]

    def formatter(jobs: int) -> Formatter:
        return Formatter(native=_rustfmt_native, env=NO_HOME, force_items=True, jobs=jobs)

    alone = [formatter(1).format_file(p) for p in paths]
    assert [r.outcome for r in alone] == [Outcome.CHANGED] * 6 + [Outcome.RUSTFMT_FAILED]
    # The six good files: a rustfmt process per job (cut by bytes: perhaps one more), not one
    # per file.
    calls.clear()
    finished: list[int] = []
    shared = list(formatter(2).format_files(paths[:6], on_done=finished.append))
    assert 2 <= len(calls) <= 3, calls
    # the progress callback: every file once, batch by batch as rustfmt returns
    assert sum(finished) == 6 and all(n >= 0 for n in finished) and len(finished) >= 3
    # All seven in one batch (one job): it fails on the bad unit; each file is then formatted
    # alone (the bad one also whole, which names the problem), with the same results.
    calls.clear()
    fallen_back = list(formatter(1).format_files(paths))
    assert len(calls) == 1 + 7 + 1, calls
    for run in (shared, fallen_back):
        assert [r.path for r in run] == paths[: len(run)]  # input order
        for a, b in zip(alone, run, strict=False):
            assert (b.outcome, b.formatted, b.route, b.message) == (
                a.outcome, a.formatted, a.route, a.message
            ), b.path  # fmt: skip


def test_broken_native_printer_is_caught_and_nothing_is_written(tmp_path: Path) -> None:
    def broken(source: bytes, tokens: Any, tree: Any, items: Any, config: FmtConfig) -> list[str]:
        return ["fn main() {}", "const X: u8 = 2;"]  # a token respelled: 1 -> 2

    original = b"fn main(){}\nconst X: u8 = 1;\n"
    path = _source_file(tmp_path, original)
    formatter = Formatter(native=broken, env=NO_HOME)
    result = formatter.format_file(path)
    assert result.outcome is Outcome.INTERNAL_ERROR and result.formatted is None
    assert "safety net" in result.message
    assert write_result(result) is WriteOutcome.REFUSED
    args = argparse.Namespace(
        paths=[str(path)], check=False, emit="files", stats=False, no_cache=True, jobs=1
    )
    err = io.StringIO()
    code = cmd_fmt(args, _console(), err=Console(file=err, width=200), formatter=formatter)
    assert code == EXIT_INTERNAL
    assert str(path.name) in err.getvalue() and "internal error" in err.getvalue()
    assert path.read_bytes() == original


@pytest.mark.slow
def test_skip_attributes_are_honoured(tmp_path: Path) -> None:
    skipped = b"#![cfg_attr(rustfmt, rustfmt_skip)]\nfn  f(){}\n"
    item_skip = b"#[rustfmt::skip]\nfn  f(){}\n\nfn  g(){}\n"
    a = Formatter(env=NO_HOME).format_file(_source_file(tmp_path, skipped, "a.rs"))
    b = Formatter(env=NO_HOME).format_file(_source_file(tmp_path, item_skip, "b.rs"))
    assert a.outcome is Outcome.UNCHANGED and a.formatted == skipped
    assert b.formatted == b"#[rustfmt::skip]\nfn  f(){}\n\nfn g() {}\n"


def test_fast_path_hit_after_first_check(tmp_path: Path) -> None:
    path = _source_file(tmp_path, b"fn f() {}\n")
    known = KnownFormatted.open(tmp_path / "known")
    try:
        formatter = Formatter(known=known, env=NO_HOME)
        assert formatter.format_file(path).route is not Route.CACHED
        again = formatter.format_file(path)
        assert again.route is Route.CACHED and again.outcome is Outcome.UNCHANGED
        path.write_bytes(b"fn  f() {}\n")  # new content: a miss
        assert formatter.format_file(path).route is not Route.CACHED
        remembered = formatter.format_file(path)  # its output was remembered
        assert remembered.route is Route.CACHED and remembered.outcome is Outcome.CHANGED
        assert remembered.formatted == b"fn f() {}\n"
    finally:
        known.close()


def test_write_is_atomic_keeps_mode_and_never_clobbers(tmp_path: Path) -> None:
    path = _source_file(tmp_path, b"fn  f(){}\n")
    path.chmod(0o640)
    result = Formatter(env=NO_HOME).format_file(path)
    assert result.outcome is Outcome.CHANGED
    path.write_bytes(b"fn  g(){}\n")  # the editor saved meanwhile
    assert write_result(result) is WriteOutcome.CHANGED_ON_DISK
    assert path.read_bytes() == b"fn  g(){}\n"
    result = Formatter(env=NO_HOME).format_file(path)
    assert write_result(result) is WriteOutcome.WRITTEN
    assert path.read_bytes() == b"fn g() {}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".rustg-fmt")]


def test_crlf_files_keep_their_line_endings(tmp_path: Path) -> None:
    """rustfmt's --emit stdout prints "\n"; a CRLF file formatted in place stays CRLF."""
    path = _source_file(tmp_path, b"fn f() {}\r\nfn  g(){}\r\n")
    result = Formatter(env=NO_HOME).format_file(path)
    assert result.formatted == b"fn f() {}\r\nfn g() {}\r\n"
    path.write_bytes(b"fn f() {}\r\n")
    assert Formatter(env=NO_HOME).format_file(path).outcome is Outcome.UNCHANGED


def test_rustfmt_failure_is_reported_not_written(tmp_path: Path) -> None:
    path = _source_file(tmp_path, b"fn f( {\n")
    result = Formatter(env=NO_HOME).format_file(path)
    assert result.outcome is Outcome.RUSTFMT_FAILED and "error" in result.message


def test_edits_apply_to_the_formatted_text() -> None:
    before = b"a\nb\nc\nd\n"
    after = b"a\nB\nc\nd\ne\n"
    lines = before.decode().splitlines(keepends=True)
    for edit in reversed(edits_between(before, after)):
        lines[edit.start_line : edit.end_line] = [edit.new_text]
    assert "".join(lines).encode() == after


def _console() -> Console:
    return Console(file=io.StringIO(), width=120, color_system=None)


def _args(paths: list[str], **kw: Any) -> argparse.Namespace:
    base: dict[str, Any] = {
        "check": False, "emit": "files", "stats": False, "no_cache": True, "jobs": 1,
    }  # fmt: skip
    base.update(kw)
    return argparse.Namespace(paths=paths, **base)


def test_cli_progress_bar_counts_every_file_on_a_terminal(tmp_path: Path) -> None:
    from rustg.cli.fmt_commands import PROGRESS_MIN_FILES

    n = PROGRESS_MIN_FILES + 2
    for k in range(n):
        _source_file(tmp_path, b"fn  f%d(){}\n" % k, f"f{k}.rs")
    err = io.StringIO()
    terminal = Console(file=err, width=120, force_terminal=True, color_system=None)
    code = cmd_fmt(_args([str(tmp_path)], check=True), _console(), err=terminal,
                   formatter=Formatter(env=NO_HOME, jobs=2))  # fmt: skip
    assert code == EXIT_FAILURE
    drawn = err.getvalue()
    assert f"{n}/{n}" in drawn and f"{n + 1}/{n}" not in drawn


def test_cli_check_json_and_rewrite(tmp_path: Path) -> None:
    path = _source_file(tmp_path, b"fn  f(){}\n")
    clean = _source_file(tmp_path, b"fn g() {}\n", "clean.rs")
    formatter = Formatter(env=NO_HOME)
    console = _console()
    assert cmd_fmt(_args([str(tmp_path)], check=True), console, formatter=formatter) == 1
    diff = console.file.getvalue()  # type: ignore[attr-defined]
    assert "-fn  f(){}" in diff and "+fn f() {}" in diff and "clean.rs" not in diff
    console = _console()
    assert cmd_fmt(_args([str(tmp_path)], emit="json"), console, formatter=formatter) == 0
    doc = json.loads(console.file.getvalue())  # type: ignore[attr-defined]
    by_path = {Path(f["path"]).name: f for f in doc["files"]}
    assert by_path["lib.rs"]["edits"] == [
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
            "newText": "fn f() {}\n",
        }
    ]
    assert by_path["clean.rs"]["outcome"] == "unchanged"
    assert doc["stats"]["files"] == 2
    assert cmd_fmt(_args([str(path)]), _console(), formatter=formatter) == EXIT_OK
    assert path.read_bytes() == b"fn f() {}\n" and clean.read_bytes() == b"fn g() {}\n"
    assert cmd_fmt(_args([str(tmp_path)], check=True), _console(), formatter=formatter) == 0
    assert EXIT_FAILURE == 1


def test_stats_view_is_exact_text() -> None:
    summary = FmtSummary(files=3, changed=1, items=10, native_items=9)
    summary.routes.update({"native": 2, "file": 1})
    console = Console(file=io.StringIO(), width=60, color_system=None)
    console.print(stats_table(summary))
    lines = [line.rstrip() for line in console.file.getvalue().splitlines()]  # type: ignore[attr-defined]
    assert lines[1:] == [
        "files                       3",
        "would change                1",
        "top-level items            10",
        "formatted natively  9 (90.0%)",
        "route file                  1",
        "route native                2",
    ]


def test_result_type_defaults() -> None:
    result = FileResult(Path("x.rs"), b"", b"", Outcome.UNCHANGED, Route.NATIVE)
    assert not result.changed


def test_edits_with_equal_ends_keep_their_line_numbers() -> None:
    before = b"".join(b"line %d\n" % i for i in range(50))
    after = before.replace(b"line 20\n", b"LINE 20\nextra\n").replace(b"line 30\n", b"")
    edits = edits_between(before, after)
    assert [(e.start_line, e.end_line) for e in edits] == [(20, 21), (30, 31)]
    lines = before.decode().splitlines(keepends=True)
    for edit in reversed(edits):
        lines[edit.start_line : edit.end_line] = [edit.new_text]
    assert "".join(lines).encode() == after


def test_daemon_style_formatter_reprints_only_changed_items(tmp_path: Path) -> None:
    """The item memo: a second format of a file with one item changed prints one item, and
    ``remember=False`` leaves the fast path's table untouched."""
    body = b"\n".join(b"fn f%d(a: u32) -> u32 {\n    a + %d\n}\n" % (i, i) for i in range(20))
    path = _source_file(tmp_path, body)
    known = KnownFormatted.open(tmp_path / "known")
    try:
        formatter = Formatter(known=known, env=NO_HOME, item_memo_bytes=1 << 20)
        assert formatter.format_bytes(path, body, remember=False).outcome is Outcome.UNCHANGED
        edited = body.replace(b"fn f7(", b"fn  f7 (")
        result = formatter.format_bytes(path, edited, remember=False)
        assert result.outcome is Outcome.CHANGED and result.formatted == body
        assert result.route is Route.NATIVE
        memo = formatter.native.keywords["memo"]  # type: ignore[union-attr]
        assert (memo.misses, memo.hits) == (21, 19)
        assert known.get(formatter.known_key(path, edited)) is None
    finally:
        known.close()


def test_crlf_file_is_formatted_natively_as_rustfmt_does(tmp_path: Path) -> None:
    source = b'fn  f() {\r\n    let s = "a\r\nb";\r\n}\r\n\r\n\r\nconst X: u8 = 1;   // one\r\n'
    path = _source_file(tmp_path, source)
    result = Formatter(env=NO_HOME).format_file(path)
    expected = format_source(source, FmtConfig(edition="2021"), cwd=tmp_path)
    assert b"\r\n" in expected and result.formatted == expected
    # the const natively; the fn (a multi-line literal) by rustfmt, in the same assembly
    assert result.route is Route.ITEMS and result.native_items == 1
    assert result.outcome is Outcome.CHANGED
    lone = _source_file(tmp_path, b"fn f() {}\r\nconst X: u8 = 1;\r", "lone.rs")
    assert Formatter(env=NO_HOME).format_file(lone).reason == "line endings"


def test_error_on_line_overflow_is_rustfmts_to_report(tmp_path: Path) -> None:
    (tmp_path / "rustfmt.toml").write_text("error_on_line_overflow = true\nmax_width = 40\n")
    short = tmp_path / "short.rs"
    short.write_bytes(b"fn  f() {}\n")
    result = Formatter(env=NO_HOME).format_file(short)
    assert result.route is Route.NATIVE and result.formatted == b"fn f() {}\n"
    # A comment line over max_width: the assembly would hold it. Stable rustfmt 1.9 ignores
    # this unstable option with a warning (its --print-config current says false), so the
    # file is assembled as any other; where rustfmt applies it (nightly) rustfmt decides.
    long = tmp_path / "long.rs"
    long.write_bytes(b"fn  f() {}\n// a comment line that is longer than forty columns\n")
    formatter = Formatter(env=NO_HOME)
    config = formatter.config_for(long)
    applied = effective_config(tmp_path / "rustfmt.toml", "2015")["error_on_line_overflow"]
    assert config.error_on_line_overflow is applied
    try:
        expected: bytes | None = format_source(long.read_bytes(), config, cwd=tmp_path)
    except RustfmtError:
        expected = None
    result = formatter.format_file(long)
    assert result.formatted == expected
    assert (result.route is Route.FILE) is applied
    # The fallback itself, as under a rustfmt that applies the option:
    formatter._configs[tmp_path] = dataclasses.replace(config, error_on_line_overflow=True)
    result = formatter.format_file(long)
    assert result.route is Route.FILE and result.reason == "error_on_line_overflow"
    assert result.formatted == expected


PER_ITEM = b"""fn tried() -> Result<u32, ()> { let a = try!(g()); Ok(a) }
fn raw_tried() -> Result<u32, ()> { let a = r#try!(g()); Ok(a) }
fn shorthand() { let s = S { a: a, c: 1 }; }
fn in_a_pattern() { match x { S { a: a } => {} } }
fn  neither() { let s = S { a: b }; let t = try_this!(x); }
struct  Plain { a: u32 }
"""


def test_per_item_options_refuse_only_items_with_their_construct(tmp_path: Path) -> None:
    """use_try_shorthand / use_field_init_shorthand (and the deprecated fn_args_layout for
    the default): the file is assembled, the items holding `try!` or `a: a` go to rustfmt and
    the rest are native; the whole equals rustfmt on the file."""
    from rustg.gpu.fmt.native import format_top_level_items
    from rustg.gpu.items import index_file

    (tmp_path / "rustfmt.toml").write_text(
        'edition = "2015"\nuse_try_shorthand = true\nuse_field_init_shorthand = true\n'
        'fn_args_layout = "Tall"\n'
    )
    path = tmp_path / "lib.rs"
    formatter = Formatter(env=NO_HOME)
    config = formatter.config_for(path)
    assert config.native_allowed and config.per_item == (
        "use_field_init_shorthand",
        "use_try_shorthand",
    )
    # rustfmt rewrites the first three (`g()?`, `S { a, c: 1 }`: changes the safety net does
    # not accept, whatever the route), leaves the pattern alone
    whole = format_source(PER_ITEM, config, cwd=tmp_path)
    assert b"let a = g()?;" in whole and b"S { a, c: 1 }" in whole and b"S { a: a }" in whole
    indexed = index_file(PER_ITEM)
    got = format_top_level_items(PER_ITEM, *indexed, config)
    assert got[:4] == [None] * 4 and all(got[4:])
    plain = format_top_level_items(PER_ITEM, *indexed, FmtConfig(edition="2015"))
    assert plain[1] is not None and plain[2] is not None  # printed as if the option were off
    kept = b"".join(PER_ITEM.splitlines(keepends=True)[3:])
    path.write_bytes(kept)
    result = formatter.format_file(path)
    assert result.route is Route.ITEMS and (result.items, result.native_items) == (3, 2)
    assert result.formatted == format_source(kept, config, cwd=tmp_path)


def test_a_bom_alone_is_no_change(tmp_path: Path) -> None:
    """rustfmt drops a BOM only along with other changes (checked with rustfmt 1.9)."""
    kept = _source_file(tmp_path, b"\xef\xbb\xbffn f() {}\n")
    result = Formatter(env=NO_HOME).format_file(kept)
    assert result.outcome is Outcome.UNCHANGED and result.formatted == kept.read_bytes()
    changed = _source_file(tmp_path, b"\xef\xbb\xbffn  f() {}\n", "changed.rs")
    result = Formatter(env=NO_HOME).format_file(changed)
    assert result.outcome is Outcome.CHANGED and result.formatted == b"fn f() {}\n"


def test_blank_lines_around_a_skipped_item_are_rustfmts(tmp_path: Path) -> None:
    source = b"mod a;\n\n\n\n#[rustfmt::skip]\nmod tables;\n\n\n\nfn f() {}\n"
    path = _source_file(tmp_path, source)
    result = Formatter(env=NO_HOME).format_file(path)
    assert result.reason == "blank lines around rustfmt::skip"
    assert result.formatted == format_source(source, FmtConfig(edition="2021"), cwd=tmp_path)
    # any other skipped item: the one-blank-line rule, as rustfmt does (assembled)
    other = source.replace(b"mod tables;", b"fn  tables() {}")
    path.write_bytes(other)
    result = Formatter(env=NO_HOME).format_file(path)
    assert result.route is not Route.FILE
    assert result.formatted == format_source(other, FmtConfig(edition="2021"), cwd=tmp_path)


def test_a_toolchain_override_rustfmt_cannot_run_under_fails_as_rustfmt_does(
    tmp_path: Path,
) -> None:
    """jpeg-decoder pins toolchain 1.48.0: under rustup, rustfmt fails in its directory, so a
    file there is not formatted natively either. (Without rustup the file is ignored.)"""
    import subprocess

    (tmp_path / "rust-toolchain").write_text("1.0.0-not-installed\n")
    path = _source_file(tmp_path, b"use b;\nuse a;\n")
    probe = subprocess.run(["rustfmt", "--version"], cwd=tmp_path, capture_output=True, check=False)
    result = Formatter(env=NO_HOME).format_file(path)
    if probe.returncode != 0:
        assert result.outcome is Outcome.RUSTFMT_FAILED
        assert result.reason == "rustfmt cannot run here"
    else:
        assert result.formatted == b"use a;\nuse b;\n"


def _rustup_home_with_override(tmp_path: Path, directory: Path, toolchain: str) -> Path | None:
    """A private RUSTUP_HOME sharing the real one's toolchains, whose settings say what the
    real one's do plus ``rustup override set <toolchain>`` for ``directory``; None without
    rustup."""
    import shutil
    import tomllib

    real = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")
    if not (real / "settings.toml").is_file() or not shutil.which("rustup"):
        return None
    home = tmp_path / "rustup-home"
    home.mkdir()
    (home / "toolchains").symlink_to(real / "toolchains")
    default = tomllib.loads((real / "settings.toml").read_text()).get("default_toolchain")
    (home / "settings.toml").write_text(
        f'version = "12"\ndefault_toolchain = "{default}"\nprofile = "default"\n\n'
        f'[overrides]\n"{directory}" = "{toolchain}"\n'
    )
    return home


def test_a_rustup_directory_override_is_a_toolchain_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rustg.gpu.fmt.rustfmt import toolchain_dir

    ws = (tmp_path / "ws").resolve()
    (ws / "src" / "deep").mkdir(parents=True)
    home = tmp_path / "home"
    home.mkdir()
    settings = home / "settings.toml"
    settings.write_text(f'version = "12"\n\n[overrides]\n"{ws}" = "nightly"\n')
    monkeypatch.setenv("RUSTUP_HOME", str(home))
    assert toolchain_dir(ws / "src" / "deep") == ws
    assert toolchain_dir(tmp_path) is None
    # set while running (rustup rewrites the file): seen without a restart
    settings.write_text('version = "12"\n\n[overrides]\n')
    os.utime(settings, (1, 1))
    assert toolchain_dir(ws / "src" / "deep") is None


@pytest.mark.slow
def test_files_under_a_rustup_override_are_formatted_by_that_toolchains_rustfmt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rustup override set nightly` in a directory: rustfmt run there is nightly's, so the
    native printer (a model of the default rustfmt) must stay out and the file is formatted
    by the rustfmt that runs there. Before, only rust-toolchain files were seen."""
    import subprocess

    ws = (tmp_path / "ws").resolve()
    ws.mkdir()
    home = _rustup_home_with_override(tmp_path, ws, "nightly-x86_64-unknown-linux-gnu")
    if home is None:
        pytest.skip("needs rustup")
    monkeypatch.setenv("RUSTUP_HOME", str(home))
    here = subprocess.run(["rustfmt", "--version"], cwd=ws, capture_output=True, text=True,
                          check=False)  # fmt: skip
    default = subprocess.run(["rustfmt", "--version"], cwd=tmp_path, capture_output=True,
                             text=True, check=False)  # fmt: skip
    if here.returncode != 0 or "nightly" not in here.stdout or "nightly" in default.stdout:
        pytest.skip("needs a nightly toolchain with rustfmt next to a non-nightly default")
    path = _source_file(ws, b"use b;\nuse a;\nfn  f() {}\n")
    result = Formatter(env=NO_HOME).format_file(path)
    assert (result.route, result.reason) == (Route.FILE, "toolchain override")
    assert result.formatted == format_source(path.read_bytes(), FmtConfig(edition="2021"), cwd=ws)


def test_safety_net_compares_outputs_larger_than_the_engines_file_limit() -> None:
    """rustfmt's output of a long one-line table can be several times the input: the net must
    still lex all of it (it said "tokens do not cover the file" on such a corpus-sized file)."""
    from rustg.gpu.backend import Backend

    small = Backend("cpu", max_file_bytes=4096)
    source = b"pub const T: [u8; 1000] = [" + b"1," * 1000 + b"];\n"
    formatted = b"pub const T: [u8; 1000] = [\n" + b"    1,\n" * 1000 + b"];\n"
    assert len(source) < small.max_file_bytes < len(formatted)
    check_tokens(source, formatted, backend=small)
    with pytest.raises(SafetyNetError):
        check_tokens(source, formatted.replace(b"    1,\n", b"    2,\n", 1), backend=small)


@pytest.mark.slow
def test_a_file_whose_directory_vanished_fails_alone(tmp_path: Path) -> None:
    # Read before a branch switch deleted its directory: rustfmt cannot run there; the other
    # files of the batch still get their results (found by review: the batch raised).
    (tmp_path / "rustfmt.toml").write_text('edition = "2021"\n')
    ok = tmp_path / "ok.rs"
    ok.write_bytes(MIXED)
    gone = tmp_path / "gone" / "x.rs"
    formatter = Formatter(native=_rustfmt_native, env=NO_HOME, force_items=True, jobs=1)
    results = list(formatter.format_contents([(gone, MIXED), (ok, MIXED)]))
    assert [r.path for r in results] == [gone, ok]
    assert (
        results[0].outcome is Outcome.RUSTFMT_FAILED and "cannot run rustfmt" in results[0].message
    )
    assert results[1].outcome is Outcome.CHANGED
    assert results[1].formatted == formatter.format_file(ok).formatted
