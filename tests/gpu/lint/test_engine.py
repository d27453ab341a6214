"""The lint engine: regions, suppressions, levels, caching, incremental cross-file rules,
the CPU/CUDA matcher, and the user-rule hook."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lmdb
import numpy as np
import pytest

from rustg.daemon.errors import ConfigError
from rustg.gpu.lint.backend import LintBackend, SeqTable, Stream, compile_seq, match_sequences
from rustg.gpu.lint.config import LintConfig, load_lint_config
from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.engine import LintEngine
from rustg.gpu.lint.model import Category, Finding, Level, Region, RuleMeta

KERNEL = b"""/// doc
#[rustg::kernel]
pub fn k(x: Slice<f32>) {
    for i in 0..4 {
        let v = x.get(0).unwrap();
    }
    unsafe { core::hint::unreachable_unchecked() }
}
#[cfg(test)]
mod tests {
    #[test]
    fn t() { let v = Some(1).unwrap(); }
}
"""


@pytest.fixture(scope="module")
def engine() -> LintEngine:
    return LintEngine()


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_region_bits_follow_the_token_tree() -> None:
    ctx = LintFile.from_source("k.rs", KERNEL)
    reg = ctx.regions()

    def at(text: bytes, nth: int = 0) -> int:
        pos = -1
        for _ in range(nth + 1):
            pos = KERNEL.index(text, pos + 1)
        return int(reg[ctx.row_at(pos)])

    unwrap = at(b"unwrap")
    assert unwrap & Region.KERNEL and unwrap & Region.LOOP and unwrap & Region.FN
    assert not unwrap & Region.TEST
    inside_unsafe = at(b"core::hint")
    assert inside_unsafe & Region.UNSAFE and not inside_unsafe & Region.LOOP
    test_unwrap = at(b"unwrap", 1)
    assert test_unwrap & Region.TEST and not test_unwrap & Region.KERNEL
    assert at(b"pub fn") == 0  # the signature is outside the body


def test_impl_for_is_not_a_loop() -> None:
    src = b"impl Clone for S { fn clone(&self) -> S { S } }\nfn f<F: for<'a> Fn(&'a u8)>() {}\n"
    ctx = LintFile.from_source("a.rs", src)
    assert not (ctx.regions() & np.uint8(Region.LOOP)).any()


def test_suppressions_scope_through_the_tree(engine: LintEngine) -> None:
    src = b"""#[allow(rustg::fn_naming)]
