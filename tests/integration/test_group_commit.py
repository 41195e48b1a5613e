"""Group commit: concurrent commands share transactions, and no answer precedes durability.

The tracker runs on a real SQLite file. Where a test must hold or break a write, the store is
a ``GatedStore``: the real SQLite adapter behind a gate (appends wait while the gate is shut,
and raise once it is broken). With the gate open it is the SQLite store, so it passes the
same contract; the first test below checks the parts the committer relies on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from tests.state_snapshot import snapshot
from tests.waiting import eventually
from tests.world import World
from tracker.commands.managers import EndSession
from tracker.commands.workers import CreateWorker
from tracker.errors import Conflict, StorageUnavailable
from tracker.events.base import Event
from tracker.events.codec import decode
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import EventStore, StoredRow
from tracker.events.workers import WorkerCreated
from tracker.http.statuses import status_of
from tracker.projections.state import State
from tracker.service import Tracker
from tracker.single_writer import SingleWriter
from tracker.startup.replay import replay

NOW = 1_700_000_000.0


class GatedStore:
    """The SQLite store, with appends that can be held (gate shut) or made to fail (broken)."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.gate.set()
        self.broken: BaseException | None = None
        self.appends_started = 0

    async def append(self, events: Sequence[Event], expected_position: int) -> int:
        self.appends_started += 1
        await self.gate.wait()
        if self.broken is not None:
            raise self.broken
        return await self.inner.append(events, expected_position)

    def read(self, after: int = 0, batch_size: int = 10_000) -> AsyncIterator[list[StoredRow]]:
        return self.inner.read(after, batch_size)

    def read_payloads(self, after: int = 0, batch_size: int = 10_000) -> AsyncIterator[list[bytes]]:
        return self.inner.read_payloads(after, batch_size)

    async def head(self) -> int:
        return await self.inner.head()

    async def close(self) -> None:
        await self.inner.close()

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def fail(self, error: BaseException) -> None:
        self.broken = error
        self.gate.set()


async def single_writer(store: EventStore) -> Tracker:
    """A tracker that decides at once on ``store`` (as bootstrap makes one for a SQLite log)."""
    state = State()
    await replay(store, state)
    return Tracker(store, SingleWriter(store, state, lambda: NOW), lambda: NOW)


def failed(reason: str) -> None:
    raise AssertionError(f"the log failed: {reason}")


def new_worker(n: int) -> CreateWorker:
    return CreateWorker(alias=f"w{n}", secret=n.to_bytes(32, "big"))


async def logged_events(path: Path) -> list[Event]:
    store = await SQLiteEventStore.open(path)
    try:
        return [decode(row.data) async for rows in store.read() for row in rows]
    finally:
        await store.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite3"


@pytest.fixture
async def gated(path: Path) -> AsyncIterator[GatedStore]:
    store = GatedStore(await SQLiteEventStore.open(path))
    yield store
    await store.close()


@pytest.fixture
async def tracker(gated: GatedStore) -> AsyncIterator[Tracker]:
    opened = await single_writer(gated)
    await opened.start(lambda reason: None)  # some tests break the log on purpose
    yield opened
    gated.release()
    await opened.writer.close()


async def test_the_gated_store_keeps_the_store_contract_while_open(gated: GatedStore) -> None:
    assert await gated.head() == 0
    assert await gated.append([new_worker_event(1), new_worker_event(2)], 0) == 2
    with pytest.raises(Conflict):
        await gated.append([new_worker_event(3)], 1)
    rows = [row async for batch in gated.read() for row in batch]
    assert [row.position for row in rows] == [1, 2] and await gated.head() == 2


def new_worker_event(n: int) -> Event:
    return WorkerCreated(at=1.0, actor="system", worker_id=n, alias=f"w{n}", secret=b"")


async def test_concurrent_commands_share_commits_and_all_survive_a_reopen(path: Path) -> None:
    store = await SQLiteEventStore.open(path)
    tracker = await single_writer(store)
    await tracker.start(failed)
    results = await asyncio.gather(*(tracker.execute(new_worker(n)) for n in range(1, 301)))
    acknowledged = [event for events in results for event in events]  # type: ignore[union-attr]
    assert len(acknowledged) == 300
    assert 1 <= tracker.writer.batch_sizes.batches < 300
    live = snapshot(tracker.state)
    await tracker.close()

    assert await logged_events(path) == acknowledged
    reopened = await single_writer(await SQLiteEventStore.open(path))
    assert snapshot(reopened.state) == live
    await reopened.store.close()


