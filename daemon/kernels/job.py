"""The daemon's ``kernels`` job: rebuild the workspace's GPU kernels after a save.

Runs when a saved ``.rs`` file holds (or held) ``#[rustg::kernel]``/``#[rustg::device]`` code,
or a manifest changed. Every kernel goes through the cache, so a save that leaves a kernel's
unit unchanged costs an extraction and a cache hit, not a compile. The result replaces the
job's previous diagnostics file by file (an empty list clears a file).

A superseding job (``JobMode.SUPERSEDING``): the scheduler runs it in the background, and a
newer save that wants it cancels the running build — its rustc/ptxas processes are killed
(``Cancellation``) and its result is never published. The next build starts once the old
worker thread has let go (the limiter), so two builds never write ``target/rustg`` at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import trio

from rustg.protocol import Diagnostic

from ..cache import Cache, load_cache_config
from ..scheduler import JobMode, plural
from ..threads import tracked
from ..workspace import WorkspacePaths
from .build import PackageBuild
from .procs import Cancellation
from .toolchain import NoKernelToolchain
from .workspace import build_workspace_kernels

log = logging.getLogger("rustgd.kernels")

SOURCE = "rustg-kernel"
_MARKERS = (b"rustg::kernel", b"rustg::device")


class KernelJob:
    mode = JobMode.SUPERSEDING

    def __init__(self, paths: WorkspacePaths, *, reported: set[str] | None = None) -> None:
        self.paths = paths
        self._limiter = trio.CapacityLimiter(1)
        self._kernel_files: set[str] = set()
        # Files holding our diagnostics (restored ones too): each must be cleared when fixed.
        self._reported: set[str] = set(reported or ())
        self._cache: Cache | None = None
        self._first = True
        self.unavailable: str | None = None  # why kernels cannot be built here, once known
        self.builds_cancelled = 0
        self.last_cancelled: Cancellation | None = None  # the latest superseded build's
        self.last_summary = ""  # its job row: what the latest build did

    def wants(self, changed: Mapping[str, str | None]) -> bool:
        return self._first or (self.unavailable is None and self._relevant(changed))

    def _relevant(self, changed: Mapping[str, str | None]) -> bool:
        if sum(rel.endswith(".rs") for rel in changed) > 32:
            return True  # a rescan or branch switch: let the build (cached) decide, off the loop
        for rel, digest in changed.items():
            if rel.endswith("Cargo.toml") or rel in self._kernel_files:
                return True
            if rel.endswith(".rs") and digest is not None:
                try:
                    if any(m in (self.paths.root / rel).read_bytes() for m in _MARKERS):
                        return True
                except OSError:
                    continue
        return False

    def _run(self, cancel: Cancellation) -> dict[str, list[Diagnostic]]:
        if self._cache is None:  # opened once (in the worker thread) and kept open
            self._cache = Cache.open(self.paths, load_cache_config(self.paths.root))
        builds = build_workspace_kernels(self.paths.root, cache=self._cache, cancel=cancel)
        files: dict[str, list[Diagnostic]] = {f: [] for f in self._reported}
        self._kernel_files = {f for b in builds for f in b.extraction.files}
        for build in builds:
            for diag in build.diagnostics:
                files.setdefault(diag.file, []).append(diag)
            log.info(
                "kernels: %s for %s in %.2f s (%s)", build.crate,
                ", ".join(a.arch for a in build.archs), build.seconds,
                "cached" if all(a.cached for a in build.archs) else "built",
            )  # fmt: skip
        self._reported = {f for f, ds in files.items() if ds}
        self.last_summary = describe_builds(builds)
        return files

    def _clear_reported(self) -> dict[str, list[Diagnostic]] | None:
        cleared: dict[str, list[Diagnostic]] = {f: [] for f in self._reported}
        self._reported = set()
        return cleared or None

    async def __call__(
        self, generation: int, changed: dict[str, str | None]
    ) -> dict[str, list[Diagnostic]] | None:
        self._first = False
        if self.unavailable is not None:
            return self._clear_reported()  # restored ones we can no longer recheck
        cancel = Cancellation()
        try:
            return await trio.to_thread.run_sync(
                tracked(self._run), cancel, limiter=self._limiter, abandon_on_cancel=True
            )
        except trio.Cancelled:
            # Superseded (or shutdown): kill its tools; the abandoned thread then ends with
            # BuildCancelled at its next step, and keeps the limiter until it has.
            cancel.cancel()
            self.builds_cancelled += 1
            self.last_cancelled = cancel
            log.info("kernels: build superseded, %d tool process(es) killed", len(cancel.killed))
            raise
        except NoKernelToolchain as exc:  # say so once, then stay out of the way
            self.unavailable = str(exc)
            self.last_summary = f"not built: {exc}"
            log.warning("kernels will not be built: %s", exc)
            return self._clear_reported()


def describe_builds(builds: list[PackageBuild]) -> str:
    """E.g. "4 kernels, sm_80+sm_90, 2 units rebuilt"; "no kernels"."""
    kernels = sum(len(b.extraction.kernels) for b in builds)
    if not kernels:
        return "no kernels"
    archs = "+".join(sorted({a.arch for b in builds for a in b.archs})) or "no arch"
    rebuilt = sum(not u.cached for b in builds for a in b.archs for u in a.units)
    return f"{plural(kernels, 'kernel')}, {archs}, {plural(rebuilt, 'unit')} rebuilt"
