"""Native formatter over the real corpus: every covered item equals rustfmt's output.

Runs bench/fmt_native_coverage.py's harness on every 7th corpus file (the whole corpus is the
benchmark's job): each file formatted by the installed rustfmt (cached), then indexed and given
to the native printer, plainly and whitespace-scrambled. Wrong must be 0; coverage is printed.
"""

from __future__ import annotations

import shutil

import pytest

from bench import fmt_native_coverage as harness

CORPUS_ROOT = harness.REGISTRY
#: The issue's floor (as the engine's corpus tests): the corpus must be real-world sized.
MIN_CORPUS_FILES = 2000

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


def test_native_output_equals_rustfmt_on_corpus() -> None:
    if not CORPUS_ROOT.is_dir() or shutil.which("rustfmt") is None:
        pytest.skip("needs the Debian corpus and rustfmt")
    files = harness.corpus_files()
    assert len(files) >= MIN_CORPUS_FILES
    cache = harness.default_cache()
    formatted = harness.formatted_corpus(cache, files[::7])
    result = harness.measure(formatted, do_scramble=True, show_wrong=3)
    total = result["total"]
    share = total["covered"] / total["items"]
    print(f"\nnative coverage {total['covered']}/{total['items']} = {share:.1%}")
    for kind, c in result["per_kind"].items():
        print(f"  {kind:<14}{c.get('covered', 0):>7}/{c['items']:<7}")
    assert result["wrong_examples"] == []
    assert total.get("wrong", 0) == 0
    assert total.get("scrambled_wrong", 0) == 0
    assert total["covered"] > 0.5 * total["items"]
