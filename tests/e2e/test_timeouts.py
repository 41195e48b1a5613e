"""Assignment deadlines (``max_assign_time``): taken back once due, from the log, across a
restart, and by the real scheduler (behavior.md 7.7; docs/compatibility.md on 0)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Api, Clock, MakeClient
from tests.e2e.support import CLOSED, NO_TASK, NOT_CLOSED, Desk, cheap, open_desk
from tests.world import tracker_of
from tracker import config


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return cheap(settings, tasks={"default_max_assign_time": 120.0})


async def expire(desk: Desk) -> int:
    """What the scheduler's job does: take back every assignment past its deadline."""
    return await tracker_of(desk.client).expire_due()


async def test_an_assignment_past_its_deadline_goes_to_another_worker(
    desk: Desk, clock: Clock
) -> None:
    await desk.submit(max_assign_time=60)
    task = await desk.task(by=0)
    clock.advance(59)
    assert await expire(desk) == 0
    assert await desk.assign(by=1) == NO_TASK
    clock.advance(2)
    assert await expire(desk) == 1
    again = await desk.task(by=1)
    assert (again["id"], again["retries"]) == (task["id"], 0)
    assert again["assign_time"] == int(clock.now)


async def test_a_tick_that_fails_after_asking_what_is_due_loses_no_deadline(
    desk: Desk, clock: Clock
) -> None:
    """Asking for due deadlines changes nothing: if the tick dies before its expire commands
    are appended, the next tick finds the same assignment and takes it back."""
    await desk.submit(max_assign_time=10)
    task = await desk.task(by=0)
    clock.advance(11)
    tracker = tracker_of(desk.client)
    assert tracker.state.tasks.due(clock.now) == [(task["id"], task["assign_time"] + 10)]
    # ... the tick fails here, before any ExpireAssignment is decided ...
    assert await expire(desk) == 1
    assert (await desk.task(by=1))["id"] == task["id"]


async def test_the_old_assignee_can_no_longer_release_an_expired_task(
    desk: Desk, clock: Clock
) -> None:
    await desk.submit(max_assign_time=10)
    task = await desk.task(by=0)
    clock.advance(11)
    await expire(desk)
    assert await desk.release(task["id"], 0, by=0) == NOT_CLOSED
    await desk.task(by=1)
    assert await desk.release(task["id"], 0, by=0) == NOT_CLOSED
    assert await desk.release(task["id"], 0, by=1) == CLOSED


async def test_expired_tasks_keep_their_retries_and_votes(desk: Desk, clock: Clock) -> None:
    await desk.submit(max_assign_time=10, max_retries=5, verification_count=2)
    task = await desk.task(by=0)
    await desk.release(task["id"], 1, by=0)  # FAIL: retries 1
    await desk.task(by=0)
    clock.advance(11)
    assert await expire(desk) == 1
    again = await desk.task(by=1)
    assert again["retries"] == 1


async def test_a_released_assignment_is_not_expired_later(desk: Desk, clock: Clock) -> None:
    await desk.submit(max_assign_time=10, max_retries=3)
    task = await desk.task()
    await desk.release(task["id"], 2)  # SKIP
    await desk.task(by=1)  # reassigned, with a new deadline
    clock.advance(5)
    await desk.release(task["id"], 2, by=1)
    clock.advance(100)
    assert await expire(desk) == 0


async def test_expiring_twice_is_harmless(desk: Desk, clock: Clock) -> None:
    await desk.submit(max_assign_time=10)
    await desk.task()
    clock.advance(20)
    results = await asyncio.gather(expire(desk), expire(desk))
    assert sorted(results) == [0, 1]
    assert await expire(desk) == 0


async def test_max_assign_time_zero_means_the_configured_default(desk: Desk, clock: Clock) -> None:
    await desk.submit(max_assign_time=0)
    task = await desk.task(by=0)
    assert task["max_assign_time"] == 0
    clock.advance(119)
    assert await expire(desk) == 0
    clock.advance(2)
    assert await expire(desk) == 1
    assert (await desk.task(by=1))["id"] == task["id"]


async def test_deadlines_are_checked_across_projects(api: Api, desk: Desk, clock: Clock) -> None:
    other = await api.create_project("other")
    await api.grant(desk.workers[0], other)
    await desk.submit(max_assign_time=30)
    await api.submit(desk.workers[0], other, "o", max_assign_time=10)
    await desk.task()
    await desk.task(project=other)
    clock.advance(15)
    assert await expire(desk) == 1
    clock.advance(20)
    assert await expire(desk) == 1


async def test_a_deadline_survives_a_restart(
    api: Api, desk: Desk, clock: Clock, make_client: MakeClient
) -> None:
    await desk.submit(max_assign_time=60)
    task = await desk.task(by=0)
    await api.client.close()

    restarted = await make_client()
    desk.api = Api(restarted)
    assert await expire(desk) == 0
    assert await desk.assign(by=1) == NO_TASK
    clock.advance(61)
    assert await expire(desk) == 1
    assert (await desk.task(by=1))["id"] == task["id"]


async def test_a_deadline_that_passed_while_stopped_is_expired_after_start(
    api: Api, desk: Desk, clock: Clock, make_client: MakeClient
) -> None:
    await desk.submit(max_assign_time=60)
    await desk.task(by=0)
    await api.client.close()
    clock.advance(3600)
    desk.api = Api(await make_client())
    assert await expire(desk) == 1
    assert (await desk.task(by=1))["id"] == 1


async def test_the_scheduler_takes_back_due_assignments_by_itself(
    make_client: MakeClient, settings: config.Settings, clock: Clock
) -> None:
    fast = cheap(settings, maintenance={"reset_timed_out_tasks_interval": 0.05})
    desk = await open_desk(Api(await make_client(fast)), workers=2)
    await desk.submit(max_assign_time=5)
    await desk.task(by=0)
    clock.advance(6)  # the tracker's clock says the deadline passed; the job runs on real time
    for _ in range(150):  # up to 3 s of real time
        if (answer := await desk.assign(by=1)) != NO_TASK:
            break
        await asyncio.sleep(0.02)
    assert answer.get("ok") is True, answer
    assert answer["content"]["task"]["id"] == 1
