"""A file job's row in the job table: what it did, and the workspace's errors and warnings."""

from __future__ import annotations

from pathlib import Path

import trio

from rustg.daemon.config import Config
from rustg.daemon.publisher import Publisher
from rustg.daemon.scheduler import Scheduler
from rustg.daemon.store import Store
from rustg.protocol import Diagnostic, JobState, Severity
from rustg.protocol.state import WorkspaceState


def _diag(file: str, severity: Severity) -> Diagnostic:
    return Diagnostic(
        source="lint", severity=severity, message="m", file=file,
        line=1, column=1, end_line=1, end_column=2,
    )  # fmt: skip


class LintLike:
    verb = "linted"

    async def __call__(self, generation: int, changed: dict[str, str | None]):  # type: ignore[no-untyped-def]
        return {
            "a.rs": [_diag("a.rs", Severity.WARNING), _diag("a.rs", Severity.ERROR)],
            "b.rs": [_diag("b.rs", Severity.WARNING)],
            "c.rs": [],
        }


class SaysWhatItDid:
    last_summary = "2 kernels built"

    async def __call__(self, generation: int, changed: dict[str, str | None]):  # type: ignore[no-untyped-def]
        return {}


def test_rows_name_the_work_and_count_errors_and_warnings(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    publisher = Publisher(WorkspaceState(), store, trio.CapacityLimiter(1))

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            scheduler = Scheduler(
                root=tmp_path, target_dir=tmp_path / "t", config=Config(), publisher=publisher,
                nursery=nursery,
                file_jobs={"lint": ("lint", LintLike()), "k": ("k", SaysWhatItDid())},
            )  # fmt: skip
            await scheduler.submit({"a.rs": "1"}, reason="save", check=False)
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        store.close()
    jobs = publisher.state.jobs
    assert jobs["lint"].state is JobState.FAILED
    assert jobs["lint"].summary == "3 files linted; workspace: 1 error, 2 warnings"
    assert jobs["k"].state is JobState.SUCCEEDED
    assert jobs["k"].summary == "2 kernels built; workspace: 0 errors, 0 warnings"
