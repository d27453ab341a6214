"""CUDA backend: the same arrays as the CPU backend.

* ``test_simulator_*``: the CUDA kernels under the CUDA simulator on tiny inputs. It needs no
  GPU and no numba-cuda (numba's own ``numba.cuda`` carries the simulator), so CI runs it.
* ``gpu``-marked: the real device, whole corpus, array for array. Skipped without a GPU.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rustg.gpu.lexer import lex_cpu
from rustg.gpu.sources import SourceSet
from rustg.gpu.tokens import FileStatus, TokenArrays

REPO_ROOT = Path(__file__).resolve().parents[2]

TINY = [
    b"fn main() { let x = 'a'; /* c /* d */ */ r#\"s\"# }",
    b"",
    b"\xef\xbb\xbf#!/bin/x\nuse a::b; // x\n",
    b'"unterminated \n more',
    b"bin\x00ary",
    b"/* long " + b"x" * 300 + b" */ y 1.0e5f32 'b' b'c' 'static",
    b"//! doc\n/// more\nstruct S<'a>(&'a str);\n\xff\xfe ok",
]

SIM_SCRIPT = """
import numpy as np, sys
from rustg.gpu.backend import Backend
from rustg.gpu.lexer import lex_cpu
srcs = {srcs!r}
buf = np.frombuffer(b"".join(srcs), dtype=np.uint8)
fo = np.zeros(len(srcs) + 1, np.int64)
fo[1:] = np.cumsum([len(s) for s in srcs])
for chunk in (8, 16, 4096):
    got = Backend("cuda", chunk_bytes=chunk).lex(buf, fo)
    assert got.same_as(lex_cpu(buf, fo)), chunk
print("simulator ok", len(got))
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("numba.cuda") is None, reason="no numba.cuda")
def test_simulator_matches_cpu_on_tiny_inputs() -> None:
    # A subprocess: NUMBA_ENABLE_CUDASIM must be set before numba.cuda is first imported.
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SIM_SCRIPT.format(srcs=TINY)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "simulator ok" in out.stdout


@pytest.mark.gpu
@pytest.mark.corpus
def test_cuda_matches_cpu_on_corpus(corpus: SourceSet, corpus_tokens: TokenArrays) -> None:
    from rustg.gpu.backend import Backend

    for chunk in (512, 2048, 8192):
        got = Backend("cuda", chunk_bytes=chunk).lex(corpus.buffer, corpus.file_offsets)
        for name in ("kind", "start", "end", "keyword", "file_token_offsets", "file_status"):
            assert np.array_equal(getattr(got, name), getattr(corpus_tokens, name)), name


@pytest.mark.gpu
def test_cuda_tiny_inputs_and_statuses() -> None:
    from rustg.gpu.backend import Backend

    buf = np.frombuffer(b"".join(TINY), dtype=np.uint8)
    fo = np.zeros(len(TINY) + 1, np.int64)
    fo[1:] = np.cumsum([len(s) for s in TINY])
    got = Backend("cuda", chunk_bytes=8).lex(buf, fo)
    want = lex_cpu(buf, fo)
    assert got.same_as(want)
    assert got.file_status[4] == FileStatus.BINARY
