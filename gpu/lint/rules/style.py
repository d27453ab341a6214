"""Style and conventions: naming, leftovers (`dbg!`, `todo!`, TODO comments), kernel docs."""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from rustg.gpu.items import ItemFlag, ItemKind
from rustg.gpu.lint.context import KIND, LintFile
from rustg.gpu.lint.model import Category, Edit, Finding, Fix, Level, Region, RuleMeta
from rustg.gpu.lint.rules.base import FileRule, SeqRule
from rustg.gpu.lint.rules.util import call_args

S = Category.STYLE
_EXTERN_ABI = int(ItemFlag.EXTERN_ABI)
_EXTERN_BLOCK = int(ItemKind.EXTERN_BLOCK)
_IMPL = int(ItemKind.IMPL)


def to_snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


def to_camel(name: str) -> str:
    parts = [p for p in name.split("_") if p]
    return "".join(p[0].upper() + p[1:] for p in parts) or name


def is_snake(name: str) -> bool:
    return name == name.lower()


def is_camel(name: str) -> bool:
    n = name.strip("_")
    return bool(n) and n[0].isupper() and "_" not in n


def is_screaming(name: str) -> bool:
    return name == name.upper()


def _rename_fix(ctx: LintFile, old: str, new: str, machine: bool, rows: Any) -> Fix:
    """Rename every identifier token of the file spelled like the item's name ``old``
    (``rows``: ``ctx.word_rows(old)``)."""
    rows = rows[ctx.kind[rows] == KIND.IDENT]
    edits = tuple(Edit(int(ctx.start[r]), int(ctx.end[r]), new) for r in rows.tolist())
    return Fix(f"rename `{old}` to `{new}`", edits, machine_applicable=machine)


class _Naming(FileRule):
    kinds: tuple[ItemKind, ...] = ()
    want = ""

    def ok(self, name: str) -> bool:
        raise NotImplementedError

    def convert(self, name: str) -> str:
        raise NotImplementedError

    def suspects(self, ctx: Any, first: Any, last: Any) -> Any:
        """Vectorised pre-filter over the name tokens: True where the name may be wrong."""
        raise NotImplementedError

    @functools.cached_property
    def _kind_table(self) -> Any:
        """Item kind -> one of ``kinds`` (a lookup instead of ``np.isin`` per file)."""
        t = np.zeros(256, dtype=bool)
        t[[int(k) for k in self.kinds]] = True
        return t

    def check(self, ctx: Any) -> list[Finding]:
        it = ctx.items
        out: list[Finding] = []
        sel = self._kind_table[it.kind]
        sel &= it.name_first >= 0
        idx = np.flatnonzero(sel)
        if len(idx) == 0:
            return out
        nf = it.name_first[idx]
        s_byte = ctx.start[nf].astype(np.int64)
        e_byte = ctx.end[it.name_last[idx]].astype(np.int64)
        counts = ctx.class_counts(s_byte, e_byte)
        lead = np.frombuffer(ctx.source, dtype=np.uint8)[s_byte] if len(s_byte) else s_byte
        idx = idx[self.suspects(counts, lead, e_byte - s_byte)]
        if len(idx):
            # names that are not the item's to choose, dropped in one vectorised step: an
            # exported symbol's name is an ABI, an extern block's are C's, a trait impl's names
            # are the trait's
            p = it.parent[idx]
            pp = np.maximum(p, 0)
            pk = np.where(p >= 0, it.kind[pp], 255)
            theirs = (it.flags[idx] & np.uint32(_EXTERN_ABI)) != 0
            theirs |= pk == _EXTERN_BLOCK
            theirs |= (pk == _IMPL) & (it.trait_first[pp] >= 0)
            idx = idx[~theirs]
        mangle = b"no_mangle" in ctx.source  # parse attributes only where one can say it
        wrong: list[tuple[int, str, str]] = []
        for i in idx.tolist():
            name = ctx.item_name(i)
            if not name or name.startswith("r#") or self.ok(name):
                continue
            if mangle and any(a.path == "no_mangle" for a in it.attributes(ctx.tokens, i)):
                continue
            new = self.convert(name)
            if new != name:
                wrong.append((i, name, new))
        uses = ctx.rows_of_words([name for _, name, _ in wrong])
        for (i, name, new), rows in zip(wrong, uses, strict=True):
            nf = int(it.name_first[i])
            # only private items: a public name may be used by other crates and files
            machine = int(it.vis[i]) == 0
            out.append(
                Finding(
                    self.meta.name,
                    f"{ItemKind(int(it.kind[i]))} `{name}` should be {self.want}: `{new}`",
                    int(ctx.start[nf]),
                    int(ctx.end[int(it.name_last[i])]),
                    fix=_rename_fix(ctx, name, new, machine, rows),
                )
            )
        return out


