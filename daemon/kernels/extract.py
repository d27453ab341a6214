"""Kernel extraction: from a package's sources to one generated ``#![no_core]`` crate.

The engine (rustg.gpu) indexes every ``.rs`` file of the package; files holding
``#[rustg::kernel]`` or ``#[rustg::device]`` items are *kernel files*. From each, the kernels,
the device functions and — transitively — the items they name (consts, statics, types,
``use`` lines, ``macro_rules``) are copied *as whole lines* into one generated file, inside
``pub mod`` blocks mirroring the file's module path. Copying whole lines keeps every column
(bar two marked rewrites), so a rustc error in the generated crate maps back to the user's file
by line: ``Extraction.origin(line)``. Host code never enters the generated crate, so editing it
never changes the crate's digest (and never costs a kernel rebuild).

Besides the whole crate (``Extraction.source``: the manifest's digest, the kernel list), every
kernel gets a *unit* (``Extraction.units``): a generated crate holding only that kernel and what
it reaches (``_closure``) — the unit of compilation and caching, so that editing a kernel or a
device fn rebuilds only the kernels that reach it. A unit is one file because ``shared_array!``
names its ``.shared`` symbol after the generated line and column (rust/rustg-core); two units
reuse each other's lines, and ``ptx.merge_ptx`` renames what then clashes.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3
import numpy as np

from ..errors import ToolError

#: The crate header: rustg-core as prelude, and as `rustg`, `core` and `std` (via --extern), so
#: kernel paths (`rustg::thread_idx_x`), derive expansions (`::core::clone::Clone`) and
#: `core::mem::swap` all resolve (docs/kernel-dialect.md, "The generated crate").
HEADER = """\
#![feature(no_core, abi_ptx, prelude_import)]
#![no_core]
#![allow(internal_features, unused_unsafe, dead_code, unused_imports)]
#[prelude_import]
#[allow(unused_imports)]
use rustg::prelude::*;
"""

_KERNEL_ATTR = re.compile(r"#\[\s*rustg\s*::\s*kernel\s*\]")
_DEVICE_ATTR = re.compile(r"#\[\s*rustg\s*::\s*device\s*\]")
#: `#[rustg::lint(allow(..), ..)]`: for cargo g lint only (rustg-core has no such attribute).
_LINT_ATTR = re.compile(r"#\[\s*rustg\s*::\s*lint\s*\((?:[^()]|\([^()]*\))*\)\s*\]")
_SIGNATURE = re.compile(
    r"\bfn\s+(?P<name>\w+)\s*(?:<[^>]*>)?\s*\((?P<params>.*?)\)\s*(?:->|\{|where)", re.S
)
_HOST_ONLY_ROOTS = ("std", "alloc")
DEVICE_ONLY_UNIT = "#device"


@dataclass(frozen=True, slots=True)
class LineOrigin:
    file: str  # workspace-relative
    line: int  # 1-based, in that file
    column_shift_at: int = 0  # a rewrite inserted text at this 1-based column of the line ...
    column_shift: int = 0  # ... so generated columns past it are this much larger


@dataclass(frozen=True, slots=True)
class KernelParam:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class KernelInfo:
    name: str
    module_path: str  # `kernels::saxpy`
    file: str
    line: int
    column: int
    params: tuple[KernelParam, ...]


@dataclass(slots=True)
class Extraction:
    crate_name: str
    source: str = ""
    kernels: list[KernelInfo] = field(default_factory=list)
    device_functions: list[str] = field(default_factory=list)
    lines: list[LineOrigin | None] = field(default_factory=list)  # per generated line
    files: list[str] = field(default_factory=list)  # kernel files, workspace-relative
    #: One generated crate per kernel, holding it and what it reaches (``_closure``): the unit
    #: of compilation and caching, so an edit rebuilds only the kernels that reach it. Last, a
    #: unit without a kernel when some device fns are reached by none (``unit_name``).
    units: list[Extraction] = field(default_factory=list)

    @property
    def unit_name(self) -> str:
        """The kernel a unit is compiled for, or ``#device`` for the unreached device fns."""
        return self.kernels[0].name if self.kernels else DEVICE_ONLY_UNIT

    def origin(self, line: int, column: int) -> tuple[str, int, int] | None:
        """The user's (file, line, column) for a position in the generated crate."""
        if not 1 <= line <= len(self.lines) or (where := self.lines[line - 1]) is None:
            return None
        if where.column_shift and column > where.column_shift_at:
            column = max(where.column_shift_at, column - where.column_shift)
        return where.file, where.line, column


