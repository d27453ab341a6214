"""Formatter benchmark (issue 6): ``cargo g fmt --check`` vs ``rustfmt --check``, same run.

1. **Corpus check.** Every corpus file (``scripts/corpus.sh``; ``--limit N`` for a sample),
   checked in place (nothing is written) by the formatter — cold (empty known-formatted table)
   and warm (the table filled by the cold run) — and by the anchor, ``rustfmt --check`` on each
   file over stdin with the same edition and config (stdin: rustfmt would otherwise also format
   every ``mod x;`` child, several times over). Both use the same number of parallel workers.
   The sets of files that would change, and of files rustfmt refuses, are asserted identical.
2. **Native coverage**: the fraction of top-level items whose text came from the native printer,
   and the files per route.
3. **Daemon latency**: a real ``rustgd`` on a temporary workspace with a ~1,000-line file, once
   its first check is done; the ``format`` request with the editor's buffer, one function
   edited each time in a way not seen before (no fast path, and the daemon's item memo misses
   on that function), p50/p95. ``--daemon-only`` runs just this part.

Targets (issue 6): ≥ 20 times rustfmt on the corpus with identical results; native coverage ≥ 90 %;
daemon format p95 ≤ 10 ms for a 1,000-line file. Writes ``bench/results/fmt-<date>.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench.common import (
    busy_fraction,
    machine_info,
    results_path,
    summarize,
    system_cpu_ticks,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def corpus(limit: int | None) -> list[Path]:
    out = subprocess.run(
        [str(REPO / "scripts/corpus.sh")], capture_output=True, text=True, check=True
    )
    files = [Path(p) for p in out.stdout.split()]
    if limit:
        step = max(1, len(files) // limit)
        files = files[::step][:limit]
    return files


def anchor_check(files: list[Path], jobs: int) -> tuple[float, set[Path], set[Path]]:
    """rustfmt --check per file (stdin), ``jobs`` in parallel: (seconds, changed, failed)."""
    from rustg.gpu.fmt.config import load_fmt_config

    configs = {f: load_fmt_config(f) for f in files}  # resolved before timing, as ours is cached

    def one(path: Path) -> tuple[Path, int]:
        source = path.read_bytes()
        proc = subprocess.run(
            ["rustfmt", "--check", "--quiet", *configs[path].rustfmt_args()],
            input=source, capture_output=True, cwd=path.parent, check=False,
        )  # fmt: skip
        # --check over stdin exits 0 even with a diff (printed on stdout); non-zero: failed.
        # A file rustfmt skips (`#![cfg_attr(rustfmt, rustfmt_skip)]`) is echoed whole on
        # stdout instead of a diff; `rustfmt --check FILE` reports it unchanged (checked on
        # unicode-bidi's tables.rs): so is it here.
        if proc.returncode != 0:
            return path, 2
        return path, 1 if proc.stdout and proc.stdout != source else 0

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        codes = dict(pool.map(one, files))
    seconds = time.perf_counter() - start
    return (
        seconds,
        {p for p, c in codes.items() if c == 1},
        {p for p, c in codes.items() if c == 2},
    )


def ours_check(files: list[Path], jobs: int, known_dir: Path) -> dict[str, Any]:
    from rustg.gpu.fmt.driver import Formatter, Outcome
    from rustg.gpu.fmt.known import KnownFormatted

    known = KnownFormatted.open(known_dir)
    try:
        formatter = Formatter(known=known, jobs=jobs)
        start = time.perf_counter()
        results = list(formatter.format_files(files))
        seconds = time.perf_counter() - start
    finally:
        known.close()
    return {
        "seconds": seconds,
        "changed": {r.path for r in results if r.outcome is Outcome.CHANGED},
        "failed": {r.path for r in results if r.outcome is Outcome.RUSTFMT_FAILED},
        "internal": [str(r.path) for r in results if r.outcome is Outcome.INTERNAL_ERROR],
        "items": sum(r.items for r in results),
        "native_items": sum(r.native_items for r in results),
        "routes": dict(Counter(r.route.value for r in results)),
        "reasons": dict(Counter(r.reason for r in results).most_common(8)),
    }


def daemon_latency(requests: int, console: Console) -> dict[str, Any]:
    import msgspec  # noqa: F401  (the protocol's codec)
    import zmq

    from rustg import protocol as p
    from rustg.daemon.workspace import workspace_id
    from tests.support.rust_workspaces import cargo_env

    base = Path(tempfile.mkdtemp(prefix="rgf", dir="/tmp"))
    try:
        (base / "run").mkdir(mode=0o700)
        ws = base / "ws"
        (ws / "src").mkdir(parents=True)
        (ws / "Cargo.toml").write_text(
            '[package]\nname = "b"\nversion = "0.1.0"\nedition = "2021"\n'
        )
        body = "".join(
            f"/// Function {i}.\npub fn f{i}(a: u32, b: u32) -> u32 {{\n"
            f"    let c = a.wrapping_mul({i}) + b;\n    if c > {i} {{\n        c - {i}\n"
            f"    }} else {{\n        c + 1\n    }}\n}}\n\n"
            for i in range(100)
        )
        (ws / "src" / "lib.rs").write_text(body)
        lines = body.count("\n")
        env = cargo_env(base=os.environ)
        env.update(XDG_RUNTIME_DIR=str(base / "run"), XDG_CACHE_HOME=str(base / "cache"))
        subprocess.run(
            [str(BIN / "rustgd"), "start", "--workspace", str(ws)], env=env, check=True,
            capture_output=True, timeout=120,
        )  # fmt: skip
        runtime = base / "run" / "rustg" / workspace_id(ws)
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.RCVTIMEO, 60_000)
        sock.connect(f"ipc://{runtime / 'requests.sock'}")
        samples: list[float] = []
        routes: Counter[str] = Counter()
        try:
            # The first check generation (engine, lint, fmt of the workspace) runs after start;
            # requests are timed once it is done, as an editor's would be after opening.
            deadline = time.monotonic() + 120
            idle_since = None
            while time.monotonic() < deadline:
                sock.send(p.encode(p.StatusRequest(id=0)))
                status = p.decode_reply(sock.recv())
                assert isinstance(status, p.StatusReply), status
                if status.generation >= 1 and not status.busy and not status.pending:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 0.5:
                        break
                else:
                    idle_since = None
                time.sleep(0.05)
            for i in range(requests + 5):
                # an unformatted edit somewhere new each time, never seen before (no fast-path
                # or item-memo hit for the edited item): the rest of the file is as last time
                k = i % 100
                content = body.replace(
                    f"pub fn f{k}(a: u32, b: u32) -> u32 {{\n    let c = a.wrapping_mul({k})",
                    f"pub  fn  f{k} (a: u32, b: u32) -> u32 {{\n    let c = a.wrapping_mul({i})",
                    1,
                )
                content += f"// edit {i}\n"
                t0 = time.perf_counter()
                sock.send(p.encode(p.FormatRequest(id=i + 1, file="src/lib.rs", content=content)))
                reply = p.decode_reply(sock.recv())
                elapsed = time.perf_counter() - t0
                assert isinstance(reply, p.FormatReply) and reply.outcome == "changed", reply
                if i >= 5:  # the first requests import and compile the engine
                    samples.append(elapsed * 1000)
                    routes[reply.route] += 1
        finally:
            sock.close(linger=0)
            ctx.term()
            subprocess.run(
                [str(BIN / "rustgd"), "stop", "--workspace", str(ws)], env=env,
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        return {"file_lines": lines, "latency_ms": summarize(samples), "routes": dict(routes)}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="corpus sample size")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--requests", type=int, default=100, help="daemon format requests")
    parser.add_argument("--quick", action="store_true", help="300 files, 30 requests")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--daemon-only", action="store_true", help="only the daemon latency (nothing written)"
    )
    args = parser.parse_args()
    if args.quick:
        args.limit, args.requests = args.limit or 300, 30
    console = Console(width=max(Console().width, 120))
    if args.daemon_only:
        load_before = os.getloadavg()
        latency = daemon_latency(args.requests, console)
        lat = latency["latency_ms"]
        console.print(
            f"daemon format request, {latency['file_lines']}-line file: p50 {lat['p50']:.1f} ms, "
            f"p95 {lat['p95']:.1f} ms (routes {latency['routes']}); load average "
            f"{load_before[0]:.2f} → {os.getloadavg()[0]:.2f}"
        )
        return 0
    machine = machine_info(tools={"rustfmt": ["rustfmt", "--version"]})
    files = corpus(args.limit)
    size = sum(f.stat().st_size for f in files)
    load_before, ticks_before = os.getloadavg(), system_cpu_ticks()
    console.print(f"{len(files)} files, {size / 1e6:.1f} MB, {args.jobs} workers")
    with tempfile.TemporaryDirectory(prefix="rg-fmt-bench") as tmp:
        anchor_s, anchor_changed, anchor_failed = anchor_check(files, args.jobs)
        cold = ours_check(files, args.jobs, Path(tmp) / "known")
        warm = ours_check(files, args.jobs, Path(tmp) / "known")
    identical = (
        cold["changed"] == anchor_changed == warm["changed"]
        and cold["failed"] == anchor_failed
        and not cold["internal"]
    )
    latency = daemon_latency(args.requests, console)
    load: dict[str, Any] = {
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "busy_fraction_all_cpus": busy_fraction(ticks_before, system_cpu_ticks()),
    }
    coverage = cold["native_items"] / cold["items"] if cold["items"] else 0.0
    report: dict[str, Any] = {
        "benchmark": "fmt",
        "machine": machine,
        "load": load,
        "corpus": {"files": len(files), "bytes": size, "jobs": args.jobs},
        "anchor_rustfmt_check": {
            "seconds": anchor_s,
            "mb_per_s": size / 1e6 / anchor_s,
            "would_change": len(anchor_changed),
            "failed": len(anchor_failed),
        },
        "cargo_g_fmt_check": {
            name: {
                "seconds": run["seconds"],
                "mb_per_s": size / 1e6 / run["seconds"],
                "ratio_vs_rustfmt": anchor_s / run["seconds"],
                "would_change": len(run["changed"]),
                "failed": len(run["failed"]),
                "internal_errors": run["internal"],
                "routes": run["routes"],
                "route_reasons": run["reasons"],
            }
            for name, run in (("cold", cold), ("warm", warm))
        },
        "identical_results": identical,
        # every file on which the two disagree (would change / failed), for the next session
        "differences": {
            "changed_only_ours": sorted(str(p) for p in cold["changed"] - anchor_changed),
            "changed_only_rustfmt": sorted(str(p) for p in anchor_changed - cold["changed"]),
            "failed_only_ours": sorted(str(p) for p in cold["failed"] - anchor_failed),
            "failed_only_rustfmt": sorted(str(p) for p in anchor_failed - cold["failed"]),
            "warm_not_cold": sorted(str(p) for p in warm["changed"] ^ cold["changed"]),
        },
        "native_coverage": {
            "items": cold["items"],
            "native_items": cold["native_items"],
            "fraction": coverage,
        },
        "daemon_format": latency,
    }
    cold_ratio = report["cargo_g_fmt_check"]["cold"]["ratio_vs_rustfmt"]
    warm_ratio = report["cargo_g_fmt_check"]["warm"]["ratio_vs_rustfmt"]
    p95 = latency["latency_ms"]["p95"]
    report["targets"] = {
        "speedup_20x_cold": cold_ratio >= 20,
        "speedup_20x_warm": warm_ratio >= 20,
        "identical": identical,
        "coverage_90": coverage >= 0.9,
        "daemon_p95_10ms": p95 <= 10,
    }
    table = Table(title="cargo g fmt --check vs rustfmt --check (same run)")
    for col in ("run", "seconds", "MB/s", "vs rustfmt", "would change", "failed"):
        table.add_column(col, justify="right" if col != "run" else "left")
    a = report["anchor_rustfmt_check"]
    table.add_row("rustfmt --check", f"{anchor_s:.2f}", f"{a['mb_per_s']:.2f}", "1.00",
                  str(a["would_change"]), str(a["failed"]))  # fmt: skip
    for name in ("cold", "warm"):
        r = report["cargo_g_fmt_check"][name]
        table.add_row(
            f"cargo g fmt ({name})", f"{r['seconds']:.2f}", f"{r['mb_per_s']:.2f}",
            f"{r['ratio_vs_rustfmt']:.2f}", str(r["would_change"]), str(r["failed"]),
        )  # fmt: skip
    console.print(table)
    console.print(f"identical results: {identical}; routes (cold): {cold['routes']}")
    console.print(f"route reasons (cold): {cold['reasons']}")
    console.print(f"native coverage: {cold['native_items']}/{cold['items']} items ({coverage:.1%})")
    lat = latency["latency_ms"]
    console.print(
        f"daemon format request, {latency['file_lines']}-line file: p50 {lat['p50']:.1f} ms, "
        f"p95 {lat['p95']:.1f} ms (routes {latency['routes']})"
    )
    console.print(
        f"machine load: all CPUs {load['busy_fraction_all_cpus']:.0%} busy, load average "
        f"{load['loadavg_before'][0]:.2f} → {load['loadavg_after'][0]:.2f}"
    )
    console.print(f"targets: {report['targets']}")
    if not args.no_write:
        path = write_results(results_path("fmt"), report)
        console.print(f"results: {path}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
