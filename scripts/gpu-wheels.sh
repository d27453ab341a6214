#!/usr/bin/env bash
# The wheels the GPU machine's image lacks, for CPython 3.12 on x86-64, into .whl/ (git-ignored;
# carried by the device tool, ~30 MB). Its own NumPy 2.5 breaks numba-cuda 0.30, hence 2.3.x;
# llvmlite stays the image's (0.50 works with numba 0.68.1, and its wheel is 60 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
platforms=()
for n in 17 24 26 27 28 31 34 35; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)
for spec in numpy==2.3.5 numba==0.68.1 numba-cuda==0.30.4 pyzmq==27.3.0 trio==0.35.0 \
    outcome==1.3.0.post0 sniffio==1.3.1 lmdb==3.0.0 blake3==1.0.11 msgspec==0.23.0 \
    zstandard==0.25.0 redis==8.1.0 watchdog==7.1.0; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${platforms[@]}" -d .whl "$spec"
done
ls .whl
