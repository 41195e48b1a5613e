"""What the PostgreSQL adapter promises beyond the shared contract, on the real server.

Each test has a schema of its own (tests/postgres.py); without a server they are skipped with
the reason, and in CI they fail instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.test_store_contract import some_events, task_submitted, worker_created
from tests.postgres import SERVER, with_schema
from tests.waiting import eventually
from tracker.dsn import schema_of
from tracker.errors import Conflict
from tracker.events.postgres import PostgresEventStore
from tracker.events.postgres_sql import APPEND_LOCK
from tracker.events.store import EventStore


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[PostgresEventStore]:
    opened = await PostgresEventStore.open(pg_dsn)
    yield opened
    await opened.close()


async def raw(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn)


async def waiting_for_the_append_lock(dsn: str, store: PostgresEventStore) -> bool:
    """Whether a session waits for this log's append lock (an advisory lock keyed by the
    events table's oid, which no other test's log shares)."""
    conn = await raw(dsn)
    try:
        return bool(await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = $1 AND objid = $2 AND objsubid = 2",
            APPEND_LOCK, store.table_oid,
        ))  # fmt: skip
    finally:
        await conn.close()


async def blocked_by(holder: asyncpg.Connection) -> bool:
    """Whether a session waits for a lock that ``holder``'s session holds."""
    pid = holder.get_server_pid()
    conn = await raw(SERVER)
    try:
        return bool(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid
        ))  # fmt: skip
    finally:
        await conn.close()


async def all_positions(store: EventStore) -> list[int]:
    return [row.position async for batch in store.read(0) for row in batch]


async def test_two_writers_and_a_follower_see_every_position_once_in_order(pg_dsn: str) -> None:
    """Two nodes append as fast as they can, each retrying on Conflict, while a reader follows
    the log by position: it must see 1..N exactly once, never moving past a late commit."""
    writers = [await PostgresEventStore.open(pg_dsn) for _ in range(2)]
    reader = await PostgresEventStore.open_reader(pg_dsn)
    per_writer, conflicts, seen = 150, [0, 0], []
    done = asyncio.Event()

    async def write(index: int) -> None:
        store, written = writers[index], 0
        while written < per_writer:
            head = await store.head()
            try:
                await store.append(some_events(1 + written % 3), head)
            except Conflict:
                conflicts[index] += 1
                continue
            written += 1

    async def follow() -> None:
        after = 0
        while True:
            finished = done.is_set()
            async for batch in reader.read(after, batch_size=7):
                for row in batch:
                    seen.append(row.position)
                    after = row.position
            if finished:
                return
            await asyncio.sleep(0)

    follower = asyncio.create_task(follow())
    try:
        await asyncio.gather(write(0), write(1))
        done.set()
        await follower
        head = await reader.head()
    finally:
        for store in [*writers, reader]:
            await store.close()
    assert head == sum(1 + i % 3 for i in range(per_writer)) * 2
    assert seen == list(range(1, head + 1))


async def test_an_append_waits_for_the_writer_holding_the_log_and_then_conflicts(
    pg_dsn: str, store: PostgresEventStore
) -> None:
    await store.append(some_events(2), 0)
    async with store.turn() as turn:
        assert turn.head == 2
        late = asyncio.create_task(store.append([worker_created(9)], 2))
        await eventually(lambda: waiting_for_the_append_lock(pg_dsn, store),
                         what="the late append waiting for the log's lock")  # fmt: skip
        assert not late.done()  # the lock holds it until this turn commits
        await turn.append([worker_created(1)])
    with pytest.raises(Conflict):
        await late
    assert await all_positions(store) == [1, 2, 3]


async def test_a_turn_reads_what_another_writer_appended_before_it_appends(
    pg_dsn: str, store: PostgresEventStore
) -> None:
    other = await PostgresEventStore.open(pg_dsn)
    try:
        await other.append(some_events(3), 0)
    finally:
        await other.close()
    async with store.turn() as turn:
        caught_up = await turn.rows_after(1)
        assert [row.position for row in caught_up] == [2, 3]
        assert await turn.append([worker_created(1)]) == 4
    assert await all_positions(store) == [1, 2, 3, 4]


