"""Token tree: pairing, parents, depth and delimiter diagnostics, on both formulations.

The numba scan (what the CPU backend runs) and the data-parallel formulation (prefix sums +
stable sort + searchsorted; what CuPy runs on the GPU, run here on NumPy) must give identical
arrays, and both must equal a plain Python stack (the definition in rustg.gpu.tree).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustg.gpu.lexer import lex_cpu
from rustg.gpu.sources import SourceSet
from rustg.gpu.tokens import TokenArrays, TokenKind
from rustg.gpu.tree import DelimIssue, TokenTree, build_tree, build_tree_arrays

from .conftest import cuda_available

_KINDS = {
    "(": TokenKind.OPEN_PAREN,
    ")": TokenKind.CLOSE_PAREN,
    "[": TokenKind.OPEN_BRACKET,
    "]": TokenKind.CLOSE_BRACKET,
    "{": TokenKind.OPEN_BRACE,
    "}": TokenKind.CLOSE_BRACE,
    " ": TokenKind.WHITESPACE,
}


def kinds(*files: str) -> tuple[np.ndarray, np.ndarray]:
    """One token per character: delimiters, whitespace, and `x` for any other token."""
    kind = np.array([_KINDS.get(c, TokenKind.IDENT) for f in files for c in f], dtype=np.uint8)
    offs = np.zeros(len(files) + 1, dtype=np.int64)
    np.cumsum([len(f) for f in files], out=offs[1:])
    return kind, offs


def reference(kind: np.ndarray, offs: np.ndarray) -> dict[str, list[int]]:
    """The definition, as a plain stack: kinds ignored for pairing, anomalies listed."""
    n = len(kind)
    match, parent, depth = [-1] * n, [-1] * n, [0] * n
    diags: list[tuple[int, int, int]] = []
    for f in range(len(offs) - 1):
        stack: list[int] = []
        top_open = -1
        for i in range(int(offs[f]), int(offs[f + 1])):
            k = int(kind[i])
            is_open = k in (48, 50, 52)
            is_close = k in (49, 51, 53)
            if is_open:
                parent[i] = stack[-1] if stack else -1
                depth[i] = len(stack)
                if not stack:
                    top_open = i
                stack.append(i)
            elif is_close:
                if stack:
                    o = stack.pop()
                    match[o], match[i] = i, o
                    parent[i] = parent[o]
                    if int(kind[o]) + 1 != k:
                        diags.append((o, DelimIssue.MISMATCHED, i))
                else:
                    diags.append((i, DelimIssue.UNEXPECTED_CLOSE, top_open))
                depth[i] = len(stack)
            else:
                parent[i] = stack[-1] if stack else -1
                depth[i] = len(stack)
        diags.extend((o, DelimIssue.UNCLOSED, -1) for o in stack)
    diags.sort()
    return {
        "match": match,
        "parent": parent,
        "depth": depth,
        "diag_kind": [int(d[1]) for d in diags],
        "diag_open": [d[2] if d[1] is DelimIssue.UNEXPECTED_CLOSE else d[0] for d in diags],
        "diag_close": [
            d[0] if d[1] is DelimIssue.UNEXPECTED_CLOSE else (d[2] if d[2] >= 0 else -1)
            for d in diags
        ],
    }


def as_lists(t: TokenTree) -> dict[str, list[int]]:
    h = t.to_host()
    return {f: getattr(h, f).tolist() for f in reference(np.zeros(0), np.zeros(1))}


def check_all(*files: str) -> TokenTree:
    kind, offs = kinds(*files)
    scan = build_tree_arrays(kind, offs)
    parallel = build_tree_arrays(kind, offs, xp=np)
    assert as_lists(scan) == reference(kind, offs)
    assert scan.same_as(parallel)
    return scan


def test_balanced_nesting_links() -> None:
    t = check_all("(x[y]{z})")
    assert t.match.tolist() == [8, -1, 4, -1, 2, 7, -1, 5, 0]
    # A close delimiter's parent is the group around its pair, not its own open.
    assert t.parent.tolist() == [-1, 0, 0, 2, 0, 0, 5, 0, -1]
    assert t.depth.tolist() == [0, 1, 1, 2, 1, 1, 2, 1, 0]
    assert len(t.diag_kind) == 0


def test_trivia_get_parent_and_depth_but_no_match() -> None:
    t = check_all("( x )")
    assert t.match.tolist() == [4, -1, -1, -1, 0]
    assert t.parent.tolist() == [-1, 0, 0, 0, -1]
    assert t.depth.tolist() == [0, 1, 1, 1, 0]


def test_unclosed_open_reports_the_open() -> None:
    t = check_all("{ (x) ")
    assert t.diag_kind.tolist() == [DelimIssue.UNCLOSED]
    assert t.diag_open.tolist() == [0]
    assert t.diag_close.tolist() == [-1]
    assert t.match[0] == -1


def test_unexpected_close_points_at_the_last_top_level_group() -> None:
    # rustc: "this opening brace... ...matches this closing brace" for the group before.
    t = check_all("{x} }")
    assert t.diag_kind.tolist() == [DelimIssue.UNEXPECTED_CLOSE]
    assert t.diag_open.tolist() == [0]
    assert t.diag_close.tolist() == [4]
    # A stray close at the very start has no group before it.
    t = check_all(") ()")
    assert t.diag_open.tolist() == [-1]
    assert t.diag_close.tolist() == [0]
    # After the stray close the structure is intact again.
    assert t.match.tolist() == [-1, -1, 3, 2]
    assert t.depth.tolist() == [0, 0, 0, 0]


def test_mismatched_pair_stays_paired_and_reports_both() -> None:
    t = check_all("(x]")
    assert t.match.tolist() == [2, -1, 0]
    assert t.diag_kind.tolist() == [DelimIssue.MISMATCHED]
    assert (t.diag_open[0], t.diag_close[0]) == (0, 2)


def test_files_never_pair_across_each_other() -> None:
    t = check_all("(", ")", "", "{}", "]")
    assert t.match.tolist() == [-1, -1, 3, 2, -1]
    assert t.diag_kind.tolist() == [
        DelimIssue.UNCLOSED,
        DelimIssue.UNEXPECTED_CLOSE,
        DelimIssue.UNEXPECTED_CLOSE,
    ]
    # the last file's stray `]` does not see file 3's `{}` as its group before
    assert t.diag_open.tolist() == [0, -1, -1]


def test_empty_input() -> None:
    t = check_all()
    assert len(t) == 0
    t = check_all("", "")
    assert len(t) == 0


_delims = st.text(alphabet="()[]{} x", max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(_delims, max_size=5))
def test_scan_parallel_and_reference_agree(files: list[str]) -> None:
    check_all(*files)


def test_on_lexed_rust() -> None:
    src = b"fn f(a: [u8; 2]) -> u8 { /* ( */ a[0] }\n"
    arrays = lex_cpu(np.frombuffer(src, dtype=np.uint8), np.array([0, len(src)]))
    t = build_tree(arrays)
    texts = [arrays.text(i) for i in range(len(arrays))]
    brace = texts.index(b"{")
    close = len(texts) - 2  # before the final newline
    assert texts[close] == b"}"
    assert t.match[brace] == close
    # the comment's `(` is inside a comment token: never a delimiter
    comment = next(i for i, x in enumerate(texts) if x.startswith(b"/*"))
    assert t.match[comment] == -1
    assert t.parent[comment] == brace
    assert len(t.diag_kind) == 0


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_scan_equals_data_parallel(corpus: SourceSet, corpus_tokens: TokenArrays) -> None:
    scan = build_tree(corpus_tokens)
    parallel = build_tree(corpus_tokens, xp=np)
    assert scan.same_as(parallel)
    n_diag = len(scan.diag_kind)
    print(f"token tree over {corpus_tokens.n_files} files: {n_diag} delimiter diagnostics")
    # The corpus is real, compiling code (measured: no unbalanced delimiter in 5,116 files).
    assert n_diag == 0


@pytest.mark.gpu
@pytest.mark.corpus
def test_corpus_cuda_equals_cpu(corpus_tokens: TokenArrays) -> None:
    assert cuda_available()
    import cupy

    cpu = build_tree(corpus_tokens)
    gpu = build_tree_arrays(
        cupy.asarray(corpus_tokens.kind), cupy.asarray(corpus_tokens.file_token_offsets), xp=cupy
    )
    assert gpu.same_as(cpu)


_SIM_SCRIPT = """
import random, sys
import numpy as np
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.sources import read_sources
from rustg.gpu.timing import StageClock
from rustg.gpu.tree import TokenTree, build_tree_arrays
from rustg.gpu.tree_cuda import tree_cuda
KINDS = {"(": 48, ")": 49, "[": 50, "]": 51, "{": 52, "}": 53, " ": 1}

