"""The Redis tier against a real redis-server: sharing between machines, fill, corruption,
and outages (killed, paused) that degrade to local without blocking, then recover."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
import redis

from rustg.daemon.cache import Cache, LmdbTier, MemoryTier, RedisTier, TierName
from rustg.daemon.cache.blobs import compress, digest_of
from tests.daemon.cache.helpers import key, ptx, warning
from tests.daemon.cache.redis_server import RedisServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def machine(directory: Path, url: str, clock: FakeClock | None = None) -> Cache:
    """One machine's cache: its own memory and LMDB, the shared Redis."""
    remote = RedisTier(url, timeout_s=0.1, retry_after_s=5.0, clock=clock or FakeClock())
    return Cache(memory=MemoryTier(1 << 20), local=LmdbTier.open(directory), remote=remote)


def raw_client(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def test_round_trip_and_sharing_between_machines(tmp_path: Path, redis_server: RedisServer) -> None:
    outputs = {"sm_80/k.ptx": ptx(1), "sm_90/k.ptx": ptx(2)}
    diags = [warning("unused variable")]
    with machine(tmp_path / "alice", redis_server.url) as alice:
        alice.put(key(1), outputs, diags)
    with machine(tmp_path / "ci", redis_server.url) as ci:
        hit = ci.get(key(1))
        assert hit is not None and hit.tier is TierName.REMOTE
        assert hit.outputs == outputs and hit.diagnostics == diags
        # Filled on the way up: the next lookup stops in memory, and LMDB has it too.
        again = ci.get(key(1))
        assert again is not None and again.tier is TierName.MEMORY
        stats = {t.tier: t for t in ci.stats().tiers}
        assert (stats["remote"].hits, stats["local"].fills, stats["memory"].fills) == (1, 1, 1)
        assert (stats["remote"].actions, stats["remote"].blobs) == (1, 2)
        assert stats["remote"].state == "ok"
    with machine(tmp_path / "ci", "redis://127.0.0.1:1/0") as ci_offline:
        hit = ci_offline.get(key(1))
        assert hit is not None and hit.tier is TierName.LOCAL


def test_dedup_in_redis(tmp_path: Path, redis_server: RedisServer) -> None:
    shared = ptx(5)
    with machine(tmp_path / "a", redis_server.url) as cache:
        cache.put(key(1), {"x.ptx": shared})
        cache.put(key(2), {"y.ptx": shared})
        assert cache.remote is not None
        usage = cache.remote.usage()
        assert (usage.actions, usage.blobs) == (2, 1)


def test_corrupt_blob_in_redis_is_a_miss_deleted_then_replaced(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    data = ptx(3)
    with machine(tmp_path / "a", redis_server.url) as alice:
        alice.put(key(3), {"k.ptx": data})
    client = raw_client(redis_server)
    blob_name = f"rustg:cache:1:b:{digest_of(data)}"
    client.set(blob_name, compress(b"something else entirely"))
    with machine(tmp_path / "b", redis_server.url) as bob, caplog.at_level(logging.WARNING):
        assert bob.get(key(3)) is None
        assert "corrupt blob" in caplog.text
        assert client.get(blob_name) is None
        assert client.get(f"rustg:cache:1:a:{key(3).hex}") is None
        assert {t.tier: t.corrupt_repaired for t in bob.stats(usage=False).tiers}["remote"] == 1
        bob.put(key(3), {"k.ptx": data})  # bob rebuilt it
    with machine(tmp_path / "c", redis_server.url) as carol:
        hit = carol.get(key(3))
        assert hit is not None and hit.tier is TierName.REMOTE and hit.outputs == {"k.ptx": data}
    client.close()


def test_corrupt_manifest_in_redis_is_a_miss(tmp_path: Path, redis_server: RedisServer) -> None:
    with machine(tmp_path / "a", redis_server.url) as alice:
        alice.put(key(4), {"k.ptx": ptx(4)})
    client = raw_client(redis_server)
    client.setrange(f"rustg:cache:1:a:{key(4).hex}", 40, b"\xff\xff")
    with machine(tmp_path / "b", redis_server.url) as bob:
        assert bob.get(key(4)) is None
    assert client.get(f"rustg:cache:1:a:{key(4).hex}") is None
    client.close()


def test_verify_remote(tmp_path: Path, redis_server: RedisServer) -> None:
    with machine(tmp_path / "a", redis_server.url) as cache:
        for n in range(3):
            cache.put(key(n), {"k.ptx": ptx(n)})
        client = raw_client(redis_server)
        client.set(f"rustg:cache:1:b:{digest_of(ptx(1))}", b"rot")
        local_only = cache.verify()
        assert [t.tier for t in local_only.tiers] == ["memory", "local"]
        assert local_only.problems == 0
        report = cache.verify(remote=True)
        remote = {t.tier: t for t in report.tiers}["remote"]
        assert (remote.blobs_checked, remote.blobs_corrupt, remote.actions_dangling) == (3, 1, 1)
        assert client.get(f"rustg:cache:1:a:{key(1).hex}") is None
        client.close()


def test_killed_redis_degrades_to_local_then_recovers(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    cache = machine(tmp_path / "a", redis_server.url, clock)
    assert cache.remote is not None
    cache.put(key(0), {"k.ptx": ptx(0)})
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="rustg.daemon.cache"):
        started = time.monotonic()
        for n in range(1, 41):
            cache.put(key(n), {"k.ptx": ptx(n)})
            assert cache.get(key(n)) is not None  # served locally
            assert cache.get(key(1000 + n)) is None
        elapsed = time.monotonic() - started
    # 120 calls with Redis dead: no retry loops, no waiting (the first failure is a refused
    # connection; the breaker skips the rest).
    assert elapsed < 1.0, elapsed
    outage_warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(outage_warnings) == 1
    assert "builds continue with the local cache" in outage_warnings[0].getMessage()
    remote = {t.tier: t for t in cache.stats().tiers}["remote"]
    assert remote.state == "down" and remote.outages == 1
    # 40 puts and 40 misses reached for Redis (the hits stopped in memory): one failed, the
    # other 79 were skipped by the breaker.
    assert (remote.errors, remote.skipped) == (1, 79)
    assert remote.last_error is not None

    # Back on the same port (empty: no persistence). Until the retry time, still skipped.
    redis_server.start()
    cache.put(key(100), {"k.ptx": ptx(100)})
    client = raw_client(redis_server)
    assert client.get(f"rustg:cache:1:a:{key(100).hex}") is None
    clock.now += 5.0
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rustg.daemon.cache"):
        cache.put(key(101), {"k.ptx": ptx(101)})
    assert "is back" in caplog.text
    assert client.get(f"rustg:cache:1:a:{key(101).hex}") is not None
    assert {t.tier: t.state for t in cache.stats(usage=False).tiers}["remote"] == "ok"
    client.close()
    cache.close()


def test_paused_redis_costs_one_timeout_per_outage(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGSTOP: the kernel still accepts connections, nothing answers (a hung server)."""
    clock = FakeClock()
    cache = machine(tmp_path / "a", redis_server.url, clock)
    cache.put(key(0), {"k.ptx": ptx(0)})
    redis_server.pause()
    try:
        durations = []
        with caplog.at_level(logging.WARNING, logger="rustg.daemon.cache"):
            for n in range(1, 21):
                started = time.monotonic()
                assert cache.get(key(1000 + n)) is None
                cache.put(key(n), {"k.ptx": ptx(n)})
                durations.append(time.monotonic() - started)
        assert durations[0] < 0.5  # one 100 ms socket timeout, not redis-py's retries
        # Then skipped: paying the timeout on each would take 19 x 2 x 100 ms = 3.8 s. (The
        # bound leaves room for a loaded 2-core CI machine's scheduling.)
        assert sum(durations[1:]) < 0.8
        assert sum("unavailable" in r.getMessage() for r in caplog.records) == 1
        assert cache.remote is not None
        assert "Timeout" in (cache.remote.breaker.last_error or "")
    finally:
        redis_server.resume()
    clock.now += 5.0
    cache.put(key(50), {"k.ptx": ptx(50)})
    client = raw_client(redis_server)
    assert client.get(f"rustg:cache:1:a:{key(50).hex}") is not None
    client.close()
    # The replies the paused server sent late went to connections that were dropped on the
    # timeout, not to later calls: what another machine put reads back right.
    with machine(tmp_path / "b", redis_server.url) as other:
        other.put(key(60), {"k.ptx": ptx(60)})
    hit = cache.get(key(60))
    assert hit is not None and hit.tier is TierName.REMOTE and hit.outputs == {"k.ptx": ptx(60)}
    cache.close()


def test_concurrent_use_from_threads(tmp_path: Path, redis_server: RedisServer) -> None:
    """The daemon calls the cache from worker threads (trio.to_thread)."""
    cache = machine(tmp_path / "a", redis_server.url)
    failures: list[str] = []

    def work(worker: int) -> None:
        for n in range(worker * 100, worker * 100 + 40):
            cache.put(key(n), {"k.ptx": ptx(n)}, [warning(str(n))])
            hit = cache.get(key(n))
            if hit is None or hit.outputs != {"k.ptx": ptx(n)}:
                failures.append(f"{n}: {hit}")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    stats = cache.stats()
    assert (stats.puts, stats.hits, stats.misses) == (160, 160, 0)
    assert {t.tier: t.actions for t in stats.tiers}["remote"] == 160
    cache.close()


def test_remote_health(tmp_path: Path, redis_server: RedisServer) -> None:
    with machine(tmp_path / "a", redis_server.url) as cache:
        rows = {tier: (state, detail) for tier, state, detail in cache.health()}
        assert rows["remote"][0] == "ok" and "PING" in rows["remote"][1]
        redis_server.kill()
        rows = {tier: (state, detail) for tier, state, detail in cache.health()}
        assert rows["remote"][0] == "down"
        assert rows["local"][0] == "ok"


def test_entry_is_kept_while_the_tier_with_its_blob_is_down(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """An LMDB entry whose blob only Redis still has: a miss while Redis is down (not deleted,
    it is not broken), a hit once Redis is back, and LMDB gets the blob back."""
    clock = FakeClock()
    data = ptx(7)
    cache = machine(tmp_path / "a", redis_server.url, clock)
    assert cache.local is not None and cache.memory is not None
    cache.put(key(7), {"k.ptx": data})
    cache.local.delete_blobs([digest_of(data)])
    cache.memory.clear()
    redis_server.pause()
    try:
        assert cache.get(key(7)) is None
    finally:
        redis_server.resume()
    assert cache.local.get_action(key(7).digest) is not None
    clock.now += 5.0
    hit = cache.get(key(7))
    assert hit is not None and hit.tier is TierName.LOCAL and hit.outputs == {"k.ptx": data}
    assert cache.local.get_blobs([digest_of(data)]) != [None]
    cache.close()
