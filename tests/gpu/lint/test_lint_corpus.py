"""Every built-in rule over the real corpus (Debian's librust-*-dev sources, scripts/corpus.sh).

Prints the count per rule (``pytest -s`` shows them). ``corpus_sample.json`` holds the sample of
findings that was reviewed by hand: the true positives must still be reported, and the false
positives that were fixed (rustc's own ``#![allow(non_camel_case_types)]`` in FFI crates, casts
through ``_``, a documented cast, a deliberate ``collect().into_iter()``) must stay fixed.
Also runs over the examples' real GPU kernels, which must lint clean but for the one deliberate
``assert!`` in ``block_sum``.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from rustg.gpu.hot import HotWorkspace
from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.engine import LintEngine
from tests.gpu.conftest import CORPUS_ROOT, MIN_CORPUS_FILES, REPO_ROOT

pytestmark = [pytest.mark.corpus, pytest.mark.slow]
SAMPLE = Path(__file__).parent / "corpus_sample.json"


def _lint_tree(root: Path, paths: list[Path]) -> dict[tuple[str, int, str], str]:
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in paths}
    hot = HotWorkspace()
    hot.load_all(files)
    batch = {}
    for rel in hot.paths():
        tokens, tree, items = hot.file(rel)
        batch[rel] = LintFile(rel, files[rel], tokens, tree, items)
    out = LintEngine().update(batch)
    return {
        (path, files[path][: f.start].count(b"\n") + 1, f.rule): f.message
        for path, fs in out.items()
        for f in fs
    }


def test_all_rules_over_the_corpus() -> None:
    if not CORPUS_ROOT.is_dir():
        pytest.skip(f"no corpus at {CORPUS_ROOT}")
    listing = subprocess.run(
        [str(REPO_ROOT / "scripts" / "corpus.sh")], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(listing) >= MIN_CORPUS_FILES
    found = _lint_tree(CORPUS_ROOT, [Path(p) for p in listing])
    counts = Counter(rule for _, _, rule in found)
    print(f"\nlint over {len(listing)} corpus files: {sum(counts.values())} findings")
    for rule, n in sorted(counts.items()):
        print(f"  {rule:34s} {n:6d}")
    sample = json.loads(SAMPLE.read_text())
    missing = [
        s for s in sample["true_positives"] if (s["file"], s["line"], s["rule"]) not in found
    ]
    back = [
        s for s in sample["fixed_false_positives"] if (s["file"], s["line"], s["rule"]) in found
    ]
    assert missing == [], "reviewed true positives no longer reported"
    assert back == [], "fixed false positives are back"
    # The corpus is host code: no GPU rule may fire on it (there is no #[rustg::kernel] there).
    assert not [k for k in found if k[2].startswith("gpu_")]


def test_examples_gpu_kernels_lint_clean() -> None:
    root = REPO_ROOT / "examples" / "gpu-kernels"
    found = _lint_tree(root, sorted(root.rglob("*.rs")))
    # its one intended panic is suppressed with the stable `#[rustg::lint(allow(gpu_panic))]`
    assert sorted((f, r) for f, _, r in found) == []
