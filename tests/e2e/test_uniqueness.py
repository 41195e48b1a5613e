"""Task uniqueness over HTTP: ``hash_u64`` / ``hash64`` / ``unique_string`` among the live tasks
of a project (behavior.md 7.6, the SipHash vectors of section 14)."""

from __future__ import annotations

import pytest

from tests.world import HELLO_WORLD, World

OK, FAIL = 0, 1


async def duplicate(world: World, **fields: object) -> None:
    """Submitting ``fields`` is refused as a duplicate, and nothing is appended."""
    before, logged = world.position(), await world.log_head()
    body = {"project": world.project, "recipe": "again", **fields}
    answer = await world.worker.post("/task/submit", body, status=400)
    assert answer["ok"] is False and answer["message"], answer
    assert "hash" in answer["message"]
    assert (world.position(), await world.log_head()) == (before, logged)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"hash_u64": 77}, {"hash_u64": 77}),
        ({"unique_string": "a page"}, {"unique_string": "a page"}),
        ({"hash64": 77}, {"hash_u64": 77}),
        ({"hash_u64": 77}, {"hash64": 77}),
        ({"unique_string": "Hello, world"}, {"hash_u64": HELLO_WORLD}),
        ({"hash_u64": HELLO_WORLD}, {"unique_string": "Hello, world"}),
        ({"unique_string": "a"}, {"hash_u64": 5158252350249958646}),
        ({"unique_string": "https://example.com/page/1"}, {"hash_u64": 3131938311317662105}),
        ({"unique_string": "This one should work"}, {"hash_u64": -383734471695024599}),
        ({"hash_u64": -(2**63)}, {"hash64": -(2**63)}),
    ],
)
async def test_a_second_live_task_with_the_same_hash_is_refused(
    world: World, first: dict, second: dict
) -> None:
    assert await world.submit("first", **first) == {"ok": True}
    await duplicate(world, **second)


async def test_a_different_unique_string_is_accepted(world: World) -> None:
    assert await world.submit(unique_string="Hello, world") == {"ok": True}
    assert await world.submit(unique_string="Hello, world!") == {"ok": True}
    assert await world.submit(unique_string="hello, world") == {"ok": True}


async def test_hash_zero_and_an_empty_unique_string_mean_no_hash(world: World) -> None:
    for fields in ({}, {"hash_u64": 0}, {"unique_string": ""}, {"hash64": 0}, {"hash_u64": 0}):
        assert await world.submit(**fields) == {"ok": True}


async def test_an_assigned_or_failed_task_still_holds_its_hash(world: World) -> None:
    await world.submit(hash_u64=1)
    await world.submit(hash_u64=2, max_retries=0)
    assigned = await world.task()
    failed = await world.task()
    assert await world.release(failed["id"], FAIL) == {"ok": True, "content": {"updated": True}}
    await duplicate(world, hash_u64=1)
    await duplicate(world, hash_u64=2)
    assert assigned["id"] == 1


async def test_a_hash_can_be_submitted_again_once_its_task_closed(world: World) -> None:
    await world.submit("first", unique_string="Hello, world")
    task = await world.task()
    assert (await world.release(task["id"], OK))["content"] == {"updated": True}
    assert await world.submit("second", hash_u64=HELLO_WORLD) == {"ok": True}
    assert (await world.task())["recipe"] == "second"


async def test_the_same_hash_may_live_in_two_projects(world: World) -> None:
    other = await world.add_project("other")
    assert await world.submit(unique_string="shared") == {"ok": True}
    answer = await world.submit("r", project=other, unique_string="shared")
    assert answer == {"ok": True}


async def test_submitting_both_a_hash_and_a_unique_string_is_invalid(world: World) -> None:
    body = {"project": world.project, "recipe": "r", "hash_u64": 5, "unique_string": "x"}
    answer = await world.worker.post("/task/submit", body, status=400)
    assert answer["message"].startswith("Invalid task")
