"""Performance anti-patterns, in kernels and in host code."""

from __future__ import annotations

from typing import Any

import numpy as np

from rustg.gpu.lint.context import KIND, KW, LintFile
from rustg.gpu.lint.model import Category, Finding, Level, Region, RuleMeta
from rustg.gpu.lint.rules.base import FileRule, SeqRule
from rustg.gpu.lint.rules.util import THREAD_WORDS, gpu_fns, rows_between, tainted_names

P = Category.PERFORMANCE


class F64InKernel(FileRule):
    meta = RuleMeta(
        "perf_f64_in_kernel",
        P,
        Level.WARN,
        "`f64` arithmetic in GPU code",
        docs="""Consumer and most data-centre GPUs run `f64` at 1/32 to 1/64 of the `f32` rate,
and rustg has no libdevice for `f64` transcendental functions. Use `f32` unless the precision is
needed (then allow this rule on the fn).

    #[rustg::kernel]
    pub fn k(mut y: SliceMut<f64>) { y[0] = 1.0f64 * 2.0; } // perf_f64_in_kernel
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        if not ctx.has_gpu_rows:
            return []
        sig = ctx.sig
        gpu = ctx.in_gpu(sig)
        k = ctx.kind[sig]
        cand = sig[gpu & ((k == KIND.IDENT) | (k == KIND.FLOAT) | (k == KIND.INT))]
        out = []
        for r in cand.tolist():
            t = ctx.text(r)
            if t == "f64" or (ctx.kind[r] != KIND.IDENT and t.endswith("f64")):
                out.append(
                    Finding(
                        self.meta.name,
                        "f64 runs at a fraction of the f32 rate on most GPUs",
                        int(ctx.start[r]),
                        int(ctx.end[r]),
                        help="use f32 unless the precision is needed",
                    )
                )
        return out


class DivInKernelLoop(FileRule):
    meta = RuleMeta(
        "perf_div_in_kernel_loop",
        P,
        Level.WARN,
        "division or modulo by a runtime value in a kernel loop",
        docs="""Integer division and modulo by a value that is not a constant compile to a
slow multi-instruction sequence on the GPU (tens of cycles). In a hot loop, hoist the division
(multiply by a precomputed reciprocal, or use a power of two and a shift/mask).

    #[rustg::kernel]
    pub fn k(x: Slice<u32>, n: u32) {
        for i in 0..x.len() { let r = x[i] % n; } // perf_div_in_kernel_loop
    }
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        if not ctx.has_gpu_rows:
            return []
        sig = ctx.sig
        k = ctx.kind[sig]
        hot = ctx.in_gpu(sig) & ctx.region_at(sig, Region.LOOP)
        ops = sig[hot & ((k == KIND.SLASH) | (k == KIND.PERCENT))]
        out = []
        kx = ctx.kind_x
        for r in ops.tolist():
            nx = int(ctx.nxt[r])
            if kx[nx] == KIND.EQ:  # `/=`: the divisor is after it
                nx = int(ctx.nxt[nx])
            if kx[nx] != KIND.IDENT or ctx.keyword[nx] != KW.NONE:
                continue
            name = ctx.text(nx)
            if name.isupper() or name in ("WARP_SIZE",):
                continue  # a constant
            out.append(
                Finding(
                    self.meta.name,
                    f"`{ctx.text(r)}` by the runtime value `{name}` in a kernel loop",
                    int(ctx.start[r]),
                    int(ctx.end[nx]),
                    help="hoist it: precompute a reciprocal, or use a power of two and a shift",
                )
            )
        return out


class StridedAccess(FileRule):
    meta = RuleMeta(
        "perf_strided_access",
        P,
        Level.WARN,
        "strided (non-coalesced) global memory access derived from the thread index",
        docs="""Neighbouring threads should touch neighbouring elements: `x[tid]` is one memory
transaction per warp, `x[tid * stride]` up to 32. Index by the thread index directly and loop
over the stride instead.

    let t = rustg::global_idx_x();
    let v = x[t * 4]; // perf_strided_access
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for i in gpu_fns(ctx):
            lo, hi = ctx.body_range(i)
            words = tainted_names(ctx, lo, hi) | set(THREAD_WORDS)
            rows = rows_between(ctx, lo, hi)
            shared = _shared_names(ctx, rows)
            opens = rows[ctx.kind[rows] == KIND.OPEN_BRACKET]
            for o in opens.tolist():
                p = int(ctx.prv[o])
                if p < 0 or kx[p] != KIND.IDENT:
                    continue  # `[` of an array literal or type, not an index
                if ctx.text(p) in shared:
                    continue  # shared memory has banks, not coalescing (a padded tile is fine)
                a = int(ctx.nxt[o])
                if kx[a] != KIND.IDENT or ctx.text(a) not in words:
                    continue
                b = int(ctx.nxt[a])
                if kx[b] == KIND.OPEN_PAREN:  # thread_idx_x() * ...
                    b = int(ctx.nxt[int(ctx.match[b])])
                if kx[b] == KIND.STAR:
                    c = int(ctx.match[o])
                    out.append(
                        Finding(
                            self.meta.name,
                            "index = thread index times a stride: neighbouring threads touch "
                            "distant elements (uncoalesced)",
                            int(ctx.start[o]),
                            int(ctx.end[c]),
                            help="index by the thread index and loop over the stride instead",
                        )
                    )
        return out


def _shared_names(ctx: LintFile, rows: np.ndarray) -> set[str]:
    """Names bound by `let (mut)? NAME = ...shared_array!/dynamic_shared_memory!`."""
    out = set()
    for m in rows[ctx.is_text(rows, "shared_array") | ctx.is_text(rows, "dynamic_shared_memory")]:
        k = int(m)
        while k >= 0 and ctx.keyword[k] != KW.LET and ctx.kind[k] != KIND.SEMI:
            k = int(ctx.prv[k])
        if k >= 0 and ctx.keyword[k] == KW.LET:
            j = int(ctx.nxt[k])
            if ctx.keyword[j] == KW.MUT:
                j = int(ctx.nxt[j])
            out.add(ctx.text(j))
    return out


class CloneInLoop(SeqRule):
    meta = RuleMeta(
        "perf_clone_in_loop",
        P,
        Level.WARN,
        "`.clone()` inside a loop",
        docs="""A clone in a loop body runs once per iteration; it is often a whole `Vec` or
`String` copied to get past the borrow checker. Borrow instead, or clone once before the loop.

    for x in &items {
        let all = names.clone(); // perf_clone_in_loop
    }
""",
    )
    seqs = (". clone ( )",)
    inside = Region.LOOP
    not_inside = Region.TEST
    message = "`.clone()` runs on every iteration of this loop"
    help = "borrow instead, or clone once before the loop"


class CollectThenLen(FileRule):
    meta = RuleMeta(
        "perf_collect_then_len",
        P,
        Level.WARN,
        "`collect()` only to call `len`/`iter`/`is_empty` on the result",
        docs="""Collecting into a `Vec` to count or iterate it allocates for nothing:
`.count()` counts, and the iterator iterates.

    let n = xs.iter().filter(|x| **x > 0).collect::<Vec<_>>().len(); // perf_collect_then_len

Use `.count()` (or iterate the iterator directly).
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for r in ctx.word_rows("collect").tolist():
            p = int(ctx.prv[r])
            if p < 0 or ctx.kind[p] != KIND.DOT:
                continue
            j = int(ctx.nxt[r])
            if kx[j] == KIND.COLON:  # ::<...>
                j = int(ctx.nxt[int(ctx.nxt[j])])
                if kx[j] != KIND.LT:
                    continue
                depth = 0
                while j < ctx.n:
                    if ctx.kind[j] == KIND.LT:
                        depth += 1
                    elif ctx.kind[j] == KIND.GT:
                        depth -= 1
                        if depth == 0:
                            break
                    j = int(ctx.nxt[j])
                j = int(ctx.nxt[j])
            if kx[j] != KIND.OPEN_PAREN or ctx.match[j] < 0:
                continue
            close = int(ctx.match[j])
            d = int(ctx.nxt[close])
            m = int(ctx.nxt[d]) if d < ctx.n else ctx.n
            if kx[d] == KIND.DOT and kx[m] == KIND.IDENT:
                what = ctx.text(m)
                # not `into_iter`: collecting first is how one ends a borrow or gets an
                # ExactSizeIterator (corpus review: rand's seq/mod.rs does it on purpose)
                if what in ("len", "iter", "is_empty"):
                    out.append(
                        Finding(
                            self.meta.name,
                            f"`collect()` allocates a collection only to call `.{what}()` on it",
                            int(ctx.start[r]),
                            int(ctx.end[m]),
                            help="use `.count()`, or keep iterating the iterator",
                        )
                    )
        return out


class VecPushInLoop(FileRule):
    meta = RuleMeta(
        "perf_vec_push_in_loop",
        P,
        Level.WARN,
        "`Vec::new()` then `push` in a loop of known length",
        docs="""`let mut v = Vec::new();` directly followed by a `for` loop over a range or a
collection that pushes into `v` reallocates as it grows; the final length is known up front.

    let mut v = Vec::new();
    for i in 0..n { v.push(i * 2); } // perf_vec_push_in_loop

Use `Vec::with_capacity(n)`, or `(0..n).map(|i| i * 2).collect()`.
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for r in ctx.word_rows("Vec").tolist():
            # Vec :: new ( ) ;
            a = int(ctx.nxt[r])
            b = int(ctx.nxt[a]) if a < ctx.n else ctx.n
            c = int(ctx.nxt[b]) if b < ctx.n else ctx.n
            if not (kx[a] == KIND.COLON and kx[b] == KIND.COLON and c < ctx.n):
                continue
            if ctx.text(c) != "new":
                continue
            o = int(ctx.nxt[c])
            if kx[o] != KIND.OPEN_PAREN:
                continue
            semi = int(ctx.nxt[int(ctx.match[o])])
            if kx[semi] != KIND.SEMI:
                continue
            # `let mut NAME (: T)? =` before it
            k = int(ctx.prv[r])
            while (
                k >= 0
                and ctx.keyword[k] != KW.LET
                and ctx.kind[k]
                not in (
                    KIND.SEMI,
                    KIND.OPEN_BRACE,
                    KIND.CLOSE_BRACE,
                )
            ):
                k = int(ctx.prv[k])
            if k < 0 or ctx.keyword[k] != KW.LET:
                continue
            nm = int(ctx.nxt[int(ctx.nxt[k])])
            if ctx.keyword[int(ctx.nxt[k])] != KW.MUT:
                continue
            name = ctx.text(nm)
            f = int(ctx.nxt[semi])
            if f >= ctx.n or ctx.keyword[f] != KW.FOR:
                continue
            body = int(ctx.body_opens(np.array([f]))[0])
            if body < 0:
                continue
            head = rows_between(ctx, f, body)
            if not any(ctx.text(int(x)) == "in" for x in head):
                continue
            rows = rows_between(ctx, body, int(ctx.match[body]))
            pushes = [
                int(x)
                for x in rows[ctx.is_text(rows, name)].tolist()
                if kx[int(ctx.nxt[x])] == KIND.DOT
                and ctx.text(int(ctx.nxt[int(ctx.nxt[x])])) == "push"
            ]
            if pushes:
                out.append(
                    Finding(
                        self.meta.name,
                        f"`{name}` grows by `push` in the loop below: its length is known "
                        "before the loop",
                        int(ctx.start[r]),
                        int(ctx.end[int(ctx.match[o])]),
                        help="use Vec::with_capacity(..) or collect an iterator",
                        related=(
                            (int(ctx.start[pushes[0]]), int(ctx.end[pushes[0]]), "pushed here"),
                        ),
                    )
                )
        return out


class RegexInLoop(SeqRule):
    meta = RuleMeta(
        "perf_regex_in_loop",
        P,
        Level.WARN,
        "`Regex::new` inside a loop",
        docs="""Compiling a regex costs microseconds to milliseconds; inside a loop it is paid
on every iteration. Compile once before the loop (or in a `static` `LazyLock`).

    for line in lines { let re = Regex::new(r"\\d+").unwrap(); } // perf_regex_in_loop
""",
    )
    seqs = ("Regex : : new (", "RegexBuilder : : new (")
    inside = Region.LOOP
    message = "the regex is compiled again on every iteration"
    help = "compile it once before the loop"


class FormatInLoopPush(SeqRule):
    meta = RuleMeta(
        "perf_format_push_str",
        P,
        Level.WARN,
        "`push_str(&format!(..))` allocates a temporary String",
        docs="""`s.push_str(&format!(..))` formats into a new `String` and copies it;
`write!(s, ..)` (with `std::fmt::Write`) formats straight into `s`.

    s.push_str(&format!("{x},")); // perf_format_push_str
""",
    )
    seqs = ("push_str ( & format !",)
    message = "`format!` builds a temporary String only to copy it into this one"
    help = "use `write!(s, ...)` with std::fmt::Write"


RULES = [
    F64InKernel,
    DivInKernelLoop,
    StridedAccess,
    CloneInLoop,
    CollectThenLen,
    VecPushInLoop,
    RegexInLoop,
    FormatInLoopPush,
]
