"""The build cache: content-addressed outputs of actions (kernel builds) in three tiers.

``ActionKeyBuilder`` digests what decides an action's output into an ``ActionKey``;
``Cache.get(key)`` returns the stored outputs and diagnostics (``CachedAction``) or None;
``Cache.put(key, outputs, diagnostics)`` stores them. See docs/cache.md.
"""

from __future__ import annotations

from .blobs import Manifest, OutputRef
from .cache import Cache, CachedAction, CacheStats, TierStats, TierVerify, VerifyReport
from .config import CacheConfig, load_cache_config, parse_size
from .keys import ActionKey, ActionKeyBuilder, workspace_relative
from .tiers import GcReport, LmdbTier, MemoryTier, RedisTier, TierName, TierUsage

__all__ = [
    "ActionKey",
    "ActionKeyBuilder",
    "Cache",
    "CacheConfig",
    "CacheStats",
    "CachedAction",
    "GcReport",
    "LmdbTier",
    "Manifest",
    "MemoryTier",
    "OutputRef",
    "RedisTier",
    "TierName",
    "TierStats",
    "TierUsage",
    "TierVerify",
    "VerifyReport",
    "load_cache_config",
    "parse_size",
    "workspace_relative",
]
