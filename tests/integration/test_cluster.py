"""Three ``tracker serve`` nodes on one PostgreSQL log behave, to their clients, like one tracker.

50 worker clients send each request to a node drawn at random (another one if it does not
answer). First, pairs of submits with the same unique string race on different nodes; then
tens of thousands of tasks (verification count 1 or 2) are bulk-submitted and worked through
while one node is SIGKILLed and restarted. Afterwards, from the log itself: every acknowledged
submit was closed exactly once, no task was ever held by two workers at once, no duplicate
unique task was accepted; and every node's read models have the digest of a fresh replay.
"""

from __future__ import annotations

import asyncio
import os
import random
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.scripted_run import AUDIT_TOKEN
from tests.processes import Server, Servers
from tests.waiting import eventually
from tracker import bootstrap, config
from tracker.events import tasks as task_events
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import read_events
from tracker.projections import digest

pytestmark = pytest.mark.slow

NODES, WORKERS = 3, 50
TASKS = int(os.environ.get("TRACKER_CLUSTER_TEST_TASKS", "20000"))
BULK = 250
UNIQUE = 200  # unique strings, each submitted twice at once on two nodes
HOLD = 8  # max_assign_time: assignments lost with the killed node come back after this


@pytest.fixture
def nodes(servers: Servers, pg_dsn: str) -> list[Server]:
    env = {"TRACKER_MAINTENANCE_RESET_TIMED_OUT_TASKS_INTERVAL": "1s",
           "TRACKER_AUDIT_TOKEN": AUDIT_TOKEN, "TRACKER_CHECKPOINT_ENABLED": "false"}  # fmt: skip
    return [servers.new(f"node-{n}", database=pg_dsn, env=env) for n in range(NODES)]


@dataclass
class Cluster:
    session: aiohttp.ClientSession
    nodes: list[Server]
    down: set[int] = field(default_factory=set)

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any] | None:
        """Send to a node at random; None if the node died before answering (unknown outcome).
        A node that refuses the connection is skipped for another."""
        for _ in range(20):
            up = [n for n in range(len(self.nodes)) if n not in self.down]
            node = self.nodes[random.choice(up)]
            try:
                async with self.session.request(method, node.url + path, **kwargs) as response:
                    return response.status, await response.json()
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.05)  # not listening (killed, or starting again)
            except (aiohttp.ClientError, TimeoutError):
                return None  # sent, and the node died: it may or may not have acted on it
        raise AssertionError("no node answered")


@dataclass
class Seen:
    acked: set[str] = field(default_factory=set)  # recipes whose submit was acknowledged
    holding: dict[int, int] = field(default_factory=dict)  # task -> worker, as told
    releases: int = 0
    submitted: bool = False
    restarted_at: int = 0  # releases seen when the killed node answered again


def vote(recipe: str) -> int:
    return zlib.crc32(recipe.encode()) & 0x7FFFFFFF


async def setup(cluster: Cluster) -> tuple[int, list[dict[str, str]]]:
    node = cluster.nodes[0].url
    session = cluster.session
    account = {"username": "admin", "password": "password1"}
    async with session.post(node + "/register", json=account) as response:
        assert response.status == 200
        admin = {"Cookie": f"tt={response.cookies['tt'].value}"}
    status, body = await cluster.call("POST", "/project/create", json={"name": "load"},
                                      headers=admin) or (0, None)  # fmt: skip
    assert status == 200, body
    project = body["content"]["id"]
    workers = []
    for n in range(WORKERS):
        _, body = await cluster.call("POST", "/worker/create", json={"alias": f"w{n}"})  # type: ignore[misc]
        worker = body["content"]["worker"]
        headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}
        access = {"project": project, "assign": True, "submit": True}
        assert (await cluster.call("POST", "/project/request_access", json=access,
                                   headers=headers) or (0,))[0] == 200  # fmt: skip
        path = f"/project/accept_request/{project}/{worker['id']}"
        assert (await cluster.call("POST", path, headers=admin) or (0,))[0] == 200
        workers.append(headers)
    return project, workers


