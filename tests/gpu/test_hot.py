"""The hot workspace: slots, the workspace view, LMDB restore, syntax diagnostics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lmdb
import numpy as np
import pytest

from rustg.gpu.backend import Backend
from rustg.gpu.hot import HotWorkspace, SlotOutcome
from rustg.gpu.items import build_items
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.tokens import FileStatus
from rustg.gpu.tree import build_tree
from rustg.protocol.messages import Severity


class CountingBackend(Backend):
    """The real CPU backend, counting how often it is asked to lex and how many files."""

    def __init__(self) -> None:
        super().__init__("cpu")
        self.calls = 0
        self.files = 0

    def lex(self, buffer: Any, file_offsets: Any, **kw: Any) -> Any:
        self.calls += 1
        self.files += len(file_offsets) - 1
        return super().lex(buffer, file_offsets, **kw)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Any]:
    e = lmdb.open(str(tmp_path / "store"), map_size=1 << 26, max_dbs=4)
    yield e
    e.close()


FILES = {
    "src/lib.rs": b"pub mod a;\n/// Doc\npub fn top() -> u8 { 1 }\n",
    "src/a.rs": b"pub struct S;\nimpl S { pub fn new() -> Self { S } }\n",
    "src/main.rs": b'fn main() { println!("hi"); }\n',
    "tests/t.rs": b"#[test]\nfn t() { assert!(true) }\n",
}


def direct(files: dict[str, bytes]) -> tuple[Any, Any, Any]:
    """What a from-scratch batch over the files (in path order) produces."""
    paths = sorted(files)
    offs = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum([len(files[p]) for p in paths], out=offs[1:])
    buf = np.frombuffer(b"".join(files[p] for p in paths), dtype=np.uint8)
    tokens = lex_cpu(buf, offs)
    tree = build_tree(tokens)
    return tokens, tree, build_items(tokens, tree)


def assert_view_is_fresh(ws: HotWorkspace, files: dict[str, bytes]) -> None:
    view = ws.view()
    assert view.paths == tuple(sorted(files))
    tokens, tree, items = direct(files)
    assert np.array_equal(view.tokens.buffer, tokens.buffer)
    assert view.tokens.same_as(tokens)
    assert view.tree.same_as(tree)
    assert view.items.same_as(items)


def test_load_all_batches_into_one_lex_call_and_a_consistent_view() -> None:
    be = CountingBackend()
    ws = HotWorkspace(backend=be)
    reports = ws.load_all(FILES)
    assert be.calls == 1 and be.files == len(FILES)
    assert [r.path for r in reports] == sorted(FILES)
    assert all(r.outcome is SlotOutcome.LEXED for r in reports)
    assert {r.path: r.n_items for r in reports} == {
        "src/a.rs": 3,
        "src/lib.rs": 2,
        "src/main.rs": 1,
        "tests/t.rs": 1,
    }
    assert_view_is_fresh(ws, FILES)
    # one file's slot equals that file lexed alone
    tokens, tree, items = ws.file("src/a.rs")
    alone = direct({"src/a.rs": FILES["src/a.rs"]})
    assert tokens.same_as(alone[0]) and tree.same_as(alone[1]) and items.same_as(alone[2])


def test_update_replaces_one_slot_and_leaves_the_others_untouched() -> None:
    be = CountingBackend()
    ws = HotWorkspace(backend=be)
    ws.load_all(FILES)
    before = {p: ws.file(p) for p in FILES}
    old_view = ws.view()
    gen = ws.generation
    new = b"pub struct S;\npub struct T;\n"
    r = ws.update("src/a.rs", new)
    assert r.outcome is SlotOutcome.LEXED and r.n_items == 2
    assert be.calls == 2 and be.files == len(FILES) + 1  # the saved file alone
    assert ws.generation == gen + 1
    for p in FILES:
        if p != "src/a.rs":
            assert all(a is b for a, b in zip(ws.file(p), before[p], strict=True))
    files = {**FILES, "src/a.rs": new}
    assert_view_is_fresh(ws, files)
    # a view handed out earlier is a snapshot: still the old content
    assert old_view.items.same_as(direct(FILES)[2])
    # saving the same bytes again is a no-op
    assert ws.update("src/a.rs", new).outcome is SlotOutcome.UNCHANGED
    assert be.calls == 2 and ws.generation == gen + 1


def test_new_file_remove_and_rename_leave_no_stale_entries() -> None:
    ws = HotWorkspace(backend=CountingBackend())
    ws.load_all(FILES)
    ws.update("src/new.rs", b"fn fresh() {}\n")
    files = {**FILES, "src/new.rs": b"fn fresh() {}\n"}
    assert_view_is_fresh(ws, files)

    assert ws.remove("src/main.rs") is True
    assert ws.remove("src/main.rs") is False
    del files["src/main.rs"]
    assert "src/main.rs" not in ws
    with pytest.raises(KeyError):
        ws.syntax_diagnostics("src/main.rs")
    assert_view_is_fresh(ws, files)

    ws.update("src/broken.rs", b"fn f( {\n")
    files["src/broken.rs"] = b"fn f( {\n"
    ws.rename("src/broken.rs", "src/renamed.rs")
    files["src/renamed.rs"] = files.pop("src/broken.rs")
    assert ws.paths() == sorted(files)
    assert_view_is_fresh(ws, files)
    diags = ws.syntax_diagnostics("src/renamed.rs")
    assert diags and all(d.file == "src/renamed.rs" for d in diags)
    assert all(s.file == "src/renamed.rs" for d in diags for s in d.spans)
    # rename onto an existing path replaces it, as the filesystem does
    ws.rename("src/renamed.rs", "src/lib.rs")
    files["src/lib.rs"] = files.pop("src/renamed.rs")
    assert_view_is_fresh(ws, files)
    # load_all drops paths it is not given
    ws.load_all({"only.rs": b"struct Only;"})
    assert ws.paths() == ["only.rs"]
    assert_view_is_fresh(ws, {"only.rs": b"struct Only;"})


def test_restart_restores_from_lmdb_without_lexing(env: Any) -> None:
    first = CountingBackend()
    ws = HotWorkspace(backend=first, env=env)
    ws.load_all(FILES)
    assert first.calls == 1
    assert ws.stats.cache_writes == len(FILES)

    # "restart": a new workspace over the same environment
    again = CountingBackend()
    ws2 = HotWorkspace(backend=again, env=env)
    reports = ws2.load_all(FILES)
    assert again.calls == 0
    assert all(r.outcome is SlotOutcome.RESTORED for r in reports)
    assert_view_is_fresh(ws2, FILES)

    # one file changed while the daemon was down: only it is lexed
    changed = {**FILES, "src/main.rs": b"fn main() {}\nfn helper() {}\n"}
    third = CountingBackend()
    ws3 = HotWorkspace(backend=third, env=env)
    outcomes = {r.path: r.outcome for r in ws3.load_all(changed)}
    assert third.calls == 1 and third.files == 1
    assert outcomes["src/main.rs"] is SlotOutcome.LEXED
    assert sum(o is SlotOutcome.RESTORED for o in outcomes.values()) == len(FILES) - 1
    assert_view_is_fresh(ws3, changed)

    # a save that reverts to content seen before is restored, not lexed
    r = ws3.update("src/main.rs", FILES["src/main.rs"])
    assert r.outcome is SlotOutcome.RESTORED and third.calls == 1
    assert_view_is_fresh(ws3, FILES)


def test_identical_files_are_lexed_once(env: Any) -> None:
    be = CountingBackend()
    ws = HotWorkspace(backend=be, env=env)
    same = b"fn same() {}\n"
    ws.load_all({"a.rs": same, "b.rs": same, "c.rs": b"struct C;"})
    assert be.calls == 1 and be.files == 2
    assert_view_is_fresh(ws, {"a.rs": same, "b.rs": same, "c.rs": b"struct C;"})


def test_corrupt_cache_entry_costs_a_relex_not_an_error(env: Any) -> None:
    ws = HotWorkspace(backend=CountingBackend(), env=env)
    ws.load_all({"a.rs": b"fn a() {}"})
    db = env.open_db(b"engine")
    with env.begin(write=True, db=db) as txn:
        for key, _ in list(txn.cursor()):
            txn.put(key, b"not zstd at all")
    be = CountingBackend()
    ws2 = HotWorkspace(backend=be, env=env)
    (r,) = ws2.load_all({"a.rs": b"fn a() {}"})
    assert r.outcome is SlotOutcome.LEXED and be.calls == 1
    assert ws2.stats.cache_errors == 1
    assert_view_is_fresh(ws2, {"a.rs": b"fn a() {}"})


def diag_tuples(ws: HotWorkspace, path: str) -> list[tuple[Any, ...]]:
    return [
        (d.message, d.line, d.column, d.end_line, d.end_column) for d in ws.syntax_diagnostics(path)
    ]


def test_syntax_diagnostics_positions_are_exact() -> None:
    ws = HotWorkspace(backend=CountingBackend())
    # columns count Unicode scalar values: `é` and `€` are one column each
    ws.update("lex.rs", 'fn é() { let € = 1; }\nlet s = "open\n'.encode())
    assert diag_tuples(ws, "lex.rs") == [
        ("unknown start of token: €", 1, 14, 1, 15),
        ("unterminated double quote string", 2, 9, 3, 1),
    ]
    d = ws.syntax_diagnostics("lex.rs")[0]
    assert d.source == "rustg-syntax" and d.severity is Severity.ERROR
    assert [(s.line, s.column, s.primary) for s in d.spans] == [(1, 14, True)]

    ws.update("unclosed.rs", b"fn f() {\n    g(1;\n")
    (a, b) = ws.syntax_diagnostics("unclosed.rs")
    # `(` is paired with nothing; `{` neither: both reported at end of file, pointing home
    assert (a.message, a.line, a.column) == ("this file contains an unclosed delimiter", 3, 1)
    assert [(s.label, s.line, s.column, s.end_column) for s in a.spans] == [
        ("file ends here", 3, 1, 1),
        ("unclosed delimiter", 1, 8, 9),
    ]
    assert [(s.label, s.line, s.column) for s in b.spans][1] == ("unclosed delimiter", 2, 6)

    ws.update("mismatch.rs", b"fn f() { g(1] }\n")
    (m,) = ws.syntax_diagnostics("mismatch.rs")
    assert (m.message, m.line, m.column, m.end_column) == (
        "mismatched closing delimiter: `]`",
        1,
        13,
        14,
    )
    assert [(s.label, s.column) for s in m.spans] == [
        ("mismatched closing delimiter", 13),
        ("unclosed delimiter", 11),
    ]

    ws.update("extra.rs", b"fn main() { }\n}\n")
    (u,) = ws.syntax_diagnostics("extra.rs")
    assert (u.message, u.line, u.column) == ("unexpected closing delimiter: `}`", 2, 1)
    assert [(s.label, s.line, s.column) for s in u.spans] == [
        ("unexpected closing delimiter", 2, 1),
        # the last top-level group before the stray `}`: main's body, as rustc points out
        ("this opening delimiter...", 1, 11),
        ("...matches this closing delimiter", 1, 13),
    ]

    ws.update("clean.rs", b"fn ok() {}\n")
    assert ws.syntax_diagnostics("clean.rs") == []


def test_binary_file_is_reported_not_lexed() -> None:
    ws = HotWorkspace(backend=CountingBackend())
    r = ws.update("core.rs", b"\x7fELF\x00\x00binary")
    assert r.status is FileStatus.BINARY and r.n_tokens == 0
    (d,) = r.diagnostics
    assert (d.line, d.column, d.severity) == (1, 1, Severity.ERROR)
    assert "NUL" in d.message


@pytest.mark.gpu
def test_device_view_mirrors_the_view_per_generation() -> None:
    import cupy

    ws = HotWorkspace(backend=Backend("auto"))
    ws.load_all(FILES)
    dv = ws.device_view()
    assert dv is not None
    view = ws.view()
    assert np.array_equal(cupy.asnumpy(dv["buffer"]), view.tokens.buffer)
    assert np.array_equal(cupy.asnumpy(dv["kind"]), view.tokens.kind)
    assert np.array_equal(cupy.asnumpy(dv["tree.match"]), view.tree.match)
    assert np.array_equal(cupy.asnumpy(dv["items.head"]), view.items.head)
    assert ws.device_view() is dv  # same generation: no new upload
    ws.update("src/a.rs", b"struct Changed;\n")
    dv2 = ws.device_view()
    assert dv2 is not dv
    assert np.array_equal(cupy.asnumpy(dv2["kind"]), ws.view().tokens.kind)


@pytest.mark.gpu
def test_load_all_on_cuda_equals_cpu() -> None:
    ws = HotWorkspace(backend=Backend("cuda"))
    ws.load_all(FILES)
    assert_view_is_fresh(ws, FILES)


def test_each_file_is_lexed_in_its_edition_and_a_manifest_change_relexes_it(env: Any) -> None:
    from rustg.gpu.tokens import Edition, TokenKind

    editions = {"old/src/lib.rs": Edition.E2015, "new/src/lib.rs": Edition.E2021}
    src = b"fn f() { k#x }\n"
    be = CountingBackend()
    ws = HotWorkspace(backend=be, env=env, edition_of=lambda p: editions[p])
    ws.load_all({p: src for p in editions})
    assert be.calls == 1  # same bytes, two editions: two rows of one batch
    assert be.files == 2

    def first_error(path: str) -> list[str]:
        tokens = ws.file(path)[0]
        return [TokenKind(int(k)).name for k in tokens.kind if k >= 128]

    assert first_error("old/src/lib.rs") == []
    assert first_error("new/src/lib.rs") == ["ERR_UNKNOWN_PREFIX"]
    assert [d.message for d in ws.syntax_diagnostics("new/src/lib.rs")] == ["prefix `k` is unknown"]
    editions["old/src/lib.rs"] = Edition.E2021
    (r,) = ws.refresh_editions()
    assert r.path == "old/src/lib.rs"
    assert r.outcome is SlotOutcome.RESTORED  # the 2021 arrays of these bytes are in LMDB
    assert first_error("old/src/lib.rs") == ["ERR_UNKNOWN_PREFIX"]
    assert ws.refresh_editions() == []
    assert ws.update("old/src/lib.rs", src).outcome is SlotOutcome.UNCHANGED


def test_small_batches_index_on_one_numba_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    import rustg.gpu.hot as hot_mod

    files = {f"f{i}.rs": f"fn f{i}() {{ let x = {i}; }}\n".encode() for i in range(4)}
    calls: list[int] = []
    real = numba.set_num_threads

    def record(n: int) -> None:
        calls.append(n)
        real(n)

    monkeypatch.setattr(numba, "set_num_threads", record)
    before = numba.get_num_threads()
    small = HotWorkspace()
    small.load_all(files)
    assert calls == [1, before]  # one thread for the batch, then restored
    assert numba.get_num_threads() == before
    calls.clear()
    monkeypatch.setattr(hot_mod, "PARALLEL_MIN_BYTES", 1)  # every batch is "big"
    big = HotWorkspace()
    big.load_all(files)
    assert calls == []
    for p in files:  # the same arrays either way
        a, b = small.file(p), big.file(p)
        assert np.array_equal(a[0].kind, b[0].kind)
        assert np.array_equal(a[1].match, b[1].match)
        assert np.array_equal(a[2].head, b[2].head)
