"""The shortest full path: a manager, a project, a worker, a task submitted, assigned, closed."""

from tests.world import CLOSED, NO_TASK, World


async def test_a_submitted_task_is_assigned_and_closed(bare_world: World) -> None:
    world = bare_world
    admin = await world.register("admin")
    project = await world.create_project("smoke", by=admin, public=True)
    worker = await world.new_worker()
    await world.grant(worker, project, by=admin)

    assert (await world.submit("do it", by=worker, project=project)).ok is True
    task = await world.task(worker, project)
    assert task["recipe"] == "do it" and task["assignee"] == worker.id
    assert await world.release(task["id"], by=worker) == CLOSED
    assert await world.assign(worker, project) == NO_TASK


async def test_the_world_fixture_is_an_admin_a_project_and_two_granted_workers(
    world: World,
) -> None:
    assert world.admin.name == "admin" and world.admin.cookie
    account = await world.admin.get("/account", status=200)
    assert account.content["manager"]["tracker_admin"] is True
    assert [w.name for w in world.workers] == ["worker 1", "worker 2"]
    for n in range(len(world.workers)):
        assert (await world.submit(f"from {n}", by=n)).ok is True
    assert [t["recipe"] for t in await world.drain(by=1)] == ["from 0", "from 1"]
    # the client keeps no cookie: an anonymous call is anonymous after the admin's login
    assert (await world.anonymous.get("/account")).content == {"logged_in": False}
