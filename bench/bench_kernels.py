"""Kernel builds: cold vs warm `cargo g build` of examples/gpu-kernels for two archs, and the
cache hit rate over a scripted editing session.

    .venv/bin/python bench/bench_kernels.py [--edits 100] [--seed 1]

In one run, on a temporary copy of the example:
- cold: empty cache, no rustg-core rlib (what a fresh checkout pays), `cargo g build`'s kernel
  pipeline (extraction, rustc nvptx64 per arch, ptxas, fatbinary, manifest);
- warm: the same again, everything in the cache;
- session: N edits, each touching ONE file — one kernel's body (one of the four, new content
  each time, a line inserted so the kernels below it move) or host code — followed by a kernel
  build. The hit rate counts the compile units, one per (kernel, arch): what the cache saves
  rustc and ptxas from. The per-arch link (merge + nvlink, tens of ms) and the fatbin lookups
  are reported too, separately.
The cache's lookup latency (memory, LMDB, Redis) is bench/bench_cache.py's job.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    busy_fraction,
    machine_info,
    results_path,
    summarize,
    system_cpu_ticks,
    write_results,
)
from rustg.daemon.cache import Cache, CacheConfig
from rustg.daemon.kernels.workspace import build_workspace_kernels
from tests.support.rust_workspaces import copy_example

KERNELS = "crates/kernels/src/kernels.rs"
KERNEL_NAMES = ["saxpy", "block_sum", "histogram", "transpose"]
HOST_FILES = ["crates/kernels/src/lib.rs", "crates/app/src/main.rs"]


def build(root: Path, cache: Cache) -> tuple[float, int, int, int]:
    """(seconds, unit hits, unit lookups, link hits)."""
    started = time.perf_counter()
    builds = build_workspace_kernels(root, cache=cache)
    seconds = time.perf_counter() - started
    if not all(b.ok for b in builds):
        raise SystemExit(f"build failed: {[d.message for b in builds for d in b.diagnostics]}")
    units = [u for b in builds for a in b.archs for u in a.units]
    links = sum(a.link_cached for b in builds for a in b.archs)
    return seconds, sum(u.cached for u in units), len(units), links


def edit_kernel(text: str, kernel: str, n: int) -> str:
    """``text`` with a new first statement in ``kernel``'s body (a value never used before)."""
    head = f"pub fn {kernel}("
    at = text.index("{\n", text.index(head)) + 2
    return text[:at] + f"    let _edit = {n}u32;\n" + text[at:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kernel-share", type=float, default=0.3, help="fraction of edits that touch a kernel"
    )
    args = parser.parse_args()
    machine = machine_info()
    load_before, ticks_before = os.getloadavg(), system_cpu_ticks()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="rgkb") as tmp:
        root = copy_example(Path(tmp), "gpu-kernels")
        with Cache.open_dir(Path(tmp) / "cache", CacheConfig()) as cache:
            cold, _, lookups, _ = build(root, cache)
            warm_times = [build(root, cache)[0] for _ in range(5)]
            kernel_text = (root / KERNELS).read_text()
            # hits, lookups, seconds, link hits, builds
            session: dict[str, list[Any]] = {"kernel": [0, 0, [], 0, 0], "host": [0, 0, [], 0, 0]}
            edited_kernels: list[str] = []
            for n in range(args.edits):
                if rng.random() < args.kernel_share:
                    kind = "kernel"
                    kernel = rng.choice(KERNEL_NAMES)
                    edited_kernels.append(kernel)
                    (root / KERNELS).write_text(edit_kernel(kernel_text, kernel, n))
                else:
                    kind = "host"
                    path = root / rng.choice(HOST_FILES)
                    path.write_text(path.read_text() + f"\n// host edit {n}\n")
                seconds, hits, looked, links = build(root, cache)
                session[kind][0] += hits
                session[kind][1] += looked
                session[kind][2].append(seconds)
                session[kind][3] += links
                session[kind][4] += 1
    warm = summarize(warm_times)["p50"]
    hits = session["kernel"][0] + session["host"][0]
    total = session["kernel"][1] + session["host"][1]
    report = {
        "benchmark": "kernels",
        "machine": machine,
        "archs": lookups // len(KERNEL_NAMES),
        "units_per_build": lookups,
        "machine_load": {
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "busy_fraction_all_cpus": busy_fraction(ticks_before, system_cpu_ticks()),
        },
        "cold_seconds": cold,
        "warm_seconds": summarize(warm_times),
        "warm_speedup": cold / warm,
        "session": {
            kind: {
                "hits": h,
                "lookups": n,
                "hit_rate": h / n if n else None,
                "build_seconds": summarize(t) if t else None,
                "link_hits": links,
                "link_lookups": builds * (lookups // len(KERNEL_NAMES)),
            }
            for kind, (h, n, t, links, builds) in session.items()
        },
        "edited_kernels": {k: edited_kernels.count(k) for k in KERNEL_NAMES},
        "hit_rate": hits / total,
        "targets": {"warm_speedup>=20": cold / warm >= 20, "hit_rate>=0.9": hits / total >= 0.9},
        "granularity": "one compile unit per kernel and arch (the kernel and the device items it "
        "reaches); the crate's module per arch is merged PTX + nvlinked cubin from the units, "
        "relinked when any unit or kernel-file line changed; host edits never rebuild",
    }
    path = write_results(results_path("kernels"), report)
    print(f"cold {cold:.2f} s, warm p50 {warm * 1000:.1f} ms: {cold / warm:.0f}x faster")
    for kind, data in report["session"].items():
        print(
            f"{kind:6} edits: {data['hits']}/{data['lookups']} unit hits, "
            f"{data['link_hits']}/{data['link_lookups']} link hits, build p50 "
            f"{data['build_seconds']['p50'] * 1000:.0f} ms"
        )
    load = report["machine_load"]
    print(f"session hit rate {hits / total:.1%} over {args.edits} edits -> {path}")
    print(
        f"machine load: all CPUs {load['busy_fraction_all_cpus']:.0%} busy, load average "
        f"{load['loadavg_before'][0]:.2f} -> {load['loadavg_after'][0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
