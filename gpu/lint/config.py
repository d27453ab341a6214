"""Lint configuration: per-workspace rule levels and the kernel limits the resource rules use.

Levels come from, in order (later wins):

1. each rule's ``default_level``;
2. ``[workspace.metadata.rustg.lints.levels]`` in the workspace's ``Cargo.toml``;
3. ``[levels]`` in ``rustg-lint.toml`` at the workspace root.

Keys are rule names or category names (``gpu-correctness``, ``style`` ...: every rule of the
category); values ``"allow"``, ``"warn"`` or ``"deny"``. A rule name is looked up after the
category it belongs to, so ``style = "deny"`` with ``fn_naming = "allow"`` does what it says.
An unknown name or level is a :class:`~rustg.daemon.errors.ConfigError` naming the file and key
(exit 2 from the CLI): a typo in a level table must never silently do nothing.

Other keys of those tables belong to the user-rule language (``rule``/``rules``, ``tests``)
and are left to it. Kernel limits (``max_threads_per_block``, ``shared_memory_bytes`` per
kernel) are read by :func:`rustg.daemon.kernels.config.load_kernel_config`, as the kernel
build reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rustg.daemon.config import read_toml
from rustg.daemon.errors import ConfigError
from rustg.gpu.lint.model import Category, Level, RuleMeta

__all__ = ["LINT_TOML", "LintConfig", "load_lint_config", "parse_level"]

LINT_TOML = "rustg-lint.toml"
_LEVELS = {"allow": Level.ALLOW, "warn": Level.WARN, "deny": Level.DENY}


def parse_level(value: Any, where: str) -> Level:
    if not isinstance(value, str) or value.lower() not in _LEVELS:
        raise ConfigError(f'{where}: level must be "allow", "warn" or "deny" (got {value!r})')
    return _LEVELS[value.lower()]


@dataclass(frozen=True, slots=True)
class LintConfig:
    #: rule or category name -> level, in the order they were read
    levels: tuple[tuple[str, Level], ...] = ()
    sources: tuple[str, ...] = ()
    #: the raw tables, for the user-rule language: (origin, table)
    tables: tuple[tuple[str, Mapping[str, Any]], ...] = field(default=())
    kernel_limits: Any = None  # rustg.daemon.kernels.config.KernelConfig, or None

    def level_of(self, meta: RuleMeta) -> Level:
        level = meta.default_level
        for name, lv in self.levels:
            if name == str(meta.category):
                level = lv
        for name, lv in self.levels:
            if name == meta.name:
                level = lv
        return level

    def check_names(self, known: Iterable[str]) -> None:
        names = set(known) | {str(c) for c in Category}
        for name, _ in self.levels:
            if name not in names:
                raise ConfigError(
                    f"{', '.join(self.sources) or 'lint config'}: [levels] names unknown rule "
                    f"{name!r} (see `cargo g lint --list-rules`)"
                )


def _levels(table: Any, where: str) -> list[tuple[str, Level]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table of rule = level")
    return [(str(k), parse_level(v, f"{where}: key {k!r}")) for k, v in table.items()]


def load_lint_config(root: Path) -> LintConfig:
    """The workspace's lint configuration (an empty one when neither file exists)."""
    levels: list[tuple[str, Level]] = []
    sources: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    manifest = root / "Cargo.toml"
    if manifest.is_file():
        data = read_toml(manifest)
        lints = data.get("workspace", {}).get("metadata", {}).get("rustg", {}).get("lints")
        if lints is not None:
            origin = f"{manifest} [workspace.metadata.rustg.lints]"
            if not isinstance(lints, dict):
                raise ConfigError(f"{origin}: must be a table")
            if "levels" in lints:
                levels += _levels(lints["levels"], f"{origin} levels")
            sources.append(str(manifest))
            tables.append((origin, lints))
    lint_toml = root / LINT_TOML
    if lint_toml.is_file():
        data = read_toml(lint_toml)
        if "levels" in data:
            levels += _levels(data["levels"], f"{lint_toml} [levels]")
        sources.append(str(lint_toml))
        tables.append((str(lint_toml), data))
    kernel_limits = None
    if manifest.is_file():
        from rustg.daemon.kernels.config import DEFAULT_ARCH, load_kernel_config

        # The arch does not matter to the linter: passing one skips the nvidia-smi probe.
        kernel_limits = load_kernel_config(root, gpu_arch=DEFAULT_ARCH)
    return LintConfig(tuple(levels), tuple(sources), tuple(tables), kernel_limits)
