"""Every worker and manager route of the original, called through the client against a real
``tracker serve``; the answers decoded into the client's types."""

from __future__ import annotations

import re
import time

import msgspec
import pytest

from tests.client.conftest import World
from tracker.client import (
    AsyncClient,
    BadRequest,
    Client,
    Conflict,
    Level,
    NewTask,
    ProjectSettings,
    Release,
    Released,
    Result,
    Role,
    Task,
    TaskFilter,
    Unauthorized,
    WorkerIdentity,
)
from tracker.client.api import Routes
from tracker.client.endpoints import Endpoint

#: behavior.md section 5, every route but the git webhook (signed by the git host, not a client).
ORIGINAL_ROUTES = {
    "GET /", "POST /log/:level", "POST /worker/create", "POST /worker/update",
    "POST /worker/set_paused", "GET /worker/get/:id", "GET /worker/stats",
    "POST /project/create", "GET /project/get/:id", "POST /project/update/:id",
    "GET /project/list", "GET /project/monitoring-between/:id", "GET /project/monitoring/:id",
    "GET /project/assignees/:id", "GET /project/access_list/:id", "POST /project/request_access",
    "POST /project/accept_request/:id/:id", "POST /project/reject_request/:id/:id",
    "GET /project/secret/:id", "POST /project/secret/:id", "GET /project/webhook_secret/:id",
    "POST /project/webhook_secret/:id", "POST /project/reset_failed_tasks/:id",
    "POST /project/hard_reset/:id", "POST /project/reclaim_assigned_tasks/:id",
    "POST /task/submit", "POST /task/bulk_submit", "GET /task/get/:id", "POST /task/release",
    "POST /logs", "POST /register", "POST /login", "GET /logout", "GET /account",
    "GET /manager/list", "GET /manager/list_for_project/:id", "GET /manager/promote/:id",
    "GET /manager/demote/:id", "POST /manager/set_role_for_project/:id",
}  # fmt: skip
#: The tracker's extensions, announced in ``GET /`` (the original answers 404 to them).
EXTENSIONS = {"GET /task/bulk_get/:id", "POST /task/bulk_release", "POST /task/touch",
              "GET /project/tasks/:id", "GET /task/view/:id"}  # fmt: skip
#: The tracker's actions on chosen tasks (tests/client/test_task_actions.py).
TASK_ACTIONS = {"POST /project/tasks/:id/retry", "POST /project/tasks/:id/cancel",
                "POST /project/tasks/:id/priority", "POST /project/tasks/:id/take_back",
                "GET /project/tasks/:id/count"}  # fmt: skip

SAMPLE_ARGS: dict[str, tuple] = {
    "update_project": (msgspec.convert({"id": 7, "name": "x"}, type=__import__(
        "tracker.client", fromlist=["Project"]).Project),),
    "create_project": (ProjectSettings(name="x"),),
    "submit_task": (NewTask(project=7, recipe="r"),),
    "bulk_submit": ([NewTask(project=7, recipe="r")],),
    "log": ("info", "scope", "message"),
    "bulk_release": ([Release(7, Result.OK)],),
    "tasks": (7,),
    "retry_tasks": (7, [8]), "cancel_tasks": (7, [8]), "set_priority": (7, [8], 1),
    "take_back": (7, [8]), "count_matching": (7, "retry", TaskFilter(recipe="x")),
    "act_on_matching": (7, "cancel", TaskFilter(), 3),
}  # fmt: skip


def _template(method: str, path: str) -> str:
    path = re.sub(r"/-?\d+", "/:id", path.split("?")[0])
    path = re.sub(r"^/log/(trace|info|warn|error)$", "/log/:level", path)
    return f"{method} {path}"


def _sample(name: str, endpoint: Endpoint) -> tuple:
    if name in SAMPLE_ARGS:
        return SAMPLE_ARGS[name]
    count = endpoint.build.__code__.co_argcount
    return (7, 8, 9)[:count] if name not in ("register", "login", "update_worker",
                                              "set_project_secret", "set_webhook_secret",
                                              "set_worker_paused", "create_worker") else (
        {"register": ("u", "p"), "login": ("u", "p"), "update_worker": ("a",),
         "set_project_secret": (7, "s"), "set_webhook_secret": (7, "s"),
         "set_worker_paused": (7, True), "create_worker": ("a",)}[name])  # fmt: skip


def test_the_client_has_a_method_for_every_route_of_the_original_and_the_extensions() -> None:
    covered = set()
    for name, endpoint in vars(Routes).items():
        if isinstance(endpoint, Endpoint):
            call = endpoint.build(*_sample(name, endpoint))
            covered.add(_template(call.method, call.path))
    assert covered == ORIGINAL_ROUTES | EXTENSIONS | TASK_ACTIONS


