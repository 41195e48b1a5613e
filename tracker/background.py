"""A node's background tasks are watched: one that ends with an error is reported, never lost.

``watch`` hands the reason of such an end to ``failed`` (once), in one line: ``tracker serve``
then reports itself not ready and stops with that line, instead of serving on with a writer
that no longer writes. :class:`Kept` is for tasks that can start again after an error (a
cluster node's follower, writer loop and lease): it logs the death in one line, reports it
until the task runs again, and restarts it; only an error it is told is fatal stops the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

RESTART_PAUSE = 1.0  # seconds between a kept task's death and its restart


def watch(task: asyncio.Task[Any], failed: Callable[[str], None]) -> None:
    """Tell ``failed`` why, if ``task`` ends with an error (not when it returns or is cancelled)."""

    def done(ended: asyncio.Task[Any]) -> None:
        if not ended.cancelled() and (exc := ended.exception()) is not None:
            failed(one_line(exc))

    task.add_done_callback(done)


class Kept:
    """A background task kept running: when it dies with an error, that is logged in one line,
    reported (``trouble``) and the task started again after ``pause`` seconds. An error of a
    ``fatal`` type is handed to ``failed`` instead (the node stops with that line).
    """

    def __init__(self, name: str, run: Callable[[], Awaitable[None]], *,
                 failed: Callable[[str], None] | None = None,
                 fatal: tuple[type[BaseException], ...] = ()) -> None:  # fmt: skip
        self.name = name
        self.trouble = ""  # why it is not running now ('' while it runs)
        self.restarts = 0
        self._run, self._failed, self._fatal = run, failed, fatal
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name=self.name)

    async def _keep(self) -> None:
        while True:
            try:
                await self._run()
                return
            except self._fatal as exc:
                self.trouble = one_line(exc)
                if self._failed is not None:
                    self._failed(self.trouble)
                return
            except Exception as exc:
                self.trouble = f"{self.name} died ({type(exc).__name__}: {exc}); restarting it"
                log.error("%s", self.trouble, extra={"action": "task_died", "task": self.name})
                await asyncio.sleep(RESTART_PAUSE)  # a backoff, not a wait for a condition
                self.restarts += 1
                self.trouble = ""

    async def stop(self) -> None:
        """Cancel it (or, if it is ending by itself, let it end) and wait until it has."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def ended(self) -> None:
        """Wait until it returns by itself (or is stopped)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)


def one_line(exc: BaseException) -> str:
    """The reason a node stops, as it logs it: the error's type and message, one line."""
    return " ".join(f"the event log failed ({type(exc).__name__}: {exc})".split())
