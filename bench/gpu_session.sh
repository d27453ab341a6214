#!/usr/bin/env bash
# Every GPU check of the open issues in one device call (device time is scarce), from the
# repository root with .whl and .device carried (bench/README.md says how to make them):
#   issue 4: bench/gpu_run_kernels.sh run       -> kernels-gpu.json
#   issue 5: the lint engine's and regex DFA's gpu tests, the DFA check on the corpus and
#            bench_lint.py --backend cuda over the corpus -> lint-*.{log,json}
#   issue 3: bench/run_engine_gpu.sh             -> engine-gpu-*.json, pytest-gpu.log
# Each part has its own time limit, so one that hangs cannot starve the others. The run tool
# brings back only a few files, so everything goes home as one archive, $OUT/gpu-session.tgz,
# rewritten after every part: a call cut short still returns what had finished.
#   issue 3: bench/gpu_profile_engine.py         -> engine-profile.{json,log}
# SKIP="engine lint" leaves parts out.
set -uo pipefail
export PYTHONUNBUFFERED=1
HOME_OUT=${OUT:-/tmp/out}; mkdir -p "$HOME_OUT"
OUT=/tmp/gpu-session; mkdir -p "$OUT"; export OUT
SKIP=${SKIP:-}
pack() { tar -C "$OUT" -czf "$HOME_OUT/.gpu-session.tgz" . && mv "$HOME_OUT/.gpu-session.tgz" "$HOME_OUT/gpu-session.tgz"; }
wanted() { [[ " $SKIP " != *" $1 "* ]]; }
if wanted kernels; then
  echo "== kernels (issue 4)"
  timeout 90 bash bench/gpu_run_kernels.sh run "$OUT" >"$OUT/kernels.log" 2>&1
  echo "kernels rc=$?"; tail -5 "$OUT/kernels.log"; pack
fi
source bench/gpu_env.sh
if wanted lint; then
  echo "== lint (issue 5)"
  timeout 100 python3 -m pytest -q -p no:cacheprovider -m gpu \
    tests/gpu/lint/test_engine.py tests/gpu/lint/test_regex_dfa.py >"$OUT/lint-pytest-gpu.log" 2>&1
  echo "lint tests rc=$?"; tail -5 "$OUT/lint-pytest-gpu.log"; pack
  timeout 90 python3 bench/gpu_lint_regex_check.py --corpus-tar .device/corpus.tar.xz \
    >"$OUT/lint-regex-gpu.log" 2>&1
  echo "regex check rc=$?"; tail -8 "$OUT/lint-regex-gpu.log"
  timeout 120 python3 bench/bench_lint.py --backend cuda --no-clippy --no-crate \
    >"$OUT/lint-bench-cuda.log" 2>&1
  echo "lint bench rc=$?"; tail -5 "$OUT/lint-bench-cuda.log"
  cp bench/results/lint-cuda-*.json bench/results/lint-regex-gpu-*.json "$OUT/" 2>/dev/null
  pack
fi
if wanted profile; then
  echo "== engine profile (issue 3): GPU vs host time per stage"
  timeout "${PROFILE_TIMEOUT:-150}" python3 bench/gpu_profile_engine.py --editions .device/editions.json \
    --out "$OUT/engine-profile.json" >"$OUT/engine-profile.log" 2>&1
  echo "profile rc=$?"; tail -60 "$OUT/engine-profile.log"; pack
fi
if wanted engine; then
  echo "== engine (issue 3)"
  BENCH_TIMEOUT=${BENCH_TIMEOUT:-120} TEST_TIMEOUT=${TEST_TIMEOUT:-80} REPEAT=${REPEAT:-2} \
    bash bench/run_engine_gpu.sh >"$OUT/engine.log" 2>&1
  echo "engine rc=$?"; tail -25 "$OUT/engine.log"; pack
fi
