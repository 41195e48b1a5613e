"""The composition root: open the log the settings name, rebuild the read models from it, and
give the tracker the write strategy that fits the log.

The app and the tests both come through here, so they run the same wiring. The log is the
embedded SQLite file in ``database.data_dir`` unless ``database.conn_str`` names a
PostgreSQL database. A PostgreSQL log may be shared by several nodes, so commands are decided
in the writer's turn at the log (:class:`~tracker.cluster.writer.ClusterWriter`); on a log of
its own the tracker decides at once (:class:`~tracker.single_writer.SingleWriter`).
"""

from __future__ import annotations

import time

from tracker.cluster.writer import ClusterWriter
from tracker.config import Settings
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import EventStore
from tracker.projections.state import State
from tracker.service import Clock, Tracker
from tracker.single_writer import SingleWriter
from tracker.startup.log import LOG_FILE, data_dir
from tracker.startup.replay import rebuild


async def open_tracker(settings: Settings, clock: Clock = time.time) -> Tracker:
    """The tracker, its read models loaded from the newest usable checkpoint (if enabled and
    any) and the rest of the log replayed on top; ``start`` it to take commands."""
    directory = data_dir(settings)  # noqa: ASYNC240 (once, at start)
    if settings.database.conn_str:
        shared = await PostgresEventStore.open(settings.database.conn_str,
                                               cluster=settings.cluster)  # fmt: skip
        state = await _rebuilt(shared, settings)
        writer = ClusterWriter(shared, state, clock, lambda: rebuild(shared, settings),
                               settings.cluster)  # fmt: skip
        return Tracker(shared, writer, clock)
    local = await SQLiteEventStore.open(directory / LOG_FILE)
    state = await _rebuilt(local, settings)
    return Tracker(local, SingleWriter(local, state, clock), clock)


async def _rebuilt(store: EventStore, settings: Settings) -> State:
    try:
        return await rebuild(store, settings)
    except BaseException:  # a damaged log stops the start-up: close it, or its thread keeps
        await store.close()  # the process alive
        raise
