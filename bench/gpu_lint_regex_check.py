"""On a machine with an NVIDIA GPU: the lint DFA kernels on CUDA against the CPU, and their
throughput, over the real corpus (or synthetic text when no corpus is available).

    .venv/bin/python bench/gpu_lint_regex_check.py [--corpus-tar corpus.tar.xz] [--limit N]

``scripts/corpus.sh --tar corpus.tar.xz`` packs the corpus on a machine that has it (the GPU
machine has no Debian registry). Prints ``CPU==CUDA`` for whole-file regex matches and for
constraint searches, and MB/s of each backend (the first CUDA call, JIT and context included,
is reported separately from the warm ones); writes bench/results/lint-regex-gpu-<stamp>.json.
Exit 1 when CPU and CUDA disagree.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.common import machine_info, results_path, write_results  # noqa: E402

REGEXES = ["TODO[^(]", "FIXME", "unsafe\\s*\\{", "0x[0-9a-fA-F]{9,}", "\\.unwrap\\(\\)"]
CONSTRAINTS = ["^[a-z_][a-z0-9_]*$", "^[A-Z][A-Za-z0-9]*$", "^_", "(?:tmp|foo|bar)"]


def load_text(tar: str | None, limit: int | None) -> tuple[Any, Any, str]:
    import numpy as np

    chunks: list[bytes] = []
    if tar:
        with tarfile.open(tar) as tf:
            for m in tf:
                if m.isfile() and m.name.endswith(".rs"):
                    f = tf.extractfile(m)
                    if f is not None:
                        chunks.append(f.read())
                if limit and len(chunks) >= limit:
                    break
        where = f"corpus {tar}"
    else:
        rng = np.random.default_rng(7)
        words = [b"fn ", b"let ", b"x.unwrap() ", b"// TODO later\n", b"unsafe { ", b"} ",
                 b"0x1234567890ab ", b"FIXME ", b"foo(bar); ", b"\n"]  # fmt: skip
        for _ in range(limit or 4000):
            chunks.append(b"".join(words[i] for i in rng.integers(0, len(words), 2000)))
        where = "synthetic"
    buf = np.frombuffer(b"".join(chunks), dtype=np.uint8)
    fo = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in chunks], out=fo[1:])
    return buf, fo, where


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--corpus-tar", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    info = machine_info()
    import numpy as np

    from rustg.gpu.backend import Device
    from rustg.gpu.lint.regex_dfa import DfaBank, RegexUse, compile_regex

    buf, fo, where = load_text(args.corpus_tar, args.limit)
    mb = len(buf) / 1e6
    print(f"{where}: {len(fo) - 1} files, {mb:.1f} MB")
    bank = DfaBank([compile_regex(r, RegexUse.FILE) for r in REGEXES])
    ids = list(range(len(REGEXES)))

    def timed(device: Device) -> tuple[Any, list[float]]:
        times = []
        out = None
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = bank.scan_files(ids, buf, fo, device=device)
            times.append(time.perf_counter() - t)
        return out, times

    t = time.perf_counter()
    bank.scan_files(ids, buf[: int(fo[1])], fo[:2], device=Device.CUDA)
    cuda_first = time.perf_counter() - t
    cpu, cpu_t = timed(Device.CPU)
    gpu, gpu_t = timed(Device.CUDA)
    same_scan = all(
        np.array_equal(getattr(cpu, f), getattr(gpu, f)) for f in ("rule", "file", "start", "end")
    )
    print(
        f"file regexes ({len(REGEXES)}): CPU==CUDA {same_scan}; {len(cpu.start)} matches; "
        f"CPU {mb / min(cpu_t):.1f} MB/s, CUDA {mb / min(gpu_t):.1f} MB/s "
        f"(first CUDA call {cuda_first:.2f} s)"
    )

    # Constraints: every identifier-like word of the text as a subject.
    cons = DfaBank([compile_regex(r) for r in CONSTRAINTS])
    text = buf.tobytes()
    import re

    spans = [(m.start(), m.end()) for m in re.finditer(rb"[A-Za-z_][A-Za-z0-9_]*", text)]
    offs = np.array([s for s, _ in spans] + [spans[-1][1]], dtype=np.int64)
    # Subjects are consecutive (word + what follows up to the next word): exact bounds are
    # not the point here, equal answers on both backends are.
    rules = (np.arange(len(spans)) % len(CONSTRAINTS)).astype(np.int32)
    t = time.perf_counter()
    a = cons.search_many(rules, buf, offs, device=Device.CPU)
    cpu_c = time.perf_counter() - t
    cons.search_many(rules[:10], buf, offs[:11], device=Device.CUDA)
    t = time.perf_counter()
    b = cons.search_many(rules, buf, offs, device=Device.CUDA)
    gpu_c = time.perf_counter() - t
    same_cons = bool(np.array_equal(a, b))
    print(
        f"constraints: {len(spans)} subjects, CPU==CUDA {same_cons}; "
        f"CPU {cpu_c * 1e3:.1f} ms, CUDA {gpu_c * 1e3:.1f} ms"
    )
    doc = {
        "benchmark": "lint-regex-gpu",
        "machine": info,
        "input": {"where": where, "files": len(fo) - 1, "bytes": len(buf)},
        "scan": {
            "regexes": REGEXES,
            "cpu_equals_cuda": same_scan,
            "matches": len(cpu.start),
            "cpu_seconds": cpu_t,
            "cuda_seconds": gpu_t,
            "cuda_first_call_seconds": cuda_first,
            "cpu_mb_s": mb / min(cpu_t),
            "cuda_mb_s": mb / min(gpu_t),
        },
        "constraints": {
            "regexes": CONSTRAINTS,
            "subjects": len(spans),
            "cpu_equals_cuda": same_cons,
            "cpu_seconds": cpu_c,
            "cuda_seconds": gpu_c,
        },
    }
    path = write_results(results_path("lint-regex-gpu"), doc)
    print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0 if same_scan and same_cons else 1


if __name__ == "__main__":
    sys.exit(main())
