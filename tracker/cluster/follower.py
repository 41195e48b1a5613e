"""Following a shared log: LISTEN wakes the writer loop when another node appends, a periodic
look covers a notification lost with a dropped connection, and :class:`HeadReads` lets a read
wait until this node has folded every event committed before it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from tracker.cluster.turns import TurnCommitter
from tracker.errors import StorageUnavailable
from tracker.events.postgres import PostgresEventStore

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, store: PostgresEventStore, committer: TurnCommitter,
                 poll: float = 1.0) -> None:  # fmt: skip
        self._store = store
        self._committer = committer
        self._poll = poll
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._listen()
        self._task = asyncio.create_task(self._watch(), name="log-follower")

    async def _listen(self) -> None:
        self._conn = await asyncpg.connect(self._store.dsn)
        await self._conn.add_listener(self._store.channel, self._heard)

    def _heard(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            if int(payload) <= self._committer.durable_position:
                return  # our own append, or one already folded
        self._committer.behind()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            self._committer.behind()  # a cheap look (one indexed query) in case a NOTIFY was lost
            if self._conn is None or self._conn.is_closed():
                try:
                    await self._listen()
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("cannot LISTEN for new events: %r", exc,
                                extra={"action": "listen_failed"})  # fmt: skip
                    self._conn = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()


class HeadReads:
    """Reads that never see older state than the log's head as of their arrival.

    Each read needs the head as of a moment after it arrived: one ``max(position)`` query. Reads
    that arrive while a query is in flight share the next one, so under load there is about
    one query per round trip to the database, not one per read.
    """

    def __init__(self, store: PostgresEventStore, committer: TurnCommitter) -> None:
        self._store = store
        self._committer = committer
        self._next: asyncio.Future[int] | None = None  # the head query readers now wait for
        self._running = False
        self.queries = 0

    async def caught_up(self) -> None:
        loop = asyncio.get_running_loop()
        if self._next is None:
            self._next = loop.create_future()
            if not self._running:
                loop.create_task(self._query_heads())
        head = await asyncio.shield(self._next)
        await self._committer.reach(head)

    async def _query_heads(self) -> None:
        self._running = True
        try:
            while self._next is not None:
                waiting, self._next = self._next, None  # later readers wait for the next query
                try:
                    head = await self._store.head()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("cannot read the log's head: %r", exc,
                                extra={"action": "head_failed"})  # fmt: skip
                    waiting.set_exception(StorageUnavailable())  # a 503, and the node serves on
                    continue
                except BaseException as exc:
                    waiting.set_exception(exc)
                    raise
                self.queries += 1
                waiting.set_result(head)
        finally:
            self._running = False
