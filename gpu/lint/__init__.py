"""The GPU-aware linter: built-in rules and user rules over the engine's arrays (docs/lint.md)."""
