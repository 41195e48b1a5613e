"""The event store contract: one suite, run against every adapter of the port.

Each test gets a fresh, empty store: the in-memory one, SQLite on a real file, and PostgreSQL
on the real server in a schema of its own (see tests/postgres.py: skipped without a server,
except in CI).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.postgres import fresh_dsn
from tracker.errors import Conflict
from tracker.events import store as port
from tracker.events.base import SYSTEM, Event, worker_actor
from tracker.events.memory import MemoryEventStore
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import GENESIS, EventStore, StoredRow, read_events
from tracker.events.tasks import TaskAssigned, TaskSubmitted
from tracker.events.workers import WorkerCreated, WorkerPauseSet

T0 = 1_700_000_000.0


def worker_created(worker_id: int) -> WorkerCreated:
    return WorkerCreated(
        at=T0 + worker_id, actor=SYSTEM, worker_id=worker_id, alias=f"w{worker_id}", secret=b"s3"
    )


def task_submitted(task_id: int) -> TaskSubmitted:
    return TaskSubmitted(
        at=T0 + task_id,
        actor=SYSTEM,
        task_id=task_id,
        project_id=1,
        recipe=f"recipe {task_id}",
        priority=task_id % 3,
        max_retries=3,
        max_assign_time=3600,
        verification_count=0,
        hash=-8779574827602434181,
    )


def some_events(n: int) -> list[Event]:
    return [task_submitted(i) for i in range(1, n + 1)]


async def all_rows(store: EventStore, after: int = 0, batch_size: int = 10_000) -> list[StoredRow]:
    return [row async for batch in store.read(after, batch_size) for row in batch]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventStore]:
    opened: EventStore
    if request.param == "memory":
        opened = MemoryEventStore()
    elif request.param == "sqlite":
        opened = await SQLiteEventStore.open(tmp_path / "events.sqlite3")
    else:
        async for dsn in fresh_dsn():
            opened = await PostgresEventStore.open(dsn)
            yield opened
            await opened.close()
        return
    yield opened
    await opened.close()


async def test_an_empty_log_has_head_zero(store: EventStore) -> None:
    assert await store.head() == 0
    assert await all_rows(store) == []


async def test_append_returns_the_new_head(store: EventStore) -> None:
    assert await store.append([worker_created(1)], 0) == 1
    assert await store.append(some_events(3), 1) == 4
    assert await store.head() == 4


async def test_appending_no_events_leaves_the_head_where_it_was(store: EventStore) -> None:
    await store.append(some_events(2), 0)
    assert await store.append([], 2) == 2
    assert await store.head() == 2


async def test_read_returns_rows_in_order_numbered_from_one_without_gaps(
    store: EventStore,
) -> None:
    await store.append(some_events(3), 0)
    await store.append([worker_created(7)], 3)
    await store.append(some_events(2), 4)
    rows = await all_rows(store)
    assert [row.position for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row.type for row in rows] == ["TaskSubmitted"] * 3 + ["WorkerCreated"] + [
        "TaskSubmitted"
    ] * 2


async def test_read_after_a_position_skips_the_rows_up_to_it(store: EventStore) -> None:
    await store.append(some_events(5), 0)
    assert [row.position for row in await all_rows(store, after=3)] == [4, 5]
    assert await all_rows(store, after=5) == []
    assert await all_rows(store, after=50) == []


async def test_read_yields_batches_no_larger_than_batch_size(store: EventStore) -> None:
    await store.append(some_events(7), 0)
    batches = [batch async for batch in store.read(0, batch_size=3)]
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert [row.position for batch in batches for row in batch] == list(range(1, 8))
    after = [batch async for batch in store.read(2, batch_size=5)]
    assert [[row.position for row in batch] for batch in after] == [[3, 4, 5, 6, 7]]


async def test_read_payloads_yields_the_same_data_as_read_in_batches(store: EventStore) -> None:
    await store.append(some_events(7), 0)
    rows = await all_rows(store)
    batches = [batch async for batch in store.read_payloads(2, batch_size=3)]
    assert [len(batch) for batch in batches] == [3, 2]
    assert [data for batch in batches for data in batch] == [row.data for row in rows[2:]]


async def test_append_at_stale_position_is_refused(store: EventStore) -> None:
    await store.append(some_events(3), 0)
    before = await all_rows(store)
    with pytest.raises(Conflict):
        await store.append([worker_created(1), worker_created(2)], 2)
    assert await store.head() == 3
    assert await all_rows(store) == before


async def test_append_to_an_empty_log_at_a_nonzero_position_is_refused(
    store: EventStore,
) -> None:
    with pytest.raises(Conflict):
        await store.append([worker_created(1)], 1)
    assert await store.head() == 0
    assert await all_rows(store) == []


async def test_append_beyond_the_head_is_refused_as_a_gap(store: EventStore) -> None:
    await store.append(some_events(2), 0)
    with pytest.raises(Conflict):
        await store.append([worker_created(1)], 5)
    assert await store.head() == 2
    assert [row.position for row in await all_rows(store)] == [1, 2]


async def test_a_refused_append_leaves_the_log_usable(store: EventStore) -> None:
    await store.append(some_events(2), 0)
    with pytest.raises(Conflict):
        await store.append([worker_created(1)], 1)
    assert await store.append([worker_created(1)], 2) == 3
    assert [row.position for row in await all_rows(store)] == [1, 2, 3]


async def test_concurrent_appends_at_the_same_position_let_exactly_one_win(
    store: EventStore,
) -> None:
    outcomes = await asyncio.gather(
        *(store.append([worker_created(i)], 0) for i in range(1, 4)), return_exceptions=True
    )
    assert [outcome for outcome in outcomes if not isinstance(outcome, Conflict)] == [1]
    assert await store.head() == 1


async def test_concurrent_appends_at_consecutive_positions_all_land(store: EventStore) -> None:
    heads = await asyncio.gather(store.append(some_events(3), 0), store.append(some_events(2), 3))
    assert heads == [3, 5]
    assert [row.position for row in await all_rows(store)] == [1, 2, 3, 4, 5]


async def test_rows_decode_back_to_the_events_that_were_appended(store: EventStore) -> None:
    events: list[Event] = [
        worker_created(1),
        task_submitted(10),
        TaskAssigned(
            at=T0 + 5, actor=worker_actor(1), task_id=10, project_id=1, worker_id=1, deadline=T0
        ),
        WorkerPauseSet(at=T0 + 6, actor=SYSTEM, worker_id=1, paused=True),
    ]
    await store.append(events[:1], 0)
    await store.append(events[1:], 1)
    rows = await all_rows(store)
    assert [row.recorded().event for row in rows] == events
    assert [row.type for row in rows] == [type(event).__name__ for event in events]
    recorded = [r async for r in read_events(store)]
    assert [(r.position, r.event, r.hash) for r in recorded] == [
        (row.position, events[i], row.hash) for i, row in enumerate(rows)
    ]


async def test_each_row_links_to_the_previous_one_from_genesis(store: EventStore) -> None:
    await store.append(some_events(2), 0)
    await store.append([worker_created(1)], 2)
    await store.append(some_events(3), 3)
    previous = GENESIS
    for row in await all_rows(store):
        assert row.hash == port.link(previous, row.position, row.data)
        previous = row.hash


async def test_equal_events_at_different_positions_get_different_hashes(
    store: EventStore,
) -> None:
    same = worker_created(1)
    await store.append([same, same], 0)
    first, second = await all_rows(store)
    assert first.data == second.data
    assert first.hash != second.hash
