"""Resource rules: launch configurations and shared memory against the configured limits, leaks.

Limits come from ``[workspace.metadata.rustg.kernels.<name>]`` (``max_threads_per_block``,
``shared_memory_bytes``; see :mod:`rustg.daemon.kernels.config`), else the hardware defaults
every current GPU has: 1024 threads per block, 48 KiB of shared memory per block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rustg.gpu.items import ItemFlag, ItemKind
from rustg.gpu.lint.context import KIND, LintFile
from rustg.gpu.lint.model import Category, Finding, Level, Region, RuleMeta
from rustg.gpu.lint.rules.base import FileRule, SeqRule
from rustg.gpu.lint.rules.util import call_args, int_value, rows_between

R = Category.RESOURCES
DEFAULT_MAX_THREADS = 1024
DEFAULT_SHARED_BYTES = 48 * 1024
_SIZES = {"u8": 1, "i8": 1, "bool": 1, "u16": 2, "i16": 2, "f16": 2, "u32": 4, "i32": 4,
          "f32": 4, "char": 4, "u64": 8, "i64": 8, "f64": 8, "usize": 8, "isize": 8,
          "u128": 16, "i128": 16}  # fmt: skip


class _Configured:
    configured = True

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def limits(self, kernel: str) -> tuple[int, int]:
        kc = getattr(self.config, "kernel_limits", None)
        if kc is not None and kernel in kc.kernels:
            lim = kc.kernels[kernel]
            return lim.max_threads_per_block, lim.shared_memory_bytes
        return DEFAULT_MAX_THREADS, DEFAULT_SHARED_BYTES


def _dims(ctx: LintFile, first: int, last: int) -> int | None:
    """Threads in a literal extent: `256`, `(16, 16)`, `[8, 8, 4]`, `(16, 16, 1)`."""
    if first == last:
        return int_value(ctx.text(first)) if ctx.kind[first] == KIND.INT else None
    if ctx.kind[first] in (KIND.OPEN_PAREN, KIND.OPEN_BRACKET) and ctx.match[first] == last:
        total = 1
        for a, b in call_args(ctx, first):
            v = _dims(ctx, a, b)
            if v is None:
                return None
            total *= v
        return total
    return None


def _kernel_name(ctx: LintFile, first: int, last: int) -> str:
    """`&SAXPY` / `&kernels::SAXPY` -> `saxpy` (the static is the kernel's name uppercased)."""
    rows = rows_between(ctx, first - 1, last + 1)
    idents = [int(r) for r in rows if ctx.kind[r] == KIND.IDENT]
    return ctx.text(idents[-1]).lower() if idents else ""


class LaunchBlockTooLarge(_Configured, FileRule):
    meta = RuleMeta(
        "launch_block_too_large",
        R,
        Level.DENY,
        "kernel launched with more threads per block than its limit",
        docs="""`launch(&K, grid, block, args)` and `LaunchConfig::new(grid, block)` with a
literal block over the limit fail at launch (`InvalidConfig`). The limit is 1024 threads, or
the kernel's `max_threads_per_block` in `[workspace.metadata.rustg.kernels.<name>]`.

    unsafe { rustg::launch(&SAXPY, 4, (32, 64), (a, &x, &mut y)) }?; // 2048 threads
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for r in ctx.word_rows("launch", "new").tolist():
            o = int(ctx.nxt[r])
            if kx[o] != KIND.OPEN_PAREN or ctx.match[o] < 0:
                continue
            launch = ctx.text(r) == "launch"
            if not launch:  # `LaunchConfig::new`: checked before reading the arguments
                p = int(ctx.prv[r])
                pp = int(ctx.prv[int(ctx.prv[p])]) if p >= 0 else -1
                if pp < 0 or ctx.text(pp) != "LaunchConfig":
                    continue
            args = call_args(ctx, o)
            if launch:
                if len(args) < 3:
                    continue
                kernel, block = _kernel_name(ctx, *args[0]), args[2]
            else:
                if len(args) != 2:
                    continue
                kernel, block = "", args[1]
            threads = _dims(ctx, *block)
            if threads is None:
                continue
            limit, _ = self.limits(kernel)
            if threads > limit:
                out.append(
                    Finding(
                        self.meta.name,
                        f"block of {threads} threads exceeds the limit of {limit}"
                        + (f" for kernel `{kernel}`" if kernel else ""),
                        int(ctx.start[block[0]]),
                        int(ctx.end[block[1]]),
                        help="use fewer threads per block and more blocks",
                    )
                )
        return out


class SharedMemoryOverBudget(_Configured, FileRule):
    meta = RuleMeta(
        "shared_memory_over_budget",
        R,
        Level.DENY,
        "a kernel's `shared_array!`s exceed its shared-memory budget",
        docs="""The `shared_array!(T, N)` allocations of one kernel add up (each use is one
allocation); over 48 KiB per block (or the kernel's `shared_memory_bytes`) the launch fails.
Sizes are counted for primitive element types with a literal `N`.

    let a = rustg::shared_array!(f32, 8192); // 32 KiB
    let b = rustg::shared_array!(f32, 8192); // 64 KiB in all: shared_memory_over_budget
""",
    )
    gpu_only = True

    def check(self, ctx: Any) -> list[Finding]:
        it = ctx.items
        out = []
        kx = ctx.kind_x
        kernels = np.flatnonzero(
            ((it.flags & np.uint32(ItemFlag.KERNEL)) != 0) & (it.kind == ItemKind.FN)
        )
        for i in kernels.tolist():
            br = ctx.body_range(i)
            if br is None:
                continue
            rows = rows_between(ctx, *br)
            total = 0
            last = -1
            for m in rows[ctx.is_text(rows, "shared_array")].tolist():
                b = int(ctx.nxt[m])
                o = int(ctx.nxt[b])
                if kx[b] != KIND.BANG or kx[o] not in (
                    KIND.OPEN_PAREN,
                    KIND.OPEN_BRACKET,
                ):
                    continue
                args = call_args(ctx, o)
                if len(args) != 2 or args[0][0] != args[0][1]:
                    continue
                size = _SIZES.get(ctx.text(args[0][0]))
                n = _dims(ctx, *args[1])
                if size is None or n is None:
                    continue
                total += size * n
                last = m
            name = ctx.item_name(i)
            _, budget = self.limits(name)
            if total > budget and last >= 0:
                out.append(
                    Finding(
                        self.meta.name,
                        f"kernel `{name}` allocates {total} bytes of shared memory; its budget "
                        f"is {budget}",
                        int(ctx.start[last]),
                        int(ctx.end[last]),
                        help="use smaller tiles, or raise shared_memory_bytes if the GPU has it",
                    )
                )
        return out


class DynamicSharedTooLarge(FileRule):
    meta = RuleMeta(
        "dynamic_shared_too_large",
        R,
        Level.DENY,
        "dynamic shared memory over 48 KiB per block",
        docs="""`LaunchConfig::with_shared_mem_bytes(n)` over 48 KiB fails at launch without the
per-kernel opt-in, which rustg does not do.

    let cfg = LaunchConfig::new(4, 256).with_shared_mem_bytes(64 * 1024); // too large
""",
    )

    def check(self, ctx: Any) -> list[Finding]:
        out = []
        kx = ctx.kind_x
        for r in ctx.word_rows("with_shared_mem_bytes").tolist():
            o = int(ctx.nxt[r])
            if kx[o] != KIND.OPEN_PAREN or ctx.match[o] < 0:
                continue
            args = call_args(ctx, o)
            if len(args) != 1:
                continue
            a, b = args[0]
            rows = [int(x) for x in rows_between(ctx, a - 1, b + 1)]
            # a literal or a product of literals (`64 * 1024`)
            value = 1
            ok = True
            for k, x in enumerate(rows):
                if k % 2 == 0:
                    v = int_value(ctx.text(x)) if ctx.kind[x] == KIND.INT else None
                    if v is None:
                        ok = False
                        break
                    value *= v
                elif ctx.kind[x] != KIND.STAR:
                    ok = False
                    break
            if ok and value > DEFAULT_SHARED_BYTES:
                out.append(
                    Finding(
                        self.meta.name,
                        f"{value} bytes of dynamic shared memory: the limit is "
                        f"{DEFAULT_SHARED_BYTES} per block",
                        int(ctx.start[a]),
                        int(ctx.end[b]),
                    )
                )
        return out


class MemForget(SeqRule):
    meta = RuleMeta(
        "mem_forget",
        R,
        Level.WARN,
        "`mem::forget` leaks the value",
        docs="""`mem::forget` never runs the destructor: memory, file handles and locks leak.
Use `ManuallyDrop` when ownership really moves elsewhere (FFI), which says so in the type.

    std::mem::forget(buffer); // mem_forget
""",
    )
    seqs = ("mem : : forget (",)
    message = "`mem::forget` leaks the value (its destructor never runs)"
    help = "use ManuallyDrop, or let the value drop"


class BoxLeakInLoop(SeqRule):
    meta = RuleMeta(
        "box_leak_in_loop",
        R,
        Level.WARN,
        "`Box::leak` inside a loop",
        docs="""`Box::leak` is for values that live for the rest of the program; in a loop it
leaks once per iteration, without bound.

    for name in names { let s: &'static str = Box::leak(name.into_boxed_str()); } // leaks
""",
    )
    seqs = ("Box : : leak (",)
    inside = Region.LOOP
    message = "`Box::leak` in a loop leaks memory on every iteration"
    help = "keep the values in a collection that outlives the loop"


RULES = [
    LaunchBlockTooLarge,
    SharedMemoryOverBudget,
    DynamicSharedTooLarge,
    MemForget,
    BoxLeakInLoop,
]
