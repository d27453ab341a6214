"""CUDA's own tools on our PTX: ``ptxas`` (assemble to cubin, report resources) and
``fatbinary`` (pack the cubins of every arch with the PTX, as ``nvcc -gencode`` does, so that
loading needs no JIT and newer GPUs can still JIT the PTX).

Invalid PTX is a build error here, caught long before a launch on a GPU.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ..errors import ToolError


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


def assemble(ptxas: Path, ptx: Path, arch: str, cubin: Path) -> list[KernelResources]:
    """``ptxas -arch=<arch> -v``: write ``cubin``, return the per-kernel resource figures."""
    try:
        out = subprocess.run(
            [str(ptxas), f"-arch={arch}", "-v", str(ptx), "-o", str(cubin)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"cannot run ptxas: {exc}") from exc
    output = out.stdout + out.stderr
    if out.returncode != 0:
        raise PtxasFailed(arch, parse_ptxas_messages(output), output)
    return parse_ptxas_verbose(output)


def pack_fatbin(fatbinary: Path, images: list[tuple[str, Path, Path]], out: Path) -> None:
    """One fatbin with, per arch, the cubin and the PTX (``images``: (arch, cubin, ptx))."""
    args = [str(fatbinary), f"--create={out}", "-64"]
    for arch, cubin, ptx in images:
        sm = arch.removeprefix("sm_")
        args += [f"--image3=kind=elf,sm={sm},file={cubin}", f"--image3=kind=ptx,sm={sm},file={ptx}"]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"cannot run fatbinary: {exc}") from exc
    if done.returncode != 0:
        raise ToolError(f"fatbinary failed: {(done.stderr or done.stdout).strip()}")
