"""Which Rust edition each source file is written in: its crate's ``package.edition``.

A file belongs to the package of the nearest ``Cargo.toml`` with a ``[package]`` table in its
directory or above (a workspace-only manifest is skipped, as Cargo does). The edition is, as
Cargo reads it: ``package.edition``; ``edition.workspace = true`` takes
``[workspace.package] edition`` from the nearest workspace manifest above; no key at all means
2015 (Cargo's default, for manifests older than editions). A file under no package (a loose
script, a test fixture) gets :data:`~rustg.gpu.tokens.DEFAULT_EDITION`. A manifest that cannot
be read or names an unknown edition counts as absent for its directory: the engine must keep
lexing while a user is mid-edit in Cargo.toml (cargo itself reports the broken manifest).
Per-target ``edition`` keys (``[lib] edition = ...``) are not read: rare, and a file can be in
several targets.
"""

from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path
from typing import Any

from rustg.gpu.tokens import DEFAULT_EDITION, Edition

__all__ = ["CARGO_DEFAULT_EDITION", "EditionMap", "edition_of_file"]

#: What Cargo assumes when ``package.edition`` is missing.
CARGO_DEFAULT_EDITION = Edition.E2015


def _read(manifest: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


class EditionMap:
    """Editions of the files under ``root``, from their manifests (cached per directory;
    :meth:`invalidate` after a ``Cargo.toml`` changed). Thread-safe.

    Paths given to :meth:`edition_of` are relative to ``root`` (the daemon's keys) or
    absolute. Manifests above ``root`` are consulted too (a crate opened from inside its
    workspace still finds ``[workspace.package]``).
    """

    def __init__(self, root: str | os.PathLike[str], *, default: Edition = DEFAULT_EDITION):
        self.root = Path(root).resolve()
        self.default = default
        self._dirs: dict[Path, Edition | None] = {}  # dir -> edition of its package, if any
        self._workspaces: dict[Path, Edition | None] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._dirs.clear()
            self._workspaces.clear()

    def edition_of(self, path: str | os.PathLike[str]) -> Edition:
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        with self._lock:
            for d in p.parents:
                ed = self._package_edition(d)
                if ed is not None:
                    return ed
        return self.default

    def _package_edition(self, d: Path) -> Edition | None:
        if d in self._dirs:
            return self._dirs[d]
        ed: Edition | None = None
        data = _read(d / "Cargo.toml") if (d / "Cargo.toml").is_file() else None
        package = data.get("package") if data else None
        if isinstance(package, dict):
            raw = package.get("edition", int(CARGO_DEFAULT_EDITION))
            if isinstance(raw, dict) and raw.get("workspace") is True:
                ed = self._workspace_edition(d)
            else:
                try:
                    ed = Edition.parse(raw)
                except ValueError:
                    ed = None
        self._dirs[d] = ed
        return ed

    def _workspace_edition(self, d: Path) -> Edition | None:
        for w in (d, *d.parents):
            if w in self._workspaces:
                return self._workspaces[w]
            manifest = w / "Cargo.toml"
            data = _read(manifest) if manifest.is_file() else None
            ws = data.get("workspace") if data else None
            if isinstance(ws, dict):
                raw = ws.get("package", {}).get("edition", int(CARGO_DEFAULT_EDITION))
                try:
                    ed: Edition | None = Edition.parse(raw)
                except ValueError:
                    ed = None
                self._workspaces[w] = ed
                return ed
        return None


def edition_of_file(path: str | os.PathLike[str]) -> Edition:
    """One file's edition (``cargo g tokens FILE``): its package's, or the default."""
    p = Path(path).resolve()
    return EditionMap(p.parent).edition_of(p)
