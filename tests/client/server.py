"""``tracker serve`` in a child process on a real SQLite file, for the client's tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tracker.client import Backoff, Client, ClientError

ROOT = Path(__file__).resolve().parents[2]
CHEAP_PASSWORDS = {
    "TRACKER_PASSWORDS_ARGON2_TIME_COST": "1",
    "TRACKER_PASSWORDS_ARGON2_MEMORY_COST": "8",
    "TRACKER_PASSWORDS_ARGON2_PARALLELISM": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(CHEAP_PASSWORDS, **extra)
    return env


class Server:
    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"server-{self.port}.log"
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        command = [sys.executable, "-m", "tracker.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--data-dir", str(self.data_dir)]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment(**self.settings), stdout=log, stderr=log
            )
        probe = Client(self.url, backoff=Backoff(attempts=1))
        for _ in range(600):
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                probe.info()
                probe.close()
                return self
            except ClientError:
                time.sleep(0.05)
        raise AssertionError("the server did not start within 30 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def events(self) -> list[dict]:
        """The whole log, through ``tracker events export`` (works while it runs)."""
        done = subprocess.run(
            [sys.executable, "-m", "tracker.cli", "events", "export", "--data-dir",
             str(self.data_dir)],
            cwd=ROOT, env=environment(), capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