class FnNaming(_Naming):
    meta = RuleMeta(
        "fn_naming",
        S,
        Level.WARN,
        "fn and module names are snake_case",
        docs="""Rust fns and modules are `snake_case`. The fix renames the definition and every
identifier of the same spelling in the file; it is machine-applicable for private items only
(a public name may be used elsewhere).

    fn computeSum(x: u32) -> u32 { x } // fn_naming -> compute_sum
""",
    )
    kinds = (ItemKind.FN, ItemKind.MOD)
    want = "snake_case"

    def suspects(self, counts: Any, lead: Any, length: Any) -> Any:
        return counts["upper"] > 0

    def ok(self, name: str) -> bool:
        return is_snake(name)

    def convert(self, name: str) -> str:
        return to_snake(name)


class TypeNaming(_Naming):
    meta = RuleMeta(
        "type_naming",
        S,
        Level.WARN,
        "type names are CamelCase",
        docs="""Structs, enums, unions, traits and type aliases are `CamelCase`.

    struct point_2d { x: f32, y: f32 } // type_naming -> Point2d
""",
    )
    kinds = (ItemKind.STRUCT, ItemKind.ENUM, ItemKind.UNION, ItemKind.TRAIT, ItemKind.TYPE)
    want = "CamelCase"

    def suspects(self, counts: Any, lead: Any, length: Any) -> Any:
        return (counts["under"] > 0) | ((lead >= 97) & (lead <= 122))

    def ok(self, name: str) -> bool:
        return is_camel(name)

    def convert(self, name: str) -> str:
        return to_camel(name) if "_" in name or name[:1].islower() else name


class ConstNaming(_Naming):
    meta = RuleMeta(
        "const_naming",
        S,
        Level.WARN,
        "consts and statics are SCREAMING_SNAKE_CASE",
        docs="""`const` and `static` items are `SCREAMING_SNAKE_CASE`.

    const maxThreads: u32 = 256; // const_naming -> MAX_THREADS
""",
    )
    kinds = (ItemKind.CONST, ItemKind.STATIC)
    want = "SCREAMING_SNAKE_CASE"

    def suspects(self, counts: Any, lead: Any, length: Any) -> Any:
        return counts["lower"] > 0

    def ok(self, name: str) -> bool:
        return is_screaming(name) or name == "_"

    def convert(self, name: str) -> str:
        return to_snake(name).upper()


class DbgMacro(SeqRule):
    meta = RuleMeta(
        "dbg_macro",
        S,
        Level.WARN,
        "`dbg!` left in the code",
        docs="""`dbg!` is for a debugging session, not for commits: it prints to stderr in
release builds too. The fix replaces `dbg!(expr)` with `expr`.

    let y = dbg!(x * 2); // dbg_macro -> let y = x * 2;
""",
    )
    seqs = ("dbg ! (",)
    message = "`dbg!` left in the code"

    def fix(self, ctx: LintFile, first: int, last: int) -> Fix | None:
        close = int(ctx.match[last])
        if close < 0:
            return None
        args = call_args(ctx, last)
        if len(args) == 1:
            inner = ctx.span_text(*args[0])
            machine = True
        elif not args:
            inner, machine = "()", True
        else:
            inner = "(" + ", ".join(ctx.span_text(*a) for a in args) + ")"
            machine = False  # a tuple where values were: the types change
        return Fix(
            "remove the dbg! call",
            (Edit(int(ctx.start[first]), int(ctx.end[close]), inner),),
            machine_applicable=machine,
        )

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        close = int(ctx.match[last])
        return Finding(
            self.meta.name,
            self.message,
            int(ctx.start[first]),
            int(ctx.end[close if close >= 0 else last]),
            fix=self.fix(ctx, first, last),
        )