def check(kind, offs):
    cpu = build_tree_arrays(kind, offs)
    sim = TokenTree(*tree_cuda(np, kind, offs, StageClock(None, np)))
    return cpu.same_as(sim)

rng = random.Random(7)
cases = bad = 0
for _ in range(150):  # random delimiter soups, unbalanced ones included, 0-4 files each
    files = ["".join(rng.choice("()[]{} x") for _ in range(rng.randrange(0, 40)))
             for _ in range(rng.randrange(0, 5))]
    kind = np.array([KINDS.get(c, 16) for f in files for c in f], dtype=np.uint8)
    offs = np.zeros(len(files) + 1, dtype=np.int64)
    np.cumsum([len(f) for f in files], out=offs[1:])
    cases += 1
    bad += not check(kind, offs)
src = read_sources(sys.argv[1:])
tokens = lex_cpu(src.buffer, src.file_offsets)
corpus_same = check(tokens.kind, tokens.file_token_offsets)
print(cases, "cases,", bad, "differ; corpus sample of", len(sys.argv) - 1, "files:", corpus_same)
sys.exit(1 if bad or not corpus_same else 0)
"""


@pytest.mark.slow
@pytest.mark.corpus
def test_fused_cuda_kernels_equal_the_scan_under_the_simulator(corpus: SourceSet) -> None:
    """gpu/tree_cuda.py's kernels (what CuPy runs) against the CPU scan, run by the CUDA
    simulator: random delimiter soups (unbalanced, mismatched, several files) and real files."""
    import os
    import subprocess
    import sys

    sample = [str(p) for p in corpus.paths[::1000]]
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    r = subprocess.run(
        [sys.executable, "-c", _SIM_SCRIPT, *sample],
        check=False, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("150 cases, 0 differ")
