"""Autofix: apply machine-applicable fixes, verified by re-lexing, written atomically.

Choosing: fixes are taken in a fixed order (first edit's start, then rule name, then message),
and a fix is skipped when any of its edits overlaps an edit already taken, so overlapping fixes
resolve the same way on every run. Verifying: the edited text is lexed again; every token of the
original that no edit touched must reappear unchanged (same kind and text) at its shifted
offset, and the edit must not add lexical errors. A set that fails is retried one fix at a time
and the fixes that fail alone are dropped (reported as skipped). Applying the fixes again to the
result changes nothing: the rules no longer fire there (tested).

Writing (:func:`write_atomic`): a temporary file in the same directory, the original's
permission bits copied, ``os.replace`` over it; but only when the file still holds the bytes the
lint read (else :class:`FileChanged`: an editor saved meanwhile, and its version wins).
"""

from __future__ import annotations

import enum
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rustg.gpu.lint.model import Edit, Finding, Fix
from rustg.gpu.tokens import TokenKind

__all__ = ["FileChanged", "FixOutcome", "FixResult", "apply_fixes", "write_atomic"]


class FileChanged(Exception):
    """The file on disk is not the content that was linted."""


class FixOutcome(enum.StrEnum):
    APPLIED = "applied"
    OVERLAP = "overlap"  # another fix took the same bytes first
    RELEX_FAILED = "relex-failed"  # the result would not lex to the same tokens elsewhere
    NOT_MACHINE = "not-machine-applicable"


@dataclass(frozen=True, slots=True)
class FixResult:
    source: bytes
    outcomes: tuple[tuple[Finding, FixOutcome], ...]

    @property
    def applied(self) -> int:
        return sum(o is FixOutcome.APPLIED for _, o in self.outcomes)


def _lex(source: bytes):  # type: ignore[no-untyped-def]
    from rustg.gpu.backend import Device, get_backend

    return get_backend().lex_bytes(source, device=Device.CPU)


def _apply(source: bytes, edits: list[Edit]) -> bytes:
    out = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(source[pos : e.start])
        out.append(e.replacement.encode())
        pos = e.end
    out.append(source[pos:])
    return b"".join(out)


def _verified(source: bytes, edits: list[Edit]) -> bytes | None:
    new = _apply(source, edits)
    a, b = _lex(source), _lex(new)
    if len(a) == 0:
        return new
    starts = a.start.astype(np.int64)
    ends = a.end.astype(np.int64)
    touched = np.zeros(len(starts), dtype=bool)
    shift = np.zeros(len(starts), dtype=np.int64)
    for e in sorted(edits, key=lambda e: e.start):
        # a token is touched when it overlaps the edit, or the edit is empty and inside it
        touched |= (starts < max(e.end, e.start + 1)) & (ends > e.start)
        shift[starts >= e.end] += len(e.replacement.encode()) - (e.end - e.start)
    keep = np.flatnonzero(~touched)
    new_starts = starts[keep] + shift[keep]
    at = np.searchsorted(b.start, new_starts)
    if (at >= len(b.start)).any():
        return None
    if not (b.start[at] == new_starts).all():
        return None
    if not (b.kind[at] == a.kind[keep]).all():
        return None
    if not ((b.end[at] - b.start[at]) == (ends[keep] - starts[keep])).all():
        return None
    errors_before = int((a.kind >= TokenKind.ERR_UNTERMINATED_STR).sum())
    errors_after = int((b.kind >= TokenKind.ERR_UNTERMINATED_STR).sum())
    if errors_after > errors_before:
        return None
    return new


def _overlaps(edits: tuple[Edit, ...], taken: list[Edit]) -> bool:
    for e in edits:
        for t in taken:
            if e.start < t.end and t.start < e.end:
                return True
            if e.start == e.end == t.start == t.end:
                return True
    return False


def apply_fixes(source: bytes, findings: list[Finding]) -> FixResult:
    """Apply the machine-applicable fixes of ``findings`` to ``source`` (see module doc)."""
    with_fix = [f for f in findings if f.fix is not None]
    order = sorted(
        with_fix,
        key=lambda f: (
            min(e.start for e in f.fix.edits) if f.fix and f.fix.edits else 0,
            f.rule,
            f.message,
        ),
    )
    outcomes: list[tuple[Finding, FixOutcome]] = []
    chosen: list[Finding] = []
    taken: list[Edit] = []
    for f in order:
        fix: Fix = f.fix  # type: ignore[assignment]
        if not fix.machine_applicable:
            outcomes.append((f, FixOutcome.NOT_MACHINE))
            continue
        if _overlaps(fix.edits, taken):
            outcomes.append((f, FixOutcome.OVERLAP))
            continue
        chosen.append(f)
        taken.extend(fix.edits)
    if not chosen:
        return FixResult(source, tuple(outcomes))
    new = _verified(source, taken)
    if new is not None:
        outcomes += [(f, FixOutcome.APPLIED) for f in chosen]
        return FixResult(new, tuple(outcomes))
    # The set failed: keep the fixes that verify one by one, in order.
    good: list[Edit] = []
    for f in chosen:
        trial = [*good, *f.fix.edits]  # type: ignore[union-attr]
        if _verified(source, trial) is not None:
            good = trial
            outcomes.append((f, FixOutcome.APPLIED))
        else:
            outcomes.append((f, FixOutcome.RELEX_FAILED))
    return FixResult(_apply(source, good), tuple(outcomes))


def write_atomic(path: Path, content: bytes, expected: bytes) -> None:
    """Replace ``path``'s content, keeping its permission bits, if it still holds ``expected``."""
    try:
        current = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise FileChanged(f"{path}: cannot read it again: {exc}") from None
    if current != expected:
        raise FileChanged(f"{path}: changed since it was linted; not fixed")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".rustg-fix", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
