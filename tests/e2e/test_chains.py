"""Project chains: a closed task is copied into the chained project (behavior.md 7.5 and the
section 14 chain scenarios)."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.e2e.support import (
    CLOSED,
    HELLO_WORLD,
    NO_TASK,
    Desk,
    drain,
    open_desk,
    update_project,
)
from tests.world import tracker_of

OK, FAIL, SKIP = 0, 1, 2


@pytest.fixture
async def desk(api: Api) -> Desk:
    """P1 is ``desk.project``; P2 (chained to P1) is created by ``chained``."""
    return await open_desk(api, workers=2, name="P1")


async def chained(desk: Desk, target: int, name: str = "P2") -> int:
    """A project chained to ``target``; desk workers get access to it."""
    project = await desk.api.create_project(name, chain=target)
    for worker in desk.workers:
        await desk.api.grant(worker, project)
    return project


async def test_closing_a_task_copies_it_into_the_chained_project(desk: Desk) -> None:
    p2 = await chained(desk, desk.project)
    await desk.api.submit(desk.worker, p2, "chained recipe", priority=-9, max_retries=4,
                          max_assign_time=321, verification_count=2, hash_u64=77)  # fmt: skip
    original = await desk.task(project=p2)
    assert await desk.release(original["id"], OK, verification=1) != CLOSED  # 1 vote of 2
    await desk.task(by=1, project=p2)
    assert await desk.release(original["id"], OK, by=1, verification=1) == CLOSED

    copy = await desk.task(project=desk.project)
    assert copy["id"] != original["id"]
    assert copy["project"]["id"] == desk.project
    assert (copy["recipe"], copy["priority"], copy["max_retries"], copy["max_assign_time"],
            copy["verification_count"]) == ("chained recipe", -9, 4, 321, 2)  # fmt: skip
    assert (copy["retries"], copy["status"]) == (0, 1)
    assert tracker_of(desk.client).state.tasks.get(copy["id"]).hash == 77  # type: ignore[union-attr]
    assert await desk.assign(project=p2) == NO_TASK


async def test_a_copy_that_collides_is_dropped_and_the_release_still_succeeds(
    desk: Desk,
) -> None:
    """Section 14: the copy collides with a live hash in P1 → the release is still ok."""
    p2 = await chained(desk, desk.project)
    await desk.submit("already in P1", hash_u64=HELLO_WORLD)
    await desk.api.submit(desk.worker, p2, "in P2", unique_string="Hello, world")
    task = await desk.task(project=p2)
    assert await desk.release(task["id"], OK) == CLOSED
    assert [t["recipe"] for t in await drain(desk)] == ["already in P1"]


@pytest.mark.parametrize("result", [FAIL, SKIP])
async def test_only_a_close_is_copied(desk: Desk, result: int) -> None:
    p2 = await chained(desk, desk.project)
    await desk.api.submit(desk.worker, p2, "r", max_retries=1)
    task = await desk.task(project=p2)
    assert await desk.release(task["id"], result) == CLOSED
    assert await desk.assign(project=desk.project) == NO_TASK


async def test_chains_are_transitive(desk: Desk) -> None:
    p2 = await chained(desk, desk.project, "P2")
    p3 = await chained(desk, p2, "P3")
    await desk.api.submit(desk.worker, p3, "travelling")
    for project in (p3, p2, desk.project):
        task = await desk.task(project=project)
        assert task["recipe"] == "travelling" and task["project"]["id"] == project
        assert await desk.release(task["id"], OK) == CLOSED
    for project in (p3, p2, desk.project):
        assert await desk.assign(project=project) == NO_TASK


async def test_a_copy_skips_the_targets_submit_access_and_pause(api: Api, desk: Desk) -> None:
    target = await api.create_project("locked target")  # no desk worker has access to it
    p2 = await chained(desk, target)
    await update_project(api, target, paused=True)
    await api.submit(desk.worker, p2, "copied anyway")
    task = await desk.task(project=p2)
    assert await desk.release(task["id"], OK) == CLOSED

    await update_project(api, target, paused=False)
    reader = await api.create_worker("reader")
    await api.grant(reader, target)
    answer = await api.assign(reader, target)
    assert answer["content"]["task"]["recipe"] == "copied anyway"


async def test_a_hash_freed_in_the_source_can_be_submitted_again(desk: Desk) -> None:
    p2 = await chained(desk, desk.project)
    await desk.api.submit(desk.worker, p2, "once", hash_u64=5)
    task = await desk.task(project=p2)
    await desk.release(task["id"], OK)
    assert await desk.api.submit(desk.worker, p2, "twice", hash_u64=5) == {"ok": True}
    duplicate = await desk.submit("in P1", hash_u64=5)
    assert duplicate["ok"] is False  # the copy holds the hash in P1
