"""Shared helpers for the benchmarks in bench/: machine description, percentiles, process CPU
and memory readings, and the results file.

Every benchmark writes one JSON document to ``bench/results/<name>-<YYYYMMDD-HHMM>.json`` with
``machine_info()`` in it, so a number is never separated from the machine, toolchain and commit
that produced it. Import it from a script in bench/ after putting the repository root on
``sys.path`` (the scripts are run as ``.venv/bin/python bench/<script>.py``)::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.common import machine_info, summarize, write_results

Nothing here imports the rustg packages: it is safe to use from any benchmark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"

_CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Machine description


def _run(command: Sequence[str], cwd: Path | None = None) -> str | None:
    """First line(s) of a tool's output, or None when the tool is missing or fails."""
    if shutil.which(command[0]) is None:
        return None
    try:
        out = subprocess.run(
            list(command), cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _gpus() -> list[dict[str, str]]:
    """NVIDIA GPUs as nvidia-smi lists them (empty without a driver/GPU)."""
    out = _run(
        [
            "nvidia-smi",
            "--query-gpu=name,memory.total,driver_version,compute_cap",
            "--format=csv,noheader",
        ]
    )
    if not out:
        return []
    gpus = []
    for line in out.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) == 4:
            name, memory, driver, capability = fields
            gpus.append(
                {"name": name, "memory": memory, "driver": driver, "compute_cap": capability}
            )
    return gpus


def _git(repo_root: Path) -> dict[str, Any]:
    commit = _run(["git", "rev-parse", "HEAD"], cwd=repo_root)
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo_root)
    return {
        "commit": commit,
        # Tracked files modified when the benchmark ran: the commit alone does not pin the code.
        "dirty": bool(status) if status is not None else None,
    }


