"""``cargo g cache stats|gc|verify`` through the real argument parser, on a real cache."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from rustg.cli.cache_commands import add_cache_commands, human_size, render_stats, render_verify
from rustg.cli.errors import CliError
from rustg.daemon.cache import (
    Cache,
    CacheStats,
    TierStats,
    TierVerify,
    VerifyReport,
    load_cache_config,
)
from rustg.daemon.workspace import WorkspacePaths
from tests.daemon.cache.helpers import key, ptx
from tests.daemon.cache.redis_server import RedisServer


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("RUSTG_CACHE_REDIS", raising=False)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "Cargo.toml").write_text('[package]\nname = "ws"\nversion = "0.1.0"\n')
    return root


def run(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="cargo g")
    sub = parser.add_subparsers(dest="command", required=True)
    handlers: dict[str, Callable[..., int]] = {}
    add_cache_commands(sub, handlers)
    args = parser.parse_args(argv)
    out = io.StringIO()
    code = handlers[args.command](args, Console(file=out, width=200, color_system=None))
    return code, out.getvalue()


def fill(root: Path, count: int) -> None:
    paths = WorkspacePaths.for_root(root)
    with Cache.open(paths, load_cache_config(root)) as cache:
        for n in range(count):
            cache.put(key(n), {"k.ptx": ptx(n, size=20_000)})
        cache.get(key(0))
        cache.get(key(10_000))


def test_stats_json_and_text(workspace: Path) -> None:
    fill(workspace, 4)
    code, out = run(["cache", "stats", "--json", "--workspace", str(workspace)])
    assert code == 0
    stats = json.loads(out)
    assert (stats["lookups"], stats["hits"], stats["misses"], stats["puts"]) == (2, 1, 1, 4)
    assert stats["hit_rate"] == 0.5
    local = {t["tier"]: t for t in stats["tiers"]}["local"]
    assert (local["actions"], local["blobs"]) == (4, 4)
    assert str(WorkspacePaths.for_root(workspace).state_dir / "cache") in local["where"]
    code, out = run(["cache", "stats", "--workspace", str(workspace)])
    assert code == 0
    local_line = next(line for line in out.splitlines() if line.strip().startswith("local"))
    # hits misses corrupt errors actions blobs (the one hit stopped in memory)
    assert local_line.split()[:8] == ["local", "ok", "0", "1", "0", "0", "4", "4"]
    assert local_line.endswith("KiB  ")
    assert f"local: LMDB at {WorkspacePaths.for_root(workspace).state_dir / 'cache'}" in out
    assert "2 lookups, 1 hits, 1 misses (hit rate 50.0%); 4 puts" in out


def test_stats_reports_a_dead_remote(workspace: Path, tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "r")  # a free port nobody listens on
    (workspace / "rustg.toml").write_text(f'[cache]\nredis = "{server.url}"\n')
    code, out = run(["cache", "stats", "--json", "--workspace", str(workspace)])
    assert code == 0
    remote = {t["tier"]: t for t in json.loads(out)["tiers"]}["remote"]
    assert remote["state"] == "down" and "Connection refused" in remote["last_error"]


def test_gc_accepts_sizes(workspace: Path) -> None:
    fill(workspace, 8)
    code, out = run(["cache", "gc", "--max-size", "500M", "--json", "--workspace", str(workspace)])
    assert code == 0 and json.loads(out)["actions_removed"] == 0
    code, out = run(["cache", "gc", "--max-size", "2k", "--json", "--workspace", str(workspace)])
    report = json.loads(out)
    assert report["bytes_after"] <= 2 << 10 < report["bytes_before"]
    assert report["actions_removed"] >= 3
    code, out = run(["cache", "gc", "--max-size", "0", "--workspace", str(workspace)])
    assert code == 0 and "→ 0 B" in out


def test_gc_needs_a_size(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CliError, match="--max-size"):
        run(["cache", "gc", "--workspace", str(workspace)])
    (workspace / "rustg.toml").write_text('[cache]\nmax_size = "1M"\n')
    code, out = run(["cache", "gc", "--json", "--workspace", str(workspace)])
    assert code == 0 and json.loads(out)["max_size"] == 1 << 20
    with pytest.raises(SystemExit):
        run(["cache", "gc", "--max-size", "huge", "--workspace", str(workspace)])
    assert "expected a size such as 500M" in capsys.readouterr().err


def test_verify(workspace: Path) -> None:
    fill(workspace, 3)
    code, out = run(["cache", "verify", "--json", "--workspace", str(workspace)])
    assert code == 0
    report = json.loads(out)
    assert report["problems"] == 0
    assert {t["tier"]: t["blobs_checked"] for t in report["tiers"]}["local"] == 3
    paths = WorkspacePaths.for_root(workspace)
    with Cache.open(paths) as cache:
        assert cache.local is not None
        with cache.local.env.begin(write=True) as txn:
            digest = next(iter(txn.cursor(db=cache.local._blobs)))[0]
            txn.put(digest, b"rot", db=cache.local._blobs)
    code, out = run(["cache", "verify", "--workspace", str(workspace)])
    assert code == 1
    assert "2 problem(s) found and removed" in out
    code, out = run(["cache", "verify", "--workspace", str(workspace)])
    assert code == 0 and "every blob and entry checked out" in out


def test_human_size() -> None:
    assert [human_size(n) for n in (None, 0, 1023, 1536, 5 << 20, 3 << 40)] == [
        "-", "0 B", "1023 B", "1.5 KiB", "5.0 MiB", "3072.0 GiB",
    ]  # fmt: skip


def rendered(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(renderable)
    return out.getvalue()


def test_render_stats_exact() -> None:
    def row(tier: str, state: str, **figures: int | None) -> TierStats:
        return TierStats(tier=tier, where="", state=state, hits=figures.pop("hits", 0),
                         misses=figures.pop("misses", 0), corrupt_repaired=0, fills=0,
                         errors=figures.pop("errors", 0), **figures)  # fmt: skip

    stats = CacheStats(
        lookups=10, hits=8, misses=2, hit_rate=0.8, puts=2, put_bytes=64000, session={},
        tiers=[
            row("memory", "ok", hits=5, misses=5, actions=3, blobs=4, bytes=12345),
            row("local", "ok", hits=3, misses=2, actions=7, blobs=9, bytes=5 << 20),
            row("remote", "down", misses=2, errors=1, skipped=4),
        ],
    )  # fmt: skip
    assert rendered(render_stats(stats)).splitlines() == [
        "                           cargo g cache stats                            ",
        "                                                                          ",
        "  tier    state  hits  misses  corrupt  errors  actions  blobs      size  ",
        " ──────────────────────────────────────────────────────────────────────── ",
        "  memory  ok        5       5        0       0        3      4  12.1 KiB  ",
        "  local   ok        3       2        0       0        7      9   5.0 MiB  ",
        "  remote  down      0       2        0       5        -      -         -  ",
        "                                                                          ",
    ]


def test_render_verify_exact() -> None:
    report = VerifyReport(tiers=[
        TierVerify(tier="local", blobs_checked=9, blobs_corrupt=1, actions_checked=7,
                   actions_dangling=1),
    ])  # fmt: skip
    assert rendered(render_verify(report)).splitlines() == [
        "                           cargo g cache verify                            ",
        "                                                                           ",
        "  tier   blobs  corrupt blobs  actions  corrupt actions  dangling actions  ",
        " ───────────────────────────────────────────────────────────────────────── ",
        "  local      9              1        7                0                 1  ",
        "                                                                           ",
    ]
