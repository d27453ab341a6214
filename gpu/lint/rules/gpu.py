"""GPU-correctness rules: what breaks, or does not build, inside kernel and device code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rustg.gpu.items import ItemFlag
from rustg.gpu.lint.context import KIND, KW, FnSummary, LintFile
from rustg.gpu.lint.graph import CallGraph
from rustg.gpu.lint.model import Category, Finding, Level, Region, RuleMeta
from rustg.gpu.lint.rules.base import FileRule, SeqRule, WorkspaceRule
from rustg.gpu.lint.rules.util import (
    GPU,
    THREAD_WORDS,
    gpu_fns,
    mentions,
    rows_between,
    tainted_names,
)

G = Category.GPU_CORRECTNESS

_HEAP_TYPES = ("Vec", "String", "Box", "Rc", "Arc", "HashMap", "HashSet", "BTreeMap",
               "BTreeSet", "VecDeque", "BinaryHeap", "LinkedList")  # fmt: skip


class GpuHeapType(SeqRule):
    meta = RuleMeta(
        "gpu_heap_type",
        G,
        Level.DENY,
        "heap-allocated type in GPU code (kernels have no allocator)",
        docs="""Kernels and device fns run without an allocator: `Vec`, `String`, `Box`, `Rc`,
`Arc` and the std collections cannot be created or used there (the nvptx build fails, and on
the emulator the code would silently allocate per thread).

    #[rustg::kernel]
    pub fn k(out: SliceMut<f32>) {
        let v: Vec<f32> = Vec::new(); // gpu_heap_type
    }

Take memory as a `rustg::Slice`/`SliceMut` parameter, or use `rustg::shared_array!`.
""",
    )
    seqs = _HEAP_TYPES
    inside = GPU
    help = "take memory as a rustg::Slice/SliceMut parameter or use rustg::shared_array!"

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        return Finding(
            self.meta.name,
            f"`{ctx.text(first)}` allocates on the heap: not available in GPU code",
            int(ctx.start[first]),
            int(ctx.end[last]),
            help=self.help,
        )


class GpuAllocMacro(SeqRule):
    meta = RuleMeta(
        "gpu_alloc_macro",
        G,
        Level.DENY,
        "allocating macro (`vec!`, `format!`) in GPU code",
        docs="""`vec!` and `format!` build a `Vec`/`String` on the heap: impossible in a kernel.

    #[rustg::device]
    fn label(i: u32) -> u32 { let s = format!("{i}"); 0 } // gpu_alloc_macro
""",
    )
    seqs = ("vec !", "format !")
    inside = GPU

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        return Finding(
            self.meta.name,
            f"`{ctx.text(first)}!` allocates on the heap: not available in GPU code",
            int(ctx.start[first]),
            int(ctx.end[last]),
            help="write into a Slice/SliceMut parameter or a shared_array! instead",
        )


class GpuPrint(SeqRule):
    meta = RuleMeta(
        "gpu_print",
        G,
        Level.DENY,
        "printing macro in GPU code",
        docs="""`println!`, `print!`, `eprintln!`, `eprint!` and `write!` need std's I/O, which a
kernel does not have.

    #[rustg::kernel]
    pub fn k(x: Slice<f32>) { println!("{}", x[0]); } // gpu_print

Debug on the emulator (`#[rustg::gpu_test]`) or write values to an output slice.
""",
    )
    seqs = ("println !", "print !", "eprintln !", "eprint !", "write !", "writeln !")
    inside = GPU
    message = "std's printing is not available in GPU code"
    help = "write the value to an output slice, or debug on the emulator"


class GpuPanic(SeqRule):
    meta = RuleMeta(
        "gpu_panic",
        G,
        Level.WARN,
        "panicking macro in GPU code",
        docs="""A panic in a kernel traps the whole launch (`unreachable`/`trap` in PTX) with no
message; on the host emulator it unwinds one thread. `panic!`, `unreachable!`, `todo!`,
`unimplemented!`, `assert!`, `assert_eq!` and `assert_ne!` all panic.

    #[rustg::kernel]
    pub fn k(x: Slice<f32>) { assert!(x.len() > 0); } // gpu_panic

