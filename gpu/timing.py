"""Stage timings for the data-parallel steps (benchmarks only).

Two ways to time a chain of device steps:

* a plain ``dict``: each stage waits for the device, then adds its wall seconds. Simple, but
  the waits themselves change the run (the host can no longer queue ahead of the GPU).
* :class:`EventTimings`: each stage records a CUDA event and the host clock, with no wait.
  After :meth:`EventTimings.resolve` it holds, per stage, the GPU's time between events and the
  host's time between calls: a stage whose host time exceeds its GPU time is dispatch-bound
  (Python and launch overhead), not kernel-bound.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["EventTimings", "StageClock"]


class EventTimings(dict[str, float]):
    """Per-stage GPU seconds (the dict itself) and host seconds (:attr:`host`), from CUDA events
    recorded on the current stream (the legacy default stream, which numba-cuda uses too)."""

    def __init__(self) -> None:
        super().__init__()
        self.host: dict[str, float] = {}
        self._marks: list[tuple[str, Any, float]] = []

    def mark(self, name: str, xp: Any) -> None:
        event = xp.cuda.Event()
        event.record()
        self._marks.append((name, event, time.perf_counter()))

    def resolve(self, xp: Any) -> EventTimings:
        """Wait for the device and turn the marks into per-stage seconds (idempotent)."""
        if len(self._marks) < 2:
            return self
        self._marks[-1][1].synchronize()
        for (_, e0, h0), (name, e1, h1) in zip(self._marks, self._marks[1:], strict=False):
            self[name] = self.get(name, 0.0) + xp.cuda.get_elapsed_time(e0, e1) / 1e3
            self.host[name] = self.host.get(name, 0.0) + h1 - h0
        self._marks = self._marks[-1:]
        return self


class StageClock:
    """``stage(name)`` adds the seconds since the previous stage to ``timings[name]``, after
    waiting for the device; with :class:`EventTimings` it records an event instead (no wait).
    With ``timings=None`` it does nothing."""

    def __init__(self, timings: dict[str, float] | None, xp: Any) -> None:
        self.timings = timings
        self.xp = xp
        self.t = time.perf_counter() if timings is not None else 0.0
        if isinstance(timings, EventTimings):
            timings.mark("start", xp)

    def stage(self, name: str) -> None:
        if self.timings is None:
            return
        cuda = getattr(self.xp, "cuda", None)  # CuPy: the legacy default stream, which
        if isinstance(self.timings, EventTimings):  # numba-cuda's kernels use too
            self.timings.mark(name, self.xp)
            return
        if cuda is not None:
            cuda.get_current_stream().synchronize()
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.t
        self.t = now
