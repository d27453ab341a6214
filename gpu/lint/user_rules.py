"""User lint rules: ``[[rule]]`` tables in ``rustg-lint.toml`` or in the workspace Cargo.toml's
``[workspace.metadata.rustg.lints]`` (``[[workspace.metadata.rustg.lints.rule]]``).

Each rule is a structural pattern (:mod:`rustg.gpu.lint.pattern`) or a whole-file regex
(:mod:`rustg.gpu.lint.regex_dfa`), with constraints, context, level, message, fix template
and examples; docs/lint-rules.md is the reference. The rule objects have ``meta`` and
``check(ctx)`` and a ``fingerprint`` (their table), so the engine runs them beside the built-in
rules with the same levels, suppressions and cache.

Every mistake in a rule file is a :class:`RuleProblem` with the file, line and column of the
offending value (for a bad pattern or regex: of the offending character inside the string),
and loading raises :class:`InvalidRuleFile` listing all of them: a rule is never skipped
silently. ``tomllib`` (the project's one TOML reader, through ``read_toml``) has no positions,
so :class:`_Locator` re-scans the text for the position of every key and array element.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rustg.daemon.config import read_toml
from rustg.daemon.errors import ConfigError
from rustg.gpu.backend import Device
from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.model import Category, Edit, FileContext, Finding, Fix, Level, Region, RuleMeta
from rustg.gpu.lint.pattern import (
    Match,
    Pattern,
    PatternError,
    Template,
    compile_pattern,
    compile_template,
)
from rustg.gpu.lint.regex_dfa import CompiledRegex, DfaBank, RegexError, RegexUse, compile_regex
from rustg.gpu.tokens import TokenKind, is_literal, is_punct

__all__ = [
    "ExampleKind",
    "InvalidRuleFile",
    "RuleProblem",
    "RuleTestOutcome",
    "RuleTestResult",
    "UserRule",
    "load_rule_files",
    "load_user_rules",
    "parse_rules",
    "regex_findings",
    "run_rule_tests",
]

LINT_TOML = "rustg-lint.toml"
_CARGO_PATH = ("workspace", "metadata", "rustg", "lints")

CONTEXTS: dict[str, Region] = {
    "kernel": Region.KERNEL,
    "device": Region.DEVICE,
    "test": Region.TEST,
    "unsafe": Region.UNSAFE,
    "loop": Region.LOOP,
    "fn": Region.FN,
}
_LEVELS = {"allow": Level.ALLOW, "warn": Level.WARN, "deny": Level.DENY}
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

_K = TokenKind
_STRING_KINDS = {_K.STR, _K.RAW_STR, _K.BYTE_STR, _K.RAW_BYTE_STR, _K.C_STR, _K.RAW_C_STR}
#: ``kind`` constraint names -> predicate on one token (kind, keyword); "group" is separate.
TOKEN_KINDS: dict[str, Any] = {
    "ident": lambda k, kw: k == _K.RAW_IDENT or (k == _K.IDENT and kw == 0),
    "keyword": lambda k, kw: k == _K.IDENT and kw != 0,
    "lifetime": lambda k, kw: k in (_K.LIFETIME, _K.RAW_LIFETIME),
    "literal": lambda k, kw: bool(is_literal(k)),
    "string": lambda k, kw: k in _STRING_KINDS,
    "int": lambda k, kw: k == _K.INT,
    "float": lambda k, kw: k == _K.FLOAT,
    "char": lambda k, kw: k in (_K.CHAR, _K.BYTE),
    "punct": lambda k, kw: bool(is_punct(k)),
}
KIND_NAMES = (*TOKEN_KINDS, "group")


# ---------------------------------------------------------------------------------------------
# Problems and positions


@dataclass(frozen=True, slots=True)
class RuleProblem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class InvalidRuleFile(ConfigError):
    """One or more rules are invalid; the CLI exits 2 (a ConfigError)."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid lint rules:\n" + "\n".join(f"  {p}" for p in self.problems))


Path_ = tuple[str | int, ...]


