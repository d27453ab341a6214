"""Durable daemon state in LMDB: file hashes, last diagnostics, counters, schema version.

Every result set is written in one write transaction, so a killed daemon leaves either the old
or the new state, never a mix. The store is a cache of things the daemon can recompute: on a
schema mismatch it is wiped (and says so), not migrated.

All methods block; the service calls them through ``trio.to_thread.run_sync`` behind one
``CapacityLimiter`` (LMDB allows one writer at a time anyway).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import lmdb
import msgspec

from rustg.protocol import Diagnostic

from .errors import StoreError, map_exceptions

SCHEMA_VERSION: Final = 1

_DIAGNOSTICS_CODEC = msgspec.msgpack.Decoder(list[Diagnostic])
_ENCODER = msgspec.msgpack.Encoder()
_LMDB_ERRORS = {lmdb.Error: StoreError, OSError: StoreError}


class OpenOutcome(enum.Enum):
    CREATED = "created"
    REUSED = "reused"
    WIPED = "wiped"  # schema mismatch: started from scratch


def _key(source: str, path: str) -> bytes:
    return f"{source}\0{path}".encode()


class Store:
    def __init__(self, path: Path, *, map_size: int = 1 << 30) -> None:
        path.mkdir(parents=True, exist_ok=True)
        with map_exceptions(_LMDB_ERRORS):
            self.env = lmdb.open(str(path), map_size=map_size, max_dbs=16, subdir=True)
            self._meta = self.env.open_db(b"meta")
            self._files = self.env.open_db(b"files")
            self._diagnostics = self.env.open_db(b"diagnostics")
        self.outcome = self._check_schema()

    def _check_schema(self) -> OpenOutcome:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            found = txn.get(b"schema", db=self._meta)
            if found == str(SCHEMA_VERSION).encode():
                return OpenOutcome.REUSED
            for db in (self._meta, self._files, self._diagnostics):
                txn.drop(db, delete=False)
            txn.put(b"schema", str(SCHEMA_VERSION).encode(), db=self._meta)
            return OpenOutcome.CREATED if found is None else OpenOutcome.WIPED

    def close(self) -> None:
        self.env.close()

    # -- counters -------------------------------------------------------------------------------

    def counters(self) -> tuple[int, int]:
        """(generation, seq) as last committed."""
        with map_exceptions(_LMDB_ERRORS), self.env.begin() as txn:
            generation = int(txn.get(b"generation", b"0", db=self._meta))
            seq = int(txn.get(b"seq", b"0", db=self._meta))
        return generation, seq

    # -- files ----------------------------------------------------------------------------------

    def file_hashes(self) -> dict[str, str]:
        with map_exceptions(_LMDB_ERRORS), self.env.begin() as txn:
            return {k.decode(): v.decode() for k, v in txn.cursor(db=self._files)}

    def update_files(self, changed: Mapping[str, str | None]) -> None:
        """Record new content hashes; ``None`` means the file is gone."""
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            for path, digest in changed.items():
                if digest is None:
                    txn.delete(path.encode(), db=self._files)
                else:
                    txn.put(path.encode(), digest.encode(), db=self._files)

    # -- diagnostics ----------------------------------------------------------------------------

    def commit_diagnostics(
        self,
        source: str,
        files: Mapping[str, Iterable[Diagnostic]],
        *,
        replace_all: bool,
        generation: int,
        seq: int,
    ) -> None:
        """One result set, one transaction (with the counters that go with it)."""
        prefix = f"{source}\0".encode()
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            if replace_all:
                cursor = txn.cursor(db=self._diagnostics)
                if cursor.set_range(prefix):
                    while cursor.key().startswith(prefix):
                        if not cursor.delete():
                            break
            for path, diags in files.items():
                listed = list(diags)
                if listed:
                    txn.put(_key(source, path), _ENCODER.encode(listed), db=self._diagnostics)
                else:
                    txn.delete(_key(source, path), db=self._diagnostics)
            self._put_counters(txn, generation, seq)

    def commit_counters(self, generation: int, seq: int) -> None:
        with map_exceptions(_LMDB_ERRORS), self.env.begin(write=True) as txn:
            self._put_counters(txn, generation, seq)

    def _put_counters(self, txn: lmdb.Transaction, generation: int, seq: int) -> None:
        old_generation = int(txn.get(b"generation", b"0", db=self._meta))
        old_seq = int(txn.get(b"seq", b"0", db=self._meta))
        txn.put(b"generation", str(max(generation, old_generation)).encode(), db=self._meta)
        txn.put(b"seq", str(max(seq, old_seq)).encode(), db=self._meta)

    def load_diagnostics(self) -> list[Diagnostic]:
        loaded: list[Diagnostic] = []
        with map_exceptions(_LMDB_ERRORS), self.env.begin() as txn:
            for _key_bytes, value in txn.cursor(db=self._diagnostics):
                try:
                    loaded.extend(_DIAGNOSTICS_CODEC.decode(value))
                except msgspec.DecodeError:
                    continue  # an entry written by a broken build: drop it, the recheck refills
        return loaded
