"""HEAD never runs a GET handler: some GETs change state (task/get assigns, promote promotes)."""

from tests.world import PASSWORD, World


async def test_head_on_a_state_changing_get_is_404_and_appends_nothing(bare_world: World) -> None:
    world = bare_world
    await (await world.register("admin")).post("/logout")
    other = await world.anonymous.post("/register", {"username": "other", "password": PASSWORD},
                                       status=200)  # fmt: skip
    assert other["ok"]
    admin = await world.login("admin")
    project = await world.create_project("p", by=admin, public=True)
    worker = await world.new_worker()
    await world.grant(worker, project, by=admin)
    await world.submit(by=worker, project=project)
    position = world.position()

    for path in ("/manager/promote/2", f"/task/get/{project}", "/worker/get/1", "/"):
        response = await admin.call("HEAD", path)
        assert response.status == 404, path

    assert world.position() == position
    assert (await world.assign(worker, project))["ok"] is True
