"""A kept background task (tracker/background.py): a death is logged in one line, reported
while it is down, and the task started again; a fatal error stops the node instead."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.waiting import eventually
from tracker.background import Kept


async def test_a_task_that_dies_is_reported_logged_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    running = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise ConnectionResetError("the session ended")
        running.set()
        await asyncio.Event().wait()  # runs until stopped

    task = Kept("log follower", flaky)
    with caplog.at_level(logging.ERROR, logger="tracker.background"):
        task.start()
        await eventually(lambda: task.trouble)
        assert task.trouble == (
            "log follower died (ConnectionResetError: the session ended); restarting it"
        )
        await asyncio.wait_for(running.wait(), 5)
    assert (task.trouble, task.restarts, len(runs)) == ("", 1, 2)
    assert [r.getMessage() for r in caplog.records] == [
        "log follower died (ConnectionResetError: the session ended); restarting it"
    ]
    await task.stop()


async def test_a_fatal_error_is_handed_to_failed_and_not_restarted() -> None:
    told: list[str] = []

    async def inconsistent() -> None:
        raise LookupError("read models at 7, the log at 5")

    task = Kept("writer loop", inconsistent, failed=told.append, fatal=(LookupError,))
    task.start()
    await asyncio.wait_for(task.ended(), 5)
    assert told == ["the event log failed (LookupError: read models at 7, the log at 5)"]
    assert task.restarts == 0
