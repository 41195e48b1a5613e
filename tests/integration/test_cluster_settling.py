"""A failed turn settled by reading the log (tracker/cluster/settling.py), on the real server;
the session bound that ends a frozen turn (cluster.turn_timeout); and the deadline of every
wait on the writer (tracker/cluster/turns.py).

The proof a turn keeps is the position and hash of its last row: the same hash there means
the whole turn committed (the hash chain), anything else that it did not, and then the read
models are rebuilt from the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.test_store_contract import some_events
from tests.waiting import eventually
from tracker import config
from tracker.cluster.settling import Settlement
from tracker.cluster.turns import TurnCommitter
from tracker.commands.managers import EndExpiredSessions
from tracker.errors import StorageUnavailable
from tracker.events.postgres import UNREACHABLE, PostgresEventStore
from tracker.events.reading import row_at
from tracker.projections.state import State
from tracker.startup.replay import rebuild

CLUSTER = config.Cluster(turn_timeout=0.5, statement_timeout=2.0)


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[PostgresEventStore]:
    opened = await PostgresEventStore.open(pg_dsn, cluster=CLUSTER)
    yield opened
    await opened.close()


def settlement(store: PostgresEventStore, tmp_path: Path) -> Settlement:
    settings = config.build({"database": {"data_dir": str(tmp_path)},
                             "checkpoint": {"enabled": False}})  # fmt: skip
    return Settlement(store, lambda: rebuild(store, settings))


async def test_a_turn_whose_last_row_is_in_the_log_committed(
    store: PostgresEventStore, tmp_path: Path
) -> None:
    head = await store.append(some_events(5), 0)
    last = await row_at(store, head)
    assert last is not None
    state, settling = State(), settlement(store, tmp_path)
    assert await settling.settle(state, (head, last.hash), lambda: False) is state
    assert (settling.rebuilds, settling.trouble) == (0, "")


@pytest.mark.parametrize("proof", ["another row there", "no row there", "nothing sent"])
async def test_a_turn_whose_row_is_not_in_the_log_is_rebuilt_from_it(
    store: PostgresEventStore, tmp_path: Path, proof: str
) -> None:
    head = await store.append(some_events(5), 0)
    tried = {"another row there": (head, b"\0" * 32), "no row there": (head + 1, b"\0" * 32),
             "nothing sent": None}[proof]  # fmt: skip
    state, settling = State(), settlement(store, tmp_path)
    rebuilt = await settling.settle(state, tried, lambda: False)
    assert rebuilt is not None and rebuilt is not state
    assert rebuilt.position == head and settling.rebuilds == 1


async def test_a_node_frozen_in_its_turn_loses_it_after_the_turn_timeout(
    store: PostgresEventStore, pg_dsn: str
) -> None:
    """A turn left idle (its node frozen) is ended by PostgreSQL after turn_timeout, which
    releases the log's lock: another writer appends within about that long, and the frozen
    turn's next statement fails."""
    other = await PostgresEventStore.open(pg_dsn, cluster=CLUSTER)
    try:
        async with store.turn() as frozen:
            started = time.monotonic()
            await other.append(some_events(1), 0)  # waits for the lock, then gets it
            took = time.monotonic() - started
            assert CLUSTER.turn_timeout - 0.1 < took < CLUSTER.turn_timeout + 1, took
            with pytest.raises(UNREACHABLE):
                await frozen.append(some_events(1))
    except UNREACHABLE:
        pass  # the rollback of the ended session fails too
    finally:
        await other.close()
    assert await store.head() == 1  # the pool replaced the ended session


async def test_a_settlement_that_cannot_read_the_log_gives_up_when_the_node_closes(
    pg_dsn: str, tmp_path: Path
) -> None:
    """The log cannot be read (here: the store's connections are closed): it keeps trying,
    says why the node cannot serve meanwhile, and returns nothing once the node closes."""
    closed = await PostgresEventStore.open(pg_dsn, cluster=CLUSTER)
    await closed.close()
    closing = asyncio.Event()
    settling = settlement(closed, tmp_path)
    settled = asyncio.ensure_future(settling.settle(State(), None, closing.is_set))
    await eventually(lambda: settling.trouble == "rebuilding the read models from the log")
    closing.set()
    assert await asyncio.wait_for(settled, 5) is None
    assert settling.trouble == ""


async def test_no_caller_waits_past_the_deadline(store: PostgresEventStore, tmp_path: Path) -> None:
    """With no writer loop running (as if it were stuck), a queued command and a read that
    must catch up get 503 from the first sweep past ``wait`` (the writer sweeps every
    second); the command is dropped, never decided."""
    settings = config.build({"database": {"data_dir": str(tmp_path)}})
    turns = TurnCommitter(store, State(), time.time, lambda: rebuild(store, settings), wait=0.2)
    await store.append(some_events(1), 0)
    command = asyncio.ensure_future(turns.execute(EndExpiredSessions(), None))
    read = asyncio.ensure_future(turns.reach(1))

    def swept() -> bool:
        turns.overdue()
        return command.done() and read.done()

    await eventually(swept, within=5)
    for waiter in (command, read):
        with pytest.raises(StorageUnavailable):
            await waiter
    turns.close()
    await turns.run()  # nothing left to decide
    assert await store.head() == 1
