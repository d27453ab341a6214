"""Stage timings for the data-parallel steps (benchmarks only: each stage synchronises)."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["StageClock"]


class StageClock:
    """``stage(name)`` adds the seconds since the previous stage to ``timings[name]``, after
    waiting for the device. With ``timings=None`` it does nothing (no synchronisation)."""

    def __init__(self, timings: dict[str, float] | None, xp: Any) -> None:
        self.timings = timings
        self.xp = xp
        self.t = time.perf_counter() if timings is not None else 0.0

    def stage(self, name: str) -> None:
        if self.timings is None:
            return
        cuda = getattr(self.xp, "cuda", None)  # CuPy: the legacy default stream, which
        if cuda is not None:  # numba-cuda's kernels use too
            cuda.get_current_stream().synchronize()
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.t
        self.t = now
