"""GET /task/history/:id: every event of a task in order, for those who may read its project,
against a scripted sequence with a controlled clock. Closed and deleted tasks keep theirs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import (
    ANONYMOUS,
    Caller,
    call,
    create_project,
    grant,
    new_worker,
    register,
    set_role,
    start,
)
from tests.e2e.scripted_run import assign, audit_settings, release, token
from tests.world import tracker_of
from tracker import config
from tracker.commands.projects import ROLE_READ

T0 = 1_700_000_000.0


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@pytest.fixture
async def client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings, clock)


@dataclass
class Story:
    admin: Caller
    alice: Caller  # no role
    bob: Caller  # READ on alpha only
    workers: list[Caller]
    alpha: int
    beta: int


async def story(client: TestClient, clock: Clock) -> Story:
    """Task 1 in alpha: submitted by w0 at T0, failed once by w1, expired on w2, closed by w1
    with verification 42, and copied into beta as task 2."""
    admin, alice, bob = [await register(client, name) for name in ("admin", "alice", "bob")]
    beta = await create_project(client, admin, "beta", public=True)
    alpha = await create_project(client, admin, "alpha", chain=beta)
    assert (await set_role(client, admin, alpha, bob, ROLE_READ)).status == 200
    workers = [await new_worker(client, f"w{i}") for i in range(3)]
    for worker in workers:
        await grant(client, admin, worker, alpha)
    w0, w1, w2 = workers
    clock.now = T0
    body = {"project": alpha, "recipe": "compute", "max_retries": 2, "max_assign_time": 60}
    assert (await call(client, "POST", "/task/submit", w0, json=body)).ok
    clock.advance(10)
    assert (await assign(client, w1, alpha))["id"] == 1
    await release(client, w1, 1, result=1)  # FAIL: retried
    clock.advance(10)
    assert (await assign(client, w2, alpha))["id"] == 1
    clock.advance(100)
    assert await tracker_of(client).expire_due() == 1
    clock.advance(10)
    assert (await assign(client, w1, alpha))["id"] == 1
    await release(client, w1, 1, result=0, verification=42)
    return Story(admin, alice, bob, workers, alpha, beta)


async def history(client: TestClient, task: int | str, caller: Caller = ANONYMOUS,
                  query: str = "", **kwargs: Any) -> Any:  # fmt: skip
    return await call(client, "GET", f"/task/history/{task}{query}", caller, **kwargs)


async def test_the_history_lists_every_event_of_a_closed_task_in_order(
    client: TestClient, clock: Clock
) -> None:
    s = await story(client, clock)
    w0, w1, w2 = (f"worker:{w.id}" for w in s.workers)

    answer = await history(client, 1, s.admin)

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
    assert events[3]["event"]["worker_id"] == s.workers[2].id
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
    client: TestClient, clock: Clock
) -> None:
    s = await story(client, clock)

    answer = await history(client, 2, ANONYMOUS, headers=token())

    assert [e["type"] for e in answer.content["events"]] == ["TaskSubmitted"]
    assert answer.content["task"]["chained_from"] == 1
    assert answer.content["task"]["state"] == "queued"
    assert answer.content["task"]["project"] == s.beta


async def test_a_hard_reset_shows_as_the_last_event_and_the_task_as_deleted(
    client: TestClient, clock: Clock
) -> None:
    s = await story(client, clock)
    await grant(client, s.admin, s.workers[0], s.beta)
    assert (await assign(client, s.workers[0], s.beta))["id"] == 2
    assert (await call(client, "POST", f"/project/hard_reset/{s.beta}", s.admin)).ok

    answer = await history(client, 2, s.admin)

    last = answer.content["events"][-1]
    assert [e["type"] for e in answer.content["events"]] == [
        "TaskSubmitted", "TaskAssigned", "ProjectTasksDeleted",
    ]  # fmt: skip
    assert last["event"]["task_count"] == 1 and "task_ids" not in last["event"]
    assert answer.content["task"]["state"] == "deleted"


async def test_history_is_for_those_who_may_read_the_tasks_project(
    client: TestClient, clock: Clock
) -> None:
    s = await story(client, clock)

    assert (await history(client, 1)).status == 401
    assert (await history(client, 1, s.workers[0])).status == 401
    assert (await history(client, 1, s.alice)).status == 403
    assert (await history(client, 1, s.bob)).status == 200
    assert (await history(client, 2, s.bob)).status == 403  # the copy lives in beta
    assert (await history(client, 2, s.admin)).status == 200
    wrong = {"Authorization": "Bearer wrong-token-of-some-length"}
    assert (await history(client, 1, headers=wrong)).status == 401


async def test_an_unknown_task_is_404_and_a_malformed_id_or_paging_is_400(
    client: TestClient, clock: Clock
) -> None:
    s = await story(client, clock)

    missing = await history(client, 99, s.admin)
    assert (missing.status, missing.message) == (404, "Task not found")
    assert (await history(client, "abc", s.admin)).status == 400
    assert (await history(client, 1, s.admin, "?limit=0")).status == 400
    assert (await history(client, 1, s.admin, "?after=-3")).status == 400


async def test_a_long_history_comes_in_pages(client: TestClient, clock: Clock) -> None:
    s = await story(client, clock)
    first = await history(client, 1, s.admin, "?limit=3")
    assert len(first.content["events"]) == 3 and first.content["more"] is True
    after = first.content["events"][-1]["position"]

    rest = await history(client, 1, s.admin, f"?after={after}&limit=100")

    assert [e["type"] for e in rest.content["events"]][0] == "TaskAssigned"
    assert len(rest.content["events"]) == 5 and rest.content["more"] is False
    assert rest.content["task"] == first.content["task"]  # the summary does not depend on paging
