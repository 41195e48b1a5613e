"""The one node that runs the scheduler's jobs: a lease, taken through the database.

Each node keeps a dedicated connection and tries, every quarter of ``lease`` seconds, to take
a session-level advisory lock on the log (``pg_try_advisory_lock``). The node holding it is
the leader, and renews its lease at the same pace with a round trip on that connection.

The lease ends by itself. That connection's session has ``idle_session_timeout = lease``, so
when the leader stops renewing (it died, froze, or lost the network) PostgreSQL ends the
session ``lease`` seconds after its last renewal, which releases the lock, and another node
takes it at its next try: a frozen leader is replaced within ``lease`` plus a quarter of it.
The leader acts only while its last renewal, timed from *before* it was sent, is younger than
``lease`` by the monotonic clock (which runs on while a process is stopped): its lease ends on
its side no later than on the server's, so a leader that wakes from a freeze does nothing
until it holds the lock again. What it had already started is fenced by the deciders: an
expiry names the deadline it expires, and one that no longer matches (the task was expired,
released or reassigned meanwhile) decides nothing, so expiry sent twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from tracker.background import Kept
from tracker.cluster.outages import Outage
from tracker.events import postgres_sql as sql
from tracker.events.postgres import UNREACHABLE, PostgresEventStore

log = logging.getLogger(__name__)


class Leadership:
    def __init__(self, store: PostgresEventStore, lease: float = 2.0) -> None:
        self._store = store
        self._lease = lease
        self._conn: Any = None
        self._holds = False  # this node's lock session holds the lock (as far as it knows)
        self._until = 0.0  # monotonic time at which its lease ends on its side
        self._connecting = Outage("reach the log for the scheduler's lease")
        self.task = Kept("scheduler lease", self._keep_trying)

    def leads(self) -> bool:
        return self._holds and time.monotonic() < self._until

    async def start(self) -> None:
        await self._try()
        self.task.start()

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 4)  # the lease's pace, not a wait for a condition
            await self._try()

    async def _try(self) -> None:
        sent = time.monotonic()
        try:
            if self._conn is None or self._conn.is_closed():
                self._lost()
                self._conn = await self._connect()
            if self._holds:
                await self._conn.fetchval("SELECT 1", timeout=self._lease)  # renewed
            elif await self._conn.fetchval(sql.TRY_SESSION_LOCK, *self._store.leader_key,
                                           timeout=self._lease):  # fmt: skip
                self._holds = True
                log.info("this node now runs the scheduler's jobs", extra={"action": "leader"})
            self._until = sent + self._lease
            self._connecting.worked()
        except UNREACHABLE as exc:
            self._connecting.failed(exc)
            self._lost()
            self._drop()

    async def _connect(self) -> Any:
        lease = str(max(1, round(self._lease * 1000)))
        settings = {**self._store.settings, "idle_session_timeout": lease}
        return await asyncpg.connect(self._store.dsn, timeout=self._lease,
                                     server_settings=settings)  # fmt: skip

    def _lost(self) -> None:
        if self._holds:
            log.warning("this node no longer runs the scheduler's jobs",
                        extra={"action": "leader_lost"})  # fmt: skip
        self._holds, self._until = False, 0.0

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.terminate()
        self._conn = None

    async def close(self) -> None:
        await self.task.stop()
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(*UNREACHABLE):
                await asyncio.wait_for(self._conn.close(), self._lease)  # releases the lock
        self._drop()
        self._holds = False