async def test_a_turn_that_raises_appends_nothing(store: PostgresEventStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.turn() as turn:
            await turn.append(some_events(2))
            raise RuntimeError("decided wrong")
    assert await store.head() == 0
    assert await store.append(some_events(1), 0) == 1


async def test_a_row_at_a_taken_position_is_refused_by_the_schema_as_a_conflict(
    pg_dsn: str, store: PostgresEventStore
) -> None:
    """A writer that bypasses the lock inserts position 3 and commits while our append (at the
    right expected position) waits on the primary key: ours must fail as Conflict."""
    await store.append(some_events(2), 0)
    intruder = await raw(pg_dsn)
    try:
        transaction = intruder.transaction()
        await transaction.start()
        await intruder.execute(
            "INSERT INTO events VALUES (3, 'TaskSubmitted', $1, $2)", b"{}", bytes(32)
        )
        ours = asyncio.create_task(store.append([task_submitted(3)], 2))
        await eventually(lambda: blocked_by(intruder), what="our append waiting on the row")
        assert not ours.done()
        await transaction.commit()
        with pytest.raises(Conflict):
            await ours
    finally:
        await intruder.close()
    assert await store.head() == 3


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET data = 'x' WHERE position = 1", "DELETE FROM events", "TRUNCATE events"],
)
async def test_the_schema_refuses_to_change_or_remove_rows(
    pg_dsn: str, store: PostgresEventStore, statement: str
) -> None:
    await store.append(some_events(2), 0)
    conn = await raw(pg_dsn)
    try:
        with pytest.raises(asyncpg.RaiseError, match="events are append-only"):
            await conn.execute(statement)
    finally:
        await conn.close()
    assert await all_positions(store) == [1, 2]


async def test_nodes_opening_a_fresh_schema_at_once_migrate_it_once(pg_dsn: str) -> None:
    stores = await asyncio.gather(*(PostgresEventStore.open(pg_dsn) for _ in range(4)))
    try:
        assert len({store.table_oid for store in stores}) == 1
        await stores[0].append(some_events(1), 0)
        assert await stores[3].head() == 1
    finally:
        for store in stores:
            await store.close()
    again = await PostgresEventStore.open(pg_dsn)  # reopening keeps the rows, migrates nothing
    await again.close()
    conn = await raw(pg_dsn)
    try:
        assert await conn.fetch("SELECT version FROM tracker_schema") == [(1,)]
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
    finally:
        await conn.close()


async def test_an_append_is_announced_on_the_logs_channel_with_the_new_head(
    pg_dsn: str, store: PostgresEventStore
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await raw(pg_dsn)
    try:
        await listener.add_listener(store.channel, lambda *args: heard.put_nowait(args[3]))
        await store.append(some_events(3), 0)
        await store.append(some_events(2), 3)
        assert [await asyncio.wait_for(heard.get(), 5) for _ in range(2)] == ["3", "5"]
    finally:
        await listener.close()


async def test_two_schemas_in_one_database_are_two_separate_logs(pg_dsn: str) -> None:
    other_schema = f"{schema_of(pg_dsn)}_b"
    first = await PostgresEventStore.open(pg_dsn)
    second = await PostgresEventStore.open(with_schema(other_schema))
    try:
        await first.append(some_events(3), 0)
        await second.append(some_events(1), 0)
        assert (await first.head(), await second.head()) == (3, 1)
        assert first.channel != second.channel
    finally:
        await first.close()
        await second.close()
        conn = await raw(SERVER)
        await conn.execute(f'DROP SCHEMA "{other_schema}" CASCADE')
        await conn.close()


async def test_a_reader_on_a_missing_log_says_so_and_a_reader_cannot_write(
    pg_dsn: str, store: PostgresEventStore
) -> None:
    with pytest.raises(FileNotFoundError, match="no event log in the database"):
        await PostgresEventStore.open_reader(with_schema("no_such_schema_here"))
    reader = await PostgresEventStore.open_reader(pg_dsn)
    try:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await reader.append(some_events(1), 0)
    finally:
        await reader.close()
    assert await store.head() == 0


async def test_an_unreachable_server_is_a_connection_error_naming_it() -> None:
    with pytest.raises(ConnectionError, match=r"cannot reach PostgreSQL at .*127\.0\.0\.1:1"):
        await PostgresEventStore.open("postgresql://nobody:secret@127.0.0.1:1/none")


async def test_the_password_is_not_in_the_message() -> None:
    with pytest.raises(ConnectionError) as raised:
        await PostgresEventStore.open("postgresql://nobody:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(raised.value)
    assert "nobody:***@" in str(raised.value)


def test_the_schema_is_the_first_entry_of_the_search_path() -> None:
    assert schema_of("postgresql://h/db?search_path=alpha,public") == "alpha"
    assert schema_of("postgresql://h/db?sslmode=disable") is None
    assert schema_of("postgresql://h/db") is None
