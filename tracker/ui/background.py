"""Work a page starts that outlives its request (the audit page's chain verification), owned
by the app: each task is named and kept here, a failure is logged, and when the app shuts down
every task still running is cancelled and awaited, before the log readers it uses close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    @property
    def running(self) -> list[asyncio.Task[None]]:
        return [task for task in self._tasks if not task.done()]

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            name = task.get_name()
            log.error("background work %s failed", name, exc_info=task.exception(),
                      extra={"action": "ui_background_failed", "task": name})  # fmt: skip

    async def close(self) -> None:
        """Cancel every task still running and wait until each has ended."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


BACKGROUND = web.AppKey("ui_background", Background)


async def shut_down(app: web.Application) -> None:
    """``on_shutdown``: runs before the cleanup contexts close the log readers."""
    await app[BACKGROUND].close()
