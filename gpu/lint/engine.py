"""The lint engine: every rule over many files, levels and suppressions, incremental caching.

One :meth:`LintEngine.update` call takes the files that changed (bytes, a prepared
:class:`~rustg.gpu.lint.context.LintFile`, or None for a deleted file) and returns the final
findings of every file whose findings may have changed:

1. **Per-file results** are cached under (BLAKE3 of the content, rule-set hash): in memory, and
   in an LMDB environment when one is passed (sub-database ``lint``; msgpack, versioned). A hit
   costs no lexing at all.
2. **Misses are linted together**: their contexts are built (or taken from the hot workspace),
   the significant tokens of all of them are concatenated into one stream and every
   :class:`~rustg.gpu.lint.rules.base.SeqRule` sequence is matched over it in one backend call
   (NumPy or CuPy: :mod:`rustg.gpu.lint.backend`); then the file rules, the suppression scopes
   and the file's call-graph summary.
3. **Cross-file rules** run over the GPU fns of the workspace (kernels, device fns and whom they
   call: :mod:`rustg.gpu.lint.graph`). Only files whose GPU fns call a name that a changed file
   defines (before or after the change), and the changed files, are re-derived: the rest of the
   graph's results stand.
4. **Levels**: ``default_level`` < configuration < the innermost ``#[allow/warn/deny]`` scope
   or ``// rustg-lint:`` comment holding the finding (:mod:`rustg.gpu.lint.suppress`); findings
   at ``allow`` are dropped. Suppressions naming no rule are ``unknown_lint`` findings.

Rules are objects with ``meta`` and ``check(ctx)`` (:class:`~rustg.gpu.lint.model.Rule`), so
user rules (``extra_rules``) run beside the built-in ones with the same levels, suppressions and
caching.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import blake3
import msgspec
import numpy as np

from rustg.gpu.lint.backend import LintBackend, SeqTable, Stream
from rustg.gpu.lint.config import LintConfig
from rustg.gpu.lint.context import FnInfo, FnSummary, LintFile
from rustg.gpu.lint.graph import GPU_FLAGS
from rustg.gpu.lint.model import Category, Finding, Level, Rule, RuleMeta
from rustg.gpu.lint.rules.base import SeqRule, WorkspaceRule
from rustg.gpu.lint.suppress import UNKNOWN_LINT, Scope, find_scopes

__all__ = ["CACHE_VERSION", "UNKNOWN_LINT_META", "FileResult", "LintEngine", "LintStats"]

log = logging.getLogger("rustg.lint")

#: Bump when a built-in rule's behaviour changes: it is part of the rule-set hash, so cached
#: per-file results of older rules are never served.
CACHE_VERSION = 3

UNKNOWN_LINT_META = RuleMeta(
    UNKNOWN_LINT,
    Category.STYLE,
    Level.WARN,
    "a suppression or level names a rule that does not exist",
    docs="""`#[allow(rustg::no_such_rule)]` silences nothing: usually a typo, or a rule that was
renamed. The finding points at the name.

    #[allow(rustg::fn_namng)] // typo: the rule is fn_naming
    fn Foo() {}
