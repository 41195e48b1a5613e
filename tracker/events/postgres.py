"""The log in PostgreSQL, through asyncpg. The SQL is in :mod:`tracker.events.postgres_sql`.

asyncpg rather than psycopg 3: it is asyncio-native (no thread hop per query), speaks the
binary protocol (``bytea`` rows arrive as ``bytes`` with no text decoding, which is most of
what replay reads), ships wheels with no libpq to install, and has LISTEN/NOTIFY and pools
built in: everything this adapter and the cluster code need, one dependency.

Writers take turns: an append runs in one transaction that first takes a transaction-level
advisory lock on the log (``pg_advisory_xact_lock``), then reads the tip, inserts its rows at
the positions after it, announces the new head with NOTIFY and commits, releasing the lock.
So positions commit in order, without gaps: a reader that sees position N+1 has already been
able to see N, and reading by position never skips a late commit. The primary key on
``position`` stays the safety net: a row at a taken position is refused by the schema and
reported as :class:`~tracker.errors.Conflict`.

``synchronous_commit`` is the server's (``on`` by default): a commit returns once the WAL is
flushed. Reads page by position (``position > $1 ORDER BY position LIMIT $2``), each page a
short query on a pooled connection, so a long replay holds no transaction open.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from tracker.config import Cluster
from tracker.dsn import redacted, schema_of
from tracker.errors import Conflict
from tracker.events import postgres_sql as sql
from tracker.events.base import Event
from tracker.events.store import GENESIS, StoredRow, chain_rows

#: What a database that cannot be reached (or a session it ended) raises through asyncpg: a
#: refused or lost connection, a server error (the session terminated, a timeout, shutdown),
#: the client's own deadline, and a connection asyncpg found closed under it.
UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
               asyncpg.InternalClientError)  # fmt: skip


OLDEST_FOR_A_CLUSTER = 14  # idle_session_timeout ends a frozen leader's lease


def server_settings(cluster: Cluster) -> dict[str, str]:
    """The session settings that bound what a node holds on the server (see ``open``), and
    the node's name in ``pg_stat_activity`` (host and pid: which sessions are whose)."""
    return {
        "application_name": f"tracker {socket.gethostname()} {os.getpid()}"[:63],
        "idle_in_transaction_session_timeout": _ms(cluster.turn_timeout),
        "statement_timeout": _ms(cluster.statement_timeout),
        "tcp_keepalives_idle": "5",  # a peer gone without a word (a partition) is noticed
        "tcp_keepalives_interval": "2",  # in about 11 s
        "tcp_keepalives_count": "3",
        # data the node does not take (cut off, or frozen while its answer is being sent)
        "tcp_user_timeout": _ms(cluster.statement_timeout * 2),
    }


def _ms(seconds: float) -> str:
    return str(max(1, round(seconds * 1000)))


