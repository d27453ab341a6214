# Two entry points (README): `make demo` runs the daemon + live feed on the bundled example
# workspace; `make check` is the gate (format, lint, type check, tests) that CI runs too.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo check fmt test bench
setup:
	@scripts/setup.sh

demo: setup
	@$(BIN)/python scripts/demo.py

check: setup
	@scripts/check.sh

fmt: setup
	@$(BIN)/ruff format . && $(BIN)/ruff check --fix .

test: setup
	@$(BIN)/pytest

# Each benchmark prints ratios against its anchor and writes bench/results/<name>-<date>.json.
bench: setup
	@$(BIN)/python bench/bench_save_latency.py
	@$(BIN)/python bench/bench_engine.py
	@$(BIN)/python bench/bench_structure.py
	@$(BIN)/python bench/bench_kernels.py
	@$(BIN)/python bench/bench_cache.py
	@$(BIN)/python bench/bench_fmt.py
	@$(BIN)/python bench/bench_lint.py
