"""``POST /task/release`` over HTTP: OK, FAIL, SKIP and unknown results, retries and FAILED
(behavior.md 6.7, 7.3; section 14's ``max_retries`` 0 scenario)."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.e2e.support import (
    CLOSED,
    NO_TASK,
    NOT_CLOSED,
    Desk,
    log_head,
    pause_worker,
    position,
    update_project,
)
from tests.world import tracker_of

OK, FAIL, SKIP = 0, 1, 2


async def test_ok_closes_the_task_for_good(desk: Desk) -> None:
    await desk.submit()
    task = await desk.task()
    assert await desk.release(task["id"], OK) == CLOSED
    assert await desk.assign(by=1) == NO_TASK
    assert tracker_of(desk.client).state.tasks.get(task["id"]) is None
    assert await desk.release(task["id"], OK) == NOT_CLOSED


async def test_closing_credits_the_worker_and_the_project(desk: Desk) -> None:
    await desk.submit()
    assert await desk.release((await desk.task(by=1))["id"], OK, by=1) == CLOSED
    state = tracker_of(desk.client).state
    assert state.workers.get(desk.workers[1]["id"]).closed_task_count == 1  # type: ignore[union-attr]
    assert state.workers.get(desk.workers[0]["id"]).closed_task_count == 0  # type: ignore[union-attr]
    assert state.projects.get(desk.project).closed_task_count == 1  # type: ignore[union-attr]


async def test_fail_with_max_retries_zero_fails_the_task_at_once(desk: Desk) -> None:
    """Section 14: ``max_retries`` 0 with FAIL → ``updated`` true and the task is FAILED."""
    await desk.submit(max_retries=0)
    task = await desk.task()
    assert await desk.release(task["id"], FAIL) == CLOSED
    assert tracker_of(desk.client).state.tasks.get(task["id"]).status == 2  # type: ignore[union-attr]
    assert await desk.assign() == NO_TASK
    assert await desk.assign(by=1) == NO_TASK


@pytest.mark.parametrize("max_retries", [1, 2, 3])
async def test_max_retries_is_the_number_of_attempts(desk: Desk, max_retries: int) -> None:
    await desk.submit(max_retries=max_retries)
    for attempt in range(1, max_retries + 1):
        task = await desk.task(by=attempt % 2)
        assert task["retries"] == attempt - 1
        assert await desk.release(task["id"], FAIL, by=attempt % 2) == CLOSED
    assert await desk.assign() == NO_TASK
    failed = tracker_of(desk.client).state.tasks.get(1)
    assert failed is not None and (failed.status, failed.retries) == (2, max_retries)


async def test_a_failed_attempt_goes_to_the_back_of_its_priority(desk: Desk) -> None:
    await desk.submit("first", max_retries=5)
    await desk.submit("second")
    first = await desk.task()
    await desk.release(first["id"], FAIL)
    assert [(await desk.task(by=1))["recipe"] for _ in range(2)] == ["second", "first"]


async def test_skip_gives_the_task_back_unchanged(desk: Desk) -> None:
    await desk.submit(max_retries=1)
    task = await desk.task()
    assert await desk.release(task["id"], SKIP) == CLOSED
    again = await desk.task()
    assert (again["id"], again["retries"], again["status"]) == (task["id"], 0, 1)


@pytest.mark.parametrize("result", [3, -1, 255, 2**40])
async def test_an_unknown_result_changes_nothing(desk: Desk, result: int) -> None:
    await desk.submit()
    task = await desk.task()
    before, logged = position(desk.api), await log_head(desk.api)
    assert await desk.release(task["id"], result) == NOT_CLOSED
    assert (position(desk.api), await log_head(desk.api)) == (before, logged)
    assert await desk.assign(by=1) == NO_TASK  # still assigned to worker 0
    assert await desk.release(task["id"], OK) == CLOSED


@pytest.mark.parametrize("result", [OK, FAIL, SKIP])
async def test_only_the_assignee_can_release(desk: Desk, result: int) -> None:
    await desk.submit()
    task = await desk.task()
    assert await desk.release(task["id"], result, by=1) == NOT_CLOSED
    assert await desk.release(task["id"], OK) == CLOSED


@pytest.mark.parametrize("task_id", [99, -1, 2**63 - 1])
async def test_releasing_an_unknown_task_is_not_an_update(desk: Desk, task_id: int) -> None:
    before = position(desk.api)
    assert await desk.release(task_id, OK) == NOT_CLOSED
    assert position(desk.api) == before


async def test_releasing_a_queued_task_is_not_an_update(desk: Desk) -> None:
    await desk.submit()
    assert await desk.release(1, OK) == NOT_CLOSED
    assert (await desk.task())["id"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"task_id": 0, "result": 0}, "Invalid request"),
        ({"result": 0}, "Invalid request"),
        ({"task_id": None}, "Invalid request"),
    ],
)
async def test_task_id_zero_or_missing_is_an_invalid_request(
    desk: Desk, body: dict, message: str
) -> None:
    answer = await desk.api.call("POST", "/task/release", body, worker=desk.worker, status=400)
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
async def test_a_malformed_release_cannot_be_parsed(desk: Desk, body: bytes) -> None:
    await desk.submit()
    await desk.task()
    before = position(desk.api)
    headers = {"X-Worker-Id": str(desk.worker["id"]), "X-Secret": desk.worker["secret"]}
    response = await desk.client.post("/task/release", data=body, headers=headers)
    assert response.status == 400
    answer = await response.json()
    assert answer["ok"] is False and answer["message"].startswith("Could not parse request")
    assert position(desk.api) == before


async def test_release_authenticates_with_403(desk: Desk) -> None:
    response = await desk.client.post("/task/release", json={"task_id": 1, "result": 0})
    assert response.status == 403
    assert await response.json() == {"ok": False, "message": "worker id not specified"}


async def test_a_paused_worker_in_a_paused_project_can_still_release(api: Api, desk: Desk) -> None:
    await desk.submit()
    task = await desk.task()
    await pause_worker(api, desk.worker)
    await update_project(api, desk.project, paused=True)
    assert await desk.release(task["id"], OK) == CLOSED
