"""Memory and LMDB tiers through the cache front: round trips, fall-through fill, dedup,
corruption (a miss, deleted, repaired), gc and verify. Real LMDB in a temporary directory."""

from __future__ import annotations

import logging
from pathlib import Path

import lmdb
import pytest

from rustg.daemon.cache import Cache, CacheConfig, LmdbTier, MemoryTier, TierName
from rustg.daemon.cache.blobs import digest_of
from rustg.daemon.errors import CacheError
from rustg.daemon.workspace import WorkspacePaths
from tests.daemon.cache.helpers import key, ptx, warning


def local_cache(directory: Path, memory: int = 1 << 20) -> Cache:
    return Cache.open_dir(directory, CacheConfig(memory_size=memory))


def test_put_get_round_trip_with_diagnostics(tmp_path: Path) -> None:
    diags = [warning("unused variable: `n`"), warning("unused variable: `m`", line=9)]
    outputs = {"sm_80/k.ptx": ptx(1), "sm_90/k.ptx": ptx(2), "empty.log": b""}
    with local_cache(tmp_path / "c") as cache:
        assert cache.get(key(1)) is None
        cache.put(key(1), outputs, diags)
        hit = cache.get(key(1))
        assert hit is not None
        assert hit.outputs == outputs
        assert hit.diagnostics == diags
        assert hit.tier is TierName.MEMORY
        assert hit.size == sum(map(len, outputs.values()))
        assert cache.get(key(2)) is None
    # A new process: memory is empty, LMDB still has it.
    with local_cache(tmp_path / "c") as cache:
        hit = cache.get(key(1))
        assert hit is not None and hit.tier is TierName.LOCAL
        assert hit.outputs == outputs and hit.diagnostics == diags


def test_fall_through_fills_upper_tiers(tmp_path: Path) -> None:
    with local_cache(tmp_path / "c") as cache:
        cache.put(key(1), {"k.ptx": ptx(1)})
    with local_cache(tmp_path / "c") as cache:
        assert cache.memory is not None
        assert cache.memory.get_action(key(1).digest) is None
        first = cache.get(key(1))
        second = cache.get(key(1))
        assert first is not None and first.tier is TierName.LOCAL
        assert second is not None and second.tier is TierName.MEMORY
        stats = cache.stats()
        by_tier = {t.tier: t for t in stats.tiers}
        assert by_tier["memory"].fills == 1
        assert (by_tier["memory"].hits, by_tier["memory"].misses) == (1, 1)
        assert by_tier["local"].hits == 1


def test_identical_outputs_are_stored_once(tmp_path: Path) -> None:
    shared = ptx(7)
    with local_cache(tmp_path / "c") as cache:
        cache.put(key(1), {"a.ptx": shared, "b.ptx": shared})
        cache.put(key(2), {"c.ptx": shared, "d.ptx": ptx(8)})
        assert cache.local is not None
        usage = cache.local.usage()
        assert (usage.actions, usage.blobs) == (2, 2)
        hit = cache.get(key(1))
        assert hit is not None and hit.outputs == {"a.ptx": shared, "b.ptx": shared}
        # Stored compressed: PTX-like text shrinks several times.
        assert usage.bytes < len(shared) + len(ptx(8))


