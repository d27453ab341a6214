"""The three shapes of built-in rule.

* :class:`SeqRule`: token sequences (``. unwrap (``) inside/outside regions. The engine merges
  the sequences of every SeqRule into one table and matches them all in one data-parallel pass
  over the workspace (:mod:`rustg.gpu.lint.backend`); ``accept`` then looks at each (rare)
  match when a sequence alone cannot decide.
* :class:`FileRule`: anything else over one file's arrays (NumPy masks over rows, item index).
* :class:`WorkspaceRule`: cross-file rules over the call graph (:mod:`rustg.gpu.lint.graph`).

All three are :class:`~rustg.gpu.lint.model.Rule` s (``meta``, ``check(ctx)``), so a user rule
object plugs in beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from rustg.gpu.lint.backend import SeqTable, Stream, compile_seq, match_sequences
from rustg.gpu.lint.context import FnSummary, LintFile
from rustg.gpu.lint.graph import GPU_FLAGS
from rustg.gpu.lint.model import Finding, Fix, RuleMeta

__all__ = ["FileRule", "SeqRule", "WorkspaceRule", "file_stream"]


def file_stream(ctx: LintFile, segment: int = 0) -> Stream:
    sig = ctx.sig
    return Stream(
        kind=ctx.kind[sig],
        hash=ctx.hashes[sig],
        region=ctx.regions()[sig],
        segment=np.full(len(sig), segment, dtype=np.int32),
    )


class SeqRule:
    meta: ClassVar[RuleMeta]
    seqs: ClassVar[tuple[str, ...]]
    inside: ClassVar[int] = 0  # Region bits, any of which must be set at the first token
    not_inside: ClassVar[int] = 0
    message: ClassVar[str] = ""
    help: ClassVar[str | None] = None

    def compiled(self) -> list[tuple[list[tuple[int, int]], int, int]]:
        return [(compile_seq(s), int(self.inside), int(self.not_inside)) for s in self.seqs]

    def accept(self, ctx: LintFile, first: int, last: int, which: int) -> Finding | None:
        """A finding for a match of sequence ``which`` over rows first..last, or None."""
        return Finding(
            self.meta.name,
            self.message or self.meta.summary,
            int(ctx.start[first]),
            int(ctx.end[last]),
            help=self.help,
            fix=self.fix(ctx, first, last),
        )

    def fix(self, ctx: LintFile, first: int, last: int) -> Fix | None:
        return None

    def findings_at(self, ctx: LintFile, which: np.ndarray, pos: np.ndarray) -> list[Finding]:
        seqs = self.compiled()
        out = []
        sig = ctx.sig
        for w, p in zip(which.tolist(), pos.tolist(), strict=True):
            first = int(sig[p])
            last = int(sig[p + len(seqs[w][0]) - 1])
            f = self.accept(ctx, first, last, w)
            if f is not None:
                out.append(f)
        return out

    def check(self, ctx: Any) -> list[Finding]:
        table = SeqTable.build(self.compiled())
        which, pos = match_sequences(np, file_stream(ctx), table)
        return self.findings_at(ctx, which, pos)


class FileRule:
    meta: ClassVar[RuleMeta]
    #: True when every finding starts from a kernel or device item (``#[rustg::kernel]`` /
    #: ``#[rustg::device]``) or from their GPU regions: the engine skips the rule in files
    #: without one (most files; a call costs ~7 us even when it finds nothing).
    gpu_only: ClassVar[bool] = False

    def check(self, ctx: Any) -> list[Finding]:
        raise NotImplementedError(type(self).__name__)


class WorkspaceRule:
    """Rules over the workspace's GPU fns (kernels, device fns) and the names they call.

    ``gpu``: per file, the summary of its GPU fns only; ``names``: every fn name of the
    workspace -> (how many GPU fns, how many other fns) carry it."""

    meta: ClassVar[RuleMeta]

    def check_gpu(
        self, gpu: Mapping[str, FnSummary], names: Mapping[str, tuple[int, int]]
    ) -> dict[str, list[Finding]]:
        raise NotImplementedError(type(self).__name__)

    def check(self, ctx: Any) -> list[Finding]:
        """One file alone: the graph of that file."""
        summary = ctx.fn_summary()
        names: dict[str, tuple[int, int]] = {}
        for fn in summary.fns:
            g, o = names.get(fn.name, (0, 0))
            names[fn.name] = (g + 1, o) if fn.flags & GPU_FLAGS else (g, o + 1)
        gpu = FnSummary(ctx.path, tuple(fn for fn in summary.fns if fn.flags & GPU_FLAGS))
        return self.check_gpu({ctx.path: gpu}, names).get(ctx.path, [])
