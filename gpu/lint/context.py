"""One file as the rules see it: the engine's arrays plus the derived per-row facts rules share.

Built from one file's :class:`~rustg.gpu.tokens.TokenArrays`, :class:`~rustg.gpu.tree.TokenTree`
and :class:`~rustg.gpu.items.ItemIndex` (``HotWorkspace.file(path)`` or ``index_file(source)``:
rows and offsets relative to the file). Everything per row is computed array-at-a-time:

* ``nxt``/``prv``: the next/previous *significant* row (not whitespace or a comment), from one
  ``searchsorted`` over the significant rows; rules match token sequences through them.
* ``hashes``: a 64-bit FNV-1a of every token's text (numba, parallel over rows), so a rule asks
  "is this token ``unwrap``" with one integer compare over all rows at once.
* ``regions()``: :class:`~rustg.gpu.lint.model.Region` bits. Every region is a set of row
  intervals (a fn body from its ``{`` to the tree's ``match`` of it, an ``unsafe {`` block, a
  loop body); intervals become bits through a difference array and one cumulative sum per bit.
  The only scan is the numba search for a loop's body ``{`` (the first ``{`` after the keyword
  in the same group: Rust forbids struct literals in loop heads, so that ``{`` is the body),
  parallel over loop keywords and jumping over nested groups by their ``match`` links.
* ``fn_of``: per row, the innermost fn item whose body holds it (outer fns written first,
  inner ones overwrite: a slice assignment per fn item, not per token).

:class:`FnSummary` is what the cross-file rules need from a file (its fns and their calls),
small and cacheable by content hash; :mod:`rustg.gpu.lint.graph` joins them into the call graph.
"""

# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="no-any-return"

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from rustg.gpu.items import ItemFlag, ItemIndex, ItemKind
from rustg.gpu.lint.model import Region
from rustg.gpu.tokens import Keyword, TokenArrays, TokenKind
from rustg.gpu.tree import TokenTree

__all__ = ["KIND", "KW", "FnInfo", "FnSummary", "LintFile", "text_hash"]


class _Ints:
    """An enum's members as plain ints: Python 3.11's enum attribute access is a slow path
    (profiled: ~1 s of 8 over 635 corpus files), and rules compare in tight loops."""

    def __init__(self, enum_: type[Any]) -> None:
        for m in enum_:
            setattr(self, m.name, int(m))

    def __getattr__(self, name: str) -> int:  # for mypy: every member is an int
        raise AttributeError(name)


KIND: Any = _Ints(TokenKind)
KW: Any = _Ints(Keyword)

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)

_K_OPEN_BRACE = int(TokenKind.OPEN_BRACE)
_K_SEMI = int(TokenKind.SEMI)


@functools.lru_cache(maxsize=4096)  # rules ask for the same few words in every file
def text_hash(text: str | bytes) -> int:
    """The same FNV-1a 64 as :func:`_hash_rows`, for a pattern's literal token text."""
    data = text.encode() if isinstance(text, str) else text
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# Serial on purpose: a context is one file (thousands of rows, microseconds of work); numba's
# thread pool costs more than that to wake (measured ~10 ms a call on the shared 2-core box).
@numba.njit(cache=True, nogil=True)
def _hash_rows(buffer, start, end):  # pragma: no cover - compiled
    n = len(start)
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(start[i], end[i]):
            h = (h ^ np.uint64(buffer[j])) * np.uint64(0x100000001B3)
        out[i] = h
    return out


@numba.njit(cache=True, nogil=True)
def _body_open(kind, match, parent, rows, limit):  # pragma: no cover - compiled
    """For each keyword row: the first ``{`` after it in the same group (nested groups jumped
    by their ``match`` link), or -1 when a ``;`` or the group's end comes first."""
    out = np.full(len(rows), -1, dtype=np.int64)
    n = len(kind)
    for q in range(len(rows)):
        r = rows[q]
        p = parent[r]
        j = r + 1
        steps = 0
        while j < n and steps < limit:
            steps += 1
            if parent[j] != p:
                break  # left the group: the keyword had no body here
            k = kind[j]
            if k == _K_OPEN_BRACE:
                out[q] = j
                break
            if k == _K_SEMI:
                break
            if (k == 48 or k == 50) and match[j] > j:  # noqa: PLR1714 (numba) ( or [: jump
                j = match[j] + 1
                continue
            j += 1
    return out


