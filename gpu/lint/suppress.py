"""Suppressions: lint-level attributes and ``// rustg-lint:`` comments, as byte-range scopes.

* ``#[rustg::lint(allow(rule, ..), deny(..))]`` on an item: the spelling stable rustc accepts
  (the rustg crate's no-op attribute); the scope as for ``#[allow]`` below;
* ``#[allow(rustg::rule)]`` / ``#[warn(...)]`` / ``#[deny(...)]`` (``forbid`` reads as deny,
  ``expect`` as allow) on an item, statement or expression: the scope is what the attribute is
  attached to, found through the token tree: from the attribute to the first ``;`` of its group
  or the end of the first ``{}`` group that follows it (an item's or a block's body), whichever
  comes first; for an attribute on an item that is the item (the item index agrees).
* ``#![allow(rustg::rule)]``: the enclosing group (the whole file at top level).
* ``// rustg-lint: allow(rule, other)`` (or ``warn``/``deny``): the next line that holds code; on
  a line that holds code before the comment, that same line.

Names are ``rustg::<rule>`` in attributes (anything else, e.g. ``clippy::x`` or ``dead_code``,
is rustc's and ignored), bare in comments; a category name with ``_`` for ``-``
(``rustg::gpu_correctness``) covers every rule of the category. A scope closer to the finding
(smaller) wins over a wider one. Names that are no rule and no category become
``unknown_lint`` findings at the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rustg.gpu.lint.context import KIND, LintFile, text_hash
from rustg.gpu.lint.model import Finding, Level

__all__ = ["ALIASES", "UNKNOWN_LINT", "Scope", "find_scopes"]

UNKNOWN_LINT = "unknown_lint"

_ATTR_LEVEL = {
    "allow": Level.ALLOW,
    "expect": Level.ALLOW,
    "warn": Level.WARN,
    "deny": Level.DENY,
    "forbid": Level.DENY,
}
#: ``#[rustg::lint(allow(rule))]``: the stable spelling (rustc rejects the tool path in
#: ``#[allow(rustg::rule)]`` with E0710 unless the crate has ``#![register_tool(rustg)]``, a
#: nightly feature); the rustg crate defines the attribute as a no-op (rust/rustg-macros).
_TOOL = "rustg"
_LEVEL_HASHES = np.sort(np.array([text_hash(w) for w in [*_ATTR_LEVEL, _TOOL]], dtype=np.uint64))
_COMMENT = re.compile(r"//\s*rustg-lint:\s*(allow|warn|deny)\s*\(([^)]*)\)")


#: rustc's and clippy's names for what a built-in rule checks: `#[allow(non_snake_case)]`
#: silences our fn_naming too, so a crate that opted out of a convention (FFI bindings named as
#: in C, say) is not told again. Aliases are never reported as unknown (they are not ours).
_NAMING = ("fn_naming", "type_naming", "const_naming")
ALIASES: dict[str, tuple[str, ...]] = {
    "non_snake_case": ("fn_naming",),
    "non_camel_case_types": ("type_naming",),
    "non_upper_case_globals": ("const_naming",),
    "bad_style": _NAMING,
    "nonstandard_style": _NAMING,
    "clippy::dbg_macro": ("dbg_macro",),
    "clippy::todo": ("todo_macro",),
    "clippy::unimplemented": ("todo_macro",),
    "clippy::undocumented_unsafe_blocks": ("unsafe_without_safety_comment",),
    "clippy::missing_safety_doc": ("unsafe_fn_without_safety_doc",),
    "clippy::mem_forget": ("mem_forget",),
    "clippy::transmute_ptr_to_ptr": ("transmute",),
    "clippy::needless_collect": ("perf_collect_then_len",),
}


@dataclass(frozen=True, slots=True)
class Scope:
    start: int  # bytes [start, end) of the file
    end: int
    name: str  # rule or category (with '-')
    level: Level
    #: a `#![...]` at the top of the file: it also covers the modules below this one
    #: (lib.rs/main.rs: the whole crate), which the engine applies through the module tree
    inherited: bool = False
    #: set for an attribute on `mod name;`: the scope is that module's file(s), not this one's
    module: str = ""


def _scope_end(ctx: LintFile, first: int) -> int:
    """Last row of what starts at significant row ``first``: up to the first ``;`` of its group
    or the close of the first ``{}`` group, jumping nested groups by their match links."""
    n = ctx.n
    p = int(ctx.parent[first]) if first < n else -1
    j = first
    kind, match, parent = ctx.kind, ctx.match, ctx.parent
    while j < n:
        if int(parent[j]) != p:
            return j - 1  # the group ended (an expression's attribute, `f(#[x] a)`)
        k = int(kind[j])
        if k == KIND.SEMI:
            return j
        if k == KIND.OPEN_BRACE:
            m = int(match[j])
            if m < 0:
                return n - 1
            # `if c {} else {}`, `match x {}`: a statement may continue after its first block.
            nx = int(ctx.nxt[m])
            if nx < n and ctx.text(nx) == "else":
                j = nx
                continue
            return m
        if k in (KIND.OPEN_PAREN, KIND.OPEN_BRACKET) and int(match[j]) > j:
            j = int(match[j]) + 1
            continue
        j += 1
    return n - 1


def _module_decl(ctx: LintFile, r: int) -> str:
    """``NAME`` when rows from ``r`` are ``(pub(..))? mod NAME ;``, else ``""``."""
    j = r
    if ctx.text(j) == "pub":
        j = int(ctx.nxt[j])
        if j < ctx.n and ctx.kind[j] == KIND.OPEN_PAREN and ctx.match[j] > j:
            j = int(ctx.nxt[int(ctx.match[j])])
    if j >= ctx.n or ctx.text(j) != "mod":
        return ""
    name = int(ctx.nxt[j])
    semi = int(ctx.nxt[name]) if name < ctx.n else ctx.n
    if semi < ctx.n and ctx.kind[semi] == KIND.SEMI:
        return ctx.text(name)
    return ""


def find_scopes(
    ctx: LintFile, known: set[str], categories: set[str]
) -> tuple[list[Scope], list[Finding]]:
    """The file's suppression scopes, and ``unknown_lint`` findings for names that are neither a
    rule nor a category."""
    scopes: list[Scope] = []
    unknown: list[Finding] = []
    kind = ctx.kind
    names = known | {c.replace("-", "_") for c in categories}

    def resolve(  # noqa: PLR0917
        name: str,
        s: int,
        e: int,
        level: Level,
        rs: int,
        re_: int,
        top: bool = False,
        module: str = "",
    ) -> None:
        if name in known:
            scopes.append(Scope(s, e, name, level, top, module))
        elif name in names:
            scopes.append(Scope(s, e, name.replace("_", "-"), level, top, module))
        else:
            unknown.append(
                Finding(
                    UNKNOWN_LINT,
                    f"unknown rustg lint `{name}`",
                    rs,
                    re_,
                    help="`cargo g lint --list-rules` lists the rule names",
                )
            )

    # Attributes: `#` (`!`)? `[` level `(` ... `)` `]`, found through the tree.
    sig = ctx.sig
    pounds = sig[kind[sig] == KIND.POUND]
    if len(pounds):
        # only `#[level(` / `#![level(` can be ours: drop the rest (`#[inline]`, `#[derive]`,
        # most of them) in one vectorised step; the loop below checks the text itself
        kx = ctx.kind_x
        nxt = ctx.nxt
        j = nxt[pounds]
        j = np.where(kx[j] == KIND.BANG, nxt[j], j)
        w = nxt[j]
        hx = ctx.hashes_x
        hw = hx[w]
        at = np.minimum(np.searchsorted(_LEVEL_HASHES, hw), len(_LEVEL_HASHES) - 1)
        pounds = pounds[(kx[j] == KIND.OPEN_BRACKET) & (_LEVEL_HASHES[at] == hw)]
    for r in pounds.tolist():
        j = int(ctx.nxt[r])
        inner = False
        if j < ctx.n and kind[j] == KIND.BANG:
            inner, j = True, int(ctx.nxt[j])
        if j >= ctx.n or kind[j] != KIND.OPEN_BRACKET:
            continue
        close = int(ctx.match[j])
        w = int(ctx.nxt[j])
        if close < 0 or w >= close:
            continue
        tool_attr = ctx.text(w) == _TOOL  # `#[rustg::lint(allow(a, b), deny(c))]`
        if tool_attr:
            c1 = int(ctx.nxt[w])
            c2 = int(ctx.nxt[c1]) if c1 < close else close
            if inner or c2 >= close or kind[c1] != KIND.COLON or kind[c2] != KIND.COLON:
                continue
            w = int(ctx.nxt[c2])
            if ctx.text(w) != "lint":
                continue  # #[rustg::kernel] and the other attributes
        level = Level.ALLOW if tool_attr else _ATTR_LEVEL.get(ctx.text(w))  # tool: per group
        if level is None:
            continue
        o = int(ctx.nxt[w])
        if o >= close or kind[o] != KIND.OPEN_PAREN:
            continue
        # inside: comma-separated paths; ours are `rustg :: name`
        toks = [int(t) for t in sig[(sig > o) & (sig < int(ctx.match[o]))]]
        top = False
        module = ""
        if inner:
            p = int(ctx.parent[r])
            if p < 0:
                s_byte, e_byte = 0, len(ctx.source)
                top = True
            else:
                s_byte, e_byte = int(ctx.start[p]), int(ctx.end[max(int(ctx.match[p]), p)])
        else:
            target = int(ctx.nxt[close])
            # several attributes in a row: the scope is the item after all of them
            while target < ctx.n and kind[target] == KIND.POUND:
                b = int(ctx.nxt[target])
                if b >= ctx.n or kind[b] != KIND.OPEN_BRACKET or ctx.match[b] < 0:
                    break
                target = int(ctx.nxt[int(ctx.match[b])])
            if target >= ctx.n:
                continue
            last = _scope_end(ctx, target)
            s_byte, e_byte = int(ctx.start[r]), int(ctx.end[max(last, target)])
            module = _module_decl(ctx, target)
        if tool_attr:  # `level ( name, .. )` groups, names bare
            for t in toks:
                group = int(ctx.nxt[t])
                word_level = _ATTR_LEVEL.get(ctx.text(t)) if kind[t] == KIND.IDENT else None
                if word_level is None or group >= ctx.n or kind[group] != KIND.OPEN_PAREN:
                    continue
                for n_row in sig[(sig > group) & (sig < int(ctx.match[group]))].tolist():
                    if kind[n_row] == KIND.IDENT:
                        rs, re_ = int(ctx.start[n_row]), int(ctx.end[n_row])
                        resolve(ctx.text(n_row), s_byte, e_byte, word_level, rs, re_, top, module)
            continue
        # rustc/clippy names: `non_snake_case`, `clippy::dbg_macro` (path = idents and `::`)
        path: list[str] = []
        for t in [*toks, -1]:
            if t >= 0 and kind[t] in (KIND.IDENT, KIND.COLON):
                path.append(ctx.text(t))
                continue
            for alias in ALIASES.get("".join(path), ()):
                if alias in known:
                    scopes.append(Scope(s_byte, e_byte, alias, level, top, module))
            path = []
        for q in range(len(toks) - 3):
            if (
                ctx.text(toks[q]) == "rustg"
                and kind[toks[q + 1]] == KIND.COLON
                and kind[toks[q + 2]] == KIND.COLON
                and kind[toks[q + 3]] == KIND.IDENT
            ):
                name_row = toks[q + 3]
                rs, re_ = int(ctx.start[toks[q]]), int(ctx.end[name_row])
                resolve(ctx.text(name_row), s_byte, e_byte, level, rs, re_, top, module)

    # Comments: `// rustg-lint: allow(a, b)`.
    comments = ctx.rows_containing(b"rustg-lint")  # _COMMENT needs the word: a pre-filter
    comments = comments[kind[comments] == KIND.LINE_COMMENT]
    for r in comments.tolist():
        text = ctx.text(r)
        m = _COMMENT.search(text)
        if m is None:
            continue
        level = _ATTR_LEVEL[m.group(1)]
        # code before the comment on its line: that line; otherwise the next line with code
        prev = int(ctx.prv[r])
        line = ctx.line_of(int(ctx.start[r]))
        if prev >= 0 and ctx.line_of(int(ctx.start[prev])) == line:
            target_line = line
        else:
            nx = int(ctx.nxt[r])
            if nx >= ctx.n:
                continue
            target_line = ctx.line_of(int(ctx.start[nx]))
        ls = ctx.line_starts
        s_byte = int(ls[target_line - 1])
        e_byte = int(ls[target_line]) if target_line < len(ls) else len(ctx.source)
        base = int(ctx.start[r]) + m.start(2)
        for part in re.finditer(r"[A-Za-z0-9_:\-]+", m.group(2)):
            name = part.group(0).removeprefix("rustg::")
            resolve(name, s_byte, e_byte, level, base + part.start(), base + part.end())
    return scopes, unknown
