"""Restarts, checkpoints and heavy reads at scale, for one or several builds of the tracker.

Two logs are generated once (directly through the SQLite adapter, see
``scripts/bench/restart_logs.py``): 2,000,000 bulk-submitted tasks (``--tasks``) and a mixed log
of 10,000,000 events (``--events``); with ``--only batches``, a third: the mixed log's work with
its tasks taken and released in batches of 100 (one ``TasksAssigned`` and one ``TasksReleased``
per batch), whose replay times compare per task with the mixed log's (a build older than the
batch events cannot read it). Each build named with ``--tracker NAME=DIR`` (default:
this tree) is then measured on a copy of each log, only through its command line and HTTP
(``DIR/.venv/bin/python -m tracker.cli``), so an older build runs as well as this one:

- ``tracker serve`` with checkpoints off: seconds to ready (``/readyz`` 200, interpreter start
  included; the replay's own seconds from its log line) and peak RSS, median of ``--runs``;
- the read models' memory: RSS after that replay minus an empty tracker's;
- ``tracker serve`` with checkpoints on and none yet: a full replay, then SIGTERM writes the
  shutdown checkpoint at the head; its size, and the data directory with ``checkpoint.keep``
  (3) such checkpoints, the log and the task history index (built before stopping);
- restarts from that checkpoint: seconds to ready (the load's own seconds) and peak RSS;
- on the last of those servers, time travel (``GET /project/state/1?at=``) to the head (a
  checkpoint is there) and to a middle position (``min(head // 2, 1,500,000)``: from position 0):
  seconds, and the server's peak RSS during the query above its RSS before it;
- ``tracker audit replay`` against the checkpoint: seconds and peak RSS; ``tracker audit
  verify``: events per second.

The OS page cache is warm (the logs were just written or read): the figures are for a restart
on the same machine, not a cold disk. Everything runs in ``--work`` (default a temp directory,
removed at the end unless given).

    python scripts/bench_restart.py --tracker before=/path/to/main --tracker after=.
    python scripts/bench_restart.py --tasks 200000 --events 1000000 --runs 1     # quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench import restart_logs  # noqa: E402
from scripts.bench.report import cpu_model  # noqa: E402

HOST = "127.0.0.1"
TOKEN = "bench-restart-audit-token"
MIB = 1024 * 1024
KEEP = 3  # checkpoint.keep's default
REPLAYED = r"replayed \d+ events in ([\d.]+) s"  # the tracker's log lines at start-up
LOADED = r"loaded the checkpoint at position \d+ in ([\d.]+) s"


@dataclass
class Target:
    name: str
    root: Path

    @property
    def command(self) -> list[str]:
        venv = self.root / ".venv" / "bin" / "python"
        return [str(venv if venv.exists() else sys.executable), "-m", "tracker.cli"]

    def env(self, **settings: str) -> dict[str, str]:
        found = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        found.update(PYTHONPATH=str(self.root), TRACKER_AUDIT_TOKEN=TOKEN,
                     TRACKER_LOG_LEVEL="info", **settings)  # fmt: skip
        return found


@dataclass
class Server:
    """A running ``tracker serve``; its standard error goes to ``log``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_after: float = 0.0
    ready_cpu: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def status(self) -> dict[str, int]:
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) * 1024
        return found

    def cpu(self) -> float:
        """Seconds of CPU the server has used (user and system, all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def lines(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, timeout: float = 600) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
            answer = conn.getresponse()
            return answer.status, json.loads(answer.read() or b"{}")
        finally:
            conn.close()


def machine(targets: Sequence[Target] = ()) -> str:
    load = os.getloadavg()
    builds = ", ".join(f"{t.name} = {t.root} ({commit_of(t.root)})" for t in targets)
    return (f"{os.cpu_count()} CPUs (nproc), {cpu_model()}; Python {sys.version.split()[0]}; "
            f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
            + (f"; builds: {builds}" if builds else ""))  # fmt: skip


async def generate(data_dir: Path, total: int) -> float:
    """The mixed log of ``total`` events in ``data_dir``; seconds taken (for
    ``scripts/bench_backup.py``)."""
    started = time.perf_counter()
    await restart_logs.generate(data_dir / restart_logs.LOG_FILE, "mixed", total)
    return time.perf_counter() - started


def commit_of(root: Path) -> str:
    found = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    return found.stdout.strip() or "no git"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(target: Target, data_dir: Path, **settings: str) -> Iterator[Server]:
    """``tracker serve`` on ``data_dir``, ready; SIGTERM and wait at the end."""
    port, log = free_port(), data_dir.parent / f"serve-{data_dir.name}.log"
    command = [*target.command, "serve", "--host", HOST, "--port", str(port),
               "--data-dir", str(data_dir)]  # fmt: skip
    started = time.perf_counter()
    with open(log, "wb") as errors:
        process = subprocess.Popen(command, env=target.env(**settings), stdout=errors,
                                   stderr=errors, cwd=target.root)  # fmt: skip
    server = Server(process, port, log)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"tracker serve exited {process.returncode}:\n{server.lines()}")
            with contextlib.suppress(OSError, ValueError):
                if server.get("/readyz", timeout=5)[0] == 200:
                    break
            time.sleep(0.02)
        server.ready_after = time.perf_counter() - started
        server.ready_cpu = server.cpu()
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=900)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seconds_in(text: str, pattern: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


def restart(target: Target, data_dir: Path, checkpoints: bool,
            then: Callable[[Server], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Start and stop a tracker; its seconds to ready, RSS, and its own replay and load
    seconds (from its log); ``then(server)`` runs while it serves."""
    with serving(target, data_dir, TRACKER_CHECKPOINT_ENABLED=str(checkpoints).lower()) as s:
        status, text = s.status(), s.lines()
        if then is not None:
            then(s)
    return {"ready": s.ready_after, "cpu": s.ready_cpu, "hwm": status["VmHWM"],
            "rss": status["VmRSS"], "replay": seconds_in(text, REPLAYED),
            "load": seconds_in(text, LOADED)}  # fmt: skip