@numba.njit(cache=True, nogil=True)
def _neighbours(kind):  # pragma: no cover - compiled
    """Per row the next significant row after it (``n`` when none, and ``nxt[n] == n``) and
    the previous one before it (-1): one pass each way instead of two ``searchsorted`` over
    every row (profiled: 5.6 of 62 ms over regex's 63 files)."""
    n = len(kind)
    nxt = np.empty(n + 1, dtype=np.int64)
    prv = np.empty(n, dtype=np.int64)
    nxt[n] = n
    nx = n
    for i in range(n - 1, -1, -1):
        nxt[i] = nx
        if kind[i] >= 16:
            nx = i
    pv = -1
    for i in range(n):
        prv[i] = pv
        if kind[i] >= 16:
            pv = i
    return nxt, prv


@numba.njit(cache=True, nogil=True)
def _paint_owner(n, item, lo, hi):  # pragma: no cover - compiled
    """Per row the last of ``item`` whose [lo, hi] holds it (items ordered outer first)."""
    out = np.full(n, -1, dtype=np.int64)
    for q in range(len(item)):
        for r in range(lo[q], hi[q] + 1):
            out[r] = item[q]
    return out


@numba.njit(cache=True, nogil=True)
def _rows_with(sig, sig_hashes, wanted):  # pragma: no cover - compiled
    """Rows of ``sig`` whose hash is in ``wanted``, once per equal entry of it: one sequential
    scan of the file's significant-token hashes (a per-file argsort of the hashes cost more:
    5 of 35 ms over regex's files)."""
    out = np.empty(len(sig) * len(wanted), dtype=np.int64)
    q = 0
    for i in range(len(sig)):
        h = sig_hashes[i]
        for w in wanted:
            if h == w:
                out[q] = sig[i]
                q += 1
    return out[:q].copy()


@numba.njit(cache=True, nogil=True)
def _class_counts(buf, s, e):  # pragma: no cover - compiled
    """Upper-case, lower-case and ``_`` bytes in each span [s, e)."""
    out = np.zeros((3, len(s)), dtype=np.int64)
    for i in range(len(s)):
        for j in range(s[i], e[i]):
            b = buf[j]
            if b >= 65 and b <= 90:
                out[0, i] += 1
            elif b >= 97 and b <= 122:
                out[1, i] += 1
            elif b == 95:
                out[2, i] += 1
    return out


_KW_FOR = int(Keyword.FOR)
_KW_WHILE = int(Keyword.WHILE)
_KW_LOOP = int(Keyword.LOOP)
_KW_NONE = int(Keyword.NONE)
_K_IDENT = int(TokenKind.IDENT)
_K_GT = int(TokenKind.GT)
_K_LT = int(TokenKind.LT)
_K_EQ = int(TokenKind.EQ)


@numba.njit(cache=True, nogil=True)
def _loop_keywords(sig, kind, kw, nxt, prv):  # pragma: no cover - compiled
    """``for``/``while``/``loop`` rows that start a loop. `for<'a>` (higher-ranked bounds) and
    `impl Trait for Type` are not loops: in the latter the previous token is the trait's name
    or its `>` (but not the `>` of a match arm's `=>`)."""
    n = len(kind)
    out = np.empty(len(sig), dtype=np.int64)
    q = 0
    for r in sig:
        w = kw[r]
        if w != _KW_FOR and w != _KW_WHILE and w != _KW_LOOP:  # noqa: PLR1714 (numba)
            continue
        if w == _KW_FOR:
            nx = nxt[r]
            nk = kind[nx] if nx < n else 0
            prev = prv[r]
            pk = kind[prev] if prev >= 0 else _K_SEMI
            pkw = kw[prev] if prev >= 0 else 0
            after_type = (pk == _K_IDENT and pkw == _KW_NONE) or pk == _K_GT
            pp = prv[max(prev, 0)]
            arm = pk == _K_GT and kind[max(pp, 0)] == _K_EQ
            if nk == _K_LT or (after_type and not arm):
                continue
        out[q] = r
        q += 1
    return out[:q]


