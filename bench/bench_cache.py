"""Build cache latency and throughput: local (memory, LMDB) and Redis lookups, hit and miss,
p50/p99; put throughput with and without the remote tier.

Targets (issue 4): local lookup p99 ≤ 1 ms; Redis lookup p99 ≤ 5 ms on loopback.

    .venv/bin/python bench/bench_cache.py            # 2000 keys
    .venv/bin/python bench/bench_cache.py --quick    # 300 keys, a smoke run

Starts its own redis-server (no persistence) on a free loopback port; without one installed the
Redis rows are skipped and say so. Writes bench/results/cache-<YYYYMMDD-HHMM>.json
(cache-nice<N>-... with --nice N).

Every lookup is timed twice: wall clock (what a caller sees) and this thread's CPU time (what
the lookup itself cost). On a machine saturated by other work the wall-clock tail is the
scheduler's time slices, not the cache; the results record how busy the machine was, and
``--nice -10`` (root) measures with the benchmark and its redis-server ahead of that work.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench.common import (
    busy_fraction,
    machine_info,
    percentile,
    results_path,
    summarize,
    system_cpu_ticks,
    write_results,
)
from rustg.daemon.cache import (
    ActionKey,
    ActionKeyBuilder,
    Cache,
    LmdbTier,
    MemoryTier,
    RedisTier,
    TierName,
)
from rustg.daemon.cache.blobs import compress
from rustg.protocol import Diagnostic, Severity
from tests.daemon.cache.redis_server import REDIS_SERVER, RedisServer

LOCAL_P99_MS = 1.0
REDIS_P99_MS = 5.0

_OPS = (
    "add.s32", "mul.lo.s32", "ld.global.f32", "st.global.f32", "fma.rn.f32", "setp.lt.s32",
    "mov.u32", "cvta.to.global.u64", "shl.b64", "add.s64", "bar.sync", "atom.global.add.u32",
)  # fmt: skip


def synthetic_ptx(rng: random.Random, size: int, name: str) -> bytes:
    """PTX-shaped text with random registers and immediates, so that it compresses like an
    instruction stream (a few times), not like a repeated constant line (a hundred times)."""
    lines = [f"//\n// kernel {name}\n//\n.version 8.5\n.target sm_80\n.address_size 64\n",
             f".visible .entry {name}(\n\t.param .u64 {name}_param_0\n)\n{{"]  # fmt: skip
    total = sum(map(len, lines))
    while total < size:
        op = rng.choice(_OPS)
        line = f"\t{op} \t%r{rng.randrange(300)}, %r{rng.randrange(300)}, {rng.randrange(1 << 16)};"
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n}\n").encode()


def outputs_for(rng: random.Random, n: int, ptx_bytes: int, cubin_bytes: int) -> dict[str, bytes]:
    """One kernel action's outputs: its PTX and a binary cubin-like blob (half random)."""
    cubin = bytes(rng.getrandbits(8) if i % 2 else 0 for i in range(cubin_bytes))
    return {
        f"sm_80/kernel_{n}.ptx": synthetic_ptx(rng, ptx_bytes, f"kernel_{n}"),
        f"sm_80/kernel_{n}.cubin": cubin,
    }


def key_for(n: int, salt: str = "") -> ActionKey:
    return (
        ActionKeyBuilder("ptx")
        .add_file("kernel", f"src/kernel_{n}.rs", f"{salt}source {n}".encode())
        .add_str("rustc", "rustc 1.97.0-nightly")
        .add_str("arch", "sm_80")
        .add_strs("flags", ["-C", "opt-level=3"])
        .finish()
    )


def timed(
    operation: Callable[[ActionKey], object], keys: Sequence[ActionKey]
) -> tuple[list[float], list[float]]:
    """Per-call wall-clock latency and this thread's CPU time for the call, in milliseconds.

    On a busy machine a lookup's wall time includes the time the scheduler ran something else
    (a 2-core machine shared with other builds gives 4-12 ms slices): the CPU time says what
    the lookup itself cost, the wall time what a caller saw.
    """
    gc.collect()
    wall, cpu = [], []
    for key in keys:
        started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
        operation(key)
        cpu.append((time.thread_time_ns() - started_cpu) / 1e6)
        wall.append((time.perf_counter_ns() - started) / 1e6)
    return wall, cpu


def expect_hits(cache: Cache, tier: TierName) -> Callable[[ActionKey], object]:
    def get(key: ActionKey) -> None:
        hit = cache.get(key)
        if hit is None or hit.tier is not tier:
            raise SystemExit(f"expected a {tier} hit for {key}, got {hit and hit.tier}")

    return get


