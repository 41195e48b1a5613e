"""The ``tracker`` command run as a user runs it: a separate process, with a clean environment.

``run`` waits for a command to end; ``Serving`` starts ``tracker serve`` on a free port (port 0:
the tracker prints the one it chose) and reads its output files.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
CHEAP = {  # argon2 at its cheapest: registering a manager is not what these tests measure
    "TRACKER_PASSWORDS_ARGON2_TIME_COST": "1",
    "TRACKER_PASSWORDS_ARGON2_MEMORY_COST": "8",
    "TRACKER_PASSWORDS_ARGON2_PARALLELISM": "1",
}


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(CHEAP, **extra)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", *args]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(command(*args), cwd=ROOT, env=env or environment(), text=True,
                          capture_output=True, timeout=timeout)  # fmt: skip


@contextlib.contextmanager
def serving_command(argv: list[str], cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """``argv`` (a ``tracker serve`` command as a unit file or a user writes it) running until
    the block ends, SIGTERM then, exit status 0 checked; its URL once ``/readyz`` says 200."""
    out = cwd / "serving.out"
    with out.open("wb") as stdout:
        server = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"listening on (http://[^\s;]+)", out.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        while status(found.group(1) + "/readyz") != 200:
            assert server.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        yield found.group(1)
    finally:
        server.terminate()
        assert server.wait(timeout=60) == 0, out.read_text()


def status(url: str) -> int:
    """The status of ``GET url`` (urllib: for tests without an event loop)."""
    return fetch(url)[0]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, ""


class Serving:
    """``tracker serve --port 0`` in a child process; ``url`` once it printed its address."""

    def __init__(self, data_dir: Path, out: Path, *args: str, cwd: Path = ROOT, **env: str) -> None:
        self.out, self.err = out.with_suffix(".out"), out.with_suffix(".err")
        with self.out.open("wb") as stdout, self.err.open("wb") as stderr:
            self.process = subprocess.Popen(
                command("serve", "--host", "127.0.0.1", "--port", "0", "--data-dir",
                        str(data_dir), *args),
                cwd=cwd, env=environment(**env), stdout=stdout, stderr=stderr,
            )  # fmt: skip
        self.url = self._address()

    def _address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if found := re.search(r"listening on (http://\S+)", self.out.read_text()):
                return found.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"tracker serve exited: {self.err.read_text()[-3000:]}")
            time.sleep(0.02)
        raise AssertionError("tracker serve printed no address within 60 s")

    async def ready(self, session: aiohttp.ClientSession, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with session.get(self.url + "/readyz") as response:
                if response.status == 200:
                    return
            assert self.process.poll() is None, self.err.read_text()[-3000:]
            await asyncio.sleep(0.02)
        raise AssertionError(f"not ready within {within} s")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()
