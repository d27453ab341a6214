"""The fast path's table: digests of content known to be formatted, in LMDB.

Keys are BLAKE3 digests of (rustfmt version, resolved config, content) — never paths, so a
file moved or shared between checkouts stays a hit, and a new rustfmt or an edited
rustfmt.toml misses. Values are empty. The daemon hands in its own environment (sub-db
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
        with self.env.begin(db=self._db) as txn:
            found = txn.get(key) is not None
        if found:
            self.hits += 1
        return found

    def add(self, keys: Iterable[bytes]) -> None:
        listed = list(keys)
        if not listed:
            return
        try:
            with self._lock, self.env.begin(write=True, db=self._db) as txn:
                for key in listed:
                    txn.put(key, b"")
        except lmdb.MapFullError:
            # A full table is not an error for a cache: drop it and start over.
            with self._lock, self.env.begin(write=True) as txn:
                txn.drop(self._db, delete=False)

    def close(self) -> None:
        if self._owned:
            self.env.close()
