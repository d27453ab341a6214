"""Where the real corpus's items go to rustfmt, and why: the driver's plan per file, no rustfmt run.

For every corpus file (in place, with its own crate's config and edition, as ``cargo g fmt``
sees it), the driver's planning step (``Formatter._plan``, split into units as in a batched run)
is run; the items of each file routed whole to rustfmt are counted by the route's reason, and in
assembled files the items of delegated units by why: the printer refused the item (its refusal
message, ``--reasons``) or the item sits in a ``use``/``mod`` run another member of which was
refused. A config-routed file is also planned as if its config were modelled, which bounds what
per-item config routing could win. No rustfmt process runs, so the figure is the plan's:
bench_fmt.py's coverage can differ where a unit batch fails or ``error_on_line_overflow`` hits.

``--verify`` then formats the sample for real (``Formatter.format_files``, no fast path) and
compares every file that was not routed whole with rustfmt's output for the whole file, byte
for byte: the assembly's rules must give exactly rustfmt (bench_fmt.py compares only which
files would change).

    .venv/bin/python bench/fmt_routes.py [--every N] [--reasons K] [--show REASON] [--verify]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fmt_native_coverage import corpus_files, refusal_reason


def main(argv: list[str] | None = None) -> int:
    from rustg.gpu.fmt.driver import Formatter, Route, _Lookup
    from rustg.gpu.fmt.native import format_top_level_items

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="take every N-th corpus file")
    ap.add_argument("--reasons", type=int, default=0, help="tally K top refusal reasons")
    ap.add_argument("--show", default="", help="print the files routed whole for this reason")
    ap.add_argument("--verify", action="store_true", help="compare with whole-file rustfmt")
    ns = ap.parse_args(argv)
    load_before = os.getloadavg()
    last: dict[str, Any] = {}

    def capture(source: bytes, tokens: Any, tree: Any, items: Any, config: Any) -> Any:
        out = format_top_level_items(source, tokens, tree, items, config)
        last.update(source=source, tokens=tokens, items=items, config=config, out=out)
        return out

    fmt = Formatter(native=capture, jobs=1)
    lost: collections.Counter[str] = collections.Counter()
    files_by: collections.Counter[str] = collections.Counter()
    refused: collections.Counter[str] = collections.Counter()
    config_potential = 0
    total = native = 0
    t0 = time.perf_counter()
    for path in corpus_files()[:: ns.every]:
        looked = fmt._lookup(path, path.read_bytes(), remember=False)
        if not isinstance(looked, _Lookup):
            files_by[looked.reason or looked.outcome.value] += 1
            continue
        last.clear()
        plan = fmt._plan(looked.text, looked.config, split=True) if looked.native_ok else None
        if plan is None:
            files_by["toolchain override"] += 1
            continue
        total += plan.items
        if plan.route is Route.FILE:
            reason = "config" if plan.reason.startswith("config:") else plan.reason
            lost[f"file: {reason}"] += plan.items
            files_by[reason] += 1
            if ns.show and ns.show in plan.reason:
                print(f"{plan.items:>6}  {path}  ({plan.reason})")
            if reason == "config":
                modelled = dataclasses.replace(looked.config, native_allowed=True)
                alt = fmt._plan(looked.text, modelled, split=True)
                if alt.route is not Route.FILE:
                    config_potential += sum(u.items for u in alt.units if u.native is not None)
            continue
        files_by[plan.reason] += 1
        native += sum(u.items for u in plan.units if u.native is not None)
        out = last.get("out")
        for u in plan.units:
            if u.native is not None:
                continue
            if u.items <= 1:
                lost["unit: item refused"] += u.items
            else:
                lost["unit: run with a refused member"] += u.items
        if ns.reasons and out is not None:
            rows = [i for i in range(len(last["items"])) if int(last["items"].depth[i]) == 0]
            for idx, text in zip(rows, out, strict=True):
                if text is None:
                    why = refusal_reason(
                        last["source"], last["tokens"], last["items"], idx, last["config"]
                    )
                    refused[why] += 1
    seconds = time.perf_counter() - t0
    print(f"items {total}, native {native} ({100 * native / max(total, 1):.1f}%), {seconds:.0f} s")
    print("items lost, by why:")
    for why, n in lost.most_common():
        print(f"  {n:>7}  {100 * n / max(total, 1):5.2f}%  {why}")
    print(f"config-routed files' items the printer would give if modelled: {config_potential}")
    print("files, by route reason:")
    for why, n in files_by.most_common():
        print(f"  {n:>7}  {why}")
    if ns.reasons:
        print("refused items, by reason (all items, runs included):")
        for why, n in refused.most_common(ns.reasons):
            print(f"  {n:>7}  {why}")
    bad = verify(corpus_files()[:: ns.every]) if ns.verify else 0
    print(f"load average {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    return 1 if bad else 0


def verify(paths: list[Path]) -> int:
    """Files assembled from units whose output is not byte-identical to whole-file rustfmt."""
    from concurrent.futures import ThreadPoolExecutor

    from rustg.gpu.fmt.driver import Formatter, Outcome, Route
    from rustg.gpu.fmt.rustfmt import RustfmtError, format_source

    fmt = Formatter(jobs=os.cpu_count() or 1)
    results = [
        r
        for r in fmt.format_files(paths)
        if r.route in (Route.ITEMS, Route.NATIVE) and r.outcome is not Outcome.RUSTFMT_FAILED
    ]

    def whole(r: Any) -> bytes | None:
        try:
            return format_source(r.original, fmt.config_for(r.path), cwd=r.path.resolve().parent)
        except RustfmtError:
            return None

    bad = 0
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for r, expected in zip(results, pool.map(whole, results), strict=True):
            if r.outcome is Outcome.INTERNAL_ERROR or r.formatted != expected:
                bad += 1
                print(f"DIFFERENT: {r.path} ({r.route.value}, {r.outcome.value})")
    print(f"verified {len(results)} assembled files against whole-file rustfmt: {bad} different")
    return bad


if __name__ == "__main__":
    sys.exit(main())
