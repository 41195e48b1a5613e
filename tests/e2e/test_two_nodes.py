"""Two tracker nodes (two apps, each with its own data directory) on one PostgreSQL log,
driven through HTTP as clients would, switching nodes between any two requests.

What one node wrote, the other serves at once; rules that span the tracker hold when both
nodes decide at the same moment (each task handed to one worker, unique strings accepted
once, verification by distinct workers, first manager is admin); a node's read models stay
equal to a fresh replay of the log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import audit_settings
from tests.world import Caller, MakeClient, World
from tracker import bootstrap, config
from tracker.cluster.writer import ClusterWriter
from tracker.http.middleware import DECIDED_IN_THE_TURN
from tracker.http.openapi import table
from tracker.http.openapi.operation import WORKER
from tracker.projections import digest


def node_settings(tmp_path: Path, name: str, dsn: str) -> config.Settings:
    return audit_settings(tmp_path / name, database={"conn_str": dsn})


@pytest.fixture
async def nodes(make_client: MakeClient, tmp_path: Path, pg_dsn: str) -> list[World]:
    """Two worlds, one a node, on the same log: the people of one are the other's too."""
    return [await World.start(make_client, node_settings(tmp_path, n, pg_dsn)) for n in "ab"]


def cluster_writer(node: World) -> ClusterWriter:
    """The node's write strategy: decided in the writer's turn, as on every shared log."""
    writer = node.tracker.writer
    assert isinstance(writer, ClusterWriter)
    return writer


def on(node: World, caller: Caller) -> Caller:
    """The same caller sending to ``node``: sessions and workers live in the shared log."""
    return dataclasses.replace(caller, world=node)


async def test_what_one_node_writes_the_other_serves_at_once(nodes: list[World]) -> None:
    a, b = nodes
    admin = await a.register("admin")
    again = await b.login("admin")  # the account, made on a, logs in on b
    project = await b.create_project("alpha", by=again)
    worker = await a.new_worker("w1")
    await b.grant(on(b, worker), project, by=on(b, admin))  # the session made on a, used on b
    submitted = await a.submit("r1", by=worker, project=project)
    assert submitted.ok, submitted
    taken = await on(b, worker).get(f"/task/get/{project}")
    assert taken.ok and taken.content["task"]["recipe"] == "r1", taken
    released = await a.release(taken.content["task"]["id"], 0, by=worker)
    assert released.content == {"updated": True}, released
    now = await on(b, admin).get(f"/project/state/{project}")
    assert now.ok and now.content["tasks"]["closed"] == 1, now


async def test_the_first_manager_is_admin_even_when_two_register_at_once_on_two_nodes(
    nodes: list[World],
) -> None:
    first, second = await asyncio.gather(nodes[0].register("ann"), nodes[1].register("bob"))
    accounts = [await on(nodes[1], caller).get("/account") for caller in (first, second)]
    admins = [answer.content["manager"]["tracker_admin"] for answer in accounts]
    assert sorted(admins) == [False, True], accounts


async def test_concurrent_assignments_on_both_nodes_hand_each_task_to_one_worker(
    nodes: list[World],
) -> None:
    a, b = nodes
    admin = await a.register("admin")
    project = await a.create_project("alpha", by=admin)
    workers = [await random.choice(nodes).new_worker(f"w{i}") for i in range(8)]
    for worker in workers:
        node = random.choice(nodes)
        await node.grant(on(node, worker), project, by=on(node, admin))
    unique = [{"project": project, "recipe": f"t{i}", "unique_string": f"u{i % 30}"}
              for i in range(60)]  # fmt: skip
    submits = await asyncio.gather(*(
        on(random.choice(nodes), random.choice(workers)).post("/task/submit", body)
        for body in unique
    ))  # fmt: skip
    assert sum(1 for answer in submits if answer.ok) == 30  # each unique string accepted once
    held: dict[int, int] = {}  # task -> worker holding it

    async def work(worker: Caller) -> None:
        while True:
            answer = await on(random.choice(nodes), worker).get(f"/task/get/{project}")
            if not answer.ok:
                return
            task = answer.content["task"]["id"]
            assert task not in held, f"task {task} handed to {worker.id} and {held[task]}"
            held[task] = worker.id
            await asyncio.sleep(0)
            body = {"task_id": task, "result": 0}
            released = await on(random.choice(nodes), worker).post("/task/release", body)
            assert released.content == {"updated": True}, released
            del held[task]

    await asyncio.gather(*(work(worker) for worker in workers))
    for node in nodes:
        now = await on(node, admin).get(f"/project/state/{project}")
        assert now.content["tasks"] == {"queued": 0, "assigned": 0, "failed": 0, "closed": 30}


