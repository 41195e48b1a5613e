"""``POST /task/bulk_submit`` over HTTP: all or nothing, and it says so truthfully
(behavior.md 6.7; docs/compatibility.md on 13.14)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.world import HELLO_WORLD, Caller, World


def task(world: World, recipe: str = "r", **fields: Any) -> dict[str, Any]:
    return {"project": world.project, "recipe": recipe, **fields}


async def bulk(world: World, body: Any, worker: Caller | None = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = await (worker or world.worker).post("/task/bulk_submit", data=data)
    return answer.status, answer.body


async def refused(
    world: World, body: Any, status: int, prefix: str, worker: Caller | None = None
) -> str:
    """The bulk is refused with ``status``, a message starting ``prefix``, and nothing appended."""
    before, logged = world.position(), await world.log_head()
    got, answer = await bulk(world, body, worker)
    assert got == status, answer
    assert answer["ok"] is False and answer["message"].startswith(prefix), answer
    assert (world.position(), await world.log_head()) == (before, logged)
    return str(answer["message"])


async def test_a_bulk_submit_queues_every_task_in_order(world: World) -> None:
    body = {"requests": [task(world, f"r{n}", priority=n % 2) for n in range(6)]}
    assert await bulk(world, body) == (200, {"ok": True})
    tasks = await world.drain()
    assert [t["recipe"] for t in tasks] == ["r1", "r3", "r5", "r0", "r2", "r4"]
    assert sorted(t["id"] for t in tasks) == list(range(1, 7))


async def test_keys_match_case_insensitively_in_the_body_and_in_each_task(world: World) -> None:
    body = {"Requests": [{"PROJECT": world.project, "Recipe": "a", "Priority": 2},
                         {"project": world.project, "recipe": "b", "extra": True}]}  # fmt: skip
    assert await bulk(world, body) == (200, {"ok": True})
    assert [t["recipe"] for t in await world.drain()] == ["a", "b"]


async def test_a_duplicate_inside_the_batch_refuses_all_of_it(world: World) -> None:
    body = {"requests": [task(world, "a", hash_u64=HELLO_WORLD), task(world, "b"),
                         task(world, "c", unique_string="Hello, world")]}  # fmt: skip
    message = await refused(world, body, 400, "requests[2]: ")
    assert message.endswith("nothing was submitted")
    assert await world.drain() == []


async def test_a_duplicate_of_a_live_task_refuses_all_of_it(world: World) -> None:
    assert await world.submit("live", hash_u64=5) == {"ok": True}
    body = {"requests": [task(world, "new"), task(world, "dup", hash64=5)]}
    await refused(world, body, 400, "requests[1]: ")
    assert [t["recipe"] for t in await world.drain()] == ["live"]


async def test_tasks_of_two_projects_in_one_bulk_are_refused(world: World) -> None:
    other = await world.add_project("other")
    body = {"requests": [task(world), {"project": other, "recipe": "r"}]}
    await refused(world, body, 400, "All the tasks in a bulk submit must be of the same project")


async def test_a_worker_without_submit_access_is_told_so_and_nothing_is_added(
    world: World,
) -> None:
    stranger = await world.new_worker("stranger")
    await world.grant(stranger, assign=True, submit=False)
    body = {"requests": [task(world, "a"), task(world, "b")]}
    await refused(world, body, 400, "unauthorized task submit", worker=stranger)
    assert await world.drain() == []


async def test_every_element_is_validated_before_the_projects_are_compared(world: World) -> None:
    other = await world.add_project("other")
    body = {"requests": [task(world), {"project": other, "recipe": "r"}, task(world, "")]}
    await refused(world, body, 400, "Invalid request: requests[2]: recipe must not be empty")


async def test_an_unknown_project_is_404(world: World) -> None:
    body = {"requests": [{"project": 42, "recipe": "a"}, {"project": 42, "recipe": "b"}]}
    await refused(world, body, 404, "Project not found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"requests": None},
        {"requests": []},
        None,
        {"requests": {}},
        {"requests": "x"},
        {"requests": [1]},
        {"requests": [None]},
        {"requests": [[]]},
    ],  # fmt: skip
    ids=[
        "no key",
        "null",
        "empty",
        "null body",
        "object",
        "string",
        "number",
        "null task",
        "list task",
    ],  # fmt: skip
)
async def test_a_missing_empty_or_malformed_list_cannot_be_parsed(world: World, body: Any) -> None:
    await refused(world, json.dumps(body).encode(), 400, "Could not parse request")


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"recipe": ""}, "recipe must not be empty"),
        ({"max_retries": -2}, "max_retries must be >= 0"),
        ({"project": 0}, "project must be a positive project id"),
        ({"hash_u64": 1, "unique_string": "u"}, "give hash_u64 or unique_string, not both"),
    ],
)
async def test_an_invalid_element_is_named_by_its_index(
    world: World, fields: dict, rule: str
) -> None:
    body = {"requests": [task(world, "fine"), {**task(world), **fields}]}
    await refused(world, body, 400, f"Invalid request: requests[1]: {rule}")


@pytest.mark.parametrize(
    "fields",
    [
        {"priority": 32768},
        {"verification_count": -40000},
        {"max_retries": 1.0},
        {"priority": "1"},
        {"recipe": 3},
    ],  # fmt: skip
)
async def test_an_element_with_a_bad_field_cannot_be_parsed(world: World, fields: dict) -> None:
    body = {"requests": [task(world), {**task(world), **fields}]}
    await refused(world, body, 400, "Could not parse request")


@pytest.mark.parametrize("kind", ["an array", "a string", "a number"])
async def test_a_body_that_is_not_an_object_is_told_the_shape(world: World, kind: str) -> None:
    """The first mistake a newcomer makes: the tasks as a bare array."""
    body = {"an array": [task(world)], "a string": "tasks", "a number": 7}[kind]
    message = await refused(world, body, 400, "Could not parse request: expected an object ")
    assert message == ('Could not parse request: expected an object {"requests": [{"project": '
                       f'..., "recipe": ...}}, ...]}}, got {kind}')  # fmt: skip


@pytest.mark.parametrize("body", [b"", b"{", b'{"requests": [', b"[]"])
async def test_a_broken_body_cannot_be_parsed(world: World, body: bytes) -> None:
    await refused(world, body, 400, "Could not parse request")


async def test_bulk_submit_authenticates_with_401(world: World) -> None:
    answer = await world.anonymous.post(
        "/task/bulk_submit", {"requests": [task(world)]}, headers={"X-Worker-Id": "1"}
    )
    assert answer.status == 401
    assert answer.body == {"ok": False, "message": "secret is not specified"}