def time_travel(server: Server, position: int) -> dict[str, Any]:
    """Seconds and the peak RSS the query added to the server (its high-water mark is reset
    first through /proc/PID/clear_refs; where that is refused, RSS is sampled instead)."""
    before = server.status()["VmRSS"]
    try:
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    started, cpu = time.perf_counter(), server.cpu()
    status, body = server.get(f"/project/state/1?at={position}")
    seconds, cpu = time.perf_counter() - started, server.cpu() - cpu
    peak = server.status()["VmHWM"] if reset else before
    return {"seconds": seconds, "cpu": cpu, "added": max(0, peak - before), "status": status,
            "message": body.get("message", ""), "replayed_from": body.get("content", {})
            .get("replayed_from")}  # fmt: skip


def run_cli(target: Target, *args: str) -> dict[str, Any]:
    """A ``tracker`` command: seconds, peak RSS (wait4), exit status, output."""
    started = time.perf_counter()
    process = subprocess.Popen([*target.command, *args], env=target.env(), cwd=target.root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    assert process.stdout is not None
    out = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": time.perf_counter() - started, "peak": usage.ru_maxrss * 1024,
            "cpu": usage.ru_utime + usage.ru_stime,
            "code": process.returncode, "out": out}  # fmt: skip


def wait_for_history_index(server: Server) -> None:
    """Until the task history index has caught up with the log (it is built in the server's
    background after a start; the data directory's size includes it)."""
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        status, _ = server.get("/task/history/1?limit=1")
        if status == 200:
            return
        time.sleep(1)


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Result:
    head: int
    figures: dict[str, Any] = field(default_factory=dict)


