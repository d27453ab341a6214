"""The hot workspace: every file's bytes and engine arrays, resident, one slot per file.

A slot holds one file's results exactly as the single-file pipeline produces them (token
arrays over the file's own bytes, its token tree, its item index; rows and offsets relative to
the file). Saving a file re-lexes that file alone and swaps its slot; no other slot is touched.
Whole-workspace consumers read a :class:`WorkspaceView`: all slots concatenated in path order
into one buffer, one token array, one tree and one item index (rows, byte offsets and item
links shifted), rebuilt lazily on first access after a change, so it is always consistent
with the slots, and an old view handed out earlier stays valid (it is immutable). When the
backend's device is CUDA, :meth:`HotWorkspace.device_view` mirrors the view's arrays into GPU
memory (CuPy), uploaded once per generation.

Persistence: each slot is serialised (versioned schema, zstd) into LMDB under the BLAKE3 digest
of the file's content, in a named sub-database of an environment the caller owns (the daemon's
store). A restarted daemon hands :meth:`HotWorkspace.load_all` the files' bytes; every file
whose digest is found is restored without lexing; the rest are lexed together in ONE backend
call over one concatenated buffer, then split into slots. A cache that cannot be read or
written (full map, corrupt entry) costs a re-lex, never an error: the cache is an optimisation.

Editions: each file is lexed in its crate's edition (``edition_of(path)``, e.g.
:meth:`rustg.gpu.editions.EditionMap.edition_of`; 2021 when not given). The edition is part of
a slot and of its LMDB key (the same bytes lex differently in 2015 and 2021);
:meth:`HotWorkspace.refresh_editions` re-lexes the files whose edition changed after a
``Cargo.toml`` edit.

Thread safety: one lock serialises mutations and view building; the daemon calls in from worker
threads (``trio.to_thread.run_sync``), never from the event loop (LMDB, numba and hashing block).
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import blake3
import msgspec
import numba
import numpy as np
import numpy.typing as npt
import zstandard

from rustg.gpu.items import ItemIndex
from rustg.gpu.tokens import (
    DEFAULT_EDITION,
    Edition,
    FileStatus,
    TokenArrays,
    TokenKind,
    line_columns,
)
from rustg.gpu.tree import DelimIssue, TokenTree
from rustg.protocol.messages import Diagnostic, Severity, Span

# Positions travel as (line, column, end_line, end_column) quadruples: helpers take them flat.
# ruff: noqa: PLR0917

__all__ = [
    "SCHEMA_VERSION",
    "FileReport",
    "HotStatistics",
    "HotWorkspace",
    "SlotOutcome",
    "WorkspaceView",
    "syntax_diagnostics_of",
]

#: Bump when the lexer, tree or item index changes what they produce for the same bytes: the
#: key prefix changes, so stale cached arrays are never restored.
SCHEMA_VERSION = 1
SOURCE = "rustg-syntax"

_TOKEN_FIELDS = (
    "kind",
    "start",
    "end",
    "keyword",
    "file_token_offsets",
    "file_status",
    "file_utf8_error",
)
_TREE_FIELDS = ("match", "parent", "depth", "diag_kind", "diag_open", "diag_close")


class SlotOutcome(enum.StrEnum):
    LEXED = "lexed"  # lexed, tree and items built now
    RESTORED = "restored"  # arrays deserialised from LMDB: not lexed
    UNCHANGED = "unchanged"  # the slot already held this exact content


@dataclass(frozen=True, slots=True)
class FileReport:
    path: str
    digest: str  # BLAKE3 hex of the content
    outcome: SlotOutcome
    n_bytes: int
    n_tokens: int
    n_items: int
    status: FileStatus
    diagnostics: tuple[Diagnostic, ...]


@dataclass(slots=True)
class HotStatistics:
    lex_calls: int = 0  # backend.lex invocations (one per update, one per load_all batch)
    files_lexed: int = 0
    files_restored: int = 0
    files_unchanged: int = 0
    cache_writes: int = 0
    cache_errors: int = 0  # LMDB failures and corrupt entries (each cost a re-lex or no write)
    views_built: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class _Slot:
    digest: bytes
    tokens: TokenArrays
    tree: TokenTree
    items: ItemIndex
    edition: Edition = DEFAULT_EDITION


@dataclass(frozen=True, slots=True, eq=False)
class WorkspaceView:
    """All files concatenated in path order (see the module docstring). Immutable."""

    generation: int
    paths: tuple[str, ...]
    tokens: TokenArrays
    tree: TokenTree
    items: ItemIndex
    _index: dict[str, int] = field(repr=False)

    def file_index(self, path: str) -> int:
        return self._index[path]

    def nbytes(self) -> int:
        """Host memory of the arrays, source bytes included."""
        return (
            int(self.tokens.buffer.nbytes)
            + self.tokens.nbytes()
            + self.tree.nbytes()
            + self.items.nbytes()
        )


# ---------------------------------------------------------------------------------------------
# Splitting a batch into slots, and slots into a view


@numba.njit(cache=True, nogil=True)
def _relative(a: Any, seg: Any, base: Any, keep_negative: bool) -> Any:  # pragma: no cover
    """``a`` with each segment's rows ``seg[f]..seg[f+1]`` made relative to ``base[f]``;
    negative values (no link) stay -1 when ``keep_negative``. One pass, no per-row base array."""
    out = np.empty(len(a), dtype=np.int32)
    for f in range(len(seg) - 1):
        b = base[f]
        for i in range(seg[f], seg[f + 1]):
            v = a[i]
            out[i] = -1 if (keep_negative and v < 0) else v - b
    return out


def split_batch(
    tokens: TokenArrays, tree: TokenTree, items: ItemIndex
) -> list[tuple[TokenArrays, TokenTree, ItemIndex]]:
    """Every file of a batch as single-file arrays (rows, offsets and links made relative).

    The relative columns are computed once over the whole batch (each row minus its file's
    first row, -1 kept), then every file is slices of them: one ``np.where`` per column and
    file was half of indexing regex's 63 files (profiled: 14 of 30 ms)."""
    fo = tokens.file_offsets.astype(np.int64)
    fto = tokens.file_token_offsets.astype(np.int64)
    fio = items.file_item_offsets.astype(np.int64)
    ao = items.attr_offsets.astype(np.int64)
    n_files = len(fto) - 1

    files = np.arange(n_files + 1, dtype=np.int64)
    # per segment (file) of rows: values minus the file's base, -1 kept
    start = _relative(tokens.start, fto, fo, False)
    end = _relative(tokens.end, fto, fo, False)
    utf8 = _relative(tokens.file_utf8_error, files, fo, True)
    match, parent = _relative(tree.match, fto, fto, True), _relative(tree.parent, fto, fto, True)
    # Tree anomalies are sorted by their key row (the stray close of an unexpected close, the
    # open otherwise), so each file's are one contiguous range.
    key = np.where(tree.diag_kind == DelimIssue.UNEXPECTED_CLOSE, tree.diag_close, tree.diag_open)
    d_off = np.searchsorted(key, fto, side="left").astype(np.int64)
    diag_open = _relative(tree.diag_open, d_off, fto, True)
    diag_close = _relative(tree.diag_close, d_off, fto, True)
    cols = {
        c: _relative(getattr(items, c), fio, fto, True)
        for c in ("head", "start", "end", "name_first", "name_last", "trait_first",
                  "trait_last", "vis_open", "body")
    }  # fmt: skip
    it_parent = _relative(items.parent, fio, fio, True)
    a_off = ao[fio]  # each file's first attribute
    attr_start = _relative(items.attr_start, a_off, fto, True)
    attr_end = _relative(items.attr_end, a_off, fto, True)
    out = []
    for f in range(n_files):
        b0, b1 = int(fo[f]), int(fo[f + 1])
        t0, t1 = int(fto[f]), int(fto[f + 1])
        ft = TokenArrays(
            buffer=tokens.buffer[b0:b1],
            file_offsets=np.array([0, b1 - b0], dtype=np.int64),
            kind=tokens.kind[t0:t1],
            start=start[t0:t1],
            end=end[t0:t1],
            keyword=tokens.keyword[t0:t1],
            file_token_offsets=np.array([0, t1 - t0], dtype=np.int64),
            file_status=tokens.file_status[f : f + 1],
            file_utf8_error=utf8[f : f + 1],
        )
        d0, d1 = int(d_off[f]), int(d_off[f + 1])
        fr = TokenTree(
            match=match[t0:t1],
            parent=parent[t0:t1],
            depth=tree.depth[t0:t1],
            diag_kind=tree.diag_kind[d0:d1],
            diag_open=diag_open[d0:d1],
            diag_close=diag_close[d0:d1],
        )
        i0, i1 = int(fio[f]), int(fio[f + 1])
        a0, a1 = int(a_off[f]), int(a_off[f + 1])
        fi = ItemIndex(
            kind=items.kind[i0:i1],
            file=np.zeros(i1 - i0, dtype=np.int32),
            **{c: v[i0:i1] for c, v in cols.items()},
            vis=items.vis[i0:i1],
            parent=it_parent[i0:i1],
            depth=items.depth[i0:i1],
            flags=items.flags[i0:i1],
            file_item_offsets=np.array([0, i1 - i0], dtype=np.int64),
            attr_offsets=ao[i0 : i1 + 1] - a0,
            attr_kind=items.attr_kind[a0:a1],
            attr_start=attr_start[a0:a1],
            attr_end=attr_end[a0:a1],
        )
        out.append((ft, fr, fi))
    return out


