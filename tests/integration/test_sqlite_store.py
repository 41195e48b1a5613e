"""What only the SQLite adapter promises: durability across reopen, an append-only file,
and refusing a second writer that decided against an old head."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from tracker.errors import Conflict
from tracker.events.base import SYSTEM
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import StoredRow
from tracker.events.workers import WorkerAliasChanged, WorkerCreated

T0 = 1_700_000_000.0


def worker_created(worker_id: int) -> WorkerCreated:
    return WorkerCreated(
        at=T0, actor=SYSTEM, worker_id=worker_id, alias=f"w{worker_id}", secret=b"s3"
    )


async def all_rows(store: SQLiteEventStore) -> list[StoredRow]:
    return [row async for batch in store.read() for row in batch]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite3"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[SQLiteEventStore]:
    opened = await SQLiteEventStore.open(path)
    yield opened
    await opened.close()


async def test_the_log_survives_closing_and_reopening_the_file(path: Path) -> None:
    first = await SQLiteEventStore.open(path)
    await first.append([worker_created(1), worker_created(2)], 0)
    written = await all_rows(first)
    await first.close()

    reopened = await SQLiteEventStore.open(path)
    try:
        assert await reopened.head() == 2
        assert await all_rows(reopened) == written
        assert await reopened.append([worker_created(3)], 2) == 3
    finally:
        await reopened.close()


async def test_the_file_refuses_updates_to_events(store: SQLiteEventStore, path: Path) -> None:
    await store.append([worker_created(1)], 0)
    with closing(sqlite3.connect(path)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET data = ? WHERE position = 1", (b"{}",))
        conn.rollback()
    assert [row.recorded().event for row in await all_rows(store)] == [worker_created(1)]


async def test_the_file_refuses_deleting_events(store: SQLiteEventStore, path: Path) -> None:
    await store.append([worker_created(1)], 0)
    with closing(sqlite3.connect(path)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events")
        conn.rollback()
    assert await store.head() == 1


async def test_a_second_writer_at_a_stale_position_is_refused(path: Path) -> None:
    one = await SQLiteEventStore.open(path)
    two = await SQLiteEventStore.open(path)
    try:
        assert await one.head() == await two.head() == 0
        assert await one.append([worker_created(1)], 0) == 1
        rename = WorkerAliasChanged(at=T0, actor=SYSTEM, worker_id=1, alias="late")
        with pytest.raises(Conflict):
            await two.append([rename], 0)
        assert await two.head() == 1
        assert await two.append([rename], 1) == 2
        assert [row.position for row in await all_rows(one)] == [1, 2]
    finally:
        await one.close()
        await two.close()
