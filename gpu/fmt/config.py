"""rustfmt configuration as the formatter sees it: found, read and resolved the way rustfmt does.

Lookup (rustfmt 1.x, ``config::get_toml_path`` / ``resolve_project_file``): starting in the
directory of the file being formatted and walking up to the root, the first directory holding
``.rustfmt.toml`` or ``rustfmt.toml`` (in that order) wins; if none does, ``$HOME`` and then
``$XDG_CONFIG_HOME/rustfmt`` (``~/.config/rustfmt``) are tried. Only one file is read: rustfmt
does not merge configs.

Edition: as ``cargo fmt`` does, the ``edition`` key of the config wins, else the edition of the
nearest ``Cargo.toml`` with a ``[package]`` table, else 2015 (rustfmt's own default). The
formatter always passes the resolved edition and config path to rustfmt explicitly, so a
delegated item is formatted under exactly the configuration the native printer assumed.

Native coverage is decided here: the native printer knows :data:`NATIVE_OPTIONS`; a config with
any other key, or a known key with a value it does not model, sets ``native_allowed = False``
and the whole file goes to rustfmt (which also reports invalid configs itself: a bad value is
rustfmt's error to word, not ours to guess).
"""

from __future__ import annotations

import enum
import functools
import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import blake3

__all__ = [
    "CONFIG_FILE_NAMES",
    "NATIVE_OPTIONS",
    "PER_ITEM_OPTIONS",
    "FmtConfig",
    "FmtConfigError",
    "FnParamsLayout",
    "NewlineStyle",
    "SmallHeuristics",
    "find_config_file",
    "load_fmt_config",
]

#: rustfmt's ``CONFIG_FILE_NAMES``, in its order of preference within one directory.
CONFIG_FILE_NAMES: Final = (".rustfmt.toml", "rustfmt.toml")

EDITIONS: Final = ("2015", "2018", "2021", "2024")


class FmtConfigError(Exception):
    """A rustfmt config or manifest that cannot be read at all (I/O, not TOML, not a table)."""


class NewlineStyle(enum.Enum):
    AUTO = "Auto"  # the first line ending found in the input decides (rustfmt: Auto)
    NATIVE = "Native"  # "\r\n" on Windows, "\n" elsewhere
    UNIX = "Unix"
    WINDOWS = "Windows"


class SmallHeuristics(enum.Enum):
    DEFAULT = "Default"
    OFF = "Off"
    MAX = "Max"


class FnParamsLayout(enum.Enum):
    TALL = "Tall"
    COMPRESSED = "Compressed"
    VERTICAL = "Vertical"


# key -> validator returning the typed value, or None when the value is not one the native
# printer models (then the file goes to rustfmt, which will accept or reject it itself).
def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _enum(kind: type[enum.Enum]) -> Any:
    def parse(value: Any) -> enum.Enum | None:
        if not isinstance(value, str):
            return None
        for member in kind:
            # rustfmt's config enums deserialize case-insensitively ("unix" works).
            if member.value.lower() == value.lower():
                return member
        return None

    return parse


def _edition(value: Any) -> str | None:
    return value if isinstance(value, str) and value in EDITIONS else None


_VALIDATORS: Final[dict[str, Any]] = {
    "max_width": _int,
    "hard_tabs": _bool,
    "tab_spaces": _int,
    "newline_style": _enum(NewlineStyle),
    "edition": _edition,
    "use_small_heuristics": _enum(SmallHeuristics),
    "reorder_imports": _bool,
    "fn_params_layout": _enum(FnParamsLayout),
    # Output-neutral: rustfmt fails instead of printing when a line is over max_width. The
    # driver sends a file whose assembled output has such a line to rustfmt (it reports it).
    "error_on_line_overflow": _bool,
}

#: The options the native printer models; anything else sends the file to rustfmt.
NATIVE_OPTIONS: Final = frozenset(_VALIDATORS)

#: Deprecated spellings rustfmt still reads as another option (it warns).
_ALIASES: Final = {"fn_args_layout": "fn_params_layout"}

