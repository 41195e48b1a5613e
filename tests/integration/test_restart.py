"""A restart rebuilds exactly the state that was acknowledged.

A scripted run touches every kind of task state (queued at several priorities, assigned,
voted on, retried, failed, skipped, expired, reclaimed, closed into a chain), workers
(renamed, paused, pending and granted access) and projects (public, private, hidden,
chained). The tracker is stopped and started again on the same SQLite file; the read models
and what the API shows must be the same, and the queues must hand tasks out in the same order.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Clock
from tests.state_snapshot import snapshot
from tests.world import Caller, World

OK, FAIL, SKIP = 0, 1, 2


async def scripted_run(bare_world: World, clock: Clock) -> World:
    world = await bare_world.open(workers=3, name="private")
    public = await world.add_project("public", public=True)
    hidden = await world.add_project("hidden", hidden=True, chain=world.project)
    stranger = await world.new_worker("pending")
    await stranger.post("/project/request_access", {"project": hidden, "submit": True},
                        status=200)  # fmt: skip
    await world.workers[2].post("/worker/update", {"alias": "renamed"})
    await world.pause_worker(world.workers[2])

    body = {"requests": [{"project": world.project, "recipe": f"bulk {n}", "priority": n % 3 - 1,
                          "unique_string": f"u{n}"} for n in range(12)]}  # fmt: skip
    await world.worker.post("/task/bulk_submit", body, status=200)
    for recipe, fields in [
        ("fail for good", {"priority": 6, "max_retries": 0}),
        ("vote me", {"priority": 5, "verification_count": 2}),
        ("fail once", {"priority": 4, "max_retries": 3}),
        ("expire me", {"priority": 2, "max_assign_time": 30}),
        ("queued", {"hash_u64": 1}),
        ("queued last", {"priority": -3, "unique_string": "last"}),
    ]:
        await world.submit(recipe, project=public, **fields)
    await world.submit("to chain", project=hidden, priority=4, hash_u64=99, max_retries=2)

    first = await world.task(project=world.project)
    await world.release(first["id"], OK)  # closed
    second = await world.task(project=world.project, by=1)
    await world.release(second["id"], SKIP, by=1)
    for _ in range(3):
        await world.task(project=world.project)  # stay assigned

    await world.release((await world.task(project=public))["id"], FAIL)  # "fail for good": FAILED
    vote = await world.task(project=public, by=1)
    await world.release(vote["id"], OK, by=1, verification=-(2**63))  # one vote of two
    await world.task(project=public)  # "vote me", assigned to a worker that has not voted
    await world.release((await world.task(project=public, by=1))["id"], FAIL, by=1)  # retried
    await world.task(project=public, by=1)  # "fail once" again, stays assigned
    await world.task(project=public)  # "expire me"
    clock.advance(45)
    assert await world.tracker.expire_due() == 1
    chained = await world.task(project=hidden)
    await world.release(chained["id"], OK)  # copied into the private project
    await world.admin.post(f"/project/reclaim_assigned_tasks/{public}", status=200)
    await world.task(project=public, by=1)
    clock.advance(7)
    return world


async def observed(admin: Caller, projects: list[int]) -> dict[str, Any]:
    """What the API shows of workers, projects and access, as the admin sees it."""
    workers = {}
    for worker_id in range(1, 5):
        answer = await admin.get(f"/worker/get/{worker_id}", status=200)
        workers[worker_id] = answer["content"]["worker"]
    return {
        "workers": workers,
        "projects": [
            (await admin.get(f"/project/get/{p}", status=200))["content"] for p in projects
        ],
        "list": (await admin.get("/project/list", status=200))["content"],
        "access": [
            (await admin.get(f"/project/access_list/{p}", status=200))["content"] for p in projects
        ],
    }


async def test_a_restart_rebuilds_the_state_that_was_acknowledged(
    bare_world: World, clock: Clock
) -> None:
    world = await scripted_run(bare_world, clock)
    projects = [world.project, world.project + 1, world.project + 2]
    before = snapshot(world.tracker.state)
    shown = await observed(world.admin, projects)
    assigned = len(before["live_deadlines"])
    assert before["queues"] and assigned and before["tasks"]  # the run left something of each
    assert any(task["status"] == 2 for task in before["tasks"].values())
    assert any(task["votes"] for task in before["tasks"].values())
    await world.restart()

    after = snapshot(world.tracker.state)
    assert after == before
    admin = await world.login("admin")
    assert await observed(admin, projects) == shown

    reader = await world.new_worker("reader")
    for project in projects:
        await world.grant(reader, project, by=admin)
    handed_out = 0
    for project in projects:
        handed = [task["id"] for task in await world.drain(reader, project=project)]
        assert handed == before["queues"].get(project, {}).get("queue", [])
        handed_out += len(handed)

    clock.advance(10**6)  # every deadline from before the restart, and the drain's, is due
    assert await world.tracker.expire_due() == assigned + handed_out
