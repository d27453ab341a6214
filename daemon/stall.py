"""Notice when the trio loop stops turning, and say where it is stuck.

Every request, heartbeat and event goes through the one trio thread; if something blocks it
(a synchronous call that should have been sent to a worker thread, a compiled function holding
the GIL) the daemon looks dead to every client while its lock says it is alive. A trio task
refreshes a timestamp eight times per threshold; a plain thread looks at it and, once it is
older than ``threshold_s``, logs every thread's stack (once per stall), and how long the stall
lasted when the loop turns again. The e2e harness prints the log's tail when a client fails.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback

import trio

log = logging.getLogger("rustgd.stall")


def thread_stacks() -> str:
    """Every live thread's Python stack, the trio (main) thread first."""
    names = {t.ident: t.name for t in threading.enumerate()}
    main = threading.main_thread().ident
    frames = sorted(sys._current_frames().items(), key=lambda item: item[0] != main)
    parts = []
    for ident, frame in frames:
        stack = "".join(traceback.format_stack(frame))
        parts.append(f"--- thread {names.get(ident, ident)}:\n{stack}")
    return "".join(parts)


class StallWatch:
    def __init__(self, threshold_s: float = 3.0) -> None:
        self.threshold_s = threshold_s
        self._last = time.monotonic()
        self._stop = threading.Event()
        #: Stalls seen so far (for tests and ``status``), with their longest duration.
        self.stalls = 0
        self.longest_s = 0.0

    def _watch(self) -> None:
        reported_at: float | None = None
        while not self._stop.wait(self.threshold_s / 4):
            last = self._last
            stalled = time.monotonic() - last
            if stalled > self.threshold_s and reported_at != last:
                reported_at = last
                self.stalls += 1
                log.warning(
                    "the event loop has not turned for %.1f s; threads:\n%s",
                    stalled, thread_stacks(),
                )  # fmt: skip

    async def run(self) -> None:
        """Beat until cancelled; the watching thread lives exactly as long."""
        watcher = threading.Thread(target=self._watch, name="rustgd-stall-watch", daemon=True)
        watcher.start()
        try:
            while True:
                now = time.monotonic()
                gap = now - self._last
                if gap > self.threshold_s:
                    self.longest_s = max(self.longest_s, gap)
                    log.warning("the event loop turned again after %.1f s", gap)
                self._last = now
                await trio.sleep(self.threshold_s / 8)
        finally:
            self._stop.set()
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(watcher.join)
