"""Where the log the settings name lives: the embedded SQLite file in ``database.data_dir``
unless ``database.conn_str`` names a PostgreSQL database; and a read-only view of it for audits."""

from __future__ import annotations

from pathlib import Path

from tracker.config import Settings
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import EventStore

LOG_FILE = "events.sqlite3"


def data_dir(settings: Settings) -> Path:
    """The node's data directory, created owner-only if missing: the log (if local),
    checkpoints and the history index hold worker, project and webhook secrets and password
    hashes."""
    path = Path(settings.database.data_dir)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


async def open_reader(settings: Settings) -> EventStore:
    """A read-only view of the log for audit reads: committed (durable) rows only."""
    if settings.database.conn_str:
        return await PostgresEventStore.open_reader(settings.database.conn_str)
    return await SQLiteEventStore.open_reader(Path(settings.database.data_dir) / LOG_FILE)
