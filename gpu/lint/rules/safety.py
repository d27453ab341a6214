"""Memory-safety rules: undocumented `unsafe`, transmutes, `static mut`, invalid values."""

from __future__ import annotations

from typing import Any

import numpy as np

from rustg.gpu.items import ItemFlag, ItemKind
from rustg.gpu.lint.context import KIND, KW, LintFile
from rustg.gpu.lint.model import Category, Finding, Level, RuleMeta
from rustg.gpu.lint.rules.base import FileRule, SeqRule

M = Category.MEMORY_SAFETY


def _has_safety_comment(ctx: LintFile, first: int, last: int) -> bool:
    """A comment saying SAFETY among rows first..last (trivia included)."""
    lo, hi = max(first, 0), min(last, ctx.n - 1)
    k = ctx.kind[lo : hi + 1]
    com = np.flatnonzero((k >= KIND.LINE_COMMENT) & (k <= KIND.INNER_BLOCK_DOC)) + lo
    return any("SAFETY" in ctx.text(int(r)).upper() for r in com)


def _safety_comment_near(ctx: LintFile, r: int, lines: int = 3) -> bool:
    """A SAFETY comment on row ``r``'s line or one of the ``lines`` lines above it."""
    line = ctx.line_of(int(ctx.start[r]))
    lo = int(ctx.line_starts[max(line - 1 - lines, 0)])
    first = ctx.row_at(lo)
    return _has_safety_comment(ctx, first, r)


def _statement_start(ctx: LintFile, r: int) -> int:
    """The first significant row of the statement holding row ``r`` (same group): walk back
    over the group's tokens (jumping nested groups) to a ``;``, ``}``, ``,`` or the opener."""
    p = int(ctx.parent[r])
    k = r
    while True:
        q = int(ctx.prv[k])
        if q < 0 or int(ctx.parent[q]) != p:
            return k  # q is our group's opener (or the file's start)
        kq = ctx.kind[q]
        if kq in (KIND.SEMI, KIND.CLOSE_BRACE, KIND.COMMA):
            return k
        if kq in (KIND.CLOSE_PAREN, KIND.CLOSE_BRACKET) and ctx.match[q] >= 0:
            q = int(ctx.match[q])
        k = q