fn badOne() {}
fn badTwo() {
    #[allow(rustg::dbg_macro)]
    let a = dbg!(1);
    let b = dbg!(2);
    // rustg-lint: allow(dbg_macro)
    let c = dbg!(3);
    let d = dbg!(4); // rustg-lint: allow(dbg_macro)
}
#[deny(rustg::style)]
mod m {
    fn badThree() {}
}
"""
    out = engine.lint_sources({"s.rs": src})["s.rs"]
    got = [(f.rule, src[f.start : f.end].decode(), f.level) for f in out]
    assert got == [
        ("fn_naming", "badTwo", Level.WARN),
        ("dbg_macro", "dbg!(2)", Level.WARN),
        ("fn_naming", "badThree", Level.DENY),
    ]


def test_inner_attribute_covers_the_file(engine: LintEngine) -> None:
    src = b"#![allow(rustg::fn_naming)]\nfn badOne() {}\nmod m { fn badTwo() {} }\n"
    assert engine.lint_sources({"i.rs": src})["i.rs"] == []


def test_unknown_names_are_reported_not_ignored(engine: LintEngine) -> None:
    src = (
        b"#[allow(rustg::fn_namng, dead_code)]\nfn f() {}\n// rustg-lint: allow(nope)\nfn g() {}\n"
    )
    out = engine.lint_sources({"u.rs": src})["u.rs"]
    assert [(f.rule, src[f.start : f.end]) for f in out] == [
        ("unknown_lint", b"rustg::fn_namng"),
        ("unknown_lint", b"nope"),
    ]


def test_config_levels(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "x"\nversion = "0.1.0"\n'
        '[workspace.metadata.rustg.lints.levels]\nstyle = "deny"\n'
    )
    (tmp_path / "rustg-lint.toml").write_text('[levels]\nfn_naming = "allow"\n')
    config = load_lint_config(tmp_path)
    eng = LintEngine(config=config)
    out = eng.lint_sources({"c.rs": b"fn badName() { dbg!(1); }\n"})["c.rs"]
    assert [(f.rule, f.level) for f in out] == [("dbg_macro", Level.DENY)]


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    (tmp_path / "rustg-lint.toml").write_text('[levels]\nfn_naming = "loud"\n')
    with pytest.raises(ConfigError, match="fn_naming"):
        load_lint_config(tmp_path)
    (tmp_path / "rustg-lint.toml").write_text('[levels]\nno_such_rule = "deny"\n')
    with pytest.raises(ConfigError, match="no_such_rule"):
        LintEngine(config=load_lint_config(tmp_path))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Any]:
    e = lmdb.open(str(tmp_path / "store"), map_size=1 << 24, max_dbs=4)
    yield e
    e.close()


def test_cache_by_content_and_rule_set(env: Any) -> None:
    src = {"a.rs": b"fn badName() {}\n", "b.rs": b"fn badName() {}\n"}
    first = LintEngine(env=env)
    out = first.lint_sources(src)
    assert first.stats.files_linted == 1 and first.stats.cache_hits == 1  # same bytes twice
    again = LintEngine(env=env)  # a restarted daemon: LMDB has it
    assert again.lint_sources(src) == out
    assert again.stats.files_linted == 0 and again.stats.lmdb_hits == 1
    other = LintEngine(env=env, config=LintConfig(levels=(("fn_naming", Level.DENY),)))
    assert other.rule_set_hash == again.rule_set_hash  # levels apply after the cache
    fewer = LintEngine([r for r in again.rules if r.meta.name != "dbg_macro"], env=env)
    assert fewer.rule_set_hash != again.rule_set_hash
    fewer.lint_sources(src)
    assert fewer.stats.files_linted == 1


def test_cross_file_rules_recompute_only_the_changed_part() -> None:
    eng = LintEngine()
    kernel = b"#[rustg::kernel]\npub fn k(mut y: SliceMut<f32>) { y[0] = helper(1.0); }\n"
    host = b"fn helper(x: f32) -> f32 { x }\n"
    device = b"#[rustg::device]\nfn helper(x: f32) -> f32 { x }\n"
    unrelated = b"fn other() {}\n"
    out = eng.update({"k.rs": kernel, "h.rs": host, "o.rs": unrelated})
    assert sorted(rules_of(out["k.rs"])) == ["gpu_calls_host_fn", "kernel_without_doc"]
    # marking the helper as device code clears the kernel's finding in the OTHER file
    out = eng.update({"h.rs": device})
    assert set(out) == {"h.rs", "k.rs"}  # o.rs is not part of that graph
    assert rules_of(out["k.rs"]) == ["kernel_without_doc"]
    out = eng.update({"o.rs": b"fn other2() {}\n"})
    assert set(out) == {"o.rs"}
    out = eng.update({"h.rs": None})  # deleted: helper no longer exists anywhere
    assert out["h.rs"] == [] and rules_of(out["k.rs"]) == ["kernel_without_doc"]


def test_recursion_across_files() -> None:
    eng = LintEngine()
    a = b"#[rustg::device]\nfn ping(n: u32) -> u32 { pong(n) }\n"
    b = b"#[rustg::device]\nfn pong(n: u32) -> u32 { ping(n) }\n"
    out = eng.update({"a.rs": a, "b.rs": b})
    assert rules_of(out["a.rs"]) == ["gpu_recursion"] and rules_of(out["b.rs"]) == ["gpu_recursion"]
    out = eng.update({"b.rs": b"#[rustg::device]\nfn pong(n: u32) -> u32 { n }\n"})
    assert out["a.rs"] == [] and out["b.rs"] == []


class ForbidWord:
    """A user-style rule: any object with ``meta`` and ``check``."""

    meta = RuleMeta("no_foo", Category.STYLE, Level.DENY, "no `foo`", docs="    foo();\n")

    def check(self, ctx: Any) -> list[Finding]:
        rows = ctx.word_rows("foo")
        return [Finding("no_foo", "foo!", int(ctx.start[r]), int(ctx.end[r])) for r in rows]


def test_user_rules_plug_in_with_levels_and_suppressions() -> None:
    eng = LintEngine(extra_rules=[ForbidWord()])
    src = b"fn a() { foo(); }\n#[allow(rustg::no_foo)]\nfn b() { foo(); }\n"
    out = eng.lint_sources({"f.rs": src})["f.rs"]
    assert [(f.rule, f.level, f.start) for f in out] == [("no_foo", Level.DENY, 9)]


def test_a_crashing_rule_is_reported_not_fatal() -> None:
    class Broken(ForbidWord):
        meta = RuleMeta("broken", Category.STYLE, Level.WARN, "x", docs="    x\n")

        def check(self, ctx: Any) -> list[Finding]:
            raise RuntimeError("boom")

    out = LintEngine(extra_rules=[Broken()]).lint_sources({"f.rs": b"fn x() { dbg!(1); }\n"})
    assert rules_of(out["f.rs"]) == ["broken", "dbg_macro"]


def test_gpu_only_rules_are_skipped_in_files_without_gpu_items() -> None:
    seen: list[str] = []

    class Counting(ForbidWord):
        meta = RuleMeta("counting", Category.STYLE, Level.WARN, "x", docs="    x\n")
        gpu_only = True

        def check(self, ctx: Any) -> list[Finding]:
            seen.append(ctx.path)
            return []

    host = b"fn f() { let v: Vec<u32> = Vec::new(); }\n"
    gpu = b"#[rustg::device]\nfn g(x: f32) -> f32 { x * 2.0f64 as f32 }\n"
    out = LintEngine(extra_rules=[Counting()]).lint_sources({"host.rs": host, "gpu.rs": gpu})
    assert seen == ["gpu.rs"]
    assert rules_of(out["gpu.rs"]) == ["perf_f64_in_kernel"]  # a built-in gpu_only rule ran


def _random_stream(n: int, seed: int) -> tuple[Stream, SeqTable]:
    rng = np.random.default_rng(seed)
    words = ["a", "b", "c", ".", "(", ")", "!"]
    seqs = [compile_seq(s) for s in ("a b", "a . b (", "b !", "c", ". a", "a b c")]
    from rustg.gpu.lint.backend import _CHAR_KIND
    from rustg.gpu.lint.context import text_hash
    from rustg.gpu.tokens import TokenKind

    picks = rng.integers(0, len(words), n)
    kinds = np.array(
        [int(_CHAR_KIND.get(words[p], TokenKind.IDENT)) for p in picks], dtype=np.uint8
    )
    hashes = np.array([text_hash(words[p]) for p in picks], dtype=np.uint64)
    region = rng.integers(0, 64, n).astype(np.uint8)
    segment = np.sort(rng.integers(0, 5, n)).astype(np.int32)
    table = SeqTable.build([(s, int(Region.LOOP) if i == 2 else 0, 0) for i, s in enumerate(seqs)])
    return Stream(kinds, hashes, region, segment), table


def _brute(stream: Stream, table: SeqTable) -> list[tuple[int, int]]:
    out = []
    n = len(stream.kind)
    for pos in range(n):
        for s in range(len(table)):
            ln = int(table.length[s])
            if pos + ln > n or len(set(stream.segment[pos : pos + ln].tolist())) > 1:
                continue
            ok = all(
                (table.kind[s, k] == -1 or table.kind[s, k] == stream.kind[pos + k])
                and (table.hash[s, k] == 0 or table.hash[s, k] == stream.hash[pos + k])
                for k in range(ln)
            )
            inside = int(table.inside[s])
            if ok and (inside == 0 or stream.region[pos] & inside):
                out.append((pos, s))
    return out


def test_matcher_equals_brute_force() -> None:
    stream, table = _random_stream(400, 7)
    seq, pos = match_sequences(np, stream, table)
    assert sorted(zip(pos.tolist(), seq.tolist(), strict=True)) == _brute(stream, table)
    assert list(zip(pos.tolist(), seq.tolist(), strict=True)) == sorted(
        zip(pos.tolist(), seq.tolist(), strict=True)
    )


@pytest.mark.gpu
def test_cuda_matcher_equals_cpu() -> None:
    from tests.gpu.conftest import cuda_available

    if not cuda_available():
        pytest.skip("no GPU")
    stream, table = _random_stream(200_000, 11)
    cpu = LintBackend("cpu").match(stream, table)
    cuda = LintBackend("cuda").match(stream, table)
    assert all(np.array_equal(a, b) for a, b in zip(cpu, cuda, strict=True))
    # whole engine, same findings
    src = {f"f{i}.rs": KERNEL for i in range(50)}
    a = LintEngine(backend=LintBackend("cpu")).lint_sources(src)
    b = LintEngine(backend=LintBackend("cuda", gpu_min_tokens=0)).lint_sources(src)
    assert a == b


def test_backend_env_is_checked() -> None:
    from rustg.gpu.errors import BackendUnavailable

    with pytest.raises(BackendUnavailable):
        LintBackend("quantum")
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        from tests.gpu.conftest import cuda_available

        if not cuda_available():
            with pytest.raises(BackendUnavailable):
                LintBackend("cuda").xp_for(10)


def test_rustc_and_clippy_names_suppress_our_rules(engine: LintEngine) -> None:
    src = b"""#![allow(bad_style)]
