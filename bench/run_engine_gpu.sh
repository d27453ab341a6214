#!/usr/bin/env bash
# The engine's GPU run, in one command on the device machine (repository root, results to $OUT):
# wheels from .whl/, the corpus tarball and its per-file editions from .device/ (made here by
#   scripts/corpus.sh --tar .device/corpus.tar.xz and bench/bench_engine.py's corpus_editions;
#   see bench/README.md), then bench/bench_engine.py --backend both and the gpu-marked tests.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
source bench/gpu_env.sh
TEST_FILES="tests/gpu/test_cuda_launch.py tests/gpu/test_backend.py tests/gpu/test_lexer_cuda.py tests/gpu/test_tree.py tests/gpu/test_items.py tests/gpu/test_hot.py"
DATE=$(date -u +%Y-%m-%d)
# h100 / h200 ...: the card's model, so results of different cards never share a name
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | grep -oiE 'h[0-9]+|a[0-9]+' | head -1 | tr 'A-Z' 'a-z')
timeout "${BENCH_TIMEOUT:-200}" python3 bench/bench_engine.py --backend both \
  --editions .device/editions.json --no-anchors --repeat "${REPEAT:-5}" --latency-samples 200 \
  --out "$OUT/engine-gpu-${GPU:-gpu}-$DATE.json" \
  --note "${NOTE:-device machine via the run tool; corpus tarball extracted to /tmp/corpus (page cache warm); per-crate editions from .device/editions.json}" \
  2>&1 | tee "$OUT/bench.log"
# shellcheck disable=SC2086
timeout "${TEST_TIMEOUT:-150}" python3 -m pytest -q -p no:cacheprovider -m gpu $TEST_FILES \
  2>&1 | tee "$OUT/pytest-gpu.log" | tail -15
