"""Project administration over HTTP: update, secrets, the access list, accepting and rejecting
workers, and the maintenance actions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.world import NO_TASK, Caller, World, project_body

UNLIMITED = 1.7976931348623157e308


async def project_view(caller: Caller, project: int) -> dict:
    answer = await caller.get(f"/project/get/{project}", status=200)
    return dict(answer.content["project"])


async def update(caller: Caller, project: int | str, body: Any) -> Any:
    if isinstance(body, bytes):
        return await caller.post(f"/project/update/{project}", data=body)
    return await caller.post(f"/project/update/{project}", body)


# --- update ------------------------------------------------------------------------------------


async def test_update_replaces_every_field_and_left_out_fields_become_zero(world: World) -> None:
    admin = world.admin
    project = await world.create_project(
        "p", version="1.0", motd="hi", priority=5, assign_rate=2, submit_rate=3
    )
    answer = await update(admin, project, {"name": "renamed", "paused": True})
    assert (answer.status, answer.body) == (200, {"ok": True})
    assert await project_view(admin, project) == {
        "id": project, "priority": 0, "name": "renamed", "clone_url": "", "git_repo": "",
        "version": "", "motd": "", "public": False, "hidden": False, "chain": 0,
        "paused": True, "assign_rate": UNLIMITED, "submit_rate": UNLIMITED,
    }  # fmt: skip


async def test_a_paused_project_hands_out_no_task_until_resumed(world: World) -> None:
    admin, project = world.admin, world.project
    await world.submit("r")
    await update(admin, project, project_body("project", public=True, paused=True))
    assert (await world.assign()).body == NO_TASK
    await update(admin, project, project_body("project", public=True, paused=False))
    assert (await world.assign()).ok is True


async def test_update_refuses_bad_ids_bodies_and_invalid_settings(world: World) -> None:
    admin, project = world.admin, world.project
    await world.create_project("other")
    before = world.position()
    name = "project"
    cases: list[tuple[str, Any, int, str]] = [
        ("x", project_body(name), 400, "Invalid project id"),
        ("0", project_body(name), 400, "Invalid project id"),
        (str(project), b"", 400, "Could not parse request"),
        (str(project), b"[1]", 400, "Could not parse request"),
        (str(project), {**project_body(name), "paused": "true"}, 400, "Could not parse request"),
        (str(project), {**project_body(name), "priority": 1.5}, 400, "Could not parse request"),
        (str(project), {**project_body(name), "chain": 2**63}, 400, "Could not parse request"),
        (str(project), project_body(""), 400, "Invalid request: name"),
        (str(project), project_body(name, priority=-1), 400, "Invalid request: priority"),
        (str(project), project_body(name, priority=2**31), 400, "Invalid request: priority"),
        (str(project), project_body(name, public=True, hidden=True), 400, "Invalid request"),
        (str(project), project_body(name, chain=project), 400, "Invalid request"),
        (str(project), project_body(name, assign_rate=-1), 400, "Invalid request: rates"),
        (str(project), project_body(name, motd="x" * 5000), 400, "Invalid request: text"),
        (str(project), project_body(name, chain=99), 400, "Invalid request: the chain target"),
        (str(project), project_body("other"), 400, "A project with this name already exists"),
    ]
    for target, body, status, message in cases:
        answer = await update(admin, target, body)
        assert answer.status == status and answer.message.startswith(message), (body, answer)
    assert world.position() == before


async def test_updating_an_unknown_project_is_404_and_creates_no_phantom(
    bare_world: World,
) -> None:
    admin = await bare_world.register("admin")
    answer = await update(admin, 42, project_body("ghost"))
    assert (answer.status, answer.body) == (404, {"ok": False, "message": "Project not found"})
    assert (await admin.get("/project/get/42")).status == 404
    listed = await admin.get("/project/list")
    assert listed.content["projects"] == []


async def test_update_needs_edit_on_the_project(world: World) -> None:
    alice = await world.register("alice")
    project = world.project
    await world.set_role(project, alice, 31 - 2)
    before = world.position()
    for caller in (world.anonymous, alice):
        answer = await update(caller, project, project_body("project", motd="new"))
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert world.position() == before
    await world.set_role(project, alice, 2)
    assert (await update(alice, project, project_body("project", motd="new"))).status == 200


async def test_chaining_needs_edit_on_the_chain_target(world: World) -> None:
    alice = await world.register("alice")
    mine = await world.create_project("mine", by=alice)
    theirs = world.project
    answer = await update(alice, mine, project_body("mine", chain=theirs))
    assert answer.status == 403
    assert answer.message == (
        "Unauthorized (You need RoleEdit on the project you wish to chain tasks to)"
    )
    await world.set_role(theirs, alice, 2)
    assert (await update(alice, mine, project_body("mine", chain=theirs))).status == 200
    assert (await project_view(alice, mine))["chain"] == theirs


@pytest.mark.parametrize("length", [2, 3, 5])
async def test_update_refuses_a_chain_cycle_of_any_length(world: World, length: int) -> None:
    admin = world.admin
    ids = [await world.create_project(f"p{i}") for i in range(length)]
    for here, there in zip(ids, ids[1:], strict=False):  # p0 → p1 → ... → p(n-1)
        answer = await update(admin, here, project_body(f"p{ids.index(here)}", chain=there))
        assert answer.status == 200
    before = world.position()
    last = ids[-1]
    answer = await update(admin, last, project_body(f"p{length - 1}", chain=ids[0]))
    loop = " → ".join(str(p) for p in [last, *ids])
    assert (answer.status, answer.message) == (
        400,
        f"Invalid request: chaining would make a cycle ({loop})",
    )
    assert world.position() == before


async def test_only_a_tracker_admin_can_make_a_project_public(world: World) -> None:
    alice = await world.register("alice")
    project = await world.create_project("p", by=alice)
    answer = await update(alice, project, project_body("p", public=True))
    assert (answer.status, answer.message) == (
        403,
        "Unauthorized (only a tracker admin can make a project public)",
    )
    assert (await update(world.admin, project, project_body("p", public=True))).status == 200
    # a public project stays public when its editor sends the whole object back
    answer = await update(alice, project, project_body("p", public=True, motd="x"))
    assert answer.status == 200
    assert (await update(alice, project, project_body("p"))).status == 200


async def test_an_update_that_changes_nothing_appends_nothing(world: World) -> None:
    project = await world.create_project("p", motd="m")
    before = world.position()
    body = project_body("p", motd="m")
    assert (await update(world.admin, project, body)).body == {"ok": True}
    assert world.position() == before


# --- the project secret ------------------------------------------------------------------------


async def test_the_project_secret_is_read_by_granted_assign_workers_and_secret_managers(
    world: World,
) -> None:
    admin = world.admin
    alice = await world.register("alice")
    project = await world.create_project("p", public=True)
    answer = await admin.get(f"/project/secret/{project}")
    assert answer.body == {"ok": True, "content": {"secret": "{}"}}
    answer = await admin.post(f"/project/secret/{project}", {"secret": "s3cret"})
    assert (answer.status, answer.body) == (200, {"ok": True})

    granted = await world.new_worker("granted")
    await world.grant(granted, project)
    pending = await world.new_worker("pending")
    await world.request_access(pending, project)
    submit_only = await world.new_worker("submit-only")
    await world.grant(submit_only, project, assign=False)
    stranger = await world.new_worker("stranger")
    await world.set_role(project, alice, 8)

    for caller in (granted, alice, admin):
        answer = await caller.get(f"/project/secret/{project}")
        assert answer.body == {"ok": True, "content": {"secret": "s3cret"}}, caller.name
    for caller in (pending, submit_only, stranger, world.anonymous):  # even on a public project
        answer = await caller.get(f"/project/secret/{project}")
        assert (answer.status, answer.message) == (403, "Unauthorized"), caller.name


async def test_a_worker_with_bad_credentials_falls_back_to_the_session(
    bare_world: World,
) -> None:
    admin = await bare_world.register("admin")
    project = await bare_world.create_project("p", by=admin)
    forged = Caller(bare_world, cookie=admin.cookie, worker={"id": 1, "secret": "AAAA"})
    answer = await forged.get(f"/project/secret/{project}")
    assert answer.content == {"secret": "{}"}


async def test_project_secret_routes_refuse_bad_input(world: World) -> None:
    admin, project = world.admin, world.project
    before = world.position()
    path = f"/project/secret/{project}"
    assert (await admin.get("/project/secret/x")).message == "Invalid project id"
    assert (await admin.post("/project/secret/-3")).message == "Invalid project id"
    answer = await world.anonymous.post(path, data=b"{")  # caller checked first
    assert (answer.status, answer.message) == (403, "Unauthorized")
    answer = await admin.post(path, data=b"{")
    assert answer.status == 400 and answer.message.startswith("Could not parse request")
    answer = await admin.post(path, {"secret": 5})
    assert answer.status == 400
    answer = await admin.post(path, {"secret": "x" * 70_000})
    assert answer.status == 400 and "limited" in answer.message
    for method in ("GET", "POST"):
        answer = await admin.call(method, "/project/secret/9", {"secret": "s"})
        assert (answer.status, answer.message) == (404, "Project not found")
    assert world.position() == before


# --- the webhook secret ------------------------------------------------------------------------


async def test_the_webhook_secret_starts_as_a_uuid_and_can_be_replaced(world: World) -> None:
    admin = world.admin
    path = f"/project/webhook_secret/{world.project}"
    first = (await admin.get(path)).content["webhook_secret"]
    assert uuid.UUID(first).version == 4
    answer = await admin.post(path, {"webhook_secret": "new"})
    assert (answer.status, answer.body) == (200, {"ok": True})
    answer = await admin.get(path)
    assert answer.body == {"ok": True, "content": {"webhook_secret": "new"}}


async def test_webhook_secret_routes_refuse_bad_input(world: World) -> None:
    admin, project = world.admin, world.project
    alice = await world.register("alice")
    await world.set_role(project, alice, 31 - 8)
    before = world.position()
    path = f"/project/webhook_secret/{project}"
    answer = await world.anonymous.post(path, data=b"{")  # body parsed first here
    assert answer.status == 400 and answer.message.startswith("Could not parse request")
    for caller in (world.anonymous, alice):
        for method in ("GET", "POST"):
            body = {"webhook_secret": "x"}
            answer = await caller.call(method, path, body)
            assert (answer.status, answer.message) == (403, "Unauthorized")
    for bad in ("", "x" * 1025):
        answer = await admin.post(path, {"webhook_secret": bad})
        assert answer.status == 400 and "webhook_secret" in answer.message
    answer = await admin.get("/project/webhook_secret/0")
    assert (answer.status, answer.message) == (400, "Invalid project id")
    answer = await admin.get("/project/webhook_secret/77")
    assert answer.status == 404
    assert world.position() == before


# --- access list, accept, reject ---------------------------------------------------------------


async def test_the_access_list_shows_granted_workers_first_then_pending_by_alias(
    world: World,
) -> None:
    project = await world.create_project("p")  # the world's workers have no access to it
    zed = await world.new_worker("zed")
    amy = await world.new_worker("amy")
    bob = await world.new_worker("bob")
    cat = await world.new_worker("cat")
    await world.grant(zed, project, submit=False)
    await world.grant(bob, project)
    await world.request_access(cat, project, assign=False)
    await world.request_access(amy, project)
    answer = await world.admin.get(f"/project/access_list/{project}")
    accesses = answer.content["accesses"]
    assert [(a["worker"]["alias"], a["request"]) for a in accesses] == [
        ("bob", False), ("zed", False), ("amy", True), ("cat", True),
    ]  # fmt: skip
    assert accesses[1] == {
        "submit": False, "assign": True, "request": False, "project": project,
        "worker": {"id": zed.id, "created": 1_700_000_000, "alias": "zed", "secret": None,
                   "paused": False},
    }  # fmt: skip


async def test_access_list_refuses_bad_ids_and_callers_without_manage_access(
    world: World,
) -> None:
    admin, project = world.admin, world.project
    alice = await world.register("alice")
    await world.set_role(project, alice, 31 - 4)
    answer = await admin.get("/project/access_list/x")
    assert (answer.status, answer.message) == (400, "Invalid worker id")  # sic, as the original
    for caller in (world.anonymous, alice):
        answer = await caller.get(f"/project/access_list/{project}")
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert (await admin.get("/project/access_list/5")).status == 404


async def test_rejecting_removes_a_pending_request_or_a_granted_access(world: World) -> None:
    admin, worker = world.admin, world.worker
    project = await world.create_project("p")  # the only worker with access to it is `worker`
    await world.grant(worker, project)
    assert (await world.submit("r", project=project)).ok is True
    answer = await admin.post(f"/project/reject_request/{project}/{worker.id}")
    assert (answer.status, answer.body) == (200, {"ok": True})
    answer = await world.submit("2", project=project)
    assert (answer.status, answer.message) == (400, "unauthorized task submit")
    await world.request_access(worker, project)  # the worker may ask again
    answer = await admin.post(f"/project/reject_request/{project}/{worker.id}")
    assert answer.body == {"ok": True}
    answer = await admin.get(f"/project/access_list/{project}")
    assert answer.content == {"accesses": []}


async def test_reject_and_accept_answer_the_originals_messages(world: World) -> None:
    admin, project = world.admin, world.project
    worker = await world.new_worker("w")
    before = world.position()
    for verb in ("reject_request", "accept_request"):
        answer = await admin.post(f"/project/{verb}/{project}/{worker.id}")
        assert (answer.status, answer.body) == (
            200,
            {"ok": False, "message": "Worker did not have access to this project"},
        )
    answer = await admin.post(f"/project/reject_request/x/{worker.id}")
    assert (answer.status, answer.message) == (400, "Invalid project id")
    answer = await admin.post(f"/project/reject_request/{project}/0")
    assert (answer.status, answer.message) == (400, "Invalid worker id")
    answer = await admin.post(f"/project/reject_request/8/{worker.id}")
    assert (answer.status, answer.message) == (404, "Project not found")
    assert world.position() == before


async def test_reject_request_needs_manage_access(world: World) -> None:
    project = world.project
    worker = await world.new_worker("w")
    await world.request_access(worker, project)
    before = world.position()
    for caller in (world.anonymous, worker):  # the original let anyone do this
        answer = await caller.post(f"/project/reject_request/{project}/{worker.id}")
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert world.position() == before


async def test_request_access_says_what_is_wrong(world: World) -> None:
    project = world.project
    worker = await world.new_worker("w")
    body = {"project": project, "assign": True}
    await world.request_access(worker, project)
    answer = await worker.post("/project/request_access", body)
    assert (answer.status, answer.message) == (
        400,
        "You already have a pending access request for this project",
    )
    await world.admin.post(f"/project/accept_request/{project}/{worker.id}")
    answer = await worker.post("/project/request_access", body)
    assert (answer.status, answer.message) == (400, "You already have access to this project")
    answer = await worker.post("/project/request_access", {**body, "project": 9})
    assert (answer.status, answer.message) == (404, "Project not found")


# --- maintenance -------------------------------------------------------------------------------


async def _workshop(world: World) -> None:
    """On the world's project, by its first worker: 2 failed tasks, 1 assigned task and
    2 waiting tasks."""
    for n in range(5):
        await world.submit(str(n), priority=10 - n)
    for _ in range(2):  # max_retries 0: the first FAIL marks the task FAILED
        task = await world.task()
        await world.release(task["id"], 1)
    assert (await world.assign()).ok is True


async def maintain(caller: Caller, action: str, project: int | str) -> Any:
    return await caller.post(f"/project/{action}/{project}")


async def test_reset_failed_tasks_makes_failed_tasks_new_again(world: World) -> None:
    await _workshop(world)
    answer = await maintain(world.admin, "reset_failed_tasks", world.project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 2}}
    answer = await maintain(world.admin, "reset_failed_tasks", world.project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 0}}
    recipes = []
    while (answer := await world.assign()).ok:
        recipes.append(answer.content["task"]["recipe"])
        assert answer.content["task"]["retries"] == 0
    assert recipes == ["0", "1", "3", "4"]  # 2 is still assigned


async def test_reclaim_counts_every_new_task_and_frees_the_assigned_ones(world: World) -> None:
    await _workshop(world)
    other = world.workers[1]
    answer = await maintain(world.admin, "reclaim_assigned_tasks", world.project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 3}}  # as the original
    task = await world.task(other)
    assert (task["recipe"], task["assignee"]) == ("2", other.id)


async def test_hard_reset_deletes_every_task(world: World) -> None:
    await _workshop(world)
    answer = await maintain(world.admin, "hard_reset", world.project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 5}}
    assert (await world.assign()).body == NO_TASK
    assert (await world.submit("again")).ok is True


@pytest.mark.parametrize("action", ["reset_failed_tasks", "hard_reset", "reclaim_assigned_tasks"])
async def test_maintenance_refuses_bad_ids_unknown_projects_and_callers_without_the_role(
    world: World, action: str
) -> None:
    await _workshop(world)
    admin, project = world.admin, world.project
    alice = await world.register("alice")
    await world.set_role(project, alice, 31 - 16)
    before = world.position()
    answer = await maintain(admin, action, "x")
    assert (answer.status, answer.message) == (400, "Invalid project id")
    answer = await maintain(admin, action, 99)
    assert (answer.status, answer.message) == (404, "Project not found")
    for caller in (world.anonymous, alice, world.worker):
        answer = await maintain(caller, action, project)
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert world.position() == before
    await world.set_role(project, alice, 16)
    assert (await maintain(alice, action, project)).status == 200


async def test_an_editor_may_send_back_a_chain_it_could_not_have_made(world: World) -> None:
    admin, project = world.admin, world.project
    alice = await world.register("alice")
    target = await world.create_project("target")
    await update(admin, project, project_body("project", chain=target))
    await world.set_role(project, alice, 2)
    answer = await update(alice, project, project_body("project", chain=target, paused=True))
    assert (answer.status, answer.body) == (200, {"ok": True})  # the UI's Pause button
    assert (await project_view(alice, project))["paused"] is True
