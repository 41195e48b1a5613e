"""How long the web UI's pages take with a big tracker: 1,000,000 queued tasks in one project,
10,000 workers with access requests, a few thousand assigned tasks, 200 failed tasks with
their reasons; and the task browser (the page and ``GET /project/tasks``) filtered by state,
by a recipe substring (common, rare, absent: a page examines at most 250,000 tasks), sorted.

The state is built in-process with ordinary commands (HTTP would take long), then every page
is fetched through the real app (``create_app``) over a local socket, several times; the
median and the largest time per page are printed. The machine is shared: treat the figures as
orders of magnitude.

    python scripts/bench_ui.py                    # 1M tasks, 10k workers
    python scripts/bench_ui.py --tasks 100000     # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time

from aiohttp.test_utils import TestClient, TestServer

from tracker import config
from tracker.app import create_app
from tracker.commands.access import GrantAccess, RequestAccess
from tracker.commands.managers import RegisterManager
from tracker.commands.projects import CreateProject, ProjectSettings
from tracker.commands.tasks import AssignTask, BulkSubmit, ReleaseTask, SubmitTask
from tracker.commands.workers import CreateWorker
from tracker.http import auth
from tracker.http.keys import TRACKER

PAGES = ["/ui/", "/ui/projects", "/ui/project/1", "/ui/project/1?range=all",
         "/ui/project/1/live?after=0",
         "/ui/project/1/perms", "/ui/project/1/perms?start=5000", "/ui/workers",
         "/ui/workers?start=9950&info=5", "/ui/managers", "/ui/logs?level=info",
         "/ui/events", "/ui/task/1", "/ui/audit",
         # the task browser: pages and the API
         "/ui/project/1/tasks", "/ui/project/1/tasks?state=failed",
         "/ui/project/1/tasks?state=assigned", "/ui/project/1/tasks?state=queued&sort=-id",
         "/ui/project/1/tasks?sort=priority", "/ui/project/1/tasks?recipe=item/12345",
         "/ui/project/1/tasks?recipe=item/999999%22", "/ui/project/1/tasks?recipe=absent",
         "/ui/project/1/tasks?state=failed&recipe=item/",
         "/project/tasks/1?state=failed", "/project/tasks/1?recipe=item/999999%22&limit=500",
         "/project/tasks/1?limit=500", "/task/view/1001"]  # fmt: skip
FAILED = 200  # tasks failed, each with a reason


async def build(tracker: object, tasks: int, workers: int, session: str) -> None:
    execute = tracker.execute  # type: ignore[attr-defined]
    hashed = auth.session_hash(session)
    await execute(RegisterManager(username="admin", password_hash="x", session_hash=hashed,
                                  expires=4e9))  # fmt: skip
    await execute(CreateProject(manager_id=1, settings=ProjectSettings(name="big"),
                                webhook_secret="w"))  # fmt: skip
    for n in range(workers):
        await execute(CreateWorker(alias=f"worker{n:05d}", secret=b"s" * 32))
        await execute(RequestAccess(worker_id=n + 1, project=1, assign=True, submit=True))
        if n % 2 == 0:
            await execute(GrantAccess(manager_id=1, worker_id=n + 1, project=1))
    batch = 10_000
    for start in range(0, tasks, batch):
        bulk = [SubmitTask(worker_id=1, project=1, recipe=f'{{"url": "https://example.com/item/{i}"}}')
                for i in range(start, min(tasks, start + batch))]  # fmt: skip
        await execute(BulkSubmit(worker_id=1, tasks=bulk))
    for n in range(FAILED):  # max_retries 0: one failure and the task is FAILED
        [task] = await execute(AssignTask(worker_id=1, project=1, default_assign_time=3600))
        reason = f"exit status 1: ValueError: page {n} is not valid JSON"
        await execute(ReleaseTask(worker_id=1, task_id=task.task_id, result=1, reason=reason))
    for n in range(0, min(workers, 4000), 2):
        await execute(AssignTask(worker_id=n + 1, project=1, default_assign_time=3600))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        settings = config.build({"database": {"data_dir": data},
                                 "checkpoint": {"enabled": False}})  # fmt: skip
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # skipped ticks while building
        app = create_app(settings)
        session = auth.new_session_id()
        async with TestClient(TestServer(app)) as client:
            started = time.perf_counter()
            await build(app[TRACKER], args.tasks, args.workers, session)
            print(f"built {args.tasks} tasks, {args.workers} workers in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            client.session.cookie_jar.update_cookies({settings.session.cookie_name: session})
            for path in PAGES:
                times, status = [], 0
                for _ in range(args.runs):
                    began = time.perf_counter()
                    response = await client.get(path)
                    await response.read()
                    times.append(time.perf_counter() - began)
                    status = response.status
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
                print(f"{path:50} {status}  median {statistics.median(times) * 1000:7.1f} ms"
                      f"  max {max(times) * 1000:7.1f} ms")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