def expect_miss(cache: Cache) -> Callable[[ActionKey], object]:
    def get(key: ActionKey) -> None:
        if cache.get(key) is not None:
            raise SystemExit(f"expected a miss for {key}")

    return get


def latency_row(
    samples: tuple[list[float], list[float]], target_ms: float | None
) -> dict[str, Any]:
    wall, cpu = samples
    row: dict[str, Any] = {**summarize(wall), "p99": percentile(wall, 99)}
    row["cpu"] = {**summarize(cpu), "p99": percentile(cpu, 99)}
    if target_ms is not None:
        row["target_p99_ms"] = target_ms
        row["met"] = row["p99"] <= target_ms
    return row


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    rng = random.Random(20260401)
    count = args.keys
    outputs = {n: outputs_for(rng, n, args.ptx_bytes, args.cubin_bytes) for n in range(count)}
    keys = [key_for(n) for n in range(count)]
    absent = [key_for(n, salt="absent ") for n in range(count)]
    shuffled = keys[:]
    rng.shuffle(shuffled)
    diagnostics = [
        Diagnostic(source="rustc", severity=Severity.WARNING, message="unused variable: `i`",
                   file="src/kernel.rs", line=3, column=9, end_line=3, end_column=10)
    ]  # fmt: skip
    uncompressed = sum(len(v) for o in outputs.values() for v in o.values())
    compressed = sum(len(compress(v)) for o in outputs.values() for v in o.values())
    ptx = [v for o in outputs.values() for k, v in o.items() if k.endswith(".ptx")]
    ptx_ratio = sum(map(len, ptx)) / sum(len(compress(v)) for v in ptx)
    latency: dict[str, dict[str, Any]] = {}
    throughput: dict[str, dict[str, float]] = {}
    # The machine may be shared: how busy all of it was says how much of a tail is ours.
    load_before, ticks_before = os.getloadavg(), system_cpu_ticks()

    def puts(cache: Cache, name: str) -> None:
        gc.collect()
        started = time.perf_counter()
        samples = []
        for n, key in enumerate(keys):
            t0 = time.perf_counter_ns()
            cache.put(key, outputs[n], diagnostics)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
        elapsed = time.perf_counter() - started
        throughput[name] = {
            "puts_per_s": count / elapsed,
            "mb_per_s": uncompressed / elapsed / 1e6,
            "p50_ms": percentile(samples, 50),
            "p99_ms": percentile(samples, 99),
        }

    with tempfile.TemporaryDirectory(prefix="rustg-bench-cache-") as tmp:
        root = Path(tmp)
        # -- local: memory + LMDB ----------------------------------------------------------
        console.print(f"[bold]local[/] ({count} actions, {uncompressed / 1e6:.1f} MB)")
        with Cache(memory=MemoryTier(1 << 30), local=LmdbTier.open(root / "a")) as cache:
            puts(cache, "local (memory + LMDB)")
            latency["memory hit"] = latency_row(
                timed(expect_hits(cache, TierName.MEMORY), shuffled), LOCAL_P99_MS
            )
            latency["local miss (memory + LMDB)"] = latency_row(
                timed(expect_miss(cache), absent), LOCAL_P99_MS
            )
        with Cache(local=LmdbTier.open(root / "a")) as cache:
            latency["LMDB hit"] = latency_row(
                timed(expect_hits(cache, TierName.LOCAL), shuffled), LOCAL_P99_MS
            )
        with Cache(memory=MemoryTier(1 << 30), local=LmdbTier.open(root / "a")) as cache:
            latency["LMDB hit + memory fill (after a restart)"] = latency_row(
                timed(expect_hits(cache, TierName.LOCAL), shuffled), LOCAL_P99_MS
            )

        # -- Redis -----------------------------------------------------------------------------
        redis_info: dict[str, Any] = {"available": REDIS_SERVER is not None}
        if REDIS_SERVER is None:
            console.print("[yellow]redis-server not installed: Redis rows skipped[/]")
        else:
            server = RedisServer(root / "redis")
            server.start()
            if args.nice and server.process is not None:
                os.setpriority(os.PRIO_PROCESS, server.process.pid, args.nice)
            redis_info["url"] = server.url
            try:
                console.print(f"[bold]redis[/] at {server.url}")

                def remote() -> RedisTier:
                    return RedisTier(server.url, timeout_s=0.1)

                with Cache(
                    memory=MemoryTier(1 << 30), local=LmdbTier.open(root / "b"), remote=remote()
                ) as cache:
                    puts(cache, "memory + LMDB + Redis")
                with Cache(remote=remote()) as cache:
                    latency["Redis hit"] = latency_row(
                        timed(expect_hits(cache, TierName.REMOTE), shuffled), REDIS_P99_MS
                    )
                    latency["Redis miss"] = latency_row(
                        timed(expect_miss(cache), absent), REDIS_P99_MS
                    )
                with Cache(
                    memory=MemoryTier(1 << 30), local=LmdbTier.open(root / "c"), remote=remote()
                ) as cache:
                    latency["Redis hit + fill (another machine's first lookup)"] = latency_row(
                        timed(expect_hits(cache, TierName.REMOTE), shuffled), REDIS_P99_MS
                    )
                    latency["miss through all three tiers"] = latency_row(
                        timed(expect_miss(cache), absent), REDIS_P99_MS
                    )
                    redis_info["ping_ms"] = [t[2] for t in cache.health() if t[0] == "remote"]
            finally:
                server.kill()

    machine_load = {
        "nice": args.nice,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "busy_fraction_all_cpus": busy_fraction(ticks_before, system_cpu_ticks()),
    }
    return {
        "benchmark": "cache",
        "machine_load": machine_load,
        "machine": machine_info(tools={"redis-server": ["redis-server", "--version"]}),
        "parameters": {
            "actions": count,
            "ptx_bytes": args.ptx_bytes,
            "cubin_bytes": args.cubin_bytes,
            "outputs_per_action": 2,
            "uncompressed_bytes": uncompressed,
            "compressed_bytes": compressed,
            "compression_ratio": uncompressed / compressed,
            "ptx_compression_ratio": ptx_ratio,
        },
        "latency_ms": latency,
        "put_throughput": throughput,
        "redis": redis_info,
        "targets": {
            "local_p99_ms": LOCAL_P99_MS,
            "redis_p99_ms": REDIS_P99_MS,
            "met": all(row["met"] for row in latency.values()),
        },
    }


