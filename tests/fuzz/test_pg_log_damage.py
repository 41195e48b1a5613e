"""Damaged PostgreSQL logs, at random (Hypothesis): the same judgement as for SQLite files
(``test_log_damage.py``): ``tracker audit verify --database`` names the first damaged position
and exits 1, never a traceback; start-up refuses damage inside the rows it replays with a
one-line message, and otherwise starts only on an intact prefix of the log.

The damage is done as someone with rights on the table would do it: the append-only triggers
switched off, then bytes flipped in payloads and hashes, rows deleted, two rows' contents
swapped, the newest rows cut off. (A repeated position and a TEXT payload cannot be stored:
the primary key and the ``bytea`` column refuse them.) The ground truth is worked out by
reading the damaged table with asyncpg directly, not through the adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import secrets
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import postgres
from tests.fuzz.report import DAMAGED_LOGS
from tests.integration.sample_log import events
from tracker import bootstrap, cli, config
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import StoredRow
from tracker.startup.replay import DamagedLog

EXAMPLES = int(os.environ.get("TESTS_FUZZ_PG_LOGS", "40"))
BROKEN = re.compile(r"^BROKEN at position (\d+): (.+)$", re.MULTILINE)
KINDS = ["payload byte", "hash byte", "row deleted", "rows swapped", "rows cut off"]


@pytest.fixture(scope="module")
def server() -> None:
    asyncio.run(postgres.require_server())


async def write_log() -> tuple[str, list[StoredRow]]:
    """A fresh schema holding the sample log, appended in a few batches; its DSN and rows."""
    schema = f"test_{secrets.token_hex(6)}"
    postgres.CREATED.append(schema)
    dsn = postgres.with_schema(schema)
    store = await PostgresEventStore.open(dsn)
    try:
        log_events, head = events(6), 0
        for start in range(0, len(log_events), 7):
            head = await store.append(log_events[start : start + 7], head)
        return dsn, [row async for batch in store.read(0) for row in batch]
    finally:
        await store.close()


@st.composite
def damage(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    kind = draw(st.sampled_from(KINDS))
    numbers = (
        draw(st.integers(1, 10_000)),
        draw(st.integers(0, 10_000)),
        draw(st.integers(1, 255)),
    )
    return kind, numbers


async def apply(dsn: str, rows: list[StoredRow], kind: str, numbers: tuple[int, ...]) -> None:
    head = len(rows)
    at = (numbers[0] - 1) % head + 1
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        if kind in ("payload byte", "hash byte"):
            column = "data" if kind == "payload byte" else "hash"
            value = bytearray(getattr(rows[at - 1], column))
            value[numbers[1] % len(value)] ^= numbers[2]
            await conn.execute(f"UPDATE events SET {column} = $1 WHERE position = $2",
                               bytes(value), at)  # fmt: skip
        elif kind == "row deleted":
            await conn.execute("DELETE FROM events WHERE position = $1", at)
        elif kind == "rows swapped":
            other = (numbers[1] % head) + 1
            other = other if other != at else at % head + 1
            a, b = rows[at - 1], rows[other - 1]
            sql = "UPDATE events SET type = $1, data = $2, hash = $3 WHERE position = $4"
            await conn.execute(sql, b.type, b.data, b.hash, a.position)
            await conn.execute(sql, a.type, a.data, a.hash, b.position)
        else:  # the newest rows cut off, from ``at`` on
            await conn.execute("DELETE FROM events WHERE position >= $1", at)
    finally:
        await conn.close()


async def first_difference(dsn: str, rows: list[StoredRow]) -> int | None:
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetch("SELECT position, type, data, hash FROM events ORDER BY position")
    finally:
        await conn.close()
    for expected, got in zip(rows, found, strict=False):
        if (expected.position, expected.type, expected.data, expected.hash) != tuple(got):
            return expected.position
    return None if len(found) == len(rows) else min(len(found), len(rows)) + 1


def run_verify(dsn: str, data_dir: Path, anchor: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["audit", "verify", "--database", dsn, "--data-dir", str(data_dir),
                         "--anchor", anchor])  # fmt: skip
    return code, out.getvalue() + err.getvalue()


def open_as_serve(dsn: str, data_dir: Path) -> int | Exception:
    settings_ = config.build({"database": {"data_dir": str(data_dir), "conn_str": dsn}})

    async def start() -> int:
        tracker = await bootstrap.open_tracker(settings_)
        await tracker.store.close()
        return tracker.state.position

    try:
        return asyncio.run(start())
    except DamagedLog as exc:
        return exc


@settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(case=damage())
def test_every_damaged_postgresql_log_is_judged_right(
    server: None, tmp_path_factory: pytest.TempPathFactory, case: tuple[str, tuple[int, ...]]
) -> None:
    kind, numbers = case
    dsn, rows = asyncio.run(write_log())
    anchor = f"{len(rows)}:{rows[-1].hash.hex()}"
    asyncio.run(apply(dsn, rows, kind, numbers))
    truth = asyncio.run(first_difference(dsn, rows))
    assert truth is not None, (kind, numbers)  # every kind here changes some row

    code, out = run_verify(dsn, tmp_path_factory.mktemp("verify"), anchor)
    assert "Traceback" not in out
    assert code == 1, out
    found = BROKEN.search(out)
    assert found is not None and int(found.group(1)) == truth, (out, truth)

    started = open_as_serve(dsn, tmp_path_factory.mktemp("serve"))
    if isinstance(started, Exception):
        assert str(started).startswith(f"position {truth}:") and "\n" not in str(started)
    else:  # only an intact prefix of the log may be served
        assert kind in ("row deleted", "rows cut off") and started + 1 == truth, (kind, started)
    outcome = "refused" if isinstance(started, Exception) else "prefix served"
    DAMAGED_LOGS[f"PostgreSQL: {kind} ({outcome} at start-up)"] += 1
