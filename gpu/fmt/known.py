"""The fast path's table: what formatting a content gave, by digest, in LMDB.

Value ``b""``: the content is formatted. Otherwise the zstd-compressed output: ``--check`` and
the daemon's save check report a file that stays unformatted without formatting it again.

Keys are BLAKE3 digests of (rustfmt version, resolved config, content) — never paths, so a
file moved or shared between checkouts stays a hit, and a new rustfmt or an edited
rustfmt.toml misses. The daemon hands in its own environment (sub-db
``fmt-known``, next to the engine's slots); the CLI opens ``~/.cache/rustg/fmt`` (or
``$XDG_CACHE_HOME/rustg/fmt``). It is a cache: a lost entry costs one format, nothing else.
Schema changes bump ``SCHEMA`` (part of the sub-db name), leaving old entries unread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import lmdb
import zstandard

__all__ = ["KnownFormatted", "default_known_dir"]

SCHEMA: Final = 1


def default_known_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rustg" / "fmt"


class KnownFormatted:
    def __init__(self, env: Any, *, owned: bool = False) -> None:
        self.env = env
        self._db = env.open_db(f"fmt-known-v{SCHEMA}".encode())
        self._owned = owned
        self._lock = threading.Lock()  # one writer at a time (LMDB allows one anyway)
        self.hits = 0

    @classmethod
    def open(cls, directory: Path, *, map_size: int = 1 << 28) -> KnownFormatted:
        directory.mkdir(parents=True, exist_ok=True)
        env = lmdb.open(str(directory), map_size=map_size, max_dbs=4, subdir=True)
        return cls(env, owned=True)

    def contains(self, key: bytes) -> bool:
        """Known formatted (the output equals the content)."""
        return self.get(key) == b""

    def get(self, key: bytes) -> bytes | None:
        """``b""`` for formatted content, the formatted output for content that is not, None
        when unknown."""
        with self.env.begin(db=self._db) as txn:
            found = txn.get(key)
        if found is None:
            return None
        self.hits += 1
        if not found:
            return b""
        try:
            return zstandard.ZstdDecompressor().decompress(found)
        except zstandard.ZstdError:
            return None  # a damaged entry is a miss

    def add(self, keys: Iterable[bytes], output: bytes | None = None) -> None:
        """Record ``keys`` as formatted, or (with ``output``) as formatting to ``output``."""
        listed = list(keys)
        if not listed:
            return
        value = b"" if output is None else zstandard.ZstdCompressor(level=3).compress(output)
        try:
            with self._lock, self.env.begin(write=True, db=self._db) as txn:
                for key in listed:
                    txn.put(key, value)
        except lmdb.MapFullError:
            # A full table is not an error for a cache: drop it and start over.
            with self._lock, self.env.begin(write=True) as txn:
                txn.drop(self._db, delete=False)

    def close(self) -> None:
        if self._owned:
            self.env.close()
