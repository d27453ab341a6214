"""File watching: watchdog's thread → trio, per-path debounce, ignore rules, content hashes.

Only *content* changes matter: every settled path is hashed with BLAKE3 and compared with the
last known hash, so no-op saves, ``touch`` and editor backup dances end here. Atomic-rename saves
(vim, JetBrains) arrive as moves and are handled like any other change: both ends of a move are
re-examined after the quiet period. When the watcher cannot be trusted (observer died, event
queue overflowed, a directory moved), the whole tree is rescanned and a notice says so.

``target/`` is never watched (cargo writes thousands of files there): the root is watched
non-recursively and each top-level directory that is not ignored recursively.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import blake3
import pathspec
import trio
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

#: File names that can change a build besides ``*.rs``.
RELEVANT_NAMES: Final = frozenset(
    {"Cargo.toml", "Cargo.lock", "rustg.toml", "rust-toolchain", "rust-toolchain.toml",
     "config.toml", "config", ".gitignore", "rustfmt.toml", ".rustfmt.toml", "rustg-lint.toml"}
)  # fmt: skip
#: Events that can mean new content. Not opens or read-only closes: every `cargo check` reads
#: hundreds of watched files, and each such event cost ~45 µs of daemon CPU (measured).
_EVENTS = [
    FileModifiedEvent, FileCreatedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent,
]  # fmt: skip
#: Paths pending in the debouncer beyond which we give up and rescan.
MAX_PENDING: Final = 50_000


class ChangeReason(enum.StrEnum):
    INITIAL = "initial"  # diff of the tree against the store at start-up
    SAVE = "save"
    RESCAN = "rescan"


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Content changes: path → new BLAKE3 hex digest, or None if the file is gone."""

    changed: dict[str, str | None]
    reason: ChangeReason
    too_large: tuple[str, ...] = field(default=())