Guard with an early `return` for the threads that have no work instead.
""",
    )
    seqs = ("panic !", "unreachable !", "todo !", "unimplemented !", "assert !",
            "assert_eq !", "assert_ne !")  # fmt: skip
    inside = GPU

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        return Finding(
            self.meta.name,
            f"`{ctx.text(first)}!` panics: in a kernel that traps the whole launch",
            int(ctx.start[first]),
            int(ctx.end[last]),
            help="return early for threads without work instead of panicking",
        )


class GpuUnwrap(SeqRule):
    meta = RuleMeta(
        "gpu_unwrap",
        G,
        Level.WARN,
        "`unwrap`/`expect` in GPU code",
        docs="""`.unwrap()` and `.expect(..)` panic on `None`/`Err`; in a kernel that traps the
launch without a message.

    #[rustg::device]
    fn first(x: Slice<u32>) -> u32 { *x.get(0).unwrap() } // gpu_unwrap

Match on the value, or use `unwrap_or`.
""",
    )
    seqs = (". unwrap (", ". expect (")
    inside = GPU

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        name = ctx.text(int(ctx.nxt[first]))
        return Finding(
            self.meta.name,
            f"`.{name}()` panics on failure: in a kernel that traps the whole launch",
            int(ctx.start[first]),
            int(ctx.end[last]),
            help="match on the value or use `unwrap_or`",
        )


class GpuTraitObject(FileRule):
    meta = RuleMeta(
        "gpu_trait_object",
        G,
        Level.DENY,
        "trait object (`dyn Trait`) in GPU code",
        docs="""Dynamic dispatch needs vtables and indirect calls, which rustg's PTX does not
support; a `dyn Trait` in a kernel or device fn (body or signature) fails the GPU build.

    #[rustg::device]
    fn apply(f: &dyn Fn(f32) -> f32, x: f32) -> f32 { f(x) } // gpu_trait_object

Use a generic device fn (`fn apply<F: Fn(f32) -> f32>`) instead.
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        for i in gpu_fns(ctx):
            lo, hi = int(ctx.items.head[i]), int(ctx.items.end[i])
            rows = rows_between(ctx, lo - 1, hi + 1)
            for r in rows[ctx.keyword[rows] == KW.DYN].tolist():
                out.append(
                    Finding(
                        self.meta.name,
                        "trait objects need dynamic dispatch: not available in GPU code",
                        int(ctx.start[r]),
                        int(ctx.end[r]),
                        help="make the fn generic over the trait instead",
                    )
                )
        return out


