#!/usr/bin/env bash
# The gate: formatting, lint, type check, tests. CI (.ci/run) and pre-commit call this.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RUSTG_VENV:-.venv}/bin

# mypy cannot follow setuptools' package-dir mapping: give it a link tree rustg/<sub> -> <sub>.
mkdir -p build/typecheck/rustg
for sub in daemon protocol gpu cli; do ln -sfn "../../../$sub" "build/typecheck/rustg/$sub"; done

echo "== ruff format --check"; "$BIN/ruff" format --check .
echo "== ruff check";          "$BIN/ruff" check .
echo "== mypy";                "$BIN/mypy" -p rustg.protocol -p rustg.daemon -p rustg.gpu -p rustg.cli
echo "== pytest";              "$BIN/pytest" "$@"