def source_digest(
    directories: Sequence[str] = ("daemon", "protocol", "cli", "gpu"),
    *,
    repo_root: Path = REPO_ROOT,
    suffixes: tuple[str, ...] = (".py",),
) -> str:
    """SHA-256 over the relative paths and contents of the source files under
    ``directories``: pins the code a benchmark ran even when the checkout had uncommitted or
    untracked changes (the commit alone does not, in a checkout several people edit)."""
    digest = hashlib.sha256()
    for directory in directories:
        for path in sorted((repo_root / directory).rglob("*")):
            if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts:
                digest.update(path.relative_to(repo_root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def machine_info(
    *, repo_root: Path = REPO_ROOT, tools: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """What produced a measurement: hardware, OS, Python, Rust toolchain, git commit, date.

    Call it when the measured code is loaded (at the start of the run), not when the report is
    written: others may commit in between. ``tools`` adds version lines of further tools
    (name → command), e.g. ``{"rustfmt": ["rustfmt", "--version"]}``; each is None when the
    tool is missing.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    rust = {
        "rustc": _run(["rustc", "--version"]),
        "cargo": _run(["cargo", "--version"]),
        "rustc_host": next(
            (
                line.split(":", 1)[1].strip()
                for line in (_run(["rustc", "-vV"]) or "").splitlines()
                if line.startswith("host:")
            ),
            None,
        ),
    }
    extra = {name: _run(command) for name, command in (tools or {}).items()}
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "memory_bytes": _memory_bytes(),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "gpus": _gpus(),
        "rust": rust,
        "tools": extra,
        "git": _git(repo_root),
        "python_source_sha256": source_digest(repo_root=repo_root),
    }


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation between closest ranks (NumPy's
    default method), so small samples give the same figures as ``numpy.percentile``."""
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """n, min, p50, p95, max and mean of a sample (same unit as the values)."""
    return {
        "n": len(values),
        "min": min(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


# ---------------------------------------------------------------------------------------------
# Process readings (Linux /proc)


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """CPU time of one process (all its threads) and of its children it has waited for."""

    user_s: float  # utime, clock-tick resolution
    system_s: float  # stime, clock-tick resolution
    scheduled_ns: int  # sum of every thread's run time from schedstat: nanosecond resolution
    children_s: float  # cutime + cstime: children that exited and were waited for

    @property
    def total_s(self) -> float:
        return self.user_s + self.system_s


def process_cpu_times(pid: int) -> CpuTimes:
    """Read ``/proc/<pid>/stat`` (utime, stime, cutime, cstime) and the per-thread schedstat
    run times. Threads that ended are missing from schedstat's sum: compare readings of a
    process whose threads live on (a daemon), or use the tick-based fields."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    cutime, cstime = int(fields[13]), int(fields[14])  # fields 16 and 17
    scheduled = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            scheduled += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended while we looked
    return CpuTimes(utime / _CLK_TCK, stime / _CLK_TCK, scheduled, (cutime + cstime) / _CLK_TCK)


def thread_activity(pid: int) -> dict[int, tuple[str, int, int]]:
    """Per thread of ``pid``: (name, run time in ns, context switches) — to tell which thread
    wakes up, when a process that should sleep does not."""
    found: dict[int, tuple[str, int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            run_ns = int((task / "schedstat").read_text().split()[0])
            switches = 0
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended while we looked
        found[int(task.name)] = (name, run_ns, switches)
    return found


@dataclass(frozen=True, slots=True)
class IdleCpu:
    seconds: float  # wall-clock length of the window
    cpu_s: float  # utime + stime spent in the window (clock ticks)
    cpu_percent: float  # of one core
    scheduled_ms: float  # the same from schedstat (ns), threads alive throughout the window
    scheduled_percent: float
    #: Per thread, busiest first: tid, name, run time (ms) and wake-ups (context switches/s).
    threads: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def measure_idle_cpu(pid: int, seconds: float) -> IdleCpu:
    """CPU used by ``pid`` over ``seconds`` of wall-clock time, during which the caller does
    nothing to it (the caller sleeps)."""
    threads_before = thread_activity(pid)
    before, start = process_cpu_times(pid), time.monotonic()
    time.sleep(seconds)
    after, elapsed = process_cpu_times(pid), time.monotonic() - start
    threads_after = thread_activity(pid)
    cpu = after.total_s - before.total_s
    # Threads that are alive at both ends only: one that exits in the window (trio's idle
    # worker threads do, after 10 s) would take its whole run time out of a plain sum.
    threads: list[dict[str, Any]] = [
        {
            "tid": tid,
            "name": name,
            "run_ms": (run_ns - threads_before[tid][1]) / 1e6,
            "wakeups_per_s": (switches - threads_before[tid][2]) / elapsed,
        }
        for tid, (name, run_ns, switches) in threads_after.items()
        if tid in threads_before
    ]
    threads.sort(key=lambda t: (-float(t["run_ms"]), -float(t["wakeups_per_s"])))
    scheduled = sum(float(t["run_ms"]) for t in threads)
    return IdleCpu(
        seconds=elapsed,
        cpu_s=cpu,
        cpu_percent=100 * cpu / elapsed,
        scheduled_ms=scheduled,
        scheduled_percent=100 * scheduled / 1e3 / elapsed,
        threads=threads,
    )


def process_memory(pid: int) -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) memory in bytes, from /proc/<pid>/status."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[{"VmRSS": "rss_bytes", "VmHWM": "peak_rss_bytes"}[key]] = (
                int(value.split()[0]) * 1024
            )
    return found


def system_cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat: two readings give how
    busy the whole machine was in between (other users' work included, which is the point: a
    benchmark on a shared machine should say how loaded it was)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user/nice
    return total - idle, total


def busy_fraction(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of all CPUs' time that was busy between two ``system_cpu_ticks()`` readings."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


# ---------------------------------------------------------------------------------------------
# Results


def results_path(name: str, when: dt.datetime | None = None, directory: Path = RESULTS_DIR) -> Path:
    """``<directory>/<name>-<YYYYMMDD-HHMM>.json`` (local time of ``when``, default now)."""
    stamp = (when or dt.datetime.now()).strftime("%Y%m%d-%H%M")
    return directory / f"{name}-{stamp}.json"


def write_results(path: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` as indented JSON (atomically: a half-written result is worse than
    none) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return path
