"""The DFA kernels of :mod:`rustg.gpu.lint.regex_dfa` on CUDA (numba-cuda), same tables.

Imported only when CUDA is asked for: it imports ``numba.cuda`` at module level. The kernel
bodies are the ``register_jitable`` functions the CPU runs, so both backends give the same
matches. Under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, tiny inputs in tests) the same
code runs on NumPy arrays; on a GPU the arrays are CuPy's.
"""

# ruff: noqa: PLR0917
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import cuda

from rustg.gpu.lint import regex_dfa as R

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
THREADS_PER_BLOCK = 128


@cuda.jit(cache=True)
def k_search(trans, trans_off, n_classes, accept, accept_off, class_of, s_rule, buf, s_offsets,
             out):  # fmt: skip
    j = cuda.grid(1)
    if j < s_rule.shape[0]:
        hit = R.dfa_search(trans, trans_off, n_classes, accept, accept_off, class_of, s_rule[j],
                           buf, s_offsets[j], s_offsets[j + 1])  # fmt: skip
        out[j] = 1 if hit else 0


@cuda.jit(cache=True)
def k_scan(trans, trans_off, n_classes, accept, accept_off, class_of, buf, sel, start_mask,
           c_lo, c_hi, c_limit, write, out_offsets, out_rule, out_start, out_end,
           counts):  # fmt: skip
    k = cuda.grid(1)
    if k < c_lo.shape[0]:
        counts[k] = R.chunk_scan(trans, trans_off, n_classes, accept, accept_off, class_of, buf,
                                 sel, start_mask, c_lo, c_hi, c_limit, k, write, out_offsets,
                                 out_rule, out_start, out_end)  # fmt: skip


def _xp() -> ModuleType:
    if SIMULATOR:
        return np
    import cupy

    xp: ModuleType = cupy
    return xp


def _dev(xp: ModuleType, a: Any) -> Any:
    """On the device. The simulator copies every argument back after a launch, which fails on
    read-only host arrays (``np.frombuffer`` of bytes): give it writable copies."""
    if SIMULATOR:
        return np.require(a, requirements="W")
    return xp.asarray(a)


def _grid(n: int) -> int:
    return max(1, (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


def _host(a: Any) -> npt.NDArray[Any]:
    return a if isinstance(a, np.ndarray) else a.get()


def _tables(bank: R.DfaBank, xp: ModuleType) -> tuple[Any, ...]:
    # Cached on the bank: a rule set's tables go to the device once per process.
    cached = getattr(bank, "_device_tables", None)
    if cached is None:
        cached = tuple(_dev(xp, t) for t in bank.tables())
        bank._device_tables = cached
    return cached


def search_many_cuda(
    bank: R.DfaBank,
    rules: npt.NDArray[np.int32],
    buf: Any,
    offsets: npt.NDArray[np.int64],
) -> npt.NDArray[np.uint8]:
    xp = _xp()
    n = len(rules)
    out = xp.zeros(n, dtype=np.uint8)
    if n:
        k_search[_grid(n), THREADS_PER_BLOCK](
            *_tables(bank, xp), _dev(xp, rules), _dev(xp, buf), _dev(xp, offsets), out
        )
    return _host(out)


def scan_cuda(
    bank: R.DfaBank,
    buf: Any,
    sel: npt.NDArray[np.int32],
    mask: npt.NDArray[np.uint64],
    c_lo: npt.NDArray[np.int64],
    c_hi: npt.NDArray[np.int64],
    c_limit: npt.NDArray[np.int64],
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Two passes like the CPU's: count per chunk, prefix sum on the device, write."""
    xp = _xp()
    n = len(c_lo)
    tables = _tables(bank, xp)
    d_buf = _dev(xp, buf)
    d = [_dev(xp, a) for a in (sel, mask, c_lo, c_hi, c_limit)]
    counts = xp.zeros(n, dtype=np.int64)
    offsets = xp.zeros(n + 1, dtype=np.int64)
    d64 = xp.zeros(1, dtype=np.int64)
    d32 = xp.zeros(1, dtype=np.int32)
    g = _grid(n)
    if n:
        k_scan[g, THREADS_PER_BLOCK](*tables, d_buf, *d, False, offsets, d32, d64, d64, counts)
        xp.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    m_rule = xp.empty(total, dtype=np.int32)
    starts = xp.empty(total, dtype=np.int64)
    ends = xp.empty(total, dtype=np.int64)
    if total:
        k_scan[g, THREADS_PER_BLOCK](*tables, d_buf, *d, True, offsets, m_rule, starts, ends,
                                     counts)  # fmt: skip
    return _host(offsets), _host(m_rule), _host(starts), _host(ends)