def _concat(slots: list[_Slot]) -> tuple[TokenArrays, TokenTree, ItemIndex]:
    """One batch from single-file slots (the inverse of :func:`split_batch`)."""
    n = len(slots)
    byte_off = np.zeros(n + 1, dtype=np.int64)
    tok_off = np.zeros(n + 1, dtype=np.int64)
    item_off = np.zeros(n + 1, dtype=np.int64)
    attr_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(s.tokens.buffer) for s in slots], out=byte_off[1:])
    np.cumsum([len(s.tokens.kind) for s in slots], out=tok_off[1:])
    np.cumsum([len(s.items.kind) for s in slots], out=item_off[1:])
    np.cumsum([len(s.items.attr_kind) for s in slots], out=attr_off[1:])

    def cat(parts: Iterable[npt.NDArray[Any]], dtype: Any) -> npt.NDArray[Any]:
        ps = list(parts)
        return np.concatenate(ps).astype(dtype, copy=False) if ps else np.zeros(0, dtype=dtype)

    def shifted(get: Any, offs: npt.NDArray[np.int64], dtype: Any = np.int32) -> Any:
        # One concatenation, one repeat of the per-slot offsets, one where: vectorised over
        # all slots (a per-slot loop costs seconds for thousands of files).
        parts = [get(s) for s in slots]
        if not parts:
            return np.zeros(0, dtype=dtype)
        raw = np.concatenate(parts)
        shift = np.repeat(offs[:-1], [len(a) for a in parts])
        return np.where(raw >= 0, raw + shift, -1).astype(dtype)

    tokens = TokenArrays(
        buffer=cat((s.tokens.buffer for s in slots), np.uint8),
        file_offsets=byte_off,
        kind=cat((s.tokens.kind for s in slots), np.uint8),
        start=shifted(lambda s: s.tokens.start, byte_off),
        end=shifted(lambda s: s.tokens.end, byte_off),
        keyword=cat((s.tokens.keyword for s in slots), np.uint8),
        file_token_offsets=tok_off,
        file_status=cat((s.tokens.file_status for s in slots), np.uint8),
        file_utf8_error=shifted(lambda s: s.tokens.file_utf8_error, byte_off),
    )
    tree = TokenTree(
        match=shifted(lambda s: s.tree.match, tok_off),
        parent=shifted(lambda s: s.tree.parent, tok_off),
        depth=cat((s.tree.depth for s in slots), np.int32),
        diag_kind=cat((s.tree.diag_kind for s in slots), np.uint8),
        diag_open=shifted(lambda s: s.tree.diag_open, tok_off),
        diag_close=shifted(lambda s: s.tree.diag_close, tok_off),
    )
    rows = {
        f: shifted(lambda s, f=f: getattr(s.items, f), tok_off)
        for f in (
            "head",
            "start",
            "end",
            "name_first",
            "name_last",
            "trait_first",
            "trait_last",
            "vis_open",
            "body",
            "attr_start",
            "attr_end",
        )
    }
    # Each slot's attribute offsets without its final entry, shifted; then the grand total.
    attr_offsets = np.append(
        shifted(lambda s: s.items.attr_offsets[:-1], attr_off, np.int64), attr_off[-1]
    ).astype(np.int64)
    items = ItemIndex(
        kind=cat((s.items.kind for s in slots), np.uint8),
        file=np.repeat(np.arange(n, dtype=np.int32), np.diff(item_off)),
        parent=shifted(lambda s: s.items.parent, item_off),
        depth=cat((s.items.depth for s in slots), np.int32),
        vis=cat((s.items.vis for s in slots), np.uint8),
        flags=cat((s.items.flags for s in slots), np.uint32),
        file_item_offsets=item_off,
        attr_offsets=attr_offsets,
        attr_kind=cat((s.items.attr_kind for s in slots), np.uint8),
        **rows,
    )
    return tokens, tree, items


