"""HEAD never runs a GET handler: some GETs change state (task/get assigns, promote promotes)."""

from tests.conftest import Api
from tests.world import tracker_of


async def test_head_on_a_state_changing_get_is_404_and_appends_nothing(api: Api) -> None:
    await api.register("admin")
    await api.call("POST", "/logout")
    other = await api.register("other")
    assert other["ok"]
    await api.login("admin")
    project = await api.create_project("p", public=True)
    worker = await api.create_worker()
    await api.grant(worker, project)
    await api.submit(worker, project)
    position = tracker_of(api.client).state.position

    for path in ("/manager/promote/2", f"/task/get/{project}", "/worker/get/1", "/"):
        response = await api.client.head(path)
        assert response.status == 404, path

    assert tracker_of(api.client).state.position == position
    assert (await api.assign(worker, project))["ok"] is True
