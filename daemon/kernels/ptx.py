"""CUDA's own tools on our PTX: ``ptxas`` (assemble to cubin, report resources; ``-c`` for
one kernel's relocatable piece), ``nvlink`` (link the pieces of one arch into the crate's
cubin) and ``fatbinary`` (pack the cubins of every arch with the PTX, as ``nvcc -gencode``
does, so that loading needs no JIT and newer GPUs can still JIT the PTX); and ``merge_ptx``,
which joins the per-kernel PTX modules into the crate's one module.

Invalid PTX is a build error here, caught long before a launch on a GPU.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ..errors import ToolError
from .procs import Cancellation, run_tool


class KernelResources(msgspec.Struct, frozen=True, kw_only=True):
    """``ptxas -v`` figures for one entry function on one arch."""

    kernel: str
    arch: str
    registers: int
    stack_frame_bytes: int = 0
    spill_store_bytes: int = 0
    spill_load_bytes: int = 0
    shared_bytes: int = 0
    constant_bytes: int = 0
    barriers: int = 0


@dataclass(frozen=True, slots=True)
class PtxasMessage:
    severity: str  # "error" or "warning"
    message: str
    line: int | None  # line in the PTX file, when ptxas says


class PtxasFailed(ToolError):
    def __init__(self, arch: str, messages: list[PtxasMessage], output: str) -> None:
        first = messages[0].message if messages else output.strip().splitlines()[-1:]
        super().__init__(f"ptxas rejected the PTX for {arch}: {first}")
        self.arch = arch
        self.messages = messages
        self.output = output


_COMPILING = re.compile(r"Compiling entry function '(?P<name>[^']+)' for '(?P<arch>sm_\w+)'")
_FRAME = re.compile(
    r"(?P<stack>\d+) bytes stack frame, (?P<store>\d+) bytes spill stores, "
    r"(?P<load>\d+) bytes spill loads"
)
_USED = re.compile(r"Used (?P<regs>\d+) registers")
_SMEM = re.compile(r"(?P<n>\d+) bytes smem")
_CMEM = re.compile(r"(?P<n>\d+) bytes cmem\[\d+\]")
_BARRIERS = re.compile(r"used (?P<n>\d+) barriers")
_MESSAGE = re.compile(
    r"^ptxas (?P<file>[^,]+), line (?P<line>\d+); (?P<sev>error|warning)\s*: (?P<msg>.*)$", re.M
)
_FATAL = re.compile(r"^ptxas fatal\s*: (?P<msg>.*)$", re.M)


def parse_ptxas_verbose(output: str) -> list[KernelResources]:
    """Per-kernel figures from ``ptxas -v`` (stderr). Robust to line order within a function."""
    found: list[KernelResources] = []
    current: dict[str, object] | None = None
    for line in output.splitlines():
        if match := _COMPILING.search(line):
            if current is not None:
                found.append(KernelResources(**current))  # type: ignore[arg-type]
            current = {"kernel": match["name"], "arch": match["arch"], "registers": 0}
            continue
        if current is None:
            continue
        if match := _FRAME.search(line):
            current.update(
                stack_frame_bytes=int(match["stack"]),
                spill_store_bytes=int(match["store"]),
                spill_load_bytes=int(match["load"]),
            )
        if match := _USED.search(line):
            current["registers"] = int(match["regs"])
            if smem := _SMEM.search(line):
                current["shared_bytes"] = int(smem["n"])
            if cmem := _CMEM.search(line):
                current["constant_bytes"] = int(cmem["n"])
            if barriers := _BARRIERS.search(line):
                current["barriers"] = int(barriers["n"])
    if current is not None:
        found.append(KernelResources(**current))  # type: ignore[arg-type]
    return found


def parse_ptxas_messages(output: str) -> list[PtxasMessage]:
    messages = [
        PtxasMessage(m["sev"], m["msg"].strip(), int(m["line"])) for m in _MESSAGE.finditer(output)
    ]
    messages += [PtxasMessage("error", m["msg"].strip(), None) for m in _FATAL.finditer(output)]
    return messages


def assemble(
    ptxas: Path, ptx: Path, arch: str, cubin: Path, *, relocatable: bool = False,
    cancel: Cancellation | None = None,
) -> list[KernelResources]:  # fmt: skip
    """``ptxas -arch=<arch> -v`` (``-c`` when ``relocatable``: a piece for ``nvlink``): write
    ``cubin``, return the per-kernel resource figures."""
    command = [str(ptxas), f"-arch={arch}", "-v", *(["-c"] if relocatable else []), str(ptx),
               "-o", str(cubin)]  # fmt: skip
    out = run_tool(command, timeout=300, cancel=cancel)
    output = out.stdout + out.stderr
    if out.returncode != 0:
        raise PtxasFailed(arch, parse_ptxas_messages(output), output)
    return parse_ptxas_verbose(output)


def link_cubins(
    nvlink: Path, arch: str, pieces: list[Path], out: Path, *, cancel: Cancellation | None = None
) -> None:
    """``nvlink`` the relocatable cubins of one arch into one loadable cubin."""
    done = run_tool(
        [str(nvlink), f"-arch={arch}", *map(str, pieces), "-o", str(out)],
        timeout=120, cancel=cancel,
    )  # fmt: skip
    if done.returncode != 0:
        raise ToolError(f"nvlink failed for {arch}: {(done.stderr or done.stdout).strip()}")


def cubin_entry_points(data: bytes) -> list[str]:
    """The kernels (``STO_CUDA_ENTRY`` function symbols) of a cubin, from its ELF symbol
    table: what a driver can ``cuModuleGetFunction``. (cuobjdump does the same; CUDA's
    minimal installs lack it.)"""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ToolError("not a 64-bit ELF cubin")
    endian = "<" if data[5] == 1 else ">"
    shoff = struct.unpack_from(endian + "Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
    sections = [struct.unpack_from(endian + "IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]  # fmt: skip
    names: list[str] = []
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab = sections[link]
        str_off, str_size = strtab[4], strtab[5]
        for at in range(offset, offset + size, entsize or 24):
            st_name, st_info, st_other = struct.unpack_from(endian + "IBB", data, at)
            if st_info & 0xF == 2 and st_info >> 4 == 1 and st_other & 0x10:  # FUNC GLOBAL ENTRY
                end = data.index(b"\0", str_off + st_name, str_off + str_size)
                names.append(data[str_off + st_name : end].decode())
    return names


def pack_fatbin(
    fatbinary: Path, images: list[tuple[str, Path, Path]], out: Path, *,
    cancel: Cancellation | None = None,
) -> None:  # fmt: skip
    """One fatbin with, per arch, the cubin and the PTX (``images``: (arch, cubin, ptx))."""
    args = [str(fatbinary), f"--create={out}", "-64"]
    for arch, cubin, ptx in images:
        sm = arch.removeprefix("sm_")
        args += [f"--image3=kind=elf,sm={sm},file={cubin}", f"--image3=kind=ptx,sm={sm},file={ptx}"]
    done = run_tool(args, timeout=120, cancel=cancel)
    if done.returncode != 0:
        raise ToolError(f"fatbinary failed: {(done.stderr or done.stdout).strip()}")


# --- merging per-kernel PTX modules -----------------------------------------------------------

_HEADER = re.compile(r"^\s*\.(version|target|address_size)\b")
_FILE = re.compile(r'^\s*\.file\s+(?P<n>\d+)\s+(?P<rest>".*)$')
_FUNC_NAME = re.compile(r"\.(?:entry|func)\s+(?:\([^)]*\)\s*)?(?P<name>[A-Za-z_$%][\w$]*)")
_VAR_NAME = re.compile(r"(?P<name>[A-Za-z_$%][\w$]*)\s*(?:\[[^\]]*\]\s*)*(?:=|;)")
_LINKAGE = re.compile(r"^\s*\.(visible|extern|weak|common)\b")


@dataclass(slots=True)
class _Chunk:
    """One top-level PTX statement: a variable, a function prototype or definition, a
    section."""

    kind: str  # "var", "decl", "def", "section"
    name: str
    text: str
    exported: bool  # .visible/.extern/.weak: one symbol for every module that names it

    def normalized(self) -> str:
        """The text without debug locations: two compiles of one helper differ only there."""
        return "\n".join(ln for ln in self.text.split("\n") if not ln.lstrip().startswith(".loc"))


@dataclass(slots=True)
class _Module:
    header: list[str] = field(default_factory=list)
    chunks: list[_Chunk] = field(default_factory=list)
    files: dict[int, str] = field(default_factory=dict)  # .file index -> the quoted rest


def _parse(ptx: str) -> _Module:
    module = _Module()
    pending: list[str] = []
    depth = 0
    for line in ptx.split("\n"):
        stripped = line.strip()
        if not pending:
            if not stripped or stripped.startswith("//"):
                continue
            if _HEADER.match(line):
                module.header.append(stripped)
                continue
            if match := _FILE.match(line):
                module.files[int(match["n"])] = match["rest"]
                continue
        pending.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 0 and (stripped.endswith(";") or stripped.endswith("}")):
            module.chunks.append(_chunk("\n".join(pending)))
            pending = []
    if pending:
        raise ToolError(f"unterminated PTX statement: {pending[0].strip()[:80]}")
    return module


def _chunk(text: str) -> _Chunk:
    head = text.split("{", 1)[0]
    stripped = text.lstrip()
    exported = bool(_LINKAGE.match(stripped))
    if stripped.startswith(".section"):
        return _Chunk("section", stripped.split()[1], text, exported=True)
    if match := _FUNC_NAME.search(head):
        return _Chunk("def" if "{" in text else "decl", match["name"], text, exported)
    if match := _VAR_NAME.search(head if "=" not in head else head.split("=", 1)[0] + ";"):
        return _Chunk("var", match["name"], text, exported)
    raise ToolError(f"cannot read this PTX statement: {stripped[:80]}")


def _rename(text: str, renames: dict[str, str]) -> str:
    if not renames:
        return text
    pattern = re.compile(
        r"(?<![\w$%])(" + "|".join(re.escape(n) for n in sorted(renames, key=len, reverse=True))
        + r")(?![\w$])"
    )  # fmt: skip
    return pattern.sub(lambda m: renames[m.group(1)], text)


#: Where a piece's generated-crate position really is: (line, column) -> (file, line, column).
Locate = Callable[[int, int], tuple[str, int, int] | None]
_LOC_FULL = re.compile(r"^(?P<pre>\s*\.loc\s+)(?P<f>\d+)\s+(?P<l>\d+)\s+(?P<c>\d+)", re.M)


def merge_ptx(pieces: list[str], *, generated: str = "", locate: list[Locate] | None = None) -> str:
    """The per-kernel PTX modules of one arch joined into one module, as if compiled together.

    Identical statements are kept once: the rustg-core helpers and the device fns two kernels
    share compile to the same symbol (same crate name, so the same mangled name) and, apart
    from ``.loc`` lines, the same text. A module-local symbol defined differently by two pieces
    (a ``shared_array!`` named after the same generated line, a helper LLVM specialised for
    its one caller) is renamed in the later piece; an exported one defined twice is an error.
    ``.file`` tables are merged and every ``.loc`` renumbered; with ``locate`` (one per piece),
    a ``.loc`` in the ``.file`` whose path ends with ``generated`` (the unit's generated crate)
    is moved to the user's file, line and column.
    """
    modules = [_parse(p) for p in pieces]
    if not modules:
        raise ToolError("no PTX to merge")
    targets = {next((h for h in m.header if h.startswith(".target")), "") for m in modules}
    if len(targets) != 1:
        raise ToolError(f"PTX pieces for different targets: {sorted(targets)}")
    versions = [h for m in modules for h in m.header if h.startswith(".version")]
    version = max(versions, key=lambda v: tuple(int(x) for x in re.findall(r"\d+", v)))
    others = [h for h in modules[0].header if not h.startswith(".version")]
    file_index: dict[str, int] = {}
    seen: dict[tuple[str, str], str] = {}  # (kind, name) -> normalized text kept
    body: list[str] = []
    for number, module in enumerate(modules):
        mapping = {
            old: file_index.setdefault(rest, len(file_index) + 1)
            for old, rest in sorted(module.files.items())
            if not (generated and rest.rstrip('"').endswith(generated))
        }
        own = {old for old in module.files if old not in mapping}
        where = locate[number] if locate is not None else None

        def relocate(
            m: re.Match[str], own: set[int] = own, where: Locate | None = where,
            to: dict[int, int] = mapping,
        ) -> str:  # fmt: skip
            if int(m["f"]) not in own or where is None:
                return f"{m['pre']}{to.get(int(m['f']), 0)} {m['l']} {m['c']}"
            found = where(int(m["l"]), int(m["c"])) if int(m["l"]) else None
            if found is None:  # generated-only lines (the header, a `pub mod`): no position
                found = ("<rustg>", 0, 0)
            index = file_index.setdefault(f'"{found[0]}"', len(file_index) + 1)
            return f"{m['pre']}{index} {found[1]} {found[2]}"

        # .loc lines renumbered into the merged table (and moved to the user's files) here,
        # before the comparison below: a helper shared by two pieces then reads the same.
        module.chunks = [
            _Chunk(c.kind, c.name, _LOC_FULL.sub(relocate, c.text), c.exported)
            for c in module.chunks
        ]
        renames: dict[str, str] = {}
        while True:  # renaming one symbol can make a statement naming it differ too
            changed = False
            for chunk in module.chunks:
                name = renames.get(chunk.name, chunk.name)
                kept = seen.get((chunk.kind, name))
                if kept is None or kept == _rename(chunk.normalized(), renames):
                    continue
                if chunk.exported or chunk.kind in ("section", "decl"):
                    declaration = chunk.text.lstrip().startswith(".extern")
                    if chunk.kind in {"def", "var"} and not declaration:
                        raise ToolError(f"PTX symbol `{chunk.name}` is defined twice, differently")
                    continue  # a prototype, extern declaration or section seen: keep the first
                renames[chunk.name] = f"{chunk.name}_rustg{number}"
                changed = True
            if not changed:
                break
        for chunk in module.chunks:
            text = _rename(chunk.text, renames)
            name = renames.get(chunk.name, chunk.name)
            key = (chunk.kind, name)
            if key in seen:
                continue
            seen[key] = _rename(chunk.normalized(), renames)
            body.append(text)
    files = [f"\t.file\t{n} {rest}" for rest, n in file_index.items()]
    header = [f"// {len(pieces)} kernel module(s) merged by rustg", "", version, *others, ""]
    return "\n".join([*header, *("\n" + b for b in body), *files]) + "\n"