# ---------------------------------------------------------------------------------------------
# Serialisation (LMDB values)


class _Blob(msgspec.Struct, frozen=True):
    v: int
    arrays: dict[str, tuple[str, bytes]]


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(_Blob)


def _serialise(slot: _Slot) -> bytes:
    arrays: dict[str, tuple[str, bytes]] = {}
    for name in _TOKEN_FIELDS:
        a = getattr(slot.tokens, name)
        arrays["t." + name] = (a.dtype.str, a.tobytes())
    for name in _TREE_FIELDS:
        a = getattr(slot.tree, name)
        arrays["r." + name] = (a.dtype.str, a.tobytes())
    for name, a in slot.items.arrays().items():
        arrays["i." + name] = (a.dtype.str, a.tobytes())
    raw = _ENCODER.encode(_Blob(SCHEMA_VERSION, arrays))
    return zstandard.ZstdCompressor(level=1).compress(raw)


def _deserialise(
    value: bytes, content: npt.NDArray[np.uint8], digest: bytes, edition: Edition
) -> _Slot:
    blob = _DECODER.decode(zstandard.ZstdDecompressor().decompress(value))
    if blob.v != SCHEMA_VERSION:
        raise ValueError(f"schema {blob.v}, expected {SCHEMA_VERSION}")

    def arr(name: str) -> npt.NDArray[Any]:
        dt, data = blob.arrays[name]
        return np.frombuffer(data, dtype=np.dtype(dt)).copy()

    tokens = TokenArrays(
        buffer=content,
        file_offsets=np.array([0, len(content)], dtype=np.int64),
        **{n: arr("t." + n) for n in _TOKEN_FIELDS},
    )
    tree = TokenTree(**{n: arr("r." + n) for n in _TREE_FIELDS})
    items = ItemIndex(**{n: arr("i." + n) for n in ItemIndex.__dataclass_fields__})
    if len(tree.match) != len(tokens.kind) or int(tokens.file_token_offsets[-1]) != len(
        tokens.kind
    ):
        raise ValueError("inconsistent arrays")
    return _Slot(digest, tokens, tree, items, edition)


