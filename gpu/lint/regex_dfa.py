"""Regexes of user lint rules, compiled to DFA transition tables and run data-parallel.

Two uses, one compiler:

* **Constraints** on a pattern's metavariables (``regex = "^[a-z_]+$"``): does the matched
  text contain a match (``re.search`` semantics)? Many subject strings are tested at once,
  one thread per subject (:meth:`DfaBank.search_many`).
* **Whole-file regex rules** (``regex = "todo!\\("``): every leftmost-longest, non-overlapping
  match in the source text. Every byte position is a potential start; one thread runs the
  anchored DFA from each position of its chunk until the DFA dies (most die on the first
  byte), recording the longest accepting end (:meth:`DfaBank.scan_files`).

The supported subset (anything else is a :class:`RegexError` with the offset in the pattern)
----------------------------------------------------------------------------------------------
Matching is on UTF-8 **bytes** (the engine's buffers are bytes), exactly like Python's ``re``
with a ``bytes`` pattern:

==================  ===========================================================================
``abc``, ``é``       literal characters (a non-ASCII character is its UTF-8 byte sequence)
``.``                any byte except ``\\n``
``[a-z_]`` ``[^,]``  classes of ASCII characters and ranges; ``^`` negates (over all 256 bytes,
                     so ``[^a]`` also matches ``\\n`` and non-ASCII bytes); ``]`` first or ``\\]``
                     is literal, ``-`` first or last is literal; escapes below work inside
``\\d \\w \\s``        ASCII ``[0-9]``, ``[A-Za-z0-9_]``, ``[ \\t\\n\\r\\f\\v]``;
                     ``\\D \\W \\S`` negate them
``\\n \\t \\r \\f \\v``   control characters; ``\\xHH`` a byte; ``\\`` before any other ASCII
                     punctuation is that character literally
``* + ?``            greedy repetition
``{m}`` ``{m,}``     bounded repetition, ``m, n <= 255``; ``{,n}`` is ``{0,n}``
``{m,n}``
``a|b``, ``(…)``     alternation, groups; ``(?:…)`` is the same group
``^``  ``$``         constraints only: ``^`` at the start of the pattern or of a top-level
                     alternative, ``$`` at the end of one. ``$`` is the end of the subject
                     (Python's ``\\Z``; Python's ``$`` also matches before a final ``\\n``)
==================  ===========================================================================

Rejected: lazy or possessive quantifiers (``*?``, ``*+``), backreferences, lookaround, word
boundaries ``\\b``/``\\B``, ``\\A``/``\\Z``, named or flagged groups ``(?P<n>…)``/``(?i)``,
non-ASCII characters inside classes, Unicode classes, anchors in whole-file rules and anywhere
but the ends of an alternative, and (for whole-file rules) patterns matching the empty string.

Semantics of whole-file rules: matches are leftmost-longest (POSIX), not Python's
leftmost-first: the start is the same as ``re.search``'s, the end is the longest possible one
(``a|ab`` on ``ab`` reports ``ab``, Python ``a``). A finding should cover all of what matched.

Tables
------
The alphabet is 256 bytes plus two sentinels, ``BEGIN`` (256) and ``END`` (257), which the
constraint kernel feeds before and after the subject: ``^`` and ``$`` compile to transitions
on them, so anchors cost no special case in the kernel. Symbols are grouped into equivalence
classes (``class_of``, 258 entries): the table is ``n_states x n_classes`` ``int32``. State 0
is dead, state 1 the start. Several DFAs share one :class:`DfaBank` (concatenated tables and
offsets) so that one kernel launch runs every rule.

Where it runs
-------------
The per-subject and per-position functions are ``register_jitable``: numba compiles them into
the CPU kernels below (``njit(parallel=True)``, ``prange`` over subjects or chunks) and into
the CUDA kernels of :mod:`rustg.gpu.lint.regex_dfa_cuda` (imported only when CUDA is asked
for), so the two backends run the same code over the same tables.
"""

