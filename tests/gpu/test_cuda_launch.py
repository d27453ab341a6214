"""The engine's kernel launcher (rustg.gpu.cuda_launch): a launch after the first, with the same
argument types, skips numba-cuda's argument handling and packs the arguments itself; it must
reach the kernel exactly as numba's own path does."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def test_fast_launches_pass_arrays_views_and_scalars_as_numba_does() -> None:
    import cupy
    from numba import cuda

    from rustg.gpu import cuda_launch
    from rustg.gpu.cuda_launch import launch

    @cuda.jit
    def k_mix(src, table, out, scale, flag, bias):  # noqa: PLR0917
        i = cuda.grid(1)
        if i < out.shape[0]:
            v = src[i] * scale + table[i % table.shape[0], 1] + bias
            out[i] = v if flag else -v

    def expected(src: np.ndarray, table: np.ndarray, scale: int, flag: bool, bias: float):
        v = src * scale + table[np.arange(len(src)) % len(table), 1] + bias
        return v if flag else -v

    rng = np.random.default_rng(7)
    table = cupy.asarray(rng.integers(-50, 50, size=(13, 3)).astype(np.int64))
    for round_ in range(4):  # the first launch goes through numba, the others are packed here
        n = 1000 + 37 * round_  # other sizes, new allocations: pointers and shapes change
        src = cupy.asarray(rng.integers(0, 1000, size=n).astype(np.int64))
        out = cupy.zeros(n, dtype=np.float64)
        scale, flag, bias = round_ + 2, round_ % 2 == 0, 0.5 * round_
        launch(k_mix, n, 128, src, table, out, scale, flag, bias)
        got = cupy.asnumpy(out)
        assert np.array_equal(
            got, expected(cupy.asnumpy(src), cupy.asnumpy(table), scale, flag, bias)
        )
    fast = [e for (kid, _), e in cuda_launch._FAST.items() if kid == id(k_mix)]
    assert fast and all(e is not None for e in fast), "the fast path was not taken"
    # A strided view (every other row) keeps its strides.
    big = cupy.asarray(rng.integers(0, 9, size=(26, 3)).astype(np.int64))
    view = big[::2]
    src = cupy.arange(50, dtype=np.int64)
    for _ in range(2):
        out = cupy.zeros(50, dtype=np.float64)
        launch(k_mix, 50, 64, src, view, out, 1, True, 0.0)
        want = expected(cupy.asnumpy(src), cupy.asnumpy(view), 1, True, 0.0)
        assert np.array_equal(cupy.asnumpy(out), want)