async def test_batches_on_both_nodes_hand_each_task_to_one_worker_and_keep_alive_holds(
    nodes: list[World], clock: Clock
) -> None:
    a, b = nodes
    admin = await a.register("admin")
    project = await a.create_project("alpha", by=admin)
    workers = [await a.new_worker(f"w{i}") for i in range(4)]
    for worker in workers:
        await b.grant(on(b, worker), project, by=on(b, admin))
    body = {"requests": [{"project": project, "recipe": f"t{i}", "max_assign_time": 60}
                         for i in range(100)]}  # fmt: skip
    assert (await on(a, workers[0]).post("/task/bulk_submit", body)).ok
    taken = await asyncio.gather(*(
        on(nodes[n % 2], worker).get(f"/task/bulk_get/{project}?count=30")
        for n, worker in enumerate(workers)
    ))  # fmt: skip
    ids = [[t["id"] for t in answer.content["tasks"]] for answer in taken]
    assert sorted(t for batch in ids for t in batch) == list(range(1, 101))  # each once
    clock.advance(50)
    kept = await on(b, workers[0]).post("/task/touch", {"task_id": ids[0][0]})
    assert kept.status == 200, kept
    clock.advance(20)
    await a.tracker.caught_up()  # expire_due looks at a's read models: b's assignments folded
    assert await a.tracker.expire_due() == 99  # every task but the one kept alive on b
    releases = {"releases": [{"task_id": t, "result": 0} for t in ids[0]]}
    released = await on(a, workers[0]).post("/task/bulk_release", releases)
    assert [r["outcome"] for r in released.content["tasks"]] == ["closed"] + ["not_assigned"] * (
        len(ids[0]) - 1)  # fmt: skip
    for node in nodes:
        now = await on(node, admin).get(f"/project/state/{project}")
        assert now.content["tasks"] == {"queued": 99, "assigned": 0, "failed": 0, "closed": 1}


async def test_verification_needs_distinct_workers_across_nodes(nodes: list[World]) -> None:
    a, b = nodes
    admin = await a.register("admin")
    project = await a.create_project("alpha", by=admin)
    w1, w2 = await a.new_worker("w1"), await b.new_worker("w2")
    for worker in (w1, w2):
        await b.grant(on(b, worker), project, by=on(b, admin))
    body = {"project": project, "recipe": "r", "verification_count": 2}
    assert (await on(a, w1).post("/task/submit", body)).ok
    first = await on(a, w1).get(f"/task/get/{project}")
    vote = {"task_id": first.content["task"]["id"], "result": 0, "verification": 5}
    assert (await on(b, w1).post("/task/release", vote)).content == {"updated": False}
    assert not (await on(b, w1).get(f"/task/get/{project}")).ok  # w1 voted already
    second = await on(a, w2).get(f"/task/get/{project}")
    assert second.ok, second
    assert (await on(b, w2).post("/task/release", vote)).content == {"updated": True}


async def test_each_nodes_read_models_equal_a_fresh_replay_of_the_log(
    nodes: list[World], tmp_path: Path, pg_dsn: str
) -> None:
    a, b = nodes
    admin = await a.register("admin")
    project = await b.create_project("alpha", by=on(b, admin))
    workers = [await random.choice(nodes).new_worker(f"w{i}") for i in range(4)]
    for worker in workers:
        node = random.choice(nodes)
        await node.grant(on(node, worker), project, by=on(node, admin))
    for i in range(40):
        body = {"project": project, "recipe": f"t{i}", "priority": i % 3}
        assert (await on(random.choice(nodes), workers[i % 4]).post("/task/submit", body)).ok
    for worker in workers:
        taken = await on(random.choice(nodes), worker).get(f"/task/get/{project}")
        body = {"task_id": taken.content["task"]["id"], "result": 1}
        await on(random.choice(nodes), worker).post("/task/release", body)
    for node in nodes:
        await node.tracker.caught_up()
    settings = node_settings(tmp_path, "fresh", pg_dsn)
    fresh = await bootstrap.open_tracker(settings)
    try:
        expected = digest.compute(fresh.state)
        assert expected == digest.compute(a.tracker.state)
        assert expected == digest.compute(b.tracker.state)
    finally:
        await fresh.store.close()


async def test_a_read_catches_up_with_the_log_even_without_a_notification(
    nodes: list[World],
) -> None:
    """With b's follower stopped (no NOTIFY, no periodic look), every request on b still sees
    what a committed before the request was sent: reads first catch up to the log's head."""
    a, b = nodes
    await cluster_writer(b).follower.close()
    admin = await a.register("admin")
    account = await on(b, admin).get("/account")  # the session made on a
    assert account.ok and account.content["manager"]["username"] == "admin", account
    project = await a.create_project("alpha", by=admin)
    worker = await a.new_worker("w1")
    await a.grant(worker, project, by=admin)
    body = {"project": project, "recipe": "r1"}
    assert (await on(b, worker).post("/task/submit", body)).ok  # worker made on a
    listed = await on(b, admin).get("/project/list")
    assert [p["id"] for p in listed.content["projects"]] == [project], listed


async def test_readiness_means_caught_up_with_the_shared_log(nodes: list[World]) -> None:
    """/readyz on b folds what a committed (follower stopped: only the check itself catches
    up) and reports the log's head as its position."""
    a, b = nodes
    await cluster_writer(b).follower.close()
    await a.register("admin")
    await a.new_worker("w1")
    head = await a.log_head()
    assert b.position() < head
    ready = await b.anonymous.get("/readyz")
    assert (ready.status, ready.content["ready"], ready.content["position"]) == (200, True, head)
    assert (await b.anonymous.get("/healthz")).content == {"up": True, "phase": "ready"}