fn badOne() {}
#[allow(clippy::dbg_macro)]
fn f() { dbg!(1); }
"""
    assert engine.lint_sources({"al.rs": src})["al.rs"] == []


def test_crate_root_allow_covers_its_modules() -> None:
    eng = LintEngine()
    root = b"#![allow(non_snake_case)]\nmod a;\n"
    child = b"fn badName() {}\n"
    out = eng.update({"c/src/lib.rs": root, "c/src/a.rs": child, "c/tests/t.rs": child})
    assert out["c/src/a.rs"] == []
    assert rules_of(out["c/tests/t.rs"]) == ["fn_naming"]  # an integration test is its own crate
    out = eng.update({"c/src/lib.rs": b"mod a;\n"})  # the allow removed: the module re-reported
    assert rules_of(out["c/src/a.rs"]) == ["fn_naming"]


def test_allow_on_a_mod_declaration_covers_that_modules_files() -> None:
    eng = LintEngine()
    root = b"#[allow(non_camel_case_types)]\npub mod sys;\nmod other;\n"
    child = b"pub struct io_uring_sqe { x: u32 }\n"
    out = eng.update(
        {"r/src/lib.rs": root, "r/src/sys.rs": child, "r/src/sys/deep.rs": child,
         "r/src/other.rs": child}
    )  # fmt: skip
    assert out["r/src/sys.rs"] == [] and out["r/src/sys/deep.rs"] == []
    assert rules_of(out["r/src/other.rs"]) == ["type_naming"]
