"""Damaged log files, at random (Hypothesis): ``tracker audit verify`` names the first damaged
position with a message and exits 1, never a traceback; ``tracker serve`` refuses to start on
every damage its start-up replay can see, with a one-line message (issue 11).

The damage is done to real SQLite files written by the adapter, as someone with write access
would do it: byte flips in payloads and hashes, a payload rewritten as TEXT (what the sqlite3
shell stores for an edited value), rows deleted, swapped or duplicated, the file truncated, the
WAL torn. The ground truth (which position is the first damaged one) is worked out here, from
what was done and from reading the damaged file with the standard library.

Verify runs with ``--anchor`` at the original head, as an auditor who kept the head would:
rows cut off the end are only detectable with an anchor. Start-up has no anchor but its
checkpoints: without one (as here) a log that merely lost its last rows is a valid, shorter
log, so start-up is only required to refuse damage inside the rows it replays, and otherwise
to start on an intact prefix. ``test_serve_refuses_a_log_that_lost_rows_a_checkpoint_saw``
covers the checkpoint case.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.report import DAMAGED_LOGS
from tests.integration.sample_log import events, tamper, write_log
from tests.integration.test_audit_verify import write_checkpoint_at_head
from tests.processes import run
from tracker import bootstrap, cli, config
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import StoredRow
from tracker.startup.log import LOG_FILE
from tracker.startup.replay import DamagedLog

EXAMPLES = int(os.environ.get("TESTS_FUZZ_LOGS", "200"))
BROKEN = re.compile(r"^BROKEN at position (\d+): (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    """An intact log: its files and its rows. ``wal``: the newest rows are still in the WAL."""

    directory: Path
    rows: list[StoredRow]
    wal: bool

    @property
    def anchor(self) -> str:
        return f"{len(self.rows)}:{self.rows[-1].hash.hex()}"

    def copy(self, to: Path) -> Path:
        if to.exists():
            shutil.rmtree(to)
        shutil.copytree(self.directory, to)
        return to


def _wal_template(where: Path) -> Template:
    """Rows 1..n in the main file, and more rows committed to the WAL only: the files are
    copied while the writer still has the log open (no checkpoint of the WAL yet)."""
    live = where / "live"
    write_log(live, events(6))

    async def more() -> list[StoredRow]:
        store = await SQLiteEventStore.open(live / LOG_FILE)
        try:
            head = await store.head()
            extra = events(6)[5:]  # tasks and their work, again: valid events all the same
            for start in range(0, len(extra), 5):
                head = await store.append(extra[start : start + 5], head)
            (where / "wal").mkdir()
            for name in (LOG_FILE, LOG_FILE + "-wal"):
                shutil.copyfile(live / name, where / "wal" / name)
            return [row async for rows in store.read() for row in rows]
        finally:
            await store.close()

    rows = asyncio.run(more())
    assert (where / "wal" / (LOG_FILE + "-wal")).stat().st_size > 0
    return Template(where / "wal", rows, wal=True)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    where = tmp_path_factory.mktemp("templates")
    plain = write_log(where / "plain")
    return {"plain": Template(where / "plain", plain, wal=False), "wal": _wal_template(where)}


def _read_rows(directory: Path, scratch: Path) -> list[tuple] | None:
    """The rows as the standard library reads them from a copy (None: it cannot read them)."""
    shutil.copytree(directory, scratch)
    try:
        with contextlib.closing(sqlite3.connect(scratch / LOG_FILE)) as conn:
            return conn.execute(
                "SELECT position, type, data, hash FROM events ORDER BY position"
            ).fetchall()
    except sqlite3.DatabaseError:
        return None
    finally:
        shutil.rmtree(scratch)


def _first_difference(rows: list[StoredRow], found: list[tuple] | None) -> int | None:
    if found is None:
        return 1
    for expected, got in zip(rows, found, strict=False):
        if (expected.position, expected.type, expected.data, expected.hash) != tuple(got):
            return expected.position
    if len(found) != len(rows):
        return min(len(found), len(rows)) + 1
    return None


# --- damage: each returns the first damaged position, or None when only the file can tell ---


def flip(data_dir: Path, rows: list[StoredRow], position: int, column: str, offset: int,
         mask: int) -> int:  # fmt: skip
    value = bytearray(getattr(rows[position - 1], column))
    value[offset % len(value)] ^= mask
    tamper(
        data_dir, (f"UPDATE events SET {column} = ? WHERE position = ?", (bytes(value), position))
    )
    return position


def as_text(data_dir: Path, rows: list[StoredRow], position: int) -> int:
    tamper(
        data_dir, ("UPDATE events SET data = CAST(data AS TEXT) WHERE position = ?", (position,))
    )
    return position


def delete(data_dir: Path, rows: list[StoredRow], position: int) -> int:
    tamper(data_dir, ("DELETE FROM events WHERE position = ?", (position,)))
    return position


def swap(data_dir: Path, rows: list[StoredRow], first: int, second: int) -> int:
    a, b = rows[first - 1], rows[second - 1]
    sql = "UPDATE events SET type = ?, data = ?, hash = ? WHERE position = ?"
    tamper(
        data_dir,
        (sql, (b.type, b.data, b.hash, a.position)),
        (sql, (a.type, a.data, a.hash, b.position)),
    )
    return min(first, second)


def duplicate(data_dir: Path, rows: list[StoredRow], position: int) -> int:
    """Row ``position`` written twice: the rows after it move one place on."""
    row = rows[position - 1]
    tamper(
        data_dir,
        ("UPDATE events SET position = -position WHERE position > ?", (position,)),
        ("UPDATE events SET position = 1 - position WHERE position < 0", ()),
        ("INSERT INTO events VALUES (?, ?, ?, ?)", (position + 1, row.type, row.data, row.hash)),
    )
    return position + 1


def truncate(path: Path, fraction: float) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(int(size * fraction))


KINDS = ["payload byte", "hash byte", "TEXT payload", "row deleted", "rows swapped",
         "row duplicated", "file truncated", "torn WAL"]  # fmt: skip


@st.composite
def damage(draw: st.DrawFn) -> tuple[str, str, tuple]:
    """(kind, template, arguments)."""
    kind = draw(st.sampled_from(KINDS))
    template = "wal" if kind == "torn WAL" else draw(st.sampled_from(["plain", "wal"]))
    position = draw(st.integers(1, 10_000))
    if kind in ("payload byte", "hash byte"):
        return kind, template, (position, draw(st.integers(0, 10_000)), draw(st.integers(1, 255)))
    if kind == "rows swapped":
        return kind, template, (position, draw(st.integers(1, 10_000)))
    if kind in ("file truncated", "torn WAL"):
        return kind, template, (draw(st.floats(0.0, 0.999)),)
    return kind, template, (position,)


def _apply(kind: str, template: Template, data_dir: Path, arguments: tuple) -> int | None:
    rows, head = template.rows, len(template.rows)

    def at(value: int) -> int:
        return (value - 1) % head + 1

    if kind == "payload byte":
        return flip(data_dir, rows, at(arguments[0]), "data", arguments[1], arguments[2])
    if kind == "hash byte":
        return flip(data_dir, rows, at(arguments[0]), "hash", arguments[1], arguments[2])
    if kind == "TEXT payload":
        return as_text(data_dir, rows, at(arguments[0]))
    if kind == "row deleted":
        return delete(data_dir, rows, at(arguments[0]))
    if kind == "rows swapped":
        first, second = at(arguments[0]), at(arguments[1])
        if first == second:
            second = first % head + 1
        return swap(data_dir, rows, first, second)
    if kind == "row duplicated":
        return duplicate(data_dir, rows, at(arguments[0]))
    if kind == "file truncated":
        truncate(data_dir / LOG_FILE, arguments[0])
        return None
    truncate(data_dir / (LOG_FILE + "-wal"), arguments[0])
    return None


def run_verify(data_dir: Path, anchor: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["audit", "verify", "--data-dir", str(data_dir), "--anchor", anchor])
    return code, out.getvalue() + err.getvalue()


def open_as_serve(data_dir: Path) -> int | Exception:
    """Start-up as ``tracker serve`` does it: the position reached, or the error raised."""
    settings_ = config.build({"database": {"data_dir": str(data_dir)}})

    async def start() -> int:
        tracker = await bootstrap.open_tracker(settings_)
        await tracker.store.close()
        return tracker.state.position

    try:
        return asyncio.run(start())
    except (DamagedLog, sqlite3.DatabaseError) as exc:
        return exc


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("damaged")


@settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(case=damage())
def test_every_damaged_log_is_judged_right_by_verify_and_by_start_up(
    templates: dict[str, Template], scratch: Path, case: tuple[str, str, tuple]
) -> None:
    kind, name, arguments = case
    template = templates[name]
    data_dir = template.copy(scratch / "log")
    done = _apply(kind, template, data_dir, arguments)
    truth = _first_difference(template.rows, _read_rows(data_dir, scratch / "truth"))
    if done is not None:
        assert truth == done, (kind, truth, done)

    code, out = run_verify(data_dir, template.anchor)
    assert "Traceback" not in out
    if truth is None:  # the damage hit no row (e.g. a cut in unused space): nothing to find
        assert code == 0 and "INTACT" in out, out
    else:
        assert code == 1, out
        found = BROKEN.search(out)
        assert found is not None, out
        position = int(found.group(1))
        if kind == "file truncated":
            assert 1 <= position <= truth, (out, truth)  # an unreadable file: where reading stopped
        else:
            assert position == truth, (out, truth)
        if kind == "TEXT payload":
            assert "stored as TEXT" in found.group(2)

    started = open_as_serve(data_dir)
    if isinstance(started, Exception):
        assert truth is not None, started
        assert "\n" not in str(started) and str(started), started
        if isinstance(started, DamagedLog) and kind != "file truncated":
            assert str(started).startswith(f"position {truth}:"), (started, truth)
    else:  # started: only a log that is an intact prefix of the original may be served
        assert truth is None or truth == started + 1, (kind, truth, started)
        assert kind in ("row deleted", "file truncated", "torn WAL") or truth is None, kind
    DAMAGED_LOGS[
        f"{kind} ({'refused' if isinstance(started, Exception) else 'prefix served'} at start-up)"
    ] += 1


def test_serve_refuses_a_log_that_lost_rows_a_checkpoint_saw(
    templates: dict[str, Template], tmp_path: Path
) -> None:
    template = templates["plain"]
    data_dir = template.copy(tmp_path / "log")
    write_checkpoint_at_head(data_dir, template.rows)
    delete(data_dir, template.rows, len(template.rows))
    started = open_as_serve(data_dir)
    assert isinstance(started, DamagedLog), started
    head = len(template.rows) - 1
    assert str(started).startswith(
        f"position {head + 1}: the log ends at position {head}, but the checkpoint"
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["payload byte", "TEXT payload", "file truncated"])
def test_tracker_serve_stops_with_one_line_on_a_damaged_log(
    templates: dict[str, Template], tmp_path: Path, kind: str
) -> None:
    template = templates["plain"]
    data_dir = template.copy(tmp_path / "log")
    arguments = {"payload byte": (3, 20, 1), "TEXT payload": (5,), "file truncated": (0.5,)}[kind]
    _apply(kind, template, data_dir, arguments)
    done = run("serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"tracker: cannot start, the event log in {data_dir} is damaged: "), last
    code, out = run_verify(data_dir, template.anchor)
    assert code == 1 and "BROKEN at position" in out, out
