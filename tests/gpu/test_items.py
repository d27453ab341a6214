"""Item index: kinds, names, spans, visibility, nesting, attributes; and syn's agreement.

The corpus test builds tests/oracles/items_oracle (syn 1.0 ``full`` + ``visit``, offline from
Debian's registry) and compares every item of every file syn can parse: kind, name, span (the
first outer attribute or doc comment to the last token, as syn's span), head (the span without
outer attributes), and for agreeing items their nesting path, visibility, attribute paths and,
for impls, the trait. Systematic differences are part of the definition, not skipped:

* syn's span of an item starts at its first outer attribute; ours has both (``start``, ``head``);
* items inside macro invocations are invisible to syn, and to us (opaque groups);
* items inside fn bodies and other expressions are visible to syn (``full``), and to us;
* ``use`` items are named by their tree text, ``impl`` items by their self type (compacted).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rustg.gpu.items import (
    AttrKind,
    Item,
    ItemFlag,
    ItemKind,
    build_items,
    index_file,
    items_command,
)
from rustg.gpu.sources import SourceSet
from rustg.gpu.tokens import TokenArrays
from rustg.gpu.tree import build_tree

from .conftest import cuda_available

REPO_ROOT = Path(__file__).resolve().parents[2]
ORACLE_DIR = REPO_ROOT / "tests" / "oracles" / "items_oracle"
ORACLE_TARGET = REPO_ROOT / "build" / "oracles"


def items_of(src: str) -> list[Item]:
    arrays, _tree, index = index_file(src.encode())
    return index.items(arrays, 0)


def summary(src: str) -> list[tuple[str, str, str]]:
    return [(str(i.kind), i.path, i.visibility) for i in items_of(src)]


def test_every_kind_with_name_and_path() -> None:
    src = """
use std::io::{self, Read};
extern crate alloc as a;
pub(crate) fn f() { struct Inner; }
mod m { pub(super) struct S { x: u8 } impl S { pub fn new() -> Self { S { x: 0 } } } }
pub enum E { A, B = 2 }
union U { a: u8 }
trait T { type A; const C: u8; fn x(&self) {} }
impl<T: Clone> T for Vec<T> where T: Copy { type A = (); const C: u8 = 1; fn x(&self) {} }
static mut S: u8 = 0;
const _: () = ();
type Alias<T> = Vec<T>;
macro_rules! mm { () => {} }
extern "C" { fn ext(x: i32); static E2: u8; }
pub(in crate::m) fn g() {}
"""
    assert summary(src) == [
        ("use", "std::io::{self,Read}", ""),
        ("extern_crate", "alloc", ""),
        ("fn", "f", "pub(crate)"),
        ("struct", "f::Inner", ""),
        ("mod", "m", ""),
        ("struct", "m::S", "pub(super)"),
        ("impl", "m::S", ""),
        ("fn", "m::S::new", "pub"),
        ("enum", "E", "pub"),
        ("union", "U", ""),
        ("trait", "T", ""),
        ("type", "T::A", ""),
        ("const", "T::C", ""),
        ("fn", "T::x", ""),
        ("impl", "Vec<T>", ""),
        ("type", "Vec<T>::A", ""),
        ("const", "Vec<T>::C", ""),
        ("fn", "Vec<T>::x", ""),
        ("static", "S", ""),
        ("const", "_", ""),
        ("type", "Alias", ""),
        ("macro_rules", "mm", ""),
        ("extern_block", "C", ""),
        # foreign items live in the enclosing namespace: no `C::` segment
        ("fn", "ext", ""),
        ("static", "E2", ""),
        ("fn", "g", "pub(in crate::m)"),
    ]
    impl = [i for i in items_of(src) if i.kind is ItemKind.IMPL][1]
    assert impl.trait_ == "T"


def test_modifiers_and_flags() -> None:
    src = (
        "pub const unsafe fn a() {}\n"
        "async fn b() {}\n"
        'extern "C" fn c() {}\n'
        "unsafe impl Send for X {}\n"
        'unsafe extern "C" { }\n'
        "default fn d() {}\n"
    )
    items = items_of(src)
    assert [(str(i.kind), i.name) for i in items] == [
        ("fn", "a"),
        ("fn", "b"),
        ("fn", "c"),
        ("impl", "X"),
        ("extern_block", "C"),
        ("fn", "d"),
    ]
    assert ItemFlag.CONST_FN in items[0].flags and ItemFlag.UNSAFE in items[0].flags
    assert ItemFlag.ASYNC in items[1].flags
    assert ItemFlag.EXTERN_ABI in items[2].flags
    assert ItemFlag.DEFAULT in items[5].flags


def test_statements_that_look_like_items_are_not_items() -> None:
    src = """fn f() {
    unsafe { g(); }
    let a = async move { 1 };
    async { 2 };
    const { 3 };
    let c = static || 4;
    union.x = 5;
    let u = union;
    default();
    auto = 6;
}"""
    assert summary(src) == [("fn", "f", "")]


def test_nothing_inside_macro_invocations_or_attributes() -> None:
    src = """
