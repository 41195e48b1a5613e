"""``tracker backup``: a consistent copy of the SQLite log while the tracker serves it.

SQLite's online backup API copies the file in one step, inside one read transaction: the copy
is the log exactly as of one commit (a prefix of it), and in WAL mode the tracker's writer
goes on committing meanwhile (only the WAL cannot be checkpointed past the reader until the
copy is done). The copy is written beside its target and renamed into place once complete
and fsynced, so a FILE that exists is a whole backup. Beside it, ``FILE.head`` records the
head position and hash it holds; ``tracker restore`` checks the copy against it.

For PostgreSQL (once that adapter exists) use ``pg_dump``: see docs/production.md.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tracker.events.store import GENESIS
from tracker.startup.log import LOG_FILE

HEAD_SUFFIX = ".head"
_HEAD = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"


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


def backup(data_dir: str | Path, output: str | Path) -> Backup:
    source = Path(data_dir) / LOG_FILE
    output = Path(output)
    if not source.is_file():
        raise BackupError(f"no event log at {source}")
    if output.exists() or head_file(output).exists():
        raise BackupError(f"{output}: already exists; give a new file name")
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        position, head_hash = _copy(source, partial)
        fsync(partial)
        partial.rename(output)
        fsync(output.parent)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {source} failed: {exc}") from None
    seconds = time.perf_counter() - started
    made = Backup(output, position, head_hash, output.stat().st_size, seconds)
    _write_head(made, source)
    return made


def _copy(source: Path, target: Path) -> tuple[int, bytes]:
    reader = sqlite3.connect(source.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        reader.execute("PRAGMA busy_timeout=5000")
        copy = sqlite3.connect(target)
        try:
            reader.backup(copy)  # pages=-1: all of it in one step, one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            row = copy.execute(_HEAD).fetchone()
        finally:
            copy.close()
    finally:
        reader.close()
    return (int(row[0]), bytes(row[1])) if row else (0, GENESIS)


def _write_head(made: Backup, source: Path) -> None:
    record = {"position": made.position, "hash": made.hash.hex(), "bytes": made.size,
              "source": str(source.absolute()),
              "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    path = head_file(made.path)
    path.write_text(json.dumps(record, indent=2) + "\n")
    fsync(path)


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
