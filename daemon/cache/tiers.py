"""The three storage tiers: an in-memory LRU, LMDB on local disk, and Redis.

Every tier stores the same two kinds of record, as bytes it does not interpret:

* actions: the 32-byte action key → a sealed manifest (``blobs.seal_manifest``);
* blobs: a BLAKE3 hex digest → one zstd frame.

Checking those bytes is the cache front's job (``cache.py``), so that the rule "a corrupt
record is a miss, is deleted, and is refilled from a lower tier" lives in one place.

The remote tier differs in one way: it may be unreachable. It never raises a foreign exception
nor blocks for long: every call is bounded by a short socket timeout, a failure opens a circuit
breaker that skips Redis for ``retry_after_s`` seconds, and a skipped or failed call raises
``TierUnavailable``, which the front treats as "this tier has nothing", counts, and moves on.
"""

from __future__ import annotations

import enum
import logging
import struct
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import lmdb

from ..errors import CacheError, map_exceptions

log = logging.getLogger("rustg.daemon.cache")

T = TypeVar("T")
P = ParamSpec("P")

#: LMDB reserves its map as address space, not disk: a generous map costs nothing until used,
#: and a full map fails writes (which the front reports; ``gc`` is the cure).
DEFAULT_MAP_SIZE: Final = 16 << 30
LMDB_SCHEMA: Final = b"1"
#: Buffered access times and counters are written after this many reads or this many seconds,
#: so that a hit costs a read transaction, not a write (and, on the daemon's synced
#: environment, an fsync). Losing a few access times on a crash only makes gc slightly less
#: accurate.
FLUSH_EVERY_EVENTS: Final = 256
FLUSH_EVERY_S: Final = 2.0

_LMDB_ERRORS = {lmdb.Error: CacheError, OSError: CacheError}
_ATIME = struct.Struct(">d")


class TierName(enum.StrEnum):
    MEMORY = "memory"
    LOCAL = "local"  # LMDB
    REMOTE = "remote"  # Redis


class TierUnavailable(Exception):
    """A tier could not answer (remote down or skipped by its circuit breaker). Internal to
    the cache package: the front catches it."""


@dataclass(frozen=True, slots=True)
class TierUsage:
    actions: int
    blobs: int
    bytes: int  # stored (compressed) bytes of actions and blobs


class Tier(Protocol):
    name: TierName

    def get_action(self, key: bytes) -> bytes | None: ...
    def get_blobs(self, digests: Sequence[str]) -> list[bytes | None]: ...
    def put(self, key: bytes, manifest: bytes, blobs: Mapping[str, bytes]) -> None: ...
    def put_blobs(self, blobs: Mapping[str, bytes]) -> None: ...
    def delete_action(self, key: bytes) -> None: ...
    def delete_blobs(self, digests: Iterable[str]) -> None: ...
    def iter_actions(self) -> Iterator[tuple[bytes, bytes]]: ...
    def iter_blobs(self) -> Iterator[tuple[str, bytes]]: ...
    def usage(self) -> TierUsage: ...
    def describe(self) -> str: ...
    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# Memory


