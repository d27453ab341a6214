# Sourced by the GPU-machine scripts (run_engine_gpu.sh, gpu_session.sh), from the repository
# root: the wheels the image lacks (.whl/) installed to /tmp/site, rustg importable from the
# working tree, the corpus tarball (.device/) extracted to /tmp/corpus, machine facts in $OUT.
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
if [[ -z "${RUSTG_GPU_ENV:-}" ]]; then
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
  export RUSTG_GPU_ENV=1
fi
