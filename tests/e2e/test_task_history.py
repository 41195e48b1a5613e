"""GET /task/history/:id: every event of a task in order, for those who may read its project,
against a scripted sequence with a controlled clock. Closed and deleted tasks keep theirs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import assign, audit_settings, release, token
from tests.world import Caller, World
from tracker import config
from tracker.commands.projects import ROLE_READ

T0 = 1_700_000_000.0


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@dataclass
class Story:
    """Who the story adds to its world beside ``world.admin`` and ``world.workers`` (w0..w2)."""

    alice: Caller  # no role
    bob: Caller  # READ on alpha only
    alpha: int  # ``world.project``, the workers' only project
    beta: int


async def story(world: World, clock: Clock) -> Story:
    """Task 1 in alpha: submitted by w0 at T0, failed once by w1, expired on w2, closed by w1
    with verification 42, and copied into beta as task 2."""
    world.admin, alice, bob = [await world.register(name) for name in ("admin", "alice", "bob")]
    beta = await world.create_project("beta", public=True)
    alpha = world.project = await world.create_project("alpha", chain=beta)
    assert (await world.set_role(alpha, bob, ROLE_READ)).status == 200
    world.workers = [await world.new_worker(f"w{i}") for i in range(3)]
    for worker in world.workers:
        await world.grant(worker, alpha)
    w0, w1, w2 = world.workers
    clock.now = T0
    fields = {"max_retries": 2, "max_assign_time": 60}
    assert (await world.submit("compute", by=w0, project=alpha, **fields)).ok
    clock.advance(10)
    assert (await assign(w1, alpha))["id"] == 1
    await release(w1, 1, result=1)  # FAIL: retried
    clock.advance(10)
    assert (await assign(w2, alpha))["id"] == 1
    clock.advance(100)
    assert await world.tracker.expire_due() == 1
    clock.advance(10)
    assert (await assign(w1, alpha))["id"] == 1
    await release(w1, 1, result=0, verification=42)
    return Story(alice, bob, alpha, beta)


async def history(caller: Caller, task: int | str, query: str = "", **kwargs: Any) -> Any:
    return await caller.get(f"/task/history/{task}{query}", **kwargs)


async def test_the_history_lists_every_event_of_a_closed_task_in_order(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    s = await story(world, clock)
    w0, w1, w2 = (f"worker:{w.id}" for w in world.workers)

    answer = await history(world.admin, 1)

    assert answer.status == 200, answer
    events = answer.content["events"]
    assert [(e["type"], e["event"]["actor"], e["event"]["at"]) for e in events] == [
        ("TaskSubmitted", w0, T0),
        ("TaskAssigned", w1, T0 + 10),
        ("TaskReleased", w1, T0 + 10),
        ("TaskAssigned", w2, T0 + 20),
        ("AssignmentExpired", "system", T0 + 120),
        ("TaskAssigned", w1, T0 + 130),
        ("TaskReleased", w1, T0 + 130),
        ("TaskSubmitted", w1, T0 + 130),
    ]
    assert [e["event"].get("outcome") for e in events if e["type"] == "TaskReleased"] == [
        "retry", "closed",
    ]  # fmt: skip
    assert events[-2]["event"]["verification"] == 42
    assert events[3]["event"]["worker_id"] == world.workers[2].id
    assert events[-1]["event"] == {**events[-1]["event"], "task_id": 2, "project_id": s.beta,
                                   "chained_from": 1}  # fmt: skip
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and all(len(e["hash"]) == 64 for e in events)
    assert answer.content["task"] == {
        "id": 1, "project": s.alpha, "submitted_by": w0, "submitted_at": T0,
        "chained_from": 0, "state": "closed", "assignee": 0,
        "chained_to": [{"task": 2, "project": s.beta, "position": positions[-1]}],
    }  # fmt: skip
    assert answer.content["more"] is False


async def test_a_chain_copy_has_its_own_history_starting_from_its_origin(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    s = await story(world, clock)

    answer = await history(world.anonymous, 2, headers=token())

    assert [e["type"] for e in answer.content["events"]] == ["TaskSubmitted"]
    assert answer.content["task"]["chained_from"] == 1
    assert answer.content["task"]["state"] == "queued"
    assert answer.content["task"]["project"] == s.beta


async def test_a_hard_reset_shows_as_the_last_event_and_the_task_as_deleted(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    s = await story(world, clock)
    await world.grant(world.workers[0], s.beta)
    assert (await assign(world.workers[0], s.beta))["id"] == 2
    assert (await world.admin.post(f"/project/hard_reset/{s.beta}")).ok

    answer = await history(world.admin, 2)

    last = answer.content["events"][-1]
    assert [e["type"] for e in answer.content["events"]] == [
        "TaskSubmitted", "TaskAssigned", "ProjectTasksDeleted",
    ]  # fmt: skip
    assert last["event"]["task_count"] == 1 and "task_ids" not in last["event"]
    assert answer.content["task"]["state"] == "deleted"


async def test_history_is_for_those_who_may_read_the_tasks_project(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    s = await story(world, clock)

    assert (await history(world.anonymous, 1)).status == 401
    assert (await history(world.workers[0], 1)).status == 401
    assert (await history(s.alice, 1)).status == 403
    assert (await history(s.bob, 1)).status == 200
    assert (await history(s.bob, 2)).status == 403  # the copy lives in beta
    assert (await history(world.admin, 2)).status == 200
    wrong = {"Authorization": "Bearer wrong-token-of-some-length"}
    assert (await history(world.anonymous, 1, headers=wrong)).status == 401


async def test_an_unknown_task_is_404_and_a_malformed_id_or_paging_is_400(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    await story(world, clock)

    missing = await history(world.admin, 99)
    assert (missing.status, missing.message) == (404, "Task not found")
    assert (await history(world.admin, "abc")).status == 400
    assert (await history(world.admin, 1, "?limit=0")).status == 400
    assert (await history(world.admin, 1, "?after=-3")).status == 400


async def test_a_long_history_comes_in_pages(bare_world: World, clock: Clock) -> None:
    world = bare_world
    await story(world, clock)
    first = await history(world.admin, 1, "?limit=3")
    assert len(first.content["events"]) == 3 and first.content["more"] is True
    after = first.content["events"][-1]["position"]

    rest = await history(world.admin, 1, f"?after={after}&limit=100")

    assert [e["type"] for e in rest.content["events"]][0] == "TaskAssigned"
    assert len(rest.content["events"]) == 5 and rest.content["more"] is False
    assert rest.content["task"] == first.content["task"]  # the summary does not depend on paging
