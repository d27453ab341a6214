"""Save → diagnostics latency of rustgd on Debian's regex 1.7 crate, against raw ``cargo check``.

One run, two temporary copies of the crate (issue 2, "Benchmark"):

* the *daemon* copy, watched by a real ``rustgd`` (started with ``rustgd start``, isolated
  XDG_RUNTIME_DIR/XDG_CACHE_HOME); this process stays subscribed to its event stream (one
  in-process client, so no measurement pays a process start);
* the *raw* copy, where the anchor runs: ``cargo check --workspace --all-targets
  --message-format=json`` (the very command the daemon runs, from ``rustg.daemon.cargo``) with
  its own target dir.

Every edit is applied to both copies (same file, same bytes) and measured on each, the order
alternating from edit to edit so neither side always runs with the warmer caches. Edits cycle
over files of regex's ``src/``: *break* (append a function with a type error, E0308), *fix*
(make that function valid), *revert* (restore the original file). All are incremental: both
target dirs are warm (the daemon's starts as a copy of the raw one, which is built first), and
a few unmeasured warm-up edits precede the measured ones.

Daemon latency: from just before the file ``write`` to the moment both the ``rustc``
DiagnosticsPublished and the finished ``check`` JobUpdate of the generation that save started
have arrived at this client. Raw latency: from just before the same write to cargo's exit. Both
outcomes are checked (the break must report exactly its E0308 at the right line, the others no
error), so a fast wrong answer cannot pass.

Also measured: the daemon's CPU while idle (utime+stime from /proc over a quiet window) and its
resident memory (``rss_bytes`` of the status reply, and the peak from /proc).

    .venv/bin/python bench/bench_save_latency.py [--edits N] [--quick]

Exit status: 0 target met, 1 target missed, 2 the benchmark could not run or saw wrong results.
"""

from __future__ import annotations

import argparse
import enum
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # `tests.support` and `bench.common`, run as a script

import trio  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.common import (  # noqa: E402
    busy_fraction,
    machine_info,
    measure_idle_cpu,
    process_cpu_times,
    process_memory,
    results_path,
    summarize,
    system_cpu_ticks,
    write_results,
)
from rustg import protocol as p  # noqa: E402
from rustg.cli.daemon_client import DaemonClient, open_daemon_client  # noqa: E402
from rustg.daemon.cargo import cargo_command  # noqa: E402
from rustg.daemon.config import Config  # noqa: E402
from rustg.daemon.scheduler import CHECK_JOB  # noqa: E402
from rustg.daemon.workspace import WorkspacePaths  # noqa: E402
from tests.support.rust_workspaces import (  # noqa: E402
    REGEX_CRATE,
    cargo_env,
    copy_regex,
    missing_regex_crates,
)

BIN = Path(sys.executable).parent
NAME = "save-latency"

#: Files of regex's src/ the edits cycle over: the crate root, the engines, the public API.
#: Each is a module of the default feature set, so an error there is an error of the build.
EDIT_FILES = (
    "src/lib.rs",
    "src/exec.rs",
    "src/compile.rs",
    "src/pikevm.rs",
    "src/backtrack.rs",
    "src/re_unicode.rs",
    "src/re_bytes.rs",
    "src/dfa.rs",
    "src/prog.rs",
    "src/literal/imp.rs",
    "src/input.rs",
)
#: No single edit may take longer than this (a cold rebuild of regex takes ~80 s on 2 cores).
EDIT_TIMEOUT_S = 600.0
COLD_TIMEOUT_S = 1800.0
#: Source files read by "another tool" while the daemon's CPU is watched.
FOREIGN_READS = 2000
#: The issue's target: daemon p50 ≤ 1.05 x raw cargo p50 + 20 ms.
TARGET_FACTOR = 1.05
TARGET_SLACK_MS = 20.0


class BenchError(Exception):
    """The benchmark could not run, or saw results that make its numbers meaningless."""


# ---------------------------------------------------------------------------------------------
# The edit plan


class EditKind(enum.StrEnum):
    BREAK = "break"  # append a function with a type error
    FIX = "fix"  # make that function type-check
    REVERT = "revert"  # back to the original file


@dataclass(frozen=True, slots=True)
class Edit:
    index: int
    file: str  # workspace-relative
    kind: EditKind
    content: bytes
    error_line: int | None  # where the E0308 must be reported (break edits only)


