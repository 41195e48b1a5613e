"""Assignment deadlines (``max_assign_time``): taken back once due, from the log, across a
restart, and by the real scheduler (behavior.md 7.7; docs/compatibility.md on 0)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Clock
from tests.waiting import eventually
from tests.world import CLOSED, NO_TASK, NOT_CLOSED, Answer, MakeClient, World, amend
from tracker import config


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return amend(settings, tasks={"default_max_assign_time": 120.0})


async def expire(world: World) -> int:
    """What the scheduler's job does: take back every assignment past its deadline."""
    return await world.tracker.expire_due()


async def test_an_assignment_past_its_deadline_goes_to_another_worker(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=60)
    task = await world.task(by=0)
    clock.advance(59)
    assert await expire(world) == 0
    assert await world.assign(by=1) == NO_TASK
    clock.advance(2)
    assert await expire(world) == 1
    again = await world.task(by=1)
    assert (again["id"], again["retries"]) == (task["id"], 0)
    assert again["assign_time"] == int(clock.now)


async def test_a_tick_that_fails_after_asking_what_is_due_loses_no_deadline(
    world: World, clock: Clock
) -> None:
    """Asking for due deadlines changes nothing: if the tick dies before its expire commands
    are appended, the next tick finds the same assignment and takes it back."""
    await world.submit(max_assign_time=10)
    task = await world.task(by=0)
    clock.advance(11)
    tracker = world.tracker
    assert tracker.state.tasks.due(clock.now) == [(task["id"], task["assign_time"] + 10)]
    # ... the tick fails here, before any ExpireAssignment is decided ...
    assert await expire(world) == 1
    assert (await world.task(by=1))["id"] == task["id"]


async def test_the_old_assignee_can_no_longer_release_an_expired_task(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=10)
    task = await world.task(by=0)
    clock.advance(11)
    await expire(world)
    assert await world.release(task["id"], 0, by=0) == NOT_CLOSED
    await world.task(by=1)
    assert await world.release(task["id"], 0, by=0) == NOT_CLOSED
    assert await world.release(task["id"], 0, by=1) == CLOSED


async def test_expired_tasks_keep_their_retries_and_votes(world: World, clock: Clock) -> None:
    await world.submit(max_assign_time=10, max_retries=5, verification_count=2)
    task = await world.task(by=0)
    await world.release(task["id"], 1, by=0)  # FAIL: retries 1
    await world.task(by=0)
    clock.advance(11)
    assert await expire(world) == 1
    again = await world.task(by=1)
    assert again["retries"] == 1


async def test_a_released_assignment_is_not_expired_later(world: World, clock: Clock) -> None:
    await world.submit(max_assign_time=10, max_retries=3)
    task = await world.task()
    await world.release(task["id"], 2)  # SKIP
    await world.task(by=1)  # reassigned, with a new deadline
    clock.advance(5)
    await world.release(task["id"], 2, by=1)
    clock.advance(100)
    assert await expire(world) == 0


async def test_expiring_twice_is_harmless(world: World, clock: Clock) -> None:
    await world.submit(max_assign_time=10)
    await world.task()
    clock.advance(20)
    results = await asyncio.gather(expire(world), expire(world))
    assert sorted(results) == [0, 1]
    assert await expire(world) == 0


async def test_max_assign_time_zero_means_the_configured_default(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=0)
    task = await world.task(by=0)
    assert task["max_assign_time"] == 0
    clock.advance(119)
    assert await expire(world) == 0
    clock.advance(2)
    assert await expire(world) == 1
    assert (await world.task(by=1))["id"] == task["id"]


async def test_deadlines_are_checked_across_projects(world: World, clock: Clock) -> None:
    other = await world.create_project("other")
    await world.grant(world.workers[0], other)
    await world.submit(max_assign_time=30)
    await world.submit("o", by=0, project=other, max_assign_time=10)
    await world.task()
    await world.task(project=other)
    clock.advance(15)
    assert await expire(world) == 1
    clock.advance(20)
    assert await expire(world) == 1


async def test_a_deadline_survives_a_restart(world: World, clock: Clock) -> None:
    await world.submit(max_assign_time=60)
    task = await world.task(by=0)
    await world.restart()

    assert await expire(world) == 0
    assert await world.assign(by=1) == NO_TASK
    clock.advance(61)
    assert await expire(world) == 1
    assert (await world.task(by=1))["id"] == task["id"]


async def test_a_deadline_that_passed_while_stopped_is_expired_after_start(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=60)
    await world.task(by=0)
    await world.client.close()
    clock.advance(3600)
    await world.restart()
    assert await expire(world) == 1
    assert (await world.task(by=1))["id"] == 1


async def test_the_scheduler_takes_back_due_assignments_by_itself(
    make_client: MakeClient, settings: config.Settings, clock: Clock
) -> None:
    fast = amend(settings, maintenance={"reset_timed_out_tasks_interval": 0.05})
    world = await (await World.start(make_client, fast)).open(workers=2)
    await world.submit(max_assign_time=5)
    await world.task(by=0)
    clock.advance(6)  # the tracker's clock says the deadline passed; the job runs on real time

    async def assigned() -> Answer | None:
        answer = await world.assign(by=1)
        return None if answer == NO_TASK else answer

    answer = await eventually(assigned, what="the task taken back by the scheduler")
    assert answer.get("ok") is True, answer
    assert answer["content"]["task"]["id"] == 1
