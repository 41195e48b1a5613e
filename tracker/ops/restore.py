"""``tracker restore``: a backup made by ``tracker backup`` becomes a data directory's log.

The target must be empty (a restore never replaces a log). The copy is checked before it is
put in place, by the same walk as ``tracker audit verify``: the whole hash chain, and the head
position and hash that ``FILE.head`` recorded (so a truncated or rewritten backup is refused,
not only a damaged one). Only then is it renamed to ``events.sqlite3``; a tracker started on
the directory rebuilds exactly the state the source had at that position.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tracker.audit import verify
from tracker.events.sqlite import SQLiteEventStore
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


def restore(backup: str | Path, data_dir: str | Path) -> Restored:
    source = Path(backup)
    if not source.is_file():
        raise RestoreError(f"{source}: no such backup file")
    target = prepare(data_dir)
    _refuse_non_empty(target)
    with DataDirLock.acquire(target):
        _refuse_non_empty(target)  # again, now that no tracker can start on it
        recorded = backups.read_head(source)
        partial = target / (LOG_FILE + ".restoring")
        try:
            shutil.copyfile(source, partial)
            backups.fsync(partial)
            report = asyncio.run(_verify(partial, recorded))
            if report.broken is not None:
                raise RestoreError(f"{source}: not restored: broken at position "
                                   f"{report.broken.position}: {report.broken.reason}")  # fmt: skip
            if recorded is not None and report.head != recorded[0]:
                raise RestoreError(f"{source}: not restored: it ends at position {report.head}, "
                                   f"its .head file at {recorded[0]}")  # fmt: skip
            partial.rename(target / LOG_FILE)
            backups.fsync(target)
        finally:
            partial.unlink(missing_ok=True)
    return Restored(report.head, report.head_hash, recorded is not None, report.seconds)


def _refuse_non_empty(target: Path) -> None:
    found = sorted(p.name for p in target.iterdir() if p.name != LOCK_FILE)
    if found:
        listed = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        raise RestoreError(f"data directory {target}: not empty (holds {listed}); restore into "
                           "an empty one")  # fmt: skip


async def _verify(path: Path, recorded: tuple[int, bytes] | None) -> verify.Report:
    anchors = [verify.Anchor(*recorded, "the backup's .head file")] if recorded else []
    try:
        store = await SQLiteEventStore.open_reader(path)
        try:
            return await verify.verify(store, anchors)
        finally:
            await store.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"not a usable backup: {exc}") from None
