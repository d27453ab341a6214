"""Token-sequence matching for many (rule, position) pairs at once, on the CPU or on CUDA.

Most built-in rules start with "these tokens in a row, inside (or not inside) these regions":
``. unwrap (``, ``dbg !``, ``static mut``, ``Box :: leak``. Every such sequence of every rule
is one row of a :class:`SeqTable`; one :func:`match_sequences` call matches all of them over the
significant-token stream of many files:

1. candidates: the positions whose token hash is the first token of some sequence
   (a binary search of every position's hash in the sorted first hashes);
2. pairs: each candidate expands to every sequence with that first token (a prefix sum of the
   per-candidate counts and one ``searchsorted``, the gather-expand idiom; no Python loop);
3. the pairs are checked token by token, ``k = 1 .. longest - 1``, one vectorised gather and
   compare per ``k`` over all pairs still alive; then the region bits of the first token.

The code is written against an array module ``xp``: NumPy on the CPU, CuPy on CUDA, the same
lines for both (so they cannot drift), and :class:`LintBackend` picks one the way
:class:`rustg.gpu.backend.Backend` does (CuPy imported lazily, on first CUDA use). Results are
sorted by (position, sequence) on both, so CPU and CUDA give identical arrays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rustg.gpu.backend import BackendKind
from rustg.gpu.errors import BackendUnavailable
from rustg.gpu.lint.context import text_hash
from rustg.gpu.tokens import PUNCT_CHARS, TokenKind

__all__ = ["ANY", "LintBackend", "SeqTable", "Stream", "compile_seq", "match_sequences"]

#: Wildcard kind in a sequence position.
ANY = -1
_CHAR_KIND = {c: k for k, c in PUNCT_CHARS.items()}
_CLASSES = {
    "$ident": int(TokenKind.IDENT),
    "$int": int(TokenKind.INT),
    "$float": int(TokenKind.FLOAT),
    "$str": int(TokenKind.STR),
    "$any": ANY,
}


def compile_seq(spec: str) -> list[tuple[int, int]]:
    """``". unwrap ("`` -> [(kind, hash or 0)]: words are IDENT with their text's hash,
    single punctuation characters their kind and hash, ``$ident``/``$int``/``$any`` classes
    (kind only). The first token must be a literal token: its hash indexes the table."""
    out: list[tuple[int, int]] = []
    for tok in spec.split():
        if tok in _CLASSES:
            out.append((_CLASSES[tok], 0))
        elif len(tok) == 1 and tok in _CHAR_KIND:
            out.append((int(_CHAR_KIND[tok]), text_hash(tok)))
        elif tok.replace("_", "a").isalnum():
            out.append((int(TokenKind.IDENT), text_hash(tok)))
        else:
            raise ValueError(f"sequence {spec!r}: cannot read token {tok!r}")
    if not out or out[0][1] == 0:
        raise ValueError(f"sequence {spec!r}: must start with a literal token, not a class")
    return out


@dataclass(frozen=True, slots=True, eq=False)
class SeqTable:
    """Sequences as padded arrays (P sequences, L = the longest)."""

    kind: npt.NDArray[np.int16]  # (P, L), ANY = wildcard
    hash: npt.NDArray[np.uint64]  # (P, L), 0 = any text
    length: npt.NDArray[np.int32]  # (P,)
    inside: npt.NDArray[np.uint8]  # (P,) region bits, 0 = anywhere; else one must be set
    not_inside: npt.NDArray[np.uint8]  # (P,) region bits none of which may be set

    @classmethod
    def build(cls, seqs: list[tuple[list[tuple[int, int]], int, int]]) -> SeqTable:
        p = len(seqs)
        width = max((len(s) for s, _, _ in seqs), default=1)
        kind = np.full((p, width), ANY, dtype=np.int16)
        hsh = np.zeros((p, width), dtype=np.uint64)
        for i, (s, _, _) in enumerate(seqs):
            for k, (kd, h) in enumerate(s):
                kind[i, k] = kd
                hsh[i, k] = np.uint64(h)
        return cls(
            kind=kind,
            hash=hsh,
            length=np.array([len(s) for s, _, _ in seqs], dtype=np.int32),
            inside=np.array([a for _, a, _ in seqs], dtype=np.uint8),
            not_inside=np.array([b for _, _, b in seqs], dtype=np.uint8),
        )

    def __len__(self) -> int:
        return len(self.length)


@dataclass(frozen=True, slots=True, eq=False)
class Stream:
    """The significant tokens of many files in one row space (``segment``: the file)."""

    kind: Any  # uint8
    hash: Any  # uint64
    region: Any  # uint8
    segment: Any  # int32


def match_sequences(xp: Any, stream: Stream, table: SeqTable) -> tuple[Any, Any]:
    """(sequence ids, stream positions) of every match, sorted by (position, sequence)."""
    n = int(stream.kind.shape[0])
    p = len(table)
    if n == 0 or p == 0:
        empty = xp.zeros(0, dtype=xp.int64)
        return empty, empty
    first = table.hash[:, 0]
    order = np.argsort(first, kind="stable")
    sorted_first = xp.asarray(first[order])
    order_x = xp.asarray(order.astype(np.int64))
    # candidates by binary search over the few first hashes (``isin`` sorts the whole stream:
    # half a millisecond of a 75 KB file's re-lint)
    lo_all = xp.searchsorted(sorted_first, stream.hash, side="left")
    cand = xp.flatnonzero(sorted_first[xp.minimum(lo_all, p - 1)] == stream.hash)
    h = stream.hash[cand]
    lo = lo_all[cand]
    hi = xp.searchsorted(sorted_first, h, side="right")
    counts = (hi - lo).astype(xp.int64)
    ends = xp.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    if total == 0:
        empty = xp.zeros(0, dtype=xp.int64)
        return empty, empty
    pair = xp.arange(total, dtype=xp.int64)
    c = xp.searchsorted(ends, pair, side="right")
    seq = order_x[lo[c] + (pair - (ends[c] - counts[c]))]
    pos = cand[c]
    kind_t = xp.asarray(table.kind)
    hash_t = xp.asarray(table.hash)
    length = xp.asarray(table.length)
    alive = pos + length[seq] <= n
    pos, seq = pos[alive], seq[alive]
    for k in range(table.kind.shape[1]):  # k = 0 too: the first token's kind
        need = length[seq] > k
        at = xp.minimum(pos + k, n - 1)
        want_kind = kind_t[seq, k]
        want_hash = hash_t[seq, k]
        ok = (want_kind == ANY) | (stream.kind[at].astype(xp.int16) == want_kind)
        ok &= (want_hash == 0) | (stream.hash[at] == want_hash)
        ok &= stream.segment[at] == stream.segment[pos]
        keep = ~need | ok
        pos, seq = pos[keep], seq[keep]
    reg = stream.region[pos]
    inside = xp.asarray(table.inside)[seq]
    not_inside = xp.asarray(table.not_inside)[seq]
    keep = ((inside == 0) | ((reg & inside) != 0)) & ((reg & not_inside) == 0)
    pos, seq = pos[keep], seq[keep]
    key = xp.lexsort(xp.stack([seq, pos]))
    return seq[key], pos[key]


class LintBackend:
    """CPU (NumPy) or CUDA (CuPy) for the linter's array work; ``RUSTG_BACKEND`` as the engine's.

    ``auto`` uses CUDA for streams of at least ``gpu_min_tokens`` tokens when a GPU is usable
    (one file's lint is microseconds of NumPy; a GPU round trip costs more)."""

    def __init__(self, kind: BackendKind | str | None = None, *, gpu_min_tokens: int = 1 << 20):
        raw = kind if kind is not None else os.environ.get("RUSTG_BACKEND", "auto")
        try:
            self.kind = BackendKind(str(raw).lower())
        except ValueError:
            raise BackendUnavailable(
                f"RUSTG_BACKEND={raw!r}: expected one of cpu, cuda, auto"
            ) from None
        self.gpu_min_tokens = gpu_min_tokens
        self._cupy: Any = None
        self._cuda_ok: tuple[bool, str] | None = None

    def _cuda_status(self) -> tuple[bool, str]:
        if self._cuda_ok is None:
            if self.kind is BackendKind.CPU:
                self._cuda_ok = (False, "RUSTG_BACKEND=cpu")
            else:
                from rustg.gpu.backend import _cuda_usable

                self._cuda_ok = _cuda_usable()
        return self._cuda_ok

    def xp_for(self, n_tokens: int) -> Any:
        if self.kind is BackendKind.CPU:
            return np
        usable, why = self._cuda_status()
        if self.kind is BackendKind.CUDA:
            if not usable:
                raise BackendUnavailable(f"RUSTG_BACKEND=cuda but {why}")
            return self._cp()
        if usable and n_tokens >= self.gpu_min_tokens:
            return self._cp()
        return np

    def _cp(self) -> Any:
        if self._cupy is None:
            import cupy

            self._cupy = cupy
        return self._cupy

    def match(self, stream_host: Stream, table: SeqTable) -> tuple[npt.NDArray[np.int64], ...]:
        """Match on the chosen device; results come back as NumPy arrays."""
        xp = self.xp_for(int(stream_host.kind.shape[0]))
        if xp is np:
            seq, pos = match_sequences(np, stream_host, table)
            return seq, pos
        dev = Stream(
            kind=xp.asarray(stream_host.kind),
            hash=xp.asarray(stream_host.hash),
            region=xp.asarray(stream_host.region),
            segment=xp.asarray(stream_host.segment),
        )
        seq, pos = match_sequences(xp, dev, table)
        return xp.asnumpy(seq), xp.asnumpy(pos)
