"""What the audit features need while the tracker runs, opened and closed together.

A read-only connection to the log (so audit reads see durable rows only and never share the
writer's transaction), the task history index, the checkpointer, the gate of heavy reads and
the time machine; plus the scheduler jobs that keep the index and the checkpoints current.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tracker.audit.budget import ReadGate
from tracker.audit.timetravel import TimeMachine
from tracker.checkpoints.directory import Checkpoints
from tracker.checkpoints.job import Checkpointer
from tracker.config import Settings
from tracker.events.store import EventStore
from tracker.service import Tracker
from tracker.startup.index import INDEX_FILE, HistoryIndex
from tracker.startup.log import open_reader

log = logging.getLogger(__name__)

INDEX_JOB, CHECKPOINT_JOB = "history-index", "checkpoint"
_POLL = 0.02  # seconds between looks at the durable position while a long poll waits


class AuditServices:
    def __init__(self, tracker: Tracker, settings: Settings, reader: EventStore,
                 index: HistoryIndex) -> None:  # fmt: skip
        self.tracker = tracker
        self.settings = settings
        self.reader = reader
        self.index = index
        self.checkpoints = Checkpoints.of(settings)
        self.checkpointer = Checkpointer(
            tracker, self.checkpoints, reader, settings.checkpoint.interval,
            settings.checkpoint.every_events,
        )  # fmt: skip
        self.gate = ReadGate(settings.audit)
        self.time_machine = TimeMachine(reader, self.checkpoints, self.gate)
        self.stopping = False  # set when the app starts stopping: long polls end at once

    @classmethod
    async def start(cls, tracker: Tracker, settings: Settings) -> AuditServices:
        reader = await open_reader(settings)
        index = await HistoryIndex.open(Path(settings.database.data_dir) / INDEX_FILE, reader)
        return cls(tracker, settings, reader, index)

    @property
    def durable(self) -> int:
        return self.tracker.writer.durable_position

    async def durable_after(self, after: int, until: float) -> None:
        """Wait until an event after ``after`` is durable, the monotonic time ``until``
        passes or the app starts stopping (so an open long poll never delays a stop)."""
        # Polls an in-memory counter (the durable position); costs nothing while waiting.
        while self.durable <= after and time.monotonic() < until and not self.stopping:  # noqa: ASYNC110
            await asyncio.sleep(_POLL)

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (pacing, not a condition), or less if the app starts stopping."""
        await self.durable_after(sys.maxsize, time.monotonic() + seconds)

    async def index_up_to_date(self) -> int:
        return await self.index.catch_up(self.durable)

    def jobs(self) -> list[tuple[str, Callable[[], Awaitable[Any]], float]]:
        found: list[tuple[str, Callable[[], Awaitable[Any]], float]] = [
            (INDEX_JOB, self.index_up_to_date, 1.0)
        ]
        if self.settings.checkpoint.enabled:
            found.append((CHECKPOINT_JOB, self.checkpointer.tick, 1.0))
        return found

    async def close(self) -> None:
        """A last checkpoint (if configured), then close the index and the reader."""
        if self.settings.checkpoint.enabled and self.settings.checkpoint.on_shutdown:
            try:
                await self.checkpointer.write()
            except Exception:
                log.exception(
                    "checkpoint at shutdown failed", extra={"action": "checkpoint_failed"}
                )
        with contextlib.suppress(Exception):
            await self.index.close()
        await self.reader.close()
