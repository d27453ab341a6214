"""Engine benchmark: cold full-corpus lex end to end, single-file re-lex, memory, anchors.

Run from the repository root::

    .venv/bin/python bench/bench_engine.py                 # CPU backend + anchors, this machine
    .venv/bin/python bench/bench_engine.py --backend both  # also CUDA, and CPU == CUDA check

Everything is measured in the same run, over the same files (the Debian corpus of
scripts/corpus.sh, or ``--list FILE``):

* **cold end to end**: read every file (parallel threads; pinned memory for CUDA) and lex it,
  from nothing but paths to token arrays (for CUDA: resident on the device, host->device copy
  included). The page cache is warm (the second of ``--repeat`` runs is reported as best; the
  JIT is excluded and reported separately: compiled kernels come from numba's disk cache).
* **pipelined end to end (CUDA)**: ``Backend.lex_files`` / ``Backend.index_files``: a reader
  thread reads batch k+1 (numba, every core) while batch k is copied and lexed on the GPU;
  lex only, and lex + tree + items; arrays left resident on the device (``Residence.DEVICE``)
  and, for the index, also copied home. Several batch counts; the clock breakdown (host time
  waiting for the reader, driving the lexer, tree + items) comes with each.
* **equality**: CPU and CUDA arrays over the whole corpus: tokens, tree and items, each file
  lexed in its crate's edition (``--editions FILE``: JSON ``{relative path: year}``, relative
  to ``RUSTG_CORPUS_ROOT``; scripts/corpus.sh's registry by default).
* **single-file re-lex**: p50/p95 latency of lexing the corpus file closest to 2,000 lines
  (what a save costs), through ``Backend.lex_bytes`` (auto policy: CPU).
* **memory**: bytes of token arrays per MB of source.
* **anchors**: tree-sitter-rust parsing the same files (one thread) and ``rustfmt --check``
  over them (skip_children, so each file is formatted once); ratios printed against ours.

The JSON result (machine info included) goes to bench/results/engine-<device>-<date>.json.
tree-sitter's Python packages are not project dependencies: they are installed into the
running environment on demand (``--install-anchors``), or the anchor is reported as skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def log(msg: str) -> None:
    print(msg, flush=True)


def corpus_paths(list_file: str | None) -> list[Path]:
    if list_file:
        return [Path(p) for p in Path(list_file).read_text().splitlines() if p]
    out = subprocess.run(
        [str(REPO / "scripts" / "corpus.sh")], check=True, capture_output=True, text=True
    )
    return [Path(p) for p in out.stdout.splitlines() if p]


def machine_info() -> dict[str, Any]:
    import numba

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "numba": numba.__version__,
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": getattr(numba.config, "THREADING_LAYER", "?"),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        info["mem_total_kb"] = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
    except OSError:
        pass
    try:
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def gpu_info() -> dict[str, Any]:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    import numba_cuda  # type: ignore[import-not-found]

    return {
        "gpu": props["name"].decode(),
        "gpu_memory_bytes": int(props["totalGlobalMem"]),
        "sm_count": int(props["multiProcessorCount"]),
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "cupy": cupy.__version__,
        "numba_cuda": getattr(numba_cuda, "__version__", "?"),
    }


def timed(fn: Any, repeat: int) -> tuple[list[float], Any]:
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def summary(times: list[float], n_bytes: int) -> dict[str, Any]:
    best = min(times)
    return {
        "seconds_best": best,
        "seconds_median": statistics.median(times),
        "seconds_all": times,
        "mb_per_s_best": n_bytes / best / 1e6,
        "mb_per_s_median": n_bytes / statistics.median(times) / 1e6,
    }


def corpus_editions(paths: list[Path], editions_file: str | None) -> Any:
    """Per-file edition years (2021 where the file is not listed)."""
    if not editions_file:
        from rustg.gpu.editions import EditionMap

        m = EditionMap(os.environ.get("RUSTG_CORPUS_ROOT", "/usr/share/cargo/registry"))
        return np.array([int(m.edition_of(p)) for p in paths], dtype=np.uint16)
    table = json.loads(Path(editions_file).read_text())
    root = Path(os.environ.get("RUSTG_CORPUS_ROOT", "/usr/share/cargo/registry"))
    return np.array([int(table.get(str(p.relative_to(root)), 2021)) for p in paths],
                    dtype=np.uint16)  # fmt: skip


def latency_file(paths: list[Path], target_lines: int = 2000) -> Path:
    best, best_d = paths[0], 1 << 60
    for p in paths:
        with open(p, "rb") as f:
            n = f.read().count(b"\n")
        if abs(n - target_lines) < best_d:
            best, best_d = p, abs(n - target_lines)
    return best


def bench_cpu(paths: list[Path], repeat: int, n_bytes: int, eds: Any) -> dict[str, Any]:
    from rustg.gpu.backend import Backend, Device
    from rustg.gpu.lexer import lex_cpu
    from rustg.gpu.sources import read_sources

    t0 = time.perf_counter()
    src = read_sources(paths[:8])
    lex_cpu(src.buffer, src.file_offsets, editions=eds[:8])
    jit = time.perf_counter() - t0

    def e2e() -> Any:
        s = read_sources(paths)
        return lex_cpu(s.buffer, s.file_offsets, editions=eds)

    times, arrays = timed(e2e, repeat)
    src = read_sources(paths)
    read_times, _ = timed(lambda: read_sources(paths), repeat)
    lex_times, _ = timed(lambda: lex_cpu(src.buffer, src.file_offsets, editions=eds), repeat)
    be = Backend("cpu")
    be.index_files(paths[:8], editions=eds[:8])
    index_times, indexed = timed(lambda: be.index_files(paths, editions=eds, device=Device.CPU),
                                 repeat)  # fmt: skip
    return {
        "jit_or_cache_load_seconds": jit,
        "end_to_end": summary(times, n_bytes),
        "end_to_end_lex_tree_items": summary(index_times, n_bytes),
        "read_only": summary(read_times, n_bytes),
        "lex_only": summary(lex_times, n_bytes),
        "_indexed": indexed,
        "tokens": len(arrays),
        "token_array_bytes": arrays.nbytes(),
        "token_array_bytes_per_source_mb": arrays.nbytes() / (n_bytes / 1e6),
        "resident_bytes_per_source_mb": (arrays.nbytes() + n_bytes) / (n_bytes / 1e6),
        "_arrays": arrays,
    }


def bench_read_scaling(paths: list[Path], repeat: int) -> dict[str, Any]:
    """Where reading goes: sizing + opening (plan_sources) vs reading the bytes, by threads."""
    import numba

    from rustg.gpu.sources import plan_sources, read_planned

    out: dict[str, Any] = {}
    full = numba.get_num_threads()
    for threads in sorted({1, 2, 4, 8, full - 1, full} - {0}):
        numba.set_num_threads(threads)
        best_plan = best_read = 1e9
        for _ in range(repeat):
            t0 = time.perf_counter()
            plan = plan_sources(paths)
            t1 = time.perf_counter()
            buf = np.empty(plan.n_bytes, dtype=np.uint8)
            buf[:: 1 << 12] = 0  # first touch outside the timed read (pinned memory is touched)
            t2 = time.perf_counter()
            read_planned(plan, buf)
            t3 = time.perf_counter()
            plan.close()
            best_plan, best_read = min(best_plan, t1 - t0), min(best_read, t3 - t2)
        out[str(threads)] = {"plan_ms": best_plan * 1e3, "read_ms": best_read * 1e3}
        log(f"  read with {threads} threads: plan (open + size) {best_plan * 1e3:.1f} ms, "
            f"read {best_read * 1e3:.1f} ms")  # fmt: skip
    numba.set_num_threads(full)
    return out


def bench_pipelined(
    backend: Any, paths: list[Path], repeat: int, n_bytes: int, eds: Any
) -> dict[str, Any]:
    """lex_files / index_files on CUDA, end to end, several batch counts (see docstring)."""
    from rustg.gpu.backend import Device, Residence

    cl = backend.cuda()
    out: dict[str, Any] = {}
    for what, call in (("lex", backend.lex_files), ("lex_tree_items", backend.index_files)):
        for batches in (1, 2, 4):
            runs = []
            for _ in range(repeat):
                tm: dict[str, float] = {}
                cl.synchronize()
                t0 = time.perf_counter()
                res = call(paths, editions=eds, device=Device.CUDA, batches=batches,
                           residence=Residence.DEVICE, timings=tm)  # fmt: skip
                cl.synchronize()
                runs.append((time.perf_counter() - t0, tm))
                del res
            best = min(runs, key=lambda r: r[0])
            key = f"{what}_batches_{batches}"
            out[key] = {**summary([r[0] for r in runs], n_bytes),
                        "clock_ms_of_best": {k: v * 1e3 for k, v in best[1].items()}}  # fmt: skip
            log(f"  pipelined {key}: {out[key]['mb_per_s_best']:.0f} MB/s best "
                f"({best[0] * 1e3:.1f} ms; " + ", ".join(f"{k} {v * 1e3:.1f}"
                for k, v in best[1].items()) + ")")  # fmt: skip
    # The same, arrays copied home (what HotWorkspace.load_all needs).
    times, indexed = timed(lambda: backend.index_files(paths, editions=eds, device=Device.CUDA),
                           repeat)  # fmt: skip
    out["lex_tree_items_to_host"] = summary(times, n_bytes)
    out["_indexed"] = indexed
    log(f"  pipelined index + copy home: {out['lex_tree_items_to_host']['mb_per_s_best']:.0f} MB/s")
    return out


def bench_cuda(paths: list[Path], repeat: int, n_bytes: int, eds: Any) -> dict[str, Any]:
    import cupy

    from rustg.gpu.backend import Backend, Device
    from rustg.gpu.items import build_items
    from rustg.gpu.tree import build_tree_arrays

    backend = Backend("cuda")
    t0 = time.perf_counter()
    cl = backend.cuda()
    src = backend.read(paths[:8], device=Device.CUDA)
    cl.lex(src.buffer, src.file_offsets)
    backend.index_files(paths[:40], editions=eds[:40], device=Device.CUDA, batches=2)
    cl.synchronize()
    jit = time.perf_counter() - t0
    read_scaling = bench_read_scaling(paths, repeat)
    pipelined = bench_pipelined(backend, paths, repeat, n_bytes, eds)
    pipelined_indexed = pipelined.pop("_indexed")

    stages: dict[str, list[float]] = {"read": [], "h2d": [], "lex": [], "total": []}
    resident: Any = None
    for _ in range(repeat):
        cl.synchronize()
        t0 = time.perf_counter()
        s = backend.read(paths, device=Device.CUDA)
        t1 = time.perf_counter()
        d_buf = cupy.asarray(s.buffer)
        cl.synchronize()
        t2 = time.perf_counter()
        resident = cl.lex_device(d_buf, s.file_offsets, editions=eds)
        cl.synchronize()
        t3 = time.perf_counter()
        for k, v in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            stages[k].append(v)
    host = cl.to_host(s.buffer, s.file_offsets, resident)
    device_bytes = sum(int(a.nbytes) for a in resident.values())
    # Tree and items from device-resident tokens (as bench_structure measured them).
    from rustg.gpu.backend import _device_tokens

    d_tok = _device_tokens(d_buf, s.file_offsets, resident)
    tree_t, d_tree = timed(lambda: (build_tree_arrays(resident["kind"],
                           resident["file_token_offsets"], xp=cupy), cl.synchronize())[0],
                           repeat)  # fmt: skip
    items_t, d_items = timed(lambda: (build_items(d_tok, d_tree, xp=cupy), cl.synchronize())[0],
                             repeat)  # fmt: skip
    log(f"  tree on device {min(tree_t) * 1e3:.1f} ms, items {min(items_t) * 1e3:.1f} ms")
    tree_stages: dict[str, float] = {}
    items_stages: dict[str, float] = {}
    build_tree_arrays(resident["kind"], resident["file_token_offsets"], xp=cupy,
                      timings=tree_stages)  # fmt: skip
    build_items(d_tok, d_tree, xp=cupy, timings=items_stages)
    log("  tree stages ms: " + ", ".join(f"{k} {v * 1e3:.2f}" for k, v in tree_stages.items()))
    log("  items stages ms: " + ", ".join(f"{k} {v * 1e3:.2f}" for k, v in items_stages.items()))
    # Where the device time goes, per stage, for several chunk sizes (synchronised stages).
    sweep = {}
    for cb in sorted({512, 1024, 2048, 4096, 8192, cl.chunk_bytes}):
        cl.lex_device(d_buf, s.file_offsets, chunk_bytes=cb)
        runs = []
        for _ in range(3):
            tm: dict[str, float] = {}
            cl.synchronize()
            t0 = time.perf_counter()
            cl.lex_device(d_buf, s.file_offsets, chunk_bytes=cb)
            cl.synchronize()
            plain = time.perf_counter() - t0
            cl.lex_device(d_buf, s.file_offsets, chunk_bytes=cb, timings=tm)
            runs.append({"unsynchronised_total_ms": plain * 1e3,
                         **{k: v * 1e3 for k, v in tm.items()}})  # fmt: skip
        sweep[str(cb)] = min(runs, key=lambda r: r["unsynchronised_total_ms"])
        log(f"  chunk {cb} B: " + ", ".join(f"{k} {v:.2f}" for k, v in sweep[str(cb)].items()))
    return {
        "pipelined": pipelined,
        "read_scaling_by_threads": read_scaling,
        "tree_on_device": summary(tree_t, n_bytes),
        "items_on_device": summary(items_t, n_bytes),
        "tree_stage_ms_synchronised": {k: v * 1e3 for k, v in tree_stages.items()},
        "items_stage_ms_synchronised": {k: v * 1e3 for k, v in items_stages.items()},
        "_tree": d_tree.to_host(),
        "_items": d_items.to_host(),
        "_pipelined": pipelined_indexed,
        "stage_ms_by_chunk_bytes": sweep,
        "jit_or_cache_load_seconds": jit,
        "end_to_end": summary(stages["total"], n_bytes),
        "read_pinned": summary(stages["read"], n_bytes),
        "host_to_device": summary(stages["h2d"], n_bytes),
        "lex_on_device": summary(stages["lex"], n_bytes),
        "tokens": len(host),
        "device_token_array_bytes": device_bytes,
        "device_bytes_per_source_mb": device_bytes / (n_bytes / 1e6),
        "_arrays": host,
    }


def bench_latency(path: Path, samples: int) -> dict[str, Any]:
    from rustg.gpu.backend import Backend

    data = path.read_bytes()
    backend = Backend("auto")
    backend.lex_bytes(data)  # warm
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        backend.lex_bytes(data)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "file": str(path),
        "lines": data.count(b"\n"),
        "bytes": len(data),
        "samples": samples,
        "p50_ms": 1e3 * times[len(times) // 2],
        "p95_ms": 1e3 * times[int(len(times) * 0.95)],
        "max_ms": 1e3 * times[-1],
    }


def ensure_tree_sitter(install: bool) -> Any:
    try:
        return importlib.import_module("tree_sitter"), importlib.import_module("tree_sitter_rust")
    except ImportError:
        if not install:
            return None
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "tree-sitter", "tree-sitter-rust"],
        check=True,
    )
    importlib.invalidate_caches()
    return importlib.import_module("tree_sitter"), importlib.import_module("tree_sitter_rust")


def bench_tree_sitter(paths: list[Path], n_bytes: int, install: bool) -> dict[str, Any]:
    mods = ensure_tree_sitter(install)
    if mods is None:
        return {"skipped": "tree-sitter not installed (use --install-anchors)"}
    ts, tsr = mods
    parser = ts.Parser(ts.Language(tsr.language()))
    datas = [p.read_bytes() for p in paths]  # parse time only: reading is not its job here
    t0 = time.perf_counter()
    for d in datas:
        parser.parse(d)
    sec = time.perf_counter() - t0
    return {
        "what": "tree_sitter.Parser.parse per file, one thread, bytes in memory",
        "tree_sitter_rust": getattr(tsr, "__version__", "?"),
        "seconds": sec,
        "mb_per_s": n_bytes / sec / 1e6,
    }


def bench_rustfmt(paths: list[Path], n_bytes: int) -> dict[str, Any]:
    rustfmt = shutil.which("rustfmt")
    if rustfmt is None:
        return {"skipped": "rustfmt not on PATH"}
    base = [rustfmt, "--check", "--edition", "2021"]
    nightly = subprocess.run(
        [rustfmt, "+nightly", "--version"], capture_output=True, check=False
    ).returncode
    if nightly == 0:  # skip_children (unstable): each file formatted once, not via its parent
        base = [rustfmt, "+nightly", "--check", "--edition", "2021", "--unstable-features",
                "--config", "skip_children=true"]  # fmt: skip
    t0 = time.perf_counter()
    batch = 200
    for i in range(0, len(paths), batch):
        subprocess.run(
            [*base, *map(str, paths[i : i + batch])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    sec = time.perf_counter() - t0
    return {
        "what": " ".join(base[1:]) + f" over batches of {batch} files, one process at a time",
        "seconds": sec,
        "mb_per_s": n_bytes / sec / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["cpu", "cuda", "both"], default="cpu")
    ap.add_argument("--list", help="file with one path per line (default: scripts/corpus.sh)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency-samples", type=int, default=300)
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--no-rustfmt", action="store_true")
    ap.add_argument("--install-anchors", action="store_true")
    ap.add_argument("--threads", type=int, help="numba threads for the CPU backend")
    ap.add_argument("--out", help="result JSON path (default bench/results/engine-...json)")
    ap.add_argument("--editions", help="JSON {path relative to RUSTG_CORPUS_ROOT: edition}")
    ap.add_argument("--note", help="free text stored in the result (how and where it ran)")
    args = ap.parse_args(argv)

    import numba

    if args.threads:
        numba.set_num_threads(args.threads)
    paths = corpus_paths(args.list)
    n_bytes = sum(p.stat().st_size for p in paths)
    eds = corpus_editions(paths, args.editions)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "corpus": {"files": len(paths), "bytes": n_bytes,
                   "files_per_edition": {str(e): int((eds == e).sum()) for e in sorted(set(eds))}},
    }  # fmt: skip
    if args.note:
        result["note"] = args.note
    log(f"corpus: {len(paths)} files, {n_bytes / 1e6:.1f} MB")
    cpu_arrays = cuda_arrays = None
    if args.backend in ("cpu", "both"):
        r = bench_cpu(paths, args.repeat, n_bytes, eds)
        cpu_arrays = r.pop("_arrays")
        cpu_indexed = r.pop("_indexed")
        result["cpu"] = r
        log(
            f"CPU ({result['machine']['numba_threads']} threads): end to end "
            f"{r['end_to_end']['mb_per_s_best']:.0f} MB/s best "
            f"({r['end_to_end']['seconds_best'] * 1e3:.0f} ms), lex only "
            f"{r['lex_only']['mb_per_s_best']:.0f} MB/s, {r['tokens']} tokens, "
            f"{r['token_array_bytes_per_source_mb'] / 1e6:.2f} MB arrays per MB source"
        )
    if args.backend in ("cuda", "both"):
        result["machine"].update(gpu_info())
        r = bench_cuda(paths, args.repeat, n_bytes, eds)
        cuda_arrays = r.pop("_arrays")
        cuda_tree, cuda_items = r.pop("_tree"), r.pop("_items")
        cuda_pipelined = r.pop("_pipelined")
        result["cuda"] = r
        log(
            f"CUDA ({result['machine']['gpu']}): end to end "
            f"{r['end_to_end']['mb_per_s_best']:.0f} MB/s best "
            f"({r['end_to_end']['seconds_best'] * 1e3:.1f} ms: read "
            f"{r['read_pinned']['seconds_best'] * 1e3:.1f}, h2d "
            f"{r['host_to_device']['seconds_best'] * 1e3:.1f}, lex "
            f"{r['lex_on_device']['seconds_best'] * 1e3:.1f} ms)"
        )
    if cpu_arrays is not None and cuda_arrays is not None:
        same = {
            name: bool(np.array_equal(getattr(cpu_arrays, name), getattr(cuda_arrays, name)))
            for name in (
                "kind",
                "start",
                "end",
                "keyword",
                "file_token_offsets",
                "file_status",
                "file_utf8_error",
            )
        }
        same["tree"] = bool(cpu_indexed.tree.same_as(cuda_tree))
        same["items"] = bool(cpu_indexed.items.same_as(cuda_items))
        same["cpu_index_tokens_equal_lex"] = bool(cpu_indexed.tokens.same_as(cpu_arrays))
        same["pipelined_tokens"] = bool(cuda_pipelined.tokens.same_as(cpu_arrays))
        same["pipelined_tree"] = bool(cuda_pipelined.tree.same_as(cpu_indexed.tree))
        same["pipelined_items"] = bool(cuda_pipelined.items.same_as(cpu_indexed.items))
        result["cpu_equals_cuda"] = {"all": all(same.values()), **same}
        log(f"CPU == CUDA on the whole corpus (per-crate editions): {same}")
    result["single_file_relex"] = bench_latency(latency_file(paths), args.latency_samples)
    lat = result["single_file_relex"]
    log(
        f"single-file re-lex ({lat['lines']} lines, {lat['bytes']} B): "
        f"p50 {lat['p50_ms']:.3f} ms, p95 {lat['p95_ms']:.3f} ms"
    )
    if not args.no_anchors:
        anchors = {"tree_sitter_rust": bench_tree_sitter(paths, n_bytes, args.install_anchors)}
        if not args.no_rustfmt:
            anchors["rustfmt_check"] = bench_rustfmt(paths, n_bytes)
        result["anchors"] = anchors
        ratios = {}
        for name, a in anchors.items():
            if "mb_per_s" not in a:
                log(f"anchor {name}: {a.get('skipped')}")
                continue
            log(f"anchor {name}: {a['mb_per_s']:.2f} MB/s")
            for ours in ("cpu", "cuda"):
                if ours in result:
                    ratio = result[ours]["end_to_end"]["mb_per_s_best"] / a["mb_per_s"]
                    ratios[f"{ours}_end_to_end_vs_{name}"] = ratio
                    log(f"  ratio {ours} end to end / {name}: {ratio:.1f}x")
        result["ratios"] = ratios
    device = "gpu" if "cuda" in result else "cpu"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")  # a second run the same day keeps the first
    out = Path(args.out) if args.out else RESULTS / f"engine-{device}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