# ---------------------------------------------------------------------------------------------
# Syntax diagnostics


_ERROR_MESSAGES: dict[int, str] = {
    TokenKind.ERR_UNTERMINATED_STR: "unterminated double quote string",
    TokenKind.ERR_UNTERMINATED_CHAR: "unterminated character literal",
    TokenKind.ERR_UNTERMINATED_BLOCK_COMMENT: "unterminated block comment",
    TokenKind.ERR_UNTERMINATED_RAW_STR: "unterminated raw string",
    TokenKind.ERR_INVALID_RAW_STR: "invalid raw string literal delimiter",
    TokenKind.ERR_UNKNOWN_PREFIX: "prefix `{text}` is unknown",
    TokenKind.ERR_INVALID_LIFETIME: "lifetimes cannot start with a number",
    TokenKind.ERR_EMPTY_INT: "no valid digits found for number",
    TokenKind.ERR_EMPTY_EXPONENT: "expected at least one digit in exponent",
    TokenKind.ERR_STRAY: "unknown start of token: {text}",
    TokenKind.ERR_INVALID_UTF8: "invalid UTF-8 in source file",
}
_CLOSE_TEXT = {49: ")", 51: "]", 53: "}"}
_OPEN_TEXT = {48: "(", 50: "[", 52: "{"}


