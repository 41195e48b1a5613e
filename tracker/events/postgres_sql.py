"""Every SQL statement the PostgreSQL adapter (and the cluster code on top of it) sends.

The log lives in one table, ``events``, in the schema the connection's ``search_path`` names
(``?search_path=NAME`` in the DSN; ``public`` by default). ``tracker_schema`` records which
migrations ran; :data:`MIGRATIONS` are applied in order, each once, under an advisory lock so
that nodes starting together do not race.

The locks of one log are advisory locks keyed by two int4s, (what the lock is for, the
``events`` table's oid), so two logs (two schemas) in one database never share a lock.
"""

from __future__ import annotations

MIGRATION_LOCK = 0x74726B00_00000000  # one bigint, database-wide: schema set-up, migrations
APPEND_LOCK = 0x74726B01  # one writer at a time, so positions commit in order
LEADER_LOCK = 0x74726B02  # held (session-level) by the node that runs the scheduler's jobs


def int4(table_oid: int) -> int:
    """An oid (unsigned 32 bits) as the signed int4 an advisory lock key takes."""
    return table_oid - 2**32 if table_oid >= 2**31 else table_oid


def channel(table_oid: int) -> str:
    """The NOTIFY channel on which appends to this log are announced (payload: the new head)."""
    return f"tracker_events_{table_oid}"


TAKE_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock($1::bigint)"
CREATE_SCHEMA = 'CREATE SCHEMA IF NOT EXISTS "{schema}"'
CURRENT_SCHEMA = "SELECT current_schema()"
CREATE_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS tracker_schema (version integer NOT NULL)"
SCHEMA_VERSION = "SELECT coalesce(max(version), 0) FROM tracker_schema"
RECORD_VERSION = "INSERT INTO tracker_schema (version) VALUES ($1)"

#: (version, statements). Append new migrations; never edit one that has shipped.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE events (
            position bigint PRIMARY KEY CHECK (position > 0),
            type     text   NOT NULL,
            data     bytea  NOT NULL,
            hash     bytea  NOT NULL
        );
        CREATE FUNCTION tracker_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
        CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION tracker_events_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION tracker_events_append_only();
        """,
    ),
)

TABLE_OID = "SELECT to_regclass('events')::oid::bigint"
#: A turn's first round trip: a simple query (no parameters: the keys are our own integers).
BEGIN_TURN = "BEGIN; SELECT pg_advisory_xact_lock({0}, {1})"
TIP = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
HEAD = "SELECT coalesce(max(position), 0) FROM events"
#: Insert the rows and announce the new head (delivered at commit) in one round trip.
INSERT_AND_NOTIFY = (
    "WITH inserted AS (INSERT INTO events (position, type, data, hash) "
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bytea[])) "
    "SELECT pg_notify($5, $6)"
)
#: A turn's read: the row the caller is at (its anchor), and every later one.
READ_FROM = "SELECT position, type, data, hash FROM events WHERE position >= $1 ORDER BY position"
READ = (
    "SELECT position, type, data, hash FROM events WHERE position > $1 ORDER BY position LIMIT $2"
)
COLUMNS = ("position", "type", "data", "hash")  # of a restore's COPY
NOTIFY = "SELECT pg_notify($1, $2)"
READ_PAYLOADS = "SELECT data FROM events WHERE position > $1 ORDER BY position LIMIT $2"
TRY_SESSION_LOCK = "SELECT pg_try_advisory_lock($1::int, $2::int)"
