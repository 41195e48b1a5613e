"""The server under test: a real ``tracker serve`` process pinned to one core."""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


class ServerError(RuntimeError):
    """The server did not start, answer or stop as expected."""


def default_command() -> list[str]:
    """The ``tracker`` console script of this interpreter's venv, else PATH's."""
    beside = Path(sys.executable).parent / "tracker"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("tracker")
    if found is None:
        raise ServerError("no `tracker` command: install the project (pip install -e .)")
    return [found]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pinned(cmd: list[str], core: int | None) -> list[str]:
    return cmd if core is None else ["taskset", "-c", str(core), *cmd]


def answers(port: int, timeout: float = 1.0) -> bool:
    """True when ``GET /`` returns 200."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def rss_bytes(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of pid plus the VmRSS of its direct children."""
    out = {"rss": 0, "hwm": 0, "children_rss": 0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out["rss" if key == "VmRSS" else "hwm"] = int(value.split()[0]) * 1024
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                status = (stat.parent / "status").read_text()
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        out["children_rss"] += int(line.split()[1]) * 1024
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of pid (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def core_busy_seconds(core: int | None) -> float:
    """Non-idle time of one core (or all cores if None) since boot, from /proc/stat."""
    name = "cpu" if core is None else f"cpu{core}"
    for line in Path("/proc/stat").read_text().splitlines():
        parts = line.split()
        if parts[0] == name:
            ticks = [int(x) for x in parts[1:9]]  # user nice system idle iowait irq softirq steal
            return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK
    return 0.0


class CpuWatch:
    """How much of its core the server used, and how much everything else did."""

    def __init__(self, pid: int, core: int | None) -> None:
        self.pid, self.core = pid, core
        self.t0 = time.perf_counter()
        self.server0 = cpu_seconds(pid)
        self.core0 = core_busy_seconds(core)

    def shares(self) -> dict[str, float]:
        wall = max(time.perf_counter() - self.t0, 1e-9)
        server = cpu_seconds(self.pid) - self.server0
        busy = core_busy_seconds(self.core) - self.core0
        return {
            "server_cpu_share": round(server / wall, 3),
            "core_other_share": round(max(busy - server, 0.0) / wall, 3),
        }


class Server:
    """One ``tracker serve`` process on a fixed data dir; restartable."""

    def __init__(
        self, command: list[str], data_dir: Path, core: int | None, env: dict[str, str]
    ) -> None:
        self.command = command
        self.env = env
        self.data_dir = data_dir
        self.core = core
        self.port = free_port()
        self.log_path = data_dir.parent / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ServerError("server is not running")
        return self.proc.pid

    def start(self, extra_env: dict[str, str] | None = None) -> float:
        """Start the process; return seconds until ``GET /`` answered 200.

        Environment: ours, ``TRACKER_LOG_LEVEL=warning``, the server's env, then extra_env.
        """
        if self.proc is not None:
            raise ServerError("server already running")
        args = ["serve", "--host", HOST, "--port", str(self.port), "--data-dir", str(self.data_dir)]
        env = {**os.environ, "TRACKER_LOG_LEVEL": "warning", **self.env, **(extra_env or {})}
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts}: {shlex.join(self.command + args)}\n".encode())
            log.flush()
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                pinned(self.command + args, self.core),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        return self._wait_ready(t0)

    def _wait_ready(self, t0: float) -> float:
        while time.perf_counter() - t0 < READY_TIMEOUT_S:
            if self.proc is not None and self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise ServerError(f"server exited with {code} before answering:\n{self.log_tail()}")
            if answers(self.port, timeout=0.5):
                return time.perf_counter() - t0
            time.sleep(0.005)
        self.stop()
        raise ServerError(f"server did not answer GET / within {READY_TIMEOUT_S:.0f} s")

    def stop(self) -> float | None:
        """SIGTERM the process group; SIGKILL after a grace period. Returns seconds."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None
        t0 = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return time.perf_counter() - t0

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@contextlib.contextmanager
def running_server(
    command: list[str], core: int | None, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A started server on a fresh temp dir; always stopped and removed after."""
    tmp = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    data = tmp / "data"
    data.mkdir()
    server = Server(command, data, core, env or {})
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