def syntax_diagnostics_of(
    path: str, tokens: TokenArrays, tree: TokenTree, *, max_file_bytes: int | None = None
) -> list[Diagnostic]:
    """Lexer error tokens and unbalanced delimiters of a single-file slot, as protocol
    diagnostics (1-based lines, columns in Unicode scalar values, end exclusive)."""
    status = FileStatus(int(tokens.file_status[0])) if len(tokens.file_status) else FileStatus.OK
    if status is FileStatus.BINARY:
        return [_diag(path, Severity.ERROR, "file contains NUL bytes: not Rust source", 1, 1, 1, 1)]
    if status is FileStatus.TOO_LARGE:
        limit = f" ({max_file_bytes} bytes)" if max_file_bytes else ""
        return [
            _diag(path, Severity.WARNING, f"file too large to analyse{limit}: skipped", 1, 1, 1, 1)
        ]
    errors = np.flatnonzero(tokens.kind >= 128)
    n_tree = len(tree.diag_kind)
    if not len(errors) and not n_tree:
        return []
    # Every position needed, converted in one vectorised call.
    eof = len(tokens.buffer)
    pos = [int(tokens.start[i]) for i in errors] + [int(tokens.end[i]) for i in errors]
    for q in range(n_tree):
        for r in (int(tree.diag_open[q]), int(tree.diag_close[q])):
            pos += [int(tokens.start[r]), int(tokens.end[r])] if r >= 0 else [eof, eof]
    lines, cols = line_columns(
        tokens.buffer, tokens.file_offsets, np.array(pos, dtype=np.int64), np.zeros(len(pos))
    )
    lc = list(zip(lines.tolist(), cols.tolist(), strict=True))
    out: list[Diagnostic] = []
    ne = len(errors)
    for n, i in enumerate(errors.tolist()):
        text = tokens.text(i).decode("utf-8", "replace")
        msg = _ERROR_MESSAGES.get(int(tokens.kind[i]), "invalid token").format(text=text)
        (l0, c0), (l1, c1) = lc[n], lc[ne + n]
        out.append(_diag(path, Severity.ERROR, msg, l0, c0, l1, c1))
    base = 2 * ne
    for q in range(n_tree):
        (ol, oc), (ol1, oc1), (cl, cc), (cl1, cc1) = lc[base + 4 * q : base + 4 * q + 4]
        o, c = int(tree.diag_open[q]), int(tree.diag_close[q])
        issue = DelimIssue(int(tree.diag_kind[q]))
        if issue is DelimIssue.UNCLOSED:
            # rustc's shape: the primary span is where the file ends; the label points home.
            spans = [
                _span(path, cl, cc, cl1, cc1, "file ends here", True),
                _span(path, ol, oc, ol1, oc1, "unclosed delimiter", False),
            ]
            msg = "this file contains an unclosed delimiter"
            d = _diag(path, Severity.ERROR, msg, cl, cc, cl1, cc1, spans=spans)
        elif issue is DelimIssue.MISMATCHED:
            ct = _CLOSE_TEXT.get(int(tokens.kind[c]), "?")
            spans = [
                _span(path, cl, cc, cl1, cc1, "mismatched closing delimiter", True),
                _span(path, ol, oc, ol1, oc1, "unclosed delimiter", False),
            ]
            msg = f"mismatched closing delimiter: `{ct}`"
            d = _diag(path, Severity.ERROR, msg, cl, cc, cl1, cc1, spans=spans)
        else:
            ct = _CLOSE_TEXT.get(int(tokens.kind[c]), "?")
            spans = [_span(path, cl, cc, cl1, cc1, "unexpected closing delimiter", True)]
            if o >= 0:
                m = int(tree.match[o])
                spans.append(_span(path, ol, oc, ol1, oc1, "this opening delimiter...", False))
                if m >= 0:
                    ml, mc = line_columns(
                        tokens.buffer,
                        tokens.file_offsets,
                        np.array([tokens.start[m], tokens.end[m]], dtype=np.int64),
                        np.zeros(2),
                    )
                    spans.append(
                        _span(path, int(ml[0]), int(mc[0]), int(ml[1]), int(mc[1]),
                              "...matches this closing delimiter", False)
                    )  # fmt: skip
            d = _diag(path, Severity.ERROR, f"unexpected closing delimiter: `{ct}`",
                      cl, cc, cl1, cc1, spans=spans)  # fmt: skip
        out.append(d)
    out.sort(key=lambda d: (d.line, d.column, d.message))
    return out


def _span(path: str, l0: int, c0: int, l1: int, c1: int, label: str, primary: bool) -> Span:
    return Span(
        file=path, line=l0, column=c0, end_line=l1, end_column=c1, label=label, primary=primary
    )


def _diag(
    path: str,
    severity: Severity,
    message: str,
    l0: int,
    c0: int,
    l1: int,
    c1: int,
    *,
    spans: list[Span] | None = None,
) -> Diagnostic:
    return Diagnostic(
        source=SOURCE,
        severity=severity,
        message=message,
        file=path,
        line=l0,
        column=c0,
        end_line=l1,
        end_column=c1,
        spans=spans if spans is not None else [_span(path, l0, c0, l1, c1, "", True)],
    )


# ---------------------------------------------------------------------------------------------
# The workspace