class MemoryTier:
    """A byte-bounded LRU of actions and blobs, in this process.

    Values are kept compressed and are checked on read like any other tier's: one rule for all
    tiers. Next to them, a second LRU (bounded by ``max_bytes`` too) keeps *opened* actions —
    the front's verified result of a lookup or put (``remember``/``recall``) — so that a repeat
    lookup costs a dict access, not a manifest check, zstd and BLAKE3 per output (measured: ~70
    µs CPU a hit, which on a saturated machine is what gets preempted). What is remembered was
    checked when it was read from a tier below, or is what this process stored itself.
    """

    name = TierName.MEMORY

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, bytes | str], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._opened: OrderedDict[bytes, tuple[object, int]] = OrderedDict()
        self._opened_bytes = 0

    def remember(self, key: bytes, opened: object, size: int) -> None:
        """Keep ``opened`` (the front's verified action, ``size`` bytes of outputs) for
        ``recall``."""
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._opened.pop(key, None)
            if old is not None:
                self._opened_bytes -= old[1]
            self._opened[key] = (opened, size)
            self._opened_bytes += size
            while self._opened_bytes > self.max_bytes:
                _, (_, evicted) = self._opened.popitem(last=False)
                self._opened_bytes -= evicted

    def recall(self, key: bytes) -> object | None:
        with self._lock:
            found = self._opened.get(key)
            if found is None:
                return None
            self._opened.move_to_end(key)
            return found[0]

    def forget(self, key: bytes) -> None:
        """Drop the opened copy of ``key`` (the compressed entries stay)."""
        with self._lock:
            old = self._opened.pop(key, None)
            if old is not None:
                self._opened_bytes -= old[1]

    def _get(self, slot: tuple[str, bytes | str]) -> bytes | None:
        with self._lock:
            value = self._entries.get(slot)
            if value is not None:
                self._entries.move_to_end(slot)
            return value

    def _set(self, slot: tuple[str, bytes | str], value: bytes) -> None:
        if len(value) > self.max_bytes:
            return  # would evict everything else and still not fit
        with self._lock:
            old = self._entries.pop(slot, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[slot] = value
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def _delete(self, slot: tuple[str, bytes | str]) -> None:
        with self._lock:
            old = self._entries.pop(slot, None)
            if old is not None:
                self._bytes -= len(old)

    def get_action(self, key: bytes) -> bytes | None:
        return self._get(("a", key))

    def get_blobs(self, digests: Sequence[str]) -> list[bytes | None]:
        return [self._get(("b", d)) for d in digests]

    def put(self, key: bytes, manifest: bytes, blobs: Mapping[str, bytes]) -> None:
        self.forget(key)  # a new manifest for the key: what was opened from the old is stale
        self.put_blobs(blobs)
        self._set(("a", key), manifest)  # last: the most recently used entry

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        for digest, data in blobs.items():
            self._set(("b", digest), data)

    def delete_action(self, key: bytes) -> None:
        self.forget(key)
        self._delete(("a", key))

    def delete_blobs(self, digests: Iterable[str]) -> None:
        for digest in digests:
            self._delete(("b", digest))

    def _snapshot(self, kind: str) -> list[tuple[bytes | str, bytes]]:
        with self._lock:
            return [(k, v) for (t, k), v in self._entries.items() if t == kind]

    def iter_actions(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._snapshot("a"):
            assert isinstance(key, bytes)
            yield key, value

    def iter_blobs(self) -> Iterator[tuple[str, bytes]]:
        for digest, value in self._snapshot("b"):
            assert isinstance(digest, str)
            yield digest, value

    def usage(self) -> TierUsage:
        with self._lock:
            actions = sum(1 for t, _ in self._entries if t == "a")
            return TierUsage(actions, len(self._entries) - actions, self._bytes)

    def describe(self) -> str:
        return f"in-process LRU of at most {self.max_bytes >> 20} MiB (this process's entries)"

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._opened.clear()
            self._opened_bytes = 0

    def close(self) -> None:
        self.clear()


# ---------------------------------------------------------------------------------------------
# LMDB


@dataclass(frozen=True, slots=True)
class GcReport:
    max_size: int
    bytes_before: int
    bytes_after: int
    actions_removed: int
    blobs_removed: int  # unreferenced after the evictions, or unreferenced to begin with
    corrupt_removed: int  # manifests that no longer open


class LmdbTier:
    """Actions, blobs and bookkeeping in three named databases of an LMDB environment.

    ``<prefix>-actions``: key → sealed manifest; ``<prefix>-blobs``: digest (32 raw bytes) →
    zstd frame; ``<prefix>-meta``: ``schema``, ``t<key>`` → last access time (for gc's LRU
    order), ``c<name>`` → a lifetime counter (hits, misses... shared by every process that
    opens this environment: the daemon and ``cargo g cache stats``).

    Either opens its own environment (``LmdbTier.open(path)``) or shares one the caller
    opened (the daemon's), given ``max_dbs`` leaves room for three more named databases.
    """

    name = TierName.LOCAL

    def __init__(
        self,
        env: lmdb.Environment,
        *,
        prefix: str = "cache",
        owns_env: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env = env
        self._owns_env = owns_env
        self._monotonic = monotonic
        with map_exceptions(_LMDB_ERRORS):
            self._actions = env.open_db(f"{prefix}-actions".encode())
            self._blobs = env.open_db(f"{prefix}-blobs".encode())
            self._meta = env.open_db(f"{prefix}-meta".encode())
        self._lock = threading.Lock()
        self._atimes: dict[bytes, float] = {}
        self._counts: Counter[str] = Counter()
        self._events = 0
        self._last_flush = monotonic()
        self.wiped = self._check_schema()

    @classmethod
    def open(cls, path: Path, *, map_size: int = DEFAULT_MAP_SIZE) -> LmdbTier:
        """A tier in its own environment at ``path`` (a directory, created if needed)."""
        with map_exceptions(_LMDB_ERRORS):
            path.mkdir(parents=True, exist_ok=True)
            # sync=False: a crash may lose the last puts, which is harmless in a cache whose
            # reads are all checked; it does not corrupt the B-tree (LMDB's copy-on-write
            # pages). It turns a put from an fsync (milliseconds) into a memory write.
            env = lmdb.open(
                str(path), map_size=map_size, max_dbs=3, subdir=True, sync=False, metasync=False
            )
        return cls(env, owns_env=True)

    def _check_schema(self) -> bool:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            found = txn.get(b"schema", db=self._meta)
            if found == LMDB_SCHEMA:
                return False
            for db in (self._actions, self._blobs, self._meta):
                txn.drop(db, delete=False)
            txn.put(b"schema", LMDB_SCHEMA, db=self._meta)
            return found is not None

    def describe(self) -> str:
        return f"LMDB at {self.env.path()}"

    # -- records ---------------------------------------------------------------------------------

    def get_action(self, key: bytes) -> bytes | None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(db=self._actions) as txn:
            value: bytes | None = txn.get(key)
            return value

    def get_blobs(self, digests: Sequence[str]) -> list[bytes | None]:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(db=self._blobs) as txn:
            return [txn.get(bytes.fromhex(d)) for d in digests]

    def put(self, key: bytes, manifest: bytes, blobs: Mapping[str, bytes]) -> None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            for digest, data in blobs.items():
                # overwrite=False: a blob is named by its content, so one already there is the
                # same bytes (if it rotted, the next read finds out and repairs it).
                txn.put(bytes.fromhex(digest), data, db=self._blobs, overwrite=False)
            txn.put(key, manifest, db=self._actions)
            self._flush_into(txn)  # the access time the front noted for this put, and counters

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            for digest, data in blobs.items():
                txn.put(bytes.fromhex(digest), data, db=self._blobs, overwrite=False)

    def delete_action(self, key: bytes) -> None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            txn.delete(key, db=self._actions)
            txn.delete(b"t" + key, db=self._meta)

    def delete_blobs(self, digests: Iterable[str]) -> None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            for digest in digests:
                txn.delete(bytes.fromhex(digest), db=self._blobs)

    def iter_actions(self) -> Iterator[tuple[bytes, bytes]]:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(db=self._actions) as txn:
            yield from txn.cursor()

    def iter_blobs(self) -> Iterator[tuple[str, bytes]]:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(db=self._blobs) as txn:
            for digest, value in txn.cursor():
                yield digest.hex(), value

    def usage(self) -> TierUsage:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(buffers=True) as txn:
            actions = txn.stat(self._actions)["entries"]
            blobs = txn.stat(self._blobs)["entries"]
            size = sum(len(v) for db in (self._actions, self._blobs) for _, v in txn.cursor(db))
        return TierUsage(actions, blobs, size)

    # -- access times and counters ---------------------------------------------------------------

    def touch(self, key: bytes, when: float) -> None:
        with self._lock:
            self._atimes[key] = when
            self._events += 1

    def count(self, deltas: Mapping[str, int]) -> None:
        with self._lock:
            self._counts.update(deltas)
            self._events += 1

    def maybe_flush(self) -> None:
        with self._lock:
            due = (
                self._events >= FLUSH_EVERY_EVENTS
                or self._monotonic() - self._last_flush >= FLUSH_EVERY_S
            )
        if due:
            self.flush()

    def flush(self) -> None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            self._flush_into(txn)

    def _flush_into(self, txn: lmdb.Transaction) -> None:
        with self._lock:
            atimes, self._atimes = self._atimes, {}
            counts, self._counts = self._counts, Counter()
            self._events = 0
            self._last_flush = self._monotonic()
        for key, when in atimes.items():
            txn.put(b"t" + key, _ATIME.pack(when), db=self._meta)
        for name, delta in counts.items():
            slot = b"c" + name.encode()
            txn.put(
                slot, str(int(txn.get(slot, b"0", db=self._meta)) + delta).encode(), db=self._meta
            )

    def counters(self) -> Counter[str]:
        """Lifetime counters: what every process has flushed, plus this one's pending."""
        found: Counter[str] = Counter()
        with map_exceptions(_LMDB_ERRORS), self.env.begin(db=self._meta) as txn:
            cursor = txn.cursor()
            if cursor.set_range(b"c"):
                for slot, value in cursor:
                    if not slot.startswith(b"c"):
                        break
                    found[slot[1:].decode()] = int(value)
        with self._lock:
            found.update(self._counts)
        return found

    # -- maintenance -----------------------------------------------------------------------------

    def gc(self, max_size: int, open_manifest: Callable[[bytes], list[str] | None]) -> GcReport:
        """Evict least recently used actions until actions + blobs fit in ``max_size`` stored
        bytes, and drop every blob no remaining action names. One write transaction: other
        processes see the cache before or after, never half collected.

        ``open_manifest`` gives a stored manifest's blob digests (None: corrupt).
        """
        self.flush()
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            blob_sizes: dict[bytes, int] = {k: len(v) for k, v in txn.cursor(db=self._blobs)}
            entries: list[tuple[float, bytes, int, set[bytes]]] = []
            corrupt: dict[bytes, int] = {}
            for key, value in txn.cursor(db=self._actions):
                named = open_manifest(value)
                if named is None:
                    corrupt[key] = len(value)
                    continue
                raw = txn.get(b"t" + key, db=self._meta)
                when = _ATIME.unpack(raw)[0] if raw is not None and len(raw) == 8 else 0.0
                entries.append((when, key, len(value), {bytes.fromhex(d) for d in named}))
            refs: Counter[bytes] = Counter(d for e in entries for d in e[3])
            before = sum(blob_sizes.values()) + sum(e[2] for e in entries) + sum(corrupt.values())
            size = sum(e[2] for e in entries) + sum(blob_sizes.get(d, 0) for d in refs)
            entries.sort(key=lambda e: (e[0], e[1]))
            evicted: list[bytes] = []
            for _when, key, manifest_size, blob_digests in entries:
                if size <= max_size:
                    break
                evicted.append(key)
                size -= manifest_size
                for digest in blob_digests:
                    refs[digest] -= 1
                    if refs[digest] == 0:
                        size -= blob_sizes.get(digest, 0)
                        del refs[digest]
            for key in (*evicted, *corrupt):
                txn.delete(key, db=self._actions)
                txn.delete(b"t" + key, db=self._meta)
            unreferenced = [d for d in blob_sizes if d not in refs]
            for digest in unreferenced:
                txn.delete(digest, db=self._blobs)
        return GcReport(
            max_size=max_size,
            bytes_before=before,
            bytes_after=size,
            actions_removed=len(evicted),
            blobs_removed=len(unreferenced),
            corrupt_removed=len(corrupt),
        )

    def close(self) -> None:
        try:
            self.flush()
        except CacheError as exc:
            log.warning("cache: could not write access times on close: %s", exc)
        if self._owns_env:
            self.env.sync(True)
            self.env.close()


# ---------------------------------------------------------------------------------------------
# Redis


class BreakerState(enum.StrEnum):
    CLOSED = "ok"  # calls go through
    OPEN = "down"  # calls are skipped until the retry time
    HALF_OPEN = "probing"  # one call is trying; the others are skipped


def redact_url(url: str) -> str:
    """``url`` without its password (it goes into logs and ``cache stats``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class CircuitBreaker:
    """Stops calling a failing remote for ``retry_after_s`` seconds after a failure.

    One failure opens it: each failure may have cost a full socket timeout, and a build makes
    hundreds of lookups. After the pause one caller probes; success closes the breaker, failure
    opens it again. The outage is logged once when it starts and once when it ends.
    """

    def __init__(
        self, what: str, retry_after_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.what = what
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self.state = BreakerState.CLOSED
        self.outages = 0
        self.last_error: str | None = None
        self._open_until = 0.0
        self._down_since = 0.0

    def allow(self) -> bool:
        with self._lock:
            if self.state is BreakerState.CLOSED:
                return True
            if self.state is BreakerState.OPEN and self._clock() >= self._open_until:
                self.state = BreakerState.HALF_OPEN
                return True
            return False

    def success(self) -> None:
        with self._lock:
            if self.state is BreakerState.CLOSED:
                return
            self.state = BreakerState.CLOSED
            down_for = self._clock() - self._down_since
        log.warning("cache: %s is back after %.1f s; using it again", self.what, down_for)

    def failure(self, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.last_error = error
            now = self._clock()
            self._open_until = now + self.retry_after_s
            if self.state is not BreakerState.CLOSED:
                self.state = BreakerState.OPEN  # a failed probe: same outage, no new warning
                return
            self.state = BreakerState.OPEN
            self.outages += 1
            self._down_since = now
        log.warning(
            "cache: %s unavailable (%s); builds continue with the local cache, retrying every %g s",
            self.what,
            error,
            self.retry_after_s,
        )


def _as_bytes(value: object) -> bytes | None:
    """redis-py's replies are typed ``bytes | str``; without ``decode_responses`` they are
    bytes."""
    if value is None or isinstance(value, bytes):
        return value
    raise CacheError(f"unexpected reply type from Redis: {type(value).__name__}")


class RedisTier:
    """Actions and blobs in Redis, shared by every machine that points at the same server.

    Keys: ``<prefix>a:<key hex>`` and ``<prefix>b:<digest hex>``. Nothing expires here:
    configure the server with ``maxmemory`` and ``maxmemory-policy allkeys-lru`` (docs/cache.md);
    an action whose blob the server evicted reads as a miss.
    """

    name = TierName.REMOTE

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 0.1,
        retry_after_s: float = 10.0,
        prefix: str = "rustg:cache:1:",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Imported here: only a configured remote tier pays for redis-py (~90 ms of every
        # `cargo g` start otherwise).
        import redis
        import redis.backoff
        import redis.retry

        self._redis_error: type[Exception] = redis.RedisError
        self.url = url
        self.prefix = prefix
        self.timeout_s = timeout_s
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                # redis-py retries 10 times with backoff by default: seconds of stall per call
                # against a dead server. The breaker is our retry policy.
                retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
            )
        except (ValueError, redis.RedisError) as exc:
            raise CacheError(f"invalid Redis URL {redact_url(url)!r}: {exc}") from None
        self.breaker = CircuitBreaker(f"remote cache {redact_url(url)}", retry_after_s, clock=clock)
        self.errors = 0
        self.skipped = 0

    def _call(self, operation: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``operation(*args, **kwargs)`` (a Redis call), unless the breaker says to skip it;
        any failure opens the breaker. Both raise TierUnavailable."""
        if not self.breaker.allow():
            self.skipped += 1
            raise TierUnavailable(self.breaker.last_error or "remote cache down")
        try:
            result = operation(*args, **kwargs)
        except (self._redis_error, OSError) as exc:
            self.errors += 1
            self.breaker.failure(exc)
            raise TierUnavailable(str(exc)) from exc
        self.breaker.success()
        return result

    def _akey(self, key: bytes) -> str:
        return f"{self.prefix}a:{key.hex()}"

    def _bkey(self, digest: str) -> str:
        return f"{self.prefix}b:{digest}"

    def describe(self) -> str:
        return f"Redis at {redact_url(self.url)}"

    def ping(self) -> float:
        """Round-trip time of a PING in seconds (TierUnavailable when down)."""
        start = time.perf_counter()
        self._call(self._client.ping)
        return time.perf_counter() - start

    def get_action(self, key: bytes) -> bytes | None:
        return _as_bytes(self._call(self._client.get, self._akey(key)))

    def get_blobs(self, digests: Sequence[str]) -> list[bytes | None]:
        if not digests:
            return []
        values = self._call(self._client.mget, [self._bkey(d) for d in digests])
        return [_as_bytes(v) for v in values]

    def put(self, key: bytes, manifest: bytes, blobs: Mapping[str, bytes]) -> None:
        def write() -> None:
            # One round trip; blobs before the action that names them (a pipeline keeps order),
            # so a reader on another machine never sees an action whose blobs are not there yet.
            pipe = self._client.pipeline(transaction=False)
            for digest, data in blobs.items():
                pipe.set(self._bkey(digest), data, nx=True)
            pipe.set(self._akey(key), manifest)
            pipe.execute()

        self._call(write)

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        def write() -> None:
            pipe = self._client.pipeline(transaction=False)
            for digest, data in blobs.items():
                pipe.set(self._bkey(digest), data, nx=True)
            pipe.execute()

        if blobs:
            self._call(write)

    def delete_action(self, key: bytes) -> None:
        self._call(self._client.delete, self._akey(key))

    def delete_blobs(self, digests: Iterable[str]) -> None:
        names = [self._bkey(d) for d in digests]
        if names:
            self._call(self._client.delete, *names)

    def _scan_names(self, kind: str, count: int) -> Iterator[list[bytes]]:
        """Batches of our key names of one kind (SCAN: the server may hold other data)."""
        pattern = f"{self.prefix}{kind}:*"
        cursor = 0
        while True:
            cursor, names = self._call(self._client.scan, cursor, match=pattern, count=count)
            if names:
                yield [_as_bytes(n) or b"" for n in names]
            if cursor == 0:
                return

    def _scan(self, kind: str) -> Iterator[tuple[str, bytes]]:
        for names in self._scan_names(kind, 500):
            values = self._call(self._client.mget, names)
            for name, value in zip(names, values, strict=True):
                data = _as_bytes(value)
                if data is not None:
                    yield name.decode().rsplit(":", 1)[1], data

    def iter_actions(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._scan("a"):
            yield bytes.fromhex(key), value

    def iter_blobs(self) -> Iterator[tuple[str, bytes]]:
        yield from self._scan("b")

    def usage(self) -> TierUsage:
        """Counts by SCAN (the server may be shared with other data), sizes by STRLEN."""
        counts = {"a": 0, "b": 0}
        size = 0
        for kind in counts:
            for names in self._scan_names(kind, 1000):
                counts[kind] += len(names)

                size += self._call(self._strlen_sum, names)
        return TierUsage(counts["a"], counts["b"], size)

    def _strlen_sum(self, names: list[bytes]) -> int:
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.strlen(name)
        return sum(int(n) for n in pipe.execute())

    def close(self) -> None:
        self._client.close()
