"""``POST /task/bulk_submit`` over HTTP: all or nothing, and it says so truthfully
(behavior.md 6.7; docs/compatibility.md on 13.14)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.support import (
    HELLO_WORLD,
    Desk,
    add_project,
    drain,
    log_head,
    open_desk,
    position,
    worker_headers,
)


@pytest.fixture
async def desk(api: Api) -> Desk:
    return await open_desk(api, workers=1)


def task(desk: Desk, recipe: str = "r", **fields: Any) -> dict[str, Any]:
    return {"project": desk.project, "recipe": recipe, **fields}


async def bulk(desk: Desk, body: Any, worker: dict | None = None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await desk.client.post(
        "/task/bulk_submit", data=data, headers=worker_headers(worker or desk.worker)
    )
    return response.status, await response.json()


async def refused(
    desk: Desk, body: Any, status: int, prefix: str, worker: dict | None = None
) -> str:
    """The bulk is refused with ``status``, a message starting ``prefix``, and nothing appended."""
    before, logged = position(desk.api), await log_head(desk.api)
    got, answer = await bulk(desk, body, worker)
    assert got == status, answer
    assert answer["ok"] is False and answer["message"].startswith(prefix), answer
    assert (position(desk.api), await log_head(desk.api)) == (before, logged)
    return str(answer["message"])


async def test_a_bulk_submit_queues_every_task_in_order(desk: Desk) -> None:
    body = {"requests": [task(desk, f"r{n}", priority=n % 2) for n in range(6)]}
    assert await bulk(desk, body) == (200, {"ok": True})
    tasks = await drain(desk)
    assert [t["recipe"] for t in tasks] == ["r1", "r3", "r5", "r0", "r2", "r4"]
    assert sorted(t["id"] for t in tasks) == list(range(1, 7))


async def test_keys_match_case_insensitively_in_the_body_and_in_each_task(desk: Desk) -> None:
    body = {"Requests": [{"PROJECT": desk.project, "Recipe": "a", "Priority": 2},
                         {"project": desk.project, "recipe": "b", "extra": True}]}  # fmt: skip
    assert await bulk(desk, body) == (200, {"ok": True})
    assert [t["recipe"] for t in await drain(desk)] == ["a", "b"]


async def test_a_duplicate_inside_the_batch_refuses_all_of_it(desk: Desk) -> None:
    body = {"requests": [task(desk, "a", hash_u64=HELLO_WORLD), task(desk, "b"),
                         task(desk, "c", unique_string="Hello, world")]}  # fmt: skip
    message = await refused(desk, body, 400, "requests[2]: ")
    assert message.endswith("nothing was submitted")
    assert await drain(desk) == []


async def test_a_duplicate_of_a_live_task_refuses_all_of_it(desk: Desk) -> None:
    assert await desk.submit("live", hash_u64=5) == {"ok": True}
    body = {"requests": [task(desk, "new"), task(desk, "dup", hash64=5)]}
    await refused(desk, body, 400, "requests[1]: ")
    assert [t["recipe"] for t in await drain(desk)] == ["live"]


async def test_tasks_of_two_projects_in_one_bulk_are_refused(desk: Desk) -> None:
    other = await add_project(desk, "other")
    body = {"requests": [task(desk), {"project": other, "recipe": "r"}]}
    await refused(desk, body, 400, "All the tasks in a bulk submit must be of the same project")


async def test_a_worker_without_submit_access_is_told_so_and_nothing_is_added(
    api: Api, desk: Desk
) -> None:
    stranger = await api.create_worker("stranger")
    await api.grant(stranger, desk.project, assign=True, submit=False)
    body = {"requests": [task(desk, "a"), task(desk, "b")]}
    await refused(desk, body, 400, "unauthorized task submit", worker=stranger)
    assert await drain(desk) == []


async def test_every_element_is_validated_before_the_projects_are_compared(desk: Desk) -> None:
    other = await add_project(desk, "other")
    body = {"requests": [task(desk), {"project": other, "recipe": "r"}, task(desk, "")]}
    await refused(desk, body, 400, "Invalid request: requests[2]: recipe must not be empty")


async def test_an_unknown_project_is_404(desk: Desk) -> None:
    body = {"requests": [{"project": 42, "recipe": "a"}, {"project": 42, "recipe": "b"}]}
    await refused(desk, body, 404, "Project not found")


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
async def test_a_missing_empty_or_malformed_list_cannot_be_parsed(desk: Desk, body: Any) -> None:
    await refused(desk, json.dumps(body).encode(), 400, "Could not parse request")


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
    desk: Desk, fields: dict, rule: str
) -> None:
    body = {"requests": [task(desk, "fine"), {**task(desk), **fields}]}
    await refused(desk, body, 400, f"Invalid request: requests[1]: {rule}")


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
async def test_an_element_with_a_bad_field_cannot_be_parsed(desk: Desk, fields: dict) -> None:
    body = {"requests": [task(desk), {**task(desk), **fields}]}
    await refused(desk, body, 400, "Could not parse request")


@pytest.mark.parametrize("body", [b"", b"{", b'{"requests": [', b"[]"])
async def test_a_broken_body_cannot_be_parsed(desk: Desk, body: bytes) -> None:
    await refused(desk, body, 400, "Could not parse request")


async def test_bulk_submit_authenticates_with_401(desk: Desk) -> None:
    response = await desk.client.post(
        "/task/bulk_submit", json={"requests": [task(desk)]}, headers={"X-Worker-Id": "1"}
    )
    assert response.status == 401
    assert await response.json() == {"ok": False, "message": "secret is not specified"}
