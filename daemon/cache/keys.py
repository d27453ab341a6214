"""Action keys: a BLAKE3 digest over everything that decides an action's output.

A key is built from named fields (kernel source, the sources of its transitive device
dependencies, the rustg-core digest, the rustc version string, target arch, flags ...). The
encoding is canonical so that equal inputs give equal keys on every machine:

* a domain header (``rustg-action-key/1``) and the action kind, so that two kinds of action
  with the same fields never collide;
* the fields sorted by name (insertion order does not matter; a name may appear once);
* every name and value length-prefixed (8 bytes, big endian) behind a one-byte type tag, so
  that no concatenation of two fields can equal another field (``"ab" + "c"`` vs
  ``"a" + "bc"``) and a string never equals the same bytes given as a digest.

Absolute paths never enter a key: two checkouts of one project at different places must share
entries (the point of the shared Redis tier). Paths are given workspace-relative
(``add_path``, ``workspace_relative``); a builder that knows the workspace root also refuses
any string or bytes value that contains that root, the usual way an absolute path sneaks in
(a flag such as ``--remap-path-prefix=/home/me/proj=.``).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final, Self

import blake3

from ..errors import CacheError

KEY_DOMAIN: Final = b"rustg-action-key/1\0"
DIGEST_SIZE: Final = 32

_TAG_STR: Final = b"s"
_TAG_BYTES: Final = b"b"
_TAG_DIGEST: Final = b"d"
_TAG_INT: Final = b"i"
_TAG_STRS: Final = b"l"
_TAG_PATH: Final = b"p"
_TAG_FILE: Final = b"f"


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


@dataclass(frozen=True, slots=True)
class ActionKey:
    """The 32-byte BLAKE3 digest naming one action's outputs."""

    digest: bytes
    kind: str = ""  # for messages only: the digest already covers it

    def __post_init__(self) -> None:
        if len(self.digest) != DIGEST_SIZE:
            raise CacheError(f"an action key is {DIGEST_SIZE} bytes, got {len(self.digest)}")

    @property
    def hex(self) -> str:
        return self.digest.hex()

    @classmethod
    def from_hex(cls, text: str, kind: str = "") -> ActionKey:
        try:
            return cls(bytes.fromhex(text), kind)
        except ValueError:
            raise CacheError(f"not a hex action key: {text!r}") from None

    def __str__(self) -> str:
        return f"{self.kind}:{self.hex[:16]}" if self.kind else self.hex[:16]


def workspace_relative(path: str | os.PathLike[str], root: Path | None = None) -> str:
    """``path`` as a normalized, workspace-relative POSIX path, or CacheError.

    A relative path is normalized (``a/./b/../c`` → ``a/c``) and must stay inside the
    workspace; an absolute one is accepted only under ``root`` and made relative to it. No
    symlinks are resolved: the key must depend on what the user wrote, not on where their
    checkout's symlinks point.
    """
    text = os.fspath(path)
    if "\0" in text:
        raise CacheError(f"path with a NUL byte in an action key: {text!r}")
    if os.path.isabs(text):
        if root is None:
            raise CacheError(
                f"absolute path {text!r} in an action key: give it relative to the workspace "
                "root, so that two checkouts share cache entries"
            )
        relative = _relative_to(Path(os.path.normpath(text)), root)
        if relative is None:
            raise CacheError(f"path {text!r} is outside the workspace {root}")
        text = relative
    normalized = posixpath.normpath(PurePosixPath(Path(text)).as_posix())
    if normalized == ".." or normalized.startswith("../"):
        raise CacheError(f"path {text!r} leaves the workspace")
    return normalized


def _relative_to(path: Path, root: Path) -> str | None:
    for base in dict.fromkeys((Path(os.path.normpath(root)), root.resolve())):
        try:
            return path.relative_to(base).as_posix() or "."
        except ValueError:
            continue
    return None