def module_path(src_dir: Path, file: Path) -> list[str]:
    """`src/lib.rs` → [], `src/a.rs` → [a], `src/a/mod.rs` → [a], `src/a/b.rs` → [a, b]."""
    parts = list(file.relative_to(src_dir).with_suffix("").parts)
    if parts and parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return parts


def _split_params(text: str) -> tuple[KernelParam, ...]:
    params, depth, current = [], 0, ""
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            params.append(current)
            current = ""
        else:
            current += ch
    params.append(current)
    out = []
    for param in (p.strip() for p in params):
        if not param:
            continue
        pattern, _, type_ = param.partition(":")
        out.append(KernelParam(pattern.replace("mut ", "").strip(), " ".join(type_.split())))
    return tuple(out)


@dataclass
class _FileItems:
    rel: str
    text: str
    lines: list[str]
    module: list[str]
    items: list[Any]  # rustg.gpu.items.Item (gpu/ is typed loosely around numba)
    idents: list[set[str]]  # identifiers inside each item
    fn_at: list[tuple[int, int] | None]  # (line, 0-based char column) of each item's `fn`


#: (file, module path, content digest) -> its index: indexing is most of a warm build's time
#: (the engine, ~10-50 ms a file), and most builds change one file or none. Bounded; a lost
#: entry costs one re-index.
_INDEXED: OrderedDict[tuple[str, tuple[str, ...], bytes], _FileItems | None] = OrderedDict()
_INDEXED_MAX = 512
_INDEXED_LOCK = threading.Lock()


def _index(root: Path, path: Path, src_dir: Path) -> _FileItems | None:
    content = path.read_bytes()
    if b"rustg" not in content:  # cheap pre-filter: no attribute can be there
        return None
    rel = path.relative_to(root).as_posix()
    memo = (rel, tuple(module_path(src_dir, path)), blake3.blake3(content).digest())
    with _INDEXED_LOCK:
        if memo in _INDEXED:
            _INDEXED.move_to_end(memo)
            return _INDEXED[memo]
    found = _index_content(rel, content, memo[1])
    with _INDEXED_LOCK:
        _INDEXED[memo] = found
        while len(_INDEXED) > _INDEXED_MAX:
            _INDEXED.popitem(last=False)
    return found


def _index_content(rel: str, content: bytes, module: tuple[str, ...]) -> _FileItems | None:
    from rustg.gpu.items import ItemFlag, index_file
    from rustg.gpu.tokens import TokenKind

    tokens, _tree, index = index_file(content)
    items = [i for i in index.items(tokens, 0) if i.parent < 0]
    if not any(i.flags & (ItemFlag.KERNEL | ItemFlag.DEVICE) for i in items):
        return None
    ident_rows = np.flatnonzero(tokens.kind == TokenKind.IDENT)
    starts = tokens.start[ident_rows]
    idents: list[set[str]] = []
    for item in items:
        lo, hi = np.searchsorted(starts, [item.start_byte, item.end_byte])
        idents.append(
            {content[tokens.start[r] : tokens.end[r]].decode() for r in ident_rows[lo:hi]}
        )
    text = content.decode("utf-8", errors="replace")
    # The `fn` keyword of each item, from the tokens (never a `fn` inside a comment).
    significant = np.flatnonzero(tokens.kind >= 16)
    sig_starts = tokens.start[significant]
    fn_at: list[tuple[int, int] | None] = []
    for item in items:
        lo, hi = np.searchsorted(sig_starts, [item.head_byte, item.end_byte])
        at = next(
            (int(tokens.start[r]) for r in significant[lo:hi]
             if content[tokens.start[r] : tokens.end[r]] == b"fn"),
            None,
        )  # fmt: skip
        if at is None:
            fn_at.append(None)
            continue
        line_start = content.rfind(b"\n", 0, at) + 1
        column = len(content[line_start:at].decode("utf-8", errors="replace"))
        fn_at.append((content.count(b"\n", 0, at) + 1, column))
    return _FileItems(
        rel=rel,
        text=text,
        lines=text.split("\n"),
        module=list(module),
        items=items,
        idents=idents,
        fn_at=fn_at,
    )