def measure(target: Target, log: Path, head: int, work: Path, runs: int) -> Result:
    data = work / target.name / log.parent.name
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    shutil.copyfile(log, data / restart_logs.LOG_FILE)
    result = Result(head)
    figures = result.figures
    empty = work / target.name / "empty"
    shutil.rmtree(empty, ignore_errors=True)
    figures["empty"] = restart(target, empty, True)
    figures["full"] = [restart(target, data, False) for _ in range(runs)]
    with serving(target, data) as server:  # full replay; SIGTERM writes the checkpoint
        wait_for_history_index(server)
    checkpoint = sorted((data / "checkpoints").glob("checkpoint-*.ckpt"))[-1]
    figures["checkpoint"] = checkpoint.stat().st_size
    figures["log"] = (data / restart_logs.LOG_FILE).stat().st_size
    figures["data_dir"] = directory_bytes(data) + (KEEP - 1) * figures["checkpoint"]

    def travels(server: Server) -> None:
        middle = min(head // 2, 1_500_000)
        figures["travel_middle"] = (middle, time_travel(server, middle))
        figures["travel_head"] = (head, time_travel(server, head))

    figures["from_checkpoint"] = [restart(target, data, True) for _ in range(runs - 1)]
    figures["from_checkpoint"].append(restart(target, data, True, travels))
    figures["audit_replay"] = run_cli(target, "audit", "replay", "--data-dir", str(data))
    figures["verify"] = run_cli(target, "audit", "verify", "--data-dir", str(data))
    return result


# -- the table ----------------------------------------------------------------------------


def median(runs: list[dict[str, Any]], key: str) -> float:
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def rows_of(result: Result) -> list[tuple[str, str]]:
    """The table's rows: wall seconds, then CPU seconds in brackets (robust to a busy
    machine), then what the tracker logged of its own replay or load."""
    f = result.figures
    state = median(f["full"], "rss") - f["empty"]["rss"]

    def restarts(runs: list[dict[str, Any]], own: str) -> str:
        return (f"{median(runs, 'ready'):.2f} s ({median(runs, 'cpu'):.2f} s CPU); "
                f"{own} {median(runs, own):.2f} s")  # fmt: skip

    def travel(key: str) -> str:
        position, t = f[key]
        if t["status"] != 200:
            return f"at {position:,}: {t['status']} {t['message'][:60]}"
        return (f"at {position:,} (from {t['replayed_from']:,}): {t['seconds']:.2f} s "
                f"({t['cpu']:.2f} s CPU), +{t['added'] / MIB:,.0f} MiB")  # fmt: skip

    replay, verify = f["audit_replay"], f["verify"]
    match = "MATCH" if "MATCH" in replay["out"] else f"exit {replay['code']}"
    rate = re.search(r"\(([\d,]+) events/s\)", verify["out"])
    return [
        ("read models in memory (RSS after a replay - empty tracker)", f"{state / MIB:,.0f} MiB"),
        ("log", f"{f['log'] / MIB:,.1f} MiB"),
        ("checkpoint file", f"{f['checkpoint'] / MIB:,.1f} MiB"),
        (f"data directory (log, index, {KEEP} checkpoints)", f"{f['data_dir'] / MIB:,.0f} MiB"),
        ("restart, full replay: ready after", restarts(f["full"], "replay")),
        ("restart, full replay: peak RSS", f"{median(f['full'], 'hwm') / MIB:,.0f} MiB"),
        ("restart from the checkpoint: ready after", restarts(f["from_checkpoint"], "load")),
        ("restart from the checkpoint: peak RSS",
         f"{median(f['from_checkpoint'], 'hwm') / MIB:,.0f} MiB"),
        ("audit replay (against the checkpoint): time, peak RSS",
         f"{replay['seconds']:.1f} s ({replay['cpu']:.1f} s CPU), "
         f"{replay['peak'] / MIB:,.0f} MiB, {match}"),
        ("time travel, middle: time, server RSS added", travel("travel_middle")),
        ("time travel, head: time, server RSS added", travel("travel_head")),
        ("audit verify", f"{rate.group(1) if rate else '?'} events/s"),
    ]  # fmt: skip


def table(title: str, results: dict[str, Result]) -> str:
    names = list(results)
    rows = {name: rows_of(result) for name, result in results.items()}
    labels = [label for label, _ in rows[names[0]]]
    width = max(map(len, labels))
    columns = [max(len(name), *(len(v) for _, v in rows[name])) for name in names]
    head = " | ".join(name.ljust(c) for name, c in zip(names, columns, strict=True))
    lines = [title, " " * width + " | " + head]
    for i, label in enumerate(labels):
        cells = [rows[name][i][1].ljust(c) for name, c in zip(names, columns, strict=True)]
        lines.append(label.ljust(width) + " | " + " | ".join(cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracker", action="append", default=[], metavar="NAME=DIR",
                        help="a build (a source tree with its .venv); repeatable")  # fmt: skip
    parser.add_argument("--tasks", type=int, default=2_000_000, help="bulk log: tasks")
    parser.add_argument("--events", type=int, default=10_000_000, help="mixed log: events")
    parser.add_argument(
        "--only",
        default="bulk,mixed",
        help="bulk, mixed, batches (the mixed log's work in batches of 100)",
    )
    parser.add_argument("--runs", type=int, default=3, help="restarts of each kind (median)")
    parser.add_argument("--work", help="where logs and data directories go (kept)")
    args = parser.parse_args()
    targets = [Target(*spec.split("=", 1)) if "=" in spec else Target(Path(spec).name, spec)
               for spec in args.tracker] or [Target("this", ROOT)]  # fmt: skip
    for target in targets:
        target.root = Path(target.root).resolve()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-restart-"))
    print(f"machine: {machine(targets)}")
    try:
        for kind in args.only.split(","):
            size = args.tasks if kind == "bulk" else args.events
            log, head = prepare_log(work, kind, size)
            title = {"bulk": f"\n{kind}: {size:,} tasks bulk-submitted, {head:,} events",
                     "batches": f"\n{kind}: the tasks of mixed's {size:,} events in {head:,}"}.get(
                kind, f"\n{kind}: {head:,} events")  # fmt: skip
            results = {t.name: measure(t, log, head, work, args.runs) for t in targets}
            print(table(title, results), flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def prepare_log(work: Path, kind: str, size: int) -> tuple[Path, int]:
    """The generated log (reused when ``--work`` already holds it) and its head."""
    folder = work / "logs" / f"{kind}-{size}"
    log, done = folder / restart_logs.LOG_FILE, folder / "head"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        started = time.perf_counter()
        head = asyncio.run(restart_logs.generate(log, kind, size))
        done.write_text(str(head))
        print(f"generated the {kind} log: {head:,} events, {log.stat().st_size / MIB:,.0f} MiB, "
              f"in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    return log, int(done.read_text())


if __name__ == "__main__":
    sys.exit(main())