class ActionKeyBuilder:
    """Collects named fields and digests them canonically (see the module docstring).

    ``workspace_root`` is optional: with it, ``add_path`` accepts absolute paths under it and
    ``add_file`` can read files; every ``add_str``/``add_strs``/``add_bytes`` value is also
    checked for the root's absolute path, which would make the key machine-specific.
    """

    def __init__(self, kind: str, *, workspace_root: Path | None = None) -> None:
        if not kind:
            raise CacheError("an action key needs a kind (e.g. 'ptx')")
        self.kind = kind
        self._root = workspace_root
        self._needles: tuple[bytes, ...] = ()
        if workspace_root is not None:
            spellings = {os.path.normpath(workspace_root), str(workspace_root.resolve())}
            # "/" as a root would match every path-like value; a root that short is a bug
            # elsewhere, and the check would only produce noise.
            self._needles = tuple(os.fsencode(s) for s in spellings if len(s) > 1)
        self._fields: dict[str, tuple[bytes, bytes]] = {}

    def _add(self, name: str, tag: bytes, value: bytes) -> Self:
        if not name:
            raise CacheError("action key fields need a name")
        if name in self._fields:
            raise CacheError(f"action key field {name!r} given twice")
        self._fields[name] = (tag, value)
        return self

    def _check_leak(self, name: str, value: bytes) -> None:
        for needle in self._needles:
            if needle in value:
                raise CacheError(
                    f"action key field {name!r} contains the workspace's absolute path "
                    f"{os.fsdecode(needle)!r}: keys must not depend on where the checkout lives"
                )

    def add_str(self, name: str, value: str) -> Self:
        encoded = value.encode("utf-8", "surrogateescape")
        self._check_leak(name, encoded)
        return self._add(name, _TAG_STR, encoded)

    def add_bytes(self, name: str, value: bytes) -> Self:
        self._check_leak(name, value)
        return self._add(name, _TAG_BYTES, bytes(value))

    def add_digest(self, name: str, digest: bytes | str) -> Self:
        """A digest computed elsewhere (the rustg-core prelude's, a source file's): 32 raw
        bytes or 64 hex digits."""
        raw = bytes.fromhex(digest) if isinstance(digest, str) else bytes(digest)
        if len(raw) != DIGEST_SIZE:
            raise CacheError(f"action key field {name!r}: a digest is {DIGEST_SIZE} bytes")
        return self._add(name, _TAG_DIGEST, raw)

    def add_int(self, name: str, value: int) -> Self:
        return self._add(name, _TAG_INT, str(int(value)).encode())

    def add_strs(self, name: str, values: Iterable[str]) -> Self:
        """An ordered list of strings (compiler flags): order is part of the value."""
        items = [v.encode("utf-8", "surrogateescape") for v in values]
        for item in items:
            self._check_leak(name, item)
        return self._add(name, _TAG_STRS, len(items).to_bytes(8, "big") + b"".join(map(_lp, items)))

    def add_path(self, name: str, path: str | os.PathLike[str]) -> Self:
        """A path as a workspace-relative POSIX string (see ``workspace_relative``)."""
        return self._add(name, _TAG_PATH, workspace_relative(path, self._root).encode())

    def add_file(self, name: str, path: str | os.PathLike[str], content: bytes) -> Self:
        """A source file: its workspace-relative path and its content's digest (the pipeline
        has the bytes already; this does no I/O)."""
        relative = workspace_relative(path, self._root).encode()
        return self._add(name, _TAG_FILE, _lp(relative) + blake3.blake3(content).digest())

    def encoding(self) -> bytes:
        """The canonical byte string the key is the digest of (for tests and debugging)."""
        parts = [KEY_DOMAIN, _lp(self.kind.encode())]
        for name in sorted(self._fields):
            tag, value = self._fields[name]
            parts += (_lp(name.encode()), tag, _lp(value))
        return b"".join(parts)

    def finish(self) -> ActionKey:
        return ActionKey(blake3.blake3(self.encoding()).digest(), self.kind)