# Kernel code (numba, written to compile for CUDA too): many positional array arguments,
# explicit loops. Same exemptions as rustg.gpu.lexer.
# ruff: noqa: PLR0917
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="call-arg"

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba.extending import register_jitable

from rustg.gpu.backend import Device
from rustg.gpu.errors import EngineError

__all__ = [
    "MAX_DFA_STATES",
    "CompiledRegex",
    "DfaBank",
    "RegexError",
    "RegexUse",
    "compile_regex",
]

BEGIN = 256
END = 257
N_SYMBOLS = 258
DEAD = 0
START = 1
#: Subset construction is exponential in the worst case; a rule that needs more states than
#: this is almost always a mistake (``(a|b)*a(a|b){20}``), and is rejected, not run slowly.
MAX_DFA_STATES = 4096
MAX_REPEAT = 255
#: Bytes of start positions per CPU thread in scan_files (a file is split into such chunks).
CPU_CHUNK_BYTES = 1 << 16
#: ... and per CUDA thread: many more, shorter threads keep the GPU busy.
CUDA_CHUNK_BYTES = 1 << 10


class RegexError(EngineError, ValueError):
    """A regex outside the supported subset, with the offset (in characters) of the culprit."""

    def __init__(self, message: str, pattern: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset} of regex {pattern!r})")
        self.reason = message
        self.pattern = pattern
        self.offset = offset


class RegexUse(enum.Enum):
    """What a regex is compiled for: which anchors are legal and how it is run."""

    CONSTRAINT = "constraint"  # search in one subject; ^ and $ allowed
    FILE = "file"  # leftmost-longest matches in a file; no anchors, no empty match


# ---------------------------------------------------------------------------------------------
# Parser: pattern text -> AST of symbol sets (Python int bitmasks over the 258 symbols)

_ALL_BYTES = (1 << 256) - 1
_NEWLINE = 1 << 0x0A


def _mask(chars: str) -> int:
    m = 0
    for c in chars:
        m |= 1 << ord(c)
    return m


def _range(lo: int, hi: int) -> int:
    return ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)


_DIGIT = _range(0x30, 0x39)
_WORD = _DIGIT | _range(0x41, 0x5A) | _range(0x61, 0x7A) | _mask("_")
_SPACE = _mask(" \t\n\r\f\v")
_CLASS_ESCAPES = {
    "d": _DIGIT,
    "w": _WORD,
    "s": _SPACE,
    "D": _ALL_BYTES & ~_DIGIT,
    "W": _ALL_BYTES & ~_WORD,
    "S": _ALL_BYTES & ~_SPACE,
}
_CONTROL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
_REJECTED_ESCAPES = {
    "b": "word boundaries (\\b) are not supported",
    "B": "word boundaries (\\B) are not supported",
    "A": "\\A is not supported: use ^ at the start of a constraint",
    "Z": "\\Z is not supported: use $ at the end of a constraint",
    "z": "\\z is not supported: use $ at the end of a constraint",
}

# AST nodes: ("set", mask) | ("cat", [nodes]) | ("alt", [nodes]) | ("rep", node, lo, hi|None)
Node = tuple[Any, ...]
_EMPTY: Node = ("cat", [])


