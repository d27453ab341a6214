"""Kernel build configuration: ``[workspace.metadata.rustg]`` in the root Cargo.toml, overridden
per package by ``[package.metadata.rustg]``.

    [workspace.metadata.rustg]
    archs = ["sm_80", "sm_90"]     # default: the GPU present, else sm_80
    opt_level = 3                  # 0-3, as rustc's -C opt-level
    debug_line_info = true         # .loc lines mapping PTX back to the source
    [workspace.metadata.rustg.kernels.block_sum]
    block = [256, 1, 1]            # launch default
    max_threads_per_block = 256    # limit the linter checks launches against
    shared_memory_bytes = 4096     # budget for this kernel's shared arrays

Anything invalid is a ``ConfigError`` naming the key and the file.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: Documented fallback when no GPU tells us better: Ampere, which every current GPU can run
#: (PTX for sm_80 JIT-compiles on newer archs).
DEFAULT_ARCH = "sm_80"
_ARCH = re.compile(r"^sm_\d{2,3}[af]?$")


@dataclass(frozen=True, slots=True)
class KernelLimits:
    block: tuple[int, int, int] | None = None
    grid: tuple[int, int, int] | None = None
    max_threads_per_block: int = 1024
    shared_memory_bytes: int = 48 * 1024


@dataclass(frozen=True, slots=True)
class KernelConfig:
    archs: tuple[str, ...] = ()
    opt_level: int = 3
    debug_line_info: bool = True
    kernels: dict[str, KernelLimits] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def limits(self, kernel: str) -> KernelLimits:
        return self.kernels.get(kernel, KernelLimits())


def detect_gpu_arch() -> str | None:
    """The compute capability of the first GPU, as ``sm_XY``, via nvidia-smi."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = out.stdout.strip().splitlines()[:1]
    if out.returncode != 0 or not first:
        return None
    major, _, minor = first[0].strip().partition(".")
    return f"sm_{major}{minor}" if major.isdigit() and minor.isdigit() else None


def _dim3(value: Any, where: str) -> tuple[int, int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ConfigError(f"{where}: must be 1 to 3 positive integers, e.g. [256, 1, 1]")
    padded = [*value, 1, 1][:3]
    return (padded[0], padded[1], padded[2])


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}: must be a positive integer")
    return value


def _apply(config: KernelConfig, table: Any, origin: str) -> KernelConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: must be a table")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{origin}: key '{key}'"
        if key == "archs":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(a, str) for a in value)
            ):
                raise ConfigError(f'{where} must be a non-empty list like ["sm_80", "sm_90"]')
            bad = [a for a in value if not _ARCH.match(a)]
            if bad:
                raise ConfigError(f"{where}: {bad[0]!r} is not a GPU arch (expected e.g. sm_90)")
            changes["archs"] = tuple(dict.fromkeys(value))
        elif key == "opt_level":
            if isinstance(value, bool) or value not in (0, 1, 2, 3):
                raise ConfigError(f"{where} must be 0, 1, 2 or 3")
            changes["opt_level"] = value
        elif key == "debug_line_info":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false")
            changes["debug_line_info"] = value
        elif key == "kernels":
            if not isinstance(value, dict):
                raise ConfigError(f"{where} must be a table of kernel names")
            kernels = dict(config.kernels)
            for name, limits in value.items():
                kernels[name] = _kernel_limits(limits, f"{origin}: key 'kernels.{name}")
            changes["kernels"] = kernels
        elif key in ("daemon", "cache", "lints"):
            continue  # other tools' tables
        else:
            raise ConfigError(
                f"{where} is unknown (known: archs, opt_level, debug_line_info, kernels)"
            )
    return replace(config, **changes)


def _kernel_limits(table: Any, prefix: str) -> KernelLimits:
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix}' must be a table")
    limits = KernelLimits()
    for key, value in table.items():
        where = f"{prefix}.{key}'"
        if key == "block":
            limits = replace(limits, block=_dim3(value, where))
        elif key == "grid":
            limits = replace(limits, grid=_dim3(value, where))
        elif key == "max_threads_per_block":
            limits = replace(limits, max_threads_per_block=_positive_int(value, where))
        elif key == "shared_memory_bytes":
            limits = replace(limits, shared_memory_bytes=_positive_int(value, where))
        else:
            raise ConfigError(
                f"{where} is unknown (known: block, grid, max_threads_per_block, "
                "shared_memory_bytes)"
            )
    if limits.block is not None and limits.block[0] * limits.block[1] * limits.block[2] > (
        limits.max_threads_per_block
    ):
        raise ConfigError(f"{prefix}.block' exceeds max_threads_per_block")
    return limits


def _metadata(manifest: Path, section: str) -> Any:
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{manifest}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{manifest}: invalid TOML: {exc}") from None
    return data.get(section, {}).get("metadata", {}).get("rustg")


def load_kernel_config(
    workspace_root: Path, package_manifest: Path | None = None, *, gpu_arch: str | None = None
) -> KernelConfig:
    """The effective configuration for one package (or the workspace when ``None``)."""
    config = KernelConfig()
    sources: list[str] = []
    root_manifest = workspace_root / "Cargo.toml"
    for manifest, section in ((root_manifest, "workspace"), (package_manifest, "package")):
        if manifest is None or not manifest.is_file():
            continue
        table = _metadata(manifest, section)
        if table is not None:
            config = _apply(config, table, f"{manifest} [{section}.metadata.rustg]")
            sources.append(str(manifest))
    if not config.archs:
        config = replace(config, archs=(gpu_arch or detect_gpu_arch() or DEFAULT_ARCH,))
    return replace(config, sources=tuple(sources))
