"""The daemon's lint job without a daemon: it runs the user's rules (rustg-lint.toml) too."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rustg.daemon.lint_job import SOURCE, LintJob
from rustg.gpu.hot import HotWorkspace

RULES = """\
[[rule]]
name = "no_shout"
pattern = "shout($X)"
message = "do not shout $X"
level = "deny"
"""
LIB = b"pub fn f(x: u32) { shout(x); }\n"


def test_lint_job_runs_user_rules(tmp_path: Path) -> None:
    (tmp_path / "rustg-lint.toml").write_text(RULES)
    hot = HotWorkspace()
    hot.load_all({"src/lib.rs": LIB})
    job = LintJob(tmp_path, parse_job=SimpleNamespace(hot=hot))
    out = job._run(1, {"src/lib.rs": "modified"})
    found = [(d.code, d.severity.value, d.message, d.source) for d in out["src/lib.rs"]]
    assert found == [("rustg::no_shout", "error", "do not shout x", SOURCE)]
    # editing the rule file reloads the rules: the finding goes away with the rule
    (tmp_path / "rustg-lint.toml").write_text("")
    again = job._run(2, {"rustg-lint.toml": "modified"})
    assert [d.code for d in again["src/lib.rs"]] == []
