"""The linter's shared vocabulary: what a rule reports, and where in a file it can look.

Two halves of the linter meet here: the built-in rules and the engine that runs them
(``rules/``, ``engine.py``, ``context.py``) and the user-rule language (``pattern.py``,
``user_rules.py``, ``regex_dfa.py``). Both produce :class:`Finding` values over one file's
token rows and both ask a :class:`FileContext` where a row sits (inside a kernel, a test, an
``unsafe`` block, a loop ...). Everything here is plain data: no I/O, no numba.

Rows are token rows of the file's own :class:`~rustg.gpu.tokens.TokenArrays` (as returned by
``HotWorkspace.file(path)`` or ``index_file(source)``: offsets relative to the file).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "Category",
    "Edit",
    "FileContext",
    "Finding",
    "Fix",
    "Level",
    "Region",
    "Rule",
    "RuleMeta",
]


class Level(enum.IntEnum):
    """A rule's level, as ``#[allow]``/``#[warn]``/``#[deny]`` set it (higher is louder)."""

    ALLOW = 0
    WARN = 1
    DENY = 2


class Category(enum.StrEnum):
    GPU_CORRECTNESS = "gpu-correctness"
    PERFORMANCE = "performance"
    MEMORY_SAFETY = "memory-safety"
    RESOURCES = "resources"
    STYLE = "style"


class Region(enum.IntFlag):
    """Where a token row sits; a row can be in several at once (a loop in a kernel)."""

    KERNEL = 1 << 0  # body of a #[rustg::kernel] fn
    DEVICE = 1 << 1  # body of a #[rustg::device] fn
    TEST = 1 << 2  # a #[test] / #[rustg::gpu_test] fn, or a #[cfg(test)] item
    UNSAFE = 1 << 3  # an `unsafe { }` block or the body of an `unsafe fn`
    LOOP = 1 << 4  # the body of `for`/`while`/`loop`
    FN = 1 << 5  # any fn body


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes ``[start, end)`` of the file (relative offsets) with ``replacement``."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    machine_applicable: bool = True  # only these are applied by `cargo g lint --fix`


@dataclass(frozen=True, slots=True)
class RuleMeta:
    name: str  # snake_case; users write `rustg::<name>` in #[allow(...)]
    category: Category
    default_level: Level
    summary: str  # one line, shown in output
    docs: str = ""  # longer explanation with an example, for `cargo g lint --explain`


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    message: str
    start: int  # byte offsets relative to the file: the primary span
    end: int
    level: Level = Level.WARN  # filled in from configuration/suppressions by the engine
    help: str | None = None
    fix: Fix | None = None
    related: tuple[tuple[int, int, str], ...] = field(default=())  # (start, end, label)


class FileContext(Protocol):
    """What a rule may read about one file (implemented in ``context.py``)."""

    path: str  # workspace-relative
    source: bytes

    def regions(self) -> npt.NDArray[np.uint8]:
        """One :class:`Region` bit set per token row."""
        ...

    def text(self, row: int) -> str:
        """The source text of one token row."""
        ...


class Rule(Protocol):
    """What the engine runs: the built-in rules and user rules alike (the engine's hook).

    ``check`` sees one file; the findings' ``level`` is ignored (the engine sets it from
    ``meta.default_level``, configuration and suppressions).
    """

    @property
    def meta(self) -> RuleMeta: ...

    def check(self, ctx: FileContext) -> list[Finding]: ...
