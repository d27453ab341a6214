"""User lint rules over the real corpus on the CPU: 20 pattern rules + 5 whole-file regex rules.

    .venv/bin/python bench/bench_lint_rules.py [--limit N] [--repeat R]

In one run:

* **regex rules**: the 5 regexes compiled to DFA tables, run over the whole corpus buffer in
  one ``DfaBank.scan_files`` call (numba, parallel over chunks); the anchor is Python's ``re``
  (bytes patterns, ``finditer`` per file per regex) on the same bytes. Match counts must agree
  (the 5 regexes are chosen so that leftmost-longest and leftmost-first coincide).
* **pattern rules**: per file, the 20 patterns through ``UserRule.check`` on a prepared
  ``LintFile`` (the lex/tree/items/regions time is measured separately: the engine pays it
  once for all rules, built-in ones included).

Prints MB/s and the ratio to ``re``; writes bench/results/lint-rules-<stamp>.json with the
machine info and its load (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.common import (  # noqa: E402
    busy_fraction,
    machine_info,
    results_path,
    system_cpu_ticks,
    write_results,
)

PATTERNS = [
    "$X.unwrap()",
    "$X.expect($$$A)",
    "panic!($$$A)",
    "todo!($$$A)",
    "unimplemented!($$$A)",
    "dbg!($$$A)",
    "println!($$$A)",
    "mem::forget($X)",
    "mem::transmute($$$A)",
    "Box::leak($X)",
    "$X.clone()",
    "unsafe { $$$B }",
    "static mut $N: $$$T",
    "Vec::new()",
    "$A.iter().collect()",
    "$X as *const $T",
    "$X as *mut $T",
    "assert_eq!($A, $A)",
    "String::from($X)",
    "format!($$$A)",
]
REGEXES = ["TODO[^(]", "FIXME", "unsafe\\s*\\{", "0x[0-9a-fA-F]{9,}", "\\.unwrap\\(\\)"]


def _toml_string(s: str) -> str:
    return "'" + s + "'"  # literal strings: no escapes to double


def rules_toml() -> str:
    out = []
    for i, p in enumerate(PATTERNS):
        out.append(f"[[rule]]\nname = 'p{i}'\npattern = {_toml_string(p)}\nmessage = 'm'\n")
    for i, r in enumerate(REGEXES):
        out.append(f"[[rule]]\nname = 'r{i}'\nregex = {_toml_string(r)}\nmessage = 'm'\n")
    return "\n".join(out)


def corpus_paths(limit: int | None) -> list[str]:
    out = subprocess.run(
        [str(REPO_ROOT / "scripts" / "corpus.sh")], check=True, capture_output=True, text=True
    ).stdout.split()
    return out[:limit] if limit else out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--limit", type=int, default=None, help="first N corpus files only")
    ap.add_argument("--repeat", type=int, default=3, help="regex timings: best of R")
    args = ap.parse_args()
    info = machine_info()
    load_before = os.getloadavg()
    ticks0 = system_cpu_ticks()

    import numpy as np

    from rustg.gpu.lint.context import LintFile
    from rustg.gpu.lint.regex_dfa import DfaBank
    from rustg.gpu.lint.user_rules import parse_rules
    from rustg.gpu.sources import read_sources

    rules, problems = parse_rules(rules_toml(), "<bench>")
    assert not problems, problems
    pattern_rules = [r for r in rules if r.pattern is not None]
    regex_rules = [r for r in rules if r.regex is not None]
    paths = corpus_paths(args.limit)
    src = read_sources(paths)
    buf, fo = src.buffer, src.file_offsets
    n_bytes = int(fo[-1])
    mb = n_bytes / 1e6
    print(f"corpus: {len(paths)} files, {mb:.1f} MB")

    # -- regex rules: DFA (one call for all 5) vs Python re --------------------------------
    bank = DfaBank([r.regex for r in regex_rules if r.regex is not None])
    ids = list(range(len(regex_rules)))
    bank.scan_files(ids, buf[: int(fo[min(1, len(fo) - 1)])], fo[:2])  # JIT warm-up
    dfa_s = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        m = bank.scan_files(ids, buf, fo)
        dfa_s.append(time.perf_counter() - t)
    dfa_counts = np.bincount(m.rule, minlength=len(ids)).tolist()
    files = [buf[fo[i] : fo[i + 1]].tobytes() for i in range(len(fo) - 1)]
    compiled = [re.compile(p.encode()) for p in REGEXES]
    re_s = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        re_counts = [sum(1 for f in files for _ in rx.finditer(f)) for rx in compiled]
        re_s.append(time.perf_counter() - t)
    dfa_best, re_best = min(dfa_s), min(re_s)
    print(
        f"regex rules ({len(REGEXES)}): DFA {mb / dfa_best:.1f} MB/s ({dfa_best:.3f} s), "
        f"re {mb / re_best:.1f} MB/s ({re_best:.3f} s), DFA/re speed {re_best / dfa_best:.2f}x; "
        f"counts equal: {dfa_counts == re_counts}"
    )

    # -- pattern rules, per file -----------------------------------------------------------
    t = time.perf_counter()
    ctxs = []
    for i, data in enumerate(files):
        ctx = LintFile.from_source(paths[i], data)
        ctx.regions()  # what the engine computes once for every rule
        _ = (ctx.sig, ctx.nxt, ctx.prv, ctx.hashes)
        ctxs.append(ctx)
    ctx_s = time.perf_counter() - t
    pattern_rules[0].check(ctxs[0])  # warm-up
    per_rule: dict[str, dict[str, Any]] = {}
    t_all = time.perf_counter()
    for r in pattern_rules:
        t = time.perf_counter()
        n = sum(len(r.check(c)) for c in ctxs)
        per_rule[r.pattern.text if r.pattern else r.meta.name] = {
            "findings": n,
            "seconds": round(time.perf_counter() - t, 4),
        }
    pat_s = time.perf_counter() - t_all
    print(
        f"pattern rules ({len(PATTERNS)}): {mb / pat_s:.1f} MB/s ({pat_s:.2f} s) "
        f"on prepared contexts; contexts (lex+tree+items+regions) {ctx_s:.2f} s"
    )
    for text, d in sorted(per_rule.items(), key=lambda kv: -kv[1]["seconds"])[:5]:
        print(f"  slowest: {text!r:28} {d['seconds']:.3f} s, {d['findings']} findings")

    ticks1 = system_cpu_ticks()
    doc = {
        "benchmark": "lint-rules",
        "machine": info,
        "load": {
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "busy_fraction": busy_fraction(ticks0, ticks1),
        },
        "corpus": {"files": len(paths), "bytes": n_bytes, "limit": args.limit},
        "regex": {
            "rules": REGEXES,
            "dfa_seconds": dfa_s,
            "re_seconds": re_s,
            "dfa_mb_s": mb / dfa_best,
            "re_mb_s": mb / re_best,
            "dfa_vs_re_speedup": re_best / dfa_best,
            "dfa_counts": dfa_counts,
            "re_counts": re_counts,
            "counts_equal": dfa_counts == re_counts,
        },
        "patterns": {
            "rules": PATTERNS,
            "seconds": pat_s,
            "mb_s": mb / pat_s,
            "context_seconds": ctx_s,
            "per_rule": per_rule,
        },
    }
    path = write_results(results_path("lint-rules"), doc)
    print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0 if dfa_counts == re_counts else 1


if __name__ == "__main__":
    sys.exit(main())
