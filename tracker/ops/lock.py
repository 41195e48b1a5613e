"""One tracker per data directory: an exclusive lock on ``<data_dir>/tracker.lock``.

The lock is ``flock`` on a file held open for the life of the process, so the kernel releases
it when the process ends, however it ends (a crash or SIGKILL included): there is never a stale
lock to clean up. The file names the holder's pid, so a second tracker can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "tracker.lock"


class DataDirError(Exception):
    """The data directory cannot be used: the message names it and says why."""


def prepare(data_dir: str | Path) -> Path:
    """The data directory, created (owner only) if missing; refused if it is not a directory."""
    path = Path(data_dir)
    if path.exists() and not path.is_dir():
        raise DataDirError(f"data directory {path}: is not a directory")
    try:
        # Owner only: the log holds worker, project and webhook secrets and password hashes.
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"data directory {path}: cannot create it: {exc.strerror}") from None
    return path


class DataDirLock:
    """Held from ``acquire`` until ``release`` (or until the process ends)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: str | Path) -> DataDirLock:
        path = prepare(data_dir) / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # creating the lock file is the first write: it proves we can
            raise DataDirError(f"data directory {path.parent}: not writable: {exc.strerror}"
                               ) from None  # fmt: skip
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirError(
                f"data directory {path.parent}: in use by another tracker (pid {holder}, "
                f"holding {path}); stop it or give another data directory"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with the last descriptor of this open file
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
