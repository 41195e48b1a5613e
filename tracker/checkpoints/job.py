"""The periodic checkpoint job: write one when enough events or time passed since the last.

A checkpoint describes read models that already include events not yet durable (they are
applied before their group commit). So the file's trailer is written only once every event up
to its position is durable, anchored to the hash the log gave that row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from tracker.checkpoints.directory import Checkpoints
from tracker.checkpoints.fileformat import Written
from tracker.errors import StorageUnavailable
from tracker.events.reading import row_at
from tracker.events.store import EventStore
from tracker.projections.snapshot import Unsupported
from tracker.projections.state import State

log = logging.getLogger(__name__)


class Source(Protocol):
    """What is checkpointed: the tracker's read models, and a wait until they are durable."""

    @property
    def state(self) -> State: ...

    async def durable(self, position: int) -> None: ...


class Checkpointer:
    def __init__(self, tracker: Source, checkpoints: Checkpoints, reader: EventStore,
                 interval: float, every_events: int) -> None:  # fmt: skip
        self.tracker = tracker
        self.checkpoints = checkpoints
        self.reader = reader
        self.interval = interval
        self.every_events = every_events
        self.last_position = tracker.state.position
        self.last_time = time.monotonic()
        self.last: Written | None = None
        self._lock = asyncio.Lock()
        self.unsupported = False

    def due(self) -> bool:
        fresh = self.tracker.state.position - self.last_position
        if fresh <= 0 or self.unsupported:
            return False
        elapsed = time.monotonic() - self.last_time
        return fresh >= self.every_events or (self.interval > 0 and elapsed >= self.interval)

    async def tick(self) -> Written | None:
        """The scheduled job: a checkpoint if one is due."""
        return await self.write() if self.due() else None

    async def write(self) -> Written | None:
        async with self._lock:
            state = self.tracker.state
            try:
                written = await self.checkpoints.write(state, lambda at: self._anchor(state, at))
            except Unsupported as exc:
                self.unsupported = True
                log.error(
                    "checkpoints are off: %s", exc, extra={"action": "checkpoint_unsupported"}
                )
                return None
            self.last_time = time.monotonic()
            if written is None:
                return None
            self.last_position, self.last = written.position, written
            log.info(
                "checkpoint at position %d: %d bytes, event loop paused %.3f s, %.3f s in all",
                written.position, written.size, written.pause, written.seconds,
                extra={"action": "checkpoint_written", "position": written.position,
                       "pause": written.pause, "bytes": written.size},
            )  # fmt: skip
            return written

    async def _anchor(self, state: State, position: int) -> bytes:
        await self.tracker.durable(position)
        if self.tracker.state is not state:  # a cluster node rebuilt them: they may hold
            raise StorageUnavailable("the read models were rebuilt from the log meanwhile")
        row = await row_at(self.reader, position)
        if row is None:
            raise StorageUnavailable("the log does not hold the checkpoint's position")
        return row.hash
