"""GET /project/tasks/:id (the task browser) and GET /task/view/:id (a task's attempts):
filters, sorts, cursor paging under inserts, who may read, bad input, and reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import audit_settings, token
from tests.world import Caller, World
from tracker import config
from tracker.commands.projects import ROLE_READ

T0 = 1_700_000_000.0


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


async def listed(caller: Caller, project: int, status: int = 200, **query: Any) -> Any:
    text = "&".join(f"{name}={value}" for name, value in query.items())
    answer = await caller.get(f"/project/tasks/{project}?{text}", status=status)
    return answer.content if status == 200 else answer


def ids(page: dict[str, Any]) -> list[int]:
    return [row["id"] for row in page["tasks"]]


async def every_page(caller: Caller, project: int, **query: Any) -> list[int]:
    found, cursor = [], ""
    while True:
        page = await listed(caller, project, cursor=cursor, **query)
        found += ids(page)
        if page["next"] is None:
            return found
        cursor = page["next"]


async def busy_project(world: World, clock: Clock) -> None:
    """Tasks 1-12 (priority n % 3, recipe "job-<n>", one a minute from T0), then: task 1
    assigned to w0; task 2 failed by w1 ("disk full"), task 3 closed by w1; task 4 voted on
    once (verification 2, so awaiting verification); task 5 failed once and queued again."""
    clock.now = T0
    for n in range(1, 13):
        fields = {"verification_count": 2} if n == 4 else {"max_retries": 2 if n == 5 else 1}
        assert (await world.submit(f"job-{n}", priority=n % 3, **fields)).ok
        clock.advance(60)
    w0, w1 = world.workers
    for task_id, worker, result, reason in ((2, w1, 1, "disk full"), (3, w1, 0, ""),
                                            (4, w0, 0, ""), (5, w1, 1, "timeout")):  # fmt: skip
        await _hand(world, task_id, worker)
        answer = await world.release(task_id, result, by=worker, reason=reason, verification=2)
        assert answer.ok, answer
    await _hand(world, 1, w0)


async def _hand(world: World, task_id: int, worker: Caller) -> None:
    """Assign ``task_id`` to ``worker``: it takes every queued task and skips the others."""
    taken = (await world.take(1000, worker)).content["tasks"]
    others = [(task["id"], 2) for task in taken if task["id"] != task_id]  # SKIP: queued again
    assert len(others) < len(taken), taken
    if others:
        assert (await world.release_all(*others, by=worker)).ok


async def test_a_project_lists_its_tasks_by_state_worker_priority_recipe_and_time(
    world: World, clock: Clock
) -> None:
    await busy_project(world, clock)
    admin, project = world.admin, world.project

    assert ids(await listed(admin, project)) == [1, 2, 4, 5, *range(6, 13)]
    assert ids(await listed(admin, project, state="assigned")) == [1]
    failed = await listed(admin, project, state="failed")
    assert [(r["id"], r["reason"], r["retries"]) for r in failed["tasks"]] == [(2, "disk full", 1)]
    assert ids(await listed(admin, project, state="awaiting_verification")) == [4]
    queued = await listed(admin, project, state="queued")
    assert ids(queued) == [5, *range(6, 13)]
    assert queued["tasks"][0]["reason"] == "timeout"  # the last failed attempt's, shown on
    closed = await listed(admin, project, state="closed")
    assert [(r["id"], r["state"], r["assignee"]) for r in closed["tasks"]] == [
        (3, "closed", world.workers[1].id)
    ]
    assert ids(await listed(admin, project, worker=world.workers[0].id)) == [1]
    assert ids(await listed(admin, project, priority_min=2)) == [2, 5, 8, 11]
    assert ids(await listed(admin, project, priority_min=1, priority_max=1)) == [1, 4, 7, 10]
    assert ids(await listed(admin, project, recipe="job-1")) == [1, 10, 11, 12]
    assert ids(await listed(admin, project, submitted_from=T0 + 300, submitted_to=T0 + 420)) == [
        6, 7, 8,
    ]  # fmt: skip
    iso = {"submitted_from": "2023-11-14T22:19:20", "submitted_to": "2023-11-14T22:21:20Z"}
    assert ids(await listed(admin, project, **iso)) == [7, 8, 9]  # T0 is 22:13:20 UTC


async def test_sorts_are_by_id_newest_first_or_priority(world: World, clock: Clock) -> None:
    await busy_project(world, clock)
    admin, project = world.admin, world.project

    assert ids(await listed(admin, project, sort="-id")) == [*range(12, 4, -1), 4, 2, 1]
    assert ids(await listed(admin, project, sort="priority")) == [
        2, 5, 8, 11, 1, 4, 7, 10, 6, 9, 12,
    ]  # fmt: skip
    assert await every_page(admin, project, sort="priority", limit=3) == [
        2, 5, 8, 11, 1, 4, 7, 10, 6, 9, 12,
    ]  # fmt: skip
    assert await every_page(admin, project, sort="-id", limit=2) == [*range(12, 4, -1), 4, 2, 1]


async def test_pages_neither_repeat_nor_skip_rows_when_tasks_come_and_go(world: World) -> None:
    for n in range(10):
        assert (await world.submit(f"task {n}", priority=n % 2)).ok
    admin, project = world.admin, world.project

    first = await listed(admin, project, limit=4)
    assert ids(first) == [1, 2, 3, 4]
    for n in range(3):  # new tasks, and task 5 (the next page's first row) closes
        assert (await world.submit(f"late {n}", priority=5)).ok
    await _hand(world, 5, world.workers[0])
    assert (await world.release(5, 0)).ok
    second = await listed(admin, project, limit=4, cursor=first["next"])
    assert ids(second) == [6, 7, 8, 9]
    rest = await listed(admin, project, limit=50, cursor=second["next"])
    assert ids(rest) == [10, 11, 12, 13]
    assert rest["next"] is None

    by_priority = await listed(admin, project, sort="priority", limit=3)
    assert ids(by_priority) == [11, 12, 13]
    assert (await world.submit("later", priority=5)).ok  # behind the cursor's row: not shown
    following = await listed(admin, project, sort="priority", limit=3, cursor=by_priority["next"])
    assert ids(following) == [14, 2, 4]


async def test_a_task_view_tells_each_attempt_and_its_reason(world: World, clock: Clock) -> None:
    world.project = await world.add_project("retried")
    assert (await world.submit("flaky", max_retries=3, max_assign_time=60)).ok
    w0, w1 = world.workers
    await world.task(w0)
    assert (await world.release(1, 1, by=w0, reason="exit status 3: out of memory")).ok
    await world.task(w1)
    clock.advance(120)
    assert await world.tracker.expire_due() == 1
    await world.task(w0)
    releases = [{"task_id": 1, "result": 1, "reason": "Traceback: ValueError: bad input"}]
    assert (await world.release_all(*releases, by=w0)).ok
    await world.task(w1)

    view = (await world.admin.get("/task/view/1", status=200)).content
    assert [(a["number"], a["worker"], a["end"], a["result"], a["reason"])
            for a in view["attempts"]] == [
        (1, w0.id, "released", "FAIL", "exit status 3: out of memory"),
        (2, w1.id, "expired", "", ""),
        (3, w0.id, "released", "FAIL", "Traceback: ValueError: bad input"),
        (4, w1.id, "", "", ""),
    ]  # fmt: skip
    assert view["row"]["state"] == "assigned"
    assert view["row"]["reason"] == "Traceback: ValueError: bad input"
    assert view["task"]["state"] == "assigned"


async def test_readers_are_those_who_may_read_the_history(world: World) -> None:
    assert (await world.submit("secret recipe")).ok
    project = world.project
    bob, carol = await world.register("bob"), await world.register("carol")
    assert (await world.set_role(project, bob, ROLE_READ)).status == 200

    assert ids(await listed(bob, project)) == [1]
    answer = await world.anonymous.get(f"/project/tasks/{project}", headers=token(), status=200)
    assert [row["recipe"] for row in answer.content["tasks"]] == ["secret recipe"]
    assert (await listed(world.anonymous, project, status=401)).ok is False
    assert (await listed(world.worker, project, status=401)).ok is False
    refused = await listed(carol, project, status=403)
    assert "Read role" in refused.message
    assert (await listed(world.admin, 999, status=404)).message == "Project not found"
    for who, status in ((world.anonymous, 401), (carol, 403), (bob, 200)):
        await who.get("/task/view/1", status=status)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=done", "state must be one of queued, awaiting_verification, assigned, failed"),
        ("limit=0", "limit must be an integer from 1 to 500"),
        ("limit=ten", "limit must be an integer from 1 to 500"),
        ("worker=-1", "worker must be an integer from 1"),
        ("priority_min=1.5", "priority_min must be an integer"),
        ("submitted_from=yesterday", "submitted_from must be Unix seconds or an ISO 8601 time"),
        ("submitted_to=1e400", "submitted_to must be a time after 1970"),
        ("sort=name", "sort must be one of id, -id, priority"),
        ("cursor=%21%21", "Invalid cursor"),
        ("cursor=aWQ6MQ&sort=priority", "Invalid cursor"),  # a cursor of the id sort
        ("stat=failed", "stat is not a parameter (expected one of state, worker"),
        ("state=failed&state=queued", "a parameter is repeated"),
        ("recipe=" + "x" * 501, "recipe is longer than 500 characters"),
        ("cursor=" + "a" * 65, "Invalid cursor"),
        ("submitted_to=" + "1" * 41, "submitted_to is longer than 40 characters"),
    ],
)
async def test_bad_filters_are_refused_with_what_is_wrong(world: World, query: str,
                                                          message: str) -> None:  # fmt: skip
    head = await world.log_head()
    answer = await world.admin.get(f"/project/tasks/{world.project}?{query}", status=400)
    assert answer.ok is False
    assert message in answer.message, answer.message
    assert await world.log_head() == head


async def test_the_list_is_the_same_after_a_restart(world: World, clock: Clock) -> None:
    await busy_project(world, clock)
    before = [await listed(world.admin, world.project, state=state)
              for state in ("", "failed", "closed", "queued")]  # fmt: skip
    await world.restart()
    after = [await listed(world.admin, world.project, state=state)
             for state in ("", "failed", "closed", "queued")]  # fmt: skip
    assert after == before