class IgnoreRules:
    """target/, .git/, the daemon's own state dir, configured patterns, and .gitignore files
    (the root one and nested ones, each relative to its own directory)."""

    ALWAYS: Final = frozenset({".git", "target", ".hg", ".svn", "node_modules", ".rustg"})

    def __init__(self, root: Path, extra: Iterable[str] = (), state_dir: Path | None = None):
        self.root = root
        self._extra = pathspec.GitIgnoreSpec.from_lines(list(extra))
        self._state_rel: str | None = None
        if state_dir is not None:
            try:
                self._state_rel = state_dir.resolve().relative_to(root).as_posix()
            except ValueError:
                self._state_rel = None
        self._specs: dict[str, pathspec.GitIgnoreSpec] = {}

    def load_gitignores(self) -> None:
        specs: dict[str, pathspec.GitIgnoreSpec] = {}
        for directory, dirnames, filenames in os.walk(self.root):
            rel_dir = Path(directory).relative_to(self.root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            dirnames[:] = [
                d for d in dirnames if not self.ignored(f"{rel_dir}/{d}".lstrip("/"), is_dir=True)
            ]
            if ".gitignore" in filenames:
                try:
                    text = (Path(directory) / ".gitignore").read_text(errors="replace")
                except OSError:
                    continue
                specs[rel_dir] = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
        self._specs = specs

    def ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        parts = rel.split("/")
        if parts[0] == "target" or any(p in self.ALWAYS and p != "target" for p in parts):
            return True
        if self._state_rel and (rel == self._state_rel or rel.startswith(self._state_rel + "/")):
            return True
        probe = rel + "/" if is_dir else rel
        if self._extra.match_file(probe):
            return True
        for base, spec in self._specs.items():
            if base == "":
                if spec.match_file(probe):
                    return True
            elif rel.startswith(base + "/") and spec.match_file(probe[len(base) + 1 :]):
                return True
        return False


def is_relevant(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(".rs") or name in RELEVANT_NAMES


def hash_file(path: Path) -> str | None:
    """BLAKE3 hex digest of a regular file's content; None if it is gone, unreadable or not a
    regular file (a symlink loop, a FIFO named `x.rs` — opened non-blocking, never read)."""
    hasher = blake3.blake3()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            while chunk := fh.read(1 << 20):
                hasher.update(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return hasher.hexdigest()


def scan_tree(root: Path, rules: IgnoreRules) -> list[str]:
    """Every relevant, not-ignored file, workspace-relative, sorted."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = Path(directory).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not rules.ignored(rel_dir + d, is_dir=True))
        for name in filenames:
            rel = rel_dir + name
            if is_relevant(rel) and not rules.ignored(rel):
                found.append(rel)
    found.sort()
    return found


class _Handler(FileSystemEventHandler):
    """Runs in watchdog's thread: filter cheaply, then hand paths to trio."""

    def __init__(self, watcher: Watcher, token: trio.lowlevel.TrioToken) -> None:
        self._watcher = watcher
        self._token = token

    def on_any_event(self, event: FileSystemEvent) -> None:
        rescan = isinstance(event, DirMovedEvent | DirDeletedEvent)
        # A write-close, or a rename ONTO a path, means the editor finished saving that path:
        # act now (measured: the debounce was ~30 of the ~35 ms between a save and its
        # generation). The source of a rename is still mid-save (vim's backup dance): wait.
        paths = [(os.fsdecode(event.src_path), event.event_type == "closed")]
        if dest := getattr(event, "dest_path", ""):
            paths.append((os.fsdecode(dest), True))
        try:
            self._token.run_sync_soon(
                self._watcher._on_raw_paths, paths, rescan, event.is_directory
            )
        except trio.RunFinishedError:
            pass


class Watcher:
    def __init__(
        self,
        root: Path,
        rules: IgnoreRules,
        *,
        debounce_s: float,
        known: dict[str, str],
        on_changes: trio.MemorySendChannel[ChangeSet],
        on_notice: Callable[[str, str, str], None],  # (level, message, kind)
        hash_limiter: trio.CapacityLimiter | None = None,
    ) -> None:
        self.root = root
        self.rules = rules
        self.debounce_s = debounce_s
        self.known = dict(known)
        self._send = on_changes
        self._notice = on_notice
        self._limiter = hash_limiter or trio.CapacityLimiter(2)
        self._deadlines: dict[str, float] = {}
        self._wakeup = trio.Event()
        self._rescan_requested = False
        self._in_flight = 0  # saves being hashed, or sent and not yet started as a generation
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._watched_top: set[str] = set()
        self.healthy = True

    @property
    def pending(self) -> int:
        return len(self._deadlines) + int(self._rescan_requested) + self._in_flight

    def handed_over(self) -> None:
        """The consumer started a generation for one change set we sent."""
        self._in_flight = max(0, self._in_flight - 1)

    async def _hand_over(self, changes: ChangeSet) -> None:
        self._in_flight += 1
        await self._send.send(changes)

    # -- called in the trio thread (via run_sync_soon) ------------------------------------------

    def _on_raw_paths(
        self, paths: list[tuple[str, bool]], rescan: bool, is_directory: bool
    ) -> None:
        now = trio.current_time()
        for raw, settled in paths:
            try:
                rel = Path(raw).relative_to(self.root).as_posix()
            except ValueError:
                continue
            if rel == ".":
                continue
            if self.rules.ignored(rel, is_dir=is_directory):
                continue
            if is_directory:
                if "/" not in rel and rel not in self._watched_top and Path(raw).is_dir():
                    self._watch_top(rel)
                    rescan = True
                continue
            if is_relevant(rel):
                self._deadlines[rel] = now if settled else now + self.debounce_s
        if rescan or len(self._deadlines) > MAX_PENDING:
            self.request_rescan()
        self._wakeup.set()

    def request_rescan(self) -> None:
        self._rescan_requested = True
        self._deadlines.clear()
        self._wakeup.set()

    # -- observer management ----------------------------------------------------------------------

    def _watch_top(self, rel: str) -> None:
        assert self._observer is not None
        try:
            self._observer.schedule(
                self._handler, str(self.root / rel), recursive=True, event_filter=_EVENTS
            )
        except OSError as exc:  # inotify watch limit, vanished directory ...
            self._notice("warning", f"cannot watch {rel}/: {exc}", "watch-error")
            return
        self._watched_top.add(rel)

    def _start_observer(self) -> None:
        self._handler = _Handler(self, trio.lowlevel.current_trio_token())
        observer = Observer()
        observer.daemon = True
        observer.schedule(self._handler, str(self.root), recursive=False, event_filter=_EVENTS)
        self._observer = observer
        self._watched_top = set()
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False) and not self.rules.ignored(
                entry.name, is_dir=True
            ):
                self._watch_top(entry.name)
        observer.start()

    def _stop_observer(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None

    # -- the loop ---------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.to_thread.run_sync(self.rules.load_gitignores, limiter=self._limiter)
        self._start_observer()
        try:
            # Anything that changed while no daemon was watching.
            initial = await self._full_scan(ChangeReason.INITIAL)
            task_status.started()
            # Sent even when empty: the first generation rechecks what was restored.
            await self._hand_over(initial)
            await self._loop()
        finally:
            self._stop_observer()

    async def _loop(self) -> None:
        while True:
            if self._observer is not None and not self._observer.is_alive():
                self.healthy = False
                self._notice(
                    "warning", "file watcher stopped; restarting it and rescanning", "watch-error"
                )
                self._stop_observer()
                self._start_observer()
                self.healthy = True
                self._rescan_requested = True
            if self._rescan_requested:
                self._rescan_requested = False
                self._notice("info", "rescanning the workspace", "rescan")
                changes = await self._full_scan(ChangeReason.RESCAN)
                if changes.changed:
                    await self._hand_over(changes)
                continue
            if not self._deadlines:
                with trio.move_on_after(5.0):  # periodic observer health check
                    await self._wakeup.wait()
                self._wakeup = trio.Event()
                continue
            with trio.move_on_at(min(self._deadlines.values())):
                await self._wakeup.wait()
                self._wakeup = trio.Event()
                continue
            now = trio.current_time()
            due = sorted(p for p, deadline in self._deadlines.items() if deadline <= now)
            for path in due:
                del self._deadlines[path]
            if ".gitignore" in {p.rsplit("/", 1)[-1] for p in due}:
                await trio.to_thread.run_sync(self.rules.load_gitignores, limiter=self._limiter)
            self._in_flight += 1  # hashing in a thread: not in _deadlines any more
            try:
                changes = await self._examine(due, ChangeReason.SAVE)
            finally:
                self._in_flight -= 1
            if changes.changed:
                await self._hand_over(changes)

    async def _examine(self, paths: Iterable[str], reason: ChangeReason) -> ChangeSet:
        def work() -> dict[str, str | None]:
            changed: dict[str, str | None] = {}
            for rel in paths:
                digest = hash_file(self.root / rel)
                if digest != self.known.get(rel):
                    changed[rel] = digest
            return changed

        changed = await trio.to_thread.run_sync(work, limiter=self._limiter)
        for rel, digest in changed.items():
            if digest is None:
                self.known.pop(rel, None)
            else:
                self.known[rel] = digest
        return ChangeSet(changed, reason)

    async def _full_scan(self, reason: ChangeReason) -> ChangeSet:
        present = await trio.to_thread.run_sync(
            scan_tree, self.root, self.rules, limiter=self._limiter
        )
        gone = set(self.known) - set(present)
        return await self._examine([*present, *sorted(gone)], reason)
