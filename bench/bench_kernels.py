"""Kernel builds: cold vs warm `cargo g build` of examples/gpu-kernels for two archs, and the
cache hit rate over a scripted editing session.

    .venv/bin/python bench/bench_kernels.py [--edits 100] [--seed 1]

In one run, on a temporary copy of the example:
- cold: empty cache, no rustg-core rlib (what a fresh checkout pays), `cargo g build`'s kernel
  pipeline (extraction, rustc nvptx64 per arch, ptxas, fatbinary, manifest);
- warm: the same again, everything in the cache;
- session: N edits, each touching ONE file — a kernel's body (new content each time) or host
  code — followed by a kernel build; every (crate, arch) lookup is a hit or a miss.
The cache's lookup latency (memory, LMDB, Redis) is bench/bench_cache.py's job.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine_info, results_path, summarize, write_results
from rustg.daemon.cache import Cache, CacheConfig
from rustg.daemon.kernels.workspace import build_workspace_kernels
from tests.support.rust_workspaces import copy_example

KERNELS = "crates/kernels/src/kernels.rs"
HOST_FILES = ["crates/kernels/src/lib.rs", "crates/app/src/main.rs"]


def build(root: Path, cache: Cache) -> tuple[float, int, int]:
    started = time.perf_counter()
    builds = build_workspace_kernels(root, cache=cache)
    seconds = time.perf_counter() - started
    if not all(b.ok for b in builds):
        raise SystemExit(f"build failed: {[d.message for b in builds for d in b.diagnostics]}")
    hits = sum(a.cached for b in builds for a in b.archs)
    lookups = sum(len(b.archs) for b in builds)
    return seconds, hits, lookups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kernel-share", type=float, default=0.3, help="fraction of edits that touch a kernel"
    )
    args = parser.parse_args()
    machine = machine_info()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="rgkb") as tmp:
        root = copy_example(Path(tmp), "gpu-kernels")
        with Cache.open_dir(Path(tmp) / "cache", CacheConfig()) as cache:
            cold, _, lookups = build(root, cache)
            warm_times = [build(root, cache)[0] for _ in range(5)]
            kernel_text = (root / KERNELS).read_text()
            session = {"kernel": [0, 0, []], "host": [0, 0, []]}  # hits, lookups, seconds
            for n in range(args.edits):
                if rng.random() < args.kernel_share:
                    kind = "kernel"
                    # New content each time: a different constant in saxpy's body.
                    edited = kernel_text.replace(
                        "y[i] += a * x[i];", f"y[i] += a * x[i] * {n + 2}.0;"
                    )
                    (root / KERNELS).write_text(edited)
                else:
                    kind = "host"
                    path = root / rng.choice(HOST_FILES)
                    path.write_text(path.read_text() + f"\n// host edit {n}\n")
                seconds, hits, looked = build(root, cache)
                session[kind][0] += hits
                session[kind][1] += looked
                session[kind][2].append(seconds)
    warm = summarize(warm_times)["p50"]
    hits = session["kernel"][0] + session["host"][0]
    total = session["kernel"][1] + session["host"][1]
    report = {
        "benchmark": "kernels",
        "machine": machine,
        "archs": lookups,
        "cold_seconds": cold,
        "warm_seconds": summarize(warm_times),
        "warm_speedup": cold / warm,
        "session": {
            kind: {
                "hits": h,
                "lookups": n,
                "hit_rate": h / n if n else None,
                "build_seconds": summarize(t) if t else None,
            }
            for kind, (h, n, t) in session.items()
        },
        "hit_rate": hits / total,
        "targets": {"warm_speedup>=20": cold / warm >= 20, "hit_rate>=0.9": hits / total >= 0.9},
        "granularity": "one PTX module per crate and arch: editing any kernel of a crate rebuilds "
        "that crate's module; host edits never do",
    }
    path = write_results(results_path("kernels"), report)
    print(f"cold {cold:.2f} s, warm p50 {warm * 1000:.1f} ms: {cold / warm:.0f}x faster")
    for kind, data in report["session"].items():
        print(f"{kind:6} edits: {data['hits']}/{data['lookups']} hits")
    print(f"session hit rate {hits / total:.1%} over {args.edits} edits -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
