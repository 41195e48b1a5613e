#!/usr/bin/env python3
"""Tasks closed per second by the worker loop (``tracker.client.Worker``, which ``tracker work``
runs) with a no-op handler, with batches and without, next to the server's own full-cycle
figure (``scripts/bench.py --only cycle``, wrk).

    python scripts/bench_worker.py [--tasks 20000] [--concurrency 8] [--runs 3] [--no-cycle]
                                   [--batches on|off (repeatable; default both)]

A real ``tracker serve`` on core 0 (taskset), this script on core 1, a fresh data dir per
run. Each run preloads ``--tasks`` tasks with bulk submits, then times one worker loop
(``until_empty``) from its start until the queue is empty, and checks with the server that
every task was closed. Handlers: ``async`` (an ``async def`` that returns at once) and
``thread`` (a plain function, run in a thread as the loop runs them). ``--batches on``: the
tracker as it ships, so the loop takes as many tasks as it has free slots per
``/task/bulk_get`` and releases in ``/task/bulk_release``; ``off``: the same tracker with
``tasks.max_batch_size`` 0, so the loop falls back to one ``/task/get`` and one
``/task/release`` per task, as against the original. The cycle figure is 64 wrk connections
doing GET /task/get + POST /task/release in Lua: the server's ceiling for one task per
request, with no Python client in the way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from bench.server import CpuWatch, default_command, running_server  # noqa: E402

from tracker.client import Client, NewTask, ProjectSettings, identity  # noqa: E402
from tracker.client.session import WorkerIdentity  # noqa: E402
from tracker.client.worker import Worker  # noqa: E402

SERVER_CORE, CLIENT_CORE = 0, 1
CHEAP = {"TRACKER_PASSWORDS_ARGON2_TIME_COST": "1", "TRACKER_PASSWORDS_ARGON2_MEMORY_COST": "8",
         "TRACKER_PASSWORDS_ARGON2_PARALLELISM": "1"}  # fmt: skip


def prepare(url: str, tasks: int) -> tuple[int, WorkerIdentity]:
    with Client(url) as admin:
        admin.register("bench", "password1")
        project = admin.create_project(ProjectSettings(name="bench"))
        worker = admin.create_worker("bench")
        assert worker.secret is not None
        me = WorkerIdentity(worker.id, worker.secret)
        with Client(url, worker=me) as submitter:
            submitter.request_access(project, assign=True, submit=True)
            admin.accept_request(project, me.id)
            for start in range(0, tasks, 5000):
                count = min(5000, tasks - start)
                submitter.bulk_submit([NewTask(project=project, recipe=f"t{start + i}")
                                       for i in range(count)])  # fmt: skip
    return project, me


async def _nothing(task: object) -> None:
    return None


def _nothing_sync(task: object) -> None:
    return None


WITHOUT_BATCHES = {"TRACKER_TASKS_MAX_BATCH_SIZE": "0", "TRACKER_TASKS_MAX_KEEP_ALIVE": "0"}


def one_run(tasks: int, concurrency: int, handler: str, batches: bool) -> dict:
    env = CHEAP if batches else {**CHEAP, **WITHOUT_BATCHES}
    with running_server(default_command(), SERVER_CORE, env) as server:
        project, me = prepare(server.url, tasks)
        path = Path(tempfile.mkdtemp(prefix="bench-worker-")) / "identity.json"
        identity.write(path, me, server.url, "bench")
        worker = Worker(server.url, project, identity_file=path, concurrency=concurrency,
                        until_empty=True, request_access=False)  # fmt: skip
        watch = CpuWatch(server.pid, SERVER_CORE)
        started, cpu = time.perf_counter(), time.process_time()
        summary = asyncio.run(worker.serve(_nothing if handler == "async" else _nothing_sync))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        shares = watch.shares()
        with Client(server.url) as anyone:
            left = anyone.get_project(project)  # still there
            closed = sum(s.closed_task_count for s in anyone.worker_stats())
        assert left.id == project
        return {
            "closed_per_s": round(summary.closed / seconds, 1),
            "client_cpu_us_per_task": round(cpu / max(summary.closed, 1) * 1e6, 1),
            "closed": summary.closed, "closed_by_server": closed, "seconds": round(seconds, 2),
            "all_closed": closed == tasks == summary.closed, **shares,
        }  # fmt: skip


def server_cycle(duration: float) -> float | None:
    """The median of ``scripts/bench.py --only cycle`` (one run), or None if it failed."""
    out = Path(tempfile.mkdtemp(prefix="bench-cycle-")) / "cycle.json"
    command = [sys.executable, str(ROOT / "scripts" / "bench.py"), "--only", "cycle",
               "--runs", "1", "--duration", str(duration), "--json", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if not out.exists():
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
        return None
    return float(json.loads(out.read_text())["results"]["cycle"]["median"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=20_000)
    p.add_argument("--concurrency", type=int, action="append", help="repeatable (default 8)")
    p.add_argument("--handler", choices=["async", "thread"], action="append",
                   help="repeatable (default both)")  # fmt: skip
    p.add_argument("--batches", choices=["on", "off"], action="append",
                   help="repeatable (default both)")  # fmt: skip
    p.add_argument("--runs", type=int, default=3, help="median of N runs")
    p.add_argument("--cycle-duration", type=float, default=5.0)
    p.add_argument("--no-cycle", action="store_true", help="skip the server's cycle figure")
    args = p.parse_args(argv)
    os.sched_setaffinity(0, {CLIENT_CORE})
    rows = []
    for concurrency in args.concurrency or [8]:
        for handler in args.handler or ["async", "thread"]:
            for batches in args.batches or ["on", "off"]:
                runs = [one_run(args.tasks, concurrency, handler, batches == "on")
                        for _ in range(args.runs)]  # fmt: skip
                median = statistics.median(r["closed_per_s"] for r in runs)
                ok = all(r["all_closed"] for r in runs)
                share = max(r["server_cpu_share"] for r in runs)
                client = statistics.median(r["client_cpu_us_per_task"] for r in runs)
                rows.append((
                    f"worker loop, {handler} no-op, concurrency {concurrency}, batches {batches}",
                    median, ok, f"server cpu {share:.0%}; client cpu {client:.0f} us/task; "
                    f"runs {[r['closed_per_s'] for r in runs]}",
                ))  # fmt: skip
    if not args.no_cycle:
        cycle = server_cycle(args.cycle_duration)
        rows.append(("server cycle (wrk, 64 connections)", cycle or 0.0, cycle is not None,
                     "scripts/bench.py --only cycle --runs 1"))  # fmt: skip
    print(
        f"{os.cpu_count()} cpus (shared with other work: figures are noisy); "
        f"server on core {SERVER_CORE}, client on core {CLIENT_CORE}; {args.tasks} tasks"
    )
    for name, value, ok, note in rows:
        print(f"{name:<62} {value:>9.0f} tasks/s  {'ok' if ok else 'CHECK FAILED'}  {note}")
    return 0 if all(ok for _, _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
