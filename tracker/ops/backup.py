"""``tracker backup``: a consistent copy of the log while trackers serve it, as one file.

A backup file is the same whichever log it came from: a SQLite database holding the log's
``events`` table (as ``data_dir/events.sqlite3`` does), so a file made from SQLite restores
into PostgreSQL and the other way round.

- From SQLite, SQLite's online backup API copies the file in one step, inside one read
  transaction: the copy is the log exactly as of one commit, and in WAL mode the tracker goes on
  committing meanwhile.
- From PostgreSQL, one read-only REPEATABLE READ transaction reads the head, then every row up
  to it: the copy is the log as of one moment, while every node goes on appending.

The copy is written beside its target, created owner-only (``0600``: the log holds secrets and
password hashes), fsynced and linked into place (never over an existing file), so a FILE that
exists is a whole backup.
Beside it, ``FILE.head`` records the head position and hash it holds; ``tracker restore``
checks the copy against it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tracker.dsn import redacted
from tracker.events import sqlite as sqlite_log
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import GENESIS, StoredRow
from tracker.startup.log import LOG_FILE

HEAD_SUFFIX = ".head"
_HEAD = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
_INSERT = "INSERT INTO events (position, type, data, hash) VALUES (?, ?, ?, ?)"


class BackupError(Exception):
    """The backup could not be made; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    position: int
    hash: bytes
    size: int
    seconds: float


def head_file(backup: Path) -> Path:
    return backup.with_name(backup.name + HEAD_SUFFIX)


def from_sqlite(data_dir: str | Path, output: str | Path) -> Backup:
    """A backup of the SQLite log in ``data_dir``."""
    source = Path(data_dir) / LOG_FILE
    if not source.is_file():
        raise BackupError(f"no event log at {source}")
    return _make(Path(output), str(source.absolute()), lambda partial: _copy(source, partial))


def from_postgres(dsn: str, output: str | Path) -> Backup:
    """A backup of the PostgreSQL log the DSN names."""
    return _make(Path(output), redacted(dsn), lambda partial: asyncio.run(_read(dsn, partial)))


def _make(output: Path, source: str, fill: Callable[[Path], tuple[int, bytes]]) -> Backup:
    if output.exists() or head_file(output).exists():
        raise BackupError(f"{output}: already exists; give a new file name")
    started = time.perf_counter()
    with _partial(output) as partial:
        try:
            position, head_hash = fill(partial)
        except (sqlite3.Error, OSError, asyncpg.PostgresError) as exc:  # OSError: unreachable
            raise BackupError(f"backup of {source} failed: {exc}") from None
    made = Backup(output, position, head_hash, output.stat().st_size,
                  time.perf_counter() - started)  # fmt: skip
    _write_head(made, source)
    return made


@contextmanager
def _partial(output: Path) -> Iterator[Path]:
    """``FILE.partial``, created owner-only; renamed to ``FILE`` (fsynced) if the block ends
    well, removed otherwise."""
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)  # left by a backup that was killed
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise BackupError(f"{output}: cannot create it: {exc.strerror}") from None
    try:
        yield partial
        fsync(partial)
        try:
            os.link(partial, output)  # unlike a rename, never replaces a file made meanwhile
        except FileExistsError:
            raise BackupError(f"{output}: made meanwhile by another backup") from None
        fsync(output.parent)
    finally:
        partial.unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> tuple[int, bytes]:
    reader = sqlite3.connect(source.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        reader.execute("PRAGMA busy_timeout=5000")
        copy = sqlite3.connect(target)  # the empty file _partial made: its mode is kept
        try:
            reader.backup(copy)  # pages=-1: all of it in one step, one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            row = copy.execute(_HEAD).fetchone()
        finally:
            copy.close()
    finally:
        reader.close()
    return (int(row[0]), bytes(row[1])) if row else (0, GENESIS)


async def _read(dsn: str, target: Path) -> tuple[int, bytes]:
    """Every row of the PostgreSQL log's snapshot into ``target``; the next batch is fetched
    while this one is written (in a thread)."""
    store = await PostgresEventStore.open_reader(dsn)
    file = _new_log(target)
    writing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    writing.set_result(None)
    try:
        async with store.snapshot() as snapshot:
            async for batch in snapshot.read():
                await writing
                writing = asyncio.ensure_future(asyncio.to_thread(_insert, file, batch))
            await writing
            file.commit()
            return snapshot.head, snapshot.head_hash
    finally:
        await asyncio.wait([writing])  # the thread is done with the file before it closes
        file.close()
        await store.close()


def _new_log(target: Path) -> sqlite3.Connection:
    """The log's table in the empty file ``target``: one transaction, no journal (a file
    that is not complete is removed, never used)."""
    file = sqlite3.connect(target, check_same_thread=False, isolation_level="DEFERRED")
    file.execute("PRAGMA journal_mode=OFF")
    file.execute("PRAGMA synchronous=OFF")  # fsynced once, at the end
    file.executescript(sqlite_log.SCHEMA)
    return file


def _insert(file: sqlite3.Connection, rows: list[StoredRow]) -> None:
    file.executemany(_INSERT, [(r.position, r.type, r.data, r.hash) for r in rows])


def _write_head(made: Backup, source: str) -> None:
    record = {"position": made.position, "hash": made.hash.hex(), "bytes": made.size,
              "source": source,
              "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    path = head_file(made.path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(record, indent=2) + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_head(backup: Path) -> tuple[int, bytes] | None:
    """The position and hash ``FILE.head`` records, or None if there is no such file."""
    path = head_file(backup)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        return int(record["position"]), bytes.fromhex(record["hash"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path}: unreadable ({exc})") from None


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
