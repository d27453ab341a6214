"""Where things live: the workspace root, its id, the daemon's runtime and state directories."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import blake3

from .errors import WorkspaceError


def find_workspace_root(start: Path) -> Path:
    """The cargo workspace around ``start``: the outermost Cargo.toml with a ``[workspace]``
    table, else the nearest Cargo.toml (a single-package workspace), as cargo itself decides."""
    start = start.resolve()
    nearest: Path | None = None
    for directory in (start, *start.parents):
        manifest = directory / "Cargo.toml"
        if not manifest.is_file():
            continue
        if nearest is None:
            nearest = directory
        try:
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if "workspace" in data:
            return directory
    if nearest is None:
        raise WorkspaceError(f"no Cargo.toml in {start} or any parent directory")
    return nearest


def workspace_id(root: Path) -> str:
    """Stable id of a workspace: 16 hex digits of BLAKE3 over its absolute path."""
    return blake3.blake3(os.fsencode(root.resolve())).hexdigest()[:16]


#: sun_path holds 108 bytes on Linux; leave room for the socket names.
MAX_RUNTIME_DIR_BYTES = 100 - len("/0123456789abcdef/requests.sock")


def runtime_base() -> Path:
    """``$XDG_RUNTIME_DIR/rustg``, or ``/tmp/rustg-<uid>`` when that is unset or too long for
    an ipc socket path."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir():
        base = Path(xdg) / "rustg"
        if len(os.fsencode(base)) <= MAX_RUNTIME_DIR_BYTES:
            return base
    return Path("/tmp") / f"rustg-{os.getuid()}"


def state_base() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rustg"


def _private_dir(path: Path) -> Path:
    """Create ``path`` (and its private parent) with mode 0700, and refuse one owned by others."""
    for directory in (path.parent, path):
        directory.mkdir(mode=0o700, exist_ok=True)
        info = directory.stat()
        if info.st_uid != os.getuid():
            raise WorkspaceError(f"{directory} belongs to uid {info.st_uid}, not to us")
        if info.st_mode & 0o077:
            directory.chmod(0o700)
    return path


@dataclass(frozen=True, slots=True)
class WorkspacePaths:
    root: Path
    id: str
    runtime_dir: Path  # sockets, daemon.json, lock: gone after reboot, private (0700)
    state_dir: Path  # LMDB and the daemon's cargo target dir: survive restarts

    @classmethod
    def for_root(
        cls, root: Path, *, runtime: Path | None = None, state: Path | None = None
    ) -> WorkspacePaths:
        root = root.resolve()
        wid = workspace_id(root)
        return cls(
            root=root,
            id=wid,
            runtime_dir=(runtime or runtime_base()) / wid,
            state_dir=(state or state_base()) / wid,
        )

    def ensure(self) -> None:
        _private_dir(self.runtime_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)

    @property
    def lock_file(self) -> Path:
        return self.runtime_dir / "daemon.lock"

    @property
    def info_file(self) -> Path:
        return self.runtime_dir / "daemon.json"

    @property
    def events_endpoint(self) -> str:
        return f"ipc://{self.runtime_dir / 'events.sock'}"

    @property
    def requests_endpoint(self) -> str:
        return f"ipc://{self.runtime_dir / 'requests.sock'}"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "daemon.log"

    @property
    def db_dir(self) -> Path:
        return self.state_dir / "db"

    @property
    def target_dir(self) -> Path:
        """The daemon's own cargo target dir: never contends for the user's build lock."""
        return self.state_dir / "target"