class _Parser:
    def __init__(self, pattern: str, use: RegexUse) -> None:
        self.p = pattern
        self.i = 0
        self.use = use

    def error(self, message: str, offset: int | None = None) -> RegexError:
        return RegexError(message, self.p, self.i if offset is None else offset)

    def peek(self) -> str | None:
        return self.p[self.i] if self.i < len(self.p) else None

    def parse(self) -> Node:
        alts: list[Node] = []
        while True:
            alts.append(self.alternative(top=True))
            if self.peek() == "|":
                self.i += 1
                continue
            if self.peek() == ")":
                raise self.error("unbalanced ')'")
            break
        return alts[0] if len(alts) == 1 else ("alt", alts)

    def alternative(self, *, top: bool) -> Node:
        items: list[Node] = []
        if self.peek() == "^":
            if not top or self.use is RegexUse.FILE:
                raise self.error(self._anchor_message("^"))
            self.i += 1
            items.append(("set", 1 << BEGIN))
        while (c := self.peek()) is not None and c not in "|)":
            if c == "$":
                at = self.i
                self.i += 1
                if not top or self.use is RegexUse.FILE or self.peek() not in (None, "|"):
                    raise self.error(self._anchor_message("$"), at)
                items.append(("set", 1 << END))
                break
            if c == "^":
                raise self.error(self._anchor_message("^"))
            items.append(self.quantified())
        return items[0] if len(items) == 1 else ("cat", items)

    def _anchor_message(self, anchor: str) -> str:
        if self.use is RegexUse.FILE:
            return f"anchor '{anchor}' is not supported in whole-file regex rules"
        where = "start" if anchor == "^" else "end"
        return (
            f"anchor '{anchor}' is supported only at the {where} of the regex"
            " or of a top-level alternative"
        )

    def quantified(self) -> Node:
        at = self.i
        atom = self.atom()
        c = self.peek()
        if c is None:
            return atom
        lo: int
        hi: int | None
        if c == "*":
            lo, hi = 0, None
            self.i += 1
        elif c == "+":
            lo, hi = 1, None
            self.i += 1
        elif c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "{":
            lo, hi = self.braces()
        else:
            return atom
        nxt = self.peek()
        if nxt in ("?", "+"):
            kind = "lazy" if nxt == "?" else "possessive"
            raise self.error(f"{kind} quantifiers are not supported")
        if nxt in ("*", "{"):
            raise self.error("multiple repeat")
        del at
        return ("rep", atom, lo, hi)

    def braces(self) -> tuple[int, int | None]:
        at = self.i
        close = self.p.find("}", at)
        body = self.p[at + 1 : close] if close >= 0 else ""
        lo_s, comma, hi_s = body.partition(",")
        ok = close >= 0 and (lo_s.isdigit() or (comma and lo_s == "" and hi_s.isdigit()))
        ok = ok and (hi_s == "" or hi_s.isdigit()) and lo_s.isascii() and hi_s.isascii()
        if not ok:
            raise self.error("'{' must start a repetition {m}, {m,}, {,n} or {m,n}; write '\\{'")
        lo = int(lo_s) if lo_s else 0
        hi = None if (comma and hi_s == "") else int(hi_s) if comma else lo
        if lo > MAX_REPEAT or (hi is not None and hi > MAX_REPEAT):
            raise self.error(f"repetition bound over {MAX_REPEAT}")
        if hi is not None and hi < lo:
            raise self.error("repetition {m,n} with n < m")
        self.i = close + 1
        return lo, hi

    def atom(self) -> Node:
        c = self.p[self.i]
        at = self.i
        if c in "*+?{":
            raise self.error("nothing to repeat")
        if c == "(":
            self.i += 1
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                raise self.error("only plain groups (...) and (?:...) are supported", at)
            alts: list[Node] = []
            while True:
                alts.append(self.alternative(top=False))
                if self.peek() == "|":
                    self.i += 1
                    continue
                break
            if self.peek() != ")":
                raise self.error("missing ')'", at)
            self.i += 1
            return alts[0] if len(alts) == 1 else ("alt", alts)
        if c == "[":
            return ("set", self.char_class())
        if c == ".":
            self.i += 1
            return ("set", _ALL_BYTES & ~_NEWLINE)
        if c == "\\":
            mask = self.escape(in_class=False)
            return ("set", mask)
        self.i += 1
        return _literal(c)

    def escape(self, *, in_class: bool) -> int:
        at = self.i
        if self.i + 1 >= len(self.p):
            raise self.error("trailing backslash")
        e = self.p[self.i + 1]
        self.i += 2
        if e in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[e]
        if e in _CONTROL_ESCAPES:
            return 1 << ord(_CONTROL_ESCAPES[e])
        if e == "x":
            h = self.p[self.i : self.i + 2]
            if len(h) != 2 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
                raise self.error("\\x needs two hex digits", at)
            self.i += 2
            return 1 << int(h, 16)
        if in_class and e == "b":
            return 1 << 0x08  # [\b] is a backspace, as in Python
        if e in _REJECTED_ESCAPES:
            raise self.error(_REJECTED_ESCAPES[e], at)
        if e.isascii() and not e.isalnum():
            return 1 << ord(e)
        if e.isdigit():
            raise self.error("backreferences are not supported", at)
        raise self.error(f"unsupported escape '\\{e}'", at)

    def char_class(self) -> int:
        at = self.i
        self.i += 1
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        mask = 0
        first = True
        while True:
            c = self.peek()
            if c is None:
                raise self.error("unterminated character class", at)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            lo_at = self.i
            lo = self.class_char()
            if (
                isinstance(lo, int)
                and self.peek() == "-"
                and self.p[self.i + 1 : self.i + 2] not in ("]", "")
            ):
                self.i += 1
                hi = self.class_char()
                if not isinstance(hi, int):
                    raise self.error("a range must end with a single character", lo_at)
                if hi < lo:
                    raise self.error("bad character range", lo_at)
                mask |= _range(lo, hi)
            elif isinstance(lo, int):
                mask |= 1 << lo
            else:
                mask |= lo[0]
        return (_ALL_BYTES & ~mask) if negate else mask

    def class_char(self) -> int | tuple[int]:
        """One byte value (a range end) or a (mask,) for a class escape like \\d."""
        c = self.p[self.i]
        if c == "\\":
            e = self.p[self.i + 1 : self.i + 2]
            mask = self.escape(in_class=True)
            if e in _CLASS_ESCAPES:
                return (mask,)
            return mask.bit_length() - 1
        if c == "[" and self.p[self.i + 1 : self.i + 2] in (":", "=", "."):
            raise self.error("POSIX classes [:name:] are not supported")
        if not c.isascii():
            raise self.error("non-ASCII characters inside [...] are not supported")
        self.i += 1
        return ord(c)


