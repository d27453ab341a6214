"""The ``parse`` job: the hot workspace engine (rustg.gpu) on every save.

The first run loads every Rust file of the workspace (slots restored from LMDB by content
hash, the rest lexed in one batch); later runs re-lex only the saved files. Each run returns
the syntax diagnostics (``source="rustg-syntax"``) of the files it looked at — an empty list
clears a file. The engine blocks (numba, LMDB), so it runs in a worker thread behind its own
limiter: one engine call at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import trio

from rustg.protocol import Diagnostic

from .threads import tracked

log = logging.getLogger("rustgd.engine")

SOURCE = "rustg-syntax"


def _is_rust(path: str) -> bool:
    return path.endswith(".rs")


def _is_manifest(path: str) -> bool:
    return path == "Cargo.toml" or path.endswith("/Cargo.toml")


class ParseJob:
    verb = "parsed"  # in its job row: "3 files parsed; ..."

    def __init__(
        self,
        root: Path,
        *,
        env: Any,  # the daemon's lmdb.Environment: slots persist in its b"engine" sub-db
        all_files: Callable[[], Mapping[str, str]],
    ) -> None:
        self.root = root
        self._env = env
        self._all_files = all_files
        self._limiter = trio.CapacityLimiter(1)
        self.hot: Any = None  # rustg.gpu.hot.HotWorkspace, created in the worker thread
        self._editions: Any = None  # rustg.gpu.editions.EditionMap: each crate's edition

    def _read(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            return None  # deleted or renamed mid-job: the watcher reports it next

    def _run(
        self, changed: Mapping[str, str | None], known: list[str]
    ) -> dict[str, list[Diagnostic]]:
        from rustg.gpu.editions import EditionMap
        from rustg.gpu.hot import HotWorkspace

        results: dict[str, list[Diagnostic]] = {}
        if self.hot is None:
            self._editions = EditionMap(self.root)
            hot = HotWorkspace(env=self._env, edition_of=self._editions.edition_of)
            files = {}
            for rel in sorted(p for p in known if _is_rust(p)):
                content = self._read(rel)
                if content is not None:
                    files[rel] = content
            for report in hot.load_all(files):
                results[report.path] = list(report.diagnostics)
            self.hot = hot  # only once fully loaded: a failed first load is retried whole
            stats = hot.stats
            log.info(
                "engine: %d files loaded (%d restored, %d lexed)",
                len(files), stats.files_restored, stats.files_lexed,
            )  # fmt: skip
        elif any(_is_manifest(p) for p in changed):
            # A manifest edit may change a crate's edition: re-lex the files it moved.
            self._editions.invalidate()
            for report in self.hot.refresh_editions():
                results[report.path] = list(report.diagnostics)
        for rel, digest in changed.items():
            if not _is_rust(rel):
                continue
            content = None if digest is None else self._read(rel)
            if content is None:
                self.hot.remove(rel)
                results[rel] = []
            else:
                results[rel] = list(self.hot.update(rel, content).diagnostics)
        return results

    async def __call__(
        self, generation: int, changed: dict[str, str | None]
    ) -> dict[str, list[Diagnostic]] | None:
        if self.hot is not None and not any(_is_rust(p) or _is_manifest(p) for p in changed):
            return None  # e.g. only a README changed: nothing for the engine to say
        # Abandoned on cancel: a cold numba compile can take many seconds, and shutdown (or a
        # systemd stop timeout) must not wait for it; `tracked` lets shutdown know it may run on.
        # Needed by the first (loading) run only; copied here, as the watcher mutates it.
        known = list(self._all_files()) if self.hot is None else []
        return await trio.to_thread.run_sync(
            tracked(self._run), changed, known, limiter=self._limiter, abandon_on_cancel=True
        )
