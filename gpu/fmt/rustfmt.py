"""The installed rustfmt, run over stdin (which never follows ``mod x;`` into other files).

Two uses: a whole file (``format_source``), and a batch of independent top-level units from
many files in ONE process (``format_units``): units are separated by marker line comments, and
rustfmt keeps a line comment between items on its own line and treats it as a boundary for
import/module reordering (checked: a comment ends a reorder group like a blank line does), so
each unit comes back formatted exactly as it would be in place. Every rustfmt call runs with the
resolved config's ``--edition``/``--config-path`` and in the file's directory, so rustfmt's own
config lookup could only find the same file.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tomllib
from collections.abc import Sequence
from pathlib import Path

from .config import FmtConfig

__all__ = [
    "RustfmtError",
    "RustfmtMissing",
    "effective_config",
    "format_source",
    "format_units",
    "rustfmt_version",
    "rustfmt_version_at",
    "rustup_overrides",
    "toolchain_dir",
]

#: A unit boundary no real source contains (checked before use).
MARKER = b"// @@rustg-fmt-unit-boundary@@"


class RustfmtError(Exception):
    """rustfmt refused the input (a syntax error, an invalid config): its stderr, verbatim."""


class RustfmtMissing(RustfmtError):
    """No rustfmt on PATH."""


def _binary() -> str:
    found = os.environ.get("RUSTFMT") or shutil.which("rustfmt")
    if not found:
        raise RustfmtMissing("rustfmt not found on PATH (rustup component add rustfmt)")
    return found


@functools.cache
def rustfmt_version() -> str:
    """``rustfmt --version``: part of every fast-path key (a new rustfmt may format anew)."""
    out = subprocess.run([_binary(), "--version"], capture_output=True, check=True, text=True)
    return out.stdout.strip()


_VERSIONS_AT: dict[tuple[Path, str | None], str | RustfmtError] = {}
_OVERRIDES: dict[Path, tuple[float, dict[Path, str]]] = {}


def rustup_overrides() -> dict[Path, str]:
    """``rustup override set`` directories and their toolchains, from rustup's settings.toml
    (``$RUSTUP_HOME``, by default ~/.rustup). Re-read when the file changes, since an override
    can be set while the daemon runs."""
    home = os.environ.get("RUSTUP_HOME")
    settings = (Path(home) if home else Path.home() / ".rustup") / "settings.toml"
    try:
        mtime = settings.stat().st_mtime
    except OSError:
        return {}
    cached = _OVERRIDES.get(settings)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        table = tomllib.loads(settings.read_text()).get("overrides", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        table = {}
    found = {Path(d): str(t) for d, t in table.items()} if isinstance(table, dict) else {}
    _OVERRIDES[settings] = (mtime, found)
    return found


def toolchain_dir(start: Path) -> Path | None:
    """The nearest directory that picks a rustup toolchain of its own, if any: a
    ``rust-toolchain(.toml)`` file, or a ``rustup override set`` for it. rustup walks up the
    same way, checking both at each level."""
    overrides = rustup_overrides()
    for directory in (start, *start.parents):
        if (
            directory in overrides
            or (directory / "rust-toolchain").is_file()
            or (directory / "rust-toolchain.toml").is_file()
        ):
            return directory
    return None


def rustfmt_version_at(directory: Path) -> str:
    """The version of the rustfmt that runs in ``directory``: a rustup toolchain file or
    override there or above picks another one (or none: jpeg-decoder pins 1.48.0, not
    installed, and every rustfmt call under it fails). Raises RustfmtError when it cannot run
    there."""
    found = toolchain_dir(directory)
    if found is None:
        return rustfmt_version()
    key = (found, rustup_overrides().get(found))  # an override changed: ask again
    known = _VERSIONS_AT.get(key)
    if known is None:
        proc = subprocess.run(
            [_binary(), "--version"], capture_output=True, cwd=found, check=False, text=True
        )
        known = (
            proc.stdout.strip()
            if proc.returncode == 0
            else RustfmtError(proc.stderr.strip().split("\n")[0] or "rustfmt failed")
        )
        _VERSIONS_AT[key] = known
    if isinstance(known, RustfmtError):
        raise known
    return known


def format_source(source: bytes, config: FmtConfig, *, cwd: Path) -> bytes:
    """rustfmt's output for one whole file."""
    try:
        proc = subprocess.run(
            [_binary(), "--emit", "stdout", "--quiet", *config.rustfmt_args()],
            input=source,
            capture_output=True,
            cwd=cwd,
            check=False,
        )
    except OSError as exc:  # its directory gone mid-run (a branch switch), or no binary
        raise RustfmtError(f"cannot run rustfmt in {cwd}: {exc}") from None
    if proc.returncode != 0:
        raise RustfmtError(proc.stderr.decode(errors="replace").strip() or "rustfmt failed")
    # `--emit stdout` prints the text before newline_style is applied (always "\n"); what
    # rustfmt writes to a file (and compares in --check) has the resolved line ending, every
    # "\n" of the text included (rustfmt's apply_newline_style). Checked on CRLF corpus files.
    newline = config.newline_for(source)
    if newline != b"\n":
        return proc.stdout.replace(b"\r\n", b"\n").replace(b"\n", newline)
    return proc.stdout


def format_units(units: Sequence[bytes], config: FmtConfig, *, cwd: Path) -> list[bytes]:
    """rustfmt's output for each unit (one or more top-level items), formatted in one process.

    Raises RustfmtError when the batch fails as a whole (one bad unit fails the batch: callers
    fall back to formatting files one by one, which names the file at fault).
    """
    if not units:
        return []
    if any(MARKER in unit for unit in units):
        raise RustfmtError("a unit contains the batch marker")
    batch = (b"\n" + MARKER + b"\n").join(units) + b"\n"
    out = format_source(batch, config, cwd=cwd)
    parts = out.split(MARKER + b"\n")
    if len(parts) != len(units):
        raise RustfmtError(f"batch came back with {len(parts)} parts for {len(units)} units")
    return [part.strip(b"\n") for part in parts]


def effective_config(config_path: Path, edition: str) -> dict[str, object]:
    """The options rustfmt applies under ``config_path`` (``--print-config current``): every
    option, with the values this rustfmt really uses. An option that is unstable on a stable
    rustfmt comes back as its default (rustfmt warns and ignores it); a deprecated name comes
    back under its new one."""
    try:
        proc = subprocess.run(
            [_binary(), "--print-config", "current", "--edition", edition,
             "--config-path", str(config_path), str(config_path.parent / "rustg-probe.rs")],
            capture_output=True, cwd=config_path.parent, check=False,
        )  # fmt: skip
    except OSError as exc:
        raise RustfmtError(f"cannot run rustfmt in {config_path.parent}: {exc}") from None
    if proc.returncode != 0:
        raise RustfmtError(proc.stderr.decode(errors="replace").strip() or "rustfmt failed")
    try:
        return tomllib.loads(proc.stdout.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RustfmtError(f"rustfmt --print-config: {exc}") from None