class PostgresEventStore:
    def __init__(self, pool: asyncpg.Pool, table_oid: int, dsn: str,
                 cluster: Cluster | None = None) -> None:  # fmt: skip
        self._pool = pool
        self._wait = cluster.statement_timeout if cluster else None  # for a pooled connection
        self.settings = server_settings(cluster) if cluster else {}  # of every session it opens
        self.dsn = dsn
        self.table_oid = table_oid
        self.channel = sql.channel(table_oid)
        self._append_key = (sql.APPEND_LOCK, sql.int4(table_oid))
        self._begin_turn = sql.BEGIN_TURN.format(*self._append_key)
        self._kept: Any = None  # the last turn's connection, for the next one
        self.leader_key = (sql.LEADER_LOCK, sql.int4(table_oid))

    @classmethod
    async def open(cls, dsn: str, *, cluster: Cluster | None = None) -> PostgresEventStore:
        """Connect, create the schema and the log's tables if missing, run pending migrations.

        With ``cluster`` (a node sharing the log), every session is bounded on the server: a
        transaction left idle past ``turn_timeout`` (a frozen or cut-off node in its turn) is
        ended with its session, which releases the log's lock; a statement (a wait for the
        lock included) past ``statement_timeout`` is cancelled; TCP keepalives find a peer
        that vanished. The client waits as long for a pooled connection or an answer.
        """
        settings = server_settings(cluster) if cluster else {}
        timeout = cluster.statement_timeout + 1 if cluster else 60  # the client's own bound
        pool = await _pool(dsn, cluster.pool_size if cluster else 4, timeout, **settings)
        try:
            async with pool.acquire() as conn:
                if cluster and conn.get_server_version().major < OLDEST_FOR_A_CLUSTER:
                    raise ConnectionError(
                        f"{redacted(dsn)} runs PostgreSQL {conn.get_server_version().major}; "
                        f"nodes need {OLDEST_FOR_A_CLUSTER} or newer (idle_session_timeout)"
                    )
                await migrate(conn, schema_of(dsn))
                oid = await conn.fetchval(sql.TABLE_OID)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, oid, dsn, cluster)

    @classmethod
    async def open_reader(cls, dsn: str, *, max_connections: int = 2) -> PostgresEventStore:
        """Read-only sessions on an existing log (audit tools, the change feed, indexes)."""
        pool = await _pool(dsn, max_connections, 60, default_transaction_read_only="on")
        try:
            async with pool.acquire() as conn:
                oid = await conn.fetchval(sql.TABLE_OID)
        except BaseException:
            await pool.close()
            raise
        if oid is None:
            await pool.close()
            raise FileNotFoundError(f"no event log in the database at {redacted(dsn)}")
        return cls(pool, oid, dsn)

    @asynccontextmanager
    async def turn(self, after: int | None = None) -> AsyncIterator[Turn]:
        """The log locked for one transaction: read what others appended, then append.

        The transaction commits when the block ends without an exception, which releases the
        lock; only then are the appended rows durable. On an exception the connection is
        closed, which ends the transaction on the server (its rows are never committed).
        A turn's connection stays out of the pool for the next turn (a pool's acquire and
        release cost about as much CPU as a round trip).

        Two round trips before the caller appends: ``BEGIN`` and the lock in one (a simple
        query of two statements), then the tip. Given ``after`` (the position the caller has
        folded up to), that read also brings the rows after it (:attr:`Turn.rows`): the row
        at ``after`` and every later one. The read is a statement of its own, after the lock's:
        its snapshot sees every commit of the writers before this turn.
        """
        conn, self._kept = self._kept, None
        if conn is not None and conn.is_closed():  # the server went away meanwhile
            await self._pool.release(conn)
            conn = None
        if conn is None:
            conn = await self._pool.acquire(timeout=self._wait)
        try:
            await conn.execute(self._begin_turn)
            head, head_hash, rows = await _tip(conn, after)
            yield Turn(conn, self.channel, head, head_hash, rows)
            await conn.execute("COMMIT")
        except BaseException:
            conn.terminate()  # rolls back, ends the lock; the pool opens a new connection
            await self._pool.release(conn)
            raise
        if self._kept is None:  # kept for the next turn (a turn at a time, in a node)
            self._kept = conn
        else:
            await self._pool.release(conn)

    async def append(self, events: Sequence[Event], expected_position: int) -> int:
        try:
            async with self.turn() as turn:
                if turn.head != expected_position:
                    raise Conflict()
                return await turn.append(events)
        except asyncpg.UniqueViolationError as exc:  # only a writer bypassing the lock
            raise Conflict() from exc

    async def read(
        self, after: int = 0, batch_size: int = 10_000
    ) -> AsyncIterator[list[StoredRow]]:
        position = max(after, 0)
        while True:
            async with self._pool.acquire(timeout=self._wait) as conn:
                found = await conn.fetch(sql.READ, position, batch_size)
            if not found:
                return
            yield [StoredRow(p, t, d, h) for p, t, d, h in found]
            if len(found) < batch_size:
                return
            position = found[-1][0]

    async def read_payloads(
        self, after: int = 0, batch_size: int = 10_000
    ) -> AsyncIterator[list[bytes]]:
        position = max(after, 0)
        while True:
            async with self._pool.acquire(timeout=self._wait) as conn:
                found = await conn.fetch(sql.READ_PAYLOADS, position, batch_size)
            if not found:
                return
            yield [data for (data,) in found]
            if len(found) < batch_size:
                return
            position += len(found)  # positions are gapless

    async def head(self) -> int:
        async with self._pool.acquire(timeout=self._wait) as conn:
            return int(await conn.fetchval(sql.HEAD))

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        """The log as of one moment, while writers go on: one read-only REPEATABLE READ
        transaction, whose snapshot is taken by its first statement (reading the tip). Writers
        commit in position order under the append lock, so what it sees is a prefix of the log.
        """
        async with (
            self._pool.acquire(timeout=self._wait) as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            tip = await conn.fetchrow(sql.TIP)
            yield Snapshot(conn, tip[0] if tip else 0, bytes(tip[1]) if tip else GENESIS)

    async def close(self) -> None:
        if self._kept is not None:
            await self._pool.release(self._kept)
            self._kept = None
        await self._pool.close()


class Snapshot:
    """The rows one transaction's snapshot holds, up to the head it saw
    (:meth:`PostgresEventStore.snapshot`)."""

    def __init__(self, conn: Any, head: int, head_hash: bytes) -> None:
        self._conn = conn
        self.head = head
        self.head_hash = head_hash

    async def read(self, batch_size: int = 10_000) -> AsyncIterator[list[StoredRow]]:
        position = 0
        while position < self.head:
            size = min(batch_size, self.head - position)
            found = await self._conn.fetch(sql.READ, position, size)
            if not found:
                return
            yield [StoredRow(p, t, d, h) for p, t, d, h in found]
            position = found[-1][0]


async def _tip(conn: Any, after: int | None) -> tuple[int, bytes, list[StoredRow]]:
    """The log's head, its hash, and the rows after ``after`` up to it (none if None)."""
    if after is not None:
        found = [StoredRow(p, t, d, h) for p, t, d, h in await conn.fetch(sql.READ_FROM, after)]
        if after == 0 and not found:
            return 0, GENESIS, []
        if found and found[0].position == max(after, 1):  # read from ``after`` (or the start)
            return found[-1].position, found[-1].hash, found[1:] if after else found
    tip = await conn.fetchrow(sql.TIP)  # the log ends before ``after``: the caller finds out
    return (tip[0], bytes(tip[1]), []) if tip else (0, GENESIS, [])


class Turn:
    """One writer's turn at the log (see :meth:`PostgresEventStore.turn`)."""

    def __init__(self, conn: Any, channel: str, head: int, head_hash: bytes,
                 rows: list[StoredRow] | None = None) -> None:  # fmt: skip
        self._conn = conn
        self._channel = channel
        self.head = head
        self.head_hash = head_hash
        self.rows = rows or []  # read with the lock: the log after the turn's ``after``

    async def rows_after(self, after: int) -> list[StoredRow]:
        """The rows after ``after`` up to the head (the lock holds others off meanwhile)."""
        if after >= self.head:
            return []
        found = await self._conn.fetch(sql.READ, after, self.head - after)
        return [StoredRow(p, t, d, h) for p, t, d, h in found]

    async def append(self, events: Sequence[Event]) -> int:
        """Insert ``events`` after the head; they commit (durably) with the turn."""
        if not events:
            return self.head
        rows = chain_rows(events, self.head, self.head_hash)
        columns = ([r.position for r in rows], [r.type for r in rows],
                   [r.data for r in rows], [r.hash for r in rows])  # fmt: skip
        self.head, self.head_hash = rows[-1].position, rows[-1].hash  # if the turn commits:
        # set first, so that a turn whose commit failed knows which row would prove it did
        await self._conn.execute(sql.INSERT_AND_NOTIFY, *columns, self._channel,
                                 str(rows[-1].position))  # fmt: skip
        return self.head

    async def copy_rows(self, rows: Sequence[StoredRow]) -> None:
        """Insert rows as they are (a restore: positions, payloads and hashes already checked
        to follow the head), with COPY; they commit with the turn. Announced by :meth:`announce`."""
        records = [(r.position, r.type, r.data, r.hash) for r in rows]
        await self._conn.copy_records_to_table("events", records=records, columns=sql.COLUMNS)
        self.head, self.head_hash = rows[-1].position, rows[-1].hash

    async def announce(self) -> None:
        """Tell the nodes following the log that it moved (delivered at commit)."""
        await self._conn.execute(sql.NOTIFY, self._channel, str(self.head))


async def migrate(conn: Any, schema: str | None) -> None:
    """Create ``schema`` (if named) and the log's tables, and run pending migrations."""
    async with conn.transaction():
        await conn.execute(sql.TAKE_MIGRATION_LOCK, sql.MIGRATION_LOCK)
        if schema is not None:
            await conn.execute(sql.CREATE_SCHEMA.format(schema=schema.replace('"', '""')))
        if await conn.fetchval(sql.CURRENT_SCHEMA) is None:
            raise FileNotFoundError("the DSN's search_path names no schema that exists")
        await conn.execute(sql.CREATE_VERSION_TABLE)
        version = await conn.fetchval(sql.SCHEMA_VERSION)
        for number, statements in sql.MIGRATIONS:
            if number > version:
                await conn.execute(statements)
                await conn.execute(sql.RECORD_VERSION, number)


async def _pool(dsn: str, max_connections: int, timeout: float,  # noqa: ASYNC109 (asyncpg's)
                **settings: str) -> asyncpg.Pool:  # fmt: skip
    try:
        pool = await asyncpg.create_pool(
            dsn, min_size=0, max_size=max_connections, server_settings=settings or None,
            command_timeout=timeout, timeout=timeout, reset=_keep_session,
        )  # fmt: skip
        assert pool is not None
        async with pool.acquire():  # reachable (no floor of connections kept: asyncpg would
            pass  # log a traceback each time it fails to restore one while the server is down)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise ConnectionError(f"cannot reach PostgreSQL at {redacted(dsn)}: {exc}") from exc
    return pool


async def _keep_session(conn: Any) -> None:
    """No reset when a connection goes back to the pool (asyncpg's default costs a round trip
    per use): the adapter leaves no session state behind, its locks are transaction-level and
    a failed transaction was rolled back before release."""
