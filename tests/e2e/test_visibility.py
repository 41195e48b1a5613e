"""Public, private and hidden projects, and pending versus granted access, as workers and
anonymous callers see them (behavior.md 7.9, 7.10)."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.e2e.support import NO_TASK, forget_session

VISIBILITY = {"public": {"public": True}, "private": {}, "hidden": {"hidden": True}}


async def project_with_a_task(api: Api, kind: str) -> int:
    """A ``kind`` project holding one task, submitted by a worker with granted submit access."""
    account = await api.call("GET", "/account")
    if not account.get("ok"):
        await api.register("admin")
    project = await api.create_project(kind, **VISIBILITY[kind])
    submitter = await api.create_worker("submitter")
    await api.grant(submitter, project, assign=False, submit=True)
    assert await api.submit(submitter, project, f"{kind} task") == {"ok": True}
    return project


async def request(api: Api, worker: dict, project: int, **flags: bool) -> None:
    body = {"project": project, **flags}
    await api.call("POST", "/project/request_access", body, worker=worker, status=200)


async def test_any_worker_takes_tasks_from_a_public_project(api: Api) -> None:
    project = await project_with_a_task(api, "public")
    stranger = await api.create_worker("stranger")
    assert (await api.assign(stranger, project))["content"]["task"]["recipe"] == "public task"


@pytest.mark.parametrize("kind", ["private", "hidden"])
async def test_a_worker_without_access_gets_no_task(api: Api, kind: str) -> None:
    project = await project_with_a_task(api, kind)
    stranger = await api.create_worker("stranger")
    assert await api.assign(stranger, project) == NO_TASK


@pytest.mark.parametrize("kind", ["public", "private", "hidden"])
async def test_a_pending_request_is_not_access_until_granted(api: Api, kind: str) -> None:
    project = await project_with_a_task(api, kind)
    worker = await api.create_worker("asker")
    await request(api, worker, project, assign=True, submit=True)
    body = {"project": project, "recipe": "r"}
    submit = await api.call("POST", "/task/submit", body, worker=worker, status=400)
    assert submit["message"] == "unauthorized task submit"
    if kind != "public":
        assert await api.assign(worker, project) == NO_TASK
    await api.call("POST", f"/project/accept_request/{project}/{worker['id']}", status=200)
    assert (await api.assign(worker, project))["ok"] is True
    assert await api.submit(worker, project, "mine") == {"ok": True}


@pytest.mark.parametrize("kind", ["private", "hidden"])
async def test_submit_access_does_not_imply_assign_access(api: Api, kind: str) -> None:
    project = await project_with_a_task(api, kind)
    submitter = await api.create_worker("only submits")
    await api.grant(submitter, project, assign=False, submit=True)
    assert await api.submit(submitter, project, "more") == {"ok": True}
    assert await api.assign(submitter, project) == NO_TASK


@pytest.mark.parametrize("kind", ["private", "hidden"])
async def test_granted_assign_access_hands_out_tasks(api: Api, kind: str) -> None:
    project = await project_with_a_task(api, kind)
    worker = await api.create_worker("granted")
    await api.grant(worker, project, assign=True, submit=False)
    assert (await api.assign(worker, project))["content"]["task"]["recipe"] == f"{kind} task"


async def test_access_to_one_project_is_not_access_to_another(api: Api) -> None:
    first = await project_with_a_task(api, "private")
    second = await api.create_project("second")
    worker = await api.create_worker("w")
    await api.grant(worker, second)
    assert await api.assign(worker, first) == NO_TASK
    body = {"project": first, "recipe": "r"}
    answer = await api.call("POST", "/task/submit", body, worker=worker, status=400)
    assert answer["message"] == "unauthorized task submit"


async def test_a_second_request_for_the_same_project_is_refused(api: Api) -> None:
    project = await project_with_a_task(api, "public")
    worker = await api.create_worker("w")
    await request(api, worker, project, assign=True)
    body = {"project": project, "submit": True}
    again = await api.call("POST", "/project/request_access", body, worker=worker, status=400)
    assert again["ok"] is False and again["message"]


async def test_anonymous_callers_read_public_and_private_projects_but_not_hidden(
    api: Api,
) -> None:
    ids = {kind: await project_with_a_task(api, kind) for kind in VISIBILITY}
    forget_session(api)
    for kind in ("public", "private"):
        answer = await api.call("GET", f"/project/get/{ids[kind]}", status=200)
        assert answer["content"]["project"]["name"] == kind
    hidden = await api.call("GET", f"/project/get/{ids['hidden']}", status=403)
    assert hidden == {"ok": False, "message": "Unauthorized"}
    listed = await api.call("GET", "/project/list", status=200)
    assert [p["name"] for p in listed["content"]["projects"]] == ["private", "public"]


async def test_the_admin_reads_and_lists_hidden_projects(api: Api) -> None:
    ids = {kind: await project_with_a_task(api, kind) for kind in VISIBILITY}
    answer = await api.call("GET", f"/project/get/{ids['hidden']}", status=200)
    assert answer["content"]["project"]["hidden"] is True
    listed = await api.call("GET", "/project/list", status=200)
    assert [p["name"] for p in listed["content"]["projects"]] == ["hidden", "private", "public"]
