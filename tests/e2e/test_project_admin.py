"""Project administration over HTTP: update, secrets, the access list, accepting and rejecting
workers, and the maintenance actions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import (
    ANONYMOUS,
    Caller,
    call,
    create_project,
    grant,
    new_worker,
    project_body,
    register,
    request_access,
    set_role,
    start,
)
from tests.world import tracker_of
from tracker import config

UNLIMITED = 1.7976931348623157e308


@pytest.fixture
async def client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings, clock)


def head(client: TestClient) -> int:
    return tracker_of(client).state.position


async def project_view(client: TestClient, caller: Caller, project: int) -> dict:
    answer = await call(client, "GET", f"/project/get/{project}", caller)
    assert answer.status == 200, answer
    return dict(answer.content["project"])


async def update(client: TestClient, caller: Caller, project: int, body: Any) -> Any:
    if isinstance(body, bytes):
        return await call(client, "POST", f"/project/update/{project}", caller, data=body)
    return await call(client, "POST", f"/project/update/{project}", caller, json=body)


# --- update ------------------------------------------------------------------------------------


async def test_update_replaces_every_field_and_left_out_fields_become_zero(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(
        client, admin, "p", version="1.0", motd="hi", priority=5, assign_rate=2, submit_rate=3
    )
    answer = await update(client, admin, project, {"name": "renamed", "paused": True})
    assert (answer.status, answer.body) == (200, {"ok": True})
    assert await project_view(client, admin, project) == {
        "id": project, "priority": 0, "name": "renamed", "clone_url": "", "git_repo": "",
        "version": "", "motd": "", "public": False, "hidden": False, "chain": 0,
        "paused": True, "assign_rate": UNLIMITED, "submit_rate": UNLIMITED,
    }  # fmt: skip


async def test_a_paused_project_hands_out_no_task_until_resumed(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p", public=True)
    worker = await new_worker(client, "w")
    await grant(client, admin, worker, project)
    await call(client, "POST", "/task/submit", worker, json={"project": project, "recipe": "r"})
    await update(client, admin, project, project_body("p", public=True, paused=True))
    answer = await call(client, "GET", f"/task/get/{project}", worker)
    assert answer.body == {"ok": False, "message": "No task available"}
    await update(client, admin, project, project_body("p", public=True, paused=False))
    assert (await call(client, "GET", f"/task/get/{project}", worker)).ok is True


async def test_update_refuses_bad_ids_bodies_and_invalid_settings(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    await create_project(client, admin, "other")
    before = head(client)
    cases: list[tuple[str, Any, int, str]] = [
        ("x", project_body("p"), 400, "Invalid project id"),
        ("0", project_body("p"), 400, "Invalid project id"),
        (str(project), b"", 400, "Could not parse request"),
        (str(project), b"[1]", 400, "Could not parse request"),
        (str(project), {**project_body("p"), "paused": "true"}, 400, "Could not parse request"),
        (str(project), {**project_body("p"), "priority": 1.5}, 400, "Could not parse request"),
        (str(project), {**project_body("p"), "chain": 2**63}, 400, "Could not parse request"),
        (str(project), project_body(""), 400, "Invalid request: name"),
        (str(project), project_body("p", priority=-1), 400, "Invalid request: priority"),
        (str(project), project_body("p", priority=2**31), 400, "Invalid request: priority"),
        (str(project), project_body("p", public=True, hidden=True), 400, "Invalid request"),
        (str(project), project_body("p", chain=project), 400, "Invalid request"),
        (str(project), project_body("p", assign_rate=-1), 400, "Invalid request: rates"),
        (str(project), project_body("p", motd="x" * 5000), 400, "Invalid request: text"),
        (str(project), project_body("p", chain=99), 400, "Invalid request: the chain target"),
        (str(project), project_body("other"), 400, "A project with this name already exists"),
    ]
    for target, body, status, message in cases:
        answer = await update(client, admin, target, body)  # type: ignore[arg-type]
        assert answer.status == status and answer.message.startswith(message), (body, answer)
    assert head(client) == before


async def test_updating_an_unknown_project_is_404_and_creates_no_phantom(client) -> None:
    admin = await register(client, "admin")
    answer = await update(client, admin, 42, project_body("ghost"))
    assert (answer.status, answer.body) == (404, {"ok": False, "message": "Project not found"})
    assert (await call(client, "GET", "/project/get/42", admin)).status == 404
    listed = await call(client, "GET", "/project/list", admin)
    assert listed.content["projects"] == []


async def test_update_needs_edit_on_the_project(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, admin, "p")
    await set_role(client, admin, project, alice, 31 - 2)
    before = head(client)
    for caller in (ANONYMOUS, alice):
        answer = await update(client, caller, project, project_body("p", motd="new"))
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert head(client) == before
    await set_role(client, admin, project, alice, 2)
    assert (await update(client, alice, project, project_body("p", motd="new"))).status == 200


async def test_chaining_needs_edit_on_the_chain_target(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    mine = await create_project(client, alice, "mine")
    theirs = await create_project(client, admin, "theirs")
    answer = await update(client, alice, mine, project_body("mine", chain=theirs))
    assert answer.status == 403
    assert answer.message == (
        "Unauthorized (You need RoleEdit on the project you wish to chain tasks to)"
    )
    await set_role(client, admin, theirs, alice, 2)
    assert (await update(client, alice, mine, project_body("mine", chain=theirs))).status == 200
    assert (await project_view(client, alice, mine))["chain"] == theirs


@pytest.mark.parametrize("length", [2, 3, 5])
async def test_update_refuses_a_chain_cycle_of_any_length(client, length: int) -> None:
    admin = await register(client, "admin")
    ids = [await create_project(client, admin, f"p{i}") for i in range(length)]
    for here, there in zip(ids, ids[1:], strict=False):  # p0 → p1 → ... → p(n-1)
        answer = await update(client, admin, here, project_body(f"p{ids.index(here)}", chain=there))
        assert answer.status == 200
    before = head(client)
    last = ids[-1]
    answer = await update(client, admin, last, project_body(f"p{length - 1}", chain=ids[0]))
    loop = " → ".join(str(p) for p in [last, *ids])
    assert (answer.status, answer.message) == (
        400,
        f"Invalid request: chaining would make a cycle ({loop})",
    )
    assert head(client) == before


async def test_only_a_tracker_admin_can_make_a_project_public(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, alice, "p")
    answer = await update(client, alice, project, project_body("p", public=True))
    assert (answer.status, answer.message) == (
        403,
        "Unauthorized (only a tracker admin can make a project public)",
    )
    assert (await update(client, admin, project, project_body("p", public=True))).status == 200
    # a public project stays public when its editor sends the whole object back
    answer = await update(client, alice, project, project_body("p", public=True, motd="x"))
    assert answer.status == 200
    assert (await update(client, alice, project, project_body("p"))).status == 200


async def test_an_update_that_changes_nothing_appends_nothing(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p", motd="m")
    before = head(client)
    body = project_body("p", motd="m")
    assert (await update(client, admin, project, body)).body == {"ok": True}
    assert head(client) == before


# --- the project secret ------------------------------------------------------------------------


async def test_the_project_secret_is_read_by_granted_assign_workers_and_secret_managers(
    client,
) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, admin, "p", public=True)
    answer = await call(client, "GET", f"/project/secret/{project}", admin)
    assert answer.body == {"ok": True, "content": {"secret": "{}"}}
    answer = await call(
        client, "POST", f"/project/secret/{project}", admin, json={"secret": "s3cret"}
    )
    assert (answer.status, answer.body) == (200, {"ok": True})

    granted = await new_worker(client, "granted")
    await grant(client, admin, granted, project)
    pending = await new_worker(client, "pending")
    await request_access(client, pending, project)
    submit_only = await new_worker(client, "submit-only")
    await grant(client, admin, submit_only, project, assign=False)
    stranger = await new_worker(client, "stranger")
    await set_role(client, admin, project, alice, 8)

    for caller in (granted, alice, admin):
        answer = await call(client, "GET", f"/project/secret/{project}", caller)
        assert answer.body == {"ok": True, "content": {"secret": "s3cret"}}, caller.name
    for caller in (pending, submit_only, stranger, ANONYMOUS):  # even on a public project
        answer = await call(client, "GET", f"/project/secret/{project}", caller)
        assert (answer.status, answer.message) == (403, "Unauthorized"), caller.name


async def test_a_worker_with_bad_credentials_falls_back_to_the_session(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    forged = Caller(cookie=admin.cookie, worker={"id": 1, "secret": "AAAA"})
    answer = await call(client, "GET", f"/project/secret/{project}", forged)
    assert answer.content == {"secret": "{}"}


async def test_project_secret_routes_refuse_bad_input(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    before = head(client)
    path = f"/project/secret/{project}"
    assert (await call(client, "GET", "/project/secret/x", admin)).message == "Invalid project id"
    assert (await call(client, "POST", "/project/secret/-3", admin)).message == (
        "Invalid project id"
    )
    answer = await call(client, "POST", path, ANONYMOUS, data=b"{")  # caller checked first
    assert (answer.status, answer.message) == (403, "Unauthorized")
    answer = await call(client, "POST", path, admin, data=b"{")
    assert answer.status == 400 and answer.message.startswith("Could not parse request")
    answer = await call(client, "POST", path, admin, json={"secret": 5})
    assert answer.status == 400
    answer = await call(client, "POST", path, admin, json={"secret": "x" * 70_000})
    assert answer.status == 400 and "limited" in answer.message
    for method in ("GET", "POST"):
        answer = await call(client, method, "/project/secret/9", admin, json={"secret": "s"})
        assert (answer.status, answer.message) == (404, "Project not found")
    assert head(client) == before


# --- the webhook secret ------------------------------------------------------------------------


async def test_the_webhook_secret_starts_as_a_uuid_and_can_be_replaced(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    path = f"/project/webhook_secret/{project}"
    first = (await call(client, "GET", path, admin)).content["webhook_secret"]
    assert uuid.UUID(first).version == 4
    answer = await call(client, "POST", path, admin, json={"webhook_secret": "new"})
    assert (answer.status, answer.body) == (200, {"ok": True})
    answer = await call(client, "GET", path, admin)
    assert answer.body == {"ok": True, "content": {"webhook_secret": "new"}}


async def test_webhook_secret_routes_refuse_bad_input(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, admin, "p")
    await set_role(client, admin, project, alice, 31 - 8)
    before = head(client)
    path = f"/project/webhook_secret/{project}"
    answer = await call(client, "POST", path, ANONYMOUS, data=b"{")  # body parsed first here
    assert answer.status == 400 and answer.message.startswith("Could not parse request")
    for caller in (ANONYMOUS, alice):
        for method in ("GET", "POST"):
            body = {"webhook_secret": "x"}
            answer = await call(client, method, path, caller, json=body)
            assert (answer.status, answer.message) == (403, "Unauthorized")
    for bad in ("", "x" * 1025):
        answer = await call(client, "POST", path, admin, json={"webhook_secret": bad})
        assert answer.status == 400 and "webhook_secret" in answer.message
    answer = await call(client, "GET", "/project/webhook_secret/0", admin)
    assert (answer.status, answer.message) == (400, "Invalid project id")
    answer = await call(client, "GET", "/project/webhook_secret/77", admin)
    assert answer.status == 404
    assert head(client) == before


# --- access list, accept, reject ---------------------------------------------------------------


async def test_the_access_list_shows_granted_workers_first_then_pending_by_alias(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    zed = await new_worker(client, "zed")
    amy = await new_worker(client, "amy")
    bob = await new_worker(client, "bob")
    cat = await new_worker(client, "cat")
    await grant(client, admin, zed, project, submit=False)
    await grant(client, admin, bob, project)
    await request_access(client, cat, project, assign=False)
    await request_access(client, amy, project)
    answer = await call(client, "GET", f"/project/access_list/{project}", admin)
    accesses = answer.content["accesses"]
    assert [(a["worker"]["alias"], a["request"]) for a in accesses] == [
        ("bob", False), ("zed", False), ("amy", True), ("cat", True),
    ]  # fmt: skip
    assert accesses[1] == {
        "submit": False, "assign": True, "request": False, "project": project,
        "worker": {"id": zed.id, "created": 1_700_000_000, "alias": "zed", "secret": None,
                   "paused": False},
    }  # fmt: skip


async def test_access_list_refuses_bad_ids_and_callers_without_manage_access(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, admin, "p")
    await set_role(client, admin, project, alice, 31 - 4)
    answer = await call(client, "GET", "/project/access_list/x", admin)
    assert (answer.status, answer.message) == (400, "Invalid worker id")  # sic, as the original
    for caller in (ANONYMOUS, alice):
        answer = await call(client, "GET", f"/project/access_list/{project}", caller)
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert (await call(client, "GET", "/project/access_list/5", admin)).status == 404


async def test_rejecting_removes_a_pending_request_or_a_granted_access(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    worker = await new_worker(client, "w")
    await grant(client, admin, worker, project)
    submit = {"project": project, "recipe": "r"}
    assert (await call(client, "POST", "/task/submit", worker, json=submit)).ok is True
    answer = await call(client, "POST", f"/project/reject_request/{project}/{worker.id}", admin)
    assert (answer.status, answer.body) == (200, {"ok": True})
    answer = await call(client, "POST", "/task/submit", worker, json={**submit, "recipe": "2"})
    assert (answer.status, answer.message) == (400, "unauthorized task submit")
    await request_access(client, worker, project)  # the worker may ask again
    answer = await call(client, "POST", f"/project/reject_request/{project}/{worker.id}", admin)
    assert answer.body == {"ok": True}
    answer = await call(client, "GET", f"/project/access_list/{project}", admin)
    assert answer.content == {"accesses": []}


async def test_reject_and_accept_answer_the_originals_messages(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    worker = await new_worker(client, "w")
    before = head(client)
    for verb in ("reject_request", "accept_request"):
        answer = await call(client, "POST", f"/project/{verb}/{project}/{worker.id}", admin)
        assert (answer.status, answer.body) == (
            200,
            {"ok": False, "message": "Worker did not have access to this project"},
        )
    answer = await call(client, "POST", f"/project/reject_request/x/{worker.id}", admin)
    assert (answer.status, answer.message) == (400, "Invalid project id")
    answer = await call(client, "POST", f"/project/reject_request/{project}/0", admin)
    assert (answer.status, answer.message) == (400, "Invalid worker id")
    answer = await call(client, "POST", f"/project/reject_request/8/{worker.id}", admin)
    assert (answer.status, answer.message) == (404, "Project not found")
    assert head(client) == before


async def test_reject_request_needs_manage_access(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    worker = await new_worker(client, "w")
    await request_access(client, worker, project)
    before = head(client)
    for caller in (ANONYMOUS, worker):  # the original let anyone do this
        answer = await call(
            client, "POST", f"/project/reject_request/{project}/{worker.id}", caller
        )
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert head(client) == before


async def test_request_access_says_what_is_wrong(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    worker = await new_worker(client, "w")
    body = {"project": project, "assign": True}
    await request_access(client, worker, project)
    answer = await call(client, "POST", "/project/request_access", worker, json=body)
    assert (answer.status, answer.message) == (
        400,
        "You already have a pending access request for this project",
    )
    await call(client, "POST", f"/project/accept_request/{project}/{worker.id}", admin)
    answer = await call(client, "POST", "/project/request_access", worker, json=body)
    assert (answer.status, answer.message) == (400, "You already have access to this project")
    answer = await call(
        client, "POST", "/project/request_access", worker, json={**body, "project": 9}
    )
    assert (answer.status, answer.message) == (404, "Project not found")


# --- maintenance -------------------------------------------------------------------------------


async def _workshop(client: TestClient) -> tuple[Caller, int, Caller]:
    """A project with a granted worker, 2 failed tasks, 1 assigned task and 2 waiting tasks."""
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p")
    worker = await new_worker(client, "w")
    await grant(client, admin, worker, project)
    for n in range(5):
        task = {"project": project, "recipe": str(n), "priority": 10 - n}
        await call(client, "POST", "/task/submit", worker, json=task)
    for _ in range(2):  # max_retries 0: the first FAIL marks the task FAILED
        task = (await call(client, "GET", f"/task/get/{project}", worker)).content["task"]
        release = {"task_id": task["id"], "result": 1}
        await call(client, "POST", "/task/release", worker, json=release)
    assert (await call(client, "GET", f"/task/get/{project}", worker)).ok is True
    return admin, project, worker


async def maintain(client: TestClient, caller: Caller, action: str, project: int) -> Any:
    return await call(client, "POST", f"/project/{action}/{project}", caller)


async def test_reset_failed_tasks_makes_failed_tasks_new_again(client) -> None:
    admin, project, worker = await _workshop(client)
    answer = await maintain(client, admin, "reset_failed_tasks", project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 2}}
    answer = await maintain(client, admin, "reset_failed_tasks", project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 0}}
    recipes = []
    while (answer := await call(client, "GET", f"/task/get/{project}", worker)).ok:
        recipes.append(answer.content["task"]["recipe"])
        assert answer.content["task"]["retries"] == 0
    assert recipes == ["0", "1", "3", "4"]  # 2 is still assigned


async def test_reclaim_counts_every_new_task_and_frees_the_assigned_ones(client) -> None:
    admin, project, worker = await _workshop(client)
    other = await new_worker(client, "other")
    await grant(client, admin, other, project)
    answer = await maintain(client, admin, "reclaim_assigned_tasks", project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 3}}  # as the original
    task = (await call(client, "GET", f"/task/get/{project}", other)).content["task"]
    assert (task["recipe"], task["assignee"]) == ("2", other.id)


async def test_hard_reset_deletes_every_task(client) -> None:
    admin, project, worker = await _workshop(client)
    answer = await maintain(client, admin, "hard_reset", project)
    assert answer.body == {"ok": True, "content": {"affected_tasks": 5}}
    answer = await call(client, "GET", f"/task/get/{project}", worker)
    assert answer.body == {"ok": False, "message": "No task available"}
    task = {"project": project, "recipe": "again"}
    assert (await call(client, "POST", "/task/submit", worker, json=task)).ok is True


@pytest.mark.parametrize("action", ["reset_failed_tasks", "hard_reset", "reclaim_assigned_tasks"])
async def test_maintenance_refuses_bad_ids_unknown_projects_and_callers_without_the_role(
    client, action: str
) -> None:
    admin, project, worker = await _workshop(client)
    alice = await register(client, "alice")
    await set_role(client, admin, project, alice, 31 - 16)
    before = head(client)
    answer = await maintain(client, admin, action, "x")  # type: ignore[arg-type]
    assert (answer.status, answer.message) == (400, "Invalid project id")
    answer = await maintain(client, admin, action, 99)
    assert (answer.status, answer.message) == (404, "Project not found")
    for caller in (ANONYMOUS, alice, worker):
        answer = await maintain(client, caller, action, project)
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert head(client) == before
    await set_role(client, admin, project, alice, 16)
    assert (await maintain(client, alice, action, project)).status == 200


async def test_an_editor_may_send_back_a_chain_it_could_not_have_made(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    target = await create_project(client, admin, "target")
    project = await create_project(client, admin, "p")
    await update(client, admin, project, project_body("p", chain=target))
    await set_role(client, admin, project, alice, 2)
    answer = await update(client, alice, project, project_body("p", chain=target, paused=True))
    assert (answer.status, answer.body) == (200, {"ok": True})  # the UI's Pause button
    assert (await project_view(client, alice, project))["paused"] is True
