"""The workspace state as the protocol sees it, and the pure rules for changing it.

The daemon keeps one ``WorkspaceState`` as the authority (every event it publishes is applied to
it, and snapshots are taken from it); every client keeps a replica, rebuilt from a snapshot and
advanced by the same ``apply``. Both sides therefore agree by construction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from .messages import (
    AnyEvent,
    Diagnostic,
    DiagnosticsPublished,
    GenerationStarted,
    Heartbeat,
    JobInfo,
    JobUpdate,
    Notice,
    Snapshot,
)

MAX_NOTICES = 50


class WorkspaceState:
    def __init__(self, *, epoch: str = "", seq: int = 0, generation: int = 0) -> None:
        self.epoch = epoch
        self.seq = seq
        self.generation = generation
        self.jobs: dict[str, JobInfo] = {}
        # source -> file -> diagnostics
        self.diagnostics: dict[str, dict[str, list[Diagnostic]]] = {}
        # source -> generation of the newest diagnostics applied for it
        self.diagnostics_generation: dict[str, int] = {}
        self.notices: deque[Notice] = deque(maxlen=MAX_NOTICES)
        self.pending = 0
        self.restored = False

    # -- snapshots ------------------------------------------------------------------------------

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> WorkspaceState:
        state = cls(epoch=snapshot.epoch, seq=snapshot.seq, generation=snapshot.generation)
        state.jobs = {job.name: job for job in snapshot.jobs}
        for diag in snapshot.diagnostics:
            state.diagnostics.setdefault(diag.source, {}).setdefault(diag.file, []).append(diag)
            gen = state.diagnostics_generation.get(diag.source, 0)
            state.diagnostics_generation[diag.source] = max(gen, diag.generation)
        for source, generation in snapshot.diagnostics_generation.items():
            known = state.diagnostics_generation.get(source, generation)
            state.diagnostics_generation[source] = max(known, generation)
        state.pending = snapshot.pending
        state.restored = snapshot.restored
        return state

    def to_snapshot(self, request_id: int = 0) -> Snapshot:
        return Snapshot(
            id=request_id,
            seq=self.seq,
            epoch=self.epoch,
            generation=self.generation,
            jobs=sorted(self.jobs.values(), key=lambda j: j.name),
            diagnostics=list(self.iter_diagnostics()),
            pending=self.pending,
            restored=self.restored,
            diagnostics_generation=dict(self.diagnostics_generation),
        )

    # -- queries --------------------------------------------------------------------------------

    def iter_diagnostics(self) -> Iterator[Diagnostic]:
        """All diagnostics, ordered by file, then position, then source."""
        everything = [d for files in self.diagnostics.values() for ds in files.values() for d in ds]
        everything.sort(key=lambda d: (d.file, d.line, d.column, d.source))
        return iter(everything)

    def by_file(self) -> dict[str, list[Diagnostic]]:
        grouped: dict[str, list[Diagnostic]] = {}
        for diag in self.iter_diagnostics():
            grouped.setdefault(diag.file, []).append(diag)
        return grouped

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for diag in self.iter_diagnostics():
            counts[diag.severity.value] = counts.get(diag.severity.value, 0) + 1
        return counts

    @property
    def busy(self) -> bool:
        return self.pending > 0 or any(not job.state.finished for job in self.jobs.values())

    def idle_at(self, generation: int) -> bool:
        """True once the daemon has nothing left to do for ``generation`` (or newer)."""
        return self.generation >= generation and not self.busy

    # -- the rules ------------------------------------------------------------------------------

    def apply(self, event: AnyEvent) -> bool:
        """Apply one event; return False if it was stale and changed nothing but ``seq``."""
        self.seq = max(self.seq, event.seq)
        match event:
            case GenerationStarted():
                self.generation = max(self.generation, event.generation)
                self.pending = event.pending
                return True
            case JobUpdate(job=job):
                current = self.jobs.get(job.name)
                if current is not None and current.generation > job.generation:
                    return False  # a stale job result never overwrites a newer one
                self.jobs[job.name] = job
                return True
            case DiagnosticsPublished():
                return self._apply_diagnostics(event)
            case Notice():
                self.notices.append(event)
                return True
            case Heartbeat():
                self.pending = event.pending
                return True
            case _:
                return True

    def _apply_diagnostics(self, event: DiagnosticsPublished) -> bool:
        newest = self.diagnostics_generation.get(event.source, -1)
        if event.generation < newest:
            return False
        self.diagnostics_generation[event.source] = event.generation
        files = self.diagnostics.setdefault(event.source, {})
        if event.replace_all:
            files.clear()
        for path, diags in event.files.items():
            if diags:
                files[path] = list(diags)
            else:
                files.pop(path, None)
        if not files:
            del self.diagnostics[event.source]
        self.restored = any(d.stale for d in self.iter_diagnostics())
        return True
