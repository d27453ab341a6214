"""Small pieces every numba-cuda module of the engine shares: a 1-D launch over n rows and the
"which segment owns row i" search over an offsets table.

Imported lazily, like the kernel modules that use it (it imports ``numba.cuda``).
"""

# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

from typing import Any

from numba import cuda


def launch(kernel: Any, n: int, threads: int, *args: Any) -> None:
    """One thread per row of ``n`` (nothing when ``n`` is 0), ``threads`` per block."""
    if n:
        kernel[(n + threads - 1) // threads, threads](*args)


@cuda.jit(device=True)
def segment_of(offsets, i):
    """The segment owning row i of ``offsets`` (segment s is [offsets[s], offsets[s + 1])):
    the last segment starting at or before i, so empty segments are skipped. Needs
    0 <= i < offsets[-1]."""
    lo = 0
    hi = offsets.shape[0] - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if offsets[mid] <= i:
            lo = mid
        else:
            hi = mid - 1
    return lo