def render(report: dict[str, Any], console: Console) -> None:
    table = Table("lookup", "n", "p50 ms", "p99 ms", "max ms", "target p99", "met",
                  "cpu p50", "cpu p99", title="cargo g cache: lookup latency")  # fmt: skip
    for name, row in report["latency_ms"].items():
        met = "[green]yes[/]" if row["met"] else "[red]no[/]"
        table.add_row(name, str(row["n"]), f"{row['p50']:.3f}", f"{row['p99']:.3f}",
                      f"{row['max']:.3f}", f"≤ {row['target_p99_ms']:g}", met,
                      f"{row['cpu']['p50']:.3f}", f"{row['cpu']['p99']:.3f}")  # fmt: skip
    console.print(table)
    puts = Table("put", "puts/s", "MB/s", "p50 ms", "p99 ms", title="put throughput")
    for name, row in report["put_throughput"].items():
        puts.add_row(name, f"{row['puts_per_s']:.0f}", f"{row['mb_per_s']:.1f}",
                     f"{row['p50_ms']:.3f}", f"{row['p99_ms']:.3f}")  # fmt: skip
    console.print(puts)
    p = report["parameters"]
    console.print(
        f"{p['actions']} actions x {p['outputs_per_action']} outputs, "
        f"{p['uncompressed_bytes'] / 1e6:.1f} MB, zstd ratio {p['compression_ratio']:.1f}x "
        f"(PTX alone {p['ptx_compression_ratio']:.1f}x)"
    )
    load = report["machine_load"]
    console.print(
        f"machine load: all CPUs {load['busy_fraction_all_cpus']:.0%} busy during the run, "
        f"load average {load['loadavg_before'][0]:.2f} → {load['loadavg_after'][0]:.2f}"
        + (f"; ran at nice {load['nice']}" if load["nice"] else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=2000, help="actions (default 2000)")
    parser.add_argument("--ptx-bytes", type=int, default=24_000, help="PTX size per action")
    parser.add_argument("--cubin-bytes", type=int, default=8_000, help="cubin size per action")
    parser.add_argument("--quick", action="store_true", help="300 keys")
    parser.add_argument("--no-write", action="store_true", help="do not write results JSON")
    parser.add_argument(
        "--nice", type=int, default=0,
        help="run this process and its redis-server at this nice value (negative needs root): "
        "on a machine saturated by other work, measures the cache rather than the scheduler; "
        "recorded in the results",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.keys = 300
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    console = Console(width=max(Console().width, 150))
    report = run(args, console)
    render(report, console)
    if not args.no_write:
        name = f"cache-nice{args.nice}" if args.nice else "cache"
        path = write_results(results_path(name), report)
        console.print(f"results: {path}")
    met = report["targets"]["met"]
    console.print("[green]targets met[/]" if met else "[red]targets missed[/]")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
