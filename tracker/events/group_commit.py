"""Group commit: one transaction for every batch of events that arrived while the log was busy.

Callers hand over events whose positions are already fixed (they have been decided and
applied in memory, in order) and wait for the future to say they are durable. A single
background task writes one batch at a time; whatever arrives meanwhile forms the next batch.
Durability costs one fsync per batch instead of one per request.

If a write fails, the in-memory state is ahead of the log and can no longer be trusted:
the committer fails every waiter and refuses all further work, and the tracker must be
restarted (it then rebuilds from what the log durably holds, which is all that was ever
acknowledged).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Sequence
from typing import Protocol

from tracker.errors import StorageUnavailable
from tracker.events.base import Event
from tracker.events.store import EventStore

log = logging.getLogger(__name__)

#: Upper bounds of the batch-size histogram (``/metrics``); one more bucket counts the rest.
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class BatchSizes:
    """How many events each commit carried, since this start: the ``/metrics`` histogram."""

    def __init__(self) -> None:
        self.batches = 0
        self.total = 0
        self.counts = [0] * (len(BATCH_SIZE_BUCKETS) + 1)  # per bucket, the last one the rest

    def add(self, size: int) -> None:
        self.batches += 1
        self.total += size
        self.counts[bisect.bisect_left(BATCH_SIZE_BUCKETS, size)] += 1


class GroupCommitter:
    def __init__(self, store: EventStore, head: int) -> None:
        self._store = store
        self._durable = head
        self._events: list[Event] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._writing: list[asyncio.Future[None]] = []  # the waiters of the batch in flight
        self._wakeup = asyncio.Event()
        self.failure: BaseException | None = None
        self._closing = False
        self.batch_sizes = BatchSizes()

    @property
    def durable_position(self) -> int:
        return self._durable

    def check(self) -> None:
        if self.failure is not None or self._closing:
            raise StorageUnavailable()

    def commit(self, events: Sequence[Event]) -> asyncio.Future[None]:
        """Queue ``events`` (already applied in memory) and return a future for durability."""
        self.check()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._events.extend(events)
        self._waiters.append(future)
        self._wakeup.set()
        return future

    async def settle(self) -> None:
        """Return once everything queued or being written so far is durable.

        Raises ``StorageUnavailable`` if the log failed meanwhile: the state read by the
        caller may then hold events that will never be durable.
        """
        pending = [*self._writing, *self._waiters]
        if pending:
            await asyncio.wait(pending)
        if self.failure is not None:
            raise StorageUnavailable()

    async def run(self) -> None:
        """The writer loop: one batch at a time, until ``close`` and the queue is drained."""
        while True:
            await self._wakeup.wait()
            await self._flush()
            if self._closing and not self._events:
                return

    def close(self) -> None:
        """Stop taking work; ``run`` returns once everything queued is durable."""
        self._closing = True
        self._wakeup.set()

    async def _flush(self) -> None:
        self._wakeup.clear()
        events, waiters = self._events, self._waiters
        if not events:
            return
        self._events, self._waiters, self._writing = [], [], waiters
        try:
            self._durable = await self._store.append(events, self._durable)
        except Exception as exc:
            log.critical("log append failed; refusing further work", exc_info=True,
                         extra={"action": "log_append_failed"})  # fmt: skip
            self.failure = exc
            for waiter in waiters + self._waiters:
                if not waiter.done():
                    waiter.set_exception(StorageUnavailable())
            raise
        finally:
            self._writing = []
        self.batch_sizes.add(len(events))
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class Committer(Protocol):
    """What :func:`until_durable` needs of a writer loop (this one, or a cluster's turns)."""

    @property
    def durable_position(self) -> int: ...

    @property
    def failure(self) -> BaseException | None: ...

    async def settle(self) -> None: ...


async def until_durable(committer: Committer, position: int) -> None:
    """Return once every event up to ``position`` is durable (``StorageUnavailable`` if the
    log failed meanwhile)."""
    while committer.durable_position < position:
        if committer.failure is not None:
            raise StorageUnavailable()
        before = committer.durable_position
        await committer.settle()  # everything queued or being written so far; raises if failed
        if committer.durable_position == before:
            await asyncio.sleep(0.005)  # nothing was pending: never spin without yielding
