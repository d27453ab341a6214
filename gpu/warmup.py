"""Compile the engine's and the linter's numba functions into numba's on-disk cache, ahead of use.

The CPU lexer, tree, items and lint kernels are ``cache=True`` njit functions. Compiled cold they
take about a minute (54-64 s for the engine alone, measured on a 2-core machine): the daemon's
first parse after an install would pay it, and every job of the next save would queue behind
it. ``scripts/setup.sh`` runs this once per change to the package's sources, so a fresh install
starts warm. It drives the same entry points the daemon's jobs call, on the bundled example
workspace (or the one given), so it compiles exactly what the daemon will need.

    python -m rustg.gpu.warmup [WORKSPACE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .hot import HotWorkspace
from .lint.context import LintFile
from .lint.engine import LintEngine

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello-gpu"
# Paths the example does not take: unbalanced delimiters (the tree's diagnostics kernel) and
# nested fn bodies (the linter's per-row owner painting).
BROKEN = b"""fn unbalanced(x: u32) -> u32 { let y = (x + 1]; if y > 2 { y }
impl S { fn a(&self) { fn inner() { let _ = 1; } unsafe { inner() } } }
"""


def rust_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.rs"))
        if "target" not in p.relative_to(root).parts
    }


def warm(root: Path) -> float:
    """Run the daemon's first load, a single-file save and a lint pass; seconds taken."""
    files = rust_files(root)
    if not files:
        raise SystemExit(f"warmup: no .rs files under {root}")
    files["warmup/broken.rs"] = BROKEN
    started = time.perf_counter()
    hot = HotWorkspace()
    hot.load_all(files)  # the batch lexer, tree and items
    first = next(iter(files))
    hot.update(first, files[first] + b"\n// warmup\n")  # the single-file path of a save
    batch = {}
    for rel in hot.paths():
        tokens, tree, items = hot.file(rel)
        batch[rel] = LintFile(rel, tokens.buffer.tobytes(), tokens, tree, items)
    LintEngine().update(batch)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else EXAMPLE
    seconds = warm(root)
    print(f"warmup: numba caches ready ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
