"""A tracker moves between SQLite and PostgreSQL through one backup file, as a user moves it:
``tracker backup`` from one, ``tracker restore`` into the other, every step a real process.

The state served after the move is the state served before it (``GET /audit/digest`` of the
two trackers equal, and ``tracker audit replay --url`` agrees), and so after the move back.
A PostgreSQL restore is all or nothing: a schema that holds events is refused, and a damaged
or truncated backup leaves the schema empty. Backup files are created owner-only.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.scripted_run import run_cli
from tests.integration import sample_log
from tests.integration.test_sigkill import call
from tests.processes import Server, Servers, run
from tracker.audit.cli import fetch_digests
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.startup.log import LOG_FILE

TOKEN = "audit-token-of-the-move-0123456789"


async def _work(session: aiohttp.ClientSession, url: str, who: str, rounds: int) -> None:
    """A manager ``who`` (the first is the tracker admin), a project, two workers with access,
    then tasks submitted, half of them taken and closed."""
    account = {"username": who, "password": "password1"}
    registered = await call(session, "POST", url + "/register", json=account)
    assert registered["ok"], registered
    created = await call(session, "POST", url + "/project/create", json={"name": who})
    project = created["content"]["id"]
    workers = []
    for alias in ("w1", "w2"):
        made = await call(session, "POST", url + "/worker/create", json={"alias": alias})
        worker = made["content"]["worker"]
        headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}
        await call(session, "POST", url + "/project/request_access", headers=headers,
                   json={"project": project, "assign": True, "submit": True})  # fmt: skip
        await call(session, "POST", f"{url}/project/accept_request/{project}/{worker['id']}")
        workers.append(headers)
    for n in range(rounds):
        headers = workers[n % 2]
        await call(session, "POST", url + "/task/submit", headers=headers,
                   json={"project": project, "recipe": f"task {n}"})  # fmt: skip
        if n % 2:
            task = await call(session, "GET", f"{url}/task/get/{project}", headers=headers)
            await call(session, "POST", url + "/task/release", headers=headers,
                       json={"task_id": task["content"]["task"]["id"], "result": 0})  # fmt: skip


async def _serve(server: Server, work: str = "", replay: bool = False
                 ) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """``server`` started on its log: its digests (GET /audit/digest) as it starts and after
    ``work`` (if any); with ``replay``, ``tracker audit replay --url`` then finds the log and
    the served state to agree."""
    await server.astart()
    try:
        jar = aiohttp.CookieJar(unsafe=True)  # keeps the manager's cookie for 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            first = await fetch_digests(server.url, TOKEN)
            if work:
                await _work(session, server.url, work, rounds=12)
            last = await fetch_digests(server.url, TOKEN)
        if replay:
            log = server.log
            ran = await run_cli("audit", "replay", *log, "--url", server.url, "--token", TOKEN)
            assert ran.code == 0 and "MATCH" in ran.out, ran
    finally:
        assert server.stop() == 0
    return first, last


def _ok(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_sqlite_to_postgresql_and_back_serves_the_same_state(
    tmp_path: Path, servers: Servers, pg_dsn: str
) -> None:
    audit = {"TRACKER_AUDIT_TOKEN": TOKEN}
    _, on_sqlite = await _serve(servers.new("one-machine", env=audit), work="admin")
    _ok("backup", "--data-dir", str(tmp_path / "one-machine"), "-o", str(tmp_path / "a.db"))
    said = _ok("restore", str(tmp_path / "a.db"), "--database", pg_dsn)
    assert f"restored {on_sqlite['position']} events into the PostgreSQL log at" in said
    assert "and its .head file in" in said

    node = servers.new("node", database=pg_dsn, env=audit)
    moved, moved_on = await _serve(node, work="alice", replay=True)
    assert moved == on_sqlite
    assert moved_on["position"] > on_sqlite["position"]  # the cluster went on working
    _ok("backup", "--database", pg_dsn, "-o", str(tmp_path / "b.db"))
    _ok("restore", str(tmp_path / "b.db"), "--data-dir", str(tmp_path / "back"))
    back, _ = await _serve(servers.new("back", env=audit))
    assert back == moved_on


async def _events_in(dsn: str) -> int:
    store = await PostgresEventStore.open(dsn)
    try:
        return await store.head()
    finally:
        await store.close()


def _sample_backup(tmp_path: Path) -> Path:
    sample_log.write_log(tmp_path / "data")
    _ok("backup", "--data-dir", str(tmp_path / "data"), "-o", str(tmp_path / "b.db"))
    return tmp_path / "b.db"


def _refused(backup: Path, dsn: str, says: str) -> None:
    done = run("restore", str(backup), "--database", dsn)
    assert done.returncode == 2, done.stdout
    assert says in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


async def test_a_schema_that_holds_events_is_refused(tmp_path: Path, pg_dsn: str) -> None:
    backup = await asyncio.to_thread(_sample_backup, tmp_path)
    _ok("restore", str(backup), "--database", pg_dsn)
    held = await _events_in(pg_dsn)
    _refused(backup, pg_dsn, f"holds {held} events; restore into an empty schema")
    assert await _events_in(pg_dsn) == held == len(sample_log.events())


async def test_a_damaged_or_truncated_backup_leaves_the_schema_empty(
    tmp_path: Path, pg_dsn: str
) -> None:
    log = await _big_log(tmp_path / "big")  # rows copied in batches: the first ones were sent
    _ok("backup", "--data-dir", str(log), "-o", str(tmp_path / "big.db"))
    with closing(sqlite3.connect(tmp_path / "big.db")) as conn:  # past the first batch
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("UPDATE events SET data = CAST(data || x'20' AS BLOB) WHERE position = 11000")
        conn.commit()
    _refused(tmp_path / "big.db", pg_dsn, "broken at position 11000: hash mismatch")
    assert await _events_in(pg_dsn) == 0

    backup = await asyncio.to_thread(_sample_backup, tmp_path / "second")
    with closing(sqlite3.connect(backup)) as conn:  # the newest rows cut off, chain intact
        conn.execute("DROP TRIGGER events_no_delete")
        conn.execute("DELETE FROM events WHERE position > 10")
        conn.commit()
    _refused(backup, pg_dsn, "rows were cut off the end")
    assert await _events_in(pg_dsn) == 0


async def _big_log(data_dir: Path) -> Path:
    """A log of 12,504 events, more than one batch of a restore's walk (10,000)."""
    data_dir.mkdir(parents=True)  # noqa: ASYNC240
    store = await SQLiteEventStore.open(data_dir / LOG_FILE)
    try:
        await store.append(sample_log.events(tasks_count=5000), 0)
    finally:
        await store.close()
    return data_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_backup_files_are_created_owner_only(tmp_path: Path, pg_dsn: str) -> None:
    seed = await asyncio.to_thread(_sample_backup, tmp_path)  # its data dir is backed up too
    _ok("restore", str(seed), "--database", pg_dsn)
    previous = os.umask(0)  # what a careless shell or unit gives: the files must not follow it
    try:
        _ok("backup", "--data-dir", str(tmp_path / "data"), "-o", str(tmp_path / "s.db"))
        _ok("backup", "--database", pg_dsn, "-o", str(tmp_path / "p.db"))
        _ok("restore", str(tmp_path / "p.db"), "--data-dir", str(tmp_path / "restored"))
    finally:
        os.umask(previous)
    made = [tmp_path / name for name in ("s.db", "s.db.head", "p.db", "p.db.head")]
    made.append(tmp_path / "restored" / LOG_FILE)
    assert {path.name: _mode(path) for path in made} == {path.name: 0o600 for path in made}
    assert not list(tmp_path.glob("*.partial"))  # noqa: ASYNC240


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    backup = _sample_backup(tmp_path)
    nowhere = "postgresql://tracker:s3cret-pw@127.0.0.1:1/tracker"
    for args in (["backup", "--database", nowhere, "-o", str(tmp_path / "x.db")],
                 ["restore", str(backup), "--database", nowhere]):  # fmt: skip
        done = run(*args)
        assert done.returncode == 2, done.stdout
        assert "cannot reach PostgreSQL at postgresql://tracker:***@127.0.0.1:1/tracker" in (
            done.stderr
        )
        assert len(done.stderr.splitlines()) == 1 and "s3cret" not in done.stderr
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "x.db.partial").exists()


def test_backups_into_a_directory_keep_the_newest_n(tmp_path: Path) -> None:
    sample_log.write_log(tmp_path / "data")
    kept = tmp_path / "kept"
    kept.mkdir()
    older = ["tracker-20240101T000000Z.db", "tracker-20250101T000000Z.db"]
    for name in [*older, f"{older[0]}.head", "notes.txt", "tracker-manual.db"]:
        (kept / name).write_text("x")
    said = _ok("backup", "--data-dir", str(tmp_path / "data"), "--into", str(kept),
               "--keep", "2")  # fmt: skip
    made = Path(re.search(r" to (\S+) in ", said).group(1))  # type: ignore[union-attr]
    assert re.fullmatch(r"tracker-\d{8}T\d{6}Z\.db", made.name) and made.parent == kept
    assert f"kept the newest 2 backups in {kept}; removed: {older[0]}" in said
    assert sorted(p.name for p in kept.iterdir()) == sorted(  # only backups it names are pruned
        [older[1], made.name, f"{made.name}.head", "notes.txt", "tracker-manual.db"]
    )