def corrupt_blob(tier: MemoryTier | LmdbTier, digest: str, how: str) -> None:
    (stored,) = tier.get_blobs([digest])
    assert stored is not None
    if how == "flip":  # one bit: a broken frame, or one that decodes to other bytes
        damaged = bytearray(stored)
        damaged[len(damaged) // 2] ^= 0x40
        replacement = bytes(damaged)
    elif how == "other-content":  # a valid frame of other bytes
        from rustg.daemon.cache.blobs import compress

        replacement = compress(b"not what the digest says")
    else:
        replacement = b"garbage"
    # Write the damaged bytes under the same digest, as bit rot would (put_blobs does not
    # overwrite in LMDB, so go under it there).
    if isinstance(tier, LmdbTier):
        with tier.env.begin(write=True) as txn:
            txn.put(bytes.fromhex(digest), replacement, db=tier._blobs)
    else:
        tier.delete_blobs([digest])
        tier.put_blobs({digest: replacement})


@pytest.mark.parametrize("how", ["flip", "other-content", "garbage"])
def test_corrupt_blob_in_memory_is_a_miss_there_and_repaired(tmp_path: Path, how: str) -> None:
    data = ptx(3)
    with local_cache(tmp_path / "c") as cache:
        assert cache.memory is not None
        cache.put(key(3), {"k.ptx": data})
        corrupt_blob(cache.memory, digest_of(data), how)
        # The opened copy the put left would be served without reading the stored bytes at
        # all (test below); without it, the lookup reads and checks them.
        cache.memory.forget(key(3).digest)
        hit = cache.get(key(3))
        # Served intact from LMDB, never the corrupt bytes; memory repaired.
        assert hit is not None and hit.outputs == {"k.ptx": data}
        (repaired,) = cache.memory.get_blobs([digest_of(data)])
        assert repaired is not None
        again = cache.get(key(3))
        assert again is not None and again.tier is TierName.MEMORY
        assert {t.tier: t.corrupt_repaired for t in cache.stats().tiers}["memory"] == 1


def test_a_remembered_hit_reads_no_tier_and_is_bounded(tmp_path: Path) -> None:
    data = ptx(4)
    with local_cache(tmp_path / "c", memory=3 * len(data)) as cache:
        assert cache.memory is not None and cache.local is not None
        cache.put(key(4), {"k.ptx": data})
        # Both stored copies corrupt: a lookup that read either would miss or repair.
        corrupt_blob(cache.memory, digest_of(data), "garbage")
        corrupt_blob(cache.local, digest_of(data), "garbage")
        hit = cache.get(key(4))
        assert hit is not None and hit.tier is TierName.MEMORY and hit.outputs == {"k.ptx": data}
        with pytest.raises(TypeError):
            hit.outputs["k.ptx"] = b"changed"  # type: ignore[index]  # shared: read-only
        stats = {t.tier: t for t in cache.stats(usage=False).tiers}
        assert (stats["memory"].hits, stats["memory"].corrupt_repaired) == (1, 0)
        # The opened copies are an LRU of their own, bounded by the memory tier's size.
        for n in range(5, 9):
            cache.put(key(n), {"k.ptx": ptx(n)})
        assert cache.memory.recall(key(4).digest) is None
        assert cache.memory.recall(key(8).digest) is not None
        cache.memory.delete_action(key(8).digest)
        assert cache.memory.recall(key(8).digest) is None


def test_corrupt_blob_in_lmdb_is_a_miss_and_deleted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = ptx(4)
    with local_cache(tmp_path / "c") as cache:
        cache.put(key(4), {"k.ptx": data})
        assert cache.local is not None
        corrupt_blob(cache.local, digest_of(data), "flip")
    with local_cache(tmp_path / "c") as cache, caplog.at_level(logging.WARNING):
        assert cache.local is not None
        assert cache.get(key(4)) is None  # nowhere intact: a miss, not the corrupt bytes
        assert "corrupt blob" in caplog.text
        assert cache.local.get_blobs([digest_of(data)]) == [None]
        assert cache.local.get_action(key(4).digest) is None  # the entry cannot hit again
        stats = cache.stats()
        assert {t.tier: t.corrupt_repaired for t in stats.tiers}["local"] == 1
        assert (stats.hits, stats.misses) == (0, 1)
        # Rebuilding puts it back.
        cache.put(key(4), {"k.ptx": data})
        assert cache.get(key(4)) is not None


def test_corrupt_lmdb_blob_is_repaired_from_memory(tmp_path: Path) -> None:
    data = ptx(5)
    with local_cache(tmp_path / "c") as cache:
        assert cache.local is not None and cache.memory is not None
        cache.put(key(5), {"k.ptx": data})
        corrupt_blob(cache.local, digest_of(data), "garbage")
        cache.memory.delete_action(key(5).digest)  # the manifest is read from LMDB...
        hit = cache.get(key(5))  # ...the blob comes intact from memory
        assert hit is not None and hit.tier is TierName.LOCAL and hit.outputs == {"k.ptx": data}
        report = cache.verify()
        # The blob found in memory first was not re-read from LMDB: verify catches it.
        local = {t.tier: t for t in report.tiers}["local"]
        assert (local.blobs_corrupt, local.actions_dangling) == (1, 1)
        assert local.corrupt_digests == [digest_of(data)]


def test_corrupt_manifest_is_a_miss(tmp_path: Path) -> None:
    with local_cache(tmp_path / "c", memory=0) as cache:
        assert cache.local is not None and cache.memory is None
        cache.put(key(6), {"k.ptx": ptx(6)}, [warning("w")])
        stored = cache.local.get_action(key(6).digest)
        assert stored is not None
        damaged = stored.replace(b"unused_variables", b"unused_variablez")
        cache.local.put(key(6).digest, damaged, {})
        assert cache.get(key(6)) is None
        assert cache.local.get_action(key(6).digest) is None


def test_memory_tier_is_bounded_in_bytes() -> None:
    tier = MemoryTier(max_bytes=10_000)
    for n in range(20):
        tier.put(n.to_bytes(32, "big"), b"m" * 100, {f"{n:064x}": b"b" * 900})
    usage = tier.usage()
    assert usage.bytes <= 10_000
    assert usage.actions == usage.blobs == 10  # the 10 most recent pairs fit
    assert tier.get_action((19).to_bytes(32, "big")) is not None
    assert tier.get_action((0).to_bytes(32, "big")) is None
    tier.put_blobs({"f" * 64: b"x" * 20_000})  # larger than the tier: not kept
    assert tier.get_blobs(["f" * 64]) == [None]


def test_lmdb_tier_in_a_shared_environment(tmp_path: Path) -> None:
    """The daemon's own environment can hold the cache next to its databases."""
    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 26, max_dbs=8)
    other = env.open_db(b"files")
    with env.begin(write=True) as txn:
        txn.put(b"src/lib.rs", b"abc", db=other)
    tier = LmdbTier(env, prefix="cache")
    cache = Cache(local=tier)
    cache.put(key(1), {"k.ptx": ptx(1)})
    hit = cache.get(key(1))
    assert hit is not None and hit.outputs == {"k.ptx": ptx(1)}
    cache.close()  # does not close an environment it does not own
    with env.begin() as txn:
        assert txn.get(b"src/lib.rs", db=other) == b"abc"
    env.close()


