"""The budget of heavy reads: how many run at once, how long one waits, what one may hold.

A heavy read computes something on request from the whole log or the whole state: a
project's past (time travel, the API's and the UI's) and the digests of the live read models
(``GET /audit/digest``). Each takes a turn of :class:`ReadGate`: at most
``audit.max_concurrent_reads`` run at once, as many more wait up to ``audit.read_wait`` for
theirs, and any beyond that, or one whose wait runs out, is refused at once with 503 and
``Retry-After``: requests never pile up behind a slow one. Before a read builds anything, it
estimates what it would hold; over ``audit.max_read_memory`` it is refused with 400 naming the
setting, and a read that grows past it while it runs (a time travel whose replay meets more
assigned tasks) stops and is refused the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator

from tracker.config import Audit
from tracker.errors import Busy, InvalidRequest

MIB = 1024 * 1024


def size(n: int) -> str:
    if n >= 10 * MIB:
        return f"{n / MIB:,.0f} MiB"
    return f"{n / 1024:,.0f} KiB" if n >= 10 * 1024 else f"{n:,} bytes"


class OverBudget(InvalidRequest):
    """Answering would cost more than the settings allow; the message names the setting."""


class ReadGate:
    def __init__(self, settings: Audit) -> None:
        self.limit = settings.max_concurrent_reads
        self.wait = settings.read_wait
        self.max_memory = settings.max_read_memory
        self.max_replay = settings.max_replay_events
        self._free = asyncio.Semaphore(self.limit)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Heavy reads waiting for their turn now."""
        return self._waiting

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Run the body as one of at most ``limit`` heavy reads, or raise Busy."""
        if not self._free.locked():
            await self._free.acquire()  # a free turn: taken at once (even with no wait)
        elif self._waiting >= self.limit:
            raise self._busy()
        else:
            self._waiting += 1
            try:
                await asyncio.wait_for(self._free.acquire(), self.wait)
            except TimeoutError:
                raise self._busy() from None
            finally:
                self._waiting -= 1
        try:
            yield
        finally:
            self._free.release()

    def _busy(self) -> Busy:
        retry = max(1, math.ceil(self.wait))
        return Busy(f"Too many heavy reads at once (audit.max_concurrent_reads is "
                    f"{self.limit}); try again in {retry} s", retry)  # fmt: skip

    def afford(self, entries: int, entry_bytes: int, what: str) -> None:
        """OverBudget if holding ``entries`` of ``entry_bytes`` each passes the memory budget."""
        need = entries * entry_bytes
        if need > self.max_memory:
            raise OverBudget(
                f"{what} would hold about {size(need)} ({entries:,} entries), more than "
                f"audit.max_read_memory ({size(self.max_memory)}) allows"
            )

    def replay(self, events: int, position: int, base: int) -> None:
        """OverBudget if replaying ``events`` (to ``position`` from ``base``) is too many."""
        if events > self.max_replay:
            start = (f"the nearest usable checkpoint (position {base})" if base
                     else "the start of the log (no usable checkpoint is closer)")  # fmt: skip
            raise OverBudget(
                f"Position {position} is {events:,} events after {start}; at most "
                f"{self.max_replay:,} are replayed per query (audit.max_replay_events)"
            )