macro_rules! make { ($n:ident) => { fn $n() {} struct Hidden; } }
lazy_static! { static ref X: u8 = 1; }
foo! { fn hidden() {} }
bar!(struct AlsoHidden;);
#[cfg_attr(feature = "x", derive(Debug))]
struct Visible;
fn after() {}
"""
    assert summary(src) == [
        ("macro_rules", "make", ""),
        ("struct", "Visible", ""),
        ("fn", "after", ""),
    ]


def test_items_inside_bodies_and_initialisers() -> None:
    src = """
fn outer() {
    if x { fn nested() {} }
    let f = || { struct InClosure; };
}
const K: u8 = { const INNER: u8 = 1; INNER };
"""
    items = items_of(src)
    assert [(i.path, ItemFlag.IN_BODY in i.flags) for i in items] == [
        ("outer", False),
        ("outer::nested", True),
        ("outer::InClosure", True),
        ("K", False),
        ("K::INNER", True),
    ]
    assert items[1].parent == 0 and items[1].depth == 1


def test_generic_const_arguments_do_not_end_a_signature() -> None:
    src = "fn f() -> A<{ N + 1 }> { body() }\nimpl Foo for Bar<{ 2 }> where T: Fn() -> u8 {}\n"
    items = items_of(src)
    assert [(i.path, i.end) for i in items] == [("f", (1, 34)), ("Bar<{2}>", (2, 47))]
    assert items[1].trait_ == "Foo"


def test_spans_lines_columns_bytes() -> None:
    src = "/// Doc é\n#[inline]\npub fn f() {\n}\n"
    (f,) = items_of(src)
    assert f.start == (1, 1)  # the doc comment: syn's span starts there too
    assert f.head == (3, 1)
    assert f.end == (4, 2)  # exclusive
    assert (f.start_byte, f.head_byte, f.end_byte) == (
        0,
        len("/// Doc é\n#[inline]\n".encode()),
        len(src.encode()) - 1,
    )
    # columns count Unicode scalar values, not bytes
    (g,) = items_of("/* é */ fn g() {}")
    assert g.head == (1, 9) and g.end == (1, 18)


def test_attributes_parsed() -> None:
    src = """
