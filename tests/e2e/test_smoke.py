"""The shortest full path: a manager, a project, a worker, a task submitted, assigned, closed."""

from tests.conftest import Api


async def test_a_submitted_task_is_assigned_and_closed(api: Api) -> None:
    await api.register()
    project = await api.create_project("smoke", public=True)
    worker = await api.create_worker()
    await api.grant(worker, project)

    assert (await api.submit(worker, project, "do it"))["ok"] is True
    task = (await api.assign(worker, project))["content"]["task"]
    assert task["recipe"] == "do it" and task["assignee"] == worker["id"]
    released = await api.release(worker, task["id"])
    assert released == {"ok": True, "content": {"updated": True}}
    assert await api.assign(worker, project) == {"ok": False, "message": "No task available"}
