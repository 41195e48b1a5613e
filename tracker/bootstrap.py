"""The composition root: open the log the settings name and rebuild the tracker from it.

The app and the tests both come through here, so they run the same wiring. The log is the
embedded SQLite file in ``database.data_dir`` unless ``database.conn_str`` names a
PostgreSQL database.
"""

from __future__ import annotations

import time
from pathlib import Path

from tracker.audit import startup
from tracker.checkpoints.directory import Checkpoints
from tracker.config import Settings
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import EventStore
from tracker.projections.state import State
from tracker.service import Clock, Tracker

LOG_FILE = "events.sqlite3"


async def open_store(settings: Settings) -> EventStore:
    data_dir = Path(settings.database.data_dir)
    # Owner only: the log (if local), checkpoints and the history index hold worker, project
    # and webhook secrets and password hashes.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at start)
    if settings.database.conn_str:
        return await PostgresEventStore.open(settings.database.conn_str)
    return await SQLiteEventStore.open(data_dir / LOG_FILE)


async def open_tracker(settings: Settings, clock: Clock = time.time) -> Tracker:
    """The tracker, its read models loaded from the newest usable checkpoint (if enabled and
    any) and the rest of the log replayed on top."""
    store = await open_store(settings)
    try:  # a damaged log stops the start-up: close it, or its thread keeps the process alive
        await startup.check_not_cut(store, Checkpoints.of(settings))
        if settings.checkpoint.enabled:
            state = await Checkpoints.of(settings).load(store, lambda: read_models(settings))
        else:
            state = read_models(settings)
        return await Tracker.open(store, clock, state)
    except BaseException:
        await store.close()
        raise


async def open_reader(settings: Settings) -> EventStore:
    """A read-only view of the log for audit reads: committed (durable) rows only."""
    if settings.database.conn_str:
        return await PostgresEventStore.open_reader(settings.database.conn_str)
    return await SQLiteEventStore.open_reader(Path(settings.database.data_dir) / LOG_FILE)


def read_models(settings: Settings) -> State:
    """Empty read models with the bounds the settings give, set before replay so that every
    replay of the same log under the same settings builds the same models."""
    state = State()
    monitoring = settings.monitoring
    state.monitoring.configure(monitoring.snapshot_interval, monitoring.history_length)
    state.logs.configure(settings.database.log_buffer_entries, settings.database.log_buffer_bytes)
    return state
