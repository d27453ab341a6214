"""Cache configuration: ``[cache]`` in ``rustg.toml``, or ``[workspace.metadata.rustg.cache]``
(or ``[package.metadata.rustg.cache]``) in the root Cargo.toml; rustg.toml wins, and the
environment variable ``RUSTG_CACHE_REDIS`` overrides the Redis URL of both (an empty value
turns the remote tier off, e.g. for one offline build).

```toml
[workspace.metadata.rustg.cache]
redis = "redis://cache.example.internal:6379/0"   # off when absent
memory_size = "128M"       # in-process LRU
max_size = "2G"            # default target of `cargo g cache gc`
redis_timeout_ms = 100     # per Redis call (connect and each read/write)
redis_retry_s = 10         # pause after a Redis failure before trying again
```

Unknown keys and wrong types are errors that name the key and the file, as in
``rustg.daemon.config``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from ..config import read_toml
from ..errors import ConfigError

REDIS_ENV: Final = "RUSTG_CACHE_REDIS"
REDIS_SCHEMES: Final = ("redis", "rediss", "unix")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@dataclass(frozen=True, slots=True)
class CacheConfig:
    redis_url: str | None = None
    memory_size: int = 64 << 20
    max_size: int | None = None
    #: 100 ms: a loopback or LAN Redis answers in well under a millisecond (bench/
    #: bench_cache.py), so a call this slow means trouble, and a build that pays it once per
    #: outage (the breaker then skips Redis) does not notice.
    redis_timeout_ms: int = 100
    redis_retry_s: float = 10.0
    sources: tuple[str, ...] = ()


def parse_size(value: str | int, what: str = "size") -> int:
    """Bytes in ``value``: an integer, or a number with a binary unit (``500M``, ``2G``,
    ``1.5GiB``, ``64k``). ValueError names ``what`` when it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a size such as 500M or 2G, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}: a size cannot be negative")
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{what}: expected a size such as 500M or 2G, got {value!r}")
    number, unit, _ = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


def validate_redis_url(url: str, origin: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"{origin}: 'redis' must be a redis://, rediss:// or unix:// URL, got {url!r}"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"{origin}: 'redis' URL {url!r} names no host")
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError(f"{origin}: 'redis' URL {url!r} has an invalid port") from None
    return url


def _apply(config: CacheConfig, table: Mapping[str, Any], origin: str) -> CacheConfig:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key == "redis":
            if not isinstance(value, str):
                raise ConfigError(f"{origin}: key 'redis' must be a string (a redis:// URL)")
            changes["redis_url"] = validate_redis_url(value, origin) if value else None
        elif key in ("memory_size", "max_size"):
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ConfigError(f'{origin}: key {key!r} must be a size such as "2G"')
            try:
                changes[key] = parse_size(value, key)
            except ValueError as exc:
                raise ConfigError(f"{origin}: key {exc}") from None
        elif key == "redis_timeout_ms":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
                raise ConfigError(f"{origin}: key 'redis_timeout_ms' must be 1..10000")
            changes[key] = value
        elif key == "redis_retry_s":
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{origin}: key 'redis_retry_s' must be a positive number")
            changes[key] = float(value)
        else:
            known = "max_size, memory_size, redis, redis_retry_s, redis_timeout_ms"
            raise ConfigError(f"{origin}: unknown key {key!r} (known keys: {known})")
    return replace(config, **changes)


def _table(data: Mapping[str, Any], *path: str) -> Any:
    found: Any = data
    for part in path:
        if not isinstance(found, Mapping):
            return None
        found = found.get(part)
    return found


def load_cache_config(root: Path, environ: Mapping[str, str] | None = None) -> CacheConfig:
    environ = os.environ if environ is None else environ
    config = CacheConfig()
    sources: list[str] = []
    manifest = root / "Cargo.toml"
    if manifest.is_file():
        data = read_toml(manifest)
        for section in ("workspace", "package"):
            table = _table(data, section, "metadata", "rustg", "cache")
            if table is None:
                continue
            origin = f"{manifest} [{section}.metadata.rustg.cache]"
            if not isinstance(table, dict):
                raise ConfigError(f"{origin}: must be a table")
            config = _apply(config, table, origin)
            sources.append(origin)
    rustg_toml = root / "rustg.toml"
    if rustg_toml.is_file():
        table = read_toml(rustg_toml).get("cache")
        if table is not None:
            origin = f"{rustg_toml} [cache]"
            if not isinstance(table, dict):
                raise ConfigError(f"{origin}: must be a table")
            config = _apply(config, table, origin)
            sources.append(origin)
    override = environ.get(REDIS_ENV)
    if override is not None:
        url = (
            validate_redis_url(override, f"environment variable {REDIS_ENV}") if override else None
        )
        config = replace(config, redis_url=url)
        sources.append(f"${REDIS_ENV}")
    return replace(config, sources=tuple(sources))