def test_lmdb_schema_mismatch_wipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rustg.daemon.cache import tiers

    with local_cache(tmp_path / "c") as cache:
        cache.put(key(1), {"k.ptx": ptx(1)})
    monkeypatch.setattr(tiers, "LMDB_SCHEMA", b"2")
    with local_cache(tmp_path / "c") as cache:
        assert cache.local is not None and cache.local.wiped
        assert cache.get(key(1)) is None


def test_counters_persist_across_processes(tmp_path: Path) -> None:
    with local_cache(tmp_path / "c") as cache:
        cache.put(key(1), {"k.ptx": ptx(1)})
        cache.get(key(1))
        cache.get(key(2))
    with local_cache(tmp_path / "c") as cache:
        cache.get(key(1))
        stats = cache.stats()
        assert (stats.lookups, stats.hits, stats.misses, stats.puts) == (3, 2, 1, 1)
        assert stats.hit_rate == pytest.approx(2 / 3)
        assert stats.session == {
            "hits": 1, "local.hits": 1, "lookups": 1, "memory.fills": 1, "memory.misses": 1,
        }  # fmt: skip
        local = {t.tier: t for t in stats.tiers}["local"]
        assert (local.actions, local.blobs) == (1, 1)
        assert local.bytes is not None and local.bytes > 0


