"""Each project's ``assign_rate`` and ``submit_rate`` over HTTP, on a clock the test moves.

Capacity one, as the original: the n+1-th request inside the window is refused with 429 and
``rate_limit_delay``, and passes once that delay has passed. A bulk submit costs one token per
task and is admitted when the bucket is full (the original refused it forever, 13.13). Rates
change when the project is updated.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Clock
from tests.e2e.support import NO_TASK, log_head, open_desk, update_project
from tests.world import tracker_of


def too_many(delay: float) -> dict:
    return {"ok": False, "message": "Too many requests", "rate_limit_delay": delay}


async def submit(api: Api, worker: dict, project: int, recipe: str = "r") -> tuple[int, dict]:
    body = {"project": project, "recipe": recipe}
    headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}
    response = await api.client.post("/task/submit", json=body, headers=headers)
    return response.status, await response.json()


async def bulk(api: Api, worker: dict, project: int, n: int) -> tuple[int, dict]:
    body = {"requests": [{"project": project, "recipe": f"r{i}"} for i in range(n)]}
    headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}
    response = await api.client.post("/task/bulk_submit", json=body, headers=headers)
    return response.status, await response.json()


async def assign(api: Api, worker: dict, project: int) -> tuple[int, dict]:
    headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}
    response = await api.client.get(f"/task/get/{project}", headers=headers)
    return response.status, await response.json()


async def test_the_second_submit_inside_the_window_waits_and_then_passes(
    api: Api, clock: Clock
) -> None:
    desk = await open_desk(api, submit_rate=2)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    head = await log_head(api)
    assert await submit(api, desk.worker, desk.project) == (429, too_many(0.5))
    clock.advance(0.25)
    assert await submit(api, desk.worker, desk.project) == (429, too_many(0.25))
    assert await log_head(api) == head  # refused: nothing appended
    clock.advance(0.25)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})


async def test_the_second_assignment_inside_the_window_waits_and_then_passes(
    api: Api, clock: Clock
) -> None:
    desk = await open_desk(api, assign_rate=0.5)
    for recipe in "ab":
        await desk.submit(recipe)
    status, answer = await assign(api, desk.worker, desk.project)
    assert status == 200 and answer["content"]["task"]["recipe"] == "a"
    assert await assign(api, desk.worker, desk.project) == (429, too_many(2.0))
    clock.advance(1.5)
    assert await assign(api, desk.worker, desk.project) == (429, too_many(0.5))
    clock.advance(0.5)
    status, answer = await assign(api, desk.worker, desk.project)
    assert status == 200 and answer["content"]["task"]["recipe"] == "b"


async def test_a_refused_request_takes_no_token(api: Api, clock: Clock) -> None:
    """Buckets are folded from the events that take tokens, so a request that appends nothing
    (no task available, no submit access) leaves the bucket as it was. The original charged
    them (docs/compatibility.md)."""
    desk = await open_desk(api, assign_rate=1, submit_rate=1)
    assert await assign(api, desk.worker, desk.project) == (200, NO_TASK)
    stranger = await api.create_worker("stranger")
    refused = await submit(api, stranger, desk.project)
    assert refused == (400, {"ok": False, "message": "unauthorized task submit"})
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    assert (await assign(api, desk.worker, desk.project))[1]["ok"] is True
    assert await assign(api, desk.worker, desk.project) == (429, too_many(1.0))


async def test_the_buckets_survive_a_restart(api: Api, clock: Clock, make_client: Any) -> None:
    """They are read models of the log: a restarted tracker (or another node) holds the same."""
    desk = await open_desk(api, submit_rate=0.5)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    await api.client.close()
    again = Api(await make_client())
    assert await submit(again, desk.worker, desk.project) == (429, too_many(2.0))


async def test_a_bulk_larger_than_one_token_is_admitted_and_later_requests_wait_for_it(
    api: Api, clock: Clock
) -> None:
    desk = await open_desk(api, submit_rate=1)
    assert await bulk(api, desk.worker, desk.project, 5) == (200, {"ok": True})
    assert await submit(api, desk.worker, desk.project) == (429, too_many(5.0))
    clock.advance(5)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    assert tracker_of(api.client).state.tasks.of(desk.project).live == 6


async def test_a_bulk_arriving_before_the_refill_is_admitted_after_its_delay(
    api: Api, clock: Clock
) -> None:
    desk = await open_desk(api, submit_rate=2)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    clock.advance(0.125)  # times a binary float holds exactly, so delays compare exactly
    assert await bulk(api, desk.worker, desk.project, 3) == (429, too_many(0.375))
    clock.advance(0.375)
    assert await bulk(api, desk.worker, desk.project, 3) == (200, {"ok": True})
    assert await submit(api, desk.worker, desk.project) == (429, too_many(1.5))


async def test_an_unknown_project_is_404_without_a_delay(api: Api) -> None:
    desk = await open_desk(api, submit_rate=1)
    status, answer = await submit(api, desk.worker, 99)
    assert (status, answer) == (404, {"ok": False, "message": "Project not found"})


async def test_an_unlimited_project_is_never_paced(api: Api) -> None:
    desk = await open_desk(api)
    for _ in range(5):
        assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    assert await bulk(api, desk.worker, desk.project, 50) == (200, {"ok": True})


async def test_a_new_rate_applies_at_once_when_the_project_is_updated(
    api: Api, clock: Clock
) -> None:
    desk = await open_desk(api, submit_rate=0.1)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    assert (await submit(api, desk.worker, desk.project))[0] == 429
    await update_project(api, desk.project, submit_rate=1)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    assert await submit(api, desk.worker, desk.project) == (429, too_many(1.0))
    await update_project(api, desk.project, submit_rate=0)  # 0 means unlimited
    for _ in range(3):
        assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})


async def test_an_update_that_keeps_the_rate_does_not_refill_the_bucket(
    api: Api, clock: Clock
) -> None:
    desk = await open_desk(api, submit_rate=0.5)
    assert await submit(api, desk.worker, desk.project) == (200, {"ok": True})
    await update_project(api, desk.project, motd="new message of the day")
    assert await submit(api, desk.worker, desk.project) == (429, too_many(2.0))
