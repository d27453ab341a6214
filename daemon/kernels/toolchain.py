"""Finding the tools the kernel pipeline needs, and describing them for cache keys.

rustc's nvptx64 backend needs unstable features (``no_core``, ``abi_ptx``): a nightly rustc
(``rustc +nightly`` through rustup), or a stable one told ``RUSTC_BOOTSTRAP=1``. CUDA's
``ptxas`` and ``fatbinary`` are optional: without them the pipeline still produces PTX, and
the driver JIT-compiles it at load time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ..errors import ToolError

NVPTX_TARGET = "nvptx64-nvidia-cuda"


class NoKernelToolchain(ToolError):
    """No rustc here can target nvptx64: kernels cannot be built on this machine."""


@dataclass(frozen=True, slots=True)
class RustcForNvptx:
    """A rustc that can compile ``#![no_core]`` kernels for nvptx64."""

    command: tuple[str, ...]  # e.g. ("rustc", "+nightly") or ("rustc",)
    env: tuple[tuple[str, str], ...]  # extra environment (RUSTC_BOOTSTRAP=1 for stable)
    version: str  # `rustc -vV`, whole: part of every cache key
    channel: str  # "nightly" or "stable+bootstrap"

    def environ(self) -> dict[str, str]:
        return {**os.environ, **dict(self.env)}


@dataclass(frozen=True, slots=True)
class CudaTools:
    ptxas: Path | None
    fatbinary: Path | None
    version: str = ""  # `ptxas --version` last line
    nvlink: Path | None = None  # joins the per-kernel relocatable cubins of one arch

    @property
    def can_assemble(self) -> bool:
        return self.ptxas is not None


@dataclass(frozen=True, slots=True)
class Toolchain:
    rustc: RustcForNvptx
    cuda: CudaTools
    problems: tuple[str, ...] = field(default=())


def _run(command: list[str], env: dict[str, str] | None = None) -> str | None:
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=30, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _supports_nvptx(command: list[str], env: dict[str, str]) -> bool:
    targets = _run([*command, "--print", "target-list"], env)
    return targets is not None and NVPTX_TARGET in targets.split()


@cache
def find_rustc() -> RustcForNvptx:
    """Nightly first (rustup's ``+nightly``), then stable with RUSTC_BOOTSTRAP=1."""
    rustc = os.environ.get("RUSTC", "rustc")
    candidates = [
        ((rustc, "+nightly"), (), "nightly"),
        ((rustc,), (("RUSTC_BOOTSTRAP", "1"),), "stable+bootstrap"),
    ]
    tried = []
    for command, extra, channel in candidates:
        env = {**os.environ, **dict(extra)}
        version = _run([*command, "-vV"], env)
        tried.append(" ".join(command))
        if version and _supports_nvptx(list(command), env):
            actual = "nightly" if "-nightly" in version else channel
            return RustcForNvptx(tuple(command), tuple(extra), version.strip(), actual)
    raise NoKernelToolchain(
        f"no rustc that targets {NVPTX_TARGET} (tried: {', '.join(tried)}); "
        "install one with `rustup toolchain install nightly`"
    )


@cache
def find_cuda_tools() -> CudaTools:
    ptxas = shutil.which("ptxas") or _in_cuda_home("ptxas")
    fatbinary = shutil.which("fatbinary") or _in_cuda_home("fatbinary")
    nvlink = shutil.which("nvlink") or _in_cuda_home("nvlink")
    version = ""
    if ptxas:
        out = _run([ptxas, "--version"]) or ""
        version = out.strip().splitlines()[-1] if out.strip() else ""
    return CudaTools(
        ptxas=Path(ptxas) if ptxas else None,
        fatbinary=Path(fatbinary) if fatbinary else None,
        version=version,
        nvlink=Path(nvlink) if nvlink else None,
    )


def _in_cuda_home(tool: str) -> str | None:
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and (candidate := Path(home) / "bin" / tool).is_file():
            return str(candidate)
    return None
