"""The audit commands on a PostgreSQL log (``--database``), each run as a real process:
``tracker audit verify`` finds an intact chain and a row edited behind the adapter's back,
``tracker events export`` writes every event, and a missing log or server is exit status 2."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.e2e.scripted_run import run_cli
from tests.integration import sample_log
from tracker import config
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import StoredRow


@pytest.fixture
async def rows(pg_dsn: str) -> AsyncIterator[list[StoredRow]]:
    store = await PostgresEventStore.open(pg_dsn)
    try:
        events = sample_log.events()
        await store.append(events[:5], 0)
        await store.append(events[5:], 5)
        yield [row async for batch in store.read(0) for row in batch]
    finally:
        await store.close()


async def test_verify_finds_the_chain_intact_then_an_edited_row(
    pg_dsn: str, rows: list[StoredRow], tmp_path: Path
) -> None:
    args = ("--database", pg_dsn, "--data-dir", str(tmp_path / "data"))
    intact = await run_cli("audit", "verify", *args)
    assert intact.code == 0, intact
    assert f"INTACT: head position {len(rows)}, hash {rows[-1].hash.hex()}" in intact.out

    conn = await asyncpg.connect(pg_dsn)
    try:  # what an operator with table rights could do: the chain must still tell
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
        await conn.execute("UPDATE events SET data = $1 WHERE position = 7", rows[7].data)
    finally:
        await conn.close()
    broken = await run_cli("audit", "verify", *args)
    assert broken.code == 1, broken
    assert "BROKEN at position 7: hash mismatch" in broken.out


async def test_export_writes_every_event_as_a_json_line_with_secrets_redacted(
    pg_dsn: str, rows: list[StoredRow], tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    ran = await run_cli("events", "export", "--database", pg_dsn, "-o", str(out))
    assert ran.code == 0, ran
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["position"] for line in lines] == [row.position for row in rows]
    assert "secret-hash" not in out.read_text()


async def test_a_missing_log_or_server_is_status_2_with_the_reason(
    pg_dsn: str, tmp_path: Path
) -> None:
    missing = await run_cli("audit", "verify", "--database", pg_dsn, "--data-dir", str(tmp_path))
    assert missing.code == 2, missing
    assert "no event log in the database" in missing.err
    nowhere = await run_cli("audit", "verify", "--database", "postgresql://u:pw@127.0.0.1:1/x",
                            "--data-dir", str(tmp_path))  # fmt: skip
    assert nowhere.code == 2, nowhere
    assert "cannot reach PostgreSQL at postgresql://u:***@127.0.0.1:1/x" in nowhere.err
    assert "Traceback" not in nowhere.err


def test_the_environment_selects_postgresql_and_other_schemes_are_refused() -> None:
    dsn = "postgresql://tracker@db.internal:5432/tracker?search_path=tracker"
    settings = config.load(environ={"TRACKER_DATABASE_CONN_STR": dsn})
    assert settings.database.conn_str == dsn
    assert config.load(environ={}).database.conn_str == ""  # SQLite stays the default
    with pytest.raises(config.ConfigError, match="must be a PostgreSQL URL"):
        config.load(environ={"TRACKER_DATABASE_CONN_STR": "sqlite:///tmp/x"})


async def test_serve_without_a_reachable_server_is_status_2_with_the_reason(
    tmp_path: Path,
) -> None:
    ran = await run_cli("serve", "--port", "0", "--data-dir", str(tmp_path / "data"),
                        "--database", "postgresql://u:pw@127.0.0.1:1/x")  # fmt: skip
    assert ran.code == 2, ran
    assert "tracker: cannot reach PostgreSQL at postgresql://u:***@127.0.0.1:1/x" in ran.err
    assert "Traceback" not in ran.err
