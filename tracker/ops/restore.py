"""``tracker restore``: a file made by ``tracker backup`` becomes a tracker's log, in an empty
data directory (SQLite) or an empty PostgreSQL schema, whichever log the backup came from.

A restore never replaces a log: the target must hold no events. The backup is checked by the
same walk as ``tracker audit verify``: the whole hash chain, and the head position and hash
that ``FILE.head`` recorded (so a truncated or rewritten backup is refused, not only a damaged
one).

- Into a data directory: the file is copied beside the log's place, checked, and only then
  renamed to ``events.sqlite3``, under the directory's lock (no tracker can start on it).
- Into PostgreSQL: one transaction holding the log's append lock (no node can append) checks
  that the log is empty, then copies each batch of rows once the walk has checked it; a break
  anywhere rolls all of it back.

A tracker started on the restored log rebuilds exactly the state the source had at the
backup's head.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tracker.audit import verify
from tracker.dsn import redacted
from tracker.events.postgres import PostgresEventStore
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import StoredRow
from tracker.ops import backup as backups
from tracker.ops.lock import LOCK_FILE, DataDirLock, prepare
from tracker.startup.log import LOG_FILE


class RestoreError(Exception):
    """The backup was not restored; the message says why."""


@dataclass(frozen=True)
class Restored:
    position: int
    hash: bytes
    anchored: bool  # the head was checked against FILE.head
    seconds: float


def into_data_dir(backup: str | Path, data_dir: str | Path) -> Restored:
    source = _existing(backup)
    target = prepare(data_dir)
    _refuse_non_empty(target)
    with DataDirLock.acquire(target):
        _refuse_non_empty(target)  # again, now that no tracker can start on it
        recorded = backups.read_head(source)
        partial = target / (LOG_FILE + ".restoring")
        try:
            _copy_owner_only(source, partial)
            report = asyncio.run(_walk(partial, recorded))
            _refuse_broken(source, report, recorded)
            partial.rename(target / LOG_FILE)
            backups.fsync(target)
        finally:
            partial.unlink(missing_ok=True)
    return Restored(report.head, report.head_hash, recorded is not None, report.seconds)


def into_postgres(backup: str | Path, dsn: str) -> Restored:
    source = _existing(backup)
    recorded = backups.read_head(source)
    try:
        report = asyncio.run(_into_postgres(source, dsn, recorded))
    except (OSError, asyncpg.PostgresError) as exc:  # unreachable (it says where), refused
        raise RestoreError(f"{source}: not restored: {exc}") from None
    return Restored(report.head, report.head_hash, recorded is not None, report.seconds)


async def _into_postgres(source: Path, dsn: str, recorded: tuple[int, bytes] | None
                         ) -> verify.Report:  # fmt: skip
    store = await PostgresEventStore.open(dsn)
    try:
        async with store.turn() as turn:  # one transaction: all of it or nothing
            if turn.head:
                raise RestoreError(f"the PostgreSQL log at {redacted(dsn)} holds {turn.head} "
                                   "events; restore into an empty schema")  # fmt: skip
            report = await _walk(source, recorded, on_batch=turn.copy_rows)
            _refuse_broken(source, report, recorded)
            await turn.announce()
        return report
    finally:
        await store.close()


def _copy_owner_only(source: Path, target: Path) -> None:
    """``source`` copied to a new ``target`` created ``0600`` (it holds secrets), fsynced."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source, "rb") as reading, os.fdopen(fd, "wb") as writing:
        shutil.copyfileobj(reading, writing, 1 << 20)
        writing.flush()
        os.fsync(writing.fileno())


def _existing(backup: str | Path) -> Path:
    source = Path(backup)
    if not source.is_file():
        raise RestoreError(f"{source}: no such backup file")
    return source


def _refuse_non_empty(target: Path) -> None:
    found = sorted(p.name for p in target.iterdir() if p.name != LOCK_FILE)
    if found:
        listed = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        raise RestoreError(f"data directory {target}: not empty (holds {listed}); restore into "
                           "an empty one")  # fmt: skip


def _refuse_broken(source: Path, report: verify.Report, recorded: tuple[int, bytes] | None
                   ) -> None:  # fmt: skip
    if report.broken is not None:
        raise RestoreError(f"{source}: not restored: broken at position "
                           f"{report.broken.position}: {report.broken.reason}")  # fmt: skip
    if recorded is not None and report.head != recorded[0]:
        raise RestoreError(f"{source}: not restored: it ends at position {report.head}, "
                           f"its .head file at {recorded[0]}")  # fmt: skip


async def _walk(path: Path, recorded: tuple[int, bytes] | None,
                on_batch: Callable[[list[StoredRow]], Awaitable[None]] | None = None
                ) -> verify.Report:  # fmt: skip
    anchors = [verify.Anchor(*recorded, "the backup's .head file")] if recorded else []
    try:
        store = await SQLiteEventStore.open_reader(path)
        try:
            return await verify.verify(store, anchors, on_batch)
        finally:
            await store.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"not a usable backup: {exc}") from None
