"""The ``tracker`` command as a user runs it: a separate process, with a clean environment.

``run`` runs one command to its end. ``Server`` is ``tracker serve`` in a child process, for
the tests that need a real process (a signal, a restart on the same data, other commands or
a browser beside it, several nodes on one PostgreSQL log); ``tests/world.py`` serves the app
in the test's own process and is the way for everything else. A ``Server`` has its own data
directory, listens on a free port (``--port 0``: the tracker prints the one it chose, so no
other process can take it first) and keeps that port across restarts, takes settings as
``TRACKER_*`` variables and arguments as given, and keeps each start's standard output and
error in files beside its data directory::

    server = servers.start(env={"TRACKER_AUDIT_TOKEN": token})    # ready: /readyz said 200
    server.url, server.pid, server.stderr, server.lines()
    server.kill(); server.start()          # SIGKILL, then the same data and port again
    server.pause(); server.resume()        # SIGSTOP / SIGCONT
    server.wait_for_line("now runs the scheduler's jobs")
    server.stop()                          # SIGTERM (SIGKILL after a deadline): exit status

A command line of its own (``argv``: a unit file's ``ExecStart``, an installed ``tracker``, a
command as the docs write it) and a working directory of its own (``cwd``) run the same way::

    servers.new("data", argv=[installed, "serve", "--port", "0", ...], cwd=elsewhere).start()

The ``servers`` fixture (tests/conftest.py) starts them in the test's directory, names each
node's data directory after it, and stops whatever is still running when the test ends.
Async tests that keep clients running while a server starts use ``await server.astart()``,
which waits without blocking the event loop. Every child gets argon2 at its cheapest cost
(registering managers is not what these tests measure) and no ``TRACKER_*`` variable of the
test's own environment. ``fetch`` is a plain ``GET`` for tests without an event loop.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import aiohttp

from tests.waiting import eventually, wait_until

ROOT = Path(__file__).resolve().parents[1]
CHEAP_PASSWORDS = {
    "TRACKER_PASSWORDS_ARGON2_TIME_COST": "1",
    "TRACKER_PASSWORDS_ARGON2_MEMORY_COST": "8",
    "TRACKER_PASSWORDS_ARGON2_PARALLELISM": "1",
}
LISTENING = re.compile(r"listening on (http://\S+)")
START_WITHIN = 60.0  # seconds from the command to /readyz 200 (a loaded CI machine)
STOP_WITHIN = 30.0  # seconds from SIGTERM to the exit, before SIGKILL
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without ``TRACKER_*`` variables, cheap passwords, ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(CHEAP_PASSWORDS, **extra)
    return env


def command(*args: str) -> list[str]:
    """``tracker ARGS...`` as this interpreter runs it."""
    return [sys.executable, "-m", "tracker.cli", *args]


def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 120,
        cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``tracker ARGS...`` to its end; its output as text."""
    return subprocess.run(command(*args), cwd=cwd, env=dict(env or environment()), text=True,
                          capture_output=True, timeout=timeout)  # fmt: skip


