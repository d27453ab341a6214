"""Structure benchmark: token tree + item index over the corpus, and the hot workspace.

Run from the repository root::

    .venv/bin/python bench/bench_structure.py            # CPU, the Debian corpus, hot workspace
    python3 bench/bench_structure.py --root DIR --cuda   # on a GPU machine: CuPy tree too

Measured in one run over the same files (scripts/corpus.sh's corpus, or every .rs under
``--root``):

* **cold pipeline**, CPU backend: read (parallel threads) → lex → token tree → item index,
  each stage timed, best and median of ``--repeat`` runs (the numba JIT is warmed first and
  excluded: compiled code comes from numba's disk cache in a daemon);
* **memory** per MB of source for tokens, tree and items;
* **CUDA** (``--cuda``): the data-parallel tree on CuPy (host→device copy of the two input
  arrays timed separately), checked array-for-array against the CPU tree;
* **hot workspace** (unless ``--no-hot``): single-file ``update`` latency (p50/p95) for the
  corpus file closest to 2,000 lines, with and without LMDB persistence; cold ``load_all`` of
  the whole corpus (one batched lex) and a restart's ``load_all`` restoring from LMDB.

Writes bench/results/structure-<device>-<YYYYMMDD-HHMM>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def log(msg: str) -> None:
    print(msg, flush=True)


def corpus_paths(root: str | None) -> list[Path]:
    if root:
        return sorted(Path(root).rglob("*.rs"), key=lambda p: str(p).encode())
    out = subprocess.run(
        [str(REPO / "scripts" / "corpus.sh")], check=True, capture_output=True, text=True
    ).stdout
    return [Path(p) for p in out.splitlines() if p]


def timed(fn: Any, repeat: int) -> tuple[Any, list[float]]:
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def summary(times: list[float], n_bytes: int) -> dict[str, float]:
    best = min(times)
    return {
        "best_s": best,
        "median_s": statistics.median(times),
        "best_MB_per_s": n_bytes / 1e6 / best,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", help="benchmark every .rs file under this folder instead")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cuda", action="store_true", help="also run the CuPy tree")
    ap.add_argument("--no-hot", action="store_true", help="skip the hot workspace section")
    ap.add_argument("--out", help="result JSON path (default bench/results/...)")
    args = ap.parse_args()

    import numba

    from rustg.gpu.items import build_items
    from rustg.gpu.lexer import lex_cpu
    from rustg.gpu.sources import read_sources
    from rustg.gpu.tree import build_tree, build_tree_arrays

    paths = corpus_paths(args.root)
    src = read_sources(paths)
    n_bytes = src.n_bytes
    threads = numba.get_num_threads()
    log(f"corpus: {len(paths)} files, {n_bytes / 1e6:.1f} MB; numba threads {threads}")
    # JIT warm-up (excluded)
    t0 = time.perf_counter()
    tokens = lex_cpu(src.buffer, src.file_offsets)
    tree = build_tree(tokens)
    items = build_items(tokens, tree)
    log(f"warm-up incl. JIT/disk-cache load: {time.perf_counter() - t0:.2f} s")

    r: dict[str, Any] = {
        "files": len(paths),
        "bytes": n_bytes,
        "tokens": len(tokens),
        "items": len(items),
        "numba_threads": numba.get_num_threads(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_avg": os.getloadavg(),
        },
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }
    _, t_read = timed(lambda: read_sources(paths), args.repeat)
    _, t_lex = timed(lambda: lex_cpu(src.buffer, src.file_offsets), args.repeat)
    _, t_tree = timed(lambda: build_tree(tokens), args.repeat)
    _, t_items = timed(lambda: build_items(tokens, tree), args.repeat)

    def end_to_end() -> Any:
        s = read_sources(paths)
        tk = lex_cpu(s.buffer, s.file_offsets)
        tr = build_tree(tk)
        return build_items(tk, tr)

    _, t_e2e = timed(end_to_end, args.repeat)
    cpu = {
        "read": summary(t_read, n_bytes),
        "lex": summary(t_lex, n_bytes),
        "tree": summary(t_tree, n_bytes),
        "items": summary(t_items, n_bytes),
        "end_to_end_read_lex_tree_items": summary(t_e2e, n_bytes),
    }
    r["cpu"] = cpu
    mb = n_bytes / 1e6
    r["memory_bytes_per_MB_source"] = {
        "tokens": tokens.nbytes() / mb,
        "tree": tree.nbytes() / mb,
        "items": items.nbytes() / mb,
    }
    for k, v in cpu.items():
        log(f"cpu {k:32s} best {v['best_s'] * 1e3:8.1f} ms  {v['best_MB_per_s']:8.1f} MB/s")
    log(f"memory per MB of source: {r['memory_bytes_per_MB_source']}")

    if args.cuda:
        import cupy

        def upload() -> tuple[Any, Any]:
            a = cupy.asarray(tokens.kind), cupy.asarray(tokens.file_token_offsets)
            cupy.cuda.get_current_stream().synchronize()
            return a

        (d_kind, d_fto), t_up = timed(upload, args.repeat)

        def gpu_tree() -> Any:
            t = build_tree_arrays(d_kind, d_fto, xp=cupy)
            cupy.cuda.get_current_stream().synchronize()
            return t

        gpu_tree()  # warm-up: CuPy compiles its kernels once per process
        gt, t_gpu = timed(gpu_tree, args.repeat)
        same = gt.same_as(tree)
        r["cuda_tree"] = {
            "device": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(),
            "h2d_kind_offsets": summary(t_up, n_bytes),
            "tree": summary(t_gpu, n_bytes),
            "equal_to_cpu": bool(same),
        }
        log(f"cuda tree: {r['cuda_tree']}")
        if not same:
            log("CUDA tree differs from the CPU tree")
            return 2

        from rustg.gpu.tokens import TokenArrays

        d_tokens = TokenArrays(
            buffer=cupy.asarray(tokens.buffer),
            file_offsets=tokens.file_offsets,
            kind=d_kind,
            start=cupy.asarray(tokens.start),
            end=cupy.asarray(tokens.end),
            keyword=cupy.asarray(tokens.keyword),
            file_token_offsets=d_fto,
            file_status=tokens.file_status,
            file_utf8_error=tokens.file_utf8_error,
        )

        def gpu_items() -> Any:
            ix = build_items(d_tokens, gt, xp=cupy)
            cupy.cuda.get_current_stream().synchronize()
            return ix

        t0 = time.perf_counter()
        gpu_items()
        log(f"cuda items warm-up (numba-cuda JIT or disk cache): {time.perf_counter() - t0:.2f} s")
        gi, t_items_gpu = timed(gpu_items, args.repeat)
        same_items = gi.same_as(items)
        r["cuda_items"] = {"items": summary(t_items_gpu, n_bytes), "equal_to_cpu": bool(same_items)}
        log(f"cuda items: {r['cuda_items']}")
        if not same_items:
            log("CUDA items differ from the CPU items")
            return 2

    if not args.no_hot:
        r["hot"] = bench_hot(paths, src)

    RESULTS.mkdir(parents=True, exist_ok=True)
    device = "cuda" if args.cuda else "cpu"
    out = (
        Path(args.out)
        if args.out
        else RESULTS / (f"structure-{device}-{dt.datetime.now().strftime('%Y%m%d-%H%M')}.json")
    )
    out.write_text(json.dumps(r, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


def bench_hot(paths: list[Path], src: Any) -> dict[str, Any]:
    import lmdb

    from rustg.gpu.backend import Backend
    from rustg.gpu.hot import HotWorkspace

    sizes = np.diff(src.file_offsets)
    lines = [src.buffer[src.file_offsets[i] : src.file_offsets[i + 1]].tobytes().count(b"\n")
             for i in range(len(paths))]  # fmt: skip
    pick = int(np.argmin([abs(n - 2000) for n in lines]))
    content = paths[pick].read_bytes()
    log(f"update latency file: {paths[pick]} ({lines[pick]} lines, {sizes[pick]} bytes)")
    out: dict[str, Any] = {"file": str(paths[pick]), "lines": lines[pick]}
    with tempfile.TemporaryDirectory() as tmp:
        env = lmdb.open(tmp, map_size=4 << 30, max_dbs=4, sync=False, metasync=False)
        for label, e in (("no_lmdb", None), ("lmdb", env)):
            ws = HotWorkspace(backend=Backend("cpu"), env=e)
            ws.update("f.rs", content)  # warm
            times = []
            for i in range(200):
                edited = content + b"// edit %d\n" % i  # new bytes: a real re-lex every time
                t0 = time.perf_counter()
                ws.update("f.rs", edited)
                times.append(time.perf_counter() - t0)
            ms = sorted(t * 1e3 for t in times)
            out[f"update_{label}_ms"] = {
                "p50": ms[len(ms) // 2],
                "p95": ms[int(len(ms) * 0.95)],
                "max": ms[-1],
            }
            log(f"update ({label}): {out[f'update_{label}_ms']}")
        files = {str(p): src.buffer[src.file_offsets[i] : src.file_offsets[i + 1]].tobytes()
                 for i, p in enumerate(paths)}  # fmt: skip
        ws = HotWorkspace(backend=Backend("cpu"), env=env)
        t0 = time.perf_counter()
        ws.load_all(files)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        view = ws.view()
        t_view = time.perf_counter() - t0
        ws2 = HotWorkspace(backend=Backend("cpu"), env=env)
        t0 = time.perf_counter()
        ws2.load_all(files)
        t_restore = time.perf_counter() - t0
        assert ws2.stats.lex_calls == 0, "restart re-lexed"
        info = env.info()
        stat = env.stat()
        out["load_all_cold_s"] = t_cold
        out["view_build_s"] = t_view
        out["load_all_restore_s"] = t_restore
        out["restore_lex_calls"] = ws2.stats.lex_calls
        out["lmdb_bytes"] = stat["psize"] * (info["last_pgno"] + 1)
        out["resident_bytes_slots"] = ws.nbytes()
        out["resident_bytes_view"] = view.nbytes()
        log(
            f"load_all cold {t_cold:.2f} s (batched lex, tree, items, split, LMDB writes); "
            f"view {t_view:.2f} s; restart restore {t_restore:.2f} s with 0 lex calls; "
            f"LMDB {out['lmdb_bytes'] / 1e6:.0f} MB"
        )
        env.close()
    return out


if __name__ == "__main__":
    sys.exit(main())
