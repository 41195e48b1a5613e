"""Backups kept in a directory: ``tracker backup --into DIR --keep N``.

Each backup is named for the time it was made (``tracker-20261202T031500Z.db``, UTC), so names
sort in the order they were made. After a backup is made, the oldest ones beyond the newest
``N`` are removed with their ``.head`` files; files of any other name are never touched, and
nothing is removed when the backup failed.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from tracker.ops.backup import head_file

_NAME = re.compile(r"tracker-\d{8}T\d{6}Z\.db")


def new_name(directory: Path, now: float) -> Path:
    """The backup file to make in ``directory`` at ``now`` (Unix time)."""
    return directory / time.strftime("tracker-%Y%m%dT%H%M%SZ.db", time.gmtime(now))


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups in ``directory``; the ones removed."""
    made = sorted(path for path in directory.iterdir() if _NAME.fullmatch(path.name))
    removed = made[: max(len(made) - keep, 0)]
    for path in removed:
        path.unlink()
        head_file(path).unlink(missing_ok=True)
    return removed
