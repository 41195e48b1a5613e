"""The log answers "who did what, and when": a scripted day of manager actions, then the log
read back with each action, its actor and its time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import (
    call,
    create_project,
    new_worker,
    project_body,
    register,
    request_access,
    set_role,
    start,
)
from tests.world import tracker_of
from tracker import config, sessions
from tracker.events.store import read_events

T0 = 1_700_000_000


async def test_each_manager_action_is_in_the_log_with_its_actor_and_time(
    aiohttp_client: Any, settings: config.Settings, clock: Clock
) -> None:
    client: TestClient = await start(aiohttp_client, settings, clock)

    def at(offset: int) -> None:
        clock.now = T0 + offset

    admin = await register(client, "admin")  # manager:1 at +0
    at(10)
    alice = await register(client, "alice")  # manager:2
    at(20)
    project = await create_project(client, admin, "p", git_repo="me/repo")
    at(30)
    await set_role(client, admin, project, alice, 2 | 4)
    at(40)
    worker = await new_worker(client, "w")  # worker:1
    await request_access(client, worker, project)
    at(50)
    await call(client, "POST", f"/project/accept_request/{project}/{worker.id}", alice)
    at(60)
    body = project_body("p", git_repo="me/repo", paused=True)
    await call(client, "POST", f"/project/update/{project}", alice, json=body)
    at(70)
    await call(client, "GET", f"/manager/promote/{alice.id}", admin)
    at(80)
    pause = {"worker": worker.id, "paused": True}
    await call(client, "POST", "/worker/set_paused", alice, json=pause)
    at(90)
    await call(client, "GET", f"/manager/demote/{alice.id}", admin)
    at(100)
    await call(client, "POST", f"/project/secret/{project}", admin, json={"secret": "s"})
    at(110)
    hook_secret = {"webhook_secret": "hook"}
    await call(client, "POST", f"/project/webhook_secret/{project}", admin, json=hook_secret)
    at(120)
    push = b'{"ref": "refs/heads/master", "after": "v2", "repository": {"full_name": "me/repo"}}'
    signature = hmac.new(b"hook", push, hashlib.sha256).hexdigest()
    await call(client, "POST", "/git/receivehook", data=push,
               headers={"X-Gogs-Signature": signature})  # fmt: skip
    at(130)
    for recipe in ("a", "b"):
        task = {"project": project, "recipe": recipe}
        await call(client, "POST", "/task/submit", worker, json=task)
    at(140)
    await call(client, "POST", f"/project/hard_reset/{project}", admin)
    at(150)
    await call(client, "POST", f"/project/reject_request/{project}/{worker.id}", alice)
    at(160)
    await call(client, "GET", "/logout", alice)
    at(8 * 3600 + 1)  # the admin's session has expired
    await sessions.end_expired(tracker_of(client))

    log = [r.event async for r in read_events(tracker_of(client).store)]
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
