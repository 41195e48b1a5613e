"""The task history index: which log positions concern which task, in a SQLite file on disk.

Why on disk. Task history must survive a task's closing, so the live read models cannot
answer it, and a per-task list of positions in memory would cost about 100 bytes per event
for every task ever submitted: at a million queued tasks that alone would break the budget
of 500 bytes of memory per queued task. Scanning the log per request costs O(log size).
So the index is a table ``(task_id, position)`` in its own file beside the log
(``audit-index.sqlite3``): no memory per task, one B-tree lookup per query, then one read per
event. A separate file keeps index writes off the log's write lock.

It is derived, not the log: it is built by reading the log (through a read-only connection,
so only durable rows), catches up from where it stopped (a scheduler job, and before every
query), and is rebuilt from position 0 whenever it does not match the log (its recorded
position's chain hash differs) or cannot be read. Nothing is lost by deleting the file.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Collection
from pathlib import Path

import aiosqlite
import msgspec

from tracker.events import codec
from tracker.events.reading import row_at, rows
from tracker.events.store import EventStore

log = logging.getLogger(__name__)

INDEX_FILE = "audit-index.sqlite3"
VERSION = b"1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS task_events (
    task_id INTEGER NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (task_id, position)
) WITHOUT ROWID;
"""
_DROP = "DROP TABLE IF EXISTS task_events; DROP TABLE IF EXISTS meta;"
_SET = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"
_INSERT = "INSERT OR IGNORE INTO task_events (task_id, position) VALUES (?, ?)"
_LAST = "SELECT position FROM task_events WHERE task_id = ? ORDER BY position DESC LIMIT ?"
_POSITIONS = ("SELECT position FROM task_events WHERE task_id = ? AND position > ? "
              "ORDER BY position LIMIT ?")  # fmt: skip


def task_keys(data: bytes) -> Collection[int]:
    """The ids of the tasks an event concerns (its own, listed ones, the one it copies)."""
    try:
        return codec.decode(data).concerned_tasks()
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ()  # not our concern here: `audit verify` reports such rows


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class HistoryIndex:
    def __init__(self, conn: aiosqlite.Connection, log_store: EventStore, path: Path) -> None:
        self._conn = conn
        self._log = log_store
        self.path = path
        self.position = 0
        self._lock = asyncio.Lock()
        self._closing = False

    @classmethod
    async def open(cls, path: Path, log_store: EventStore) -> HistoryIndex:
        try:
            index = await cls._connect(path, log_store)
            await index._check()
        except sqlite3.DatabaseError as exc:
            log.warning("history index unreadable (%s): rebuilding it", exc,
                        extra={"action": "history_index_rebuilt"})  # fmt: skip
            _delete(path)
            index = await cls._connect(path, log_store)
        return index

    @classmethod
    async def _connect(cls, path: Path, log_store: EventStore) -> HistoryIndex:
        conn = await aiosqlite.connect(str(path))
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")  # derived data: rebuilt if in doubt
        await conn.executescript(_SCHEMA)
        return cls(conn, log_store, path)

    async def _check(self) -> None:
        async with self._conn.execute("SELECT key, value FROM meta") as cursor:
            meta = {key: bytes(value) for key, value in await cursor.fetchall()}
        position = int(meta.get("position", b"0"))
        row = await row_at(self._log, position) if position else None
        matches = position == 0 or (row is not None and row.hash == meta.get("hash"))
        if meta.get("version", VERSION) != VERSION or not matches:
            log.warning("history index does not match the log: rebuilding it",
                        extra={"action": "history_index_rebuilt"})  # fmt: skip
            await self._conn.executescript(_DROP + _SCHEMA)
            position = 0
        self.position = position

    async def catch_up(self, until: int | None = None, batch_size: int = 20_000) -> int:
        """Index the log up to ``until`` (its head if None); returns the indexed position."""
        async with self._lock:
            async for batch in rows(self._log, self.position, until, batch_size):
                if self._closing:
                    break
                pairs = [(task, row.position) for row in batch for task in task_keys(row.data)]
                last = batch[-1]
                await self._conn.executemany(_INSERT, pairs)
                await self._conn.execute(_SET, ("position", str(last.position).encode()))
                await self._conn.execute(_SET, ("hash", last.hash))
                await self._conn.execute(_SET, ("version", VERSION))
                await self._conn.commit()
                self.position = last.position
            return self.position

    async def positions(self, task_id: int, after: int = 0, limit: int = 1000) -> list[int]:
        async with self._conn.execute(_POSITIONS, (task_id, after, limit)) as cursor:
            return [position for (position,) in await cursor.fetchall()]

    async def last_positions(self, task_id: int, count: int) -> list[int]:
        async with self._conn.execute(_LAST, (task_id, count)) as cursor:
            return [position for (position,) in await cursor.fetchall()]

    async def close(self) -> None:
        self._closing = True
        async with self._lock:  # let a catch-up finish its batch
            await self._conn.close()