def _carried(f: _FileItems, n: int, wanted: set[str], names: set[str]) -> bool:
    """Whether top-level item ``n`` (not a kernel or device fn) must come along with chosen
    items that use the identifiers ``wanted`` and are named ``names``."""
    from rustg.gpu.items import ItemFlag, ItemKind

    carriers = {ItemKind.CONST, ItemKind.STATIC, ItemKind.STRUCT, ItemKind.ENUM, ItemKind.UNION,
                ItemKind.TYPE, ItemKind.MACRO_RULES, ItemKind.USE, ItemKind.IMPL}  # fmt: skip
    item = f.items[n]
    if item.kind not in carriers or item.flags & ItemFlag.CFG_TEST:
        return False
    if item.kind is ItemKind.USE:
        root = item.name.lstrip(":").split("::", 1)[0]
        return root not in _HOST_ONLY_ROOTS and bool(f.idents[n] & wanted)
    if item.kind is ItemKind.IMPL:
        return bool(f.idents[n] & names)
    return item.name in wanted


def _select(f: _FileItems) -> list[int]:
    """The whole crate's share of one file: kernels, device fns, and the top-level items they
    name (transitively)."""
    from rustg.gpu.items import ItemFlag

    chosen = {n for n, i in enumerate(f.items) if i.flags & (ItemFlag.KERNEL | ItemFlag.DEVICE)}
    while True:
        wanted = set().union(*(f.idents[n] for n in chosen)) if chosen else set()
        names = {f.items[c].name for c in chosen}
        added = {
            n for n in range(len(f.items)) if n not in chosen and _carried(f, n, wanted, names)
        }
        if not added:
            return sorted(chosen)
        chosen |= added


def _closure(files: list[_FileItems], roots: list[tuple[int, int]]) -> list[list[int]]:
    """One unit: the ``roots`` ((file, item): a kernel), the device fns they call and the items
    they name, transitively, across the package's kernel files (never another kernel).
    Matching is by name, so a same-named item elsewhere comes along too: that can cost a
    needless rebuild, never a missing item."""
    from rustg.gpu.items import ItemFlag, ItemKind

    chosen: list[set[int]] = [set() for _ in files]
    for file_no, item_no in roots:
        chosen[file_no].add(item_no)
    while True:
        wanted: set[str] = set()
        names: set[str] = set()
        for f, c in zip(files, chosen, strict=True):
            for n in c:
                wanted |= f.idents[n]
                names.add(f.items[n].name)
        added = False
        for f, c in zip(files, chosen, strict=True):
            for n, item in enumerate(f.items):
                if n in c or item.flags & (ItemFlag.KERNEL | ItemFlag.CFG_TEST):
                    continue
                if item.flags & ItemFlag.DEVICE:
                    hit = item.name in wanted
                else:
                    hit = _carried(f, n, wanted, names)
                if hit:
                    c.add(n)
                    added = True
        if not added:
            break
    # A file that would contribute only `use` lines contributes nothing (its imports could
    # name items this unit does not have).
    return [
        sorted(c) if any(f.items[n].kind is not ItemKind.USE for n in c) else []
        for f, c in zip(files, chosen, strict=True)
    ]


def extract(root: Path, package_dir: Path, crate_name: str) -> Extraction:
    """Extract a package's kernels (``Extraction.kernels`` is empty when it has none): the
    whole crate, and one unit per kernel (``Extraction.units``) — what is compiled."""
    src_dir = package_dir / "src"
    result = Extraction(crate_name=crate_name)
    if not src_dir.is_dir():
        return result
    files: list[_FileItems] = []
    for path in sorted(src_dir.rglob("*.rs")):
        try:
            f = _index(root, path, src_dir)
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolError(f"cannot read {path}: {exc}") from exc
        if f is not None:
            files.append(f)
    result = _emit(crate_name, files, [_select(f) for f in files])
    from rustg.gpu.items import ItemFlag

    covered: list[set[int]] = [set() for _ in files]
    for file_no, f in enumerate(files):
        for n, item in enumerate(f.items):
            if item.flags & ItemFlag.KERNEL:
                chosen = _closure(files, [(file_no, n)])
                result.units.append(_emit(crate_name, files, chosen))
                for c, taken in zip(covered, chosen, strict=True):
                    c.update(taken)
    # Device fns no kernel reaches are compiled too, in one unit of their own: their errors
    # must be reported as they were when the whole crate was one unit.
    orphans = [
        (file_no, n)
        for file_no, f in enumerate(files)
        for n, item in enumerate(f.items)
        if item.flags & ItemFlag.DEVICE and not item.flags & ItemFlag.CFG_TEST
        and n not in covered[file_no]
    ]  # fmt: skip
    if orphans and result.units:
        # No `extern "ptx-kernel"` in it: the feature would be an unused-feature warning.
        header = HEADER.replace("abi_ptx, ", "")
        result.units.append(_emit(crate_name, files, _closure(files, orphans), header))
    return result


