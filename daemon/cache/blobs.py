"""Blobs and manifests: the bytes the tiers store, and how they are checked on every read.

A *blob* is one output file (a ``.ptx``, a ``.cubin``...), named by the BLAKE3 digest of its
uncompressed content (so equal outputs of different actions are stored once) and stored as one
zstd frame. Reading one back means decompressing it and re-hashing the result: a frame that
does not decompress, or decompresses to other bytes than its name says, is *corrupt*.

A *manifest* is what an action key maps to: the outputs by name and digest, the diagnostics to
replay on a hit, when it was made and how big it is. It is stored as msgpack behind a 32-byte
BLAKE3 of that msgpack, so a bit flip in a stored manifest (a diagnostic's message, a digest)
is caught too, not replayed.

Both checks are pure functions over bytes: the tiers store and return bytes, the cache front
(``cache.py``) calls these and decides what a failed check means (a miss, and a repair).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Final

import blake3
import msgspec
import zstandard

from rustg.protocol import Diagnostic

#: Bump when the manifest layout changes: entries of another schema read as misses.
MANIFEST_SCHEMA: Final = 1
#: zstd level 3 (the library default): PTX compresses about 5-8x at well over 100 MB/s, so
#: compression costs less than the disk or network it saves. Higher levels cost put throughput.
ZSTD_LEVEL: Final = 3
#: A blob that claims to decompress to more than this is treated as corrupt rather than
#: allocated (a flipped bit in the frame header's content size).
MAX_BLOB_BYTES: Final = 1 << 30

_CHECK_SIZE: Final = 32


class OutputRef(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # e.g. "sm_80/kernels.ptx": the pipeline's choice, relative
    digest: str  # BLAKE3 hex of the uncompressed content: the blob's name
    size: int  # uncompressed bytes


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    schema: int = MANIFEST_SCHEMA
    kind: str = ""
    outputs: list[OutputRef]
    diagnostics: list[Diagnostic] = []
    created: float  # Unix time of the put
    size: int  # sum of the outputs' uncompressed sizes

    @property
    def digests(self) -> list[str]:
        return list(dict.fromkeys(o.digest for o in self.outputs))


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Manifest)
_local = threading.local()  # zstd (de)compressor objects are not safe to share between threads


def digest_of(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def _compressor() -> zstandard.ZstdCompressor:
    found = getattr(_local, "compressor", None)
    if found is None:
        found = _local.compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL, write_content_size=True, write_checksum=False
        )
    return found


def _decompressor() -> zstandard.ZstdDecompressor:
    found = getattr(_local, "decompressor", None)
    if found is None:
        found = _local.decompressor = zstandard.ZstdDecompressor()
    return found


def compress(data: bytes) -> bytes:
    return bytes(_compressor().compress(data))


def open_blob(digest: str, stored: bytes) -> bytes | None:
    """The content of a stored blob, or None when it is corrupt (does not decompress, or its
    content does not hash to ``digest``). zstd's own frame checksum is off: the BLAKE3 check
    covers the same ground and is needed anyway."""
    try:
        params = zstandard.get_frame_parameters(stored)
        if params.content_size > MAX_BLOB_BYTES:
            return None
        data = bytes(_decompressor().decompress(stored))
    except zstandard.ZstdError:
        return None
    return data if digest_of(data) == digest else None


def seal_manifest(manifest: Manifest) -> bytes:
    body = _ENCODER.encode(manifest)
    return blake3.blake3(body).digest() + body


def open_manifest(stored: bytes) -> Manifest | None:
    """The manifest in ``stored``, or None when it is corrupt or of another schema."""
    check, body = stored[:_CHECK_SIZE], stored[_CHECK_SIZE:]
    if len(check) != _CHECK_SIZE or blake3.blake3(body).digest() != check:
        return None
    try:
        manifest = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return manifest if manifest.schema == MANIFEST_SCHEMA else None


def make_manifest(
    kind: str,
    outputs: Mapping[str, bytes],
    diagnostics: Sequence[Diagnostic],
    created: float,
) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest for ``outputs`` and the blobs (digest → uncompressed content) it names."""
    refs: list[OutputRef] = []
    blobs: dict[str, bytes] = {}
    for name, data in sorted(outputs.items()):
        digest = digest_of(data)
        refs.append(OutputRef(name=name, digest=digest, size=len(data)))
        blobs.setdefault(digest, data)
    manifest = Manifest(
        kind=kind,
        outputs=refs,
        diagnostics=list(diagnostics),
        created=created,
        size=sum(r.size for r in refs),
    )
    return manifest, blobs
