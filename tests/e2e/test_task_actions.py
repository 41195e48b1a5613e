"""A manager's actions on chosen tasks over HTTP: retry, cancel, priority and take back, on a
selection of ids or on every task a filter matches (counted, then confirmed), refused without
ROLE_MAINTENANCE, recorded in each task's history with the manager as actor, and the same
after a restart, from a checkpoint or a full replay."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_time_travel import statuses_along_the_log
from tests.e2e.test_two_nodes import node_settings, nodes, on
from tests.world import NO_TASK, Answer, Caller, World
from tracker import bootstrap
from tracker.checkpoints.directory import DIRECTORY
from tracker.projections import digest

__all__ = ["nodes"]  # the two nodes' fixture

MAINTENANCE, ALL_BUT_MAINTENANCE = 16, 15


@dataclass
class Shop:
    """Tasks of the world's project: ``queued`` (recipes q0..q2), ``assigned`` (a0, a1, held
    by worker 0) and ``failed`` (f0, f1), each in submission order."""

    queued: list[int]
    assigned: list[int]
    failed: list[int]


async def shop(world: World) -> Shop:
    failed = [await submitted(world, f"f{n}") for n in range(2)]
    for _ in failed:
        task = await world.task()
        assert (await world.release(task["id"], 1)).ok
    assigned = [await submitted(world, f"a{n}") for n in range(2)]
    for _ in assigned:
        await world.task()
    queued = [await submitted(world, f"q{n}") for n in range(3)]
    return Shop(queued, assigned, failed)


async def submitted(world: World, recipe: str, **fields: Any) -> int:
    answer = await world.submit(recipe, **fields)
    assert answer.ok, answer
    return world.tracker.state.tasks.next_id - 1


async def act(caller: Caller, action: str, body: Any, project: int | str = 0, query: str = "",
              **options: Any) -> Answer:  # fmt: skip
    project = project or caller.world.project
    return await caller.post(f"/project/tasks/{project}/{action}{query}", body, **options)


async def count(caller: Caller, action: str, query: str = "", **options: Any) -> Answer:
    path = f"/project/tasks/{caller.world.project}/count?action={action}{query}"
    return await caller.get(path, **options)


async def counted(caller: Caller, action: str, query: str = "") -> int:
    return int((await count(caller, action, query, status=200)).content["count"])


async def history(world: World, task_id: int) -> dict[str, Any]:
    return dict((await world.admin.get(f"/task/history/{task_id}", status=200)).content)


def last_event(found: dict[str, Any]) -> tuple[str, str]:
    event = found["events"][-1]
    return event["type"], event["event"]["actor"]


# -- each action on a selection -------------------------------------------------------------


async def test_retry_queues_failed_tasks_again_with_their_attempts_from_zero(world: World) -> None:
    s = await shop(world)
    answer = await act(world.admin, "retry", {"task_ids": [*s.failed, s.queued[0]]}, status=200)
    assert answer.content == {"touched": 2, "skipped": [s.queued[0]]}
    found = await history(world, s.failed[0])
    assert last_event(found) == ("FailedTasksReset", f"manager:{world.admin.id}")
    assert found["task"]["state"] == "queued"
    handed = await world.drain()
    assert [t["id"] for t in handed] == [*s.queued, *s.failed]  # behind the queued ones
    assert [t["retries"] for t in handed[-2:]] == [0, 0]  # their attempts counted anew


async def test_cancel_deletes_queued_tasks_and_their_hash_can_come_again(world: World) -> None:
    s = await shop(world)
    hashed = await submitted(world, "h", hash_u64=77)
    answer = await act(world.admin, "cancel", {"task_ids": [s.queued[1], hashed]}, status=200)
    assert answer.content == {"touched": 2, "skipped": []}
    found = await history(world, hashed)
    assert last_event(found) == ("QueuedTasksCancelled", f"manager:{world.admin.id}")
    assert found["task"]["state"] == "cancelled"
    assert [t["id"] for t in await world.drain()] == [s.queued[0], s.queued[2]]
    assert (await world.submit("h again", hash_u64=77)).ok


async def test_a_new_priority_changes_the_order_tasks_are_handed_out(world: World) -> None:
    s = await shop(world)
    body = {"task_ids": [s.queued[2], s.assigned[0]], "priority": 9}
    answer = await act(world.admin, "priority", body, status=200)
    assert answer.content == {"touched": 1, "skipped": [s.assigned[0]]}
    assert last_event(await history(world, s.queued[2])) == (
        "TasksReprioritized", f"manager:{world.admin.id}")  # fmt: skip
    assert [t["id"] for t in await world.drain()] == [s.queued[2], s.queued[0], s.queued[1]]
    again = await act(world.admin, "priority", {"task_ids": [s.queued[2]], "priority": 9})
    assert again.status == 409 and "queued at another priority" in again.message


async def test_take_back_queues_the_task_and_its_worker_no_longer_holds_it(world: World) -> None:
    s = await shop(world)
    answer = await act(world.admin, "take_back", {"task_ids": [s.assigned[1]]}, status=200)
    assert answer.content == {"touched": 1, "skipped": []}
    found = await history(world, s.assigned[1])
    assert last_event(found) == ("AssignedTasksReclaimed", f"manager:{world.admin.id}")
    assert found["task"] == {**found["task"], "state": "queued", "assignee": 0}
    late = await world.release(s.assigned[1], 0)
    assert late.content == {"updated": False}  # the worker's late release changes nothing
    assert s.assigned[1] in [t["id"] for t in await world.drain(by=1)]


# -- every task matching a filter -----------------------------------------------------------


async def test_all_matching_acts_on_the_count_confirmed_and_one_event_lists_them(
    world: World,
) -> None:
    s = await shop(world)
    where = "&recipe=q&state=queued"
    assert await counted(world.admin, "cancel", where) == 3
    assert await counted(world.admin, "cancel", "&recipe=q1") == 1
    assert await counted(world.admin, "retry") == 2  # a retry counts only failed tasks
    assert await counted(world.admin, "priority", "&recipe=q&priority=0") == 0
    before = await world.log_head()

    answer = await act(world.admin, "priority", {"confirm": 3, "priority": 4},
                       query="?recipe=q&state=queued")  # fmt: skip

    assert answer.content == {"touched": 3, "skipped": []}
    assert await world.log_head() == before + 1  # one event for the three
    for task_id in s.queued:
        assert last_event(await history(world, task_id))[0] == "TasksReprioritized"


async def test_all_matching_refuses_to_touch_more_than_confirmed(world: World) -> None:
    await shop(world)
    assert await counted(world.admin, "cancel", "&recipe=q") == 3
    await submitted(world, "q3")  # one more matches since the count was shown
    before = await world.log_head()
    answer = await act(world.admin, "cancel", {"confirm": 3}, query="?recipe=q")
    assert (answer.status, answer.message) == (
        409, "4 tasks match now, more than the 3 confirmed: confirm again")  # fmt: skip
    assert await world.log_head() == before
    answer = await act(world.admin, "cancel", {"confirm": 4}, query="?recipe=q", status=200)
    assert answer.content["touched"] == 4
    assert (await world.assign()).body == NO_TASK


async def test_all_matching_with_fewer_tasks_than_confirmed_acts_on_those_left(
    world: World,
) -> None:
    s = await shop(world)
    await world.task()  # q0 is assigned between the count and the confirmation
    answer = await act(world.admin, "cancel", {"confirm": 3}, query="?recipe=q")
    assert answer.content == {"touched": 2, "skipped": []}
    assert world.tracker.state.tasks.get(s.queued[0]) is not None


# -- who may act, bad input, unknown tasks ---------------------------------------------------


@pytest.mark.parametrize("action", ["retry", "cancel", "priority", "take_back"])
async def test_only_a_manager_with_the_maintenance_role_may_act(world: World, action: str) -> None:
    s = await shop(world)
    ids = {"task_ids": [*s.failed, *s.queued, *s.assigned], "priority": 3}
    keeper, reader = await world.register("keeper"), await world.register("reader")
    await world.set_role(world.project, keeper, MAINTENANCE)
    await world.set_role(world.project, reader, ALL_BUT_MAINTENANCE)
    before = await world.log_head()
    for caller, status in ((world.anonymous, 403), (world.worker, 403), (reader, 403)):
        answer = await act(caller, action, ids)
        assert (answer.status, answer.ok) == (status, False), (caller.name, answer)
    assert (await act(world.admin, action, ids, project=99)).status == 404
    assert await world.log_head() == before
    assert (await act(keeper, action, ids)).status == 200


async def test_a_filter_needs_the_right_to_list_the_tasks_and_then_the_role_to_act(
    world: World,
) -> None:
    await shop(world)
    keeper, reader = await world.register("keeper"), await world.register("reader")
    await world.set_role(world.project, keeper, MAINTENANCE)
    await world.set_role(world.project, reader, ALL_BUT_MAINTENANCE)
    before = await world.log_head()
    for caller, status, counting in ((world.anonymous, 401, 401), (world.worker, 401, 401),
                                     (keeper, 403, 403), (reader, 403, 200)):  # fmt: skip
        answer = await act(caller, "cancel", {"confirm": 3}, query="?recipe=q")
        assert (answer.status, answer.ok) == (status, False), (caller.name, answer)
        assert (await count(caller, "cancel")).status == counting, caller.name
    assert "Read role" in (await count(keeper, "cancel")).message
    assert await world.log_head() == before
    assert (await counted(reader, "cancel", "&recipe=q")) == 3  # a reader may count


async def test_bad_input_is_a_400_that_says_what_is_wrong_and_appends_nothing(
    world: World,
) -> None:
    s = await shop(world)
    before = await world.log_head()
    admin, ids = world.admin, {"task_ids": s.queued}
    cases: list[tuple[str, Any, str, str]] = [
        ("cancel", {"task_ids": []}, "", "Name at least one task"),
        ("cancel", {}, "", "Name at least one task"),
        ("cancel", {"task_ids": "1,2"}, "", "Expected `array`, got `str` - at `$.task_ids`"),
        ("cancel", {"task_ids": [1.5]}, "", "Expected `int`, got `float` - at `$.task_ids[0]`"),
        ("cancel", {**ids, "confirm": 3}, "", "send task_ids or a filter, not both"),
        ("cancel", ids, "?recipe=q", "send task_ids or a filter, not both"),
        ("cancel", {}, "?recipe=q", "a filter needs confirm"),
        ("cancel", {"confirm": -1}, "", "a filter needs confirm"),
        ("cancel", {"confirm": 3}, "?recpie=q", "recpie is not a parameter"),
        ("cancel", {"confirm": 3}, "?state=lost", "state must be one of queued,"),
        ("cancel", {"confirm": 3}, "?recipe=q&limit=5", "limit is for listing"),
        ("priority", {**ids, "priority": 40000}, "",
         "Invalid priority: it must be between -32768 and 32767"),
    ]  # fmt: skip
    for action, body, query, message in cases:
        answer = await act(admin, action, body, query=query)
        assert (answer.status, answer.ok) == (400, False), (body, query, answer)
        assert message in answer.message, (body, query, answer)
    assert (await act(admin, "cancel", None, data=b"{")).status == 400
    assert (await act(admin, "cancel", ids, project="x")).message == "Invalid project id"
    for query, message in (("delete", "action must be one of retry, cancel, priority, take_back"),
                           ("priority&priority=x", "priority: strconv.ParseInt"),
                           ("priority&priority=40000", "Invalid priority: it must be between"),
                           ("retry&cursor=abc", "cursor is for listing")):  # fmt: skip
        answer = await count(admin, query)
        assert answer.status == 400 and message in answer.message, answer
    assert await world.log_head() == before


async def test_unknown_tasks_and_tasks_of_another_project_are_skipped_never_touched(
    world: World,
) -> None:
    s = await shop(world)
    other = await world.add_project("other")
    theirs = await submitted(world, "theirs", project=other)
    before = await world.log_head()
    nothing = await act(world.admin, "cancel", {"task_ids": [9999, theirs]})
    told = f"Nothing to do: no task asked for in project {world.project} is queued now"
    assert (nothing.status, nothing.message) == (409, told)
    assert await world.log_head() == before
    answer = await act(world.admin, "cancel", {"task_ids": [9999, s.queued[0], theirs]})
    assert answer.content == {"touched": 1, "skipped": [9999, theirs]}
    assert world.tracker.state.tasks.get(theirs) is not None


# -- replay ---------------------------------------------------------------------------------


async def test_after_a_restart_the_state_is_the_same_from_a_checkpoint_or_a_full_replay(
    world: World, data_dir: Path
) -> None:
    s = await shop(world)
    admin = world.admin
    await act(admin, "retry", {"task_ids": s.failed[:1]}, status=200)
    await act(admin, "cancel", {"task_ids": s.queued[:1]}, status=200)
    await act(admin, "priority", {"task_ids": s.queued[1:], "priority": -2}, status=200)
    await act(admin, "take_back", {"confirm": 2}, status=200)  # every assigned task
    await world.task()  # the queue is walked after a task changed lanes
    along = await statuses_along_the_log(world)  # time travel folds them as the live models
    assert along[-1][world.project] is not None
    digests, order = digest.compute(world.tracker.state), queue_of(world)

    await world.restart()
    assert digest.compute(world.tracker.state) == digests and queue_of(world) == order
    await world.client.close()
    shutil.rmtree(data_dir / DIRECTORY, ignore_errors=True)
    await world.restart()
    assert digest.compute(world.tracker.state) == digests and queue_of(world) == order


def queue_of(world: World) -> list[int]:
    return list(world.tracker.state.tasks.projects[world.project].queue)


# -- two nodes on one PostgreSQL log ----------------------------------------------------------


async def test_on_two_nodes_a_count_on_one_and_the_action_on_the_other_agree(
    nodes: list[World], tmp_path: Path, pg_dsn: str
) -> None:
    """Counted on node a, confirmed on node b, while a worker takes one of the tasks through
    node a: each node decides in the writer's turn against the whole log, and both nodes'
    read models equal a fresh replay."""
    a, b = nodes
    admin = await a.register("admin")
    project = await b.create_project("alpha", by=on(b, admin))
    worker = await a.new_worker("w1")
    await b.grant(on(b, worker), project, by=on(b, admin))
    for n in range(4):
        assert (await a.submit(f"batch-{n}", by=worker, project=project)).ok
    path = f"/project/tasks/{project}/count?action=cancel&recipe=batch"
    assert (await admin.get(path, status=200)).content == {"count": 4}
    taken = await on(b, worker).get(f"/task/get/{project}")
    assert taken.ok, taken
    answer = await on(b, admin).post(f"/project/tasks/{project}/cancel?recipe=batch",
                                      {"confirm": 4}, status=200)  # fmt: skip
    assert answer.content == {"touched": 3, "skipped": []}
    held = taken.content["task"]["id"]
    back = await admin.post(f"/project/tasks/{project}/take_back", {"task_ids": [held]})
    assert back.content == {"touched": 1, "skipped": []}, back
    for node in nodes:
        await node.tracker.caught_up()
    fresh = await bootstrap.open_tracker(node_settings(tmp_path, "fresh", pg_dsn))
    try:
        expected = digest.compute(fresh.state)
        assert expected == digest.compute(a.tracker.state) == digest.compute(b.tracker.state)
    finally:
        await fresh.store.close()