def plan_edits(originals: dict[str, bytes], count: int) -> list[Edit]:
    """``count`` edits cycling break → fix → revert over ``EDIT_FILES``."""
    edits: list[Edit] = []
    for index in range(count):
        cycle, step = divmod(index, 3)
        rel = EDIT_FILES[cycle % len(EDIT_FILES)]
        original = originals[rel]
        if not original.endswith(b"\n"):
            raise BenchError(f"{rel} does not end with a newline; the edit lines would shift")
        kind = (EditKind.BREAK, EditKind.FIX, EditKind.REVERT)[step]
        # `#[allow(dead_code)]`: the only diagnostic a break produces is the one we check.
        body = {EditKind.BREAK: "1u8", EditKind.FIX: str(cycle)}.get(kind)
        if body is None:
            content, error_line = original, None
        else:
            appended = (
                f"\n#[allow(dead_code)]\nfn __rustg_bench_{cycle}() -> usize {{\n    {body}\n}}\n"
            )
            content = original + appended.encode()
            # original's lines, the blank line, the attribute, the signature, then the body.
            error_line = original.count(b"\n") + 4 if kind is EditKind.BREAK else None
        edits.append(Edit(index, rel, kind, content, error_line))
    return edits


def expected_errors(edit: Edit) -> set[tuple[str, int, str | None]]:
    if edit.kind is EditKind.BREAK:
        assert edit.error_line is not None
        return {(edit.file, edit.error_line, "E0308")}
    return set()


# ---------------------------------------------------------------------------------------------
# Raw cargo check: the anchor


@dataclass(slots=True)
class RawSample:
    latency_s: float
    returncode: int
    errors: list[tuple[str, int, str | None]]
    cargo_cpu_s: float  # user+system of cargo and the rustc processes it ran


def cargo_errors(stdout: bytes) -> set[tuple[str, int, str | None]]:
    """(file, line, code) of every rustc error with a primary span, from cargo's JSON."""
    found: set[tuple[str, int, str | None]] = set()
    for line in stdout.splitlines():
        if not line.startswith(b"{"):
            continue
        message = json.loads(line)
        if message.get("reason") != "compiler-message":
            continue
        diag = message["message"]
        if diag.get("level") != "error":
            continue
        primary = next((s for s in diag.get("spans", []) if s.get("is_primary")), None)
        if primary is None:
            continue  # "aborting due to 1 previous error" and friends
        code = (diag.get("code") or {}).get("code")
        found.add((primary["file_name"], primary["line_start"], code))
    return found


