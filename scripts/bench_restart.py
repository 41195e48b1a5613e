"""Restart time with millions of events in the log, with and without a checkpoint, and the
speed of ``tracker audit verify``.

The log is generated directly through the SQLite adapter (HTTP would take hours): real
events in the proportions of a busy tracker, appended in batches with their hash chain. With
the default 10,000,000 events: 10 projects, 100 workers, 4,000,000 tasks submitted, 3,000,000
of them assigned and closed, so 1,000,000 tasks are queued at the end. A checkpoint is written
``--tail`` events before the head (a restart then loads it and replays the tail, as after a
crash between checkpoints).

Each restart runs in a fresh process (``bootstrap.open_tracker``, as ``tracker serve`` starts)
and reports the time to a ready tracker; the medians of several runs are printed with the
machine. The OS page cache is warm (the file was just written or read): the figures are for
a restart on the same machine, not a cold disk.

    python scripts/bench_restart.py                      # 10M events, about 10 minutes
    python scripts/bench_restart.py --events 1000000     # quicker

Run it from a clean copy of the code (``git archive HEAD | tar -x -C /tmp/src``): a
checkpoint is only used by the same read-model code that wrote it, so editing projections
while it runs makes the restarts fall back to full replays (it then stops with an error).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker import bootstrap, config  # noqa: E402
from tracker.checkpoints.directory import Checkpoints  # noqa: E402
from tracker.events import managers, projects, tasks, workers  # noqa: E402
from tracker.events.base import SYSTEM, Event, manager_actor, worker_actor  # noqa: E402
from tracker.events.reading import row_at  # noqa: E402
from tracker.events.sqlite import SQLiteEventStore  # noqa: E402
from tracker.startup.log import LOG_FILE  # noqa: E402
from tracker.startup.replay import read_models  # noqa: E402

PROJECTS, WORKERS, BATCH = 10, 100, 50_000
T0 = 1_700_000_000.0


def settings_for(data_dir: Path, checkpoints: bool = True) -> config.Settings:
    return config.build({"database": {"data_dir": str(data_dir)},
                        "checkpoint": {"enabled": checkpoints}})  # fmt: skip


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs (nproc), {model}; Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")  # fmt: skip


# -- the log ----------------------------------------------------------------------------------


def setup_events() -> list[Event]:
    found: list[Event] = [managers.ManagerRegistered(
        at=T0, actor=SYSTEM, manager_id=1, username="admin", password_hash="$argon2id$x",
        tracker_admin=True)]  # fmt: skip
    for p in range(1, PROJECTS + 1):
        found.append(projects.ProjectCreated(
            at=T0, actor=manager_actor(1), project_id=p, name=f"project {p}", clone_url="",
            git_repo="", version="1", priority=0, motd="", public=True, hidden=False, chain=0,
            assign_rate=0.0, submit_rate=0.0, webhook_secret="x" * 36, creator=1))  # fmt: skip
    for w in range(1, WORKERS + 1):
        found.append(workers.WorkerCreated(at=T0, actor=SYSTEM, worker_id=w, alias=f"w{w}",
                                           secret=os.urandom(32)))  # fmt: skip
    return found


def work_events(total: int) -> Iterator[list[Event]]:
    """Blocks of events: each submits tasks and closes the oldest queued ones, 4:3."""
    submitted, closed, clock = 0, 0, T0 + 1
    oldest = {p: p for p in range(1, PROJECTS + 1)}  # task i belongs to project (i-1)%P + 1
    per_block = 700_000
    emitted = 0
    while emitted < total:
        size = min(per_block, total - emitted)
        n_submit = size * 4 // 10
        n_close = (size - n_submit) // 2
        block: list[Event] = []
        for _ in range(n_submit):
            submitted += 1
            clock += 0.001
            block.append(tasks.TaskSubmitted(
                at=clock, actor=worker_actor(submitted % WORKERS + 1), task_id=submitted,
                project_id=(submitted - 1) % PROJECTS + 1, recipe=f"recipe {submitted} " + "x" * 40,
                priority=0, max_retries=3, max_assign_time=300, verification_count=1))  # fmt: skip
        for _ in range(n_close):
            project = closed % PROJECTS + 1
            task_id, worker = oldest[project], closed % WORKERS + 1
            oldest[project] += PROJECTS
            closed += 1
            clock += 0.001
            block.append(tasks.TaskAssigned(at=clock, actor=worker_actor(worker), task_id=task_id,
                                            project_id=project, worker_id=worker,
                                            deadline=clock + 300))  # fmt: skip
            block.append(tasks.TaskReleased(at=clock, actor=worker_actor(worker), task_id=task_id,
                                            project_id=project, worker_id=worker, result=0,
                                            outcome=tasks.Outcome.CLOSED))  # fmt: skip
        while len(block) < size:  # fill an odd remainder with submissions
            submitted += 1
            block.append(tasks.TaskSubmitted(
                at=clock, actor=worker_actor(1), task_id=submitted,
                project_id=(submitted - 1) % PROJECTS + 1, recipe=f"recipe {submitted}",
                priority=0, max_retries=3, max_assign_time=300, verification_count=1))  # fmt: skip
        emitted += len(block)
        yield block


async def generate(data_dir: Path, total: int) -> float:
    store = await SQLiteEventStore.open(data_dir / LOG_FILE)
    started = time.perf_counter()
    try:
        head = await store.append(setup_events(), 0)
        for block in work_events(total - head):
            for start in range(0, len(block), BATCH):
                head = await store.append(block[start : start + BATCH], head)
            print(f"  {head:,} events written", file=sys.stderr)
    finally:
        await store.close()
    return time.perf_counter() - started


async def write_checkpoint(data_dir: Path, position: int) -> dict:
    """Replay up to ``position`` here, then write the checkpoint as the tracker would."""
    from tracker.audit.replay import replay_into

    settings = settings_for(data_dir)
    reader = await SQLiteEventStore.open_reader(data_dir / LOG_FILE)
    try:
        state = read_models(settings)
        gc.disable()
        await replay_into(state, reader, position)
        gc.enable()
        gc.freeze()

        async def anchor(at: int) -> bytes:
            row = await row_at(reader, at)
            assert row is not None
            return row.hash

        checkpoints = Checkpoints.of(settings)
        on_loop = Checkpoints(data_dir / "on-loop", checkpoints.fingerprint, 1, fork=False)
        here = await on_loop.write(state, anchor)
        shutil.rmtree(on_loop.directory)
        shutil.rmtree(checkpoints.directory, ignore_errors=True)
        written = await checkpoints.write(state, anchor)  # forked, as the tracker does
        assert written is not None and here is not None
        return {"position": written.position, "bytes": written.size, "pause": written.pause,
                "seconds": written.seconds, "copied": written.copied,
                "live_tasks": len(state.tasks.tasks), "pause_on_loop": here.pause,
                "seconds_on_loop": here.seconds}  # fmt: skip
    finally:
        await reader.close()


# -- measurements -----------------------------------------------------------------------------


async def child(data_dir: Path, checkpoints: bool) -> None:
    loaded: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: loaded.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("tracker.checkpoints").addHandler(handler)
    logging.getLogger("tracker.checkpoints").setLevel(logging.INFO)
    started = time.perf_counter()
    tracker = await bootstrap.open_tracker(settings_for(data_dir, checkpoints))
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "seconds": seconds, "position": tracker.state.position, "rss_mb": rss,
        "live_tasks": len(tracker.state.tasks.tasks), "checkpoint": loaded,
    }))  # fmt: skip
    await tracker.store.close()


def restart(data_dir: Path, checkpoints: bool) -> dict:
    command = [sys.executable, __file__, "--child", "--data-dir", str(data_dir)]
    if not checkpoints:
        command.append("--no-checkpoints")
    started = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    found = json.loads(out.strip().splitlines()[-1])
    found["process_seconds"] = time.perf_counter() - started
    return dict(found)


def verify_rate(data_dir: Path) -> tuple[float, float]:
    command = [sys.executable, "-m", "tracker.cli", "audit", "verify", "--data-dir", str(data_dir)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    match = re.search(r"checked (\d+) events in ([\d.]+) s", out)
    assert match and "INTACT" in out, out
    return int(match.group(1)) / float(match.group(2)), float(match.group(2))


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--tail", type=int, default=100_000, help="events after the checkpoint")
    parser.add_argument("--runs", type=int, default=5, help="restarts with a checkpoint")
    parser.add_argument("--full-runs", type=int, default=2, help="restarts replaying everything")
    parser.add_argument("--verify-runs", type=int, default=3)
    parser.add_argument("--data-dir", help="reuse or keep the generated log here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-checkpoints", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(Path(args.data_dir), not args.no_checkpoints))
        return 0
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="bench-restart-"))
    try:
        return run(args, data_dir)
    finally:
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, data_dir: Path) -> int:
    print(f"machine: {machine()}")
    log_file = data_dir / LOG_FILE
    if not log_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        seconds = asyncio.run(generate(data_dir, args.events))
        print(f"generated {args.events:,} events in {seconds:.0f} s "
              f"({log_file.stat().st_size / 2**30:.2f} GiB log)")  # fmt: skip
    written = asyncio.run(write_checkpoint(data_dir, args.events - args.tail))
    print(f"checkpoint at position {written['position']:,} ({written['live_tasks']:,} live tasks):"
          f" {written['bytes'] / 2**20:.0f} MiB; forked writer: event loop paused "
          f"{written['pause'] * 1000:.0f} ms, durable after {written['seconds']:.2f} s, the child "
          f"copied {written['copied'] / 2**20:.0f} MiB; encoding on the event loop instead: "
          f"paused {written['pause_on_loop']:.2f} s, durable after "
          f"{written['seconds_on_loop']:.2f} s")  # fmt: skip
    with_checkpoint = [restart(data_dir, True) for _ in range(args.runs)]
    assert all(r["position"] == args.events for r in with_checkpoint), with_checkpoint
    assert all("loaded the checkpoint" in " ".join(r["checkpoint"]) for r in with_checkpoint), (
        with_checkpoint[0]["checkpoint"]
    )
    print(f"restart with a checkpoint ({args.tail:,} events of tail), median of {args.runs}: "
          f"{median_of(with_checkpoint, 'seconds'):.2f} s to a ready tracker "
          f"({median_of(with_checkpoint, 'process_seconds'):.2f} s with interpreter start); "
          f"runs {[round(r['seconds'], 2) for r in with_checkpoint]}; "
          f"peak RSS {median_of(with_checkpoint, 'rss_mb'):.0f} MiB")  # fmt: skip
    rates = [verify_rate(data_dir) for _ in range(args.verify_runs)]
    rate, seconds = statistics.median(r for r, _ in rates), statistics.median(s for _, s in rates)
    print(f"audit verify, median of {args.verify_runs}: {rate:,.0f} events/s "
          f"({seconds:.1f} s for {args.events:,} events)")  # fmt: skip
    full = [restart(data_dir, False) for _ in range(args.full_runs)]
    print(f"restart replaying the whole log, median of {args.full_runs}: "
          f"{median_of(full, 'seconds'):.1f} s ({args.events / median_of(full, 'seconds'):,.0f} "
          f"events/s); runs {[round(r['seconds'], 1) for r in full]}; "
          f"peak RSS {median_of(full, 'rss_mb'):.0f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
