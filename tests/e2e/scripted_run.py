"""A long scripted run of the tracker through its HTTP API, for the audit tests.

Two managers (an admin and one without roles), three projects (one chained into another, one
hidden), three workers, and rounds of bulk submits, assignments, every kind of release
(OK, FAIL, SKIP, verification votes), expiries with the test clock, resets, reclaims, project
updates and worker logs: every read model gets entries.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from tests.conftest import CHEAP_PASSWORDS, Clock
from tests.processes import ROOT, command, environment
from tests.world import Caller, World, project_body
from tracker import config

AUDIT_TOKEN = "an-audit-token-of-enough-length"


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
    """The same settings for the app, with the ``settings`` fixture's cheap password hashing."""
    cheap = {"passwords": msgspec.structs.asdict(CHEAP_PASSWORDS)}
    return config.build({**cheap, **audit_layers(data_dir, **sections)})


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
        *command(*args), cwd=ROOT, env=environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return Ran(process.returncode or 0, out.decode(), err.decode())


def token() -> dict[str, str]:
    return {"Authorization": f"Bearer {AUDIT_TOKEN}"}


@dataclass
class Cast:
    """Who the run adds to its world beside ``world.admin`` and ``world.workers`` (w0..w2)."""

    alice: Caller  # a manager without roles
    chained: int  # project whose closed tasks are copied into `target` (``world.project``)
    target: int
    hidden: int


async def cast(world: World) -> Cast:
    world.admin = await world.register("admin")
    alice = await world.register("alice")
    target = await world.create_project("beta", public=True)
    chained = await world.create_project("alpha", chain=target)
    hidden = await world.create_project("gamma", hidden=True)
    world.project = chained
    world.workers = [await world.new_worker(f"w{i}") for i in range(3)]
    for worker in world.workers:
        for project in (chained, target, hidden):
            await world.grant(worker, project)
    return Cast(alice, chained, target, hidden)


async def submit(worker: Caller, project: int, count: int, start: int, **fields: Any) -> None:
    requests = [{"project": project, "recipe": f"task {start + i}", "priority": (start + i) % 3,
                 "max_retries": 2, "unique_string": f"u{project}-{start + i}", **fields}
                for i in range(count)]  # fmt: skip
    answer = await worker.post("/task/bulk_submit", {"requests": requests})
    assert answer.status == 200 and answer.ok, answer


async def assign(worker: Caller, project: int) -> dict | None:
    answer = await worker.get(f"/task/get/{project}")
    return answer.content["task"] if answer.ok else None


async def release(worker: Caller, task: int, result: int, verification: int = 0) -> None:
    body = {"task_id": task, "result": result, "verification": verification}
    await worker.post("/task/release", body, status=200)


async def round_of_work(world: World, clock: Clock, people: Cast, n: int) -> None:
    w0, w1, w2 = world.workers
    await submit(w0, people.chained, 12, n * 100)
    await submit(w1, people.hidden, 4, n * 100, verification_count=2)
    for i, worker in enumerate((w1, w2, w0, w1, w2, w0, w1, w2)):
        task = await assign(worker, people.chained)
        if task is not None:
            await release(worker, task["id"], result=i % 3)  # OK, FAIL, SKIP
    for worker in (w0, w1, w2):  # verification votes: two agreeing close a task
        task = await assign(worker, people.hidden)
        if task is not None:
            await release(worker, task["id"], 0, verification=7 if worker is not w2 else 8)
    task = await assign(w2, people.target)
    if task is not None and n % 2:
        await release(w2, task["id"], 0)
    await assign(w0, people.chained)  # left assigned: expires or is reclaimed
    clock.advance(400)
    await world.tracker.expire_due()
    line = {"scope": "round", "message": f"round {n}", "timestamp": int(clock())}
    await w0.post("/log/info", line)
    if n % 3 == 2:
        await world.admin.post(f"/project/reset_failed_tasks/{people.chained}")
        await assign(w1, people.target)
        await world.admin.post(f"/project/reclaim_assigned_tasks/{people.target}")
    clock.advance(60)


async def scripted_run(world: World, clock: Clock, rounds: int = 6) -> Cast:
    """The run on a world nobody has used yet (``bare_world``): it registers the admin."""
    people = await cast(world)
    for n in range(rounds):
        await round_of_work(world, clock, people, n)
    body = project_body("alpha", chain=people.target, motd="updated", priority=3)
    answer = await world.admin.post(f"/project/update/{people.chained}", body)
    assert answer.status == 200 and answer.ok, answer
    return people