def test_worker_routes_through_the_sync_client(world: World) -> None:
    worker, admin, project = world.worker, world.admin, world.project
    assert worker.info().name == "task_tracker"
    worker.update_worker("renamed")
    assert worker.get_worker(world.identity.id).alias == "renamed"
    assert worker.get_worker(world.identity.id).secret is None  # anonymous: no secret
    assert admin.get_worker(world.identity.id).secret == world.identity.secret  # admin: secret
    worker.submit_task(NewTask(project=project, recipe="one", priority=5, unique_string="u1"))
    worker.bulk_submit([NewTask(project=project, recipe=f"bulk {i}") for i in range(3)])
    task = worker.get_task(project)
    assert isinstance(task, Task) and task.recipe == "one" and task.project.id == project
    assert task.assignee == world.identity.id
    assert worker.release(task.id, Result.OK, verification=42) is True
    assert worker.release(task.id, Result.OK) is False  # already closed
    second = worker.get_task(project)
    assert second is not None and worker.release(second.id, Result.FAIL) is True
    third = worker.get_task(project)
    assert third is not None and worker.release(third.id, Result.SKIP) is True
    stats = {s.id: s for s in worker.worker_stats()}
    assert stats[world.identity.id].closed_task_count == 1
    worker.log("warn", "tests", "a warning line", timestamp=int(time.time()))
    page = admin.logs(Level.WARN, since=1)
    assert [entry.message for entry in page.logs or []] == ["a warning line"]
    admin.set_project_secret(project, "s3cret")
    assert worker.project_secret(project) == "s3cret"  # as a worker with assign access
    assert admin.project_secret(project) == "s3cret"  # as a manager with SECRET


def test_batches_and_keep_alive_through_the_sync_client(world: World) -> None:
    worker, project = world.worker, world.project
    info = worker.info()
    assert (info.max_batch_size, info.max_keep_alive, info.default_max_assign_time) == (
        1000, 3600.0, 300.0)  # fmt: skip
    worker.bulk_submit([NewTask(project=project, recipe=f"b{i}", max_retries=2)
                        for i in range(5)])  # fmt: skip
    tasks = worker.bulk_get(project, 4)
    assert [t.recipe for t in tasks] == ["b0", "b1", "b2", "b3"]
    touched = worker.touch(tasks[0].id, 600)
    assert 599 <= touched.remaining <= 600 and touched.deadline > time.time()
    answers = worker.bulk_release([
        Release(tasks[0].id, Result.OK, verification=3), Release(tasks[1].id, Result.FAIL,
        reason="boom"), Release(tasks[2].id, Result.SKIP), Release(999, Result.OK),
    ])  # fmt: skip
    assert answers == [
        Released(task_id=tasks[0].id, updated=True, outcome="closed"),
        Released(task_id=tasks[1].id, updated=True, outcome="retry"),
        Released(task_id=tasks[2].id, updated=True, outcome="skipped"),
        Released(task_id=999, updated=False, outcome="not_assigned"),
    ]
    with pytest.raises(Conflict, match="is not assigned to you"):
        worker.touch(tasks[0].id)
    assert len(worker.bulk_get(project, 10)) == 3  # b1 and b2 again, and b4
    assert worker.bulk_get(project, 10) == []


def test_manager_routes_through_the_sync_client(world: World) -> None:
    admin = world.admin
    account = admin.account()
    assert account.logged_in and account.manager is not None
    assert account.manager.tracker_admin
    other = Client(world.server.url)
    try:
        _manage(world, other)
    finally:
        other.close()


