"""Two tracker nodes (two apps, each with its own data directory) on one PostgreSQL log,
driven through HTTP as clients would, switching nodes between any two requests.

What one node wrote, the other serves at once; rules that span the tracker hold when both
nodes decide at the same moment (each task handed to one worker, unique strings accepted
once, verification by distinct workers, first manager is admin); a node's read models stay
equal to a fresh replay of the log.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import call, create_project, grant, login, new_worker, register, start
from tests.e2e.scripted_run import audit_settings
from tests.world import tracker_of
from tracker import bootstrap, config
from tracker.projections import digest


def node_settings(tmp_path: Path, name: str, dsn: str) -> config.Settings:
    return audit_settings(tmp_path / name, database={"conn_str": dsn})


@pytest.fixture
async def nodes(aiohttp_client: Any, tmp_path: Path, pg_dsn: str, clock: Clock) -> list[TestClient]:
    return [await start(aiohttp_client, node_settings(tmp_path, n, pg_dsn), clock) for n in "ab"]


async def test_what_one_node_writes_the_other_serves_at_once(nodes: list[TestClient]) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    again = await login(b, "admin")  # the account, made on a, logs in on b
    project = await create_project(b, again, "alpha")
    worker = await new_worker(a, "w1")
    await grant(b, admin, worker, project)  # the session made on a, used on b
    submitted = await call(a, "POST", "/task/submit", worker, json={"project": project,
                                                                     "recipe": "r1"})  # fmt: skip
    assert submitted.ok, submitted
    taken = await call(b, "GET", f"/task/get/{project}", worker)
    assert taken.ok and taken.content["task"]["recipe"] == "r1", taken
    released = await call(a, "POST", "/task/release", worker,
                          json={"task_id": taken.content["task"]["id"], "result": 0})  # fmt: skip
    assert released.content == {"updated": True}, released
    now = await call(b, "GET", f"/project/state/{project}", admin)
    assert now.ok and now.content["tasks"]["closed"] == 1, now


async def test_the_first_manager_is_admin_even_when_two_register_at_once_on_two_nodes(
    nodes: list[TestClient],
) -> None:
    first, second = await asyncio.gather(register(nodes[0], "ann"), register(nodes[1], "bob"))
    accounts = [await call(nodes[1], "GET", "/account", caller) for caller in (first, second)]
    admins = [answer.content["manager"]["tracker_admin"] for answer in accounts]
    assert sorted(admins) == [False, True], accounts


async def test_concurrent_assignments_on_both_nodes_hand_each_task_to_one_worker(
    nodes: list[TestClient],
) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    project = await create_project(a, admin, "alpha")
    workers = [await new_worker(random.choice(nodes), f"w{i}") for i in range(8)]
    for worker in workers:
        await grant(random.choice(nodes), admin, worker, project)
    unique = [{"project": project, "recipe": f"t{i}", "unique_string": f"u{i % 30}"}
              for i in range(60)]  # fmt: skip
    submits = await asyncio.gather(*(
        call(random.choice(nodes), "POST", "/task/submit", random.choice(workers), json=body)
        for body in unique
    ))  # fmt: skip
    assert sum(1 for answer in submits if answer.ok) == 30  # each unique string accepted once
    held: dict[int, int] = {}  # task -> worker holding it

    async def work(worker: Any) -> None:
        while True:
            answer = await call(random.choice(nodes), "GET", f"/task/get/{project}", worker)
            if not answer.ok:
                return
            task = answer.content["task"]["id"]
            assert task not in held, f"task {task} handed to {worker.id} and {held[task]}"
            held[task] = worker.id
            await asyncio.sleep(0)
            body = {"task_id": task, "result": 0}
            released = await call(random.choice(nodes), "POST", "/task/release", worker, json=body)
            assert released.content == {"updated": True}, released
            del held[task]

    await asyncio.gather(*(work(worker) for worker in workers))
    for node in nodes:
        now = await call(node, "GET", f"/project/state/{project}", admin)
        assert now.content["tasks"] == {"queued": 0, "assigned": 0, "failed": 0, "closed": 30}


async def test_verification_needs_distinct_workers_across_nodes(nodes: list[TestClient]) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    project = await create_project(a, admin, "alpha")
    w1, w2 = await new_worker(a, "w1"), await new_worker(b, "w2")
    for worker in (w1, w2):
        await grant(b, admin, worker, project)
    body = {"project": project, "recipe": "r", "verification_count": 2}
    assert (await call(a, "POST", "/task/submit", w1, json=body)).ok
    first = await call(a, "GET", f"/task/get/{project}", w1)
    vote = {"task_id": first.content["task"]["id"], "result": 0, "verification": 5}
    assert (await call(b, "POST", "/task/release", w1, json=vote)).content == {"updated": False}
    assert not (await call(b, "GET", f"/task/get/{project}", w1)).ok  # w1 voted already
    second = await call(a, "GET", f"/task/get/{project}", w2)
    assert second.ok, second
    assert (await call(b, "POST", "/task/release", w2, json=vote)).content == {"updated": True}


async def test_each_nodes_read_models_equal_a_fresh_replay_of_the_log(
    nodes: list[TestClient], tmp_path: Path, pg_dsn: str
) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    project = await create_project(b, admin, "alpha")
    workers = [await new_worker(random.choice(nodes), f"w{i}") for i in range(4)]
    for worker in workers:
        await grant(random.choice(nodes), admin, worker, project)
    for i in range(40):
        body = {"project": project, "recipe": f"t{i}", "priority": i % 3}
        assert (await call(random.choice(nodes), "POST", "/task/submit", workers[i % 4],
                           json=body)).ok  # fmt: skip
    for worker in workers:
        taken = await call(random.choice(nodes), "GET", f"/task/get/{project}", worker)
        body = {"task_id": taken.content["task"]["id"], "result": 1}
        await call(random.choice(nodes), "POST", "/task/release", worker, json=body)
    for node in nodes:
        await tracker_of(node).caught_up()
    settings = node_settings(tmp_path, "fresh", pg_dsn)
    fresh = await bootstrap.open_tracker(settings)
    try:
        expected = digest.compute(fresh.state)
        assert expected == digest.compute(tracker_of(a).state)
        assert expected == digest.compute(tracker_of(b).state)
    finally:
        await fresh.store.close()


async def test_a_read_catches_up_with_the_log_even_without_a_notification(
    nodes: list[TestClient],
) -> None:
    """With b's follower stopped (no NOTIFY, no periodic look), every request on b still sees
    what a committed before the request was sent: reads first catch up to the log's head."""
    a, b = nodes
    await tracker_of(b).cluster.follower.close()
    admin = await register(a, "admin")
    account = await call(b, "GET", "/account", admin)  # the session made on a
    assert account.ok and account.content["manager"]["username"] == "admin", account
    project = await create_project(a, admin, "alpha")
    worker = await new_worker(a, "w1")
    await grant(a, admin, worker, project)
    body = {"project": project, "recipe": "r1"}
    assert (await call(b, "POST", "/task/submit", worker, json=body)).ok  # worker made on a
    listed = await call(b, "GET", "/project/list", admin)
    assert [p["id"] for p in listed.content["projects"]] == [project], listed


