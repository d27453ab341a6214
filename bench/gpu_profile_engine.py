"""Where the CUDA engine's time goes: GPU time per stage (CUDA events, no waits between
stages) against the host's time per stage, for lex, tree and items over the whole corpus, and
the pipelined cold load at several batch and read-part counts.

A stage whose host time exceeds its GPU time is dispatch-bound (Python, CuPy and numba-cuda
launch overhead, or a hidden wait); one whose GPU time dominates is kernel-bound. Run on the
GPU machine (bench/gpu_session.sh part ``profile``); writes ``engine-profile-*.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import corpus_editions, corpus_paths, gpu_info, log, machine_info


def _events_run(fn: Any, xp: Any) -> tuple[dict[str, float], dict[str, float], float]:
    from rustg.gpu.timing import EventTimings

    tm = EventTimings()
    xp.cuda.get_current_stream().synchronize()
    t0 = time.perf_counter()
    fn(tm)
    tm.resolve(xp)
    wall = time.perf_counter() - t0
    return {k: v * 1e3 for k, v in tm.items()}, {k: v * 1e3 for k, v in tm.host.items()}, wall


def _host_profile(run: Any, sync: Any, top: int = 45) -> dict[str, Any]:
    """Where the host's time goes in one pipelined load (cProfile, after a warm run): the
    functions with the most own time, and per numba-cuda kernel and CuPy call the calls made.
    Printed and returned (seconds)."""
    import cProfile
    import pstats

    run()
    sync()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    res = run()
    sync()
    prof.disable()
    wall = time.perf_counter() - t0
    del res
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"where": f"{Path(file).name}:{line}:{func}", "calls": nc,
                     "own_s": tt, "cumulative_s": ct})  # fmt: skip
    rows.sort(key=lambda r: -r["own_s"])
    log(f"host profile of one pipelined load: {wall * 1e3:.1f} ms under cProfile")
    for r in rows[:top]:
        log(f"  {r['own_s'] * 1e3:8.2f} ms own {r['cumulative_s'] * 1e3:8.2f} cum "
            f"{r['calls']:6d}x  {r['where']}")  # fmt: skip
    return {"wall_s": wall, "top_own": rows[:top]}


def main(argv: list[str] | None = None) -> int:
    import cupy

    from rustg.gpu.backend import Backend, Device, Residence, _device_tokens
    from rustg.gpu.items import build_items
    from rustg.gpu.tree import build_tree_arrays

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--editions")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    paths = corpus_paths(None)
    eds = corpus_editions(paths, args.editions)
    be = Backend("cuda")
    cl = be.cuda()
    be.index_files(paths[:40], editions=eds[:40], device=Device.CUDA, batches=2)
    src = be.read(paths, device=Device.CUDA)
    n_bytes = int(src.file_offsets[-1])
    d_buf = cupy.asarray(src.buffer)
    doc: dict[str, Any] = {"machine": {**machine_info(), **gpu_info()},
                           "corpus": {"files": len(paths), "bytes": n_bytes}}  # fmt: skip

    def lex(tm: Any) -> Any:
        return cl.lex_device(d_buf, src.file_offsets, editions=eds, timings=tm)

    d = lex(None)
    d_tok = _device_tokens(d_buf, src.file_offsets, d)

    def tree(tm: Any) -> Any:
        return build_tree_arrays(d["kind"], d["file_token_offsets"], xp=cupy, timings=tm)

    d_tree = tree(None)

    def items(tm: Any) -> Any:
        return build_items(d_tok, d_tree, xp=cupy, timings=tm)

    items(None)
    for name, fn in (("lex", lex), ("tree", tree), ("items", items)):
        best = min((_events_run(fn, cupy) for _ in range(args.repeat)), key=lambda r: r[2])
        gpu, host, wall = best
        doc[name] = {"wall_ms": wall * 1e3, "gpu_ms": gpu, "host_ms": host,
                     "gpu_total_ms": sum(gpu.values()) - gpu.get("start", 0.0)}  # fmt: skip
        log(f"{name}: wall {wall * 1e3:.2f} ms, GPU {doc[name]['gpu_total_ms']:.2f} ms")
        for k in gpu:
            log(f"   {k:<16} gpu {gpu[k]:7.3f}   host {host.get(k, 0.0):7.3f}")
    pipe: dict[str, Any] = {}
    # Batches (each a whole lexer run); the GIL switch interval, swept here before, made no
    # difference, and reading a batch in parts measured worse (engine-profile-...-run3.json).
    for batches in (1, 2, 4):
        runs = []
        for _ in range(args.repeat):
            tm: dict[str, float] = {}
            cl.synchronize()
            t0 = time.perf_counter()
            res = be.index_files(paths, editions=eds, device=Device.CUDA, batches=batches,
                                 residence=Residence.DEVICE, timings=tm)  # fmt: skip
            cl.synchronize()
            runs.append((time.perf_counter() - t0, tm))
            del res
        wall, tm = min(runs, key=lambda r: r[0])
        key = f"batches_{batches}"
        pipe[key] = {"wall_ms": wall * 1e3, "mb_per_s": n_bytes / wall / 1e6,
                     "clock_ms": {k: v * 1e3 for k, v in tm.items()}}  # fmt: skip
        log(f"pipeline {key}: {wall * 1e3:.1f} ms = {n_bytes / wall / 1e9:.2f} GB/s "
            + " ".join(f"{k} {v * 1e3:.1f}" for k, v in tm.items()))  # fmt: skip
    doc["pipeline"] = pipe
    doc["host_profile"] = _host_profile(
        lambda: be.index_files(
            paths, editions=eds, device=Device.CUDA, batches=1, residence=Residence.DEVICE
        ),
        cl.synchronize,
    )
    Path(args.out).write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
