"""Exactly one node runs the scheduler's jobs, and another takes over when it dies.

Two ``tracker serve`` processes on one PostgreSQL log, expiring assignments every second.
The first node started leads (it logs so); tasks assigned through the other node with a
3-second limit are taken back by the leader. Then the leader is SIGKILLed, more tasks are
assigned with the same limit, and the survivor must take them back within a few seconds of
their deadline: it took the lease over.
"""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.integration.test_sigkill import call, prepare
from tests.processes import Server, Servers
from tests.waiting import eventually

pytestmark = pytest.mark.slow

LIMIT = 3  # seconds a worker may hold a task
LEADS = "this node now runs the scheduler's jobs"


@pytest.fixture
def nodes(servers: Servers, pg_dsn: str) -> list[Server]:
    env = {"TRACKER_MAINTENANCE_RESET_TIMED_OUT_TASKS_INTERVAL": "1s", "TRACKER_LOG_LEVEL": "info"}
    return [servers.new(f"node-{n}", database=pg_dsn, env=env) for n in range(2)]


async def test_the_survivor_expires_assignments_after_the_leader_is_killed(
    nodes: list[Server],
) -> None:
    leader, survivor = nodes
    async with aiohttp.ClientSession() as session:
        await leader.astart()
        await leader.line(LEADS, within=10)
        await survivor.astart()
        assert LEADS not in survivor.stderr
        project, workers = await prepare(session, survivor.url)

        async def assign_one(worker: dict) -> tuple[int, float]:
            body = {"project": project, "recipe": f"r{time.monotonic()}",
                    "max_assign_time": LIMIT}  # fmt: skip
            await call(session, "POST", survivor.url + "/task/submit", headers=worker, json=body)
            taken = await call(session, "GET", f"{survivor.url}/task/get/{project}",
                               headers=worker)  # fmt: skip
            return taken["content"]["task"]["id"], time.monotonic() + LIMIT

        def requeued(task: int):  # type: ignore[no-untyped-def]
            async def check() -> bool:  # another worker can take (and closes) the task
                answer = await call(session, "GET", f"{survivor.url}/task/get/{project}",
                                    headers=workers[1])  # fmt: skip
                if not answer.get("ok"):
                    return False
                assert answer["content"]["task"]["id"] == task
                body = {"task_id": task, "result": 0}
                await call(session, "POST", survivor.url + "/task/release", headers=workers[1],
                           json=body)  # fmt: skip
                return True

            return check

        task, deadline = await assign_one(workers[0])
        await eventually(requeued(task), within=15, every=0.1, what="the leader expiring it")
        overdue = time.monotonic() - deadline
        assert overdue < 3, overdue  # the leader expired it (through the shared log)

        leader.kill()
        task, deadline = await assign_one(workers[2])
        await eventually(requeued(task), within=20, every=0.1, what="the survivor expiring it")
        overdue = time.monotonic() - deadline
        assert overdue < 5, overdue  # the survivor took the lease over and expired it
        assert LEADS in survivor.stderr