def _literal(c: str) -> Node:
    data = c.encode("utf-8")
    if len(data) == 1:
        return ("set", 1 << data[0])
    return ("cat", [("set", 1 << b) for b in data])


def parse_regex(pattern: str, use: RegexUse) -> Node:
    return _Parser(pattern, use).parse()


# ---------------------------------------------------------------------------------------------
# Thompson NFA, then subset construction over symbol equivalence classes


class _Nfa:
    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[int, int]]] = []  # (mask, target)

    def state(self) -> int:
        self.eps.append([])
        self.edges.append([])
        if len(self.eps) > 64 * MAX_DFA_STATES:
            raise OverflowError
        return len(self.eps) - 1

    def build(self, node: Node, start: int) -> int:
        """Wire ``node`` from ``start``; returns its end state."""
        tag = node[0]
        if tag == "set":
            end = self.state()
            self.edges[start].append((node[1], end))
            return end
        if tag == "cat":
            cur = start
            for child in node[1]:
                cur = self.build(child, cur)
            return cur
        if tag == "alt":
            end = self.state()
            for child in node[1]:
                s = self.state()
                self.eps[start].append(s)
                self.eps[self.build(child, s)].append(end)
            return end
        _, child, lo, hi = node
        cur = start
        for _ in range(lo):
            cur = self.build(child, cur)
        if hi is None:
            loop = self.state()
            self.eps[cur].append(loop)
            self.eps[self.build(child, loop)].append(loop)
            return loop
        end = self.state()
        self.eps[cur].append(end)
        for _ in range(hi - lo):
            cur = self.build(child, cur)
            self.eps[cur].append(end)
        return end

    def closure(self, states: frozenset[int] | set[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(states)
        while stack:
            for t in self.eps[stack.pop()]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return frozenset(seen)


def _classes(masks: list[int]) -> list[int]:
    """Partition the 258 symbols so that every mask is a union of classes."""
    parts = [(1 << N_SYMBOLS) - 1]
    for m in set(masks):
        nxt: list[int] = []
        for c in parts:
            a, b = c & m, c & ~m
            nxt.extend(x for x in (a, b) if x)
        parts = nxt
    # Deterministic order: by lowest symbol.
    return sorted(parts, key=lambda c: (c & -c).bit_length())


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRegex:
    """One DFA: ``trans[state, class]``, ``accept[state]``, ``class_of[symbol]``."""

    pattern: str
    use: RegexUse
    trans: npt.NDArray[np.int32]  # (n_states, n_classes)
    accept: npt.NDArray[np.uint8]
    class_of: npt.NDArray[np.int32]  # N_SYMBOLS entries

    @property
    def n_states(self) -> int:
        return int(self.trans.shape[0])

    def search(self, subject: bytes) -> bool:
        """Reference run on one subject (pure Python; tests and tiny inputs)."""
        s = START
        if self.accept[s]:
            return True
        for sym in (BEGIN, *subject, END):
            s = int(self.trans[s, self.class_of[sym]])
            if self.accept[s]:
                return True
        return False


def compile_regex(pattern: str, use: RegexUse = RegexUse.CONSTRAINT) -> CompiledRegex:
    """Parse and compile; :class:`RegexError` for anything outside the documented subset."""
    ast = parse_regex(pattern, use)
    nfa = _Nfa()
    try:
        start = nfa.state()
        final = nfa.build(ast, start)
    except OverflowError:
        raise RegexError("regex too large", pattern, 0) from None
    masks = [m for edges in nfa.edges for m, _ in edges]
    classes = _classes(masks)
    reps = [(c & -c).bit_length() - 1 for c in classes]
    class_of = np.zeros(N_SYMBOLS, dtype=np.int32)
    for k, c in enumerate(classes):
        for sym in range(N_SYMBOLS):
            if (c >> sym) & 1:
                class_of[sym] = k
    # A constraint is a search: the start set is re-entered before every symbol.
    restart = use is RegexUse.CONSTRAINT
    s0 = nfa.closure({start})
    ids: dict[frozenset[int], int] = {frozenset(): DEAD, s0: START}
    order = [frozenset(), s0]
    rows: list[list[int]] = [[DEAD] * len(classes)]
    q = 1
    while q < len(order):
        cur = order[q]
        row: list[int] = []
        for rep in reps:
            nxt = {t for s in cur for m, t in nfa.edges[s] if (m >> rep) & 1}
            target = nfa.closure(nxt)
            if restart:
                target = target | s0
            if target not in ids:
                if len(order) >= MAX_DFA_STATES:
                    raise RegexError(
                        f"regex needs more than {MAX_DFA_STATES} DFA states", pattern, 0
                    )
                ids[target] = len(order)
                order.append(target)
            row.append(ids[target])
        rows.append(row)
        q += 1
    accept = np.array([1 if final in s else 0 for s in order], dtype=np.uint8)
    if use is RegexUse.FILE and accept[START]:
        raise RegexError("a whole-file regex rule must not match the empty string", pattern, 0)
    trans = np.array(rows, dtype=np.int32).reshape(len(order), len(classes))
    return CompiledRegex(pattern, use, trans, accept, class_of)


# ---------------------------------------------------------------------------------------------
# Kernels (CPU and CUDA compile these same functions)

#: Inlined, without reference counting: a plain call passing ten arrays cost ~100 ns per
#: start position (measured on 4 MB, against ~3 ns inlined), all of it refcount traffic.
jitable = register_jitable(_nrt=False, forceinline=True)


@jitable
def dfa_search(trans, trans_off, n_classes, accept, accept_off, class_of, r, buf, lo, hi):
    """Whether DFA ``r`` (a CONSTRAINT one) finds a match in ``buf[lo:hi]``."""
    base = trans_off[r]
    nc = n_classes[r]
    abase = accept_off[r]
    cbase = r * 258
    s = 1
    if accept[abase + s] != 0:
        return True
    s = trans[base + s * nc + class_of[cbase + 256]]
    if accept[abase + s] != 0:
        return True
    for i in range(lo, hi):
        s = trans[base + s * nc + class_of[cbase + buf[i]]]
        if accept[abase + s] != 0:
            return True
    s = trans[base + s * nc + class_of[cbase + 257]]
    return accept[abase + s] != 0


@jitable
def dfa_longest(trans, trans_off, n_classes, accept, accept_off, class_of, r, buf, p, hi):
    """End of the longest match of DFA ``r`` (a FILE one) starting at ``p``, or -1."""
    base = trans_off[r]
    nc = n_classes[r]
    abase = accept_off[r]
    cbase = r * 258
    s = 1
    best = -1
    for i in range(p, hi):
        s = trans[base + s * nc + class_of[cbase + buf[i]]]
        if s == 0:
            break
        if accept[abase + s] != 0:
            best = i + 1
    return best


@jitable
def chunk_scan(trans, trans_off, n_classes, accept, accept_off, class_of, buf, sel, start_mask,
               c_lo, c_hi, c_limit, k, write, out_offsets, out_rule, out_start,
               out_end):  # fmt: skip
    """Matches of the selected regexes ``sel`` starting in chunk ``k``: counted (``write``
    False) or written from ``out_offsets[k]`` on.

    ``start_mask[b]`` has bit ``j`` set when ``sel[j]`` can start with byte ``b``: one lookup
    per position for all rules, and most positions start nothing. Counting then writing (a
    prefix sum in between) is the usual two-pass compaction; the same function runs both, so
    the two passes agree on every match."""
    limit = c_limit[k]
    n = 0
    q = out_offsets[k] if write else 0
    for p in range(c_lo[k], c_hi[k]):
        m = start_mask[buf[p]]
        if m == 0:
            continue
        for j in range(len(sel)):
            if (m >> j) & 1:
                e = dfa_longest(trans, trans_off, n_classes, accept, accept_off, class_of,
                                sel[j], buf, p, limit)  # fmt: skip
                if e >= 0:
                    if write:
                        out_rule[q + n] = sel[j]
                        out_start[q + n] = p
                        out_end[q + n] = e
                    n += 1
    return n


@numba.njit(cache=True, parallel=True, nogil=True)
def _search_many_cpu(trans, trans_off, n_classes, accept, accept_off, class_of, s_rule, buf,
                     s_offsets, out):  # fmt: skip  # pragma: no cover
    for j in numba.prange(len(s_rule)):
        hit = dfa_search(trans, trans_off, n_classes, accept, accept_off, class_of, s_rule[j],
                         buf, s_offsets[j], s_offsets[j + 1])  # fmt: skip
        out[j] = 1 if hit else 0


@numba.njit(cache=True, parallel=True, nogil=True)
def _scan_cpu(trans, trans_off, n_classes, accept, accept_off, class_of, buf, sel, start_mask,
              c_lo, c_hi, c_limit, write, out_offsets, out_rule, out_start, out_end,
              counts):  # fmt: skip  # pragma: no cover
    for k in numba.prange(len(c_lo)):
        counts[k] = chunk_scan(trans, trans_off, n_classes, accept, accept_off, class_of, buf,
                               sel, start_mask, c_lo, c_hi, c_limit, k, write, out_offsets,
                               out_rule, out_start, out_end)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _leftmost_nonoverlapping(rule, file, starts, ends, keep):  # pragma: no cover
    """Greedy left-to-right selection per (rule, file) over matches sorted by those keys and
    then by start."""
    last_end = -1
    for q in range(len(rule)):
        if q == 0 or rule[q] != rule[q - 1] or file[q] != file[q - 1]:
            last_end = -1
        if starts[q] >= last_end:
            keep[q] = 1
            last_end = ends[q]


@dataclass(frozen=True, slots=True)
class FileMatches:
    """Matches of a :meth:`DfaBank.scan_files` call, sorted by (rule, file, start)."""

    rule: npt.NDArray[np.int32]
    file: npt.NDArray[np.int32]
    start: npt.NDArray[np.int64]  # absolute offsets into the scanned buffer
    end: npt.NDArray[np.int64]


class DfaBank:
    """Several compiled regexes packed into flat arrays for one kernel launch."""

    def __init__(self, regexes: list[CompiledRegex]) -> None:
        self.regexes = list(regexes)
        n = len(self.regexes)
        self.n_classes = np.array([r.trans.shape[1] for r in self.regexes], dtype=np.int32)
        sizes = np.array([r.trans.size for r in self.regexes], dtype=np.int64)
        self.trans_off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.trans_off[1:])
        self.trans = (
            np.concatenate([r.trans.ravel() for r in self.regexes]).astype(np.int32)
            if n
            else np.zeros(1, np.int32)
        )
        states = np.array([r.n_states for r in self.regexes], dtype=np.int64)
        self.accept_off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(states, out=self.accept_off[1:])
        self.accept = (
            np.concatenate([r.accept for r in self.regexes]) if n else np.zeros(1, np.uint8)
        )
        self.class_of = (
            np.concatenate([r.class_of for r in self.regexes])
            if n
            else np.zeros(N_SYMBOLS, np.int32)
        )

    def tables(self) -> tuple[npt.NDArray[Any], ...]:
        return (
            self.trans,
            self.trans_off,
            self.n_classes,
            self.accept,
            self.accept_off,
            self.class_of,
        )

    # -- constraints -------------------------------------------------------------------------

    def search_many(
        self,
        rules: npt.NDArray[np.int32],
        buf: npt.NDArray[np.uint8],
        offsets: npt.NDArray[np.int64],
        *,
        device: Device = Device.CPU,
    ) -> npt.NDArray[np.uint8]:
        """``out[j] = 1`` when regex ``rules[j]`` matches ``buf[offsets[j]:offsets[j+1]]``."""
        rules = np.ascontiguousarray(rules, dtype=np.int32)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if len(offsets) != len(rules) + 1:
            raise ValueError("offsets must have one more entry than rules")
        if device is Device.CUDA:
            from rustg.gpu.lint.regex_dfa_cuda import search_many_cuda

            return search_many_cuda(self, rules, buf, offsets)
        out = np.zeros(len(rules), dtype=np.uint8)
        if len(rules):
            _search_many_cpu(*self.tables(), rules, buf, offsets, out)
        return out

    def search_texts(
        self, rules: list[int], texts: list[bytes], *, device: Device = Device.CPU
    ) -> npt.NDArray[np.uint8]:
        buf = np.frombuffer(b"".join(texts) or b"\0", dtype=np.uint8)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in texts], out=offsets[1:])
        return self.search_many(np.array(rules, dtype=np.int32), buf, offsets, device=device)

    # -- whole-file rules --------------------------------------------------------------------

    def start_mask(self, rules: list[int]) -> npt.NDArray[np.uint64]:
        """Bit ``j`` of entry ``b``: regex ``rules[j]`` has a transition out of its start
        state on byte ``b`` (so a match can start there)."""
        if len(rules) > 64:
            raise ValueError("at most 64 regexes per scan (the start mask is 64 bits)")
        mask = np.zeros(256, dtype=np.uint64)
        for j, r in enumerate(rules):
            rx = self.regexes[r]
            live = rx.trans[START, rx.class_of[:256]] != DEAD
            mask[live] |= np.uint64(1 << j)
        return mask

    @staticmethod
    def chunks(
        file_offsets: npt.NDArray[np.int64], chunk_bytes: int
    ) -> tuple[npt.NDArray[Any], ...]:
        """(file, lo, hi, limit) per chunk of start positions, in file order."""
        fo = np.asarray(file_offsets, dtype=np.int64)
        lens = np.diff(fo)
        per_file = np.maximum((lens + chunk_bytes - 1) // chunk_bytes, 0)
        file_of = np.repeat(np.arange(len(lens), dtype=np.int32), per_file)
        first = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(per_file, out=first[1:])
        idx_in_file = np.arange(int(first[-1]), dtype=np.int64) - first[file_of]
        lo = fo[file_of] + idx_in_file * chunk_bytes
        hi = np.minimum(lo + chunk_bytes, fo[file_of + 1])
        return file_of, lo, hi, fo[file_of + 1]

    def scan_files(
        self,
        rules: list[int],
        buf: npt.NDArray[np.uint8],
        file_offsets: npt.NDArray[np.int64],
        *,
        device: Device = Device.CPU,
        chunk_bytes: int | None = None,
    ) -> FileMatches:
        """Leftmost-longest non-overlapping matches of each FILE regex in each file."""
        if len(rules) > 64:
            parts = [
                self.scan_files(
                    rules[i : i + 64], buf, file_offsets, device=device, chunk_bytes=chunk_bytes
                )
                for i in range(0, len(rules), 64)
            ]
            cat = {f: np.concatenate([getattr(m, f) for m in parts]) for f in _MATCH_FIELDS}
            order = np.lexsort((cat["start"], cat["file"], cat["rule"]))
            return FileMatches(**{f: a[order] for f, a in cat.items()})
        cb = chunk_bytes or (CUDA_CHUNK_BYTES if device is Device.CUDA else CPU_CHUNK_BYTES)
        c_file, c_lo, c_hi, c_limit = self.chunks(file_offsets, cb)
        sel = np.asarray(rules, dtype=np.int32)
        mask = self.start_mask(rules)
        if device is Device.CUDA:
            from rustg.gpu.lint.regex_dfa_cuda import scan_cuda

            offsets, m_rule, starts, ends = scan_cuda(self, buf, sel, mask, c_lo, c_hi, c_limit)
        else:
            offsets, m_rule, starts, ends = _scan_two_pass(self, buf, sel, mask, c_lo, c_hi,
                                                           c_limit)  # fmt: skip
        m_file = np.repeat(c_file, np.diff(offsets))
        # Chunks are in file order and positions ascend within one: sorting by rule (stable)
        # leaves (file, start) order inside each rule.
        order = np.argsort(m_rule, kind="stable")
        m_rule, m_file, starts, ends = m_rule[order], m_file[order], starts[order], ends[order]
        keep = np.zeros(len(starts), dtype=np.uint8)
        _leftmost_nonoverlapping(m_rule, m_file, starts, ends, keep)
        sel_k = keep.astype(bool)
        return FileMatches(m_rule[sel_k], m_file[sel_k], starts[sel_k], ends[sel_k])


_MATCH_FIELDS = ("rule", "file", "start", "end")


def _scan_two_pass(
    bank: DfaBank,
    buf: npt.NDArray[np.uint8],
    sel: npt.NDArray[np.int32],
    mask: npt.NDArray[np.uint64],
    c_lo: npt.NDArray[np.int64],
    c_hi: npt.NDArray[np.int64],
    c_limit: npt.NDArray[np.int64],
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    n = len(c_lo)
    counts = np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    d64 = np.zeros(1, dtype=np.int64)
    d32 = np.zeros(1, dtype=np.int32)
    if n:
        _scan_cpu(*bank.tables(), buf, sel, mask, c_lo, c_hi, c_limit, False, offsets, d32,
                  d64, d64, counts)  # fmt: skip
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    m_rule = np.empty(total, dtype=np.int32)
    starts = np.empty(total, dtype=np.int64)
    ends = np.empty(total, dtype=np.int64)
    if total:
        _scan_cpu(*bank.tables(), buf, sel, mask, c_lo, c_hi, c_limit, True, offsets, m_rule,
                  starts, ends, counts)  # fmt: skip
    return offsets, m_rule, starts, ends
