"""``GET /task/get/:project`` over HTTP: order, pausing, checks in the original's order
(behavior.md 6.7, 7.2, 7.8 and the section 14 scenarios)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Clock
from tests.world import NO_TASK, World


async def test_an_assigned_task_carries_its_project_its_assignee_and_the_time(
    world: World, clock: Clock
) -> None:
    await world.submit("work", max_assign_time=60)
    clock.advance(12.7)
    answer = await world.assign(by=1)
    project = (await world.admin.get(f"/project/get/{world.project}"))["content"]["project"]
    assert answer["ok"] is True and set(answer) == {"ok", "content"}
    task = answer["content"]["task"]
    assert task["project"] == project
    assert task["assignee"] == world.workers[1].id
    assert task["assign_time"] == int(clock.now)


async def test_an_empty_project_has_no_task_available(world: World) -> None:
    assert await world.assign() == NO_TASK


async def test_tasks_come_out_by_priority_within_each_project(world: World) -> None:
    """Section 14: priorities 0/1 in L and 100/101 in H come out 1, 0 and 101, 100."""
    low, high = world.project, await world.add_project("H")
    for priority in (0, 1):
        await world.submit(f"L{priority}", priority=priority)
    for priority in (100, 101):
        await world.submit(f"H{priority}", project=high, priority=priority)
    assert [t["recipe"] for t in await world.drain(project=low)] == ["L1", "L0"]
    assert [t["recipe"] for t in await world.drain(project=high)] == ["H101", "H100"]


async def test_negative_priorities_come_last_and_equal_ones_first_in_first_out(
    world: World,
) -> None:
    priorities = [0, -1, 5, 0, -32768, 32767, 5, -1]
    for n, priority in enumerate(priorities):
        await world.submit(f"t{n}", priority=priority)
    order = [t["recipe"] for t in await world.drain()]
    assert order == ["t5", "t2", "t6", "t0", "t3", "t1", "t7", "t4"]


async def test_a_task_is_never_handed_to_two_workers(world: World) -> None:
    for n in range(3):
        await world.submit(f"t{n}")
    workers = world.workers + [await world.new_worker(f"w{n}") for n in range(8)]
    for worker in workers[2:]:
        await world.grant(worker)
    answers = await asyncio.gather(*(world.assign(worker) for worker in workers))
    handed = [a["content"]["task"]["id"] for a in answers if a.get("ok")]
    assert sorted(handed) == [1, 2, 3]
    assert sum(1 for a in answers if a == NO_TASK) == len(workers) - 3


async def test_a_paused_worker_is_told_so_until_unpaused(world: World) -> None:
    await world.submit()
    await world.pause_worker(world.worker)
    before = world.position()
    answer = await world.worker.get(f"/task/get/{world.project}", status=400)
    assert answer == {"ok": False, "message": "A manager has paused you"}
    assert world.position() == before
    await world.pause_worker(world.worker, paused=False)
    assert (await world.task())["id"] == 1


async def test_the_pause_check_comes_before_the_project_id(world: World) -> None:
    await world.pause_worker(world.worker)
    for project in ("abc", "0", "999"):
        answer = await world.worker.get(f"/task/get/{project}", status=400)
        assert answer["message"] == "A manager has paused you"


async def test_a_paused_project_has_no_task_available_until_unpaused(world: World) -> None:
    await world.submit("waiting")
    await world.update_project(paused=True)
    assert await world.assign() == NO_TASK
    await world.update_project(paused=False)
    assert (await world.task())["recipe"] == "waiting"


async def test_pausing_one_project_leaves_the_others_alone(world: World) -> None:
    other = await world.add_project("other")
    await world.submit("elsewhere", project=other)
    await world.update_project(paused=True)
    assert (await world.task(project=other))["recipe"] == "elsewhere"


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
    world: World, project: str, status: int, message: str
) -> None:
    answer = await world.worker.get(f"/task/get/{project}", status=status)
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
    world: World, headers: dict, message: str
) -> None:
    response = await world.client.get(f"/task/get/{world.project}", headers=headers)
    assert response.status == 403
    assert await response.json() == {"ok": False, "message": message}
