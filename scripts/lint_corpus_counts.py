"""Per-rule finding counts and a digest of every finding over the corpus: a before/after check
for changes that must not change what the linter finds (speed work).

    .venv/bin/python scripts/lint_corpus_counts.py [--out FINDINGS.txt]

Prints one JSON line: lint seconds, total, a SHA-256 prefix of all findings (path, rule, level,
message, span, help, fix, related) and the counts per rule. Equal digests: equal findings.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rustg.gpu.hot import HotWorkspace
from rustg.gpu.lint.backend import LintBackend
from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.engine import LintEngine

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, help="also write every finding, one per line")
    args = ap.parse_args(argv)
    listing = subprocess.run(
        [str(REPO / "scripts" / "corpus.sh")], capture_output=True, text=True, check=True
    ).stdout.split()
    files = {p: Path(p).read_bytes() for p in listing}
    hot = HotWorkspace()
    hot.load_all(files)
    engine = LintEngine(backend=LintBackend("cpu"))
    t = time.perf_counter()
    out = engine.update({p: LintFile(p, files[p], *hot.file(p)) for p in hot.paths()})
    seconds = time.perf_counter() - t
    counts = collections.Counter(f.rule for fs in out.values() for f in fs)
    lines = [
        repr((p, f.rule, str(f.level), f.message, f.start, f.end, f.help, repr(f.fix),
              repr(f.related)))
        for p in sorted(out)
        for f in out[p]
    ]  # fmt: skip
    if args.out is not None:
        args.out.write_text("\n".join(lines))
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    doc = {"lint_s": round(seconds, 2), "total": len(lines), "sha": digest,
           "counts": dict(sorted(counts.items()))}  # fmt: skip
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
