"""Notice when the trio loop stops turning, and say where it is stuck.

Every request, heartbeat and event goes through the one trio thread; if something blocks it
(a synchronous call that should have been sent to a worker thread, a compiled function holding
the GIL) the daemon looks dead to every client while its lock says it is alive. A trio task
re-arms :func:`faulthandler.dump_traceback_later` eight times per threshold: if the loop does
not come back to re-arm it within ``threshold_s``, faulthandler's own C thread writes every
thread's Python stack to ``file`` (the daemon's stderr: its log or the journal). It needs no
GIL, so it also catches a compiled function that holds it, which a watcher thread in Python
could not. When the loop turns again, the task logs how long the stall lasted.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import time
from typing import TextIO

import trio

log = logging.getLogger("rustgd.stall")


class StallWatch:
    def __init__(self, threshold_s: float = 3.0, file: TextIO | None = None) -> None:
        self.threshold_s = threshold_s
        self.file = file
        #: Stalls seen so far, and the longest (for tests and diagnostics).
        self.stalls = 0
        self.longest_s = 0.0

    async def run(self) -> None:
        """Beat until cancelled. faulthandler's timer is process-wide: one watch at a time."""
        out = self.file or sys.stderr
        try:
            faulthandler.dump_traceback_later(self.threshold_s, file=out)
        except (ValueError, OSError, AttributeError) as exc:  # a stderr with no descriptor
            log.warning("stall watch off: cannot write stacks to %r (%s)", out, exc)
            return
        last = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                gap = now - last
                if gap > self.threshold_s:
                    self.stalls += 1
                    self.longest_s = max(self.longest_s, gap)
                    log.warning(
                        "the event loop did not turn for %.1f s; every thread's stack was "
                        "written above (\"Timeout (%s)!\") when it had stalled %g s",
                        gap, _hms(self.threshold_s), self.threshold_s,
                    )  # fmt: skip
                last = now
                faulthandler.dump_traceback_later(self.threshold_s, file=out)
                await trio.sleep(self.threshold_s / 8)
        finally:
            faulthandler.cancel_dump_traceback_later()


def _hms(seconds: float) -> str:
    """As faulthandler prints a timeout: ``0:00:03`` (fractions as ``0:00:00.500000``)."""
    whole = int(seconds)
    text = f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    frac = round((seconds - whole) * 1_000_000)
    return f"{text}.{frac:06d}" if frac else text