def run_cargo(
    root: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        cargo_command("check"),
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def measure_raw(root: Path, env: dict[str, str], edit: Edit) -> RawSample:
    path = root / edit.file
    # The only children this process has while it measures are this cargo and its rustcs.
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    path.write_bytes(edit.content)
    done = run_cargo(root, env, EDIT_TIMEOUT_S)
    latency = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    errors = cargo_errors(done.stdout)
    if errors != expected_errors(edit):
        raise BenchError(
            f"raw cargo, edit {edit.index} ({edit.kind} {edit.file}): expected errors "
            f"{sorted(expected_errors(edit))}, got {sorted(errors)}\n"
            + done.stderr.decode(errors="replace")[-2000:]
        )
    if done.returncode not in (0, 101):
        raise BenchError(f"raw cargo exited {done.returncode}:\n{done.stderr.decode()[-2000:]}")
    return RawSample(latency, done.returncode, sorted(errors, key=str), cpu)


# ---------------------------------------------------------------------------------------------
# The daemon, through one in-process client


@dataclass(frozen=True, slots=True)
class Received:
    at: float  # time.perf_counter() when this client's pump task received it
    event: p.AnyEvent


@dataclass(slots=True)
class DaemonSample:
    latency_s: float  # write → rustc diagnostics and finished check job, both received
    generation: int
    job_state: str
    to_generation_s: float  # write → GenerationStarted (debounce, hash, store, publish)
    to_running_s: float  # write → check RUNNING (scheduler, cargo lock)
    to_diagnostics_s: float  # write → rustc DiagnosticsPublished
    to_job_done_s: float  # write → check SUCCEEDED/FAILED
    daemon_check_s: float | None  # the job's finished_at - started_at, on the daemon's clock
    errors: list[tuple[str, int, str | None]]
    #: CPU of the daemon process itself during the edit (utime+stime, all its threads, 10 ms
    #: ticks): watcher, hashing, LMDB, parsing cargo's JSON, publishing. Independent of load.
    daemon_self_cpu_s: float
    #: CPU of the daemon's children (cargo, rustc) that finished during the edit.
    cargo_cpu_s: float
    #: Durations of the generation's other jobs (e.g. the engine's "parse"), daemon clock.
    other_jobs_s: dict[str, float] = field(default_factory=dict)
    other_generations: list[int] = field(default_factory=list)


class DaemonProbe:
    """The benchmark's view of the daemon: events with their arrival times, and requests."""

    def __init__(self, client: DaemonClient, root: Path, pid: int) -> None:
        self.client = client
        self.root = root
        self.pid = pid
        self._send, self._recv = trio.open_memory_channel[Received](math.inf)
        self.received = 0
        self.unexpected: list[dict[str, Any]] = []

    async def pump(self) -> None:
        async for event in self.client.events():
            self.received += 1
            self._send.send_nowait(Received(time.perf_counter(), event))

    def drain(self) -> list[Received]:
        drained = []
        while True:
            try:
                drained.append(self._recv.receive_nowait())
            except trio.WouldBlock:
                return drained

    async def snapshot(self) -> p.Snapshot:
        reply = await self.client.request(p.SnapshotRequest(), timeout=10)
        if not isinstance(reply, p.Snapshot):
            raise BenchError(f"snapshot request answered with {type(reply).__name__}")
        return reply

    async def status(self) -> p.StatusReply:
        reply = await self.client.request(p.StatusRequest(), timeout=10)
        if not isinstance(reply, p.StatusReply):
            raise BenchError(f"status request answered with {type(reply).__name__}")
        return reply

    async def wait_settled(self, timeout: float) -> p.Snapshot:
        """Until the newest generation's check has finished and no save is pending, with the
        subscription proven live (at least one event received: heartbeats come every 2 s)."""
        with trio.fail_after(timeout):
            while True:
                snap = await self.snapshot()
                check = next((j for j in snap.jobs if j.name == CHECK_JOB), None)
                if (
                    self.received
                    and check is not None
                    and check.state.finished
                    and check.generation == snap.generation
                    and snap.pending == 0
                ):
                    if check.state is p.JobState.CRASHED:
                        raise BenchError(f"the daemon's check crashed: {check.summary}")
                    return snap
                with trio.move_on_after(1.0):
                    while True:
                        got = await self._recv.receive()
                        if isinstance(got.event, p.JobUpdate) and got.event.job.state.finished:
                            break

    async def measure(self, edit: Edit) -> DaemonSample:
        await trio.lowlevel.checkpoint()  # let the pump hand over anything already received
        for stale in self.drain():
            if isinstance(stale.event, p.GenerationStarted | p.JobUpdate):
                self.unexpected.append({"before_edit": edit.index, **p.to_builtins(stale.event)})
        path = self.root / edit.file
        cpu_before = process_cpu_times(self.pid)
        started = time.perf_counter()
        path.write_bytes(edit.content)

        generation: int | None = None
        t_generation = t_running = t_diagnostics = t_done = math.nan
        rustc: p.DiagnosticsPublished | None = None
        job: p.JobInfo | None = None
        others: list[int] = []
        other_jobs: dict[str, float] = {}
        with trio.fail_after(EDIT_TIMEOUT_S):
            while True:
                got = await self._recv.receive()
                event = got.event
                if isinstance(event, p.GenerationStarted):
                    if generation is None and edit.file in event.changed:
                        generation, t_generation = event.generation, got.at
                    else:
                        others.append(event.generation)
                    continue
                if generation is None:
                    continue
                if (
                    isinstance(event, p.JobUpdate)
                    and event.job.name != CHECK_JOB
                    and event.job.generation == generation
                    and event.job.state.finished
                    and event.job.duration is not None
                ):
                    other_jobs[event.job.name] = event.job.duration
                elif isinstance(event, p.JobUpdate) and event.job.name == CHECK_JOB:
                    info = event.job
                    if info.generation < generation:
                        continue
                    if info.state is p.JobState.RUNNING and math.isnan(t_running):
                        t_running = got.at
                    elif info.state in (p.JobState.SUCCEEDED, p.JobState.FAILED):
                        job, t_done = info, got.at
                    elif info.state is p.JobState.CRASHED:
                        raise BenchError(f"edit {edit.index}: check crashed: {info.summary}")
                    # CANCELLED: a newer generation superseded it; its result will follow.
                elif (
                    isinstance(event, p.DiagnosticsPublished)
                    and event.source == "rustc"
                    and event.generation >= generation
                ):
                    rustc, t_diagnostics = event, got.at
                if rustc is not None and job is not None and rustc.generation == job.generation:
                    break
        cpu_after = process_cpu_times(self.pid)
        assert generation is not None
        errors = {
            (d.file, d.line, d.code)
            for diags in rustc.files.values()
            for d in diags
            if d.severity is p.Severity.ERROR
        }
        if errors != expected_errors(edit):
            raise BenchError(
                f"daemon, edit {edit.index} ({edit.kind} {edit.file}): expected errors "
                f"{sorted(expected_errors(edit))}, got {sorted(errors, key=str)}"
            )
        return DaemonSample(
            latency_s=max(t_diagnostics, t_done) - started,
            generation=job.generation,
            job_state=job.state.value,
            to_generation_s=t_generation - started,
            to_running_s=t_running - started,
            to_diagnostics_s=t_diagnostics - started,
            to_job_done_s=t_done - started,
            daemon_check_s=job.duration,
            errors=sorted(errors, key=str),
            daemon_self_cpu_s=cpu_after.total_s - cpu_before.total_s,
            cargo_cpu_s=cpu_after.children_s - cpu_before.children_s,
            other_jobs_s=other_jobs,
            other_generations=others,
        )


def measure_foreign_reads(pid: int, root: Path, reads: int, settle_s: float) -> dict[str, Any]:
    """Daemon CPU while another process only *reads* the workspace's sources (what rustc, the
    user's own cargo, rust-analyzer or grep do all day): nothing changes, so ideally the daemon
    does nothing at all."""
    sources = sorted(
        path
        for path in root.rglob("*.rs")
        if not ({"target", ".git"} & set(path.relative_to(root).parts))
    )
    before = process_cpu_times(pid)
    started = time.monotonic()
    for index in range(reads):
        sources[index % len(sources)].read_bytes()
    time.sleep(settle_s)  # whatever the reads woke up in the daemon has run by now
    after = process_cpu_times(pid)
    cpu_ms = (after.total_s - before.total_s) * 1e3
    return {
        "reads": reads,
        "files": len(sources),
        "window_s": time.monotonic() - started,
        "daemon_cpu_ms": cpu_ms,
        "daemon_cpu_us_per_read": cpu_ms * 1e3 / reads,
    }


# ---------------------------------------------------------------------------------------------
# The run


@dataclass(slots=True)
class Options:
    edits: int
    warmup: int
    idle_s: float
    pause_s: float
    debounce_ms: int | None
    keep: bool
    output: Path | None
    quick: bool


@dataclass(slots=True)
class Measured:
    edit: Edit
    daemon_first: bool
    raw: RawSample
    daemon: DaemonSample
    loadavg_1m: float  # just before the pair: other users of this machine show up here


@dataclass(slots=True)
class RunData:
    measured: list[Measured] = field(default_factory=list)
    setup_s: dict[str, float] = field(default_factory=dict)
    idle: dict[str, float] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)
    daemon_pid: int = 0
    machine: dict[str, Any] = field(default_factory=dict)
    foreign_reads: dict[str, Any] = field(default_factory=dict)
    unexpected_events: list[dict[str, Any]] = field(default_factory=list)
    machine_load: dict[str, float] = field(default_factory=dict)


