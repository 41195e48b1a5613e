"""Who may read monitoring and statistics, and what bad input gets.

Public and private projects' statistics are open to anyone, as in the original. A hidden
project's monitoring and assignees need ROLE_READ on it or tracker admin (the original showed
them to anyone who knew the id, behavior.md 13.17). The original's validation answers stay.
"""

from __future__ import annotations

import pytest

ROUTES = ("/project/monitoring/{}?count=5", "/project/monitoring-between/{}?from=1&to=2147483646",
          "/project/assignees/{}")  # fmt: skip


@pytest.mark.parametrize("route", ROUTES)
async def test_a_hidden_projects_statistics_need_the_read_role(world, clock, route) -> None:
    reader = await world.register("reader")
    stranger = await world.register("stranger")
    hidden = await world.create_project("hidden", hidden=True)
    assert (await world.set_role(hidden, reader, 1)).ok
    clock.advance(600)
    for caller in (world.anonymous, stranger):
        answer = await caller.get(route.format(hidden))
        assert (answer.status, answer.body) == (403, {"ok": False, "message": "Unauthorized"})
    for caller in (world.admin, reader):
        answer = await caller.get(route.format(hidden))
        assert answer.status == 200 and answer.ok, answer


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("fields", [{"public": True}, {}])
async def test_public_and_private_statistics_are_open_to_anyone(
    world, clock, route, fields
) -> None:
    project = await world.create_project("open", **fields)
    clock.advance(600)
    answer = await world.anonymous.get(route.format(project))
    assert answer.status == 200 and answer.ok, answer


@pytest.mark.parametrize("route", ROUTES)
async def test_an_unknown_project_has_no_statistics(bare_world, route) -> None:
    answer = await bare_world.anonymous.get(route.format(77))
    key = "assignees" if "assignees" in route else "snapshots"
    assert (answer.status, answer.body) == (200, {"ok": True, "content": {key: []}})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Invalid request: count must be between 1 and 999"),
        ("count=0", "Invalid request: count must be between 1 and 999"),
        ("count=1000", "Invalid request: count must be between 1 and 999"),
        ("count=-1", "Invalid request: count must be between 1 and 999"),
        ("count=abc", "Invalid request: count must be between 1 and 999"),
        ("count=1.5", "Invalid request: count must be between 1 and 999"),
    ],
)
async def test_monitoring_refuses_a_count_outside_1_to_999(bare_world, query, message) -> None:
    answer = await bare_world.anonymous.get(f"/project/monitoring/1?{query}")
    assert (answer.status, answer.body) == (400, {"ok": False, "message": message})


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("to=5", "from"),
        ("from=0&to=5", "from"),
        ("from=2147483647&to=2147483647", "from"),
        ("from=1", "to"),
        ("from=1&to=2147483647", "to"),
        ("from=x&to=5", "from"),
    ],
)
async def test_monitoring_between_refuses_times_outside_1_to_2147483646(
    bare_world, query, name
) -> None:
    answer = await bare_world.anonymous.get(f"/project/monitoring-between/1?{query}")
    message = f"Invalid request: {name} must be between 1 and 2147483646"
    assert (answer.status, answer.body) == (400, {"ok": False, "message": message})


async def test_monitoring_between_with_from_after_to_is_empty(world, clock) -> None:
    project = world.project
    clock.advance(600)
    now = int(clock.now)
    answer = await world.anonymous.get(f"/project/monitoring-between/{project}?from={now}&to=1")
    assert answer.body == {"ok": True, "content": {"snapshots": []}}
    answer = await world.anonymous.get(f"/project/monitoring-between/{project}?from=1&to={now}")
    assert len(answer.content["snapshots"]) == 5  # every 120 s in the last 10 minutes


@pytest.mark.parametrize("path_id", ["0", "-3", "abc", "9223372036854775808"])
async def test_bad_project_ids_get_the_original_messages(bare_world, path_id) -> None:
    for route, message in (("/project/monitoring/{}?count=1", "Invalid request"),
                           ("/project/monitoring-between/{}?from=1&to=2", "Invalid request"),
                           ("/project/assignees/{}", "Invalid worker id")):  # fmt: skip
        answer = await bare_world.anonymous.get(route.format(path_id))
        assert (answer.status, answer.body) == (400, {"ok": False, "message": message})


async def test_worker_stats_list_every_worker_in_id_order_to_anyone(bare_world) -> None:
    empty = {"ok": True, "content": {"stats": []}}
    assert (await bare_world.anonymous.get("/worker/stats")).body == empty
    for alias in ("b", "", "a"):
        await bare_world.anonymous.post("/worker/create", {"alias": alias})
    stats = (await bare_world.anonymous.get("/worker/stats")).content["stats"]
    assert [(s["id"], s["alias"], s["closed_task_count"]) for s in stats] == [
        (1, "b", 0), (2, "default_alias", 0), (3, "a", 0),
    ]  # fmt: skip
