"""The one node that runs the scheduler's jobs, chosen through the database.

Each node keeps a dedicated connection and tries, every ``retry`` seconds, to take a
session-level advisory lock on the log (``pg_try_advisory_lock``). The node holding it is the
leader. The lock is the connection's: when the leader dies (or its connection does), the server
releases it, and another node takes it at its next try, within ``retry`` seconds (plus the
time the server needs to notice a dead client; a killed process's socket closes at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from tracker.events import postgres_sql as sql
from tracker.events.postgres import PostgresEventStore

log = logging.getLogger(__name__)


class Leadership:
    def __init__(self, store: PostgresEventStore, retry: float = 1.0) -> None:
        self._store = store
        self._retry = retry
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False

    def __call__(self) -> bool:
        return self.is_leader

    async def start(self) -> None:
        await self._try()
        self._task = asyncio.create_task(self._keep_trying(), name="leader-lease")

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(self._retry)
            await self._try()

    async def _try(self) -> None:
        try:
            if self._conn is None or self._conn.is_closed():
                self._lost()
                self._conn = await asyncpg.connect(self._store.dsn)
            if self.is_leader:
                await self._conn.fetchval("SELECT 1")  # still connected, so still holding it
                return
            if await self._conn.fetchval(sql.TRY_SESSION_LOCK, *self._store.leader_key):
                self.is_leader = True
                log.info("this node now runs the scheduler's jobs", extra={"action": "leader"})
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("leader lease: %r", exc, extra={"action": "leader_lease_failed"})
            self._lost()
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.terminate()
            self._conn = None

    def _lost(self) -> None:
        if self.is_leader:
            log.warning("this node no longer runs the scheduler's jobs",
                        extra={"action": "leader_lost"})  # fmt: skip
        self.is_leader = False

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()  # releases the lock
        self.is_leader = False