class UndocumentedUnsafe(FileRule):
    meta = RuleMeta(
        "unsafe_without_safety_comment",
        M,
        Level.WARN,
        "`unsafe` block without a `// SAFETY:` comment",
        docs="""Every `unsafe { }` block should say why it is sound, in a `// SAFETY:` comment
just before the statement that holds it (or as the block's first line). The comment is what a
reviewer checks the code against.

    let v = unsafe { *p }; // unsafe_without_safety_comment

    // SAFETY: `p` comes from a live `&mut` above and is not aliased.
    let v = unsafe { *p };
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        sig = ctx.sig
        uns = sig[ctx.keyword[sig] == KW.UNSAFE]
        kx = ctx.kind_x
        for u in uns.tolist():
            o = int(ctx.nxt[u])
            if kx[o] != KIND.OPEN_BRACE:
                continue
            s = _statement_start(ctx, u)
            before = int(ctx.prv[s])
            # comments between the previous statement and this one, on the statement's own
            # line up to the block, or inside the block before its first token
            first_inside = int(ctx.nxt[o])
            if _has_safety_comment(ctx, before + 1, u) or _has_safety_comment(ctx, o, first_inside):
                continue
            # an attribute/doc comment above the enclosing item also counts (`unsafe impl`)
            out.append(
                Finding(
                    self.meta.name,
                    "unsafe block without a `// SAFETY:` comment saying why it is sound",
                    int(ctx.start[u]),
                    int(ctx.end[o]),
                    help="add `// SAFETY: ...` on the line above",
                )
            )
        return out


class UnsafeFnNoSafetyDoc(FileRule):
    meta = RuleMeta(
        "unsafe_fn_without_safety_doc",
        M,
        Level.WARN,
        "public `unsafe fn` without a `# Safety` section in its docs",
        docs="""Callers of a public `unsafe fn` need to know what they must guarantee: document it
under a `# Safety` heading.

    /// Reads the value.
    pub unsafe fn read(p: *const u8) -> u8 { *p } // unsafe_fn_without_safety_doc
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        it = ctx.items
        sel = (it.kind == ItemKind.FN) & ((it.flags & np.uint32(ItemFlag.UNSAFE)) != 0)
        sel &= it.vis == 1  # `pub` exactly
        out = []
        src = ctx.source
        for i in np.flatnonzero(sel).tolist():
            # Doc text is verbatim source bytes of the item's attribute rows: parse the
            # attributes only when those bytes hold the heading at all.
            attrs = src[int(ctx.start[int(it.start[i])]) : int(ctx.start[int(it.head[i])])]
            if b"# Safety" in attrs or b"# SAFETY" in attrs:
                docs = [a.doc or "" for a in it.attributes(ctx.tokens, i) if a.doc is not None]
                if any("# Safety" in d or "# SAFETY" in d for d in docs):
                    continue
            nf = int(it.name_first[i])
            out.append(
                Finding(
                    self.meta.name,
                    f"`unsafe fn {ctx.item_name(i)}` has no `# Safety` section in its docs",
                    int(ctx.start[int(it.head[i])]),
                    int(ctx.end[nf]) if nf >= 0 else int(ctx.end[int(it.head[i])]),
                    help="document what callers must guarantee under `/// # Safety`",
                )
            )
        return out


class Transmute(SeqRule):
    meta = RuleMeta(
        "transmute",
        M,
        Level.WARN,
        "`mem::transmute`",
        docs="""`transmute` reinterprets bits with no check at all: size, alignment and validity
are all on you. There is almost always a safer, specific API: `f32::from_bits`, `to_ne_bytes`,
`ptr.cast()`, `bytemuck`.

    let x: u32 = unsafe { std::mem::transmute(1.0f32) }; // transmute -> f32::to_bits
""",
    )
    seqs = ("transmute (", "transmute : :", "transmute_copy (")
    message = "`transmute` reinterprets bits with no check of size, alignment or validity"
    help = "prefer a specific conversion (from_bits/to_bits, to_ne_bytes, ptr.cast())"


class StaticMut(SeqRule):
    meta = RuleMeta(
        "static_mut",
        M,
        Level.WARN,
        "`static mut`",
        docs="""Every access to a `static mut` is `unsafe` and a data race as soon as two threads
touch it (references to it are denied in Rust 2024). Use an atomic, a `Mutex`, or `OnceLock`.

    static mut COUNTER: u32 = 0; // static_mut
""",
    )
    seqs = ("static mut",)
    message = "`static mut` is a data race waiting to happen"
    help = "use an atomic, a Mutex/RwLock, or OnceLock"

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        p = int(ctx.prv[first])
        if p >= 0 and ctx.kind[p] == KIND.AND:
            return None  # `&'static mut` is a lifetime, not a static item (lexed 'static)
        return super().accept(ctx, first, last, which)


class MemUninitialized(SeqRule):
    meta = RuleMeta(
        "mem_uninitialized",
        M,
        Level.DENY,
        "`mem::uninitialized`",
        docs="""`mem::uninitialized` is undefined behaviour for almost every type (it is
deprecated for that reason). Use `MaybeUninit`.

    let x: [u8; 16] = unsafe { std::mem::uninitialized() }; // mem_uninitialized
""",
    )
    seqs = ("uninitialized (",)
    message = "`mem::uninitialized` is undefined behaviour for almost every type"
    help = "use MaybeUninit<T> and assume_init once written"

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        p = int(ctx.prv[first])
        if p < 0 or ctx.kind[p] != KIND.COLON:
            return None  # a method or fn of one's own called `uninitialized`
        return super().accept(ctx, first, last, which)


#: Types for which all-zero bytes are not a valid value.
_NON_ZERO = {"Box", "Vec", "String", "NonNull", "Rc", "Arc", "NonZeroU32", "NonZeroU64",
             "NonZeroUsize", "bool", "char"}  # fmt: skip


class MemZeroedNonPod(FileRule):
    meta = RuleMeta(
        "mem_zeroed_non_pod",
        M,
        Level.DENY,
        "`mem::zeroed()` for a type whose all-zero value is invalid",
        docs="""All-zero bytes are not a valid reference, `Box`, `Vec`, `NonNull`, fn pointer,
`NonZero*` (nor, as values, `bool`/`char` beyond 0): `mem::zeroed()` of such a type is
undefined behaviour. The type is read from `let x: T = ...` or `zeroed::<T>()`.

    let r: &u32 = unsafe { std::mem::zeroed() }; // mem_zeroed_non_pod
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for r in ctx.word_rows("zeroed").tolist():
            p = int(ctx.prv[r])
            if p < 0 or ctx.kind[p] != KIND.COLON:
                continue
            ty = -1
            nx = int(ctx.nxt[r])
            if kx[nx] == KIND.COLON:  # zeroed::<T>()
                lt = int(ctx.nxt[int(ctx.nxt[nx])])
                if kx[lt] == KIND.LT:
                    ty = int(ctx.nxt[lt])
            else:  # let NAME: T = ... zeroed()
                k = p
                while k >= 0 and ctx.keyword[k] != KW.LET and ctx.kind[k] != KIND.SEMI:
                    k = int(ctx.prv[k])
                if k >= 0 and ctx.keyword[k] == KW.LET:
                    j = int(ctx.nxt[k])
                    if ctx.keyword[j] == KW.MUT:
                        j = int(ctx.nxt[j])
                    c = int(ctx.nxt[j])
                    if kx[c] == KIND.COLON:
                        ty = int(ctx.nxt[c])
            if ty < 0 or ty >= ctx.n:
                continue
            text = ctx.text(ty)
            bad = ctx.kind[ty] == KIND.AND or text in _NON_ZERO or (ctx.keyword[ty] == KW.FN)
            if bad:
                out.append(
                    Finding(
                        self.meta.name,
                        f"all-zero bytes are not a valid `{text}`: mem::zeroed() is undefined "
                        "behaviour here",
                        int(ctx.start[r]),
                        int(ctx.end[r]),
                        help="use Option<..>/MaybeUninit, or construct a real value",
                    )
                )
        return out


_BYTE_LIKE = {"u8", "i8", "c_void", "c_char", "c_uchar", "MaybeUninit", "T", "U"}


class PtrCastUnrelated(FileRule):
    meta = RuleMeta(
        "ptr_cast_unrelated",
        M,
        Level.WARN,
        "raw pointer cast between unrelated types",
        docs="""`p as *const A as *const B` (or `*mut`) reinterprets the pointee without checking
size or alignment. Casts to or from byte pointers (`u8`, `c_void`) are the usual FFI idiom and
not reported.

    let q = p as *const u32 as *const f64; // ptr_cast_unrelated

Prefer `ptr.cast::<B>()` with a comment on why the layout matches, or a safe conversion.
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        sig = ctx.sig
        kx = ctx.kind_x
        ases = sig[ctx.keyword[sig] == KW.AS]

        def ptr_type(a: int) -> tuple[str, int] | None:
            s = int(ctx.nxt[a])
            if kx[s] != KIND.STAR:
                return None
            m = int(ctx.nxt[s])
            if ctx.keyword[m] not in (KW.CONST, KW.MUT):
                return None
            # the pointee's path: `libc::c_void` is `c_void`; `_` (inferred) is unknown
            t = int(ctx.nxt[m])
            last = t
            while t < ctx.n and ctx.kind[t] == KIND.IDENT:
                last = t
                c1 = int(ctx.nxt[t])
                c2 = int(ctx.nxt[c1]) if c1 < ctx.n else ctx.n
                if c2 < ctx.n and ctx.kind[c1] == KIND.COLON and ctx.kind[c2] == KIND.COLON:
                    t = int(ctx.nxt[c2])
                else:
                    break
            if last >= ctx.n or ctx.kind[last] != KIND.IDENT:
                return None
            return ctx.text(last), last

        for a in ases.tolist():
            first = ptr_type(a)
            if first is None:
                continue
            nxt_as = int(ctx.nxt[first[1]])
            if nxt_as >= ctx.n or ctx.keyword[nxt_as] != KW.AS:
                continue
            second = ptr_type(nxt_as)
            if second is None:
                continue
            if (
                first[0] == second[0]
                or first[0] in _BYTE_LIKE
                or second[0] in _BYTE_LIKE
                or "_" in (first[0], second[0])
            ):
                continue
            if _safety_comment_near(ctx, a):
                continue  # justified where it happens (corpus review: uuid's fmt.rs)
            out.append(
                Finding(
                    self.meta.name,
                    f"pointer cast from `*{first[0]}` to `*{second[0]}`: unrelated types",
                    int(ctx.start[a]),
                    int(ctx.end[second[1]]),
                    help="check size and alignment; prefer ptr.cast() with a SAFETY comment",
                )
            )
        return out


class UnsafeImplSendSync(SeqRule):
    meta = RuleMeta(
        "unsafe_impl_send_sync",
        M,
        Level.WARN,
        "`unsafe impl Send`/`Sync` without a `// SAFETY:` comment",
        docs="""Implementing `Send` or `Sync` by hand promises the compiler something it could not
prove; the promise belongs in a `// SAFETY:` comment.

    struct Handle(*mut u8);
    unsafe impl Send for Handle {} // unsafe_impl_send_sync
""",
    )
    seqs = ("unsafe impl Send", "unsafe impl Sync")
    message = "`unsafe impl` of Send/Sync without a `// SAFETY:` comment"
    help = "say why the type is safe to send/share across threads"

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        before = int(ctx.prv[first])
        if _has_safety_comment(ctx, before + 1, first):
            return None
        return super().accept(ctx, first, last, which)


RULES = [
    UndocumentedUnsafe,
    UnsafeFnNoSafetyDoc,
    Transmute,
    StaticMut,
    MemUninitialized,
    MemZeroedNonPod,
    PtrCastUnrelated,
    UnsafeImplSendSync,
]