class HotWorkspace:
    """Per-file slots plus a lazily rebuilt workspace view; see the module docstring.

    ``backend`` is a :class:`rustg.gpu.backend.Backend` (default: the process-wide one);
    ``env`` an ``lmdb.Environment`` opened with room for one more named database (``max_dbs``),
    owned and closed by the caller; ``db_name`` the sub-database this engine writes. Paths are
    the caller's keys, workspace-relative POSIX paths, and are used verbatim in diagnostics.
    """

    def __init__(
        self,
        *,
        backend: Any = None,
        env: Any = None,
        db_name: bytes = b"engine",
        edition_of: Callable[[str], Edition] | None = None,
    ) -> None:
        if backend is None:
            from rustg.gpu.backend import get_backend

            backend = get_backend()
        self.backend = backend
        self._edition_of = edition_of
        self._env = env
        self._db = env.open_db(db_name) if env is not None else None
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.RLock()
        self._generation = 0
        self._view: WorkspaceView | None = None
        self._device_view: tuple[int, dict[str, Any]] | None = None
        self.stats = HotStatistics()

    # -- queries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, path: object) -> bool:
        return path in self._slots

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._slots)

    @property
    def generation(self) -> int:
        """Bumped by every change of any slot."""
        return self._generation

    def file(self, path: str) -> tuple[TokenArrays, TokenTree, ItemIndex]:
        """One file's arrays (rows relative to the file). KeyError if absent."""
        s = self._slots[path]
        return s.tokens, s.tree, s.items

    def digest(self, path: str) -> str:
        return self._slots[path].digest.hex()

    def syntax_diagnostics(self, path: str) -> list[Diagnostic]:
        s = self._slots[path]
        return syntax_diagnostics_of(
            path, s.tokens, s.tree, max_file_bytes=getattr(self.backend, "max_file_bytes", None)
        )

    def view(self) -> WorkspaceView:
        """The workspace-wide arrays, consistent with the slots at this generation."""
        with self._lock:
            if self._view is None or self._view.generation != self._generation:
                paths = tuple(sorted(self._slots))
                tokens, tree, items = _concat([self._slots[p] for p in paths])
                self._view = WorkspaceView(
                    self._generation,
                    paths,
                    tokens,
                    tree,
                    items,
                    {p: i for i, p in enumerate(paths)},
                )
                self.stats.views_built += 1
            return self._view

    def device_view(self) -> dict[str, Any] | None:
        """The view's arrays in GPU memory (CuPy), or None when the backend has no GPU.

        Keys: ``buffer``, ``file_offsets``, the token fields, ``tree.<field>``, ``items.<field>``.
        Uploaded once per generation, when first asked for.
        """
        usable, _why = self.backend.cuda_status()
        if not usable:
            return None
        with self._lock:
            v = self.view()
            if self._device_view is None or self._device_view[0] != v.generation:
                import cupy

                arrays: dict[str, Any] = {
                    "buffer": cupy.asarray(v.tokens.buffer),
                    "file_offsets": cupy.asarray(v.tokens.file_offsets),
                }
                for n in _TOKEN_FIELDS:
                    arrays[n] = cupy.asarray(getattr(v.tokens, n))
                for n in _TREE_FIELDS:
                    arrays["tree." + n] = cupy.asarray(getattr(v.tree, n))
                for n, a in v.items.arrays().items():
                    arrays["items." + n] = cupy.asarray(a)
                self._device_view = (v.generation, arrays)
            return self._device_view[1]

    def nbytes(self) -> int:
        """Host memory held by the slots (source bytes included; a built view adds as much)."""
        return sum(
            int(s.tokens.buffer.nbytes) + s.tokens.nbytes() + s.tree.nbytes() + s.items.nbytes()
            for s in self._slots.values()
        )

    # -- mutations -------------------------------------------------------------------------

    def edition(self, path: str) -> Edition:
        """The edition ``path`` is lexed in (from ``edition_of``; 2021 without it)."""
        return self._edition_of(path) if self._edition_of is not None else DEFAULT_EDITION

    def update(self, path: str, content: bytes) -> FileReport:
        """A saved file: re-lex it alone (or restore it from LMDB) and replace its slot."""
        digest = blake3.blake3(content).digest()
        ed = self.edition(path)
        with self._lock:
            old = self._slots.get(path)
            if old is not None and old.digest == digest and old.edition == ed:
                self.stats.files_unchanged += 1
                return self._report(path, old, SlotOutcome.UNCHANGED)
            buf = np.frombuffer(content, dtype=np.uint8)
            slot = self._restore(digest, buf, ed)
            if slot is not None:
                outcome = SlotOutcome.RESTORED
                self.stats.files_restored += 1
            else:
                slot = self._lex_one(digest, buf, ed)
                outcome = SlotOutcome.LEXED
                self._persist([slot])
            self._slots[path] = slot
            self._changed()
            return self._report(path, slot, outcome)

    def remove(self, path: str) -> bool:
        """Forget a deleted file. False if it was not there. (Its LMDB entry stays: content
        addressed, it serves any file that comes back with the same bytes.)"""
        with self._lock:
            if self._slots.pop(path, None) is None:
                return False
            self._changed()
            return True

    def rename(self, old: str, new: str) -> None:
        """Move a slot to a new path (the arrays do not depend on the path). A file already at
        ``new`` is replaced, as a filesystem rename does."""
        with self._lock:
            slot = self._slots.pop(old)
            self._slots[new] = slot
            self._changed()

    def refresh_editions(self) -> list[FileReport]:
        """After a manifest changed: re-lex (in one batch) the files whose edition changed.
        Reports only those files."""
        with self._lock:
            moved = [p for p, s in sorted(self._slots.items()) if s.edition != self.edition(p)]
            if not moved:
                return []
            files = {p: self._slots[p].tokens.buffer.tobytes() for p in moved}
            reports = self._load(files, replace=False)
            return reports

    def load_all(self, files: Mapping[str, bytes]) -> list[FileReport]:
        """Cold start: restore what LMDB has, lex the rest in one batch; replaces every slot
        (paths not in ``files`` are dropped). Reports in sorted path order."""
        return self._load(files, replace=True)

    def _load(self, files: Mapping[str, bytes], *, replace: bool) -> list[FileReport]:
        with self._lock:
            paths = sorted(files)
            digests = {p: blake3.blake3(files[p]).digest() for p in paths}
            eds = {p: self.edition(p) for p in paths}
            slots: dict[str, _Slot] = {}
            outcomes: dict[str, SlotOutcome] = {}
            todo: list[str] = []
            for p in paths:
                content = files[p]
                known = self._slots.get(p)
                if known is not None and known.digest == digests[p] and known.edition == eds[p]:
                    slots[p], outcomes[p] = known, SlotOutcome.UNCHANGED
                    self.stats.files_unchanged += 1
                    continue
                restored = self._restore(digests[p], np.frombuffer(content, dtype=np.uint8), eds[p])
                if restored is not None:
                    slots[p], outcomes[p] = restored, SlotOutcome.RESTORED
                    self.stats.files_restored += 1
                else:
                    todo.append(p)
            # Files with identical content (and edition) are lexed once.
            unique: dict[tuple[bytes, Edition], str] = {}
            for p in todo:
                unique.setdefault((digests[p], eds[p]), p)
            if unique:
                batch_paths = list(unique.values())
                lexed = self._lex_batch(batch_paths, [files[p] for p in batch_paths],
                                        [digests[p] for p in batch_paths],
                                        [eds[p] for p in batch_paths])  # fmt: skip
                self._persist(lexed)
                by_key = {(s.digest, s.edition): s for s in lexed}
                for p in todo:
                    slot = by_key[(digests[p], eds[p])]
                    if unique[(digests[p], eds[p])] != p:  # same bytes as another file: share
                        slot = _Slot(
                            slot.digest,
                            _with_buffer(slot.tokens, np.frombuffer(files[p], dtype=np.uint8)),
                            slot.tree,
                            slot.items,
                            slot.edition,
                        )
                    slots[p], outcomes[p] = slot, SlotOutcome.LEXED
            if replace:
                self._slots = slots
            else:
                self._slots.update(slots)
            self._changed()
            return [self._report(p, slots[p], outcomes[p]) for p in paths]

    # -- internals -------------------------------------------------------------------------

    def _changed(self) -> None:
        self._generation += 1

    def _report(self, path: str, slot: _Slot, outcome: SlotOutcome) -> FileReport:
        status = FileStatus(int(slot.tokens.file_status[0]))
        return FileReport(
            path=path,
            digest=slot.digest.hex(),
            outcome=outcome,
            n_bytes=len(slot.tokens.buffer),
            n_tokens=len(slot.tokens.kind),
            n_items=len(slot.items),
            status=status,
            diagnostics=tuple(self.syntax_diagnostics(path)) if path in self._slots else (),
        )

    def _lex_one(self, digest: bytes, buf: npt.NDArray[np.uint8], edition: Edition) -> _Slot:
        from rustg.gpu.backend import Device

        # One file is small work: the CPU, where it costs no launch or transfer (issue 3), and
        # one numba thread (see one_numba_thread).
        with one_numba_thread():
            offsets = np.array([0, len(buf)], dtype=np.int64)
            tokens, tree, items = self.backend.index(
                buf, offsets, editions=edition, device=Device.CPU
            )
        self.stats.lex_calls += 1
        self.stats.files_lexed += 1
        return _Slot(digest, tokens, tree, items, edition)

    def _lex_batch(
        self, paths: list[str], contents: list[bytes], digests: list[bytes], eds: list[Edition]
    ) -> list[_Slot]:
        offs = np.zeros(len(contents) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in contents], out=offs[1:])
        buffer = np.frombuffer(b"".join(contents), dtype=np.uint8)

        # The backend's policy picks the device for the whole batch (auto: the GPU when there
        # is one and the batch is big); tree and items follow the lexer there.
        device = self.backend.device_for(len(buffer), len(contents))
        small = len(buffer) < PARALLEL_MIN_BYTES
        with one_numba_thread() if small else contextlib.nullcontext():
            tokens, tree, items = self.backend.index(buffer, offs, editions=eds, device=device)
        self.stats.lex_calls += 1
        self.stats.files_lexed += len(paths)
        parts = split_batch(tokens, tree, items)
        return [_Slot(digests[f], *parts[f], eds[f]) for f in range(len(paths))]

    def _key(self, digest: bytes, edition: Edition) -> bytes:
        limit = int(getattr(self.backend, "max_file_bytes", 0))
        return b"hot/%d/%d/%d/" % (SCHEMA_VERSION, limit, int(edition)) + digest

    def _restore(self, digest: bytes, buf: npt.NDArray[np.uint8], edition: Edition) -> _Slot | None:
        if self._env is None:
            return None
        import lmdb

        try:
            with self._env.begin(db=self._db) as txn:
                value = txn.get(self._key(digest, edition))
            if value is None:
                return None
            return _deserialise(bytes(value), buf, digest, edition)
        except (lmdb.Error, msgspec.DecodeError, zstandard.ZstdError, ValueError, KeyError,
                TypeError):  # fmt: skip
            self.stats.cache_errors += 1  # a corrupt or unreadable entry: lex instead
            return None

    def _persist(self, slots: list[_Slot]) -> None:
        if self._env is None or not slots:
            return
        import lmdb

        values = [(self._key(s.digest, s.edition), _serialise(s)) for s in slots]
        try:
            with self._env.begin(write=True, db=self._db) as txn:
                for k, v in values:
                    txn.put(k, v)
            self.stats.cache_writes += len(values)
        except lmdb.Error:
            self.stats.cache_errors += 1  # e.g. MapFullError: the next start lexes again