/// Adds.
/** More. */
#[doc = "third"]
#[test]
#[cfg(test)]
#[rustg::kernel]
#[rustg::device]
#[rustg::gpu_test(grid = 4, block = 32)]
#[allow(dead_code, clippy::all)]
#[warn(unused)]
#[deny(missing_docs)]
#[cfg(not(test))]
#[kernel]
fn k() {}
"""
    (k,) = items_of(src)
    kinds = [a.kind for a in k.attributes]
    assert kinds == [
        AttrKind.DOC_COMMENT,
        AttrKind.DOC_COMMENT,
        AttrKind.DOC,
        AttrKind.TEST,
        AttrKind.CFG,
        AttrKind.RUSTG_KERNEL,
        AttrKind.RUSTG_DEVICE,
        AttrKind.RUSTG_GPU_TEST,
        AttrKind.ALLOW,
        AttrKind.WARN,
        AttrKind.DENY,
        AttrKind.CFG,
        AttrKind.OTHER,  # `kernel` without `rustg::` belongs to someone else
    ]
    docs = [a.doc for a in k.attributes[:3]]
    assert docs == [" Adds.", " More. ", "third"]
    gpu_test = k.attributes[7]
    assert gpu_test.path == "rustg::gpu_test" and gpu_test.args == "(grid=4,block=32)"
    assert k.attributes[8].lints == ("dead_code", "clippy::all")
    assert k.attributes[10].lints == ("missing_docs",)
    for flag in (
        ItemFlag.DOC,
        ItemFlag.TEST,
        ItemFlag.CFG_TEST,
        ItemFlag.KERNEL,
        ItemFlag.DEVICE,
        ItemFlag.GPU_TEST,
        ItemFlag.LINT_ATTR,
    ):
        assert flag in k.flags
    # cfg(not(test)) alone is not cfg(test)
    (m,) = items_of("#[cfg(not(test))] mod m {}")
    assert ItemFlag.CFG_TEST not in m.flags


def test_inner_attributes_and_plain_comments_do_not_attach() -> None:
    src = "//! crate doc\n#![allow(x)]\n// plain\nfn f() {}\n"
    (f,) = items_of(src)
    assert f.attributes == ()
    assert f.start == f.head == (4, 1)


def test_unterminated_item_is_flagged_not_lost() -> None:
    (f,) = items_of("fn f() {\n    let x = 1;\n")
    assert ItemFlag.UNTERMINATED in f.flags
    assert f.end == (2, 15)


def test_many_files_at_once_equal_one_by_one() -> None:
    srcs = [b"fn a() {}\nmod m { fn b() {} }\n", b"", b"struct S;\n", b"impl S { fn c() {} }"]
    datas = np.frombuffer(b"".join(srcs), dtype=np.uint8)
    offs = np.zeros(len(srcs) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in srcs], out=offs[1:])
    from rustg.gpu.lexer import lex_cpu

    arrays = lex_cpu(datas, offs)
    index = build_items(arrays, build_tree(arrays))
    together = [[(i.path, i.start, i.end) for i in index.items(arrays, f)] for f in range(4)]
    alone = [[(i.path, i.start, i.end) for i in items_of(s.decode())] for s in srcs]
    assert together == alone
    assert index.file_item_offsets.tolist() == [0, 3, 3, 4, 6]


def test_items_command_json_and_table(tmp_path: Path) -> None:
    p = tmp_path / "lib.rs"
    p.write_text("#[rustg::kernel]\npub fn k() {}\nmod m { struct S; }\n")
    out = io.StringIO()
    assert items_command([str(p), "--json"], stdout=out) == 0
    doc = json.loads(out.getvalue())
    assert doc["file"] == str(p)
    assert [(i["kind"], i["path"], i["visibility"]) for i in doc["items"]] == [
        ("fn", "k", "pub"),
        ("mod", "m", ""),
        ("struct", "m::S", ""),
    ]
    assert doc["items"][0]["span"] == {"line": 1, "column": 1, "end_line": 2, "end_column": 14}
    assert doc["items"][0]["attributes"][0]["path"] == "rustg::kernel"
    assert "kernel" in doc["items"][0]["flags"]
    out = io.StringIO()
    assert items_command([str(p)], stdout=out, width=100) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].rstrip() == f"{p}: 3 items"
    assert any("#[rustg::kernel]" in line and "1:1-2:14" in line for line in lines)
    assert any("m::S" in line for line in lines)
    err = io.StringIO()
    assert items_command([str(tmp_path / "missing.rs")], stderr=err) == 1
    assert "missing.rs" in err.getvalue()


# ---------------------------------------------------------------------------------------------
# The CUDA formulation (rustg.gpu.items_cuda) against the CPU one

_SIM_SCRIPT = """
import sys
import numpy as np
from rustg.gpu.lexer import lex_cpu
from rustg.gpu.tree import build_tree
from rustg.gpu.items import build_items
srcs = [open(p, "rb").read() for p in sys.argv[1:]]
buf = np.frombuffer(b"".join(srcs), dtype=np.uint8)
offs = np.zeros(len(srcs) + 1, dtype=np.int64)
np.cumsum([len(x) for x in srcs], out=offs[1:])
tokens = lex_cpu(buf, offs)
tree = build_tree(tokens)
cpu = build_items(tokens, tree)
sim = build_items(tokens, tree, xp=np)
bad = [f for f, a in cpu.arrays().items() if not np.array_equal(a, sim.arrays()[f])]
print(len(cpu), "items;", "differ:", bad)
sys.exit(1 if bad else 0)
"""


def run_simulated(paths: list[str]) -> str:
    # A subprocess: NUMBA_ENABLE_CUDASIM must be set before numba.cuda is first imported.
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    cmd = [sys.executable, "-c", _SIM_SCRIPT, *paths]
    r = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.slow
def test_cuda_formulation_equals_cpu_under_the_simulator(tmp_path: Path) -> None:
    sources = {
        "kinds.rs": "mod m { pub(super) struct S; impl<T> X for S where T: Fn() -> u8 {} }\n"
        'extern "C" { fn e(); }\nmacro_rules! m { () => { fn hidden() {} } }\n',
        "attrs.rs": "/// d\n#[cfg(test)]\n#[rustg::gpu_test(grid = 2)]\n#[allow(x)]\nfn k() {\n"
        "    fn inner() {}\n    unsafe { async { 1 }; }\n}\nconst K: () = { struct I; };\n",
        "broken.rs": "fn f( {\n  struct A;\n",
        "empty.rs": "",
    }
    paths = []
    for name, text in sources.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    out = run_simulated(paths)
    assert out.startswith("12 items")


@pytest.mark.slow
@pytest.mark.corpus
def test_cuda_formulation_equals_cpu_on_a_corpus_sample(corpus: SourceSet) -> None:
    sample = [str(p) for p in corpus.paths[::50]]  # ~100 files across every crate
    out = run_simulated(sample)
    print(f"\nCUDA formulation under the simulator, {len(sample)} corpus files: {out.strip()}")


@pytest.mark.gpu
@pytest.mark.corpus
def test_corpus_cuda_items_equal_cpu(corpus_tokens: TokenArrays) -> None:
    assert cuda_available()
    import cupy

    tree = build_tree(corpus_tokens)
    cpu = build_items(corpus_tokens, tree)
    gpu_tree = build_tree(corpus_tokens, xp=cupy)
    gpu = build_items(corpus_tokens, gpu_tree, xp=cupy)
    assert gpu.same_as(cpu)


# ---------------------------------------------------------------------------------------------
# Oracle: syn 1.0 over the corpus


def build_oracle() -> Path:
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    # cwd matters: cargo finds .cargo/config.toml (the Debian source replacement) from it.
    subprocess.run(
        [cargo, "build", "--release", "--offline", "--quiet", "--target-dir", str(ORACLE_TARGET)],
        cwd=ORACLE_DIR,
        check=True,
    )
    return ORACLE_TARGET / "release" / "items_oracle"


def _key(kind: str, name: str, span: list[int], head: list[int]) -> tuple[Any, ...]:
    return (kind, name, tuple(span), tuple(head))


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_agrees_with_syn(corpus: SourceSet, corpus_tokens: TokenArrays) -> None:
    binary = build_oracle()
    listing = "\n".join(str(p) for p in corpus.paths) + "\n"
    run = subprocess.run(
        [str(binary), "-"], input=listing, capture_output=True, text=True, check=True,
        env={**os.environ, "RUST_BACKTRACE": "0"},
    )  # fmt: skip
    oracle = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["file"] for o in oracle] == [str(p) for p in corpus.paths]
    index = build_items(corpus_tokens, build_tree(corpus_tokens))
    stats: Counter[str] = Counter()
    unparsable: list[str] = []
    problems: list[str] = []
    for f, o in enumerate(oracle):
        if not o["ok"]:
            unparsable.append(f"{o['file']}:{o['line']}:{o['col']}: {o['error'][:80]}")
            continue
        ours = {}
        for it in index.items(corpus_tokens, f):
            k = _key(str(it.kind), it.name, [*it.start, *it.end], [*it.head, *it.end])
            ours[k] = it
        theirs = {_key(t["kind"], t["name"], t["span"], t["head"]): t for t in o["items"]}
        stats["syn items"] += len(theirs)
        stats["our items"] += len(ours)
        for k in theirs.keys() - ours.keys():
            problems.append(f"missing {o['file']}: {k}")
        for k in ours.keys() - theirs.keys():
            problems.append(f"extra {o['file']}: {k}")
        for k in theirs.keys() & ours.keys():
            t, it = theirs[k], ours[k]
            stats["agree"] += 1
            details = {
                "path": (it.path, t["path"]),
                "vis": (it.visibility, t["vis"]),
                "attrs": ([a.path for a in it.attributes], t["attrs"]),
                "in_body": (ItemFlag.IN_BODY in it.flags, t["in_body"]),
                "trait": (it.trait_, t.get("trait_")),
            }
            for what, (a, b) in details.items():
                if a != b:
                    problems.append(f"{what} {o['file']}: {k}: ours {a!r}, syn {b!r}")
    print(
        f"\nitems vs syn 1.0 over {len(oracle)} files: {stats['agree']}/{stats['syn items']} "
        f"syn items agree (kind, name, span, head; then path, vis, attrs, trait, in_body); "
        f"ours {stats['our items']}; files syn cannot parse: {len(unparsable)}"
    )
    for u in unparsable:
        print("  unparsable by syn 1.0:", u)
    for p in problems[:30]:
        print("  ", p)
    assert not problems, f"{len(problems)} disagreements with syn"
    assert stats["agree"] == stats["syn items"] == stats["our items"]
