"""``/task/touch`` over HTTP: a worker that still holds a task moves its deadline later, as an
event; the scheduler's expiry respects the new deadline (also when it runs by itself, and
after a restart); a worker that no longer holds the task is refused with 409."""

from __future__ import annotations

import pytest

from tests.conftest import Clock
from tests.waiting import eventually
from tests.world import CLOSED, NO_TASK, MakeClient, World, amend
from tracker import config
from tracker.events.store import read_events
from tracker.events.tasks import AssignmentExtended

LONGEST = 600


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return amend(settings, tasks={"default_max_assign_time": 120.0, "max_keep_alive": LONGEST})


async def expire(world: World) -> int:
    return await world.tracker.expire_due()


def not_yours(task_id: int) -> dict:
    return {"ok": False, "message": f"Task {task_id} is not assigned to you: it was released, "
            "or taken back when its deadline passed"}  # fmt: skip


async def test_a_kept_task_is_not_taken_back_at_its_old_deadline(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=60)
    task = await world.task()
    clock.advance(50)
    touched = await world.touch(task["id"])
    assert touched.status == 200 and touched.content == {
        "deadline": clock.now + 60, "remaining": 60.0}  # fmt: skip
    clock.advance(20)  # past the first deadline
    assert await expire(world) == 0
    assert await world.assign(by=1) == NO_TASK
    clock.advance(41)  # past the new one
    assert await expire(world) == 1
    assert (await world.task(by=1))["id"] == task["id"]


async def test_a_keep_alive_may_ask_for_seconds_within_the_bound(
    world: World, clock: Clock
) -> None:
    await world.submit()  # max_assign_time 0: the default, 120 s
    task = await world.task()
    clock.advance(10)
    assert (await world.touch(task["id"])).content["deadline"] == clock.now + 120
    asked = await world.touch(task["id"], seconds=LONGEST)
    assert asked.content["deadline"] == clock.now + LONGEST
    earlier = await world.touch(task["id"], seconds=10)  # never earlier: nothing appended
    assert earlier.content["deadline"] == clock.now + LONGEST
    extended = [r.event async for r in read_events(world.tracker.store)
                if isinstance(r.event, AssignmentExtended)]  # fmt: skip
    assert [e.deadline - clock.now for e in extended] == [120, LONGEST]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"task_id": 1, "seconds": LONGEST + 1}, f"seconds must be between 0 and {LONGEST}"),
        ({"task_id": 1, "seconds": -1}, f"seconds must be between 0 and {LONGEST}"),
        ({"task_id": 0}, "task_id must be a positive task id"),
        ({"seconds": 5}, "task_id must be a positive task id"),
    ],
)
async def test_a_malformed_keep_alive_is_refused(world: World, body: dict, message: str) -> None:
    await world.submit()
    await world.task()
    before = world.position()
    answer = await world.worker.post("/task/touch", body)
    assert (answer.status, answer.body) == (
        400,
        {"ok": False, "message": f"Invalid request: {message}"},
    )
    assert world.position() == before


async def test_a_task_taken_back_and_given_to_another_cannot_be_kept(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=10)
    task = await world.task(by=0)
    clock.advance(11)
    assert await expire(world) == 1
    assert (await world.touch(task["id"], by=0)).body == not_yours(task["id"])
    await world.task(by=1)
    refused = await world.touch(task["id"], by=0)
    assert (refused.status, refused.body) == (409, not_yours(task["id"]))
    assert (await world.touch(task["id"], by=1)).status == 200  # the new holder may


async def test_a_released_or_unknown_task_cannot_be_kept(world: World) -> None:
    await world.submit()
    task = await world.task()
    assert await world.release(task["id"], 0) == CLOSED
    for task_id in (task["id"], 999):
        answer = await world.touch(task_id)
        assert (answer.status, answer.body) == (409, not_yours(task_id))
    nobody = await world.anonymous.post("/task/touch", {"task_id": 1})
    assert (nobody.status, nobody.message) == (403, "worker id not specified")


async def test_a_deadline_that_passed_still_counts_until_it_is_taken_back(
    world: World, clock: Clock
) -> None:
    await world.submit(max_assign_time=10)
    task = await world.task()
    clock.advance(15)  # due, but the scheduler has not run yet
    assert (await world.touch(task["id"])).status == 200
    assert await expire(world) == 0


async def test_a_kept_deadline_survives_a_restart(world: World, clock: Clock) -> None:
    await world.submit(max_assign_time=60)
    task = await world.task()
    clock.advance(30)
    await world.touch(task["id"])
    await world.restart()
    clock.advance(40)  # past the first deadline, before the kept one
    assert await expire(world) == 0
    clock.advance(30)
    assert await expire(world) == 1


async def test_the_scheduler_running_by_itself_respects_a_kept_deadline(
    make_client: MakeClient, settings: config.Settings, clock: Clock
) -> None:
    fast = amend(settings, maintenance={"reset_timed_out_tasks_interval": 0.02})
    world = await (await World.start(make_client, fast)).open(workers=2)
    await world.submit("kept", max_assign_time=5)
    await world.submit("let go", max_assign_time=1)
    kept, let_go = await world.task(by=0), await world.task(by=0)
    clock.advance(4)
    await world.touch(kept["id"], by=0)  # its deadline moves from 5 to 9
    clock.advance(2)  # the tracker's clock is past 5: the job runs on real time, every 20 ms

    async def given_back(task_id: int) -> bool:
        answer = await world.assign(by=1)
        return answer != NO_TASK and answer["content"]["task"]["id"] == task_id

    # the other task coming back shows the job ran after the clock passed 5: it left the kept one
    await eventually(lambda: given_back(let_go["id"]), within=3, what="the let-go task back")
    assert await world.assign(by=1) == NO_TASK
    clock.advance(4)  # past 9
    await eventually(lambda: given_back(kept["id"]), within=3, what="the kept task back")
    refused = await world.touch(kept["id"], by=0)
    assert (refused.status, refused.body) == (409, not_yours(kept["id"]))


async def test_keep_alive_off_answers_404_and_says_so(
    make_client: MakeClient, settings: config.Settings
) -> None:
    off = amend(settings, tasks={"max_keep_alive": 0})
    world = await (await World.start(make_client, off)).open(workers=1)
    await world.submit()
    await world.task()
    answer = await world.touch(1)
    assert (answer.status, answer.body) == (404, {"ok": False, "message": "Not found"})
    assert (await world.anonymous.get("/", status=200)).content["max_keep_alive"] == 0


async def test_a_kept_task_reads_as_assigned_in_its_history(world: World, clock: Clock) -> None:
    """The history's summary folds the task's first and last events: with keep-alives last,
    they still say who holds it."""
    await world.submit(max_assign_time=60)
    task = await world.task()
    for _ in range(3):
        clock.advance(40)
        assert (await world.touch(task["id"])).status == 200
    history = await world.admin.get(f"/task/history/{task['id']}", status=200)
    assert [e["type"] for e in history.content["events"]][-3:] == ["AssignmentExtended"] * 3
    summary = history.content["task"]
    assert (summary["state"], summary["assignee"]) == ("assigned", world.worker.id)
