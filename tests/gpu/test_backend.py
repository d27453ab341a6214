"""The one dispatch object: ``Backend.tree/items/index/index_files`` give the arrays the
separate steps give, on the CPU and (under the CUDA simulator, tiny inputs) on CUDA."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rustg.gpu.backend import Backend, Device, Indexed
from rustg.gpu.items import build_items
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.sources import plan_sources, read_planned, read_sources
from rustg.gpu.tree import build_tree, build_tree_arrays

SOURCES = [
    b"pub fn a() -> u8 { 1 }\n#[test]\nfn t() { assert!(true); }\n",
    b"mod m { struct S<'a>(&'a str); impl S<'_> { fn f(&self) {} } }\n",
    b"",
    b"fn broken( { let x = ];\n",
    b"async fn f() { k#x; dyn_thing(); }\n",
]
EDITIONS = [2021, 2018, 2015, 2021, 2015]


def write(tmp: Path) -> list[Path]:
    paths = []
    for i, src in enumerate(SOURCES):
        p = tmp / f"f{i}.rs"
        p.write_bytes(src)
        paths.append(p)
    return paths


def separately(paths: list[Path], editions: list[int]) -> Indexed:
    s = read_sources(paths)
    tokens = lex_cpu(s.buffer, s.file_offsets, editions=editions)
    tree = build_tree(tokens)
    return Indexed(tokens, tree, build_items(tokens, tree))


def same(a: Indexed, b: Indexed) -> bool:
    return a.tokens.same_as(b.tokens) and a.tree.same_as(b.tree) and a.items.same_as(b.items)


def test_cpu_index_and_index_files_equal_the_separate_steps(tmp_path: Path) -> None:
    paths = write(tmp_path)
    want = separately(paths, EDITIONS)
    be = Backend("cpu")
    s = read_sources(paths)
    assert same(be.index(s.buffer, s.file_offsets, editions=EDITIONS), want)
    assert same(be.index_files(paths, editions=EDITIONS), want)
    tokens = be.lex(s.buffer, s.file_offsets, editions=EDITIONS)
    assert be.tree(tokens).same_as(want.tree)
    assert be.items(tokens, want.tree).same_as(want.items)
    one = be.index_bytes(SOURCES[0])
    assert one.items.same_as(separately(paths[:1], [2021]).items)


def test_auto_sends_one_file_to_the_cpu() -> None:
    assert Backend("auto").device_for(80_000, 1) is Device.CPU


def test_planned_reads_in_ranges_equal_one_read(tmp_path: Path) -> None:
    paths = write(tmp_path)
    plan = plan_sources(paths)
    buf = np.empty(plan.n_bytes, dtype=np.uint8)
    read_planned(plan, buf, 3, 5)
    read_planned(plan, buf, 0, 3)
    plan.close()
    whole = read_sources(paths)
    assert np.array_equal(buf, whole.buffer)
    assert np.array_equal(plan.file_offsets, whole.file_offsets)


def test_a_file_that_vanished_after_planning_raises(tmp_path: Path) -> None:
    paths = write(tmp_path)
    plan = plan_sources(paths, native=False)
    paths[1].unlink()
    with pytest.raises(OSError):
        read_planned(plan, np.empty(plan.n_bytes, dtype=np.uint8))


SIM_SCRIPT = """
import numpy as np
from pathlib import Path
from rustg.gpu.backend import Backend, Device, Residence
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.sources import read_sources
paths = [Path(p) for p in {paths!r}]
eds = {eds!r}
cpu = Backend("cpu")
s = read_sources(paths)
want = cpu.index(s.buffer, s.file_offsets, editions=eds)
def same(a, b):
    return a.tokens.same_as(b.tokens) and a.tree.same_as(b.tree) and a.items.same_as(b.items)
be = Backend("cuda", chunk_bytes=8)
assert same(be.index(s.buffer, s.file_offsets, editions=eds), want)
for batches in (1, 2, 3, 10):
    got = be.index_files(paths, editions=eds, batches=batches)
    assert same(got, want), batches
for batches in (1, 3):
    assert be.lex_files(paths, editions=eds, batches=batches).same_as(want.tokens)
dt = be.lex_files(paths, editions=eds, batches=2, residence=Residence.DEVICE)
assert np.array_equal(np.asarray(dt.kind), want.tokens.kind)
dev = be.index_files(paths, editions=eds, batches=2, residence=Residence.DEVICE)
assert same(dev.to_host(), want)
tokens = cpu.lex(s.buffer, s.file_offsets, editions=eds)
assert be.tree(tokens, device=Device.CUDA).same_as(want.tree)
assert be.items(tokens, want.tree, device=Device.CUDA).same_as(want.items)
print("simulator ok")
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("numba.cuda") is None, reason="no numba.cuda")
def test_simulator_index_and_pipelined_index_files_equal_cpu(tmp_path: Path) -> None:
    paths = [str(p) for p in write(tmp_path)]
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SIM_SCRIPT.format(paths=paths, eds=EDITIONS)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "simulator ok" in out.stdout


@pytest.mark.gpu
@pytest.mark.corpus
def test_pipelined_index_files_on_cuda_equals_cpu_on_the_corpus(corpus_paths: list[Path]) -> None:
    # Editions cycle over the files so that every edition's branches run on the device.
    eds = [(2015, 2018, 2021, 2024)[i % 4] for i in range(len(corpus_paths))]
    want = Backend("cpu").index_files(corpus_paths, editions=eds)
    for batches in (1, 4):
        got = Backend("cuda").index_files(corpus_paths, editions=eds, batches=batches)
        assert same(got, want), batches


def test_tree_stage_timings_leave_the_result_unchanged() -> None:
    tokens = Backend("cpu").lex_bytes(b"fn f() { (a[0], {b}) } ]")
    timings: dict[str, float] = {}
    timed = build_tree_arrays(tokens.kind, tokens.file_token_offsets, xp=np, timings=timings)
    assert timed.same_as(build_tree_arrays(tokens.kind, tokens.file_token_offsets, xp=np))
    assert {"depth_scan", "sort_and_pair", "parent", "diagnostics"} <= set(timings)