""",
)


@dataclass(frozen=True, slots=True)
class FileResult:
    """Per-file outcome before levels: raw findings, suppression scopes, call-graph summary."""

    findings: tuple[Finding, ...]
    scopes: tuple[Scope, ...]
    summary: FnSummary


@dataclass
class LintStats:
    files_linted: int = 0
    cache_hits: int = 0
    lmdb_hits: int = 0
    cross_files: int = 0
    seconds: float = 0.0
    tokens: int = 0
    bytes: int = 0
    device: str = "cpu"


def _digest(content: bytes) -> bytes:
    return blake3.blake3(content).digest()


@dataclass
class _State:
    digests: dict[str, bytes] = field(default_factory=dict)
    results: dict[str, FileResult] = field(default_factory=dict)
    cross: dict[str, list[Finding]] = field(default_factory=dict)
    #: fn name -> number of GPU fns and of other fns of that name in the workspace
    names: dict[str, list[int]] = field(default_factory=dict)
    #: callee name -> files whose GPU fns call it; and every file's GPU fns (kept incrementally,
    #: so a save costs what it touches, not a walk over the workspace)
    callers: dict[str, set[str]] = field(default_factory=dict)
    gpu: dict[str, FnSummary] = field(default_factory=dict)
    #: module directory -> the `#![allow/warn/deny]` scopes its root file passes down
    inherit: dict[str, tuple[Scope, ...]] = field(default_factory=dict)


class LintEngine:
    def __init__(
        self,
        rules: Sequence[Rule] | None = None,
        *,
        extra_rules: Iterable[Rule] = (),
        config: LintConfig | None = None,
        backend: LintBackend | None = None,
        env: Any = None,
        db_name: bytes = b"lint",
    ) -> None:
        from rustg.gpu.lint.rules import builtin_rules

        self.config = config or LintConfig()
        base = list(rules) if rules is not None else builtin_rules(self.config)
        self.rules: list[Rule] = [*base, *extra_rules]
        names = [r.meta.name for r in self.rules]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"two rules share the name(s) {sorted(dup)}")
        self.metas: dict[str, RuleMeta] = {r.meta.name: r.meta for r in self.rules}
        self.metas.setdefault(UNKNOWN_LINT, UNKNOWN_LINT_META)
        self.config.check_names(self.metas)
        self.backend = backend or LintBackend()
        self._seq_rules = [r for r in self.rules if isinstance(r, SeqRule)]
        self._ws_rules = [r for r in self.rules if isinstance(r, WorkspaceRule)]
        self._file_rules = [r for r in self.rules if not isinstance(r, SeqRule | WorkspaceRule)]
        seqs: list[tuple[list[tuple[int, int]], int, int]] = []
        self._seq_owner: list[tuple[int, int]] = []  # table row -> (rule, its sequence index)
        for ri, r in enumerate(self._seq_rules):
            for si, s in enumerate(r.compiled()):
                seqs.append(s)
                self._seq_owner.append((ri, si))
        self._table = SeqTable.build(seqs)
        self.levels = {name: self.config.level_of(meta) for name, meta in self.metas.items()}
        h = blake3.blake3(f"rustg-lint {CACHE_VERSION}\n".encode())
        for any_rule in self.rules:
            kind = type(any_rule)
            h.update(f"{kind.__module__}.{kind.__qualname__}:{any_rule.meta.name}\n".encode())
            fp = getattr(any_rule, "fingerprint", None)  # user rules: their source text
            if fp is not None:
                h.update(str(fp() if callable(fp) else fp).encode())
        if self.config.kernel_limits is not None:
            h.update(repr(self.config.kernel_limits.kernels).encode())
        self.rule_set_hash = h.hexdigest()[:32]
        self._memory: dict[bytes, FileResult] = {}
        self._env = env
        self._db: Any = None
        if env is not None:
            self._db = env.open_db(db_name)
        self._state = _State()
        self._lock = threading.Lock()
        self.stats = LintStats()

    # -- the cache ---------------------------------------------------------------------------

    def _key(self, digest: bytes) -> bytes:
        return self.rule_set_hash.encode() + b":" + digest

    def _load(self, digest: bytes) -> FileResult | None:
        hit = self._memory.get(digest)
        if hit is not None:
            self.stats.cache_hits += 1
            return hit
        if self._db is None:
            return None
        try:
            with self._env.begin(db=self._db) as txn:
                raw = txn.get(self._key(digest))
            if raw is None:
                return None
            result = msgspec.msgpack.decode(raw, type=FileResult)
        except Exception as exc:  # a corrupt or unreadable entry costs a re-lint, never an error
            log.warning("lint cache: cannot read an entry (%s): re-linting", exc)
            return None
        self._memory[digest] = result
        self.stats.lmdb_hits += 1
        return result

    def _store(self, entries: list[tuple[bytes, FileResult]]) -> None:
        for digest, result in entries:
            self._memory[digest] = result
        if self._db is None or not entries:
            return
        try:
            with self._env.begin(db=self._db, write=True) as txn:
                for digest, result in entries:
                    txn.put(self._key(digest), msgspec.msgpack.encode(result))
        except Exception as exc:  # map full, read-only: the cache is an optimisation
            log.warning("lint cache: cannot write (%s)", exc)

    # -- linting -----------------------------------------------------------------------------

    def lint_contexts(self, ctxs: Sequence[LintFile]) -> list[FileResult]:
        """Run every per-file rule over these files (no cache, no levels)."""
        if not ctxs:
            return []
        streams = []
        for f, ctx in enumerate(ctxs):
            sig = ctx.sig
            streams.append(
                (ctx.kind[sig], ctx.sig_hashes, ctx.regions()[sig], np.full(len(sig), f, np.int32))
            )
        stream = Stream(*(np.concatenate([s[i] for s in streams]) for i in range(4)))
        self.stats.tokens += int(stream.kind.shape[0])
        which, pos = self.backend.match(stream, self._table)
        self.stats.device = "cpu" if self.backend.xp_for(len(stream.kind)) is np else "cuda"
        seg = stream.segment[pos] if len(pos) else np.zeros(0, np.int32)
        base = np.concatenate(([0], np.cumsum([len(s[0]) for s in streams])))
        found: list[list[Finding]] = [[] for _ in ctxs]
        owner = np.array(self._seq_owner, dtype=np.int64).reshape(-1, 2)
        if len(pos):
            rule_of = owner[which, 0]
            for ri, rule in enumerate(self._seq_rules):
                sel_r = rule_of == ri
                if not sel_r.any():
                    continue
                for f in np.unique(seg[sel_r]).tolist():
                    sel = sel_r & (seg == f)
                    found[f].extend(
                        rule.findings_at(ctxs[f], owner[which[sel], 1], pos[sel] - base[f])
                    )
        out = []
        known = set(self.metas)
        categories = {str(c) for c in Category}
        for f, ctx in enumerate(ctxs):
            gpu = ctx.has_gpu_items
            for file_rule in self._file_rules:
                if not gpu and getattr(file_rule, "gpu_only", False):
                    continue
                try:
                    found[f].extend(file_rule.check(ctx))
                except Exception as exc:  # one broken (user) rule must not hide the others
                    found[f].append(
                        Finding(
                            file_rule.meta.name,
                            f"rule crashed: {type(exc).__name__}: {exc}",
                            0,
                            0,
                        )
                    )
            scopes, unknown = find_scopes(ctx, known, categories)
            found[f].extend(unknown)
            found[f].sort(key=lambda x: (x.start, x.end, x.rule, x.message))
            out.append(FileResult(tuple(found[f]), tuple(scopes), ctx.fn_summary()))
        return out

    def update(self, changed: Mapping[str, bytes | LintFile | None]) -> dict[str, list[Finding]]:
        """Apply changes; the final findings of every file whose findings may have changed."""
        t0 = time.perf_counter()
        with self._lock:
            st = self._state
            touched: set[str] = set()
            old_fns: list[FnInfo] = []
            misses: list[tuple[str, bytes, Any]] = []
            pending: dict[bytes, list[str]] = {}
            inherit_before = {_module_dir(p): st.inherit.get(_module_dir(p), ()) for p in changed}
            for path in sorted(changed):
                value = changed[path]
                prev = st.results.get(path)
                if prev is not None:
                    old_fns.extend(prev.summary.fns)
                    self._count_names(prev.summary, -1)
                touched.add(path)
                if value is None:
                    st.results.pop(path, None)
                    st.digests.pop(path, None)
                    st.cross.pop(path, None)
                    continue
                source = value.source if isinstance(value, LintFile) else value
                digest = _digest(source)
                st.digests[path] = digest
                self.stats.bytes += len(source)
                hit = self._load(digest)
                if hit is not None:
                    st.results[path] = _with_path(hit, path)
                    self._count_names(st.results[path].summary, +1)
                    continue
                if digest in pending:  # the same bytes twice in one batch: lint them once
                    pending[digest].append(path)
                    self.stats.cache_hits += 1
                    continue
                misses.append((path, digest, value if isinstance(value, LintFile) else source))
                pending[digest] = [path]
            raw = {m[0]: m[2] for m in misses if isinstance(m[2], bytes)}
            if len(raw) > 1:
                # Many files: lex, tree and index them in ONE engine call (HotWorkspace's batch
                # load), not one small numba call per file (measured: `cargo g lint` on regex
                # took 17 s per-file vs well under 1 s batched, on the loaded 2-core box).
                from rustg.gpu.hot import HotWorkspace

                hot = HotWorkspace()
                hot.load_all(raw)
                misses = [
                    (p, d, LintFile(p, v, *hot.file(p)) if isinstance(v, bytes) else v)
                    for p, d, v in misses
                ]
            misses = [
                (p, d, LintFile.from_source(p, v) if isinstance(v, bytes) else v)
                for p, d, v in misses
            ]
            if misses:
                results = self.lint_contexts([m[2] for m in misses])
                self.stats.files_linted += len(misses)
                new = []
                for (_, digest, _), res in zip(misses, results, strict=True):
                    for path in pending[digest]:
                        st.results[path] = _with_path(res, path)
                        self._count_names(res.summary, +1)
                    new.append((digest, res))
                self._store(new)
            # Cross-file: the names whose definitions may have changed, and who calls them.
            affected_names = {fn.name for fn in old_fns}
            for path in touched:
                if path in st.results:
                    affected_names |= {fn.name for fn in st.results[path].summary.fns}
            # A module root's `#![allow(..)]` changed: every file below it is re-reported.
            owners = {_module_dir(p): p for p in changed}
            for d, before in inherit_before.items():
                owner = owners.get(d)
                root_res = st.results.get(owner) if owner else None
                now = (
                    tuple(s for s in root_res.scopes if s.inherited or s.module) if root_res else ()
                )
                if now:
                    st.inherit[d] = now
                else:
                    st.inherit.pop(d, None)
                if now != before:
                    touched |= {p for p in st.results if p.startswith(d + "/")}
            cross_targets = {p for p in touched if p in st.results}
            for name in affected_names:
                cross_targets |= st.callers.get(name, set())
            if self._ws_rules and cross_targets:
                self._cross_update(cross_targets)
            out: dict[str, list[Finding]] = {}
            for path in sorted(touched | cross_targets):
                if path not in st.results:
                    out[path] = []
                    continue
                out[path] = self._final(path)
            self.stats.seconds += time.perf_counter() - t0
            return out

    def _count_names(self, summary: FnSummary, sign: int) -> None:
        st = self._state
        names = st.names
        gpu_fns = []
        for fn in summary.fns:
            slot = names.setdefault(fn.name, [0, 0])
            is_gpu = bool(fn.flags & GPU_FLAGS)
            slot[0 if is_gpu else 1] += sign
            if is_gpu:
                gpu_fns.append(fn)
            if slot == [0, 0]:
                del names[fn.name]
        path = summary.path
        if sign < 0:
            st.gpu.pop(path, None)
        elif gpu_fns:
            st.gpu[path] = FnSummary(path, tuple(gpu_fns))
        for fn in gpu_fns:
            for call in fn.calls:
                if sign > 0:
                    st.callers.setdefault(call[0], set()).add(path)
                else:
                    got = st.callers.get(call[0])
                    if got is not None:
                        got.discard(path)
                        if not got:
                            del st.callers[call[0]]

    def _cross_update(self, targets: set[str]) -> None:
        st = self._state
        self.stats.cross_files += len(targets)
        per: dict[str, list[Finding]] = {}
        names: Mapping[str, Any] = st.names  # [gpu, other] counts unpack like the tuples
        for rule in self._ws_rules:
            got = rule.check_gpu(st.gpu, names)
            for path, fs in got.items():
                per.setdefault(path, []).extend(fs)
        for path in targets:
            st.cross[path] = per.get(path, [])

    def _final(self, path: str) -> list[Finding]:
        st = self._state
        res = st.results[path]
        raw = list(res.findings) + st.cross.get(path, [])
        scopes = sorted(res.scopes, key=lambda s: (s.end - s.start, -s.start))
        # then the module tree's, nearest first: `a/b/c.rs` gets `a/b`'s (b.rs or b/mod.rs),
        # then `a`'s (a/lib.rs at a crate's src/)...
        # `#[allow(..)] mod x;` in the parent covers x's files (x.rs, x/mod.rs, x/...).
        d = path.rsplit("/", 1)[0] if "/" in path else ""
        own = _module_dir(path)
        chain = [own] if own != d else []
        while d:
            chain.append(d)
            d = d.rsplit("/", 1)[0] if "/" in d else ""
        for d in chain:
            parent, _, name = d.rpartition("/")
            for s in st.inherit.get(parent, ()):
                if s.module == name:
                    scopes.append(Scope(0, 1 << 62, s.name, s.level, True))
            if d != own:
                for s in st.inherit.get(d, ()):
                    if s.inherited:
                        scopes.append(Scope(0, 1 << 62, s.name, s.level, True))
        out = []
        for f in raw:
            meta = self.metas.get(f.rule)
            level = self.levels.get(f.rule, Level.WARN)
            for s in scopes:
                if s.start <= f.start < s.end and (
                    s.name == f.rule or (meta is not None and s.name == str(meta.category))
                ):
                    level = s.level
                    break
            if level is Level.ALLOW:
                continue
            out.append(replace(f, level=level))
        out.sort(key=lambda x: (x.start, x.end, x.rule, x.message))
        return out

    # -- conveniences -------------------------------------------------------------------------

    def lint_sources(self, files: Mapping[str, bytes]) -> dict[str, list[Finding]]:
        """Lint these files (a workspace from scratch, or more of it); findings per file."""
        return self.update(dict(files))

    def findings(self, path: str) -> list[Finding]:
        with self._lock:
            return self._final(path) if path in self._state.results else []

    def paths(self) -> list[str]:
        return sorted(self._state.results)


def _module_dir(path: str) -> str:
    """The directory whose files are this file's submodules: ``src/lib.rs`` -> ``src``,
    ``src/a/mod.rs`` -> ``src/a``, ``src/a.rs`` -> ``src/a``."""
    head, _, name = path.rpartition("/")
    if name in ("lib.rs", "main.rs", "mod.rs"):
        return head
    return path.removesuffix(".rs")


def _with_path(result: FileResult, path: str) -> FileResult:
    """A cached result was keyed by content only: the same bytes at another path."""
    if result.summary.path == path:
        return result
    return replace(result, summary=replace(result.summary, path=path))