_I_FN = int(ItemKind.FN)
_I_EXTERN_BLOCK = int(ItemKind.EXTERN_BLOCK)
_GPU_BITS = int(Region.KERNEL | Region.DEVICE)
_GPU_FLAGS = int(ItemFlag.KERNEL | ItemFlag.DEVICE)
#: ``word_rows`` scans the file for its first calls (the built-in rules ask ~5 per file: a
#: sorted index would cost more than it saves), then builds a sorted index: a file with many
#: naming findings asks once per rename fix (corpus: 31,000 calls, 3.8 s of scans).
_SCANS_BEFORE_INDEX = 8
_F_KERNEL = int(ItemFlag.KERNEL)
_F_DEVICE = int(ItemFlag.DEVICE)
_F_TESTS = int(ItemFlag.TEST | ItemFlag.GPU_TEST)
_F_UNSAFE = int(ItemFlag.UNSAFE)
_F_CFG_TEST = int(ItemFlag.CFG_TEST)
_KW_UNSAFE = int(Keyword.UNSAFE)
_B_KERNEL = int(Region.KERNEL).bit_length() - 1
_B_DEVICE = int(Region.DEVICE).bit_length() - 1
_B_TEST = int(Region.TEST).bit_length() - 1
_B_UNSAFE = int(Region.UNSAFE).bit_length() - 1
_B_LOOP = int(Region.LOOP).bit_length() - 1
_B_FN = int(Region.FN).bit_length() - 1
_N_BITS = max(int(r).bit_length() for r in Region)


@numba.njit(cache=True, nogil=True)
def _region_bits(kind, keyword, match, parent, nxt, sig, it_kind, it_body, it_flags, it_start,  # noqa: PLR0917
                 it_end, loops):  # fmt: skip  # pragma: no cover - compiled
    """Region bits per row (see the module docstring): every region is row intervals, made
    bits through a difference array per bit and one running sum. One pass over the items, the
    ``unsafe`` keywords and the loops (the NumPy version was ~40 small array calls a file)."""
    n = len(kind)
    diff = np.zeros((n + 1, _N_BITS), dtype=np.int32)  # a row's counters side by side
    for i in range(len(it_kind)):
        fl = it_flags[i]
        if it_kind[i] == _I_FN:
            b = it_body[i]
            if b >= 0 and kind[b] == _K_OPEN_BRACE:
                c = match[b] if match[b] >= 0 else n - 1
                diff[b, _B_FN] += 1
                diff[c + 1, _B_FN] -= 1
                if fl & _F_KERNEL:
                    diff[b, _B_KERNEL] += 1
                    diff[c + 1, _B_KERNEL] -= 1
                if fl & _F_DEVICE:
                    diff[b, _B_DEVICE] += 1
                    diff[c + 1, _B_DEVICE] -= 1
                if fl & _F_TESTS:
                    diff[b, _B_TEST] += 1
                    diff[c + 1, _B_TEST] -= 1
                if fl & _F_UNSAFE:
                    diff[b, _B_UNSAFE] += 1
                    diff[c + 1, _B_UNSAFE] -= 1
        if fl & _F_CFG_TEST:  # #[cfg(test)] items (usually `mod tests`): all test code
            diff[it_start[i], _B_TEST] += 1
            diff[it_end[i] + 1, _B_TEST] -= 1
    for r in sig:  # unsafe { ... } blocks: `unsafe` directly followed by `{`
        if keyword[r] == _KW_UNSAFE:
            o = nxt[r]
            if o < n and kind[o] == _K_OPEN_BRACE:
                c = match[o] if match[o] >= 0 else n - 1
                diff[o, _B_UNSAFE] += 1
                diff[c + 1, _B_UNSAFE] -= 1
    if len(loops):
        for o in _body_open(kind, match, parent, loops, 100_000):
            if o >= 0:
                c = match[o] if match[o] >= 0 else n - 1
                diff[o, _B_LOOP] += 1
                diff[c + 1, _B_LOOP] -= 1
    out = np.zeros(n, dtype=np.uint8)
    run = np.zeros(_N_BITS, dtype=np.int32)
    for i in range(n):
        v = 0
        for b in range(_N_BITS):
            run[b] += diff[i, b]
            if run[b] > 0:
                v |= 1 << b
        out[i] = v
    return out