#: Options that change only one construct, which the native printer then refuses item by item
#: (native.py ``_PER_ITEM``): with the option on, an item without the construct prints as
#: under the default (rustfmt 1.9: use_try_shorthand rewrites `try!(e)` as `e?`,
#: use_field_init_shorthand `a: a` as `a` in struct literals; nothing else reads them).
PER_ITEM_OPTIONS: Final = frozenset({"use_try_shorthand", "use_field_init_shorthand"})


@dataclass(frozen=True, slots=True)
class FmtConfig:
    max_width: int = 100
    hard_tabs: bool = False
    tab_spaces: int = 4
    newline_style: NewlineStyle = NewlineStyle.AUTO
    edition: str = "2015"
    use_small_heuristics: SmallHeuristics = SmallHeuristics.DEFAULT
    reorder_imports: bool = True
    fn_params_layout: FnParamsLayout = FnParamsLayout.TALL
    error_on_line_overflow: bool = False
    #: False when the config has an option (or value) the native printer does not model.
    native_allowed: bool = True
    #: The config file in force (passed to rustfmt as --config-path), or None for defaults.
    path: Path | None = None
    #: Options that disabled native formatting, for --stats and diagnostics.
    unsupported: tuple[str, ...] = ()
    #: Options the printer does not model that rustfmt says change nothing here.
    neutral: tuple[str, ...] = ()
    #: PER_ITEM_OPTIONS set to true: the native printer refuses items with their construct.
    per_item: tuple[str, ...] = ()
    #: The raw table as read (every key, supported or not): part of the cache key.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def indent_unit(self) -> str:
        """One level of block indentation."""
        return "\t" if self.hard_tabs else " " * self.tab_spaces

    def newline_for(self, source: bytes) -> bytes:
        """The line ending rustfmt writes for this input (``newline_style`` resolved)."""
        if self.newline_style is NewlineStyle.WINDOWS:
            return b"\r\n"
        if self.newline_style is NewlineStyle.AUTO:
            # rustfmt's auto_detect_newline_style: the first "\n" decides, CRLF if "\r" precedes.
            first = source.find(b"\n")
            if first > 0 and source[first - 1 : first] == b"\r":
                return b"\r\n"
            return b"\n"
        return b"\r\n" if self.newline_style is NewlineStyle.NATIVE and os.name == "nt" else b"\n"

    def rustfmt_args(self) -> list[str]:
        """Arguments that make rustfmt use exactly this configuration, wherever it runs."""
        args = ["--edition", self.edition]
        if self.path is not None:
            args += ["--config-path", str(self.path)]
        return args

    def digest(self) -> str:
        """Stable identity of everything in the config that can change rustfmt's output."""
        hasher = blake3.blake3()
        hasher.update(f"edition={self.edition}\n".encode())
        for key in sorted(self.raw):
            hasher.update(f"{key}={self.raw[key]!r}\n".encode())
        return hasher.hexdigest()


def _candidate_dirs(start: Path, env: Mapping[str, str]) -> list[Path]:
    dirs = [start, *start.parents]
    home = env.get("HOME")
    if home:
        dirs.append(Path(home))
    xdg = env.get("XDG_CONFIG_HOME") or (f"{home}/.config" if home else "")
    if xdg:
        dirs.append(Path(xdg) / "rustfmt")
    return dirs