class TodoMacro(SeqRule):
    meta = RuleMeta(
        "todo_macro",
        S,
        Level.WARN,
        "`todo!`/`unimplemented!` left in (outside tests)",
        docs="""`todo!()` and `unimplemented!()` compile and then panic when reached: an
unfinished branch shipped.

    fn area(&self) -> f32 { todo!() } // todo_macro
""",
    )
    seqs = ("todo !", "unimplemented !")
    not_inside = Region.TEST

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        return Finding(
            self.meta.name,
            f"`{ctx.text(first)}!` left in: it panics when reached",
            int(ctx.start[first]),
            int(ctx.end[last]),
        )


_TODO = re.compile(r"\b(TODO|FIXME|XXX)\b")
_ISSUE = re.compile(r"#\d+|[A-Z][A-Z0-9]+-\d+|https?://|issue", re.IGNORECASE)


class TodoWithoutIssue(FileRule):
    meta = RuleMeta(
        "todo_without_issue",
        S,
        Level.WARN,
        "TODO/FIXME comment without an issue reference",
        docs="""A TODO without an issue is a TODO nobody tracks. Reference one: `#123`,
`PROJ-42`, a URL, or the word "issue".

    // TODO: handle the empty case       <- todo_without_issue
    // TODO(#123): handle the empty case <- fine
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        k = ctx.kind
        # only comments that hold one of the words can match (_TODO needs one of them)
        rows = ctx.rows_containing(b"TODO", b"FIXME", b"XXX")
        rows = rows[(k[rows] == KIND.LINE_COMMENT) | (k[rows] == KIND.BLOCK_COMMENT)]
        out = []
        for r in rows.tolist():
            text = ctx.text(r)
            m = _TODO.search(text)
            if m is None or _ISSUE.search(text):
                continue
            s = int(ctx.start[r]) + len(text[: m.start()].encode())
            out.append(
                Finding(
                    self.meta.name,
                    f"{m.group(1)} without an issue reference",
                    s,
                    s + len(m.group(1)),
                    help="reference the issue that tracks it: TODO(#123)",
                )
            )
        return out


class KernelWithoutDoc(FileRule):
    meta = RuleMeta(
        "kernel_without_doc",
        S,
        Level.WARN,
        "kernel without a doc comment",
        docs="""A kernel is an entry point launched from elsewhere with an implicit contract
(grid shape, which thread writes what, lengths): document it.

    #[rustg::kernel]
    pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {} // kernel_without_doc
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        it = ctx.items
        sel = ((it.flags & np.uint32(ItemFlag.KERNEL)) != 0) & (
            (it.flags & np.uint32(ItemFlag.DOC)) == 0
        )
        out = []
        for i in np.flatnonzero(sel & (it.kind == ItemKind.FN)).tolist():
            nf = int(it.name_first[i])
            out.append(
                Finding(
                    self.meta.name,
                    f"kernel `{ctx.item_name(i)}` has no doc comment",
                    int(ctx.start[nf]),
                    int(ctx.end[nf]),
                    help="say what each thread computes and what launch shape it expects",
                )
            )
        return out


class PrintInLibrary(SeqRule):
    meta = RuleMeta(
        "print_in_kernel_crate",
        S,
        Level.ALLOW,
        "`println!`/`eprintln!` in library code (allowed by default)",
        docs="""Libraries should return values or log, not print. Off by default; turn it on with
`print_in_kernel_crate = "warn"` in `[levels]`.

    pub fn parse(s: &str) { println!("parsing {s}"); } // print_in_kernel_crate
""",
    )
    seqs = ("println !", "eprintln !", "print !", "eprint !")
    not_inside = Region.TEST
    message = "printing from library code"


RULES = [
    FnNaming,
    TypeNaming,
    ConstNaming,
    DbgMacro,
    TodoMacro,
    TodoWithoutIssue,
    KernelWithoutDoc,
    PrintInLibrary,
]