async def test_reads_arriving_together_share_head_queries(nodes: list[World]) -> None:
    a, b = nodes
    admin = await a.register("admin")
    reads = cluster_writer(b).reads
    before = reads.queries
    answers = await asyncio.gather(*(on(b, admin).get("/account") for _ in range(40)))
    assert all(answer.ok for answer in answers)
    assert 1 <= reads.queries - before < 40, reads.queries - before


async def test_a_projects_rate_limit_is_one_bucket_for_the_cluster(
    nodes: list[World], clock: Clock
) -> None:
    a, b = nodes
    admin = await a.register("admin")
    project = await a.create_project("paced", by=admin, submit_rate=1, assign_rate=0.5)
    worker = await b.new_worker("w1")
    await b.grant(worker, project, by=on(b, admin))
    body = {"project": project, "recipe": "r1"}
    assert (await on(a, worker).post("/task/submit", body)).ok
    refused = await on(b, worker).post("/task/submit", body | {"recipe": "r2"})
    assert (refused.status, refused.body.get("rate_limit_delay")) == (429, 1.0), refused
    clock.advance(1)
    assert (await on(b, worker).post("/task/submit", body | {"recipe": "r2"})).ok
    assert (await on(a, worker).get(f"/task/get/{project}")).ok
    paced = await on(b, worker).get(f"/task/get/{project}")
    assert (paced.status, paced.body.get("rate_limit_delay")) == (429, 2.0), paced
    clock.advance(2)
    assert (await on(b, worker).get(f"/task/get/{project}")).ok
    clock.advance(2)
    nothing = await on(a, worker).get(f"/task/get/{project}")
    assert (nothing.status, nothing.ok) == (200, False), nothing  # no task: no event, no token
    again = await on(b, worker).get(f"/task/get/{project}")
    assert (again.status, again.ok) == (200, False), again  # still not paced


async def test_a_replay_rebuilds_the_same_buckets_as_the_nodes_hold(
    nodes: list[World], clock: Clock, tmp_path: Path, pg_dsn: str
) -> None:
    a, b = nodes
    admin = await a.register("admin")
    project = await a.create_project("paced", by=admin, submit_rate=2, assign_rate=1)
    worker = await b.new_worker("w1")
    await b.grant(worker, project, by=on(b, admin))
    for step in range(6):
        node = nodes[step % 2]
        await on(node, worker).post("/task/submit", {"project": project, "recipe": f"r{step}"})
        await on(node, worker).get(f"/task/get/{project}")
        clock.advance(0.75)
    for node in nodes:
        await node.tracker.caught_up()
    fresh = await bootstrap.open_tracker(node_settings(tmp_path, "fresh", pg_dsn))
    try:
        assert fresh.state.pacing.rates  # the limits were folded from the project's events
        expected = digest.compute(fresh.state)["pacing"]
        for node in nodes:
            assert digest.compute(node.tracker.state)["pacing"] == expected
        now = clock()
        waits = [fresh.state.pacing.delay(project, kind, 1, now) for kind in ("assign", "submit")]
        assert waits == [a.tracker.state.pacing.delay(project, k, 1, now)
                         for k in ("assign", "submit")]  # fmt: skip
    finally:
        await fresh.store.close()


async def test_a_workers_task_routes_are_decided_in_the_turn_without_a_head_query(
    nodes: list[World],
) -> None:
    """On b, with its follower stopped: a task route of a worker b does not know yet catches
    up first (one head query) and finds it; once known, its task routes read no head (the
    turn folds what a committed, under the log's lock) and still see a's latest writes."""
    a, b = nodes
    await cluster_writer(b).follower.close()
    admin = await a.register("admin")
    project = await a.create_project("alpha", by=admin)
    worker = await a.new_worker("w1")
    await a.grant(worker, project, by=admin)
    reads = cluster_writer(b).reads
    assert (await a.submit("r1", by=worker, project=project)).ok
    before = reads.queries
    first = await on(b, worker).get(f"/task/get/{project}")  # the worker made on a
    assert first.ok and first.content["task"]["recipe"] == "r1", first
    assert reads.queries == before + 1
    closing = {"task_id": first.content["task"]["id"], "result": 0}
    released = await on(b, worker).post("/task/release", closing)
    assert released.ok, released
    assert (await a.submit("r2", by=worker, project=project)).ok
    second = await on(b, worker).get(f"/task/get/{project}")
    assert second.ok and second.content["task"]["recipe"] == "r2", second
    assert reads.queries == before + 1  # neither the release nor this one read the head


def test_the_routes_decided_in_the_turn_are_a_workers_task_routes() -> None:
    routes = {op.path for op in table.OPERATIONS if op.tag == "task" and op.security == (WORKER,)}
    assert routes == DECIDED_IN_THE_TURN