class GpuFnPointer(FileRule):
    meta = RuleMeta(
        "gpu_fn_pointer",
        G,
        Level.DENY,
        "function pointer type in GPU code",
        docs="""A `fn(..)` pointer is an indirect call on the GPU, which rustg's PTX does not
support.

    #[rustg::device]
    fn apply(f: fn(f32) -> f32, x: f32) -> f32 { f(x) } // gpu_fn_pointer
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for i in gpu_fns(ctx):
            lo, hi = int(ctx.items.head[i]), int(ctx.items.end[i])
            rows = rows_between(ctx, lo, hi + 1)
            fns = rows[ctx.keyword[rows] == KW.FN]
            # `fn(` is a pointer type; `fn name(` is a definition
            for r in fns[kx[ctx.nxt[fns]] == KIND.OPEN_PAREN].tolist():
                out.append(
                    Finding(
                        self.meta.name,
                        "function pointers are indirect calls: not available in GPU code",
                        int(ctx.start[r]),
                        int(ctx.end[int(ctx.nxt[r])]),
                        help="take a generic `F: Fn(..)` parameter instead",
                    )
                )
        return out


class GpuBarrierDivergence(FileRule):
    meta = RuleMeta(
        "gpu_barrier_divergence",
        G,
        Level.DENY,
        "`sync_threads` under a condition that depends on the thread index",
        docs="""Every thread of a block must reach the same `sync_threads()` calls. A barrier
inside an `if`/`while`/`match` whose condition reads the thread index (directly or through a
`let` bound from it) is reached by some threads only: undefined behaviour on a GPU (a hang or
garbage), `BarrierDivergence` on the emulator.

    #[rustg::kernel]
    pub fn k(mut x: SliceMut<f32>) {
        let t = rustg::thread_idx_x();
        if t < 16 {
            rustg::sync_threads(); // gpu_barrier_divergence
        }
    }

Move the barrier out of the condition (all threads call it; only some do work).
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        for i in gpu_fns(ctx):
            lo, hi = ctx.body_range(i)
            rows = rows_between(ctx, lo, hi)
            barriers = rows[ctx.is_text(rows, "sync_threads")]
            if len(barriers) == 0:
                continue
            words = tainted_names(ctx, lo, hi) | set(THREAD_WORDS)
            conds = rows[
                (ctx.keyword[rows] == KW.IF)
                | (ctx.keyword[rows] == KW.WHILE)
                | (ctx.keyword[rows] == KW.MATCH)
            ]
            opens = ctx.body_opens(conds)
            hit: dict[int, int] = {}
            for c, o in zip(conds.tolist(), opens.tolist(), strict=True):
                if o < 0 or not mentions(ctx, c, o, words):
                    continue
                end = int(ctx.match[o])
                # an `else` branch is as conditional as the `then` branch
                while end >= 0:
                    nx = int(ctx.nxt[end])
                    if nx < ctx.n and ctx.keyword[nx] == KW.ELSE:
                        b = int(ctx.nxt[nx])
                        if b < ctx.n and ctx.keyword[b] == KW.IF:
                            b = int(ctx.body_opens(np.array([b]))[0])
                        if b < 0 or ctx.kind[b] != KIND.OPEN_BRACE:
                            break
                        end = int(ctx.match[b])
                    else:
                        break
                for b in barriers[(barriers > o) & (barriers < end)].tolist():
                    hit.setdefault(b, c)
            for b, c in sorted(hit.items()):
                out.append(
                    Finding(
                        self.meta.name,
                        "barrier reached only by the threads that take this branch: the "
                        "condition depends on the thread index",
                        int(ctx.start[b]),
                        int(ctx.end[b]),
                        help="call sync_threads() outside the condition, in every thread",
                        related=((int(ctx.start[c]), int(ctx.end[c]), "thread-dependent branch"),),
                    )
                )
        return out


class GpuUncheckedOffset(FileRule):
    meta = RuleMeta(
        "gpu_unchecked_offset",
        G,
        Level.WARN,
        "thread-index arithmetic used as a pointer offset without a bounds check",
        docs="""`ptr.add(i)`, `ptr.offset(i)` and `get_unchecked(i)` with an index derived from
the thread index read or write out of bounds for the threads past the end of the data (the
grid is rounded up to whole blocks). Compare the index against a length first.

    #[rustg::kernel]
    pub unsafe fn k(p: *mut f32, n: usize) {
        let i = rustg::global_idx_x();
        *p.add(i) = 0.0; // gpu_unchecked_offset: no `if i < n`
    }
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        for i in gpu_fns(ctx):
            lo, hi = ctx.body_range(i)
            rows = rows_between(ctx, lo, hi)
            calls = rows[
                ctx.is_text(rows, "add")
                | ctx.is_text(rows, "offset")
                | ctx.is_text(rows, "get_unchecked")
                | ctx.is_text(rows, "get_unchecked_mut")
            ]
            if len(calls) == 0:
                continue
            words = tainted_names(ctx, lo, hi) | set(THREAD_WORDS)
            # bounds checks: a comparison in an `if`/`while` condition, or an early return,
            # that mentions a thread-derived name
            conds = rows[(ctx.keyword[rows] == KW.IF) | (ctx.keyword[rows] == KW.WHILE)]
            opens = ctx.body_opens(conds)
            checked_from = hi + 1
            for c, o in zip(conds.tolist(), opens.tolist(), strict=True):
                if o < 0:
                    continue
                crow = rows_between(ctx, c, o)
                compares = np.isin(ctx.kind[crow], [KIND.LT, KIND.GT]).any()
                if compares and mentions(ctx, c, o, words):
                    checked_from = min(checked_from, c)
            # a `for i in a..b` loop bounds its variable too
            for r in calls.tolist():
                p = int(ctx.prv[r])
                o = int(ctx.nxt[r])
                if p < 0 or ctx.kind[p] != KIND.DOT or o >= ctx.n:
                    continue
                if ctx.kind[o] != KIND.OPEN_PAREN or ctx.match[o] < 0:
                    continue
                if r > checked_from:
                    continue
                if (
                    mentions(ctx, o, int(ctx.match[o]), words)
                    and not ctx.region_at(np.array([r]), Region.LOOP)[0]
                ):
                    out.append(
                        Finding(
                            self.meta.name,
                            f"`.{ctx.text(r)}(..)` with a thread-derived offset and no bounds "
                            "check before it",
                            int(ctx.start[r]),
                            int(ctx.end[int(ctx.match[o])]),
                            help="return early when the index is past the length parameter",
                        )
                    )
        return out


_NON_COPY = {*_HEAP_TYPES, "Cell", "RefCell", "Mutex", "RwLock"}


class GpuNonCopyParam(FileRule):
    meta = RuleMeta(
        "gpu_non_copy_param",
        G,
        Level.DENY,
        "kernel parameter of a non-`Copy` type",
        docs="""Kernel parameters are copied bit for bit into the launch's parameter buffer:
they must be `Copy`. `Vec`, `String`, `Box`, `&mut T` and structs of this file that do not
derive `Copy` are not.

    #[derive(Clone)]
    struct Params { n: u32 }

    #[rustg::kernel]
    pub fn k(p: Params, v: Vec<f32>) {} // gpu_non_copy_param (twice)

Pass buffers as `Slice`/`SliceMut`, and derive `Clone, Copy` on parameter structs.
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        from rustg.gpu.items import AttrKind, ItemKind

        it = ctx.items
        kernels = np.flatnonzero((it.flags & np.uint32(ItemFlag.KERNEL)) != 0)
        if len(kernels) == 0:
            return []
        local_types: dict[str, bool] = {}
        for i in np.flatnonzero(
            (it.kind == ItemKind.STRUCT) | (it.kind == ItemKind.ENUM) | (it.kind == ItemKind.UNION)
        ).tolist():
            derives_copy = any(
                a.kind is AttrKind.OTHER and a.path == "derive" and "Copy" in a.args
                for a in it.attributes(ctx.tokens, i)
            )
            local_types[ctx.item_name(i)] = derives_copy
        out = []
        for i in kernels.tolist():
            if it.kind[i] != ItemKind.FN:
                continue
            lo, hi = ctx.signature_rows(i)
            rows = rows_between(ctx, lo, hi)
            opens = rows[ctx.kind[rows] == KIND.OPEN_PAREN]
            if len(opens) == 0:
                continue
            from rustg.gpu.lint.rules.util import call_args

            for first, last in call_args(ctx, int(opens[0])):
                span = rows_between(ctx, first - 1, last + 1)
                colon = span[ctx.kind[span] == KIND.COLON]
                if len(colon) == 0:
                    continue
                ty = span[span > colon[0]]
                if len(ty) == 0:
                    continue
                t0 = int(ty[0])
                text = ctx.text(t0)
                bad = None
                if ctx.kind[t0] == KIND.AND and len(ty) > 1 and ctx.keyword[ty[1]] == KW.MUT:
                    bad = "`&mut` references are not Copy"
                elif text in _NON_COPY:
                    bad = f"`{text}` is not Copy"
                elif local_types.get(text) is False:
                    bad = f"`{text}` does not derive Copy"
                if bad:
                    out.append(
                        Finding(
                            self.meta.name,
                            f"kernel parameter of a non-Copy type: {bad}",
                            int(ctx.start[first]),
                            int(ctx.end[last]),
                            help="pass buffers as Slice/SliceMut; derive Clone, Copy on structs",
                        )
                    )
        return out


class GpuSharedRaceNoBarrier(FileRule):
    meta = RuleMeta(
        "gpu_shared_race",
        G,
        Level.WARN,
        "shared memory read after a write with no barrier between",
        docs="""Threads of a block write a `shared_array!` and then read it: without
`sync_threads()` between the write and the read, a thread may read a slot another thread has
not written yet.

    let mut tile = rustg::shared_array!(f32, 256);
    tile[t] = x[i];
    let left = tile[t - 1]; // gpu_shared_race: no sync_threads() since the write
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        for i in gpu_fns(ctx):
            lo, hi = ctx.body_range(i)
            rows = rows_between(ctx, lo, hi)
            macros = rows[
                ctx.is_text(rows, "shared_array") | ctx.is_text(rows, "dynamic_shared_memory")
            ]
            names: list[str] = []
            for m in macros.tolist():
                # `let mut NAME = rustg::shared_array!(..)`: walk back to the `let`
                k = m
                while k > lo and ctx.keyword[k] != KW.LET and ctx.kind[k] != KIND.SEMI:
                    k = int(ctx.prv[k])
                if ctx.keyword[k] != KW.LET:
                    continue
                j = int(ctx.nxt[k])
                if ctx.keyword[j] == KW.MUT:
                    j = int(ctx.nxt[j])
                names.append(ctx.text(j))
            if not names:
                continue
            barriers = rows[ctx.is_text(rows, "sync_threads")]
            kx = ctx.kind_x
            for name in set(names):
                uses = rows[ctx.is_text(rows, name)]
                uses = uses[kx[ctx.nxt[uses]] == KIND.OPEN_BRACKET]
                last_write = -1
                for u in uses.tolist():
                    o = int(ctx.nxt[u])
                    c = int(ctx.match[o])
                    after = int(ctx.nxt[c]) if c >= 0 else ctx.n
                    is_write = (
                        after < ctx.n
                        and ctx.kind[after] == KIND.EQ
                        and not (
                            int(ctx.nxt[after]) < ctx.n and ctx.kind[int(ctx.nxt[after])] == KIND.EQ
                        )
                    )
                    is_write |= (
                        after < ctx.n
                        and ctx.kind[after] in (KIND.PLUS, KIND.MINUS, KIND.STAR)
                        and int(ctx.nxt[after]) < ctx.n
                        and ctx.kind[int(ctx.nxt[after])] == KIND.EQ
                    )
                    if is_write:
                        last_write = u
                        continue
                    between = rows[(rows > last_write) & (rows < u)]
                    same_statement = not (ctx.kind[between] == KIND.SEMI).any()
                    # `tile[t] += tile[t + h]` reads before it writes (examples/gpu-kernels)
                    if (
                        last_write >= 0
                        and not same_statement
                        and not ((barriers > last_write) & (barriers < u)).any()
                    ):
                        out.append(
                            Finding(
                                self.meta.name,
                                f"`{name}` is read here after a write with no sync_threads() "
                                "between: another thread's write may not have happened yet",
                                int(ctx.start[u]),
                                int(ctx.end[c]),
                                help="call rustg::sync_threads() between the write and the read",
                                related=(
                                    (
                                        int(ctx.start[last_write]),
                                        int(ctx.end[last_write]),
                                        "written here",
                                    ),
                                ),
                            )
                        )
                        last_write = -1  # one report per write
        return out


class GpuStd(SeqRule):
    meta = RuleMeta(
        "gpu_std_path",
        G,
        Level.DENY,
        "`std::` path in GPU code",
        docs="""GPU code is built over `core` and rustg's `no_core` prelude: `std::` is not
there (threads, files, collections, time).

    #[rustg::device]
    fn now() -> u64 { std::time::Instant::now(); 0 } // gpu_std_path
""",
    )
    seqs = ("std : :",)
    inside = GPU
    message = "`std` is not available in GPU code"
    help = "use core:: or the rustg device API"


class GpuKernelSignature(FileRule):
    meta = RuleMeta(
        "gpu_kernel_signature",
        G,
        Level.DENY,
        "kernel that is generic, async, or returns a value",
        docs="""A kernel is one symbol in the PTX module launched with fixed parameters: it cannot
be generic (`fn k<T>`), `async`, or return a value (results go through a `SliceMut`).

    #[rustg::kernel]
    pub fn k<T: Copy>(x: Slice<T>) -> u32 { 0 } // gpu_kernel_signature (twice)
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        from rustg.gpu.items import ItemKind

        it = ctx.items
        out = []
        for i in np.flatnonzero((it.flags & np.uint32(ItemFlag.KERNEL)) != 0).tolist():
            if it.kind[i] != ItemKind.FN:
                continue
            name_row = int(it.name_last[i])
            nx = int(ctx.nxt[name_row])
            problems = []
            if nx < ctx.n and ctx.kind[nx] == KIND.LT:
                problems.append((nx, "a kernel cannot be generic: write a generic device fn and "
                                 "one kernel per type"))  # fmt: skip
            if int(it.flags[i]) & ItemFlag.ASYNC:
                problems.append((int(it.head[i]), "a kernel cannot be async"))
            lo, hi = ctx.signature_rows(i)
            rows = rows_between(ctx, lo, hi)
            opens = rows[ctx.kind[rows] == KIND.OPEN_PAREN]
            if len(opens):
                close = int(ctx.match[int(opens[0])])
                a = int(ctx.nxt[close])
                if a < ctx.n and ctx.kind[a] == KIND.MINUS and ctx.kind[int(ctx.nxt[a])] == KIND.GT:
                    problems.append(
                        (a, "a kernel returns nothing: write results through a SliceMut")
                    )
            for r, msg in problems:
                out.append(Finding(self.meta.name, msg, int(ctx.start[r]), int(ctx.end[r])))
        return out


# -- cross-file ------------------------------------------------------------------------------


class GpuRecursion(WorkspaceRule):
    meta = RuleMeta(
        "gpu_recursion",
        G,
        Level.DENY,
        "recursion in GPU code (through the call graph, across files)",
        docs="""GPU threads have a small fixed stack and rustg's PTX has no dynamic stack
growth: a kernel or device fn that calls itself, directly or through other device fns (in any
file of the workspace), fails at launch or overflows.

    #[rustg::device]
    fn fact(n: u32) -> u32 { if n == 0 { 1 } else { n * fact(n - 1) } } // gpu_recursion

Rewrite as a loop.
""",
    )

    def check_gpu(
        self, gpu: Mapping[str, FnSummary], names: Mapping[str, tuple[int, int]]
    ) -> dict[str, list[Finding]]:
        g = CallGraph.build(gpu, names)
        out: dict[str, list[Finding]] = {}
        for comp in g.gpu_cycles():
            members = set(comp)
            label = " -> ".join(g.fn(n).name for n in comp)
            for node in comp:
                fn = g.fn(node)
                for callee, c in g.edges[node]:
                    if callee in members:
                        _name, s, e, _ = fn.calls[c]
                        msg = (
                            f"`{fn.name}` calls itself: recursion is not available in GPU code"
                            if callee == node
                            else f"recursive cycle through GPU fns: {label}"
                        )
                        out.setdefault(node[0], []).append(
                            Finding(self.meta.name, msg, s, e, help="rewrite as a loop")
                        )
                        break
        return out


#: Callable in GPU code although no workspace fn of that name is a device fn: the device API,
#: core's methods, and the shared-memory helpers.
_DEVICE_API = {
    *THREAD_WORDS, "block_idx_x", "block_idx_y", "block_idx_z", "block_dim_x", "block_dim_y",
    "block_dim_z", "grid_dim_x", "grid_dim_y", "grid_dim_z", "block_idx", "block_dim",
    "grid_dim", "grid_stride_x", "sync_threads", "thread_fence", "thread_fence_block",
    "thread_fence_system", "atomic_add", "atomic_sub", "atomic_max", "atomic_min",
    "atomic_exch", "atomic_cas", "atomic_and", "atomic_or", "atomic_xor",
}  # fmt: skip


class GpuCallsHostFn(WorkspaceRule):
    meta = RuleMeta(
        "gpu_calls_host_fn",
        G,
        Level.DENY,
        "kernel or device fn calls a workspace fn that is not `#[rustg::device]`",
        docs="""Only `#[rustg::device]` fns are compiled for the GPU along with a kernel. Calling
another fn of the workspace (any file) from GPU code fails the kernel build: mark it
`#[rustg::device]` if it is GPU-safe.

    fn helper(x: f32) -> f32 { x * 2.0 }

    #[rustg::kernel]
    pub fn k(mut y: SliceMut<f32>) { y[0] = helper(1.0); } // gpu_calls_host_fn

Names that some device fn also carries are not reported (the call may be to that one).
""",
    )

    def check_gpu(
        self, gpu: Mapping[str, FnSummary], names: Mapping[str, tuple[int, int]]
    ) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for path, summary in gpu.items():
            for fn in summary.fns:
                for callee, s, e, method in fn.calls:
                    if method or callee in _DEVICE_API:
                        continue
                    n_gpu, n_other = names.get(callee, (0, 0))
                    if n_other and not n_gpu:
                        out.setdefault(path, []).append(
                            Finding(
                                self.meta.name,
                                f"`{fn.name}` (GPU code) calls `{callee}`, which is not a "
                                "#[rustg::device] fn",
                                s,
                                e,
                                help=f"mark `{callee}` #[rustg::device] if it is GPU-safe",
                            )
                        )
        return out


RULES = [
    GpuHeapType,
    GpuAllocMacro,
    GpuPrint,
    GpuPanic,
    GpuUnwrap,
    GpuTraitObject,
    GpuFnPointer,
    GpuBarrierDivergence,
    GpuUncheckedOffset,
    GpuNonCopyParam,
    GpuSharedRaceNoBarrier,
    GpuStd,
    GpuKernelSignature,
    GpuRecursion,
    GpuCallsHostFn,
]
