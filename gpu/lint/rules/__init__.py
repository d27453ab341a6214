"""The built-in rules, by category (one module each); :func:`builtin_rules` instantiates them."""

from __future__ import annotations

from typing import Any

from rustg.gpu.lint.model import Rule

__all__ = ["builtin_rule_classes", "builtin_rules"]


def builtin_rule_classes() -> list[type]:
    from rustg.gpu.lint.rules import gpu, perf, resources, safety, style

    return [*gpu.RULES, *perf.RULES, *safety.RULES, *resources.RULES, *style.RULES]


def builtin_rules(config: Any = None) -> list[Rule]:
    """One instance of every built-in rule; rules that read configuration get ``config``."""
    out: list[Rule] = []
    for cls in builtin_rule_classes():
        wants = getattr(cls, "configured", False)
        out.append(cls(config) if wants else cls())
    return out
