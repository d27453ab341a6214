"""Daemon configuration: defaults, overridden by ``rustg.toml`` at the workspace root or by
``[workspace.metadata.rustg.daemon]`` in the root Cargo.toml (rustg.toml wins).

Unknown keys and wrong types are errors that name the key and the file: a typo must not be
silently ignored.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class Config:
    #: Quiet time per path before a change is acted on: editors write in bursts.
    debounce_ms: int = 30
    #: Extra gitignore-style patterns to ignore, on top of target/, .git/ and .gitignore.
    ignore: tuple[str, ...] = ()
    #: cargo subcommand run on every save: "check" or "clippy".
    check_command: str = "check"
    #: Extra arguments for that command (e.g. ["--features", "gpu"]).
    check_args: tuple[str, ...] = ()
    #: Run cargo on every save (off: only on `run-job`).
    check_on_save: bool = True
    #: Files larger than this are not hashed/parsed on save (reported instead).
    max_file_bytes: int = 8 << 20
    #: Seconds between heartbeats while idle (lets clients notice gaps and liveness).
    heartbeat_s: float = 2.0
    #: Optional loopback TCP port for remote clients (CURVE-secured); 0 disables TCP.
    tcp_port: int = 0
    #: Loopback address for TCP; anything else is refused.
    tcp_host: str = "127.0.0.1"
    sources: tuple[str, ...] = field(default=(), compare=False)


# file key -> (Config attribute, accepted TOML value types)
_KEYS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "debounce_ms": ("debounce_ms", int),
    "ignore": ("ignore", list),
    "check.command": ("check_command", str),
    "check.args": ("check_args", list),
    "check.on_save": ("check_on_save", bool),
    "max_file_bytes": ("max_file_bytes", int),
    "heartbeat_s": ("heartbeat_s", (int, float)),
    "tcp_port": ("tcp_port", int),
    "tcp_host": ("tcp_host", str),
}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _apply(config: Config, table: dict[str, Any], origin: str) -> Config:
    changes: dict[str, Any] = {}
    for key, value in _flatten(table).items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{origin}: unknown key {key!r} (known keys: {known})")
        attr, kind = _KEYS[key]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise ConfigError(f"{origin}: key {key!r} has the wrong type ({type(value).__name__})")
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise ConfigError(f"{origin}: key {key!r} must be a list of strings")
            changes[attr] = tuple(value)
        else:
            changes[attr] = value
    config = replace(config, **changes)
    return _validate(config, origin)


def _validate(config: Config, origin: str) -> Config:
    if config.check_command not in ("check", "clippy"):
        raise ConfigError(f'{origin}: key \'check.command\' must be "check" or "clippy"')
    if not 0 <= config.debounce_ms <= 10_000:
        raise ConfigError(f"{origin}: key 'debounce_ms' must be between 0 and 10000")
    if config.max_file_bytes <= 0:
        raise ConfigError(f"{origin}: key 'max_file_bytes' must be positive")
    if not 0 <= config.tcp_port <= 65534:  # port + 1 carries the events
        raise ConfigError(f"{origin}: key 'tcp_port' must be a port number below 65535")
    try:
        loopback = ipaddress.ip_address(config.tcp_host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(f"{origin}: key 'tcp_host' must be a loopback address (docs/remote.md)")
    return config


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file, or a ConfigError naming it (shared by every config reader)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_config(root: Path) -> Config:
    config = Config()
    sources: list[str] = []
    manifest = root / "Cargo.toml"
    if manifest.is_file():
        data = read_toml(manifest)
        table = data.get("workspace", {}).get("metadata", {}).get("rustg", {}).get("daemon")
        if table is not None:
            origin = f"{manifest} [workspace.metadata.rustg.daemon]"
            if not isinstance(table, dict):
                raise ConfigError(f"{origin}: must be a table")
            config = _apply(config, table, origin)
            sources.append(str(manifest))
    rustg_toml = root / "rustg.toml"
    if rustg_toml.is_file():
        table = read_toml(rustg_toml).get("daemon", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{rustg_toml} [daemon]: must be a table")
        config = _apply(config, table, f"{rustg_toml} [daemon]")
        sources.append(str(rustg_toml))
    return replace(config, sources=tuple(sources))


def describe(config: Config) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}