def _emit(
    crate_name: str, files: list[_FileItems], chosen: list[list[int]], header: str = HEADER
) -> Extraction:
    """The generated crate holding ``chosen[i]`` of ``files[i]``, with its line map."""
    from rustg.gpu.items import ItemFlag

    result = Extraction(crate_name=crate_name)
    out: list[str] = header.splitlines()
    origins: list[LineOrigin | None] = [None] * len(out)
    kernel_names: dict[str, str] = {}
    for f, items in zip(files, chosen, strict=True):
        if not items:
            continue
        result.files.append(f.rel)
        for name in f.module:
            out.append(f"pub mod {name} {{")
            origins.append(None)
        taken: set[int] = set()
        for n in items:
            item = f.items[n]
            first, last = item.start[0], item.end[0]
            span_lines = [ln for ln in range(first, last + 1) if ln not in taken]
            taken.update(span_lines)
            is_kernel = bool(item.flags & ItemFlag.KERNEL)
            fn_line, fn_col = f.fn_at[n] or (0, 0)
            if is_kernel and not fn_line:
                raise ToolError(f"{f.rel}:{item.head[0]}: #[rustg::kernel] on an item with no `fn`")
            for ln in span_lines:
                text = f.lines[ln - 1]
                origin = LineOrigin(f.rel, ln)
                if "rustg" in text:
                    text = _LINT_ATTR.sub(lambda m: " " * len(m.group()), text)
                if item.flags & ItemFlag.DEVICE:
                    text = _DEVICE_ATTR.sub(lambda m: " " * len(m.group()), text)
                if is_kernel:
                    # Same width as the attribute it replaces: columns stay the user's.
                    text = _KERNEL_ATTR.sub(lambda m: "#[no_mangle]".ljust(len(m.group())), text)
                    if ln == fn_line:
                        insert = 'extern "ptx-kernel" '
                        text = text[:fn_col] + insert + text[fn_col:]
                        origin = LineOrigin(f.rel, ln, fn_col + 1, len(insert))
                out.append(text)
                origins.append(origin)
            if is_kernel:
                sig = _SIGNATURE.match(f.text, _offset_of_line(f, fn_line) + fn_col)
                if sig is None or sig["name"] != item.name:
                    raise ToolError(
                        f"{f.rel}:{fn_line}: cannot read the signature of kernel `{item.name}` "
                        "(kernels may not be generic: docs/kernel-dialect.md)"
                    )
                if (other := kernel_names.get(item.name)) is not None:
                    raise ToolError(
                        f"{f.rel}:{item.head[0]}: kernel `{item.name}` is also defined in {other}; "
                        "kernel names must be unique per crate (they are PTX entry points)"
                    )
                kernel_names[item.name] = f.rel
                result.kernels.append(
                    KernelInfo(
                        name=item.name,
                        module_path="::".join([*f.module, item.name]),
                        file=f.rel,
                        line=item.head[0],
                        column=item.head[1],
                        params=_split_params(sig["params"]),
                    )
                )
            elif item.flags & ItemFlag.DEVICE:
                result.device_functions.append("::".join([*f.module, item.name]))
        for _ in f.module:
            out.append("}")
            origins.append(None)
    result.source = "\n".join(out) + "\n"
    result.lines = [*origins, None]
    return result


def _offset_of_line(f: _FileItems, line: int) -> int:
    return sum(len(text) + 1 for text in f.lines[: line - 1])