def test_gc_evicts_least_recently_used(tmp_path: Path) -> None:
    now = [1000.0]
    cache = Cache(local=LmdbTier.open(tmp_path / "c"), clock=lambda: now[0])
    shared = ptx(99, size=20_000)
    for n in range(10):
        now[0] += 1
        cache.put(key(n), {"own.ptx": ptx(n, size=20_000), "shared.ptx": shared})
    for n in (0, 1):  # used recently: kept
        now[0] += 1
        assert cache.get(key(n)) is not None
    assert cache.local is not None
    before = cache.local.usage()
    per_entry = (before.bytes - len(cache.local.get_blobs([digest_of(shared)])[0] or b"")) // 10
    target = before.bytes - 5 * per_entry  # room for about half of them
    report = cache.gc(target)
    after = cache.local.usage()
    assert after.bytes <= target
    assert report.bytes_after == after.bytes
    assert report.bytes_before == before.bytes
    assert report.actions_removed == 10 - after.actions >= 4
    assert report.blobs_removed == report.actions_removed  # their own blobs; shared stays
    kept = {n for n in range(10) if cache.get(key(n)) is not None}
    assert {0, 1} <= kept
    assert kept == {0, 1} | set(range(10 - (after.actions - 2), 10))  # the newest survive
    # gc to zero empties it, and drops the now unreferenced shared blob too.
    cache.gc(0)
    assert cache.local.usage() == type(after)(0, 0, 0)
    cache.close()


def test_gc_removes_unreferenced_blobs_even_under_the_limit(tmp_path: Path) -> None:
    with local_cache(tmp_path / "c") as cache:
        assert cache.local is not None
        cache.local.put_blobs({"ab" * 32: b"orphan"})
        cache.put(key(1), {"k.ptx": ptx(1)})
        report = cache.gc(1 << 30)
        assert (report.actions_removed, report.blobs_removed) == (0, 1)
        assert cache.get(key(1)) is not None


def test_verify_reports_and_removes_corrupt_blobs(tmp_path: Path) -> None:
    with local_cache(tmp_path / "c") as cache:
        for n in range(5):
            cache.put(key(n), {"k.ptx": ptx(n)})
        assert cache.local is not None
        corrupt_blob(cache.local, digest_of(ptx(2)), "flip")
        report = cache.verify()
        local = {t.tier: t for t in report.tiers}["local"]
        assert (local.blobs_checked, local.blobs_corrupt) == (5, 1)
        assert local.actions_dangling == 1  # key(2)'s entry named the removed blob
        assert report.problems == 2
        clean = cache.verify()
        assert clean.problems == 0
        assert {t.tier: t.blobs_checked for t in clean.tiers}["local"] == 4
    with local_cache(tmp_path / "c") as cache:
        assert cache.get(key(2)) is None
        assert cache.get(key(3)) is not None


def test_a_failing_local_tier_does_not_fail_the_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A full LMDB map: the put is logged and counted, the memory tier still serves."""
    env = lmdb.open(str(tmp_path / "tiny"), map_size=64 << 10, max_dbs=3)
    cache = Cache(memory=MemoryTier(1 << 20), local=LmdbTier(env, owns_env=True))
    with caplog.at_level(logging.WARNING):
        for n in range(3):
            cache.put(key(n), {"k.ptx": ptx(n, size=200_000)})
    assert caplog.text.count("local tier failed") == 1
    hit = cache.get(key(2))
    assert hit is not None and hit.tier is TierName.MEMORY
    assert {t.tier: t.errors for t in cache.stats(usage=False).tiers}["local"] >= 1
    assert cache.local is not None
    with pytest.raises(CacheError, match="MapFullError"):  # the tier itself does raise
        cache.local.put(b"k" * 32, b"x" * 200_000, {})
    cache.close()


def test_open_uses_the_workspace_state_dir(tmp_path: Path) -> None:
    paths = WorkspacePaths.for_root(tmp_path / "ws", state=tmp_path / "state")
    with Cache.open(paths) as cache:
        cache.put(key(1), {"k.ptx": ptx(1)})
    assert (paths.state_dir / "cache" / "data.mdb").is_file()