#: Batches below this many bytes are indexed on one numba thread. The parallel pool's
#: barriers wait for a thread the OS has descheduled, so on a loaded machine a small batch
#: pays tens of ms of jitter per kernel for little gain. Measured on the shared 2-core box
#: (load 1-1.5): regex 1.7 (0.7 MB) 27-190 ms with 2 threads vs 13-20 ms with one; a 4.4 MB
#: corpus slice 96-107 vs 117-135 ms; the whole 63 MB corpus 1.4-1.8 s vs 1.9-2.0 s.
PARALLEL_MIN_BYTES = 4 << 20


@contextlib.contextmanager
def one_numba_thread() -> Iterator[None]:
    """numba's parallel kernels on one thread for the duration (per calling thread: other
    threads' work is unaffected). A single 1,300-line file on the loaded 2-core box: items
    p95 116 ms with the pool, 3.5 ms without."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _with_buffer(tokens: TokenArrays, buf: npt.NDArray[np.uint8]) -> TokenArrays:
    return TokenArrays(
        buffer=buf,
        file_offsets=tokens.file_offsets,
        kind=tokens.kind,
        start=tokens.start,
        end=tokens.end,
        keyword=tokens.keyword,
        file_token_offsets=tokens.file_token_offsets,
        file_status=tokens.file_status,
        file_utf8_error=tokens.file_utf8_error,
    )


def timed_update(ws: HotWorkspace, path: str, content: bytes) -> tuple[FileReport, float]:
    """``ws.update`` with its wall time in seconds (for benchmarks and the daemon's job log)."""
    t0 = time.perf_counter()
    r = ws.update(path, content)
    return r, time.perf_counter() - t0
