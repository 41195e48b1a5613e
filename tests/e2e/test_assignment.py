"""``GET /task/get/:project`` over HTTP: order, pausing, checks in the original's order
(behavior.md 6.7, 7.2, 7.8 and the section 14 scenarios)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Api, Clock
from tests.e2e.support import (
    NO_TASK,
    Desk,
    add_project,
    drain,
    pause_worker,
    position,
    update_project,
)


async def test_an_assigned_task_carries_its_project_its_assignee_and_the_time(
    desk: Desk, clock: Clock
) -> None:
    await desk.submit("work", max_assign_time=60)
    clock.advance(12.7)
    answer = await desk.assign(by=1)
    project = (await desk.api.call("GET", f"/project/get/{desk.project}"))["content"]["project"]
    assert answer["ok"] is True and set(answer) == {"ok", "content"}
    task = answer["content"]["task"]
    assert task["project"] == project
    assert task["assignee"] == desk.workers[1]["id"]
    assert task["assign_time"] == int(clock.now)


async def test_an_empty_project_has_no_task_available(desk: Desk) -> None:
    assert await desk.assign() == NO_TASK


async def test_tasks_come_out_by_priority_within_each_project(api: Api, desk: Desk) -> None:
    """Section 14: priorities 0/1 in L and 100/101 in H come out 1, 0 and 101, 100."""
    low, high = desk.project, await add_project(desk, "H")
    for priority in (0, 1):
        await desk.submit(f"L{priority}", priority=priority)
    for priority in (100, 101):
        await api.submit(desk.worker, high, f"H{priority}", priority=priority)
    assert [t["recipe"] for t in await drain(desk, project=low)] == ["L1", "L0"]
    assert [t["recipe"] for t in await drain(desk, project=high)] == ["H101", "H100"]


async def test_negative_priorities_come_last_and_equal_ones_first_in_first_out(desk: Desk) -> None:
    priorities = [0, -1, 5, 0, -32768, 32767, 5, -1]
    for n, priority in enumerate(priorities):
        await desk.submit(f"t{n}", priority=priority)
    order = [t["recipe"] for t in await drain(desk)]
    assert order == ["t5", "t2", "t6", "t0", "t3", "t1", "t7", "t4"]


async def test_a_task_is_never_handed_to_two_workers(api: Api, desk: Desk) -> None:
    for n in range(3):
        await desk.submit(f"t{n}")
    workers = desk.workers + [await api.create_worker(f"w{n}") for n in range(8)]
    for worker in workers[2:]:
        await api.grant(worker, desk.project)
    answers = await asyncio.gather(*(api.assign(worker, desk.project) for worker in workers))
    handed = [a["content"]["task"]["id"] for a in answers if a.get("ok")]
    assert sorted(handed) == [1, 2, 3]
    assert sum(1 for a in answers if a == NO_TASK) == len(workers) - 3


async def test_a_paused_worker_is_told_so_until_unpaused(api: Api, desk: Desk) -> None:
    await desk.submit()
    await pause_worker(api, desk.worker)
    before = position(api)
    answer = await api.call("GET", f"/task/get/{desk.project}", worker=desk.worker, status=400)
    assert answer == {"ok": False, "message": "A manager has paused you"}
    assert position(api) == before
    await pause_worker(api, desk.worker, paused=False)
    assert (await desk.task())["id"] == 1


async def test_the_pause_check_comes_before_the_project_id(api: Api, desk: Desk) -> None:
    await pause_worker(api, desk.worker)
    for project in ("abc", "0", "999"):
        answer = await api.call("GET", f"/task/get/{project}", worker=desk.worker, status=400)
        assert answer["message"] == "A manager has paused you"


async def test_a_paused_project_has_no_task_available_until_unpaused(api: Api, desk: Desk) -> None:
    await desk.submit("waiting")
    await update_project(api, desk.project, paused=True)
    assert await desk.assign() == NO_TASK
    await update_project(api, desk.project, paused=False)
    assert (await desk.task())["recipe"] == "waiting"


async def test_pausing_one_project_leaves_the_others_alone(api: Api, desk: Desk) -> None:
    other = await add_project(desk, "other")
    await api.submit(desk.worker, other, "elsewhere")
    await update_project(api, desk.project, paused=True)
    assert (await desk.task(project=other))["recipe"] == "elsewhere"


@pytest.mark.parametrize(
    ("project", "status", "message"),
    [
        ("abc", 400, "Invalid project id"),
        ("0", 400, "Invalid project id"),
        ("-1", 400, "Invalid project id"),
        ("1.5", 400, "Invalid project id"),
        ("99999999999999999999", 400, "Invalid project id"),
        ("99", 404, "Project not found"),
    ],
)
async def test_bad_and_unknown_project_ids_are_refused(
    api: Api, desk: Desk, project: str, status: int, message: str
) -> None:
    answer = await api.call("GET", f"/task/get/{project}", worker=desk.worker, status=status)
    assert answer == {"ok": False, "message": message}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "worker id not specified"),
        ({"X-Worker-Id": "1"}, "secret is not specified"),
        ({"X-Worker-Id": "x", "X-Secret": "x"}, 'strconv.ParseInt: parsing "x": invalid syntax'),
        ({"X-Worker-Id": "77", "X-Secret": "x"}, "worker id does not match any valid worker"),
        ({"X-Worker-Id": "1", "X-Secret": "AAAA"}, "invalid secret"),
    ],
)
async def test_assignment_refuses_bad_credentials_with_403(
    desk: Desk, headers: dict, message: str
) -> None:
    response = await desk.client.get(f"/task/get/{desk.project}", headers=headers)
    assert response.status == 403
    assert await response.json() == {"ok": False, "message": message}
