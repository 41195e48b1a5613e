"""A PostgreSQL server of the fault tests' own, which they may stop, restart and starve.

The shared server at 127.0.0.1:5432 serves every other test (and other people): a scenario
that restarts PostgreSQL or terminates sessions must never touch it. ``OwnPostgres.create``
makes a cluster with ``initdb`` in a temporary directory (as the ``postgres`` user when run
as root, which ``initdb`` refuses), starts it with ``pg_ctl`` on a free port of 127.0.0.1
with trust auth, and ``destroy`` stops it and removes the directory::

    server = OwnPostgres.create()
    dsn = server.dsn("scenario_1")          # postgresql://postgres@127.0.0.1:PORT/postgres?...
    server.stop(); server.start()           # a restart (pg_ctl stop -m fast, then start)
    server.destroy()

Without PostgreSQL's binaries, ``find_binaries`` raises ``FileNotFoundError`` naming where it
looked.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

#: Where Debian (and the image's own build) put initdb and pg_ctl.
SEARCHED = ("/usr/lib/postgresql/*/bin", "/usr/local/bin", "/usr/local/pgsql/bin")


def find_binaries() -> Path:
    """The directory that holds ``initdb`` and ``pg_ctl`` (the newest version first)."""
    for pattern in SEARCHED:
        for directory in sorted(glob.glob(pattern), reverse=True):
            if all((Path(directory) / name).exists() for name in ("initdb", "pg_ctl")):
                return Path(directory)
    raise FileNotFoundError(f"no initdb and pg_ctl in {', '.join(SEARCHED)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnPostgres:
    """A PostgreSQL cluster in a temporary directory (see the module's docstring)."""

    def __init__(self, root: Path, binaries: Path, port: int) -> None:
        self.root = root
        self.binaries = binaries
        self.port = port
        self.data = root / "data"
        self.starts = 0

    @classmethod
    def create(cls) -> OwnPostgres:
        root = Path(tempfile.mkdtemp(prefix="tracker-faults-pg-"))
        server = cls(root, find_binaries(), free_port())
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
            shutil.chown(root, user="postgres")
        server._run("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust",
                    "--no-sync", "-E", "UTF8")  # fmt: skip
        server.start()
        return server

    def dsn(self, schema: str, **settings: str) -> str:
        """A DSN of this server's ``postgres`` database whose ``search_path`` is ``schema``;
        ``settings`` (``application_name=...``) are sent as server settings."""
        query = "&".join(f"{k}={v}" for k, v in {"search_path": schema, **settings}.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?{query}"

    def start(self) -> None:
        """Start it and wait until it accepts connections."""
        self.starts += 1
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-o", options,
                  "-l", str(self.root / f"server.{self.starts}.log"))  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m MODE``: ``fast`` ends every session and checkpoints, ``immediate``
        is a crash (recovery at the next start)."""
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode)

    def running(self) -> bool:
        found = subprocess.run(self._as_owner("pg_ctl", "status", "-D", str(self.data)),
                               capture_output=True, text=True)  # fmt: skip
        return found.returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _as_owner(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.binaries / tool), *args]
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self._as_owner(tool, *args), capture_output=True, text=True,
                              timeout=120, cwd=self.root)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)}: {done.stderr.strip() or done.stdout}")