async def test_readiness_means_caught_up_with_the_shared_log(nodes: list[TestClient]) -> None:
    """/readyz on b folds what a committed (follower stopped: only the check itself catches
    up) and reports the log's head as its position."""
    a, b = nodes
    await tracker_of(b).cluster.follower.close()
    await register(a, "admin")
    await new_worker(a, "w1")
    head = await tracker_of(a).store.head()
    assert tracker_of(b).state.position < head
    ready = await call(b, "GET", "/readyz")
    assert (ready.status, ready.content["ready"], ready.content["position"]) == (200, True, head)
    assert (await call(b, "GET", "/healthz")).content == {"up": True, "phase": "ready"}


async def test_reads_arriving_together_share_head_queries(nodes: list[TestClient]) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    reads = tracker_of(b).reads
    assert reads is not None
    before = reads.queries
    answers = await asyncio.gather(*(call(b, "GET", "/account", admin) for _ in range(40)))
    assert all(answer.ok for answer in answers)
    assert 1 <= reads.queries - before < 40, reads.queries - before


async def test_a_projects_rate_limit_is_one_bucket_for_the_cluster(
    nodes: list[TestClient], clock: Clock
) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    project = await create_project(a, admin, "paced", submit_rate=1, assign_rate=0.5)
    worker = await new_worker(b, "w1")
    await grant(b, admin, worker, project)
    body = {"project": project, "recipe": "r1"}
    assert (await call(a, "POST", "/task/submit", worker, json=body)).ok
    refused = await call(b, "POST", "/task/submit", worker, json=body | {"recipe": "r2"})
    assert (refused.status, refused.body.get("rate_limit_delay")) == (429, 1.0), refused
    clock.advance(1)
    assert (await call(b, "POST", "/task/submit", worker, json=body | {"recipe": "r2"})).ok
    assert (await call(a, "GET", f"/task/get/{project}", worker)).ok
    paced = await call(b, "GET", f"/task/get/{project}", worker)
    assert (paced.status, paced.body.get("rate_limit_delay")) == (429, 2.0), paced
    clock.advance(2)
    assert (await call(b, "GET", f"/task/get/{project}", worker)).ok
    clock.advance(2)
    nothing = await call(a, "GET", f"/task/get/{project}", worker)
    assert (nothing.status, nothing.ok) == (200, False), nothing  # no task: no event, no token
    again = await call(b, "GET", f"/task/get/{project}", worker)
    assert (again.status, again.ok) == (200, False), again  # still not paced


async def test_a_replay_rebuilds_the_same_buckets_as_the_nodes_hold(
    nodes: list[TestClient], clock: Clock, tmp_path: Path, pg_dsn: str
) -> None:
    a, b = nodes
    admin = await register(a, "admin")
    project = await create_project(a, admin, "paced", submit_rate=2, assign_rate=1)
    worker = await new_worker(b, "w1")
    await grant(b, admin, worker, project)
    for step in range(6):
        node = nodes[step % 2]
        await call(node, "POST", "/task/submit", worker, json={"project": project,
                                                               "recipe": f"r{step}"})  # fmt: skip
        await call(node, "GET", f"/task/get/{project}", worker)
        clock.advance(0.75)
    for node in nodes:
        await tracker_of(node).caught_up()
    fresh = await bootstrap.open_tracker(node_settings(tmp_path, "fresh", pg_dsn))
    try:
        assert fresh.state.pacing.rates  # the limits were folded from the project's events
        expected = digest.compute(fresh.state)["pacing"]
        for node in nodes:
            assert digest.compute(tracker_of(node).state)["pacing"] == expected
        now = clock()
        waits = [fresh.state.pacing.delay(project, kind, 1, now) for kind in ("assign", "submit")]
        assert waits == [tracker_of(a).state.pacing.delay(project, k, 1, now)
                         for k in ("assign", "submit")]  # fmt: skip
    finally:
        await fresh.store.close()
