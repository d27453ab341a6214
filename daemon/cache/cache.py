"""The cache front: one ``get``/``put`` over memory → LMDB → Redis.

Reads fall through the tiers in order. The first tier whose manifest opens and whose blobs are
all found intact (in any tier: blobs are shared between actions) is the hit; the tiers above it
are filled with the manifest and blobs, so the next lookup stops higher. Every record read is
checked (``blobs.open_blob``/``open_manifest``): a corrupt one is counted, deleted from the tier
that held it, and looked up further down; found intact below, it is written back (repaired).

Writes go to every tier. A remote tier that fails or is skipped by its circuit breaker costs at
most one socket timeout per outage; it never raises out of ``get`` or ``put``. Local failures
(LMDB: disk full, map full) are logged and counted, not raised either: the cache can only make
a build faster, never fail it. ``stats()`` reports all of it.

Every method blocks (LMDB, Redis, zstd, hashing) and is safe to call from several threads: the
daemon calls them through ``trio.to_thread.run_sync``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Final, ParamSpec, TypeVar

import msgspec

from rustg.protocol import Diagnostic

from ..errors import CacheError
from .blobs import (
    Manifest,
    compress,
    make_manifest,
    open_blob,
    open_manifest,
    seal_manifest,
)
from .config import CacheConfig
from .keys import ActionKey
from .tiers import (
    BreakerState,
    GcReport,
    LmdbTier,
    MemoryTier,
    RedisTier,
    Tier,
    TierName,
    TierUnavailable,
    redact_url,
)

if TYPE_CHECKING:
    from ..workspace import WorkspacePaths

log = logging.getLogger("rustg.daemon.cache")

T = TypeVar("T")
P = ParamSpec("P")

#: How many corrupt digests a verify report lists (all are counted and removed).
_LISTED: Final = 50
#: The counters of a hit on a remembered action (built once: this is the hot path).
_MEMORY_HIT: Final = {"lookups": 1, "hits": 1, f"{TierName.MEMORY}.hits": 1}


@dataclass(frozen=True, slots=True)
class CachedAction:
    """A hit: the outputs by name, the diagnostics to replay, and where it came from."""

    key: ActionKey
    outputs: Mapping[str, bytes]  # read-only: a remembered hit is shared by later lookups
    diagnostics: list[Diagnostic]
    created: float
    size: int
    tier: TierName


class TierStats(msgspec.Struct, kw_only=True):
    tier: str
    where: str  # path, URL (password redacted), capacity
    state: str  # "ok", "down", "probing", or "error" when usage could not be read
    hits: int
    misses: int
    corrupt_repaired: int  # corrupt records found here, deleted, refilled when possible
    fills: int  # entries copied here from a lower tier
    errors: int  # failed calls (remote down, LMDB write failed)
    skipped: int = 0  # remote calls not tried while the breaker was open
    outages: int = 0
    last_error: str | None = None
    actions: int | None = None
    blobs: int | None = None
    bytes: int | None = None


class CacheStats(msgspec.Struct, kw_only=True):
    """Lifetime figures where an LMDB tier keeps them (every process that used this cache),
    else this process's; ``session`` is always this process's."""

    lookups: int
    hits: int
    misses: int
    hit_rate: float | None
    puts: int
    put_bytes: int  # uncompressed output bytes put
    tiers: list[TierStats]
    session: dict[str, int]


class TierVerify(msgspec.Struct, kw_only=True):
    tier: str
    blobs_checked: int = 0
    blobs_corrupt: int = 0
    actions_checked: int = 0
    actions_corrupt: int = 0
    actions_dangling: int = 0  # naming a blob that is not in this tier
    corrupt_digests: list[str] = []  # the first few
    error: str | None = None


class VerifyReport(msgspec.Struct, kw_only=True):
    tiers: list[TierVerify]

    @property
    def problems(self) -> int:
        return sum(t.blobs_corrupt + t.actions_corrupt + t.actions_dangling for t in self.tiers)


class Cache:
    """Memory → LMDB → Redis, any of them optional (a cache with no tier misses every time)."""

    def __init__(
        self,
        *,
        memory: MemoryTier | None = None,
        local: LmdbTier | None = None,
        remote: RedisTier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.memory = memory
        self.local = local
        self.remote = remote
        self.tiers: list[Tier] = [t for t in (memory, local, remote) if t is not None]
        self._clock = clock
        self._lock = threading.Lock()
        self._session: Counter[str] = Counter()
        self._local_failing = False

    @classmethod
    def open(cls, paths: WorkspacePaths, config: CacheConfig | None = None) -> Cache:
        """The workspace's cache: LMDB under ``state_dir/cache``, Redis if configured."""
        return cls.open_dir(paths.state_dir / "cache", config or CacheConfig())

    @classmethod
    def open_dir(cls, directory: Path, config: CacheConfig) -> Cache:
        local = LmdbTier.open(directory)
        try:
            remote = (
                RedisTier(
                    config.redis_url,
                    timeout_s=config.redis_timeout_ms / 1000,
                    retry_after_s=config.redis_retry_s,
                )
                if config.redis_url
                else None
            )
        except CacheError:
            local.close()
            raise
        memory = MemoryTier(config.memory_size) if config.memory_size > 0 else None
        return cls(memory=memory, local=local, remote=remote)

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for tier in self.tiers:
            tier.close()

    # -- bookkeeping -----------------------------------------------------------------------------

    def _count_names(self, deltas: Mapping[str, int]) -> None:
        with self._lock:
            self._session.update(deltas)
        if self.local is not None:
            self.local.count(deltas)

    def _tier_failed(self, tier: Tier, exc: Exception) -> None:
        """A local tier's call failed: count, and warn once until it works again."""
        self._count_names({f"{tier.name}.errors": 1})
        if tier is self.local and not self._local_failing:
            self._local_failing = True
            log.warning("cache: local tier failed (%s); continuing without it for now", exc)

    def _call(
        self,
        tier: Tier,
        fallback: T,
        operation: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``operation(*args)`` (a method of ``tier``), or ``fallback`` when the tier is
        unavailable or failed (counted; the remote tier counts its own errors)."""
        try:
            result = operation(*args, **kwargs)
        except TierUnavailable:
            return fallback
        except CacheError as exc:
            self._tier_failed(tier, exc)
            return fallback
        if tier is self.local and self._local_failing:
            self._local_failing = False
            log.warning("cache: local tier works again")
        return result

    # -- get -------------------------------------------------------------------------------------

    def get(self, key: ActionKey) -> CachedAction | None:
        """The outputs and diagnostics stored for ``key``, or None (a miss)."""
        if self.memory is not None:
            opened = self.memory.recall(key.digest)
            if isinstance(opened, CachedAction):  # the hot path: no decoding, no transaction
                self._touch(key)
                self._count_names(_MEMORY_HIT)
                self._maybe_flush()
                return opened
        counts: Counter[str] = Counter(lookups=1)
        try:
            for index, tier in enumerate(self.tiers):
                stored = self._call(tier, None, tier.get_action, key.digest)
                if stored is None:
                    if tier is not self.remote or self.remote.breaker.state is BreakerState.CLOSED:
                        counts[f"{tier.name}.misses"] += 1
                    continue
                manifest = open_manifest(stored)
                if manifest is None:
                    counts[f"{tier.name}.corrupt"] += 1
                    counts[f"{tier.name}.misses"] += 1
                    log.warning("cache: corrupt manifest for %s in the %s tier", key, tier.name)
                    self._call(tier, None, tier.delete_action, key.digest)
                    continue
                outputs, everywhere = self._load_blobs(manifest, counts)
                if outputs is None:
                    counts[f"{tier.name}.misses"] += 1
                    if everywhere:
                        # A blob is gone from every tier (evicted remotely, or corrupt in all):
                        # this entry can never hit again. (With a tier down, it might.)
                        self._call(tier, None, tier.delete_action, key.digest)
                    continue
                counts[f"{tier.name}.hits"] += 1
                counts["hits"] += 1
                for upper in self.tiers[:index]:
                    self._call(upper, None, upper.put, key.digest, stored, {})
                    counts[f"{upper.name}.fills"] += 1
                self._touch(key)
                found = CachedAction(
                    key=key,
                    outputs=MappingProxyType({o.name: outputs[o.digest] for o in manifest.outputs}),
                    diagnostics=manifest.diagnostics,
                    created=manifest.created,
                    size=manifest.size,
                    tier=tier.name,
                )
                self._remember(found)
                return found
            counts["misses"] += 1
            return None
        finally:
            self._count_names(counts)
            self._maybe_flush()

    def _load_blobs(
        self, manifest: Manifest, counts: Counter[str]
    ) -> tuple[dict[str, bytes] | None, bool]:
        """Every blob the manifest names, checked, from the highest tier that has it intact;
        the tiers above that one get a copy. (None, every tier answered) when one is nowhere
        intact."""
        wanted = manifest.digests
        found: dict[str, bytes] = {}
        missing_above: list[Tier] = []
        everywhere = True
        for tier in self.tiers:
            if not wanted:
                break
            stored = self._call(tier, None, tier.get_blobs, wanted)
            if stored is None:  # tier unavailable: it cannot be filled either
                everywhere = False
                continue
            still: list[str] = []
            corrupt: list[str] = []
            fill: dict[str, bytes] = {}
            for digest, data in zip(wanted, stored, strict=True):
                if data is None:
                    still.append(digest)
                    continue
                content = open_blob(digest, data)
                if content is None:
                    corrupt.append(digest)
                    still.append(digest)
                    continue
                found[digest] = content
                fill[digest] = data
            if corrupt:
                counts[f"{tier.name}.corrupt"] += len(corrupt)
                log.warning(
                    "cache: %d corrupt blob(s) in the %s tier (deleted, refilled if found "
                    "elsewhere): %s",
                    len(corrupt),
                    tier.name,
                    ", ".join(d[:16] for d in corrupt),
                )
                self._call(tier, None, tier.delete_blobs, corrupt)
            if fill:
                for upper in missing_above:
                    self._call(upper, None, upper.put_blobs, fill)
            missing_above.append(tier)
            wanted = still
        return (None, everywhere) if wanted else (found, True)

    def _touch(self, key: ActionKey) -> None:
        if self.local is not None:
            self.local.touch(key.digest, self._clock())

    def _maybe_flush(self) -> None:
        if self.local is not None:
            self._call(self.local, None, self.local.maybe_flush)

    # -- put -------------------------------------------------------------------------------------

    def put(
        self,
        key: ActionKey,
        outputs: Mapping[str, bytes],
        diagnostics: Sequence[Diagnostic] = (),
    ) -> None:
        """Store ``outputs`` (name → content) and the diagnostics to replay under ``key``, in
        every tier. Returns when the local tiers have it; the remote write is bounded by its
        timeout, and skipped while the remote is down."""
        manifest, contents = make_manifest(key.kind, outputs, diagnostics, self._clock())
        sealed = seal_manifest(manifest)
        blobs = {digest: compress(data) for digest, data in contents.items()}
        self._touch(key)
        for tier in self.tiers:
            self._call(tier, None, tier.put, key.digest, sealed, blobs)
        self._count_names({"puts": 1, "put_bytes": manifest.size})
        self._remember(
            CachedAction(
                key=key, outputs=MappingProxyType(dict(outputs)),
                diagnostics=list(manifest.diagnostics), created=manifest.created,
                size=manifest.size, tier=TierName.MEMORY,
            )
        )  # fmt: skip

    def _remember(self, action: CachedAction) -> None:
        if self.memory is not None:
            opened = (
                action if action.tier is TierName.MEMORY else replace(action, tier=TierName.MEMORY)
            )
            self.memory.remember(action.key.digest, opened, action.size)

    def contains(self, key: ActionKey) -> bool:
        """Whether ``get`` would hit, without counting a lookup or filling anything (for
        ``--dry-run``-style reports). Checks the manifest only, not the blobs."""
        for tier in self.tiers:
            stored = self._call(tier, None, tier.get_action, key.digest)
            if stored is not None and open_manifest(stored) is not None:
                return True
        return False

    # -- stats and maintenance -------------------------------------------------------------------

    def flush(self) -> None:
        """Write buffered access times and counters to LMDB now."""
        if self.local is not None:
            self._call(self.local, None, self.local.flush)

    def stats(self, *, usage: bool = True) -> CacheStats:
        """Counters and, with ``usage``, entries and bytes per tier (a scan: milliseconds for
        thousands of entries, longer against a big remote)."""
        with self._lock:
            session = Counter(self._session)
        totals = session
        if self.local is not None:
            totals = self._call(self.local, session, self.local.counters)
        tiers: list[TierStats] = []
        for tier in self.tiers:
            name = tier.name
            row = TierStats(
                tier=name,
                where=tier.describe(),
                state="ok",
                hits=totals[f"{name}.hits"],
                misses=totals[f"{name}.misses"],
                corrupt_repaired=totals[f"{name}.corrupt"],
                fills=totals[f"{name}.fills"],
                errors=totals[f"{name}.errors"],
            )
            if isinstance(tier, RedisTier):
                row.state = str(tier.breaker.state)
                row.errors = tier.errors  # per process: lifetime counts would mix machines' views
                row.skipped = tier.skipped
                row.outages = tier.breaker.outages
                row.last_error = tier.breaker.last_error
            if usage:
                try:
                    found = tier.usage()
                except TierUnavailable as exc:
                    row.state = "down"
                    row.last_error = row.last_error or str(exc)
                except CacheError as exc:
                    row.state = "error"
                    row.last_error = str(exc)
                else:
                    row.actions, row.blobs, row.bytes = found.actions, found.blobs, found.bytes
            tiers.append(row)
        lookups = totals["lookups"]
        return CacheStats(
            lookups=lookups,
            hits=totals["hits"],
            misses=totals["misses"],
            hit_rate=totals["hits"] / lookups if lookups else None,
            puts=totals["puts"],
            put_bytes=totals["put_bytes"],
            tiers=tiers,
            session=dict(sorted(session.items())),
        )

    def gc(self, max_size: int) -> GcReport:
        """Evict least recently used entries from LMDB until it holds at most ``max_size``
        stored bytes, and remove blobs no entry names. The memory tier bounds itself; the remote
        one is bounded by its server's ``maxmemory`` policy."""
        if self.local is None:
            raise CacheError("this cache has no local tier to collect")

        def digests(stored: bytes) -> list[str] | None:
            manifest = open_manifest(stored)
            return None if manifest is None else manifest.digests

        return self.local.gc(max_size, digests)

    def verify(self, *, remote: bool = False) -> VerifyReport:
        """Re-hash every blob and re-check every manifest in the memory and LMDB tiers (and in
        Redis with ``remote``); delete what is corrupt and the entries that name a missing blob.
        """
        reports: list[TierVerify] = []
        for tier in self.tiers:
            if tier is self.remote and not remote:
                continue
            report = TierVerify(tier=tier.name)
            try:
                self._verify_tier(tier, report)
            except (TierUnavailable, CacheError) as exc:
                report.error = str(exc) or type(exc).__name__
            reports.append(report)
        return VerifyReport(tiers=reports)

    def _verify_tier(self, tier: Tier, report: TierVerify) -> None:
        present: set[str] = set()
        corrupt: list[str] = []
        for digest, data in tier.iter_blobs():
            report.blobs_checked += 1
            if open_blob(digest, data) is None:
                corrupt.append(digest)
            else:
                present.add(digest)
        bad_actions: list[bytes] = []
        for key, stored in tier.iter_actions():
            report.actions_checked += 1
            manifest = open_manifest(stored)
            if manifest is None:
                report.actions_corrupt += 1
                bad_actions.append(key)
            elif tier is not self.memory and not set(manifest.digests) <= present:
                # The memory tier evicts blobs and actions independently: a dangling entry
                # there is normal and fills from below on the next get.
                report.actions_dangling += 1
                bad_actions.append(key)
        if corrupt:
            tier.delete_blobs(corrupt)
        for key in bad_actions:
            tier.delete_action(key)
        report.blobs_corrupt = len(corrupt)
        report.corrupt_digests = corrupt[:_LISTED]
        if corrupt or report.actions_corrupt:
            self._count_names({f"{tier.name}.corrupt": len(corrupt) + report.actions_corrupt})
            log.warning(
                "cache verify: removed %d corrupt blob(s) and %d corrupt manifest(s) from the "
                "%s tier",
                len(corrupt),
                report.actions_corrupt,
                tier.name,
            )
        self.flush()

    def health(self) -> list[tuple[str, str, str]]:
        """(tier, state, detail) per tier, cheaply (a PING for Redis): for ``cargo g doctor``."""
        rows: list[tuple[str, str, str]] = []
        for tier in self.tiers:
            if isinstance(tier, RedisTier):
                try:
                    rtt = tier.ping()
                except TierUnavailable as exc:
                    rows.append((tier.name, "down", f"{redact_url(tier.url)}: {exc}"))
                else:
                    rows.append((tier.name, "ok", f"{tier.describe()}, PING {rtt * 1e3:.2f} ms"))
            else:
                rows.append((tier.name, "ok", tier.describe()))
        return rows
