"""The composition root: open the log the settings name and rebuild the tracker from it.

The app and the tests both come through here, so they run the same wiring.
"""

from __future__ import annotations

import time
from pathlib import Path

from tracker.config import Settings
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import EventStore
from tracker.service import Clock, Tracker

LOG_FILE = "events.sqlite3"


async def open_store(settings: Settings) -> EventStore:
    if settings.database.conn_str:
        raise NotImplementedError("PostgreSQL storage is not available yet; leave conn_str empty")
    data_dir = Path(settings.database.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return await SQLiteEventStore.open(data_dir / LOG_FILE)


async def open_tracker(settings: Settings, clock: Clock = time.time) -> Tracker:
    return await Tracker.open(await open_store(settings), clock)
