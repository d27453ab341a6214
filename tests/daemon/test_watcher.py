"""The watcher against a real filesystem and a real watchdog observer (inotify)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from rustg.daemon.watcher import ChangeReason, ChangeSet, IgnoreRules, Watcher, hash_file, scan_tree

DEBOUNCE = 0.02


def make_tree(root: Path) -> None:
    (root / "src").mkdir()
    (root / "Cargo.toml").write_text('[package]\nname = "w"\nversion = "0.1.0"\n')
    (root / "src" / "lib.rs").write_text("pub fn a() {}\n")
    (root / "target" / "debug").mkdir(parents=True)
    (root / ".gitignore").write_text("generated/\n*.bak.rs\n")


class Harness:
    def __init__(self, watcher: Watcher, receive: trio.MemoryReceiveChannel[ChangeSet]) -> None:
        self.watcher = watcher
        self.receive = receive
        self.notices: list[tuple[str, str]] = []

    async def next(self, timeout: float = 5.0) -> ChangeSet:
        with trio.fail_after(timeout):
            return await self.receive.receive()

    async def nothing(self, wait: float = 0.3) -> None:
        with trio.move_on_after(wait):
            change = await self.receive.receive()
            raise AssertionError(f"expected no change set, got {change}")


@asynccontextmanager
async def watching(root: Path, known: dict[str, str] | None = None) -> AsyncIterator[Harness]:
    send, receive = trio.open_memory_channel[ChangeSet](100)
    notices: list[tuple[str, str]] = []
    watcher = Watcher(
        root, IgnoreRules(root), debounce_s=DEBOUNCE, known=known or {},
        on_changes=send, on_notice=lambda level, msg, kind: notices.append((kind, msg)),
    )  # fmt: skip
    harness = Harness(watcher, receive)
    harness.notices = notices
    async with trio.open_nursery() as nursery:
        await nursery.start(watcher.run)
        yield harness
        nursery.cancel_scope.cancel()


def test_scan_ignores_target_git_and_gitignored(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "target" / "debug" / "x.rs").write_text("")
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "g.rs").write_text("")
    (tmp_path / "src" / "old.bak.rs").write_text("")
    (tmp_path / "notes.txt").write_text("")
    rules = IgnoreRules(tmp_path)
    rules.load_gitignores()
    assert scan_tree(tmp_path, rules) == [".gitignore", "Cargo.toml", "src/lib.rs"]


def test_initial_scan_diffs_against_known_hashes(tmp_path: Path) -> None:
    make_tree(tmp_path)
    known = {
        "src/lib.rs": hash_file(tmp_path / "src/lib.rs") or "",
        "src/gone.rs": "0" * 64,
    }

    async def main() -> None:
        async with watching(tmp_path, known) as h:
            initial = await h.next()
            assert initial.reason is ChangeReason.INITIAL
            assert set(initial.changed) == {".gitignore", "Cargo.toml", "src/gone.rs"}
            assert initial.changed["src/gone.rs"] is None

    trio.run(main)


def test_burst_of_writes_is_one_change_and_noop_saves_are_nothing(tmp_path: Path) -> None:
    make_tree(tmp_path)
    lib = tmp_path / "src" / "lib.rs"

    async def main() -> None:
        async with watching(tmp_path) as h:
            await h.next()  # initial
            for i in range(20):
                lib.write_text(f"pub fn a() {{ {i} }}\n")
            change = await h.next()
            assert change.reason is ChangeReason.SAVE
            assert change.changed == {"src/lib.rs": hash_file(lib)}
            await h.nothing()
            lib.write_text(lib.read_text())  # same content: a no-op save
            os.utime(lib)  # touch
            await h.nothing()

    trio.run(main)


def test_atomic_rename_saves_deletes_and_renames(tmp_path: Path) -> None:
    make_tree(tmp_path)
    lib = tmp_path / "src" / "lib.rs"

    async def main() -> None:
        async with watching(tmp_path) as h:
            await h.next()
            # JetBrains-style: write a temp file, rename it over the original.
            tmp = tmp_path / "src" / "lib.rs___jb_tmp___"
            tmp.write_text("pub fn b() {}\n")
            os.replace(tmp, lib)
            assert (await h.next()).changed == {"src/lib.rs": hash_file(lib)}
            # vim-style: move the original away as a backup, write a new file.
            os.replace(lib, tmp_path / "src" / "lib.rs~")
            lib.write_text("pub fn c() {}\n")
            assert (await h.next()).changed == {"src/lib.rs": hash_file(lib)}
            os.rename(lib, tmp_path / "src" / "main.rs")
            # The destination settles at once, the source after the debounce: one or two sets.
            change = await h.next()
            while len(change.changed) < 2:
                change = ChangeSet({**change.changed, **(await h.next()).changed}, change.reason)
            assert change.changed == {
                "src/lib.rs": None,
                "src/main.rs": hash_file(tmp_path / "src" / "main.rs"),
            }
            (tmp_path / "src" / "main.rs").unlink()
            assert (await h.next()).changed == {"src/main.rs": None}

    trio.run(main)


def test_ignored_paths_trigger_nothing_and_new_dirs_are_watched(tmp_path: Path) -> None:
    make_tree(tmp_path)

    async def main() -> None:
        async with watching(tmp_path) as h:
            await h.next()
            (tmp_path / "target" / "debug" / "build.rs").write_text("x")
            (tmp_path / "src" / "old.bak.rs").write_text("x")
            (tmp_path / "README.md").write_text("not relevant to a build")
            await h.nothing()
            # A new top-level crate directory: watched from now on, its files picked up.
            (tmp_path / "crates").mkdir()
            await trio.sleep(0.1)
            (tmp_path / "crates" / "b.rs").write_text("fn b() {}\n")
            seen: dict[str, str | None] = {}
            while "crates/b.rs" not in seen:
                seen.update((await h.next()).changed)

    trio.run(main)


def test_rescan_is_reported(tmp_path: Path) -> None:
    make_tree(tmp_path)

    async def main() -> None:
        async with watching(tmp_path) as h:
            await h.next()
            (tmp_path / "src" / "new.rs").write_text("fn n() {}\n")
            h.watcher.request_rescan()
            change = await h.next()
            assert change.reason is ChangeReason.RESCAN
            assert "src/new.rs" in change.changed
            assert ("rescan", "rescanning the workspace") in h.notices

    trio.run(main)


def test_symlink_loops_and_fifos_named_rs_are_not_fatal(tmp_path: Path) -> None:
    make_tree(tmp_path)
    os.symlink("loop.rs", tmp_path / "src" / "loop.rs")
    os.mkfifo(tmp_path / "src" / "pipe.rs")

    async def main() -> None:
        async with watching(tmp_path) as h:
            initial = await h.next()
            assert initial.changed.get("src/lib.rs") is not None
            assert "src/loop.rs" not in initial.changed and "src/pipe.rs" not in initial.changed
            (tmp_path / "src" / "lib.rs").write_text("pub fn b() {}\n")
            assert "src/lib.rs" in (await h.next()).changed  # still watching

    trio.run(main)
