"""Project chains: a closed task is copied into the chained project (behavior.md 7.5 and the
section 14 chain scenarios)."""

from __future__ import annotations

import pytest

from tests.world import CLOSED, HELLO_WORLD, NO_TASK, World

OK, FAIL, SKIP = 0, 1, 2


@pytest.fixture
async def world(bare_world: World) -> World:
    """P1 is ``world.project``; P2 (chained to P1, via ``add_project(chain=...)``) is the
    test's own."""
    return await bare_world.open(name="P1")


async def test_closing_a_task_copies_it_into_the_chained_project(world: World) -> None:
    p2 = await world.add_project("P2", chain=world.project)
    await world.submit("chained recipe", project=p2, priority=-9, max_retries=4,
                       max_assign_time=321, verification_count=2, hash_u64=77)  # fmt: skip
    original = await world.task(project=p2)
    assert await world.release(original["id"], OK, verification=1) != CLOSED  # 1 vote of 2
    await world.task(by=1, project=p2)
    assert await world.release(original["id"], OK, by=1, verification=1) == CLOSED

    copy = await world.task(project=world.project)
    assert copy["id"] != original["id"]
    assert copy["project"]["id"] == world.project
    assert (copy["recipe"], copy["priority"], copy["max_retries"], copy["max_assign_time"],
            copy["verification_count"]) == ("chained recipe", -9, 4, 321, 2)  # fmt: skip
    assert (copy["retries"], copy["status"]) == (0, 1)
    assert world.tracker.state.tasks.get(copy["id"]).hash == 77  # type: ignore[union-attr]
    assert await world.assign(project=p2) == NO_TASK


async def test_a_copy_that_collides_is_dropped_and_the_release_still_succeeds(
    world: World,
) -> None:
    """Section 14: the copy collides with a live hash in P1 → the release is still ok."""
    p2 = await world.add_project("P2", chain=world.project)
    await world.submit("already in P1", hash_u64=HELLO_WORLD)
    await world.submit("in P2", project=p2, unique_string="Hello, world")
    task = await world.task(project=p2)
    assert await world.release(task["id"], OK) == CLOSED
    assert [t["recipe"] for t in await world.drain()] == ["already in P1"]


@pytest.mark.parametrize("result", [FAIL, SKIP])
async def test_only_a_close_is_copied(world: World, result: int) -> None:
    p2 = await world.add_project("P2", chain=world.project)
    await world.submit("r", project=p2, max_retries=1)
    task = await world.task(project=p2)
    assert await world.release(task["id"], result) == CLOSED
    assert await world.assign(project=world.project) == NO_TASK


async def test_chains_are_transitive(world: World) -> None:
    p2 = await world.add_project("P2", chain=world.project)
    p3 = await world.add_project("P3", chain=p2)
    await world.submit("travelling", project=p3)
    for project in (p3, p2, world.project):
        task = await world.task(project=project)
        assert task["recipe"] == "travelling" and task["project"]["id"] == project
        assert await world.release(task["id"], OK) == CLOSED
    for project in (p3, p2, world.project):
        assert await world.assign(project=project) == NO_TASK


async def test_a_copy_skips_the_targets_submit_access_and_pause(world: World) -> None:
    target = await world.create_project("locked target")  # no world worker has access to it
    p2 = await world.add_project("P2", chain=target)
    await world.update_project(target, paused=True)
    await world.submit("copied anyway", project=p2)
    task = await world.task(project=p2)
    assert await world.release(task["id"], OK) == CLOSED

    await world.update_project(target, paused=False)
    reader = await world.new_worker("reader")
    await world.grant(reader, target)
    answer = await world.assign(reader, target)
    assert answer["content"]["task"]["recipe"] == "copied anyway"


async def test_a_hash_freed_in_the_source_can_be_submitted_again(world: World) -> None:
    p2 = await world.add_project("P2", chain=world.project)
    await world.submit("once", project=p2, hash_u64=5)
    task = await world.task(project=p2)
    await world.release(task["id"], OK)
    assert await world.submit("twice", project=p2, hash_u64=5) == {"ok": True}
    duplicate = await world.submit("in P1", hash_u64=5)
    assert duplicate["ok"] is False  # the copy holds the hash in P1