@dataclass(frozen=True, slots=True)
class FnInfo:
    """One fn of a file, for the call graph."""

    item: int  # row of the file's ItemIndex
    name: str
    flags: int  # ItemFlag bits
    head_byte: int
    name_start: int
    name_end: int
    calls: tuple[tuple[str, int, int, bool], ...]  # (callee, start byte, end byte, is method)


@dataclass(frozen=True, slots=True)
class FnSummary:
    """What a file contributes to the workspace call graph."""

    path: str
    fns: tuple[FnInfo, ...] = field(default=())


class LintFile:
    """A :class:`~rustg.gpu.lint.model.FileContext` over one file's engine arrays."""

    def __init__(
        self,
        path: str,
        source: bytes,
        tokens: TokenArrays,
        tree: TokenTree,
        items: ItemIndex,
    ) -> None:
        self.path = path
        self.source = source
        self.tokens = tokens
        self.tree = tree.to_host() if hasattr(tree, "to_host") else tree
        self.items = items.to_host()
        self.kind: npt.NDArray[np.uint8] = tokens.kind
        self.keyword: npt.NDArray[np.uint8] = tokens.keyword
        self.start: npt.NDArray[np.int32] = tokens.start
        self.end: npt.NDArray[np.int32] = tokens.end
        self.match: npt.NDArray[np.int32] = np.asarray(self.tree.match)
        self.parent: npt.NDArray[np.int32] = np.asarray(self.tree.parent)
        self.n = len(self.kind)
        self._word_calls = 0

    @classmethod
    def from_source(cls, path: str, source: bytes, *, backend: Any = None) -> LintFile:
        from rustg.gpu.items import index_file

        tokens, tree, items = index_file(source, backend=backend)
        return cls(path, source, tokens, tree, items)

    # -- the FileContext protocol ----------------------------------------------------------

    def text(self, row: int) -> str:
        return self.source[int(self.start[row]) : int(self.end[row])].decode("utf-8", "replace")

    def regions(self) -> npt.NDArray[np.uint8]:
        return self._regions

    # -- derived arrays ----------------------------------------------------------------------

    @cached_property
    def sig(self) -> npt.NDArray[np.int64]:
        """Significant rows (not whitespace, comments, shebang or BOM), ascending."""
        return np.flatnonzero(self.kind >= 16)

    @cached_property
    def kind_x(self) -> npt.NDArray[np.uint8]:
        """``kind`` with one 0 appended, so row ``n`` (``nxt``'s "none") can be indexed."""
        return np.append(self.kind, np.uint8(0))

    @cached_property
    def regions_x(self) -> npt.NDArray[np.uint8]:
        return np.append(self._regions, np.uint8(0))

    @cached_property
    def hashes_x(self) -> npt.NDArray[np.uint64]:
        return np.append(self.hashes, np.uint64(0))

    @cached_property
    def _neighbours(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        return _neighbours(self.kind)

    @cached_property
    def nxt(self) -> npt.NDArray[np.int64]:
        """Per row: the next significant row after it (``n`` when none); ``nxt[n] == n``."""
        return self._neighbours[0]

    @cached_property
    def prv(self) -> npt.NDArray[np.int64]:
        """Per row: the previous significant row before it (``-1`` when none)."""
        return self._neighbours[1]

    @cached_property
    def hashes(self) -> npt.NDArray[np.uint64]:
        buf = np.frombuffer(self.source, dtype=np.uint8)
        if self.n == 0:
            return np.zeros(0, dtype=np.uint64)
        return _hash_rows(buf, self.start, self.end)

    def is_text(self, rows: Any, text: str) -> Any:
        """Vectorised "row's text == text" (rows: an index array; ``n`` is never equal)."""
        h = self.hashes_x
        return h[rows] == np.uint64(text_hash(text))

    def word_rows(self, *texts: str) -> npt.NDArray[np.int64]:
        """Significant rows whose text is one of ``texts`` (identifiers, keywords), ascending
        (a row twice when its word is given twice)."""
        wanted = np.array([text_hash(t) for t in texts], dtype=np.uint64)
        self._word_calls += 1
        if self._word_calls <= _SCANS_BEFORE_INDEX:
            return _rows_with(self.sig, self.sig_hashes, wanted)
        order, sorted_h = self._hash_index
        lo = np.searchsorted(sorted_h, wanted, side="left")
        hi = np.searchsorted(sorted_h, wanted, side="right")
        parts = [order[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]
        return np.sort(np.concatenate(parts)) if len(parts) > 1 else parts[0]

    def rows_of_words(self, texts: list[str]) -> list[npt.NDArray[np.int64]]:
        """``word_rows(t)`` for each of ``texts``, in one vectorised lookup (the naming rules'
        rename fixes: thousands of names in a file of FFI bindings took 37 us a call)."""
        if not texts:
            return []
        wanted = np.array([text_hash(t) for t in texts], dtype=np.uint64)
        order, sorted_h = self._hash_index
        lo = np.searchsorted(sorted_h, wanted, side="left").tolist()
        hi = np.searchsorted(sorted_h, wanted, side="right").tolist()
        return [order[a:b] for a, b in zip(lo, hi, strict=True)]

    @cached_property
    def sig_hashes(self) -> npt.NDArray[np.uint64]:
        """``hashes`` of the significant rows, contiguous (word scans, the sequence stream)."""
        return self.hashes[self.sig]

    @cached_property
    def _hash_index(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """Significant rows sorted by token hash, and those hashes (for files asked many
        words: the naming rules' rename fixes look up every flagged name)."""
        h = self.sig_hashes
        order = np.argsort(h, kind="stable")  # equal hashes keep row order: slices ascend
        return self.sig[order], h[order]

    def class_counts(self, s_byte: Any, e_byte: Any) -> dict[str, npt.NDArray[np.int64]]:
        """Upper-case, lower-case and `_` bytes of each span [s, e) (the naming rules'
        vectorised pre-filter; spans are names, so this touches a few bytes per item rather
        than building prefix counts over the whole file)."""
        buf = np.frombuffer(self.source, dtype=np.uint8)
        c = _class_counts(buf, np.asarray(s_byte, np.int64), np.asarray(e_byte, np.int64))
        return {"upper": c[0], "lower": c[1], "under": c[2]}

    def rows_containing(self, *needles: bytes) -> npt.NDArray[np.int64]:
        """Rows (ascending, each once) whose token holds one of ``needles`` at its start
        position: a pre-filter for rules that search comment text (``bytes.find`` over the
        file instead of decoding every comment)."""
        src = self.source
        hits = []
        for needle in needles:
            p = src.find(needle)
            while p >= 0:
                hits.append(p)
                p = src.find(needle, p + 1)
        if not hits:
            return np.zeros(0, dtype=np.int64)
        rows = np.searchsorted(self.start, np.array(hits, dtype=np.int64), side="right") - 1
        return np.unique(rows[rows >= 0])

    @cached_property
    def line_starts(self) -> npt.NDArray[np.int64]:
        buf = np.frombuffer(self.source, dtype=np.uint8)
        return np.concatenate(([0], np.flatnonzero(buf == 0x0A) + 1)).astype(np.int64)

    def line_of(self, byte: int) -> int:
        """1-based line of a byte offset."""
        return int(np.searchsorted(self.line_starts, byte, side="right"))

    def lines_of(self, bytes_: Any) -> npt.NDArray[np.int64]:
        return np.searchsorted(self.line_starts, bytes_, side="right")

    def row_at(self, byte: int) -> int:
        """The token row holding a byte offset."""
        return max(int(np.searchsorted(self.start, byte, side="right")) - 1, 0)

    def span_text(self, first: int, last: int) -> str:
        """Source text from the start of row ``first`` to the end of row ``last``."""
        if first < 0 or last < first:
            return ""
        return self.source[int(self.start[first]) : int(self.end[last])].decode("utf-8", "replace")

    # -- items -------------------------------------------------------------------------------

    @cached_property
    def fn_items(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.items.kind == _I_FN)

    def item_name(self, i: int) -> str:
        nf, nl = int(self.items.name_first[i]), int(self.items.name_last[i])
        if nf >= 0 and nf == nl and self.items.kind[i] != _I_EXTERN_BLOCK:
            return self.text(nf)  # the common case, without the general decoder
        return self.items.name(self.tokens, i)

    @cached_property
    def gpu_fn_items(self) -> list[int]:
        """Item rows of the kernel and device fns that have a ``{}`` body."""
        it = self.items
        fns = self.fn_items
        gpu = (it.flags[fns] & np.uint32(ItemFlag.KERNEL | ItemFlag.DEVICE)) != 0
        fns = fns[gpu]
        body = it.body[fns]
        ok = body >= 0
        ok[ok] = self.kind[body[ok]] == TokenKind.OPEN_BRACE
        return [int(i) for i in fns[ok]]

    def body_range(self, i: int) -> tuple[int, int] | None:
        """(open, close) rows of an item's ``{}`` body, or None (``;`` items, no body)."""
        b = int(self.items.body[i])
        if b < 0 or self.kind[b] != TokenKind.OPEN_BRACE:
            return None
        m = int(self.match[b])
        return (b, m if m >= 0 else self.n - 1)

    def signature_rows(self, i: int) -> tuple[int, int]:
        """Rows from an item's head up to (excluding) its body or ``;``."""
        head = int(self.items.head[i])
        body = self.body_range(i)
        return head, (body[0] if body else int(self.items.end[i]))

    @cached_property
    def has_gpu_items(self) -> bool:
        """Whether any item carries ``#[rustg::kernel]`` or ``#[rustg::device]``."""
        return bool((self.items.flags & np.uint32(_GPU_FLAGS)).any())

    @cached_property
    def has_gpu_rows(self) -> bool:
        """Whether any row is kernel or device code (rules that look only there stop early)."""
        return bool((self._regions & np.uint8(_GPU_BITS)).any())

    def in_gpu(self, rows: Any) -> Any:
        reg = self.regions_x
        return (reg[rows] & np.uint8(_GPU_BITS)) != 0

    def region_at(self, rows: Any, bits: Region) -> Any:
        reg = self.regions_x
        return (reg[rows] & np.uint8(bits)) != 0

    @cached_property
    def fn_of(self) -> npt.NDArray[np.int64]:
        """Per row: the innermost fn item whose body holds it, or -1."""
        fns = self.fn_items
        order = fns[np.argsort(self.items.depth[fns], kind="stable")]
        body = self.items.body[order].astype(np.int64)
        ok = body >= 0
        ok[ok] = self.kind[body[ok]] == TokenKind.OPEN_BRACE
        order, body = order[ok], body[ok]
        close = self.match[body].astype(np.int64)
        close = np.where(close >= 0, close, self.n - 1)
        return _paint_owner(self.n, order.astype(np.int64), body, close)

    def body_opens(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """For keyword rows (``for``/``while``/``if``/``match``/``loop``): their block's ``{``."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64)
        return _body_open(self.kind, self.match, self.parent, rows.astype(np.int64), 100_000)

    @cached_property
    def loop_keywords(self) -> npt.NDArray[np.int64]:
        """``for``/``while``/``loop`` rows that start a loop (not ``impl T for U``, ``for<'a>``)."""
        return _loop_keywords(self.sig, self.kind, self.keyword, self.nxt, self.prv)

    @cached_property
    def _regions(self) -> npt.NDArray[np.uint8]:
        n = self.n
        if n == 0:
            return np.zeros(0, dtype=np.uint8)
        it = self.items
        return _region_bits(self.kind, self.keyword, self.match, self.parent, self.nxt,
                            self.sig, it.kind, it.body, it.flags, it.start, it.end,
                            self.loop_keywords)  # fmt: skip

    # -- calls (for the call graph) ----------------------------------------------------------

    @cached_property
    def call_rows(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Rows of called names (``name(``, ``path::name(``, ``.name(``, ``name::<T>(``) and
        whether each is a method call. Not: ``fn name(`` definitions, macros, tuple structs
        named in patterns are included (an over-approximation the graph resolves away: a name
        that is no fn in the workspace is no edge)."""
        sig = self.sig
        k = self.kind
        kx = self.kind_x
        idents = sig[(k[sig] == TokenKind.IDENT) & (self.keyword[sig] == Keyword.NONE)]
        nx = self.nxt[idents]
        direct = kx[nx] == TokenKind.OPEN_PAREN
        # name::<T>( : `:` `:` `<`
        n2 = self.nxt[np.minimum(nx, self.n)]
        n3 = self.nxt[np.minimum(n2, self.n)]
        turbofish = (
            (kx[nx] == TokenKind.COLON) & (kx[n2] == TokenKind.COLON) & (kx[n3] == TokenKind.LT)
        )
        rows = idents[direct | turbofish]
        pv = self.prv[rows]
        pkw = np.where(pv >= 0, self.keyword[np.maximum(pv, 0)], 0)
        rows = rows[pkw != Keyword.FN]
        pv = self.prv[rows]
        method = np.where(pv >= 0, k[np.maximum(pv, 0)] == TokenKind.DOT, False)
        return rows, method

    def fn_summary(self) -> FnSummary:
        gpu = int(ItemFlag.KERNEL | ItemFlag.DEVICE)
        flags = self.items.flags
        has_gpu = bool(len(self.fn_items)) and bool((flags[self.fn_items] & np.uint32(gpu)).any())
        rows, method = self.call_rows if has_gpu else (np.zeros(0, np.int64), np.zeros(0, bool))
        owner = self.fn_of[rows] if len(rows) else np.zeros(0, dtype=np.int64)
        it = self.items
        items = self.fn_items
        # Per-fn columns as Python lists in one go (regex has ~2,000 fns: per-element numpy
        # scalar reads were most of this function's time).
        nf_a, nl_a = it.name_first[items], it.name_last[items]
        named = nf_a >= 0
        safe = np.maximum(nf_a, 0)
        name_s = np.where(named, self.start[safe], 0).tolist()
        name_e = np.where(named, self.end[safe], 0).tolist()
        simple = (named & (nf_a == nl_a)).tolist()  # fn items: never an extern block's name
        heads = self.start[it.head[items]].tolist()
        src = self.source
        fns = []
        for i, fl, s, e, one, hb in zip(
            items.tolist(), flags[items].tolist(), name_s, name_e, simple, heads, strict=True
        ):
            calls: tuple[tuple[str, int, int, bool], ...] = ()
            # only GPU fns' calls are graph edges (graph.py): host fns contribute their name
            if fl & gpu:
                sel = owner == i
                calls = tuple(
                    (self.text(int(r)), int(self.start[r]), int(self.end[r]), bool(m))
                    for r, m in zip(rows[sel], method[sel], strict=True)
                )
            name = src[s:e].decode("utf-8", "replace") if one else self.item_name(i)
            fns.append(FnInfo(i, name, fl, hb, s, e, calls))
        return FnSummary(self.path, tuple(fns))
