"""``verification_count``: distinct workers must agree on the verification value
(behavior.md 7.4 and the section 14 scenarios)."""

from __future__ import annotations

import pytest

from tests.world import CLOSED, NO_TASK, NOT_CLOSED, World

OK, FAIL, SKIP = 0, 1, 2


@pytest.fixture
async def world(bare_world: World) -> World:
    return await bare_world.open(workers=4)


async def test_two_of_three_workers_agreeing_close_the_task(world: World) -> None:
    """Section 14: w1 OK 123 → false and w1 can no longer get it; w2 OK 1 → false;
    w3 OK 123 → true."""
    await world.submit(verification_count=2)
    task = await world.task(by=0)
    assert await world.release(task["id"], OK, by=0, verification=123) == NOT_CLOSED
    assert await world.assign(by=0) == NO_TASK
    assert (await world.task(by=1))["id"] == task["id"]
    assert await world.release(task["id"], OK, by=1, verification=1) == NOT_CLOSED
    assert (await world.task(by=2))["id"] == task["id"]
    assert await world.release(task["id"], OK, by=2, verification=123) == CLOSED
    assert await world.assign(by=3) == NO_TASK
    state = world.tracker.state
    records = [state.workers.get(w.id) for w in world.workers]
    credits = [record.closed_task_count for record in records]  # type: ignore[union-attr]
    assert credits == [0, 0, 1, 0]  # only the closing release gets credit


async def test_a_voter_is_never_given_the_task_again_but_others_are(world: World) -> None:
    await world.submit("needs three", verification_count=3)
    await world.submit("plain", priority=-1)
    first = await world.task(by=0)
    await world.release(first["id"], OK, by=0, verification=5)
    assert (await world.task(by=0))["recipe"] == "plain"
    assert (await world.task(by=1))["recipe"] == "needs three"


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0])
async def test_extreme_verification_values_are_accepted_and_compared_exactly(
    world: World, value: int
) -> None:
    await world.submit(verification_count=2)
    task = await world.task(by=0)
    assert await world.release(task["id"], OK, by=0, verification=value) == NOT_CLOSED
    await world.task(by=1)
    assert await world.release(task["id"], OK, by=1, verification=value) == CLOSED


async def test_values_one_apart_at_the_int64_edge_do_not_agree(world: World) -> None:
    await world.submit(verification_count=2)
    await world.task(by=0)
    assert await world.release(1, OK, by=0, verification=2**63 - 1) == NOT_CLOSED
    await world.task(by=1)
    assert await world.release(1, OK, by=1, verification=2**63 - 2) == NOT_CLOSED


async def test_releases_without_a_verification_agree_on_zero(world: World) -> None:
    await world.submit(verification_count=2)
    await world.task(by=0)
    assert await world.release(1, OK, by=0) == NOT_CLOSED
    await world.task(by=1)
    assert await world.release(1, OK, by=1, verification=0) == CLOSED


@pytest.mark.parametrize("result", [FAIL, SKIP])
async def test_fail_and_skip_cast_no_vote(world: World, result: int) -> None:
    await world.submit(verification_count=2, max_retries=5)
    await world.task(by=0)
    assert await world.release(1, result, by=0) == CLOSED
    await world.task(by=0)  # the same worker may take it again
    assert await world.release(1, OK, by=0, verification=7) == NOT_CLOSED
    await world.task(by=1)
    assert await world.release(1, OK, by=1, verification=7) == CLOSED


async def test_a_negative_verification_count_closes_on_the_first_ok(world: World) -> None:
    await world.submit(verification_count=-5)
    await world.task()
    assert await world.release(1, OK, verification=3) == CLOSED


async def test_when_every_worker_has_voted_the_task_waits(world: World) -> None:
    await world.submit(verification_count=5)
    for by in range(4):
        await world.task(by=by)
        assert await world.release(1, OK, by=by, verification=by) == NOT_CLOSED
    for by in range(4):
        assert await world.assign(by=by) == NO_TASK
    task = world.tracker.state.tasks.get(1)
    assert task is not None and task.status == 1 and len(task.votes or {}) == 4