def _manage(world: World, other: Client) -> None:
    admin, project = world.admin, world.project
    other.register("bob", "password2")
    bob = other.account().manager
    assert bob is not None and not bob.tracker_admin
    other.logout()
    assert other.account().logged_in is False
    assert other.login("bob", "password2").username == "bob"
    assert {m.username for m in admin.managers()} == {"admin", "bob"}
    admin.set_role(project, bob.id, Role.READ | Role.EDIT)
    roles = {r.manager.username: r.role for r in admin.managers_of(project)}
    assert roles == {"admin": Role.ALL, "bob": Role.READ | Role.EDIT}
    admin.promote(bob.id)
    assert other.account().manager.tracker_admin  # type: ignore[union-attr]
    admin.demote(bob.id)
    assert not other.account().manager.tracker_admin  # type: ignore[union-attr]

    current = admin.get_project(project)
    admin.update_project(msgspec.structs.replace(current, motd="hello", paused=True))
    assert admin.get_project(project).motd == "hello"
    assert [p.name for p in other.projects()] == ["client-tests"]
    admin.set_webhook_secret(project, "hook-secret")
    assert admin.webhook_secret(project) == "hook-secret"

    admin.set_worker_paused(world.identity.id, True)
    assert admin.get_worker(world.identity.id).paused
    admin.set_worker_paused(world.identity.id, False)
    accesses = admin.access_list(project)
    assert [(a.worker.id, a.assign, a.submit, a.request) for a in accesses] == [
        (world.identity.id, True, True, False)
    ]
    admin.update_project(msgspec.structs.replace(current, paused=False))
    world.worker.bulk_submit([NewTask(project=project, recipe=f"t{i}", max_retries=1)
                              for i in range(4)])  # fmt: skip
    failing = world.worker.get_task(project)
    assert failing is not None and world.worker.release(failing.id, Result.FAIL)
    assert world.worker.get_task(project) is not None  # held
    assert {a.assignee: a.task_count for a in admin.assignees(project)} == {
        "unassigned": 3, "tester": 1}  # fmt: skip
    assert admin.reclaim_assigned_tasks(project) == 3  # every NEW task, as the original counts
    assert admin.reset_failed_tasks(project) == 1
    assert admin.hard_reset(project) == 4
    now = int(time.time())
    assert isinstance(admin.monitoring(project, count=5), list)
    assert isinstance(admin.monitoring_between(project, 1, now + 1), list)
    admin.reject_request(project, world.identity.id)
    assert admin.access_list(project) == []


async def test_the_asyncio_client_speaks_the_same_routes(world: World) -> None:
    async with AsyncClient(world.server.url, worker=world.identity) as worker:
        assert (await worker.info()).version == "1.1"
        await worker.bulk_submit([NewTask(project=world.project, recipe=f"a{i}")
                                  for i in range(2)])  # fmt: skip
        task = await worker.get_task(world.project)
        assert task is not None and await worker.release(task.id, Result.OK)
        [second] = await worker.bulk_get(world.project, 5)
        await worker.touch(second.id)
        assert await worker.bulk_release([Release(second.id, Result.OK)]) == [
            Released(task_id=second.id, updated=True, outcome="closed")]  # fmt: skip
        async with AsyncClient(world.server.url) as manager:
            await manager.login("admin", "password1")
            assert (await manager.account()).logged_in
            assert [p.id for p in await manager.projects()] == [world.project]
            assert (await manager.get_worker(world.identity.id)).secret == world.identity.secret


def test_a_worker_route_without_an_identity_is_a_usage_error(world: World) -> None:
    from tracker.client import UsageError

    with pytest.raises(UsageError, match="needs a worker identity"), Client(world.server.url) as c:
        c.get_task(world.project)
    assert WorkerIdentity(1, "abc").secret not in repr(WorkerIdentity(1, "abc"))


def test_the_task_browser_through_the_sync_client(world: World) -> None:
    worker, admin, project = world.worker, world.admin, world.project
    worker.bulk_submit([NewTask(project=project, recipe=f"job {i}", priority=i % 2)
                        for i in range(5)])  # fmt: skip
    failing = worker.get_task(project)
    assert failing is not None and failing.recipe == "job 1"  # priority 1 first
    assert worker.release(failing.id, Result.FAIL, reason="exit status 2: no such file")

    failed = admin.tasks(project, state="failed")
    assert [(t.id, t.state, t.reason) for t in failed.tasks] == [
        (failing.id, "failed", "exit status 2: no such file")
    ]
    assert failed.next is None
    first = admin.tasks(project, sort="-id", limit=2)
    rest = admin.tasks(project, sort="-id", limit=50, cursor=first.next)
    assert [t.id for t in first.tasks + rest.tasks] == [5, 4, 3, 2, 1]  # newest first
    assert [t.recipe for t in admin.tasks(project, recipe="job 3").tasks] == ["job 3"]
    assert [t.id for t in admin.tasks(project, priority_min=1).tasks] == [2, 4]

    view = admin.task_view(failing.id)
    assert view.task.state == "failed" and view.row is not None and view.row.retries == 1
    assert [(a.worker, a.result, a.reason) for a in view.attempts] == [
        (world.identity.id, "FAIL", "exit status 2: no such file")
    ]
    with pytest.raises(BadRequest, match="state must be one of"):
        admin.tasks(project, state="done")
    with pytest.raises(Unauthorized):
        worker.tasks(project)
