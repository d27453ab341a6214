"""The stall watch: a blocked trio loop is logged with the stack that blocks it."""

from __future__ import annotations

import logging
import time

import pytest
import trio

from rustg.daemon.stall import StallWatch


def block_the_loop_for(seconds: float) -> None:
    time.sleep(seconds)  # a synchronous call in the trio thread: what the watch is for


def test_a_blocked_loop_is_logged_once_with_its_stack(caplog: pytest.LogCaptureFixture) -> None:
    watch = StallWatch(threshold_s=0.2)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run)
            await trio.sleep(0.3)  # healthy: nothing logged
            block_the_loop_for(0.8)
            await trio.sleep(0.3)
            nursery.cancel_scope.cancel()

    with caplog.at_level(logging.WARNING, logger="rustgd.stall"):
        trio.run(main)
    stuck = [r.getMessage() for r in caplog.records if "has not turned" in r.getMessage()]
    assert len(stuck) == 1 and watch.stalls == 1
    # the trio thread's stack comes first and shows the culprit
    assert stuck[0].index("block_the_loop_for") < stuck[0].index("rustgd-stall-watch")
    resumed = [r.getMessage() for r in caplog.records if "turned again" in r.getMessage()]
    assert len(resumed) == 1 and 0.7 < watch.longest_s < 2.0


def test_a_healthy_loop_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    watch = StallWatch(threshold_s=0.2)

    async def main() -> None:
        with trio.move_on_after(0.8):
            await watch.run()

    with caplog.at_level(logging.WARNING, logger="rustgd.stall"):
        trio.run(main)
    assert watch.stalls == 0 and not caplog.records
