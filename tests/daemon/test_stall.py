"""The stall watch: a blocked trio loop gets every thread's stack written, GIL held or not."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from rustg.daemon.stall import StallWatch


def sleep_in_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # a blocking call in the trio thread (the GIL is released)


def spin_in_the_loop(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(200_000))  # C code holding the GIL: no Python thread could look


def _watched(tmp_path: Path, block: Callable[[float], None]) -> tuple[StallWatch, str]:
    dump = tmp_path / "stacks.txt"
    with dump.open("w") as out:
        watch = StallWatch(threshold_s=0.2, file=out)

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch.run)
                await trio.sleep(0.4)  # healthy: nothing written
                block(0.8)
                await trio.sleep(0.3)
                nursery.cancel_scope.cancel()

        trio.run(main)
    return watch, dump.read_text()


@pytest.mark.parametrize("block", [sleep_in_the_loop, spin_in_the_loop])
def test_a_blocked_loop_gets_its_stack_written_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, block: Callable[[float], None]
) -> None:
    with caplog.at_level(logging.WARNING, logger="rustgd.stall"):
        watch, stacks = _watched(tmp_path, block)
    assert stacks.count("Timeout (0:00:00.200000)!") == 1, stacks
    assert block.__name__ in stacks  # the culprit, in the trio thread's stack
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "did not turn for" in warnings[0]
    assert watch.stalls == 1 and 0.7 < watch.longest_s < 2.0


def test_a_healthy_loop_writes_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dump = tmp_path / "stacks.txt"
    with dump.open("w") as out, caplog.at_level(logging.WARNING, logger="rustgd.stall"):
        watch = StallWatch(threshold_s=0.2, file=out)

        async def main() -> None:
            with trio.move_on_after(1.0):
                await watch.run()

        trio.run(main)
        time.sleep(0.4)  # past the last arming: cancelled with the task, nothing fires
    assert dump.read_text() == "" and watch.stalls == 0 and not caplog.records


def test_without_a_file_descriptor_the_watch_says_so_and_steps_aside(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import io

    watch = StallWatch(threshold_s=0.2, file=io.StringIO())
    with caplog.at_level(logging.WARNING, logger="rustgd.stall"):
        trio.run(watch.run)  # returns at once instead of failing the daemon's nursery
    assert "stall watch off" in caplog.records[0].getMessage()