async def race_unique(cluster: Cluster, project: int, workers: list[dict], seen: Seen) -> None:
    """Each unique string submitted twice at once, on two nodes: exactly one is accepted."""

    async def submit(n: int, copy: int) -> bool:
        recipe = f"unique-{n}-{copy}"
        body = {"project": project, "recipe": recipe, "unique_string": f"u{n}",
                "max_assign_time": HOLD}  # fmt: skip
        answer = await cluster.call("POST", "/task/submit", json=body,
                                    headers=random.choice(workers))  # fmt: skip
        assert answer is not None
        if answer[1] == {"ok": True}:
            seen.acked.add(recipe)
            return True
        assert "already exists" in answer[1]["message"] or "hash" in answer[1]["message"], answer
        return False

    accepted = await asyncio.gather(*(submit(n, copy) for n in range(UNIQUE) for copy in (0, 1)))
    per_string = [accepted[2 * n] + accepted[2 * n + 1] for n in range(UNIQUE)]
    assert per_string == [1] * UNIQUE


async def submitter(cluster: Cluster, project: int, worker: dict, first: int, count: int,
                    seen: Seen) -> None:  # fmt: skip
    for start in range(first, first + count, BULK):
        numbers = range(start, min(start + BULK, first + count))
        requests = [{"project": project, "recipe": f"t{i}", "verification_count": 1 + i % 2,
                     "max_assign_time": HOLD} for i in numbers]  # fmt: skip
        answer = await cluster.call("POST", "/task/bulk_submit", json={"requests": requests},
                                    headers=worker)  # fmt: skip
        if answer is not None and answer[1] == {"ok": True}:
            seen.acked.update(request["recipe"] for request in requests)


async def work(cluster: Cluster, project: int, worker: dict, seen: Seen) -> None:
    me = int(worker["X-Worker-Id"])
    idle = 0
    while True:
        answer = await cluster.call("GET", f"/task/get/{project}", headers=worker)
        if answer is None:
            continue
        status, body = answer
        if not body.get("ok"):
            idle += 1
            if seen.submitted and idle > 40 and await drained(cluster, project):
                return
            await asyncio.sleep(0.05)  # a worker's pause before asking again
            continue
        idle = 0
        task = body["content"]["task"]
        holder = seen.holding.get(task["id"])
        assert holder is None, f"task {task['id']} handed to {me} while {holder} holds it"
        seen.holding[task["id"]] = me
        release = {"task_id": task["id"], "result": 0, "verification": vote(task["recipe"])}
        del seen.holding[task["id"]]  # before the release is sent: it may land at once
        await cluster.call("POST", "/task/release", json=release, headers=worker)
        seen.releases += 1


async def drained(cluster: Cluster, project: int) -> bool:
    answer = await cluster.call("GET", f"/project/state/{project}",
                                headers={"Authorization": f"Bearer {AUDIT_TOKEN}"})  # fmt: skip
    if answer is None or not answer[1].get("ok"):
        return False
    counts = answer[1]["content"]["tasks"]
    return counts["queued"] == 0 and counts["assigned"] == 0