class _Locator:
    """Positions of every key's value and array element of a TOML text (a structural scan)."""

    def __init__(self, text: str) -> None:
        self.t = text
        self.i = 0
        self.pos: dict[Path_, int] = {}
        self.aot: dict[Path_, int] = {}  # array-of-tables path -> number seen
        try:
            self._document()
        except IndexError:
            pass  # malformed TOML is tomllib's to report; positions found so far stand

    def line_col(self, i: int) -> tuple[int, int]:
        line = self.t.count("\n", 0, i) + 1
        return line, i - (self.t.rfind("\n", 0, i) + 1) + 1

    def at(self, path: Path_) -> int:
        """The position of ``path``, or of its nearest located ancestor."""
        while path:
            if path in self.pos:
                return self.pos[path]
            path = path[:-1]
        return 0

    def _skip(self, newlines: bool = True) -> None:
        t = self.t
        while self.i < len(t):
            c = t[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                nl = t.find("\n", self.i)
                self.i = len(t) if nl < 0 else nl
            else:
                break

    def _key(self) -> tuple[str, ...]:
        parts: list[str] = []
        t = self.t
        while True:
            self._skip(newlines=False)
            c = t[self.i]
            if c in "\"'":
                end = self._string_end(self.i)
                raw = t[self.i : end]
                parts.append(json.loads(raw) if c == '"' else raw[1:-1])
                self.i = end
            else:
                m = re.compile(r"[A-Za-z0-9_-]+").match(t, self.i)
                if m is None:
                    raise IndexError
                parts.append(m.group())
                self.i = m.end()
            self._skip(newlines=False)
            if self.i < len(t) and t[self.i] == ".":
                self.i += 1
                continue
            return tuple(parts)

    def _resolve(self, path: tuple[str, ...]) -> Path_:
        out: list[str | int] = []
        for part in path:
            out.append(part)
            n = self.aot.get(tuple(out))
            if n is not None:
                out.append(n - 1)
        return tuple(out)

    def _document(self) -> None:
        t = self.t
        table: Path_ = ()
        while True:
            self._skip()
            if self.i >= len(t):
                return
            if t.startswith("[[", self.i):
                at = self.i
                self.i += 2
                key = self._key()
                self.i += 2
                parent = self._resolve(key[:-1])
                aot = (*parent, key[-1])
                self.aot[aot] = self.aot.get(aot, 0) + 1
                table = (*aot, self.aot[aot] - 1)
                self.pos[table] = at
            elif t[self.i] == "[":
                at = self.i
                self.i += 1
                table = self._resolve(self._key())
                self.i += 1
                self.pos.setdefault(table, at)
            else:
                key = self._key()
                self._skip(newlines=False)
                self.i += 1  # '='
                self._skip(newlines=False)
                self._value((*table, *key))

    def _string_end(self, i: int) -> int:
        t = self.t
        for q in ('"""', "'''"):
            if t.startswith(q, i):
                j = i + 3
                while True:
                    k = t.index(q, j)
                    if q == '"""' and _escaped(t, k):
                        j = k + 1
                        continue
                    # A closing run may hold up to two extra quotes: they are content.
                    while t.startswith(q[0], k + 3):
                        k += 1
                    return k + 3
        q = t[i]
        j = i + 1
        while True:
            k = t.index(q, j)
            if q == '"' and _escaped(t, k):
                j = k + 1
                continue
            return k + 1

    def _value(self, path: Path_) -> None:
        t = self.t
        self.pos[path] = self.i
        c = t[self.i]
        if c in "\"'":
            self.i = self._string_end(self.i)
        elif c == "[":
            self.i += 1
            k = 0
            while True:
                self._skip()
                if t[self.i] == "]":
                    self.i += 1
                    return
                self._value((*path, k))
                k += 1
                self._skip()
                if t[self.i] == ",":
                    self.i += 1
        elif c == "{":
            self.i += 1
            while True:
                self._skip()
                if t[self.i] == "}":
                    self.i += 1
                    return
                key = self._key()
                self._skip()
                self.i += 1  # '='
                self._skip()
                self._value((*path, *key))
                self._skip()
                if t[self.i] == ",":
                    self.i += 1
        else:
            m = re.compile(r"[^,\]}\n#]*").match(t, self.i)
            assert m is not None
            self.i = m.end()

    def content_index(self, path: Path_, char_offset: int) -> int:
        """Text position of character ``char_offset`` of the string value at ``path``."""
        i = self.pos.get(path)
        if i is None:
            return self.at(path)
        t = self.t
        triple = t.startswith(('"""', "'''"), i)
        q = t[i]
        j = i + (3 if triple else 1)
        if triple and t.startswith("\n", j):
            j += 1
        elif triple and t.startswith("\r\n", j):
            j += 2
        n = 0
        while n < char_offset and j < len(t):
            if q == '"' and t[j] == "\\":
                e = t[j + 1 : j + 2]
                j += {"u": 6, "U": 10}.get(e, 2)
            else:
                j += 1
            n += 1
        return j


def _escaped(t: str, k: int) -> bool:
    n = 0
    while k - 1 - n >= 0 and t[k - 1 - n] == "\\":
        n += 1
    return n % 2 == 1


# ---------------------------------------------------------------------------------------------
# The rules


class ExampleKind(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Example:
    kind: ExampleKind
    code: str
    fixed: str | None
    index: int


@dataclass(frozen=True, slots=True)
class Constraint:
    name: str
    regex: int | None  # index into the rule's DfaBank
    not_regex: int | None
    kinds: tuple[str, ...]


@dataclass(eq=False)
class UserRule:
    """A rule from a rule file: a pattern rule or a whole-file regex rule."""

    meta: RuleMeta
    origin: str  # "path:line"
    message: Template
    fingerprint: str
    pattern: Pattern | None = None
    regex: CompiledRegex | None = None
    constraints: tuple[Constraint, ...] = ()
    bank: DfaBank | None = None  # constraint regexes, or the rule's own regex
    fix: Template | None = None
    fix_message: str | None = None
    help: str | None = None
    inside: int = 0
    not_inside: int = 0
    examples: tuple[Example, ...] = field(default=())

    def check(self, ctx: FileContext) -> list[Finding]:
        lf = ctx if isinstance(ctx, LintFile) else LintFile.from_source(ctx.path, ctx.source)
        if self.pattern is not None:
            return self._check_pattern(lf)
        return self._check_regex(lf)

    def _context_ok(self, regions: np.ndarray, rows: np.ndarray) -> np.ndarray:
        bits = regions[rows] if len(regions) else np.zeros(len(rows), np.uint8)
        ok = np.ones(len(rows), dtype=bool)
        if self.inside:
            ok &= (bits & self.inside) != 0
        if self.not_inside:
            ok &= (bits & self.not_inside) == 0
        return ok

    def _check_pattern(self, ctx: LintFile) -> list[Finding]:
        assert self.pattern is not None
        matches = self.pattern.find(ctx)
        if not matches:
            return []
        firsts = np.array([m.first for m in matches], dtype=np.int64)
        keep = self._context_ok(ctx.regions(), firsts)
        matches = [m for m, k in zip(matches, keep.tolist(), strict=True) if k]
        matches = self._constrained(ctx, matches)
        out: list[Finding] = []
        seen: set[tuple[int, int]] = set()
        for m in matches:
            start, end = int(ctx.start[m.first]), int(ctx.end[m.last])
            if (start, end) in seen:
                continue
            seen.add((start, end))
            fix = None
            if self.fix is not None:
                repl = self.fix.render(ctx, m)
                fix = Fix(self.fix_message or f"replace with `{repl}`", (Edit(start, end, repl),))
            out.append(
                Finding(
                    self.meta.name,
                    self.message.render(ctx, m),
                    start,
                    end,
                    help=self.help,
                    fix=fix,
                )
            )
        return out

    def _constrained(self, ctx: LintFile, matches: list[Match]) -> list[Match]:
        if not self.constraints or not matches:
            return matches
        ok = np.ones(len(matches), dtype=bool)
        rules: list[int] = []
        texts: list[bytes] = []
        which: list[tuple[int, bool]] = []  # (match index, negate)
        src = ctx.source
        for j, m in enumerate(matches):
            for c in self.constraints:
                first, last = m.binds[c.name]
                if c.kinds and not self._kind_ok(ctx, first, last, c.kinds):
                    ok[j] = False
                text = src[int(ctx.start[first]) : int(ctx.end[last])] if last >= first else b""
                for r, negate in ((c.regex, False), (c.not_regex, True)):
                    if r is not None:
                        rules.append(r)
                        texts.append(text)
                        which.append((j, negate))
        if rules:
            assert self.bank is not None
            hits = self.bank.search_texts(rules, texts)  # one data-parallel call for all
            for (j, negate), h in zip(which, hits.tolist(), strict=True):
                if bool(h) == negate:
                    ok[j] = False
        return [m for m, k in zip(matches, ok.tolist(), strict=True) if k]

    @staticmethod
    def _kind_ok(ctx: LintFile, first: int, last: int, kinds: tuple[str, ...]) -> bool:
        k = int(ctx.kind[first]) if last >= first else -1
        for name in kinds:
            if name == "group":
                if last > first and k in (48, 50, 52):
                    return True
            elif last == first and TOKEN_KINDS[name](k, int(ctx.keyword[first])):
                return True
        return False

    def _check_regex(self, ctx: LintFile) -> list[Finding]:
        assert self.bank is not None
        buf = np.frombuffer(ctx.source, dtype=np.uint8)
        m = self.bank.scan_files([0], buf, np.array([0, len(buf)], dtype=np.int64))
        return self.findings_from_spans(ctx, m.start, m.end)

    def findings_from_spans(self, ctx: LintFile, starts: Any, ends: Any) -> list[Finding]:
        if len(starts) == 0:
            return []
        rows = np.maximum(np.searchsorted(ctx.start, starts, side="right") - 1, 0)
        keep = self._context_ok(ctx.regions(), rows.astype(np.int64))
        out = []
        for s, e, k in zip(starts.tolist(), ends.tolist(), keep.tolist(), strict=True):
            if not k:
                continue
            fix = None
            if self.fix is not None:
                fix = Fix(self.fix_message or f"replace with `{self.fix.text}`",
                          (Edit(s, e, self.fix.text),))  # fmt: skip
            out.append(Finding(self.meta.name, self.message.text, s, e, help=self.help, fix=fix))
        return out


def regex_findings(
    rules: Sequence[UserRule], ctxs: Sequence[LintFile], *, device: Device | None = None
) -> list[list[Finding]]:
    """Every regex rule over many files in one DFA scan (per file: the findings that
    ``rule.check`` gives, rules in order). The workspace-wide path: ``device=None`` lets the
    backend policy choose (the GPU for big work when there is one)."""
    regex_rules = [r for r in rules if r.regex is not None]
    out: list[list[Finding]] = [[] for _ in ctxs]
    if not regex_rules or not ctxs:
        return out
    data = b"".join(c.source for c in ctxs)
    buf = np.frombuffer(data, dtype=np.uint8) if data else np.zeros(0, np.uint8)
    fo = np.zeros(len(ctxs) + 1, dtype=np.int64)
    np.cumsum([len(c.source) for c in ctxs], out=fo[1:])
    if device is None:
        from rustg.gpu.backend import get_backend

        device = get_backend().device_for(len(buf), len(ctxs))
    bank = DfaBank([r.regex for r in regex_rules if r.regex is not None])
    m = bank.scan_files(list(range(len(regex_rules))), buf, fo, device=device)
    for ri, rule in enumerate(regex_rules):
        sel = m.rule == ri
        files, starts, ends = m.file[sel], m.start[sel], m.end[sel]
        bounds = np.searchsorted(files, np.arange(len(ctxs) + 1))
        for f in np.unique(files).tolist():
            a, b = int(bounds[f]), int(bounds[f + 1])
            base = int(fo[f])
            out[f] += rule.findings_from_spans(ctxs[f], starts[a:b] - base, ends[a:b] - base)
    return out


# ---------------------------------------------------------------------------------------------
# Parsing rule tables

_KEYS = {
    "name": str,
    "pattern": str,
    "regex": str,
    "message": str,
    "summary": str,
    "docs": str,
    "help": str,
    "level": str,
    "severity": str,
    "category": str,
    "fix": str,
    "fix-message": str,
    "inside": list,
    "not-inside": list,
    "constraints": dict,
    "valid": list,
    "invalid": list,
}
_CONSTRAINT_KEYS: dict[str, type | tuple[type, ...]] = {
    "regex": str,
    "not-regex": str,
    "kind": (str, list),
}
_TYPE_NAMES = {str: "a string", list: "an array", dict: "a table"}


class _Collector:
    def __init__(self, path: str, loc: _Locator, base: Path_) -> None:
        self.path = path
        self.loc = loc
        self.base = base
        self.problems: list[RuleProblem] = []

    def add(self, rel: Path_, message: str, *, char_offset: int | None = None) -> None:
        full = (*self.base, *rel)
        i = (
            self.loc.content_index(full, char_offset)
            if char_offset is not None
            else self.loc.at(full)
        )
        line, col = self.loc.line_col(i)
        self.problems.append(RuleProblem(self.path, line, col, message))


def _char_offset(text: str, byte_offset: int) -> int:
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore"))


def _parse_one(table: Any, k: int, col: _Collector, names: set[str]) -> UserRule | None:
    rel: Path_ = (k,)
    n0 = len(col.problems)
    if not isinstance(table, dict):
        col.add(rel, "a rule must be a table")
        return None
    present = set(table)
    good: dict[str, Any] = {}
    for key, value in table.items():
        want = _KEYS.get(key)
        if want is None:
            col.add((k, key), f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        elif not isinstance(value, want):
            col.add((k, key), f"{key!r} must be {_TYPE_NAMES[want]}")
        else:
            good[key] = value
    # The rest checks the well-typed keys, so that one file run reports every problem.
    fingerprint = json.dumps(table, sort_keys=True)
    table = good
    name = table.get("name")
    if "name" not in present:
        col.add(rel, "a rule needs a 'name'")
    elif name is None:
        pass
    elif not _NAME.match(name):
        col.add((k, "name"), f"rule name {name!r} must be snake_case ([a-z][a-z0-9_]*)")
    elif name in names:
        col.add((k, "name"), f"two rules are named {name!r}")
    else:
        names.add(name)
    if "message" not in present:
        col.add(rel, "a rule needs a 'message'")
    if ("pattern" in present) == ("regex" in present):
        col.add(rel, "a rule needs exactly one of 'pattern' and 'regex'")
    if "level" in table and "severity" in table:
        col.add((k, "severity"), "'severity' is another name for 'level': give one")
    level = Level.WARN
    level_key = "level" if "level" in table else "severity"
    if level_key in table:
        lv = table[level_key].lower()
        if lv not in _LEVELS:
            col.add((k, level_key), f"{level_key} must be one of allow, warn, deny")
        else:
            level = _LEVELS[lv]
    category = Category.STYLE
    if "category" in table:
        try:
            category = Category(table["category"])
        except ValueError:
            col.add((k, "category"), f"category must be one of {', '.join(map(str, Category))}")
    regions = {}
    for key in ("inside", "not-inside"):
        bits = 0
        for j, v in enumerate(table.get(key, [])):
            if not isinstance(v, str) or v not in CONTEXTS:
                col.add((k, key, j), f"unknown context {v!r} (known: {', '.join(CONTEXTS)})")
            else:
                bits |= int(CONTEXTS[v])
        regions[key] = bits

    pattern: Pattern | None = None
    regex: CompiledRegex | None = None
    metavars: dict[str, bool] = {}
    if "pattern" in table:
        try:
            pattern = compile_pattern(table["pattern"])
            metavars = pattern.metavars
        except PatternError as e:
            off = _char_offset(table["pattern"], e.offset)
            col.add((k, "pattern"), f"invalid pattern: {e.reason}", char_offset=off)
    elif "regex" in table:
        try:
            regex = compile_regex(table["regex"], RegexUse.FILE)
        except RegexError as e:
            col.add((k, "regex"), f"invalid regex: {e.reason}", char_offset=e.offset)
    constraints: list[Constraint] = []
    regexes: list[CompiledRegex] = []
    if "pattern" in present and pattern is None:
        # Constraints and templates name the pattern's metavariables: with no pattern,
        # checking them would only repeat the pattern's error.
        return None
    for cname, spec in table.get("constraints", {}).items():
        where: Path_ = (k, "constraints", cname)
        if cname not in metavars:
            known = ", ".join(f"${v}" for v in sorted(metavars)) or "none"
            col.add(where, f"constraint on ${cname}, which the pattern lacks (it has: {known})")
            continue
        if not isinstance(spec, dict):
            col.add(where, "a constraint must be a table (regex, not-regex, kind)")
            continue
        ids: dict[str, int | None] = {"regex": None, "not-regex": None}
        kinds: tuple[str, ...] = ()
        spec_items: list[tuple[str, Any]] = list(spec.items())
        for key, value in spec_items:
            want_c = _CONSTRAINT_KEYS.get(key)
            if want_c is None:
                col.add((*where, key), f"unknown constraint key {key!r} (regex, not-regex, kind)")
            elif not isinstance(value, want_c):
                col.add((*where, key), f"{key!r} has the wrong type")
            elif key == "kind":
                raw: Any = value
                kinds = (raw,) if isinstance(raw, str) else tuple(str(x) for x in raw)
                for j, kn in enumerate(kinds):
                    if kn not in KIND_NAMES:
                        at = (*where, key) if isinstance(value, str) else (*where, key, j)
                        col.add(at, f"unknown kind {kn!r} (known: {', '.join(KIND_NAMES)})")
            else:
                try:
                    regexes.append(compile_regex(str(value), RegexUse.CONSTRAINT))
                    ids[key] = len(regexes) - 1
                except RegexError as e:
                    col.add((*where, key), f"invalid regex: {e.reason}", char_offset=e.offset)
        constraints.append(Constraint(cname, ids["regex"], ids["not-regex"], kinds))
    templates: dict[str, Template] = {}
    for key in ("message", "fix"):
        if key in table:
            try:
                templates[key] = compile_template(table[key], metavars)
            except PatternError as e:
                col.add((k, key), f"invalid template: {e.reason}", char_offset=e.offset)
    examples: list[Example] = []
    for kind in ExampleKind:
        for j, ex in enumerate(table.get(str(kind), [])):
            if isinstance(ex, str):
                examples.append(Example(kind, ex, None, j))
            elif kind is ExampleKind.INVALID and isinstance(ex, dict):
                extra = set(ex) - {"code", "fixed"}
                if extra or not isinstance(ex.get("code"), str):
                    col.add((k, str(kind), j), "an invalid example is a string or {code, fixed}")
                elif "fixed" in ex and not isinstance(ex["fixed"], str):
                    col.add((k, str(kind), j, "fixed"), "'fixed' must be a string")
                else:
                    if "fixed" in ex and "fix" not in table:
                        col.add((k, str(kind), j, "fixed"), "'fixed' given but the rule has no fix")
                    examples.append(Example(kind, ex["code"], ex.get("fixed"), j))
            else:
                col.add((k, str(kind), j), f"a {kind} example must be a string")
    if len(col.problems) > n0:
        return None
    assert name is not None
    line, _ = col.loc.line_col(col.loc.at((*col.base, k)))
    message = templates["message"]
    return UserRule(
        meta=RuleMeta(
            name,
            category,
            level,
            table.get("summary", table["message"]),
            table.get("docs", ""),
        ),
        origin=f"{col.path}:{line}",
        message=message,
        fingerprint=fingerprint,
        pattern=pattern,
        regex=regex,
        constraints=tuple(constraints),
        bank=DfaBank([regex]) if regex is not None else DfaBank(regexes) if regexes else None,
        fix=templates.get("fix"),
        fix_message=table.get("fix-message"),
        help=table.get("help"),
        inside=regions["inside"],
        not_inside=regions["not-inside"],
        examples=tuple(examples),
    )


def parse_rules(
    text: str, path: str, *, base: Path_ = (), data: Mapping[str, Any] | None = None
) -> tuple[list[UserRule], list[RuleProblem]]:
    """The rules of one rule file's text (``base``: where the ``rule`` array lives)."""
    import tomllib

    loc = _Locator(text)
    col = _Collector(path, loc, (*base, "rule"))
    if data is None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
            line, column = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
            return [], [RuleProblem(path, line, column, f"invalid TOML: {e}")]
    node: Any = data
    for part in base:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    tables = node.get("rule", []) if isinstance(node, dict) else []
    if not isinstance(tables, list):
        col.add((), "'rule' must be an array of tables: write [[rule]]")
        return [], col.problems
    names: set[str] = set()
    rules = [r for k, t in enumerate(tables) if (r := _parse_one(t, k, col, names)) is not None]
    return rules, col.problems


def load_rule_files(root: Path) -> list[UserRule]:
    """Rules of ``rustg-lint.toml`` and of Cargo.toml's ``[workspace.metadata.rustg.lints]``;
    :class:`InvalidRuleFile` listing every problem of both when any rule is invalid."""
    rules: list[UserRule] = []
    problems: list[RuleProblem] = []
    manifest = root / "Cargo.toml"
    if manifest.is_file():
        data = read_toml(manifest)  # invalid TOML: its ConfigError names the file
        r, p = parse_rules(
            manifest.read_text(encoding="utf-8"), str(manifest), base=_CARGO_PATH, data=data
        )
        rules += r
        problems += p
    lint_toml = root / LINT_TOML
    if lint_toml.is_file():
        data = read_toml(lint_toml)
        r, p = parse_rules(lint_toml.read_text(encoding="utf-8"), str(lint_toml), data=data)
        seen = {x.meta.name for x in rules}
        for x in r:
            if x.meta.name in seen:
                problems.append(
                    RuleProblem(
                        str(lint_toml),
                        *_line_of(x.origin),
                        f"rule {x.meta.name!r} is also defined in Cargo.toml",
                    )
                )
        rules += r
        problems += p
    if problems:
        raise InvalidRuleFile(sorted(problems, key=lambda p: (p.path, p.line, p.column)))
    return rules


def _line_of(origin: str) -> tuple[int, int]:
    return int(origin.rsplit(":", 1)[1]), 1


def load_user_rules(config: Any, root: Path) -> list[UserRule]:
    """The hook ``cli/lint_commands.py`` and the daemon call (``config``: the LintConfig, whose
    sources name the files read; the rules are re-read with positions)."""
    del config
    return load_rule_files(root)


# ---------------------------------------------------------------------------------------------
# Rule tests


class RuleTestOutcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class RuleTestResult:
    rule: str
    origin: str
    kind: ExampleKind
    index: int
    outcome: RuleTestOutcome
    detail: str
    findings: int


def run_rule_tests(rules: Sequence[UserRule]) -> list[RuleTestResult]:
    """Invalid examples must give >= 1 finding (and, with ``fixed``, the fixed text after
    ``--fix``'s own apply step); valid examples none."""
    from rustg.gpu.lint.fix import apply_fixes

    out: list[RuleTestResult] = []
    for rule in rules:
        for ex in rule.examples:
            ctx = LintFile.from_source(
                f"<{rule.meta.name} {ex.kind} #{ex.index}>", ex.code.encode()
            )
            findings = rule.check(ctx)
            outcome, detail = RuleTestOutcome.PASS, ""
            if ex.kind is ExampleKind.VALID and findings:
                outcome = RuleTestOutcome.FAIL
                f = findings[0]
                what = ex.code.encode()[f.start : f.end].decode("utf-8", "replace")
                detail = f"expected no finding, got {len(findings)}: {what!r}"
            elif ex.kind is ExampleKind.INVALID and not findings:
                outcome, detail = RuleTestOutcome.FAIL, "expected a finding, got none"
            elif ex.fixed is not None:
                got = apply_fixes(ex.code.encode(), findings).source.decode("utf-8", "replace")
                if got != ex.fixed:
                    outcome = RuleTestOutcome.FAIL
                    detail = f"fix gave {got!r}, expected {ex.fixed!r}"
            out.append(
                RuleTestResult(
                    rule.meta.name, rule.origin, ex.kind, ex.index, outcome, detail, len(findings)
                )
            )
    return out
