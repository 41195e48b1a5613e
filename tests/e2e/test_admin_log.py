"""The log answers "who did what, and when": a scripted day of manager actions, then the log
read back with each action, its actor and its time."""

from __future__ import annotations

import hashlib
import hmac

from tests.conftest import Clock
from tests.world import World, project_body
from tracker.events.store import read_events

T0 = 1_700_000_000


async def test_each_manager_action_is_in_the_log_with_its_actor_and_time(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world

    def at(offset: int) -> None:
        clock.now = T0 + offset

    admin = world.admin = await world.register("admin")  # manager:1 at +0
    at(10)
    alice = await world.register("alice")  # manager:2
    at(20)
    project = await world.create_project("p", git_repo="me/repo")
    at(30)
    await world.set_role(project, alice, 2 | 4)
    at(40)
    worker = await world.new_worker("w")  # worker:1
    await world.request_access(worker, project)
    at(50)
    await alice.post(f"/project/accept_request/{project}/{worker.id}")
    at(60)
    body = project_body("p", git_repo="me/repo", paused=True)
    await alice.post(f"/project/update/{project}", body)
    at(70)
    await admin.get(f"/manager/promote/{alice.id}")
    at(80)
    pause = {"worker": worker.id, "paused": True}
    await alice.post("/worker/set_paused", pause)
    at(90)
    await admin.get(f"/manager/demote/{alice.id}")
    at(100)
    await admin.post(f"/project/secret/{project}", {"secret": "s"})
    at(110)
    await admin.post(f"/project/webhook_secret/{project}", {"webhook_secret": "hook"})
    at(120)
    push = b'{"ref": "refs/heads/master", "after": "v2", "repository": {"full_name": "me/repo"}}'
    signature = hmac.new(b"hook", push, hashlib.sha256).hexdigest()
    await world.anonymous.post("/git/receivehook", data=push,
                               headers={"X-Gogs-Signature": signature})  # fmt: skip
    at(130)
    for recipe in ("a", "b"):
        await world.submit(recipe, by=worker, project=project)
    at(140)
    await admin.post(f"/project/hard_reset/{project}")
    at(150)
    await alice.post(f"/project/reject_request/{project}/{worker.id}")
    at(160)
    await alice.get("/logout")
    at(8 * 3600 + 1)  # the admin's session has expired
    await world.tracker.end_expired_sessions()

    log = [r.event async for r in read_events(world.tracker.store)]
    seen = [(type(e).__name__, e.actor, int(e.at) - T0) for e in log]
    assert seen == [
        ("ManagerRegistered", "manager:1", 0),
        ("SessionStarted", "manager:1", 0),
        ("ManagerRegistered", "manager:2", 10),
        ("SessionStarted", "manager:2", 10),
        ("ProjectCreated", "manager:1", 20),
        ("ProjectRoleSet", "manager:1", 20),
        ("ProjectRoleSet", "manager:1", 30),
        ("WorkerCreated", "worker:1", 40),
        ("AccessRequested", "worker:1", 40),
        ("AccessGranted", "manager:2", 50),
        ("ProjectUpdated", "manager:2", 60),
        ("TrackerAdminSet", "manager:1", 70),
        ("WorkerPauseSet", "manager:2", 80),
        ("TrackerAdminSet", "manager:1", 90),
        ("ProjectSecretSet", "manager:1", 100),
        ("WebhookSecretSet", "manager:1", 110),
        ("ProjectVersionPushed", "webhook", 120),
        ("TaskSubmitted", "worker:1", 130),
        ("TaskSubmitted", "worker:1", 130),
        ("ProjectTasksDeleted", "manager:1", 140),
        ("AccessRevoked", "manager:2", 150),
        ("SessionEnded", "manager:2", 160),
        ("SessionEnded", "system", 8 * 3600 + 1),
    ]
    by_type = {type(e).__name__: e for e in log}  # the last of each type
    assert (by_type["ProjectRoleSet"].manager_id, by_type["ProjectRoleSet"].role) == (alice.id, 6)
    assert by_type["ProjectUpdated"].paused is True
    assert (by_type["TrackerAdminSet"].manager_id, by_type["TrackerAdminSet"].tracker_admin) == (
        alice.id,
        False,
    )
    assert (by_type["WorkerPauseSet"].worker_id, by_type["WorkerPauseSet"].paused) == (
        worker.id,
        True,
    )
    assert by_type["ProjectVersionPushed"].version == "v2"
    assert by_type["ProjectTasksDeleted"].task_ids == [1, 2]
    assert by_type["AccessRevoked"].worker_id == worker.id