def fetch(url: str, timeout: float = 10) -> tuple[int, str]:
    """``GET url`` without an event loop (and never through a proxy): the status and the body
    as text, a 4xx or 5xx answer included; an unreachable server raises ``URLError``."""
    try:
        with _DIRECT.open(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.read().decode(errors="replace")


class Server:
    """``tracker serve`` in a child process (see the module's docstring)."""

    def __init__(self, data_dir: Path, *args: str, database: str | None = None,
                 env: Mapping[str, str] | None = None, name: str = "serve",
                 argv: Sequence[str] = (), cwd: Path | None = None) -> None:  # fmt: skip
        """``argv``, if given, is the whole command line instead of the ``tracker serve ...``
        made from the other arguments (the docs test runs commands as the docs write them, a
        unit's test its ``ExecStart``): it must serve ``data_dir`` on the port it prints. It
        runs in ``cwd``, by default ``data_dir``'s parent directory (where its output files
        go in any case)."""
        self.data_dir = data_dir
        self.cwd = cwd or data_dir.parent
        self.database = database
        self.args = args
        self.argv = list(argv)
        self.env = dict(env or {})
        self.name = name
        self.port = 0  # until the first start has printed its address
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.paused = False

    # --- what it is -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.port, f"{self.name} has not started yet"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} has not started yet"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _file(self, suffix: str) -> Path:
        return self.data_dir.parent / f"{self.name}.{self.starts}.{suffix}"

    @property
    def stdout(self) -> str:
        """What this start printed on standard output so far."""
        return self._file("out").read_text(errors="replace") if self.starts else ""

    @property
    def stderr(self) -> str:
        """What this start wrote on standard error so far (its log lines)."""
        return self._file("err").read_text(errors="replace") if self.starts else ""

    def lines(self) -> list[str]:
        """This start's standard error, line by line."""
        return self.stderr.splitlines()

    def wait_for_line(self, text: str, within: float = START_WITHIN) -> str:
        """The first line of this start's standard error that contains ``text``."""
        return wait_until(lambda: self._line(text), within=within, what=f"{self.name}: {text!r}")

    async def line(self, text: str, within: float = START_WITHIN) -> str:
        """``wait_for_line`` without blocking the event loop."""
        return await eventually(lambda: self._line(text), within=within,
                                what=f"{self.name}: {text!r}")  # fmt: skip

    def _line(self, text: str) -> str | None:
        found = next((line for line in self.lines() if text in line), None)
        if found is None:
            self._still_running()
        return found

    def _still_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with status {self.process.returncode}: "
                                 f"{self.stderr[-3000:]}")  # fmt: skip

    # --- starting -------------------------------------------------------------------------

    def launch(self) -> Server:
        """Start the process and return at once (``started``/``ready`` wait for it)."""
        assert not self.running(), f"{self.name} is already running"
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.paused = False
        argv = self.argv or command(*self._serve_args())
        env = environment(**self.env)
        with self._file("out").open("wb") as out, self._file("err").open("wb") as err:
            # A session of its own: a node stopped with SIGSTOP must not be sent SIGHUP (and
            # SIGCONT) by the kernel when the run's process group is orphaned (its shell exits).
            self.process = subprocess.Popen(argv, cwd=self.cwd, env=env, stdout=out, stderr=err,
                                            start_new_session=True)  # fmt: skip
        return self

    def _serve_args(self) -> list[str]:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir), *self.args]  # fmt: skip
        return [*args, "--database", self.database] if self.database else args

    def start(self, within: float = START_WITHIN) -> Server:
        """Start and wait until it is ready (``GET /readyz`` answers 200)."""
        self.launch()
        wait_until(self._ready, within=within, every=0.02, what=f"{self.name} ready")
        return self

    async def astart(self, within: float = START_WITHIN) -> Server:
        """``start`` without blocking the event loop."""
        self.launch()
        await self.ready(within)
        return self

    async def ready(self, within: float = START_WITHIN) -> None:
        """Wait until ``GET /readyz`` answers 200, without blocking the event loop."""
        async with aiohttp.ClientSession() as session:

            async def ready() -> bool:
                if not self.listening():
                    return False
                try:
                    async with session.get(self.url + "/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, within=within, every=0.02, what=f"{self.name} ready")

    def listening(self) -> bool:
        """Whether it printed the address it listens on (fails if it exited instead)."""
        self._still_running()
        found = LISTENING.search(self.stdout)
        if found and not self.port:
            self.port = int(found.group(1).rsplit(":", 1)[1])
        return found is not None

    def _ready(self) -> bool:
        if not self.listening():
            return False
        try:
            return fetch(self.url + "/readyz", timeout=5)[0] == 200
        except OSError:  # not accepting yet (URLError is an OSError)
            return False

    # --- stopping -------------------------------------------------------------------------

    def stop(self, within: float = STOP_WITHIN) -> int:
        """SIGTERM (SIGKILL if it is still running after ``within`` seconds): its exit status."""
        if not self.running():
            return self.wait()
        self.signal(signal.SIGTERM)
        if self.paused:
            self.resume()  # a stopped process acts on SIGTERM once it runs again
        try:
            return self.wait(within)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int:
        """SIGKILL, at once: its exit status (-9)."""
        if self.running():
            self.signal(signal.SIGKILL)
        return self.wait()

    def restart(self, within: float = START_WITHIN) -> Server:
        """SIGTERM, then start again on the same data directory, log and port."""
        self.stop()
        return self.start(within)

    def pause(self) -> None:
        """SIGSTOP: the process stops, its socket and connections stay open (a frozen node)."""
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT after ``pause``."""
        self.signal(signal.SIGCONT)
        self.paused = False

    def signal(self, signum: int) -> None:
        assert self.process is not None, f"{self.name} has not started yet"
        self.process.send_signal(signum)

    def wait(self, within: float | None = STOP_WITHIN) -> int:
        """Its exit status once it has ended (raises ``TimeoutExpired`` after ``within``)."""
        assert self.process is not None, f"{self.name} has not started yet"
        return self.process.wait(within)

    # --- its log --------------------------------------------------------------------------

    @property
    def log(self) -> list[str]:
        """The options that name its log to the other commands: ``--database DSN`` or
        ``--data-dir DIR`` (with the log in PostgreSQL, they refuse ``--data-dir``)."""
        if self.database:
            return ["--database", self.database]
        return ["--data-dir", str(self.data_dir)]

    def events(self) -> list[dict]:
        """The whole log as ``tracker events export`` prints it (works while it serves)."""
        done = run("events", "export", *self.log)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


class Servers:
    """``tracker serve`` processes of one test, in its directory; ``stop_all`` at its end."""

    def __init__(self, where: Path) -> None:
        self.where = where
        self.started: list[Server] = []

    def new(self, name: str = "serve", *args: str, database: str | None = None,
            env: Mapping[str, str] | None = None, argv: Sequence[str] = (),
            cwd: Path | None = None) -> Server:  # fmt: skip
        """A server not started yet: data in ``<test dir>/<name>/``, output beside it; it runs
        in the test's directory unless ``cwd`` says otherwise (``Server`` for ``argv``)."""
        server = Server(self.where / name, *args, database=database, env=env, name=name,
                        argv=argv, cwd=cwd)  # fmt: skip
        self.started.append(server)
        return server

    def start(self, name: str = "serve", *args: str, database: str | None = None,
              env: Mapping[str, str] | None = None, argv: Sequence[str] = (),
              cwd: Path | None = None) -> Server:  # fmt: skip
        return self.new(name, *args, database=database, env=env, argv=argv, cwd=cwd).start()

    def __iter__(self) -> Iterator[Server]:
        return iter(self.started)

    def stop_all(self) -> None:
        for server in self.started:
            if server.process is not None:
                server.stop()
