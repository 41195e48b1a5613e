"""A worker identity kept in a file only its owner can read (``0600``).

The file holds JSON ``{"id", "secret", "url", "alias"}``. It is created once, atomically (two
workers starting together end up sharing one identity, not making two), and refused when
group or others may read it, as ``ssh`` refuses a readable key.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from tracker.client import errors
from tracker.client.aio import AsyncClient
from tracker.client.session import WorkerIdentity


def default_path(url: str) -> Path:
    """``$XDG_CONFIG_HOME/tracker/worker-<host>-<port>.json``: one identity per server."""
    parts = urlsplit(url)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    name = f"worker-{parts.hostname}-{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return base / "tracker" / f"{name}.json"


def read(path: Path) -> WorkerIdentity | None:
    """The identity stored at ``path``, or ``None`` if there is no file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if mode & 0o077:
            raise errors.UsageError(
                f"{path} holds a worker secret but is readable by others "
                f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
            )
        try:
            data = json.loads(file.read())
            return WorkerIdentity(id=int(data["id"]), secret=str(data["secret"]))
        except (ValueError, KeyError, TypeError):
            raise errors.UsageError(f"{path} is not a worker identity file") from None


def write(path: Path, identity: WorkerIdentity, url: str, alias: str) -> WorkerIdentity:
    """Store ``identity`` at ``path`` unless a file is already there; return the one kept."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            record = {"id": identity.id, "secret": identity.secret, "url": url, "alias": alias}
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # fails if another process stored one first
    finally:
        temporary.unlink(missing_ok=True)
    kept = read(path)
    assert kept is not None
    return kept


async def ensure(path: Path, client: AsyncClient, alias: str = "") -> WorkerIdentity:
    """The identity in ``path``, creating a worker (and the file) the first time."""
    found = read(path)
    if found is not None:
        return found
    worker = await client.create_worker(alias)
    if worker.secret is None:
        raise errors.ProtocolError("/worker/create answered without a secret")
    created = WorkerIdentity(id=worker.id, secret=worker.secret)
    return write(path, created, client.url, alias)
