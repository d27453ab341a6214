"""`#[rustg::lint(allow(..))]`: the suppression spelling stable rustc compiles (the rustg
crate's no-op attribute), scoped like `#[allow(rustg::rule)]` and checked the same way."""

from __future__ import annotations

from rustg.gpu.lint.engine import LintEngine
from rustg.gpu.lint.model import Level

SRC = b"""#[rustg::lint(allow(fn_naming), deny(dbg_macro))]
fn badOne() {
    let a = dbg!(1);
}
fn badTwo() {}
#[rustg::lint(allow(fn_namng))]
#[rustg::kernel]
fn k() {}
#[rustg::kernel]
fn badThree() {}
"""


def test_tool_attribute_levels_scope_over_the_item() -> None:
    out = LintEngine().lint_sources({"s.rs": SRC})["s.rs"]
    got = [(f.rule, SRC[f.start : f.end].decode(), f.level) for f in out]
    assert ("dbg_macro", "dbg!(1)", Level.DENY) in got  # deny(..) raised it
    naming = [text for rule, text, _ in got if rule == "fn_naming"]
    assert naming == ["badTwo", "badThree"]  # badOne allowed; the others not covered
    # A misspelt name is reported at the name, as in every other suppression form.
    assert [text for rule, text, _ in got if rule == "unknown_lint"] == ["fn_namng"]


def test_other_rustg_attributes_are_not_levels() -> None:
    src = b"#[rustg::kernel]\nfn badName() {}\n#[rustg::device]\nfn alsoBad() {}\n"
    out = LintEngine().lint_sources({"d.rs": src})["d.rs"]
    assert [src[f.start : f.end] for f in out if f.rule == "fn_naming"] == [b"badName", b"alsoBad"]
