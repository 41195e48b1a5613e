"""A restart rebuilds exactly the state that was acknowledged.

A scripted run touches every kind of task state (queued at several priorities, assigned,
voted on, retried, failed, skipped, expired, reclaimed, closed into a chain), workers
(renamed, paused, pending and granted access) and projects (public, private, hidden,
chained). The tracker is stopped and started again on the same SQLite file; the read models
and what the API shows must be the same, and the queues must hand tasks out in the same order.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Clock, MakeClient
from tests.e2e.support import Desk, add_project, drain, open_desk, pause_worker
from tests.state_snapshot import snapshot
from tests.world import tracker_of

OK, FAIL, SKIP = 0, 1, 2


async def scripted_run(api: Api, clock: Clock) -> Desk:
    desk = await open_desk(api, workers=3, name="private")
    public = await add_project(desk, "public", public=True)
    hidden = await add_project(desk, "hidden", hidden=True, chain=desk.project)
    stranger = await api.create_worker("pending")
    await api.call("POST", "/project/request_access", {"project": hidden, "submit": True},
                   worker=stranger, status=200)  # fmt: skip
    await api.call("POST", "/worker/update", {"alias": "renamed"}, worker=desk.workers[2])
    await pause_worker(api, desk.workers[2])

    body = {"requests": [{"project": desk.project, "recipe": f"bulk {n}", "priority": n % 3 - 1,
                          "unique_string": f"u{n}"} for n in range(12)]}  # fmt: skip
    await api.call("POST", "/task/bulk_submit", body, worker=desk.worker, status=200)
    for recipe, fields in [
        ("fail for good", {"priority": 6, "max_retries": 0}),
        ("vote me", {"priority": 5, "verification_count": 2}),
        ("fail once", {"priority": 4, "max_retries": 3}),
        ("expire me", {"priority": 2, "max_assign_time": 30}),
        ("queued", {"hash_u64": 1}),
        ("queued last", {"priority": -3, "unique_string": "last"}),
    ]:
        await api.submit(desk.worker, public, recipe, **fields)
    await api.submit(desk.worker, hidden, "to chain", priority=4, hash_u64=99, max_retries=2)

    first = await desk.task(project=desk.project)
    await desk.release(first["id"], OK)  # closed
    second = await desk.task(project=desk.project, by=1)
    await desk.release(second["id"], SKIP, by=1)
    for _ in range(3):
        await desk.task(project=desk.project)  # stay assigned

    await desk.release((await desk.task(project=public))["id"], FAIL)  # "fail for good": FAILED
    vote = await desk.task(project=public, by=1)
    await desk.release(vote["id"], OK, by=1, verification=-(2**63))  # one vote of two
    await desk.task(project=public)  # "vote me", assigned to a worker that has not voted
    await desk.release((await desk.task(project=public, by=1))["id"], FAIL, by=1)  # retried
    await desk.task(project=public, by=1)  # "fail once" again, stays assigned
    await desk.task(project=public)  # "expire me"
    clock.advance(45)
    assert await tracker_of(api.client).expire_due() == 1
    chained = await desk.task(project=hidden)
    await desk.release(chained["id"], OK)  # copied into the private project
    await api.call("POST", f"/project/reclaim_assigned_tasks/{public}", status=200)
    await desk.task(project=public, by=1)
    clock.advance(7)
    return desk


async def observed(api: Api, desk: Desk, projects: list[int]) -> dict[str, Any]:
    """What the API shows of workers, projects and access, as the admin sees it."""
    workers = {}
    for worker_id in range(1, 5):
        body = await api.call("GET", f"/worker/get/{worker_id}", status=200)
        workers[worker_id] = body["content"]["worker"]
    return {
        "workers": workers,
        "projects": [
            (await api.call("GET", f"/project/get/{p}", status=200))["content"] for p in projects
        ],
        "list": (await api.call("GET", "/project/list", status=200))["content"],
        "access": [
            (await api.call("GET", f"/project/access_list/{p}", status=200))["content"]
            for p in projects
        ],
    }


async def test_a_restart_rebuilds_the_state_that_was_acknowledged(
    api: Api, clock: Clock, make_client: MakeClient
) -> None:
    desk = await scripted_run(api, clock)
    projects = [desk.project, desk.project + 1, desk.project + 2]
    before = snapshot(tracker_of(api.client).state)
    shown = await observed(api, desk, projects)
    assigned = len(before["live_deadlines"])
    assert before["queues"] and assigned and before["tasks"]  # the run left something of each
    assert any(task["status"] == 2 for task in before["tasks"].values())
    assert any(task["votes"] for task in before["tasks"].values())
    await api.client.close()

    restarted = Api(await make_client())
    after = snapshot(tracker_of(restarted.client).state)
    assert after == before
    await restarted.login("admin")
    assert await observed(restarted, desk, projects) == shown

    reader = await restarted.create_worker("reader")
    desk.api, desk.workers = restarted, [reader]
    for project in projects:
        await restarted.grant(reader, project)
    handed_out = 0
    for project in projects:
        handed = [task["id"] for task in await drain(desk, project=project)]
        assert handed == before["queues"].get(project, {}).get("queue", [])
        handed_out += len(handed)

    clock.advance(10**6)  # every deadline from before the restart, and the drain's, is due
    assert await tracker_of(restarted.client).expire_due() == assigned + handed_out
