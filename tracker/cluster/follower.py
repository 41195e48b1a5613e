"""Following a shared log: LISTEN wakes the writer loop when another node appends, a periodic
look covers a notification lost with a dropped connection, and :class:`HeadReads` lets a read
wait until this node has folded every event committed before it arrived.

Neither can wedge the node: the follower is a kept task (restarted if it dies, see
:class:`tracker.background.Kept`), a head query that fails or raises anything fails only the
reads waiting for it (503), and the query itself has the client's deadline
(``cluster.statement_timeout``, for a pooled connection and for the answer).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from tracker.background import Kept
from tracker.cluster.outages import Outage
from tracker.cluster.turns import TurnCommitter, consume
from tracker.errors import StorageUnavailable
from tracker.events.postgres import UNREACHABLE, PostgresEventStore


class Follower:
    def __init__(self, store: PostgresEventStore, committer: TurnCommitter,
                 poll: float = 1.0) -> None:  # fmt: skip
        self._store = store
        self._committer = committer
        self._poll = poll
        self._conn: Any = None
        self._listening = Outage("LISTEN for new events")
        self.task = Kept("log follower", self._watch)

    async def start(self) -> None:
        await self._listen()
        self.task.start()

    async def _listen(self) -> None:
        try:
            self._conn = await asyncpg.connect(self._store.dsn, timeout=self._poll * 5,
                                               server_settings=self._store.settings)  # fmt: skip
            await self._conn.add_listener(self._store.channel, self._heard)
        except UNREACHABLE as exc:
            self._listening.failed(exc)
            await self._drop()
        else:
            self._listening.worked()

    async def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
        self._conn = None

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
                await self._drop()
                await self._listen()

    async def close(self) -> None:
        await self.task.stop()
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(*UNREACHABLE):
                await asyncio.wait_for(self._conn.close(), self._poll)
        await self._drop()


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
        self._reading = Outage("read the log's head")
        self.queries = 0

    async def caught_up(self) -> None:
        self._committer.check()
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if not self._running:
                self._running = True
                asyncio.get_running_loop().create_task(self._query_heads())
        head = await asyncio.shield(self._next)  # resolved by the query, bounded by its timeout
        await self._committer.reach(head)

    async def _query_heads(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None  # later readers wait for the next query
                try:
                    head = await self._store.head()
                except Exception as exc:  # any failure fails these reads (503), never the node
                    self._reading.failed(exc)
                    waiting.set_exception(StorageUnavailable())
                    waiting.add_done_callback(consume)
                    continue
                self._reading.worked()
                self.queries += 1
                waiting.set_result(head)
        finally:
            self._running = False
            if self._next is not None:  # cancelled: nobody waits forever for the next query
                self._next.set_exception(StorageUnavailable())
                self._next.add_done_callback(consume)
                self._next = None
