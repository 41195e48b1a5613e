"""The actions on chosen tasks through the client, sync and asyncio, against a real
``tracker serve``: each action on a selection, a filter counted then confirmed, and the
refusals as the client's exceptions."""

from __future__ import annotations

import pytest

from tests.client.conftest import World, fill
from tracker.client import Acted, AsyncClient, Client, Conflict, Forbidden, Result, TaskFilter


def _ids(world: World) -> list[int]:
    """Six tasks t0..t5 of the world's project: r0 failed, r1 held by the world's worker, the
    others queued."""
    fill(world, 6)
    first = world.worker.get_task(world.project)
    assert first is not None and world.worker.release(first.id, Result.FAIL)
    held = world.worker.get_task(world.project)
    assert held is not None
    return list(range(first.id, first.id + 6))


def test_each_action_on_a_selection_through_the_sync_client(world: World) -> None:
    admin, project = world.admin, world.project
    failed, held, *queued = _ids(world)
    assert admin.retry_tasks(project, [failed, held]) == Acted(touched=1, skipped=[held])
    assert admin.take_back(project, [held]) == Acted(touched=1, skipped=[])
    assert admin.set_priority(project, queued[-1:], 9) == Acted(touched=1, skipped=[])
    assert admin.cancel_tasks(project, queued[:1]) == Acted(touched=1, skipped=[])
    order = []
    while (task := world.worker.get_task(project)) is not None:
        order.append(task.id)
    assert order == [queued[-1], *queued[1:-1], failed, held]
    with pytest.raises(Conflict, match="Nothing to do: no task asked for in project"):
        admin.cancel_tasks(project, queued[:1])


def test_every_matching_task_counted_then_confirmed(world: World) -> None:
    admin, project = world.admin, world.project
    _ids(world)
    where = TaskFilter(state="queued", recipe="t")
    assert admin.count_matching(project, "cancel", where) == 4
    assert admin.count_matching(project, "priority", where, priority=0) == 0
    assert admin.count_matching(project, "retry", TaskFilter()) == 1
    with pytest.raises(Conflict, match="4 tasks match now, more than the 3 confirmed"):
        admin.act_on_matching(project, "cancel", where, confirm=3)
    assert admin.act_on_matching(project, "priority", where, 4, priority=-1).touched == 4
    assert admin.act_on_matching(project, "cancel", TaskFilter(priority_max=-1), 4).touched == 4
    assert admin.count_matching(project, "cancel", TaskFilter()) == 0


def test_a_manager_without_the_role_is_refused(world: World) -> None:
    failed, *_ = _ids(world)
    with Client(world.server.url) as bob:
        bob.register("bob", "password2")
        with pytest.raises(Forbidden):
            bob.retry_tasks(world.project, [failed])


async def test_the_asyncio_client_acts_too(world: World) -> None:
    failed, held, *_ = _ids(world)
    async with AsyncClient(world.server.url) as manager:
        await manager.login("admin", "password1")
        assert await manager.count_matching(world.project, "take_back", TaskFilter()) == 1
        acted = await manager.act_on_matching(world.project, "take_back", TaskFilter(), 1)
        assert acted == Acted(touched=1, skipped=[])
        assert (await manager.retry_tasks(world.project, [failed])).touched == 1
