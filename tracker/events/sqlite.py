"""The log in one SQLite file, through aiosqlite. All of this adapter's SQL is here.

WAL journal with ``synchronous=FULL``: a commit returns only once the WAL is fsynced. Triggers
refuse UPDATE and DELETE on the events table, so the file itself says "append-only". The
primary key on ``position`` refuses a second writer that decided against an old head.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiosqlite

from tracker.errors import Conflict
from tracker.events.base import Event
from tracker.events.store import GENESIS, StoredRow, chain_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    type     TEXT NOT NULL,
    data     BLOB NOT NULL,
    hash     BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
"""

_HEAD = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
_INSERT = "INSERT INTO events (position, type, data, hash) VALUES (?, ?, ?, ?)"
_READ_PAYLOADS = "SELECT data FROM events WHERE position > ? ORDER BY position"
_READ = "SELECT position, type, data, hash FROM events WHERE position > ? ORDER BY position"


class SQLiteEventStore:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        # One connection holds one transaction: concurrent appends through this instance
        # must take turns, or the second BEGIN fails with a driver error instead of Conflict.
        self._append_lock = asyncio.Lock()
        self._tip: tuple[int, bytes] | None = None  # (head position, head hash) as last seen

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteEventStore:
        # isolation_level IMMEDIATE: the driver opens a write transaction before the first
        # INSERT, so an append costs two round trips to the connection's thread (insert, commit).
        conn = await aiosqlite.connect(str(path), isolation_level="IMMEDIATE")
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.executescript(SCHEMA)
        except BaseException:  # not a log (damaged): its thread must not outlive the error
            await conn.close()
            raise
        return cls(conn)

    @classmethod
    async def open_reader(cls, path: str | Path) -> SQLiteEventStore:
        """A read-only connection: it sees committed (durable) rows only and never writes the
        file. For audit tools, the change feed and indexes, beside the writer's connection."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no event log at {path}")
        conn = await aiosqlite.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
        await conn.execute("PRAGMA busy_timeout=5000")
        return cls(conn)

    async def append(self, events: Sequence[Event], expected_position: int) -> int:
        async with self._append_lock:
            return await self._append(events, expected_position)

    async def _append(self, events: Sequence[Event], expected_position: int) -> int:
        if self._tip is None or self._tip[0] != expected_position:
            self._tip = await self._read_tip()
        head, head_hash = self._tip
        if head != expected_position:
            raise Conflict()
        rows = chain_rows(events, head, head_hash)
        conn = self._conn
        try:
            # Positions are explicit: if another writer appended since our tip was read, the
            # primary key refuses the first row and the whole transaction is rolled back.
            await conn.executemany(_INSERT, [(r.position, r.type, r.data, r.hash) for r in rows])
            await conn.commit()
        except BaseException as exc:
            self._tip = None
            if conn.in_transaction:
                await conn.rollback()
            if isinstance(exc, sqlite3.IntegrityError):
                raise Conflict() from exc
            raise
        self._tip = (rows[-1].position, rows[-1].hash) if rows else self._tip
        return head + len(rows)

    async def _read_tip(self) -> tuple[int, bytes]:
        async with self._conn.execute(_HEAD) as cursor:
            row = await cursor.fetchone()
        return (row[0], bytes(row[1])) if row else (0, GENESIS)

    async def read(
        self, after: int = 0, batch_size: int = 10_000
    ) -> AsyncIterator[list[StoredRow]]:
        async with self._conn.execute(_READ, (after,)) as cursor:
            while rows := await cursor.fetchmany(batch_size):
                # Values as stored: a BLOB is bytes; a TEXT (a value edited by hand) stays a
                # str, for the audit tools to name the damage instead of failing on it.
                yield [StoredRow(p, t, d, h) for p, t, d, h in rows]

    async def read_payloads(
        self, after: int = 0, batch_size: int = 10_000
    ) -> AsyncIterator[list[bytes]]:
        async with self._conn.execute(_READ_PAYLOADS, (after,)) as cursor:
            while rows := await cursor.fetchmany(batch_size):
                yield [data for (data,) in rows]

    async def head(self) -> int:
        async with self._conn.execute(_HEAD) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else 0

    async def close(self) -> None:
        await self._conn.close()
