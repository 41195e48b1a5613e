"""Each project's ``assign_rate`` and ``submit_rate`` over HTTP, on a clock the test moves.

Capacity one, as the original: the n+1-th request inside the window is refused with 429 and
``rate_limit_delay``, and passes once that delay has passed. A bulk submit costs one token per
task and is admitted when the bucket is full (the original refused it forever, 13.13). Rates
change when the project is updated.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Clock
from tests.world import NO_TASK, Caller, World


def too_many(delay: float) -> dict:
    return {"ok": False, "message": "Too many requests", "rate_limit_delay": delay}


async def submit(worker: Caller, project: int, recipe: str = "r") -> tuple[int, Any]:
    answer = await worker.post("/task/submit", {"project": project, "recipe": recipe})
    return answer.status, answer.body


async def bulk(worker: Caller, project: int, n: int) -> tuple[int, Any]:
    body = {"requests": [{"project": project, "recipe": f"r{i}"} for i in range(n)]}
    answer = await worker.post("/task/bulk_submit", body)
    return answer.status, answer.body


async def assign(worker: Caller, project: int) -> tuple[int, Any]:
    answer = await worker.get(f"/task/get/{project}")
    return answer.status, answer.body


async def test_the_second_submit_inside_the_window_waits_and_then_passes(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, submit_rate=2)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    head = await world.log_head()
    assert await submit(world.worker, world.project) == (429, too_many(0.5))
    clock.advance(0.25)
    assert await submit(world.worker, world.project) == (429, too_many(0.25))
    assert await world.log_head() == head  # refused: nothing appended
    clock.advance(0.25)
    assert await submit(world.worker, world.project) == (200, {"ok": True})


async def test_the_second_assignment_inside_the_window_waits_and_then_passes(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, assign_rate=0.5)
    for recipe in "ab":
        await world.submit(recipe)
    status, answer = await assign(world.worker, world.project)
    assert status == 200 and answer["content"]["task"]["recipe"] == "a"
    assert await assign(world.worker, world.project) == (429, too_many(2.0))
    clock.advance(1.5)
    assert await assign(world.worker, world.project) == (429, too_many(0.5))
    clock.advance(0.5)
    status, answer = await assign(world.worker, world.project)
    assert status == 200 and answer["content"]["task"]["recipe"] == "b"


async def test_a_refused_request_takes_no_token(bare_world: World, clock: Clock) -> None:
    """Buckets are folded from the events that take tokens, so a request that appends nothing
    (no task available, no submit access) leaves the bucket as it was. The original charged
    them (docs/compatibility.md)."""
    world = await bare_world.open(workers=1, assign_rate=1, submit_rate=1)
    assert await assign(world.worker, world.project) == (200, NO_TASK)
    stranger = await world.new_worker("stranger")
    refused = await submit(stranger, world.project)
    assert refused == (400, {"ok": False, "message": "unauthorized task submit"})
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    assert (await assign(world.worker, world.project))[1]["ok"] is True
    assert await assign(world.worker, world.project) == (429, too_many(1.0))


async def test_the_buckets_survive_a_restart(bare_world: World, clock: Clock) -> None:
    """They are read models of the log: a restarted tracker (or another node) holds the same."""
    world = await bare_world.open(workers=1, submit_rate=0.5)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    await world.restart()
    assert await submit(world.worker, world.project) == (429, too_many(2.0))


async def test_a_bulk_larger_than_one_token_is_admitted_and_later_requests_wait_for_it(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, submit_rate=1)
    assert await bulk(world.worker, world.project, 5) == (200, {"ok": True})
    assert await submit(world.worker, world.project) == (429, too_many(5.0))
    clock.advance(5)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    assert world.tracker.state.tasks.of(world.project).live == 6


async def test_a_bulk_arriving_before_the_refill_is_admitted_after_its_delay(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, submit_rate=2)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    clock.advance(0.125)  # times a binary float holds exactly, so delays compare exactly
    assert await bulk(world.worker, world.project, 3) == (429, too_many(0.375))
    clock.advance(0.375)
    assert await bulk(world.worker, world.project, 3) == (200, {"ok": True})
    assert await submit(world.worker, world.project) == (429, too_many(1.5))


async def test_an_unknown_project_is_404_without_a_delay(bare_world: World) -> None:
    world = await bare_world.open(workers=1, submit_rate=1)
    status, answer = await submit(world.worker, 99)
    assert (status, answer) == (404, {"ok": False, "message": "Project not found"})


async def test_an_unlimited_project_is_never_paced(bare_world: World) -> None:
    world = await bare_world.open(workers=1)
    for _ in range(5):
        assert await submit(world.worker, world.project) == (200, {"ok": True})
    assert await bulk(world.worker, world.project, 50) == (200, {"ok": True})


async def test_a_new_rate_applies_at_once_when_the_project_is_updated(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, submit_rate=0.1)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    assert (await submit(world.worker, world.project))[0] == 429
    await world.update_project(submit_rate=1)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    assert await submit(world.worker, world.project) == (429, too_many(1.0))
    await world.update_project(submit_rate=0)  # 0 means unlimited
    for _ in range(3):
        assert await submit(world.worker, world.project) == (200, {"ok": True})


async def test_an_update_that_keeps_the_rate_does_not_refill_the_bucket(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, submit_rate=0.5)
    assert await submit(world.worker, world.project) == (200, {"ok": True})
    await world.update_project(motd="new message of the day")
    assert await submit(world.worker, world.project) == (429, too_many(2.0))
