"""The ``lint`` job: the GPU-aware linter (rustg.gpu.lint) on every save.

Runs after the parse job and reads its hot workspace: a saved file's token arrays, tree and
item index are already there (no second lex). The first run lints every file of the workspace
(per-file results restored from LMDB by content hash, sub-database ``lint``); later runs lint
the saved files and re-derive the cross-file (call-graph) findings of the files whose GPU code
calls into them. Findings travel as protocol diagnostics with ``source="rustg-lint"``: deny is
an error, warn a warning, fixes are suggestions. A change of ``rustg-lint.toml`` or of a
``Cargo.toml`` reloads the configuration and re-reports every file.

Blocking work (numba, LMDB) runs in a worker thread behind its own limiter, one lint at a time;
abandoned on cancel like the parse job, so shutdown never waits for a cold numba compile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from rustg.protocol import Diagnostic

from .threads import tracked

log = logging.getLogger("rustgd.lint")

SOURCE = "rustg-lint"
LINT_JOB = "lint"
_CONFIG_FILES = ("rustg-lint.toml", "Cargo.toml")


def _is_rust(path: str) -> bool:
    return path.endswith(".rs")


class LintJob:
    verb = "linted"  # in its job row: "3 files linted; ..."

    def __init__(self, root: Path, *, parse_job: Any, env: Any = None) -> None:
        self.root = root
        self._parse = parse_job  # its .hot is the HotWorkspace, once the first parse ran
        self._env = env
        self._limiter = trio.CapacityLimiter(1)
        self.engine: Any = None  # rustg.gpu.lint.engine.LintEngine, built in the worker thread
        self.last_seconds = 0.0

    def wants(self, changed: Mapping[str, str | None]) -> bool:
        return self.engine is None or any(_is_rust(p) or p.endswith(_CONFIG_FILES) for p in changed)

    def _build(self) -> Any:
        from rustg.gpu.lint.config import load_lint_config
        from rustg.gpu.lint.engine import LintEngine
        from rustg.gpu.lint.user_rules import load_user_rules

        config = load_lint_config(self.root)
        # the user's rules (rustg-lint.toml, docs/lint-rules.md), as `cargo g lint` runs them
        extra = load_user_rules(config, self.root)
        return LintEngine(extra_rules=extra, config=config, env=self._env)

    def _run(
        self, generation: int, changed: Mapping[str, str | None]
    ) -> dict[str, list[Diagnostic]]:
        import time

        from rustg.gpu.lint.context import LintFile
        from rustg.gpu.lint.report import to_diagnostics

        t0 = time.perf_counter()
        hot = self._parse.hot
        if hot is None:
            return {}  # the parse job failed its first load; it reports that itself
        reload = self.engine is None or any(p.endswith(_CONFIG_FILES) for p in changed)
        if reload:
            self.engine = self._build()
            targets = hot.paths()
        else:
            targets = sorted(p for p in changed if _is_rust(p))
        batch: dict[str, Any] = {}
        for rel in targets:
            if rel not in hot:
                batch[rel] = None
                continue
            tokens, tree, items = hot.file(rel)
            batch[rel] = LintFile(rel, tokens.buffer.tobytes(), tokens, tree, items)
        findings = self.engine.update(batch)
        out: dict[str, list[Diagnostic]] = {}
        for rel, fs in findings.items():
            item = batch.get(rel)
            if item is None and rel in hot:
                tokens, _, _ = hot.file(rel)
                source = tokens.buffer.tobytes()
            elif item is None:
                out[rel] = []
                continue
            else:
                source = item.source
            out[rel] = to_diagnostics(rel, source, fs, generation=generation)
        self.last_seconds = time.perf_counter() - t0
        return out

    async def __call__(
        self, generation: int, changed: dict[str, str | None]
    ) -> dict[str, list[Diagnostic]] | None:
        if not self.wants(changed):
            return None
        return await trio.to_thread.run_sync(
            tracked(self._run), generation, dict(changed), limiter=self._limiter,
            abandon_on_cancel=True,
        )  # fmt: skip
