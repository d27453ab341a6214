"""The daemon's kernels job as a superseding background job: a newer save kills the running
build's real rustc processes, its result is dropped, and the other file jobs never wait on it."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from rustg.daemon.config import Config
from rustg.daemon.errors import ToolError
from rustg.daemon.kernels.job import KernelJob
from rustg.daemon.kernels.toolchain import find_rustc
from rustg.daemon.publisher import Publisher
from rustg.daemon.scheduler import KERNELS_JOB, JobMode, Scheduler
from rustg.daemon.store import Store
from rustg.daemon.workspace import WorkspacePaths
from rustg.protocol import (
    Diagnostic,
    DiagnosticsPublished,
    Event,
    JobState,
    JobUpdate,
    Severity,
)
from rustg.protocol.state import WorkspaceState
from tests.support.rust_workspaces import copy_example

KERNELS = "crates/kernels/src/kernels.rs"
SOURCE = "rustg-kernel"
TOOLS = ("rustc", "ptxas", "nvlink", "fatbinary")


def _children() -> dict[int, str]:
    """Our child processes that are kernel tools: pid -> name (from /proc, no psutil here)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == os.getpid() and name in TOOLS:
            found[int(entry.name)] = name
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def slow_rustc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """$RUSTC: the real rustc, each compile held 2 s first. A real compile can end between the
    test seeing it and the newer save cancelling it (seen under load on 2 cores), and then there
    is nothing left to kill; held, it is reliably still running. Probes pass straight through."""
    real = shutil.which(os.environ.get("RUSTC", "rustc")) or "rustc"
    wrapper = tmp_path / "bin" / "rustc"  # named rustc: _children() looks for that name
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/bash\n"
        'for a in "$@"; do [[ $a == --crate-type=* ]] && sleep 2 && break; done\n'
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("RUSTC", str(wrapper))
    find_rustc.cache_clear()
    yield
    find_rustc.cache_clear()  # later tests find the real one again


@pytest.mark.slow
@pytest.mark.usefixtures("slow_rustc")
def test_a_newer_save_kills_the_running_kernel_build(tmp_path: Path) -> None:
    try:
        find_rustc()
    except ToolError as exc:
        pytest.skip(str(exc))
    root = copy_example(tmp_path, "gpu-kernels")
    k = root / KERNELS
    # A warning, so that a finished build has something to publish.
    k.write_text(
        k.read_text().replace("let n = x.len()", "let unused = 1u32;\n    let n = x.len()")
    )
    paths = WorkspacePaths.for_root(root, runtime=tmp_path / "run", state=tmp_path / "state")
    paths.ensure()
    store = Store(tmp_path / "db")
    publisher = Publisher(WorkspaceState(), store, trio.CapacityLimiter(1))
    events: list[Event] = []
    publisher.listeners.append(events.append)
    job = KernelJob(paths)
    assert job.mode is JobMode.SUPERSEDING
    inline_ran: list[int] = []

    async def after_kernels(generation: int, changed: dict[str, str | None]) -> None:
        inline_ran.append(generation)

    killed: dict[int, str] = {}
    second_done = trio.Event()

    def watch(event: Event) -> None:
        if (
            isinstance(event, JobUpdate) and event.job.name == KERNELS_JOB
            and event.job.generation == 2
            and event.job.state not in (JobState.QUEUED, JobState.RUNNING)
        ):  # fmt: skip
            second_done.set()

    publisher.listeners.append(watch)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            scheduler = Scheduler(
                root=root, target_dir=tmp_path / "cargo-target", config=Config(),
                publisher=publisher, nursery=nursery,
                file_jobs={KERNELS_JOB: (SOURCE, job), "after": ("after", after_kernels)},
            )  # fmt: skip
            await scheduler.submit({KERNELS: "1"}, reason="save", check=False)
            # The inline job after it ran at once: the cold build (seconds) is in the background.
            assert inline_ran == [1]
            running: dict[int, str] = {}
            for _ in range(6000):  # the tools are other processes: poll /proc, up to 60 s
                if running := _children():
                    break
                await trio.sleep(0.01)
            killed.update(running)
            await scheduler.submit({KERNELS: "2"}, reason="save", check=False)
            assert inline_ran == [1, 2]
            with trio.fail_after(120):
                await second_done.wait()
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        store.close()
    # The superseded build's tools were killed, not left to finish, and are gone.
    assert killed, "no kernel tool was seen running"
    assert job.builds_cancelled == 1 and job.last_cancelled is not None
    stopped = job.last_cancelled.killed
    assert stopped, "cancel() found no tool running to kill"
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in [*stopped, *killed]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in [*stopped, *killed])
    states = [
        (e.job.generation, e.job.state)
        for e in events
        if isinstance(e, JobUpdate) and e.job.name == KERNELS_JOB
    ]
    assert (1, JobState.CANCELLED) in states
    assert (2, JobState.SUCCEEDED) in states, states
    # Only the current generation's result was published; its warning is at the user's line.
    published = [e for e in events if isinstance(e, DiagnosticsPublished) and e.source == SOURCE]
    assert [e.generation for e in published] == [2]
    warnings: list[Diagnostic] = published[0].files[KERNELS]
    line = k.read_text().splitlines().index("    let unused = 1u32;") + 1
    assert [(d.file, d.line) for d in warnings if "unused" in d.message] == [(KERNELS, line)]
    # Its job row says what was built and what the workspace now holds.
    done = next(
        e.job for e in events
        if isinstance(e, JobUpdate) and e.job.name == KERNELS_JOB
        and (e.job.generation, e.job.state) == (2, JobState.SUCCEEDED)
    )  # fmt: skip
    n_warnings = sum(d.severity is Severity.WARNING for d in warnings)
    assert re.fullmatch(
        rf"4 kernels, sm_\d+(\+sm_\d+)*, \d+ units? rebuilt;"
        rf" workspace: 0 errors, {n_warnings} warnings?",
        done.summary,
    ), done.summary
