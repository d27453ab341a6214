"""On a machine with an NVIDIA GPU: load what `cargo g build` made for examples/gpu-kernels
with CuPy — the fatbin, the nvlinked cubin, and the merged PTX alone through the driver's JIT
(each is one module holding every kernel, made from the per-kernel units) — run every kernel
and compare with NumPy: the same checks the host emulation passes in the example's tests.
bench/gpu_run_kernels.sh runs it (with the example's host program) on the GPU machine.

    python bench/gpu_kernel_check.py TARGET_RUSTG_DIR [--out results.json]

Needs only CuPy and NumPy (no Rust toolchain, no rustg install): it is what runs on the GPU
machine, against artifacts built elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import cupy as cp
import numpy as np

SLICE = np.dtype([("ptr", "<u8"), ("len", "<u8")], align=True)  # rustg::Slice<T> by value


def slice_of(array: Any) -> Any:
    return np.array([(array.data.ptr, array.size)], dtype=SLICE)[0]


def check(module: Any) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    results: dict[str, Any] = {}

    n = 1 << 18
    x = rng.uniform(-1, 1, n).astype(np.float32)
    y = rng.uniform(-1, 1, n).astype(np.float32)
    dx, dy = cp.asarray(x), cp.asarray(y)
    module.get_function("saxpy")((32,), (256,), (np.float32(2.5), slice_of(dx), slice_of(dy)))
    expected = (np.float32(2.5) * x + y).astype(np.float32)
    results["saxpy"] = bool(np.array_equal(cp.asnumpy(dy), expected))

    ints = (np.arange(n) % 64).astype(np.float32)
    blocks = 32
    partials = cp.zeros(blocks, dtype=cp.float32)
    block_sum = module.get_function("block_sum")
    block_sum((blocks,), (256,), (slice_of(cp.asarray(ints)), slice_of(partials)))
    total = cp.zeros(1, dtype=cp.float32)
    block_sum((1,), (256,), (slice_of(partials), slice_of(total)))
    results["block_sum"] = float(total.get()[0]) == float(ints.sum())

    values = rng.uniform(-0.2, 1.2, n).astype(np.float32)
    bins = cp.zeros(20, dtype=cp.uint32)
    module.get_function("histogram")(
        (32,), (256,),
        (slice_of(cp.asarray(values)), np.float32(0.0), np.float32(1.0), slice_of(bins)),
    )  # fmt: skip
    inside = values[(values >= 0) & (values < 1)]
    expected_bins = np.minimum((inside * 20).astype(np.int64), 19)
    results["histogram"] = bool(
        np.array_equal(cp.asnumpy(bins), np.bincount(expected_bins, minlength=20))
    )

    rows, cols = 100, 250
    matrix = rng.uniform(-1, 1, rows * cols).astype(np.float32)
    out = cp.zeros(rows * cols, dtype=cp.float32)
    module.get_function("transpose")(
        ((cols + 31) // 32, (rows + 31) // 32), (32, 8),
        (slice_of(cp.asarray(matrix)), np.uint32(rows), np.uint32(cols), slice_of(out)),
    )  # fmt: skip
    results["transpose"] = bool(
        np.array_equal(cp.asnumpy(out), matrix.reshape(rows, cols).T.ravel())
    )
    cp.cuda.Device().synchronize()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target_rustg", type=Path)
    parser.add_argument("--crate", default="gpu_kernels")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = cp.cuda.Device()
    cc = device.compute_capability
    props = cp.cuda.runtime.getDeviceProperties(device.id)
    arch = f"sm_{cc}"
    report: dict[str, Any] = {"gpu": props["name"].decode(), "arch": arch, "runs": {}}
    manifest = json.loads((args.target_rustg / f"{args.crate}.manifest.json").read_text())
    report["manifest_archs"] = manifest["archs"]
    built = arch if arch in manifest["archs"] else max(manifest["archs"])
    for kind in ("fatbin", "cubin", "ptx"):
        path = args.target_rustg / built / f"{args.crate}.{kind}"
        if kind == "cubin" and built != arch:
            continue  # SASS runs only on its own arch (the fatbin and PTX cover the rest)
        started = time.perf_counter()
        module = cp.RawModule(path=str(path))
        results = check(module)
        report["runs"][kind] = {
            "file": f"{built}/{path.name}",
            "results": results,
            "seconds": round(time.perf_counter() - started, 4),
        }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if all(all(r["results"].values()) for r in report["runs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