def find_config_file(start: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """The rustfmt config that applies to files in directory ``start`` (see module doc)."""
    environ = os.environ if env is None else env
    for directory in _candidate_dirs(start, environ):
        for name in CONFIG_FILE_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def _read_table(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FmtConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FmtConfigError(f"{path}: invalid TOML: {exc}") from None


def _manifest_edition(start: Path) -> str | None:
    for directory in [start, *start.parents]:
        manifest = directory / "Cargo.toml"
        if manifest.is_file():
            try:
                package = _read_table(manifest).get("package")
            except FmtConfigError:
                return None  # cargo would fail on it too; rustfmt's default applies
            if isinstance(package, dict):
                edition = package.get("edition", "2015")
                return edition if isinstance(edition, str) else None
            # a virtual workspace manifest: keep walking (cargo fmt would not reach here)
    return None


def config_from_table(
    table: Mapping[str, Any], *, path: Path | None, manifest_edition: str | None
) -> FmtConfig:
    """Resolve a parsed rustfmt.toml table (pure: no file access)."""
    values: dict[str, Any] = {}
    unsupported: list[str] = []
    per_item: list[str] = []
    for key, value in table.items():
        name = _ALIASES.get(key, key)
        if key in PER_ITEM_OPTIONS and isinstance(value, bool):
            per_item += [key] if value else []
            continue
        validator = _VALIDATORS.get(name)
        parsed = validator(value) if validator is not None else None
        if parsed is None or name in values:  # both spellings given: rustfmt's to resolve
            unsupported.append(key)
        else:
            values[name] = parsed
    if "edition" not in values:
        edition = manifest_edition or "2015"
        if edition in EDITIONS:
            values["edition"] = edition
        else:
            unsupported.append("edition")
    return FmtConfig(
        **values,
        native_allowed=not unsupported,
        path=path,
        unsupported=tuple(sorted(unsupported)),
        per_item=tuple(sorted(per_item)),
        raw=dict(table),
    )


def load_fmt_config(file: Path, env: Mapping[str, str] | None = None) -> FmtConfig:
    """The configuration rustfmt (run as ``cargo fmt`` does) applies to ``file``."""
    start = file.resolve().parent
    path = find_config_file(start, env)
    table = _read_table(path) if path is not None else {}
    config = config_from_table(table, path=path, manifest_edition=_manifest_edition(start))
    if (
        path is not None
        and config.error_on_line_overflow
        and not _applied(path, config.digest(), config.edition, "error_on_line_overflow")
    ):
        # An unstable option: a stable rustfmt warns and ignores it (its --print-config current
        # says false), so nothing fails and nothing need go to rustfmt for a long line.
        config = replace(config, error_on_line_overflow=False)
    if (
        path is not None
        and config.unsupported
        and not any(
            _ALIASES.get(key, key) in _VALIDATORS or key in PER_ITEM_OPTIONS
            for key in config.unsupported
        )
        and _neutral(path, config.digest(), config.edition)
    ):
        # Only options the native printer does not know, and rustfmt itself says they change
        # nothing here (unstable ones on a stable rustfmt, a deprecated alias of a default).
        return replace(config, native_allowed=True, unsupported=(), neutral=config.unsupported)
    return config


@functools.lru_cache(maxsize=256)
def _neutral(path: Path, digest: str, edition: str) -> bool:
    """Whether rustfmt applies exactly the same options under ``path`` as under its
    natively modelled options alone (``digest``: the config's, so an edited file is asked
    again). Any failure to ask counts as no."""
    from .rustfmt import RustfmtError, effective_config

    del digest
    try:
        table = _read_table(path)
        subset = {
            key: value
            for key, value in table.items()
            if _ALIASES.get(key, key) in _VALIDATORS or key in PER_ITEM_OPTIONS
        }
        subset.pop("edition", None)  # passed explicitly, as on every rustfmt call
        with tempfile.TemporaryDirectory(prefix="rustg-fmt-config-") as tmp:
            reference = Path(tmp) / "rustfmt.toml"
            reference.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in subset.items()))
            return effective_config(path, edition) == effective_config(reference, edition)
    except (RustfmtError, FmtConfigError, OSError, ValueError):
        return False


@functools.lru_cache(maxsize=256)
def _applied(path: Path, digest: str, edition: str, option: str) -> bool:
    """Whether rustfmt applies ``option`` as true under ``path`` (``digest``: as in
    :func:`_neutral`). Any failure to ask counts as yes."""
    from .rustfmt import RustfmtError, effective_config

    del digest
    try:
        return effective_config(path, edition).get(option) is not False
    except (RustfmtError, OSError):
        return True


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for any JSON string
    raise ValueError(f"not a scalar: {value!r}")
