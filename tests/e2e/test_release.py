"""``POST /task/release`` over HTTP: OK, FAIL, SKIP and unknown results, retries and FAILED
(behavior.md 6.7, 7.3; section 14's ``max_retries`` 0 scenario)."""

from __future__ import annotations

import pytest

from tests.world import CLOSED, NO_TASK, NOT_CLOSED, World
from tracker.events.store import read_events
from tracker.events.tasks import Outcome, TaskReleased
from tracker.http.routes.tasks import MAX_REASON_BYTES

OK, FAIL, SKIP = 0, 1, 2


async def test_ok_closes_the_task_for_good(world: World) -> None:
    await world.submit()
    task = await world.task()
    assert await world.release(task["id"], OK) == CLOSED
    assert await world.assign(by=1) == NO_TASK
    assert world.tracker.state.tasks.get(task["id"]) is None
    assert await world.release(task["id"], OK) == NOT_CLOSED


async def test_closing_credits_the_worker_and_the_project(world: World) -> None:
    await world.submit()
    assert await world.release((await world.task(by=1))["id"], OK, by=1) == CLOSED
    state = world.tracker.state
    assert state.workers.get(world.workers[1].id).closed_task_count == 1  # type: ignore[union-attr]
    assert state.workers.get(world.workers[0].id).closed_task_count == 0  # type: ignore[union-attr]
    assert state.projects.get(world.project).closed_task_count == 1  # type: ignore[union-attr]


async def test_fail_with_max_retries_zero_fails_the_task_at_once(world: World) -> None:
    """Section 14: ``max_retries`` 0 with FAIL → ``updated`` true and the task is FAILED."""
    await world.submit(max_retries=0)
    task = await world.task()
    assert await world.release(task["id"], FAIL) == CLOSED
    assert world.tracker.state.tasks.get(task["id"]).status == 2  # type: ignore[union-attr]
    assert await world.assign() == NO_TASK
    assert await world.assign(by=1) == NO_TASK


@pytest.mark.parametrize("max_retries", [1, 2, 3])
async def test_max_retries_is_the_number_of_attempts(world: World, max_retries: int) -> None:
    await world.submit(max_retries=max_retries)
    for attempt in range(1, max_retries + 1):
        task = await world.task(by=attempt % 2)
        assert task["retries"] == attempt - 1
        assert await world.release(task["id"], FAIL, by=attempt % 2) == CLOSED
    assert await world.assign() == NO_TASK
    failed = world.tracker.state.tasks.get(1)
    assert failed is not None and (failed.status, failed.retries) == (2, max_retries)


async def test_a_failed_attempt_goes_to_the_back_of_its_priority(world: World) -> None:
    await world.submit("first", max_retries=5)
    await world.submit("second")
    first = await world.task()
    await world.release(first["id"], FAIL)
    assert [(await world.task(by=1))["recipe"] for _ in range(2)] == ["second", "first"]


async def test_skip_gives_the_task_back_unchanged(world: World) -> None:
    await world.submit(max_retries=1)
    task = await world.task()
    assert await world.release(task["id"], SKIP) == CLOSED
    again = await world.task()
    assert (again["id"], again["retries"], again["status"]) == (task["id"], 0, 1)


@pytest.mark.parametrize("result", [3, -1, 255, 2**40])
async def test_an_unknown_result_changes_nothing(world: World, result: int) -> None:
    await world.submit()
    task = await world.task()
    before, logged = world.position(), await world.log_head()
    assert await world.release(task["id"], result) == NOT_CLOSED
    assert (world.position(), await world.log_head()) == (before, logged)
    assert await world.assign(by=1) == NO_TASK  # still assigned to worker 0
    assert await world.release(task["id"], OK) == CLOSED


@pytest.mark.parametrize("result", [OK, FAIL, SKIP])
async def test_only_the_assignee_can_release(world: World, result: int) -> None:
    await world.submit()
    task = await world.task()
    assert await world.release(task["id"], result, by=1) == NOT_CLOSED
    assert await world.release(task["id"], OK) == CLOSED


@pytest.mark.parametrize("task_id", [99, -1, 2**63 - 1])
async def test_releasing_an_unknown_task_is_not_an_update(world: World, task_id: int) -> None:
    before = world.position()
    assert await world.release(task_id, OK) == NOT_CLOSED
    assert world.position() == before


async def test_releasing_a_queued_task_is_not_an_update(world: World) -> None:
    await world.submit()
    assert await world.release(1, OK) == NOT_CLOSED
    assert (await world.task())["id"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"task_id": 0, "result": 0}, "Invalid request"),
        ({"result": 0}, "Invalid request"),
        ({"task_id": None}, "Invalid request"),
    ],
)
async def test_task_id_zero_or_missing_is_an_invalid_request(
    world: World, body: dict, message: str
) -> None:
    answer = await world.worker.post("/task/release", body, status=400)
    assert answer == {"ok": False, "message": message}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"task_id": "1"}',
        b'{"task_id": 1.0}',
        b'{"task_id": 1, "result": "0"}',
        b'{"task_id": 1, "result": 0.5}',
        b'{"task_id": 1, "verification": 9223372036854775808}',
        b'{"task_id": 1, "verification": -9223372036854775809}',
        b'{"task_id": 18446744073709551616}',
        b"[1]",
    ],
)
async def test_a_malformed_release_cannot_be_parsed(world: World, body: bytes) -> None:
    await world.submit()
    await world.task()
    before = world.position()
    answer = await world.worker.post("/task/release", data=body)
    assert answer.status == 400
    assert answer["ok"] is False and answer["message"].startswith("Could not parse request")
    assert world.position() == before


async def test_release_authenticates_with_403(world: World) -> None:
    answer = await world.anonymous.post("/task/release", {"task_id": 1, "result": 0})
    assert answer.status == 403
    assert answer.body == {"ok": False, "message": "worker id not specified"}


async def test_a_paused_worker_in_a_paused_project_can_still_release(world: World) -> None:
    await world.submit()
    task = await world.task()
    await world.pause_worker(world.worker)
    await world.update_project(paused=True)
    assert await world.release(task["id"], OK) == CLOSED


async def released(world: World) -> list[TaskReleased]:
    return [r.event async for r in read_events(world.tracker.store)
            if isinstance(r.event, TaskReleased)]  # fmt: skip


async def test_a_release_keeps_the_reason_the_worker_gave(world: World) -> None:
    await world.submit(max_retries=2)
    task = await world.task()
    head = "exit status 3: KeyError: 'url' \u2014 \u00e9"
    reason = head + "x" * (MAX_REASON_BYTES - len(head.encode()))
    assert len(reason.encode()) == MAX_REASON_BYTES
    assert await world.release(task["id"], FAIL, reason=reason) == CLOSED
    await world.release((await world.task())["id"], OK)
    assert [(e.outcome, e.reason) for e in await released(world)] == [
        (Outcome.RETRY, reason), (Outcome.CLOSED, "")]  # fmt: skip


@pytest.mark.parametrize("reason", ["x" * (MAX_REASON_BYTES + 1), "\u00e9" * 2049, 42, ["x"]])
async def test_a_reason_too_long_or_not_text_is_refused(world: World, reason: object) -> None:
    await world.submit()
    task = await world.task()
    answer = await world.release(task["id"], FAIL, reason=reason)
    assert answer.status == 400 and answer.ok is False
    expected = "reason is longer than 4096 bytes" if isinstance(reason, str) else "reason"
    assert expected in answer.message, answer
    assert await released(world) == []
    assert world.tracker.state.tasks.get(task["id"]).assignee  # type: ignore[union-attr]