async def test_an_answer_waits_until_its_events_are_durable(
    tracker: Tracker, gated: GatedStore
) -> None:
    gated.hold()
    answer = asyncio.create_task(tracker.execute(new_worker(1)))
    await eventually(lambda: gated.appends_started == 1, every=0, what="the write held")
    assert not answer.done()
    assert tracker.state.workers.get(1) is not None  # applied in memory, not yet answered
    assert await gated.head() == 0
    gated.release()
    await answer
    assert await gated.head() == 1


async def test_commands_arriving_during_a_write_form_the_next_batch(
    tracker: Tracker, gated: GatedStore
) -> None:
    gated.hold()
    first = asyncio.create_task(tracker.execute(new_worker(1)))
    await eventually(lambda: gated.appends_started == 1, every=0, what="the write held")
    rest = [asyncio.create_task(tracker.execute(new_worker(n))) for n in range(2, 12)]
    await asyncio.sleep(0)  # one turn of the loop, no time: the new commands are decided
    gated.release()
    await asyncio.gather(first, *rest)
    assert tracker.writer.batch_sizes.batches == 2
    assert await gated.head() == 11


async def test_a_command_that_changes_nothing_waits_for_the_write_in_flight(
    tracker: Tracker, gated: GatedStore
) -> None:
    """A no-op answer is read from the state: it must not precede the durability of that state."""
    gated.hold()
    write = asyncio.create_task(tracker.execute(new_worker(1)))
    await eventually(lambda: gated.appends_started == 1, every=0, what="the write held")
    no_op = asyncio.create_task(tracker.execute(EndSession(session_hash="nobody")))
    for _ in range(20):  # the scenario: the loop runs on while the write is held
        await asyncio.sleep(0)
    assert not no_op.done()
    gated.release()
    assert await no_op == []
    await write


async def test_a_failed_write_fails_every_waiting_command_and_refuses_new_ones(
    tracker: Tracker, gated: GatedStore, path: Path
) -> None:
    gated.hold()
    in_flight = asyncio.create_task(tracker.execute(new_worker(1)))
    await eventually(lambda: gated.appends_started == 1, every=0, what="the write held")
    queued = [asyncio.create_task(tracker.execute(new_worker(n))) for n in range(2, 6)]
    no_op = asyncio.create_task(tracker.execute(EndSession(session_hash="nobody")))
    await asyncio.sleep(0)  # one turn of the loop, no time: the new commands are decided
    gated.fail(OSError("disk I/O error"))
    outcomes = await asyncio.gather(in_flight, *queued, no_op, return_exceptions=True)
    assert all(isinstance(outcome, StorageUnavailable) for outcome in outcomes), outcomes
    assert status_of(outcomes[0]) == 503  # type: ignore[arg-type]

    position = tracker.state.position
    with pytest.raises(StorageUnavailable):
        await tracker.execute(new_worker(9))
    assert tracker.state.position == position  # refused before deciding
    assert await logged_events(path) == []


async def test_a_restart_after_a_failed_write_rebuilds_only_what_was_acknowledged(
    tracker: Tracker, gated: GatedStore, path: Path
) -> None:
    await tracker.execute(new_worker(1))
    acknowledged = snapshot(tracker.state)
    gated.hold()
    lost = asyncio.create_task(tracker.execute(new_worker(2)))
    await eventually(lambda: gated.appends_started == 2, every=0, what="the write held")
    gated.fail(OSError("disk full"))
    with pytest.raises(StorageUnavailable):
        await lost

    restarted = await single_writer(await SQLiteEventStore.open(path))
    assert snapshot(restarted.state) == acknowledged
    await restarted.store.close()


async def test_over_http_a_broken_log_answers_503_to_waiting_and_later_requests(
    bare_world: World,
) -> None:
    await bare_world.tracker.store.close()  # the connection to the SQLite file is gone
    anonymous = bare_world.anonymous
    answers = await asyncio.gather(
        *(anonymous.post("/worker/create", {"alias": f"w{n}"}) for n in range(10))
    )
    for answer in answers:
        assert (answer.status, answer.body) == (
            503,
            {"ok": False, "message": "Storage unavailable"},
        )
    later = await anonymous.post("/worker/create", {"alias": "later"})
    assert later.status == 503
    assert later.message == "Storage unavailable"
