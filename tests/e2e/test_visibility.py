"""Public, private and hidden projects, and pending versus granted access, as workers and
anonymous callers see them (behavior.md 7.9, 7.10)."""

from __future__ import annotations

import pytest

from tests.world import NO_TASK, World

VISIBILITY = {"public": {"public": True}, "private": {}, "hidden": {"hidden": True}}


@pytest.fixture
async def world(bare_world: World) -> World:
    """The admin alone: each test makes (and lists) only the projects of its own kinds."""
    bare_world.admin = await bare_world.register("admin")
    return bare_world


async def project_with_a_task(world: World, kind: str) -> int:
    """A ``kind`` project holding one task, submitted by a worker with granted submit access."""
    project = await world.create_project(kind, **VISIBILITY[kind])
    submitter = await world.new_worker("submitter")
    await world.grant(submitter, project, assign=False, submit=True)
    assert await world.submit(f"{kind} task", by=submitter, project=project) == {"ok": True}
    return project


async def test_any_worker_takes_tasks_from_a_public_project(world: World) -> None:
    project = await project_with_a_task(world, "public")
    stranger = await world.new_worker("stranger")
    assert (await world.assign(stranger, project))["content"]["task"]["recipe"] == "public task"


@pytest.mark.parametrize("kind", ["private", "hidden"])
async def test_a_worker_without_access_gets_no_task(world: World, kind: str) -> None:
    project = await project_with_a_task(world, kind)
    stranger = await world.new_worker("stranger")
    assert await world.assign(stranger, project) == NO_TASK


@pytest.mark.parametrize("kind", ["public", "private", "hidden"])
async def test_a_pending_request_is_not_access_until_granted(world: World, kind: str) -> None:
    project = await project_with_a_task(world, kind)
    worker = await world.new_worker("asker")
    await world.request_access(worker, project, assign=True, submit=True)
    body = {"project": project, "recipe": "r"}
    submit = await worker.post("/task/submit", body, status=400)
    assert submit["message"] == "unauthorized task submit"
    if kind != "public":
        assert await world.assign(worker, project) == NO_TASK
    await world.admin.post(f"/project/accept_request/{project}/{worker.id}", status=200)
    assert (await world.assign(worker, project))["ok"] is True
    assert await world.submit("mine", by=worker, project=project) == {"ok": True}


@pytest.mark.parametrize("kind", ["private", "hidden"])
async def test_submit_access_does_not_imply_assign_access(world: World, kind: str) -> None:
    project = await project_with_a_task(world, kind)
    submitter = await world.new_worker("only submits")
    await world.grant(submitter, project, assign=False, submit=True)
    assert await world.submit("more", by=submitter, project=project) == {"ok": True}
    assert await world.assign(submitter, project) == NO_TASK


@pytest.mark.parametrize("kind", ["private", "hidden"])
async def test_granted_assign_access_hands_out_tasks(world: World, kind: str) -> None:
    project = await project_with_a_task(world, kind)
    worker = await world.new_worker("granted")
    await world.grant(worker, project, assign=True, submit=False)
    assert (await world.assign(worker, project))["content"]["task"]["recipe"] == f"{kind} task"


async def test_access_to_one_project_is_not_access_to_another(world: World) -> None:
    first = await project_with_a_task(world, "private")
    second = await world.create_project("second")
    worker = await world.new_worker("w")
    await world.grant(worker, second)
    assert await world.assign(worker, first) == NO_TASK
    body = {"project": first, "recipe": "r"}
    answer = await worker.post("/task/submit", body, status=400)
    assert answer["message"] == "unauthorized task submit"


async def test_a_second_request_for_the_same_project_is_refused(world: World) -> None:
    project = await project_with_a_task(world, "public")
    worker = await world.new_worker("w")
    await worker.post("/project/request_access", {"project": project, "assign": True}, status=200)
    body = {"project": project, "submit": True}
    again = await worker.post("/project/request_access", body, status=400)
    assert again["ok"] is False and again["message"]


async def test_anonymous_callers_read_public_and_private_projects_but_not_hidden(
    world: World,
) -> None:
    ids = {kind: await project_with_a_task(world, kind) for kind in VISIBILITY}
    for kind in ("public", "private"):
        answer = await world.anonymous.get(f"/project/get/{ids[kind]}", status=200)
        assert answer["content"]["project"]["name"] == kind
    hidden = await world.anonymous.get(f"/project/get/{ids['hidden']}", status=403)
    assert hidden == {"ok": False, "message": "Unauthorized"}
    listed = await world.anonymous.get("/project/list", status=200)
    assert [p["name"] for p in listed["content"]["projects"]] == ["private", "public"]


async def test_the_admin_reads_and_lists_hidden_projects(world: World) -> None:
    ids = {kind: await project_with_a_task(world, kind) for kind in VISIBILITY}
    answer = await world.admin.get(f"/project/get/{ids['hidden']}", status=200)
    assert answer["content"]["project"]["hidden"] is True
    listed = await world.admin.get("/project/list", status=200)
    assert [p["name"] for p in listed["content"]["projects"]] == ["hidden", "private", "public"]
