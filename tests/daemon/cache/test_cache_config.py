"""Cache configuration: where it is read from, sizes, and errors naming key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustg.daemon.cache import CacheConfig, load_cache_config, parse_size
from rustg.daemon.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "size"),
    [("500M", 500 << 20), ("2G", 2 << 30), ("2g", 2 << 30), ("1.5GiB", 3 << 29),
     ("64k", 64 << 10), ("123", 123), (4096, 4096), ("10 MB", 10 << 20)],
)  # fmt: skip
def test_parse_size(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "12X", "-5M", "lots", True])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="--max-size"):
        parse_size(text, "--max-size")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_config(tmp_path: Path) -> None:
    assert load_cache_config(tmp_path, environ={}) == CacheConfig()


def test_cargo_metadata_then_rustg_toml_then_environment(tmp_path: Path) -> None:
    write(tmp_path / "Cargo.toml", """
[workspace]
members = []
[workspace.metadata.rustg.cache]
redis = "redis://cache.internal:6379/0"
memory_size = "128M"
max_size = "2G"
redis_timeout_ms = 50
""")  # fmt: skip
    config = load_cache_config(tmp_path, environ={})
    assert config.redis_url == "redis://cache.internal:6379/0"
    assert (config.memory_size, config.max_size, config.redis_timeout_ms) == (
        128 << 20, 2 << 30, 50,
    )  # fmt: skip
    write(tmp_path / "rustg.toml", '[cache]\nredis = "redis://other:6380/1"\nredis_retry_s = 3\n')
    config = load_cache_config(tmp_path, environ={})
    assert config.redis_url == "redis://other:6380/1"
    assert config.redis_retry_s == 3.0 and config.memory_size == 128 << 20
    assert len(config.sources) == 2
    env = load_cache_config(tmp_path, environ={"RUSTG_CACHE_REDIS": "redis://ci:1/0"})
    assert env.redis_url == "redis://ci:1/0"
    off = load_cache_config(tmp_path, environ={"RUSTG_CACHE_REDIS": ""})
    assert off.redis_url is None


def test_package_metadata(tmp_path: Path) -> None:
    write(tmp_path / "Cargo.toml", '[package]\nname = "k"\n'
          '[package.metadata.rustg.cache]\nredis = "rediss://secure:6380"\n')  # fmt: skip
    assert load_cache_config(tmp_path, environ={}).redis_url == "rediss://secure:6380"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('redis = "http://x"', "'redis' must be a redis://"),
        ("redis = 5", "key 'redis' must be a string"),
        ('redis = "redis://:6379"', "names no host"),
        ('redis = "redis://h:99999"', "invalid port"),
        ('memory_size = "lots"', "key memory_size: expected a size"),
        ("max_size = true", "key 'max_size' must be a size"),
        ("redis_timeout_ms = 0", "'redis_timeout_ms' must be 1..10000"),
        ("redis_retry_s = -1", "'redis_retry_s' must be a positive number"),
        ('reddis = "redis://x"', "unknown key 'reddis'"),
    ],
)
def test_invalid_config_names_key_and_file(tmp_path: Path, table: str, message: str) -> None:
    path = write(tmp_path / "rustg.toml", f"[cache]\n{table}\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_cache_config(tmp_path, environ={})
    assert f"{path} [cache]" in str(info.value)


def test_invalid_environment_override_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RUSTG_CACHE_REDIS"):
        load_cache_config(tmp_path, environ={"RUSTG_CACHE_REDIS": "localhost:6379"})


def test_cache_section_must_be_a_table(tmp_path: Path) -> None:
    path = write(tmp_path / "Cargo.toml", '[workspace.metadata.rustg]\ncache = "redis://x"\n')
    with pytest.raises(ConfigError, match="must be a table") as info:
        load_cache_config(tmp_path, environ={})
    assert str(path) in str(info.value)