def _log(console: Console, message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)


class Bench:
    def __init__(self, options: Options, console: Console) -> None:
        self.options = options
        self.console = console
        self.base = Path(tempfile.mkdtemp(prefix="rgb", dir="/tmp"))  # short: ipc path limit
        (self.base / "run").mkdir(mode=0o700)
        self.daemon_root = copy_regex(self.base / "d")
        self.raw_root = copy_regex(self.base / "r")
        self.raw_target = self.base / "raw-target"
        self.paths = WorkspacePaths.for_root(
            self.daemon_root,
            runtime=self.base / "run" / "rustg",
            state=self.base / "cache" / "rustg",
        )
        base_env = cargo_env(base=os.environ)
        base_env.pop("RUSTG_ANSI_RENDERED", None)  # plain JSON, as the anchor
        self.raw_env = {**base_env, "CARGO_TARGET_DIR": str(self.raw_target)}
        self.daemon_env = {
            **base_env,
            "XDG_RUNTIME_DIR": str(self.base / "run"),
            "XDG_CACHE_HOME": str(self.base / "cache"),
        }
        self.data = RunData()
        # Now, while the code the daemon will load is on disk: others commit during the run.
        self.data.machine = machine_info()

    def _rustgd(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "rustgd"), *args, "--workspace", str(self.daemon_root)],
            env=self.daemon_env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def daemon_log_tail(self) -> str:
        try:
            return "\n".join(self.paths.log_file.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no daemon log)"

    def prepare(self) -> None:
        """Cold build of the raw copy, then the daemon started (its initial check is its own
        cold build, timed in ``run_async``).

        The daemon's target dir is deliberately not seeded with a copy of the raw one: cargo
        would take it as fresh, but rustc's incremental caches name source files by absolute
        path, so the daemon's first real edit would recheck every target from scratch (seen:
        59.5 s against 11.3 s for raw cargo on the same edit)."""
        console = self.console
        _log(console, f"workspace copies under {self.base}; cold `cargo check` of the raw copy")
        started = time.perf_counter()
        cold = run_cargo(self.raw_root, self.raw_env, COLD_TIMEOUT_S)
        self.data.setup_s["raw_cold_check"] = time.perf_counter() - started
        if cold.returncode != 0:
            raise BenchError(f"cold cargo check failed:\n{cold.stderr.decode()[-3000:]}")
        _log(console, f"cold check took {self.data.setup_s['raw_cold_check']:.1f} s")
        if self.options.debounce_ms is not None:
            (self.daemon_root / "rustg.toml").write_text(
                f"[daemon]\ndebounce_ms = {self.options.debounce_ms}\n"
            )
        started = time.perf_counter()
        out = self._rustgd("start")
        self.data.setup_s["daemon_start"] = time.perf_counter() - started
        if out.returncode != 0:
            raise BenchError(f"rustgd start failed:\n{out.stdout}{out.stderr}")
        _log(console, out.stdout.strip())

    def stop(self) -> None:
        out = self._rustgd("stop", timeout=60)
        if out.returncode != 0:
            self.console.print(f"[yellow]rustgd stop: {out.stdout}{out.stderr}[/yellow]")

    async def run_async(self) -> None:
        options, console = self.options, self.console
        async with (
            open_daemon_client(self.paths, subscribe=True) as client,
            trio.open_nursery() as nursery,
        ):
            welcome = await client.request(p.Hello(client="bench-save-latency"), timeout=10)
            if not isinstance(welcome, p.Welcome):
                raise BenchError(f"hello answered with {type(welcome).__name__}")
            self.data.daemon_pid = welcome.daemon.pid
            probe = DaemonProbe(client, self.daemon_root, welcome.daemon.pid)
            nursery.start_soon(probe.pump)
            started = time.perf_counter()
            _log(console, "waiting for the daemon's initial (cold) check")
            await probe.wait_settled(COLD_TIMEOUT_S)
            self.data.setup_s["daemon_initial_check"] = time.perf_counter() - started
            _log(console, f"daemon settled after {self.data.setup_s['daemon_initial_check']:.1f} s")
            self.data.memory["rss_after_initial_check"] = (await probe.status()).rss_bytes

            originals = {rel: (self.daemon_root / rel).read_bytes() for rel in EDIT_FILES}
            plan = plan_edits(originals, options.warmup + options.edits)
            cpu_before, load_before = system_cpu_ticks(), os.getloadavg()[0]
            for edit in plan:
                load = os.getloadavg()[0]
                measured = edit.index >= options.warmup
                daemon_first = edit.index % 2 == 0
                if daemon_first:
                    daemon = await probe.measure(edit)
                    await trio.sleep(options.pause_s)
                    raw = await trio.to_thread.run_sync(
                        measure_raw, self.raw_root, self.raw_env, edit
                    )
                else:
                    raw = await trio.to_thread.run_sync(
                        measure_raw, self.raw_root, self.raw_env, edit
                    )
                    await trio.sleep(options.pause_s)
                    daemon = await probe.measure(edit)
                await trio.sleep(options.pause_s)
                label = "measured" if measured else "warm-up"
                _log(
                    console,
                    f"{label} {edit.index:>3} {edit.kind.value:<6} {edit.file:<20} "
                    f"raw {raw.latency_s * 1e3:8.1f} ms   daemon {daemon.latency_s * 1e3:8.1f} ms"
                    f"   (write→generation {daemon.to_generation_s * 1e3:5.1f} ms)",
                )
                if measured:
                    self.data.measured.append(Measured(edit, daemon_first, raw, daemon, load))
            self.data.machine_load = {
                "loadavg_1m_before": load_before,
                "loadavg_1m_after": os.getloadavg()[0],
                "cpu_busy_fraction": busy_fraction(cpu_before, system_cpu_ticks()),
                "cpus": float(os.cpu_count() or 0),
            }

            await probe.wait_settled(EDIT_TIMEOUT_S)
            status = await probe.status()
            self.data.memory["rss_after_edits"] = status.rss_bytes
            await trio.sleep(1.0)  # let the last publish and LMDB commit finish
            probe.drain()
            _log(console, f"measuring idle CPU over {options.idle_s:g} s (client still attached)")
            idle = await trio.to_thread.run_sync(
                measure_idle_cpu, self.data.daemon_pid, options.idle_s
            )
            self.data.idle = idle.to_json()
            self.data.memory.update(process_memory(self.data.daemon_pid))
            _log(console, f"daemon CPU while {FOREIGN_READS} source files are read by another tool")
            self.data.foreign_reads = await trio.to_thread.run_sync(
                measure_foreign_reads, self.data.daemon_pid, self.daemon_root, FOREIGN_READS, 2.0
            )
            self.data.foreign_reads["generations_started"] = sum(
                isinstance(r.event, p.GenerationStarted) for r in probe.drain()
            )
            self.data.unexpected_events = probe.unexpected + [
                {"after_run": True, **p.to_builtins(r.event)}
                for r in probe.drain()
                if isinstance(r.event, p.GenerationStarted | p.JobUpdate)
            ]
            nursery.cancel_scope.cancel()

    def cleanup(self) -> None:
        if self.options.keep:
            self.console.print(f"kept {self.base}")
        else:
            shutil.rmtree(self.base, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Report


def _ms(values: Sequence[float]) -> list[float]:
    return [v * 1e3 for v in values]


def _in_ms(key: str, value: Any) -> tuple[str, Any]:
    """A ``*_s`` field (seconds, or a dict of seconds) as ``*_ms``; anything else unchanged."""
    if not key.endswith("_s"):
        return key, value
    if isinstance(value, dict):
        return key[:-2] + "_ms", {k: v * 1e3 for k, v in value.items()}
    return key[:-2] + "_ms", value * 1e3 if isinstance(value, float) else value


def build_report(options: Options, data: RunData) -> dict[str, Any]:
    raw = _ms([m.raw.latency_s for m in data.measured])
    daemon = _ms([m.daemon.latency_s for m in data.measured])
    raw_s, daemon_s = summarize(raw), summarize(daemon)
    overhead = [d - r for d, r in zip(daemon, raw, strict=True)]
    ratios = [d / r for d, r in zip(daemon, raw, strict=True)]
    allowed = TARGET_FACTOR * raw_s["p50"] + TARGET_SLACK_MS
    by_kind = {}
    for kind in EditKind:
        picked = [m for m in data.measured if m.edit.kind is kind]
        if picked:
            r = summarize(_ms([m.raw.latency_s for m in picked]))
            d = summarize(_ms([m.daemon.latency_s for m in picked]))
            by_kind[kind.value] = {
                "raw_ms": r,
                "daemon_ms": d,
                "ratio_p50": d["p50"] / r["p50"],
                "paired_overhead_ms": summarize(
                    _ms([m.daemon.latency_s - m.raw.latency_s for m in picked])
                ),
                "write_to_generation_ms": summarize(
                    _ms([m.daemon.to_generation_s for m in picked])
                ),
                "raw_cargo_cpu_ms": summarize(_ms([m.raw.cargo_cpu_s for m in picked])),
                "daemon_cargo_cpu_ms": summarize(_ms([m.daemon.cargo_cpu_s for m in picked])),
                "daemon_self_cpu_ms": summarize(_ms([m.daemon.daemon_self_cpu_s for m in picked])),
            }

    def stage(name: str) -> dict[str, float | int]:
        return summarize(_ms([getattr(m.daemon, name) for m in data.measured]))

    daemon_cargo = [m.daemon.daemon_check_s for m in data.measured]
    breakdown = {
        "write_to_generation_ms": stage("to_generation_s"),
        "write_to_check_running_ms": stage("to_running_s"),
        "write_to_rustc_diagnostics_ms": stage("to_diagnostics_s"),
        "write_to_check_done_ms": stage("to_job_done_s"),
        "generation_to_running_ms": summarize(
            _ms([m.daemon.to_running_s - m.daemon.to_generation_s for m in data.measured])
        ),
        "running_to_rustc_diagnostics_ms": summarize(
            _ms([m.daemon.to_diagnostics_s - m.daemon.to_running_s for m in data.measured])
        ),
        "rustc_diagnostics_to_check_done_ms": summarize(
            _ms([m.daemon.to_job_done_s - m.daemon.to_diagnostics_s for m in data.measured])
        ),
        "daemon_job_duration_ms": summarize(_ms([d for d in daemon_cargo if d is not None])),
    }
    for job in sorted({name for m in data.measured for name in m.daemon.other_jobs_s}):
        durations = [
            m.daemon.other_jobs_s[job] for m in data.measured if job in m.daemon.other_jobs_s
        ]
        breakdown[f"job_{job}_ms"] = summarize(_ms(durations))
    return {
        "benchmark": NAME,
        "workspace": REGEX_CRATE,
        "command": cargo_command("check"),
        "options": {
            "edits": options.edits,
            "warmup": options.warmup,
            "idle_s": options.idle_s,
            "pause_s": options.pause_s,
            "quick": options.quick,
            "debounce_ms": options.debounce_ms
            if options.debounce_ms is not None
            else Config().debounce_ms,
            "debounce_overridden": options.debounce_ms is not None,
            "edit_files": list(EDIT_FILES),
        },
        "machine": data.machine,
        "setup_s": data.setup_s,
        "summary": {
            "raw_cargo_ms": raw_s,
            "daemon_ms": daemon_s,
            "ratio_p50": daemon_s["p50"] / raw_s["p50"],
            "ratio_p95": daemon_s["p95"] / raw_s["p95"],
            "paired_overhead_ms": summarize(overhead),
            "paired_ratio": summarize(ratios),
            # CPU seconds do not stretch when other processes compete for the cores: they tell
            # whether both sides did the same compiler work, and what the daemon itself costs.
            "raw_cargo_cpu_ms": summarize(_ms([m.raw.cargo_cpu_s for m in data.measured])),
            "daemon_cargo_cpu_ms": summarize(_ms([m.daemon.cargo_cpu_s for m in data.measured])),
            "daemon_self_cpu_ms": summarize(
                _ms([m.daemon.daemon_self_cpu_s for m in data.measured])
            ),
            "by_kind": by_kind,
            "daemon_breakdown": breakdown,
        },
        "target": {
            "rule": f"daemon p50 <= {TARGET_FACTOR} x raw cargo p50 + {TARGET_SLACK_MS:g} ms",
            "allowed_p50_ms": allowed,
            "daemon_p50_ms": daemon_s["p50"],
            "margin_ms": allowed - daemon_s["p50"],
            "met": daemon_s["p50"] <= allowed,
            "enough_edits": len(data.measured) >= 30,
        },
        "machine_load_during_edits": data.machine_load,
        "idle_cpu": data.idle,
        "foreign_reads": data.foreign_reads,
        "memory": data.memory,
        "daemon_pid": data.daemon_pid,
        "unexpected_events": data.unexpected_events,
        "edits": [
            {
                "index": m.edit.index,
                "file": m.edit.file,
                "kind": m.edit.kind.value,
                "order": "daemon-first" if m.daemon_first else "raw-first",
                "loadavg_1m": m.loadavg_1m,
                "raw_ms": m.raw.latency_s * 1e3,
                "raw_returncode": m.raw.returncode,
                "raw_cargo_cpu_ms": m.raw.cargo_cpu_s * 1e3,
                "daemon_ms": m.daemon.latency_s * 1e3,
                "daemon": dict(
                    _in_ms(k, v)
                    for k, v in asdict(m.daemon).items()
                    if k not in ("latency_s", "errors")
                ),
                "errors": m.raw.errors,
            }
            for m in data.measured
        ],
    }


def render(report: dict[str, Any], console: Console) -> None:
    summary, target = report["summary"], report["target"]
    raw, daemon = summary["raw_cargo_ms"], summary["daemon_ms"]
    table = Table(
        title=f"save → diagnostics, {report['workspace']}, {raw['n']} edits "
        f"(cargo check --workspace --all-targets)"
    )
    for column in ("", "p50 ms", "p95 ms", "mean ms", "min ms", "max ms"):
        table.add_column(column, justify="left" if not column else "right")

    def row(label: str, s: dict[str, float], style: str = "") -> None:
        table.add_row(
            label,
            *(f"{s[k]:.1f}" for k in ("p50", "p95", "mean", "min", "max")),
            style=style,
        )

    row("raw cargo check", raw)
    row("rustgd (write → result)", daemon, "bold")
    row("paired overhead (daemon - raw)", summary["paired_overhead_ms"])
    table.add_row(
        "ratio daemon / raw",
        f"{summary['ratio_p50']:.3f}",
        f"{summary['ratio_p95']:.3f}",
        "",
        "",
        "",
    )
    for kind, figures in summary["by_kind"].items():
        overhead = figures["paired_overhead_ms"]
        table.add_row(
            f"  {kind} (n={figures['raw_ms']['n']}): raw / daemon",
            f"{figures['raw_ms']['p50']:.0f} / {figures['daemon_ms']['p50']:.0f}",
            f"{figures['raw_ms']['p95']:.0f} / {figures['daemon_ms']['p95']:.0f}",
            f"x{figures['ratio_p50']:.3f}",
            "overhead",
            f"p50 {overhead['p50']:+.0f}",
            style="dim",
        )
    console.print(table)

    cpu = Table(title="CPU per edit (does not stretch under load), p50 ms")
    for column in ("edit kind", "raw cargo", "daemon's cargo", "daemon itself"):
        cpu.add_column(column, justify="left" if column == "edit kind" else "right")
    for kind, figures in [*summary["by_kind"].items(), ("all", summary)]:
        cpu.add_row(
            kind,
            f"{figures['raw_cargo_cpu_ms']['p50']:.0f}",
            f"{figures['daemon_cargo_cpu_ms']['p50']:.0f}",
            f"{figures['daemon_self_cpu_ms']['p50']:.1f}",
        )
    console.print(cpu)

    stages = Table(title="where the daemon's time goes (from the write, medians and p95)")
    for column in ("stage", "p50 ms", "p95 ms"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for key, label in (
        ("write_to_generation_ms", "write → GenerationStarted (debounce, hash, LMDB)"),
        ("generation_to_running_ms", "GenerationStarted → check running"),
        ("running_to_rustc_diagnostics_ms", "check running → rustc diagnostics"),
        ("rustc_diagnostics_to_check_done_ms", "rustc diagnostics → check done"),
        ("daemon_job_duration_ms", "check job (daemon clock: started→finished)"),
    ):
        s = summary["daemon_breakdown"][key]
        stages.add_row(label, f"{s['p50']:.1f}", f"{s['p95']:.1f}")
        if key == "generation_to_running_ms":
            for job_key, s in summary["daemon_breakdown"].items():
                if job_key.startswith("job_"):
                    name = job_key.removeprefix("job_").removesuffix("_ms")
                    stages.add_row(
                        f"  of which the {name} job", f"{s['p50']:.1f}", f"{s['p95']:.1f}"
                    )
    stages.add_row("raw cargo check (anchor)", f"{raw['p50']:.1f}", f"{raw['p95']:.1f}")
    console.print(stages)

    verdict = "[bold green]MET[/]" if target["met"] else "[bold red]MISSED[/]"
    console.print(
        f"target: {target['rule']}: allowed {target['allowed_p50_ms']:.1f} ms, "
        f"daemon {target['daemon_p50_ms']:.1f} ms, margin {target['margin_ms']:+.1f} ms → "
        + verdict
    )
    if not target["enough_edits"]:
        console.print("[yellow]fewer than 30 measured edits: not a result for the issue[/]")
    load = report["machine_load_during_edits"]
    console.print(
        f"machine during the edits: {100 * load['cpu_busy_fraction']:.0f} % of "
        f"{load['cpus']:.0f} CPUs busy (this benchmark's cargo runs included), load average "
        f"{load['loadavg_1m_before']:.1f} → {load['loadavg_1m_after']:.1f}"
    )
    idle, memory = report["idle_cpu"], report["memory"]
    console.print(
        f"daemon idle CPU: {idle['cpu_percent']:.2f} % of a core over {idle['seconds']:.1f} s "
        f"({idle['cpu_s'] * 1e3:.0f} ms utime+stime; schedstat {idle['scheduled_ms']:.1f} ms "
        f"= {idle['scheduled_percent']:.3f} %)"
    )
    wakeups = sum(t["wakeups_per_s"] for t in idle["threads"])
    console.print(
        f"  {len(idle['threads'])} threads, {wakeups:.1f} wake-ups/s in all; busiest: "
        + ", ".join(
            f"{t['name']}[{t['tid']}] {t['run_ms']:.1f} ms {t['wakeups_per_s']:.1f}/s"
            for t in idle["threads"][:4]
        ),
        highlight=False,
    )
    reads = report["foreign_reads"]
    console.print(
        f"daemon CPU while another process reads {reads['reads']} .rs files of the workspace "
        f"(no change): {reads['daemon_cpu_ms']:.0f} ms = {reads['daemon_cpu_us_per_read']:.0f} "
        f"µs per read; generations started: {reads['generations_started']}"
    )
    console.print(
        f"daemon resident memory: {memory.get('rss_after_edits', 0) / 2**20:.1f} MiB "
        f"(status rss_bytes after the edits; {memory.get('rss_after_initial_check', 0) / 2**20:.1f}"
        f" MiB after the initial check; peak {memory.get('peak_rss_bytes', 0) / 2**20:.1f} MiB)"
    )
    if report["unexpected_events"]:
        console.print(
            f"[yellow]{len(report['unexpected_events'])} generation/job events outside the "
            "measured edits (see the JSON)[/]"
        )


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="rustgd save → diagnostics latency vs raw cargo check on regex 1.7",
    )
    parser.add_argument("--edits", type=int, help="measured edits (default 30; quick: 6)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 6 edits, 1 warm-up, 3 s idle window"
    )
    parser.add_argument("--warmup", type=int, help="unmeasured edits first (default 3; quick 1)")
    parser.add_argument("--idle-seconds", type=float, help="idle CPU window (default 10; quick 3)")
    parser.add_argument(
        "--pause", type=float, default=0.2, help="seconds of quiet between measurements"
    )
    parser.add_argument(
        "--debounce-ms",
        type=int,
        help="run the daemon with this debounce (written to the daemon copy's rustg.toml); "
        "default: the daemon's own default",
    )
    parser.add_argument("--output", type=Path, help="results file (default bench/results/...)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspaces")
    args = parser.parse_args(argv)
    edits = args.edits if args.edits is not None else (6 if args.quick else 30)
    if edits < 1:
        parser.error("--edits must be at least 1")
    return Options(
        edits=edits,
        warmup=args.warmup if args.warmup is not None else (1 if args.quick else 3),
        idle_s=args.idle_seconds
        if args.idle_seconds is not None
        else (3.0 if args.quick else 10.0),
        pause_s=args.pause,
        debounce_ms=args.debounce_ms,
        keep=args.keep,
        output=args.output,
        quick=args.quick,
    )


_EXPECTED = (BenchError, trio.TooSlowError, subprocess.TimeoutExpired)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups: trio's nurseries wrap what they raise."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    console = Console()
    missing = missing_regex_crates()
    if missing:
        console.print(f"[red]Debian crates missing: {', '.join(missing)} (run `make setup`)[/]")
        return 2
    bench = Bench(options, console)
    try:
        bench.prepare()
        try:
            trio.run(bench.run_async)
        finally:
            bench.stop()
    except (BenchError, trio.TooSlowError, subprocess.TimeoutExpired, ExceptionGroup) as exc:
        leaves = _leaves(exc)
        if not all(isinstance(e, _EXPECTED) for e in leaves):
            raise
        console.print(f"[red]benchmark failed: {'; '.join(map(str, leaves))}[/]")
        console.print(f"daemon log tail:\n{bench.daemon_log_tail()}", highlight=False)
        return 2
    finally:
        bench.cleanup()
    report = build_report(options, bench.data)
    render(report, console)
    path = write_results(options.output or results_path(NAME), report)
    console.print(
        f"results: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
    )
    return 0 if report["target"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
