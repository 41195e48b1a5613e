"""``tracker backup`` of a serving tracker and ``tracker restore``, as separate processes.

Backup under load: writers submit throughout; every submit acknowledged before the backup
started is in the copy, none acknowledged after it ended is, and the copy is a prefix of the
live log. Restored into a fresh directory, the log rebuilds the source's state at that
position (equal digests). Damaged and truncated backups, and non-empty targets, are refused.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import aiohttp

from tests.integration import sample_log
from tests.integration.test_sigkill import prepare
from tests.processes import Server, Servers, command, environment, run
from tests.waiting import eventually
from tracker import bootstrap, config
from tracker.audit.replay import replay_until
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import StoredRow, read_events
from tracker.events.tasks import TaskSubmitted
from tracker.projections import digest
from tracker.startup.log import LOG_FILE, open_reader
from tracker.startup.replay import read_models


async def rows_of(path: Path) -> list[StoredRow]:
    store = await SQLiteEventStore.open_reader(path)
    try:
        return [row async for batch in store.read() for row in batch]
    finally:
        await store.close()


async def recipes_in(path: Path) -> set[str]:
    store = await SQLiteEventStore.open_reader(path)
    try:
        return {
            r.event.recipe async for r in read_events(store) if isinstance(r.event, TaskSubmitted)
        }
    finally:
        await store.close()


async def test_a_backup_under_load_holds_exactly_what_was_acknowledged_before_it(
    tmp_path: Path, servers: Servers
) -> None:
    position = await _backup_under_load(tmp_path, servers.new("data"))
    restored = run("restore", str(tmp_path / "copy.db"), "--data-dir", str(tmp_path / "fresh"))
    assert restored.returncode == 0, restored.stderr
    assert f"restored {position} events" in restored.stdout
    await _same_state_as_source_at(tmp_path / "fresh", tmp_path / "data", position)


async def test_a_postgresql_backup_under_load_holds_exactly_what_was_acknowledged_before_it(
    tmp_path: Path, servers: Servers, pg_dsn: str
) -> None:
    """The same, with the log in PostgreSQL: one snapshot, while the node goes on appending.
    The file restores into a data directory (a cluster's log moved to one machine)."""
    position = await _backup_under_load(tmp_path, servers.new("data", database=pg_dsn))
    restored = run("restore", str(tmp_path / "copy.db"), "--data-dir", str(tmp_path / "fresh"))
    assert restored.returncode == 0, restored.stderr
    await _same_state_as_source_at(tmp_path / "fresh", {"conn_str": pg_dsn}, position)


async def pg_rows(dsn: str) -> list[StoredRow]:
    store = await PostgresEventStore.open_reader(dsn)
    try:
        return [row async for batch in store.read() for row in batch]
    finally:
        await store.close()


async def _backup_under_load(tmp_path: Path, server: Server) -> int:
    """Writers submit to ``server`` (not started yet) while ``tracker backup`` of its log
    runs: every submit acknowledged before the backup started is in the copy, none
    acknowledged after it ended is, the copy is a prefix of the live log, and its .head file
    names its head. The head position."""
    await server.astart()
    acked: list[tuple[float, str]] = []  # (when the answer came, recipe)
    stop = asyncio.Event()
    counter = itertools.count()
    try:
        async with aiohttp.ClientSession() as session:
            project, workers = await prepare(session, server.url)

            async def writer(headers: dict) -> None:
                while not stop.is_set():
                    recipe = f"recipe {next(counter)}"
                    body = {"project": project, "recipe": recipe}
                    async with session.post(server.url + "/task/submit", json=body,
                                            headers=headers) as response:  # fmt: skip
                        assert response.status == 200, await response.text()
                    acked.append((time.monotonic(), recipe))

            writers = [asyncio.create_task(writer(h)) for h in workers[:4]]
            await eventually(lambda: len(acked) >= 200, what="200 submits acknowledged")
            started = time.monotonic()
            backup = await asyncio.create_subprocess_exec(
                *command("backup", *server.log, "-o", str(tmp_path / "copy.db")), env=environment(),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await backup.communicate()
            ended = time.monotonic()
            count_at_end = len(acked)
            await eventually(lambda: len(acked) >= count_at_end + 200,
                             what="200 more submits acknowledged after the backup")  # fmt: skip
            stop.set()
            await asyncio.gather(*writers)
            if server.database:
                live = await pg_rows(server.database)
            else:
                live = await rows_of(server.data_dir / LOG_FILE)
    finally:
        assert server.stop() == 0
    assert backup.returncode == 0, err
    copy = await recipes_in(tmp_path / "copy.db")
    assert {recipe for at, recipe in acked if at < started} <= copy
    assert not {recipe for at, recipe in acked if at > ended} & copy
    backed_up = await rows_of(tmp_path / "copy.db")
    assert live[: len(backed_up)] == backed_up and len(live) > len(backed_up)
    head = json.loads((tmp_path / "copy.db.head").read_text())
    assert (head["position"], head["hash"]) == (backed_up[-1].position, backed_up[-1].hash.hex())
    assert f"head position {head['position']}, hash {head['hash']}" in out.decode()
    return int(head["position"])


async def _same_state_as_source_at(restored: Path, source: Path | dict, position: int) -> None:
    """A tracker opened on ``restored`` has the state of the ``source`` log (a data directory,
    or database settings) at ``position``: equal digests of every read model."""
    settings = config.build({"database": {"data_dir": str(restored)}})
    tracker = await bootstrap.open_tracker(settings)
    where = {"data_dir": str(source)} if isinstance(source, Path) else source
    try:
        assert tracker.state.position == position
        reader = await open_reader(config.build({"database": where}))
        try:
            at_source = await replay_until(lambda: read_models(settings), reader,
                                           position, wait=0)  # fmt: skip
        finally:
            await reader.close()
        assert digest.compute(tracker.state) == digest.compute(at_source)
    finally:
        await tracker.store.close()


def _backup_of_sample(tmp_path: Path) -> Path:
    sample_log.write_log(tmp_path / "data")
    made = run("backup", "--data-dir", str(tmp_path / "data"), "-o", str(tmp_path / "b.db"))
    assert made.returncode == 0, made.stderr
    return tmp_path / "b.db"


def _refused(tmp_path: Path, backup: Path, says: str) -> None:
    target = tmp_path / "target"
    done = run("restore", str(backup), "--data-dir", str(target))
    assert done.returncode == 2, done.stdout
    assert says in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert not (target / LOG_FILE).exists()


def test_a_damaged_backup_is_refused(tmp_path: Path) -> None:
    backup = _backup_of_sample(tmp_path)
    data = bytearray(backup.read_bytes())
    for offset in range(len(data) // 2, len(data) - 64, 97):  # scribble over the rows' pages
        data[offset] ^= 0x5A
    backup.write_bytes(bytes(data))
    target = tmp_path / "target"
    done = run("restore", str(backup), "--data-dir", str(target))
    assert done.returncode == 2 and "not" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (target / LOG_FILE).exists()


def test_a_truncated_backup_is_refused_by_its_head_file(tmp_path: Path) -> None:
    backup = _backup_of_sample(tmp_path)
    with closing(sqlite3.connect(backup)) as conn:  # the newest rows cut off, chain intact
        conn.execute("DROP TRIGGER events_no_delete")
        conn.execute("DELETE FROM events WHERE position > 10")
        conn.commit()
    _refused(tmp_path, backup, "rows were cut off the end")


def test_a_restore_never_replaces_a_log(tmp_path: Path) -> None:
    backup = _backup_of_sample(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    shutil.copyfile(tmp_path / "data" / LOG_FILE, target / LOG_FILE)
    before = (target / LOG_FILE).read_bytes()
    done = run("restore", str(backup), "--data-dir", str(target))
    assert done.returncode == 2 and "not empty (holds events.sqlite3)" in done.stderr
    assert (target / LOG_FILE).read_bytes() == before


def test_a_backup_without_a_head_file_is_restored_on_its_chain(tmp_path: Path) -> None:
    backup = _backup_of_sample(tmp_path)
    (tmp_path / "b.db.head").unlink()
    done = run("restore", str(backup), "--data-dir", str(tmp_path / "target"))
    assert done.returncode == 0, done.stderr
    assert "no .head file beside it: chain only" in done.stdout
    asyncio.run(_same_state_as_source_at(tmp_path / "target", tmp_path / "data",
                                         len(sample_log.events())))  # fmt: skip