async def kill_and_restart(cluster: Cluster, seen: Seen, victim: int) -> None:
    await eventually(lambda: seen.releases >= TASKS // 3, within=600, every=0.05,
                     what="a third of the tasks released")  # fmt: skip
    cluster.down.add(victim)
    cluster.nodes[victim].kill()
    killed_at = seen.releases
    await eventually(lambda: seen.releases >= killed_at + max(1, TASKS // 200), within=60,
                     what="the other nodes serving while one is down")  # fmt: skip
    await cluster.nodes[victim].astart()
    cluster.down.discard(victim)
    seen.restarted_at = seen.releases


async def test_three_nodes_on_one_log_behave_like_one_tracker(
    nodes: list[Server], pg_dsn: str, tmp_path: Path
) -> None:
    connector = aiohttp.TCPConnector(limit=WORKERS + 20)
    async with aiohttp.ClientSession(connector=connector) as session:
        for node in nodes:
            await node.astart()
        cluster, seen = Cluster(session, nodes), Seen()
        project, workers = await setup(cluster)
        await race_unique(cluster, project, workers, seen)

        async def submit_all() -> None:
            per = TASKS // 10
            await asyncio.gather(*(submitter(cluster, project, workers[n], n * per, per, seen)
                                   for n in range(10)))  # fmt: skip
            seen.submitted = True

        await asyncio.wait_for(asyncio.gather(
            submit_all(), kill_and_restart(cluster, seen, victim=1),
            *(work(cluster, project, worker, seen) for worker in workers),
        ), timeout=600)  # fmt: skip

        digests, token = [], {"Authorization": f"Bearer {AUDIT_TOKEN}"}
        for node in nodes:
            async with session.get(node.url + "/audit/digest", headers=token) as answer:
                digests.append((await answer.json())["content"])

    assert len(seen.acked) >= TASKS // 2, len(seen.acked)  # most bulks were acknowledged
    assert 0 < seen.restarted_at < seen.releases  # killed and back mid-way, then served more
    expected = await replayed(pg_dsn, tmp_path / "x")
    assert all(same_models(node_digest, expected) for node_digest in digests), digests
    await check_the_log(pg_dsn, seen)


def same_models(served: dict[str, Any], replayed: dict[str, Any]) -> bool:
    """Whether a node's ``/audit/digest`` is a replay's: the same position and models."""
    return all(served[key] == replayed[key] for key in ("position", "models"))


async def replayed(dsn: str, data_dir: Path) -> dict[str, Any]:
    """The digest of read models freshly replayed from the log, as ``/audit/digest`` says it."""
    settings = config.build({"database": {"conn_str": dsn, "data_dir": str(data_dir)},
                             "checkpoint": {"enabled": False}})  # fmt: skip
    fresh = await bootstrap.open_tracker(settings)
    try:
        return {"position": fresh.state.position, "models": digest.compute(fresh.state)}
    finally:
        await fresh.store.close()


async def check_the_log(dsn: str, seen: Seen) -> None:
    store = await PostgresEventStore.open_reader(dsn)
    task_of: dict[str, int] = {}
    hashes: Counter[int] = Counter()
    closed: Counter[int] = Counter()
    held: dict[int, int] = {}
    try:
        async for recorded in read_events(store):
            event = recorded.event
            if isinstance(event, task_events.TaskSubmitted):
                task_of[event.recipe] = event.task_id
                if event.hash:
                    hashes[event.hash] += 1
            elif isinstance(event, task_events.TasksSubmitted):
                for offset, new in enumerate(event.tasks):
                    task_of[new.recipe] = event.first_task_id + offset
            elif isinstance(event, task_events.TaskAssigned):
                assert event.task_id not in held, (event, held[event.task_id])
                held[event.task_id] = event.worker_id
            elif isinstance(event, task_events.TaskReleased | task_events.AssignmentExpired):
                assert held.pop(event.task_id) == event.worker_id
                if isinstance(event, task_events.TaskReleased):
                    closed[event.task_id] += event.outcome is task_events.Outcome.CLOSED
    finally:
        await store.close()
    assert seen.acked <= task_of.keys(), len(seen.acked - task_of.keys())
    assert all(closed[task_of[recipe]] == 1 for recipe in seen.acked), [
        (recipe, closed[task_of[recipe]]) for recipe in seen.acked if closed[task_of[recipe]] != 1
    ][:10]
    assert len(hashes) == UNIQUE and set(hashes.values()) == {1}  # one task per unique string
