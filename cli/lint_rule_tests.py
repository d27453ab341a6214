"""``cargo g lint --test-rules``: run the ``valid``/``invalid`` examples of the user rules.

Exit codes (cli/errors.py): 0 every example behaves, 1 a rule test fails, 2 a rule file is
invalid (its problems are printed with file:line:column, through the ConfigError path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import EXIT_FAILURE, EXIT_OK

__all__ = ["render_rule_tests", "test_rules_command"]


def render_rule_tests(results: list[Any]) -> Table:
    """One row per example (pure: a renderable from the results)."""
    table = Table("rule", "example", "result", "detail", box=None, pad_edge=False)
    for r in results:
        style = "green" if r.outcome == "pass" else "bold red"
        table.add_row(r.rule, f"{r.kind} #{r.index}", Text(str(r.outcome), style=style), r.detail)
    return table


def test_rules_command(config: Any, root: Path, console: Console, *, as_json: bool = False) -> int:
    from rustg.gpu.lint.user_rules import RuleTestOutcome, load_user_rules, run_rule_tests

    rules = load_user_rules(config, root)  # InvalidRuleFile is a ConfigError: exit 2
    results = run_rule_tests(rules)
    failed = sum(r.outcome is RuleTestOutcome.FAIL for r in results)
    if as_json:
        doc = {
            "rules": len(rules),
            "examples": len(results),
            "failed": failed,
            "results": [
                {
                    "rule": r.rule,
                    "origin": r.origin,
                    "kind": str(r.kind),
                    "index": r.index,
                    "outcome": str(r.outcome),
                    "detail": r.detail,
                    "findings": r.findings,
                }
                for r in results
            ],
        }
        console.file.write(json.dumps(doc, indent=2) + "\n")
    else:
        if results:
            console.print(render_rule_tests(results))
        untested = [r.meta.name for r in rules if not r.examples]
        summary = f"{len(rules)} user rules, {len(results)} examples, {failed} failed"
        console.print(Text(summary, style="bold red" if failed else "bold"))
        if untested:
            console.print(Text(f"rules without examples: {', '.join(untested)}", style="yellow"))
    return EXIT_FAILURE if failed else EXIT_OK
