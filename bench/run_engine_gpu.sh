#!/usr/bin/env bash
# The engine's GPU run, in one command on the device machine (repository root, results to $OUT):
# wheels from .whl/, the corpus tarball and its per-file editions from .device/ (made here by
#   scripts/corpus.sh --tar .device/corpus.tar.xz and bench/bench_engine.py's corpus_editions;
#   see bench/README.md), then bench/bench_engine.py --backend both and the gpu-marked tests.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
# numba 0.68.1 needs llvmlite 0.50 (60 MB, too big to carry): use the image's numba otherwise.
LV=$(python3 -c "import llvmlite; print(llvmlite.__version__)" 2>/dev/null || echo none)
WHEELS=$(ls .whl/*.whl | grep -v '/numba-')
case "$LV" in 0.50*) WHEELS="$WHEELS $(ls .whl/numba-*.whl)" ;; esac
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site $WHEELS || exit 1
mkdir -p /tmp/pp/rustg
for sub in daemon protocol gpu cli; do ln -sfn "$PWD/$sub" "/tmp/pp/rustg/$sub"; done
export PYTHONPATH=/tmp/site:/tmp/pp
mkdir -p /tmp/corpus && tar -C /tmp/corpus -xJf .device/corpus.tar.xz
export RUSTG_CORPUS_ROOT=/tmp/corpus
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
  python3 -c "import numpy, numba, numba_cuda, cupy, llvmlite; print('numpy', numpy.__version__, 'numba', numba.__version__, 'numba_cuda', numba_cuda.__version__, 'cupy', cupy.__version__, 'llvmlite', llvmlite.__version__, 'threading', numba.config.THREADING_LAYER)"
  ulimit -n; uptime; } 2>&1 | tee "$OUT/machine.txt"
TEST_FILES="tests/gpu/test_backend.py tests/gpu/test_lexer_cuda.py tests/gpu/test_tree.py tests/gpu/test_items.py tests/gpu/test_hot.py"
DATE=$(date -u +%Y-%m-%d)
timeout "${BENCH_TIMEOUT:-200}" python3 bench/bench_engine.py --backend both \
  --editions .device/editions.json --no-anchors --repeat "${REPEAT:-5}" --latency-samples 200 \
  --out "$OUT/engine-gpu-h200-$DATE.json" \
  --note "${NOTE:-device machine via the run tool; corpus tarball extracted to /tmp/corpus (page cache warm); per-crate editions from .device/editions.json}" \
  2>&1 | tee "$OUT/bench.log"
# shellcheck disable=SC2086
timeout "${TEST_TIMEOUT:-150}" python3 -m pytest -q -p no:cacheprovider -m gpu $TEST_FILES \
  2>&1 | tee "$OUT/pytest-gpu.log" | tail -15
