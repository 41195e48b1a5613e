"""A long scripted run of the tracker through its HTTP API, for the audit tests.

Two managers (an admin and one without roles), three projects (one chained into another, one
hidden), three workers, and rounds of bulk submits, assignments, every kind of release
(OK, FAIL, SKIP, verification votes), expiries with the test clock, resets, reclaims, project
updates and worker logs: every read model gets entries.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import (
    Caller,
    call,
    create_project,
    grant,
    new_worker,
    project_body,
    register,
)
from tests.world import tracker_of
from tracker import config

AUDIT_TOKEN = "an-audit-token-of-enough-length"
ROOT = Path(__file__).resolve().parents[2]


def audit_layers(data_dir: Any, **sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The test settings with an audit token, as a config file holds them."""
    layers: dict[str, dict[str, Any]] = {
        "database": {"data_dir": str(data_dir)},
        "server": {"address": "127.0.0.1:0"},
        "maintenance": {"reset_timed_out_tasks_interval": "1h"},  # tests expire by hand
        "audit": {"token": AUDIT_TOKEN},
    }
    for name, values in sections.items():
        layers.setdefault(name, {}).update(values)
    return layers


def audit_settings(data_dir: Any, **sections: dict[str, Any]) -> config.Settings:
    return config.build(audit_layers(data_dir, **sections))


def config_file(path: Path, data_dir: Path, **sections: dict[str, Any]) -> str:
    """The same settings in a JSON config file, for the command-line tools."""
    path.write_text(json.dumps(audit_layers(data_dir, **sections)))
    return str(path)


@dataclass
class Ran:
    code: int
    out: str
    err: str


async def run_cli(*args: str) -> Ran:
    """``tracker <args>`` in a fresh process; the test's event loop keeps serving meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tracker.cli", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return Ran(process.returncode or 0, out.decode(), err.decode())


def token() -> dict[str, str]:
    return {"Authorization": f"Bearer {AUDIT_TOKEN}"}


@dataclass
class Cast:
    admin: Caller
    alice: Caller  # a manager without roles
    workers: list[Caller]
    chained: int  # project whose closed tasks are copied into `target`
    target: int
    hidden: int


async def cast(client: TestClient) -> Cast:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    target = await create_project(client, admin, "beta", public=True)
    chained = await create_project(client, admin, "alpha", chain=target)
    hidden = await create_project(client, admin, "gamma", hidden=True)
    workers = [await new_worker(client, f"w{i}") for i in range(3)]
    for worker in workers:
        for project in (chained, target, hidden):
            await grant(client, admin, worker, project)
    return Cast(admin, alice, workers, chained, target, hidden)


async def submit(client: TestClient, worker: Caller, project: int, count: int, start: int,
                 **fields: Any) -> None:  # fmt: skip
    requests = [{"project": project, "recipe": f"task {start + i}", "priority": (start + i) % 3,
                 "max_retries": 2, "unique_string": f"u{project}-{start + i}", **fields}
                for i in range(count)]  # fmt: skip
    answer = await call(client, "POST", "/task/bulk_submit", worker, json={"requests": requests})
    assert answer.status == 200 and answer.ok, answer


async def assign(client: TestClient, worker: Caller, project: int) -> dict | None:
    answer = await call(client, "GET", f"/task/get/{project}", worker)
    return answer.content["task"] if answer.ok else None


async def release(client: TestClient, worker: Caller, task: int, result: int,
                  verification: int = 0) -> None:  # fmt: skip
    body = {"task_id": task, "result": result, "verification": verification}
    answer = await call(client, "POST", "/task/release", worker, json=body)
    assert answer.status == 200, answer


async def round_of_work(client: TestClient, clock: Clock, people: Cast, n: int) -> None:
    w0, w1, w2 = people.workers
    await submit(client, w0, people.chained, 12, n * 100)
    await submit(client, w1, people.hidden, 4, n * 100, verification_count=2)
    for i, worker in enumerate((w1, w2, w0, w1, w2, w0, w1, w2)):
        task = await assign(client, worker, people.chained)
        if task is not None:
            await release(client, worker, task["id"], result=i % 3)  # OK, FAIL, SKIP
    for worker in (w0, w1, w2):  # verification votes: two agreeing close a task
        task = await assign(client, worker, people.hidden)
        if task is not None:
            await release(client, worker, task["id"], 0, verification=7 if worker is not w2 else 8)
    task = await assign(client, w2, people.target)
    if task is not None and n % 2:
        await release(client, w2, task["id"], 0)
    await assign(client, w0, people.chained)  # left assigned: expires or is reclaimed
    clock.advance(400)
    await tracker_of(client).expire_due()
    line = {"scope": "round", "message": f"round {n}", "timestamp": int(clock())}
    await call(client, "POST", "/log/info", w0, json=line)
    if n % 3 == 2:
        await call(client, "POST", f"/project/reset_failed_tasks/{people.chained}", people.admin)
        await assign(client, w1, people.target)
        await call(client, "POST", f"/project/reclaim_assigned_tasks/{people.target}",
                   people.admin)  # fmt: skip
    clock.advance(60)


async def scripted_run(client: TestClient, clock: Clock, rounds: int = 6) -> Cast:
    people = await cast(client)
    for n in range(rounds):
        await round_of_work(client, clock, people, n)
    body = project_body("alpha", chain=people.target, motd="updated", priority=3)
    answer = await call(client, "POST", f"/project/update/{people.chained}", people.admin,
                        json=body)  # fmt: skip
    assert answer.status == 200 and answer.ok, answer
    return people
